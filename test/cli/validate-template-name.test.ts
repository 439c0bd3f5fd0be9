// `template:` takes a template's name; one of its files named instead (`notice.text.njk`) is told the name to write,
// not to create `notice.text.njk.subject.njk`.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

it('a template named by one of its files gets the name to write, at the template line', () => {
  const tmp = tempDir();
  try {
    mkdirSync(join(tmp.dir, 'templates'));
    writeFileSync(join(tmp.dir, 'templates', 'notice.subject.njk'), 'Hello');
    writeFileSync(join(tmp.dir, 'templates', 'notice.text.njk'), 'Hello {{ who }}');
    writeFileSync(
      join(tmp.dir, 'Mail.yaml'),
      `variables: { who: string }\nblocks:\n  send:\n    kind: SendMail\n    to: '"a@example.com"'\n    template: notice.text.njk\n`,
    );
    const r = runCli(['validate', '--scenarios', tmp.dir, '--json'], { cwd: tmp.dir });
    assert.equal(r.code, 1);
    const issues = (JSON.parse(r.stdout) as { issues: Array<{ line: number; col: number; code: string; message: string; hint?: string }> }).issues;
    assert.equal(issues.length, 1, JSON.stringify(issues));
    const [i] = issues;
    assert.deepEqual([i!.line, i!.col, i!.code], [6, 15, 'E_INVALID_TEMPLATE']);
    assert.match(i!.message, /takes the template's name, not one of its files/);
    assert.match(i!.hint!, /^write template: notice /);
  } finally {
    tmp.cleanup();
  }
});
