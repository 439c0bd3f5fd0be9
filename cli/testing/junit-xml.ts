// JUnit XML pieces shared by `oktell-emu test --reporter junit` (cli/testing/report.ts) and the command line's error
// path (cli/main.ts), which loads nothing else of the test command.

/**
 * Escapes text for XML content and attributes. Characters XML 1.0 cannot hold (control characters of a webhook's
 * text) are written as `\u0001`, as the text report writes them: two names that differ only there stay two names.
 */
export function xml(s: string): string {
  return s
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}

/**
 * The report of a `test --reporter junit` that could not run at all (an unknown option, no test files, a `--filter`
 * no case matches, a configuration file with a mistake): one errored testcase saying why, so that the CI server's
 * JUnit reader shows the reason instead of failing on an empty file. The exit code says it too (2).
 */
export function junitRefusal(code: string, message: string, at = new Date()): string {
  const stamp = at.toISOString().slice(0, 19);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<testsuites name="oktell-emu test" tests="1" failures="0" errors="1" time="0.000">',
    `  <testsuite name="oktell-emu test" tests="1" failures="0" errors="1" skipped="0" time="0.000" timestamp="${stamp}">`,
    '    <testcase classname="oktell-emu test" name="oktell-emu test could not run" time="0.000">',
    `      <error type="${xml(code)}" message="${xml(message)}">${xml(`oktell-emu: ${message}`)}</error>`,
    '    </testcase>',
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

/** Whether the command line is `test … --reporter junit` (or `--reporter=junit`), before the `--` that ends options. */
export function asksJunit(words: readonly string[]): boolean {
  const end = words.indexOf('--');
  const options = end === -1 ? words : words.slice(0, end);
  if (!options.includes('test')) return false;
  return options.some((w, i) => w === '--reporter=junit' || (w === '--reporter' && options[i + 1] === 'junit'));
}
