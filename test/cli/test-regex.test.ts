// `oktell-emu test`'s `{ matches }` compiles its pattern as the Parser does (RE2, JavaScript's dialect), so a pattern
// means in a test file what it means in a scenario, and one the Parser refuses is refused at its place in the test
// file. The Parser's regex budget (OKTELL_REGEX_BUDGET_MS) applies to `test` and `run --dry-run` as on the server.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

// The budget of the environment the tests run in is not the one a test sets (an empty value: the default).
const cli = (args: string[], cwd: string, env: Record<string, string> = {}) => runCli(args, { cwd, env: { OKTELL_REGEX_BUDGET_MS: '', ...env }, unset: ['OKTELL_SCENARIOS'], timeoutMs: 60_000 });

const GREET = `variables: { name: string }
blocks:
  begin: { kind: Start, param: name, exits: { next: answer } }
  answer: { kind: ReturnValue, values: { 1: '"Клиент: " + [name]' } }
`;

// Every number makes the optional group read on to the end of the text for a ";" that never comes.
const SCAN = `variables: { body: string, numbers: number, err: string }
blocks:
  begin: { kind: Start, param: body, exits: { next: parse } }
  parse:
    kind: Parser
    mode: regex
    document: '[body]'
    extract:
      numbers: { pattern: '(\\d+)(?:[^;]*;)?', function: count }
    errorVariable: err
    exits: { success: ok, error: slow }
  ok: { kind: ReturnValue, values: { 1: '[numbers]' } }
  slow: { kind: ReturnValue, values: { 1: '[err]', 2: 422 } }
`;

function folder(files: Record<string, string>) {
  const tmp = tempDir();
  mkdirSync(join(tmp.dir, 'tests'));
  writeFileSync(join(tmp.dir, 'Greet.yaml'), GREET);
  writeFileSync(join(tmp.dir, 'Scan.yaml'), SCAN);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(tmp.dir, name), text);
  return tmp;
}

describe('oktell-emu test: { matches } is the Parser\'s pattern', () => {
  it('reads a pattern as the Parser does: \\p{L} is a letter without a u flag, (?i) ignores case', () => {
    // JavaScript's RegExp reads \p{L} without the u flag as "p{L}" and refuses (?i): both cases failed before.
    const tmp = folder({
      'tests/greet.test.yaml': `cases:
  - name: letters of any alphabet
    scenario: Greet
    params: { 1: Фёдор }
    expect:
      returnValues: { 1: { matches: '^Клиент: \\p{L}+$' } }
  - name: case ignored inline
    scenario: Greet
    params: { 1: Фёдор }
    expect:
      returnValues: { 1: { matches: '(?i)^КЛИЕНТ: фёдор$' } }
`,
    });
    try {
      const r = cli(['test', 'tests'], tmp.dir);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /^✓ tests\/greet\.test\.yaml › letters of any alphabet/m);
      assert.match(r.stdout, /^✓ tests\/greet\.test\.yaml › case ignored inline/m);
      assert.match(r.stdout, /2 passed, 0 failed/);
    } finally {
      tmp.cleanup();
    }
  });

  it('refuses a lookbehind at the construct, with the code and hint a scenario gets, and runs nothing of that case', () => {
    const tmp = folder({
      'tests/bad.test.yaml': `cases:
  - name: lookbehind
    scenario: Greet
    params: { 1: Фёдор }
    expect:
      returnValues: { 1: { matches: 'x(?<=Клиент: )\\p{L}+' } }
`,
    });
    try {
      const r = cli(['test', 'tests'], tmp.dir);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      // Column 39: the "(?<=" itself, after the quote and the "x" of the pattern.
      assert.match(r.stderr, /^tests\/bad\.test\.yaml:6:39 E_INVALID_REGEX invalid regular expression: the lookbehind \(\?<= is not supported: RE2 syntax/m);
      assert.match(r.stderr, /hint: match the text before too and keep only the group you need/);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('the Parser\'s regex budget in the CLI', () => {
  const body = '1 '.repeat(10_000);

  // The budget from the environment, or from the configuration file as serve reads it (named by --config: a .yaml
  // file in this folder would be read as a scenario of it).
  const BUDGETS: Array<{ name: string; files: Record<string, string>; args: string[]; env: Record<string, string> }> = [
    { name: 'at OKTELL_REGEX_BUDGET_MS', files: {}, args: [], env: { OKTELL_REGEX_BUDGET_MS: '40' } },
    { name: 'at the configuration file\'s regexBudgetMs, as serve reads it', files: { 'emu.conf': 'regexBudgetMs: 40\n' }, args: ['--config', 'emu.conf'], env: {} },
  ];
  for (const c of BUDGETS) {
    it(`oktell-emu test: a quadratic count takes the error exit ${c.name}`, () => {
      const tmp = folder({
        ...c.files,
        'tests/scan.test.yaml': `cases:
  - name: a quadratic count stops at the budget
    scenario: Scan
    params: { 1: '${body}' }
    expect:
      path: [begin, parse, slow]
      returnValues: { 1: { contains: "ran out of the run's 40 ms regex budget over a text of 20000 characters" }, 2: 422 }
`,
      });
      try {
        const r = cli(['test', 'tests', ...c.args], tmp.dir, c.env);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.match(r.stdout, /^1 passed, 0 failed$/m);
      } finally {
        tmp.cleanup();
      }
    });
  }

  it('oktell-emu run --dry-run: the budget of the configuration file (regexBudgetMs), OKTELL_REGEX_BUDGET_MS over it; a budget that is not a whole number is refused', () => {
    const tmp = folder({ 'body.txt': body, 'oktell.config.yaml': 'regexBudgetMs: 30\n' });
    const run = (env: Record<string, string>) => cli(['run', 'Scan.yaml', '-p', '1=@body.txt', '--dry-run', '--json'], tmp.dir, { OKTELL_DATA_DIR: join(tmp.dir, 'var'), ...env });
    const answer = (r: ReturnType<typeof run>) => {
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const result = JSON.parse(r.stdout) as { returnValues: Record<string, unknown> };
      assert.equal(result.returnValues['2'], 422);
      return String(result.returnValues['1']);
    };
    try {
      assert.match(answer(run({})), /^block "parse": the regex `\(\\d\+\)\(\?:\[\^;\]\*;\)\?` \(count for numbers\) ran out of the run's 30 ms regex budget/);
      assert.match(answer(run({ OKTELL_REGEX_BUDGET_MS: '40' })), /ran out of the run's 40 ms regex budget/);
      const bad = run({ OKTELL_REGEX_BUDGET_MS: 'fast' });
      assert.equal(bad.code, 2, bad.stdout + bad.stderr);
      assert.deepEqual((JSON.parse(bad.stdout) as { error: unknown }).error, { code: 'E_USAGE', message: 'OKTELL_REGEX_BUDGET_MS="fast" must be a whole number, at least 1' });
    } finally {
      tmp.cleanup();
    }
  });
});
