// A scenario file holding a character no editor shows, where it does not break the file (a colour code pasted into a
// comment), still loads and is valid, as it was before such characters were looked for: validate warns at its place
// with the fix, and exits 0. One where it breaks the file is refused, naming it.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

const scenario = `variables: { v: string }
start: a
blocks:
  a:
    kind: Variable
    set: { v: '"x"' }
    exits: { next: done }
  done: { kind: Stop }
`;

describe('validate: characters no editor shows', () => {
  it('in a comment: valid, with a warning at the place', () => {
    const tmp = tempDir();
    try {
      writeFileSync(join(tmp.dir, 'Coloured.yaml'), `# \u001b[31mвнимание\u001b[0m\n${scenario}`);
      writeFileSync(join(tmp.dir, 'Broken.yaml'), scenario.replace('blocks:', '\uFEFFblocks:'));
      const r = runCli(['validate', '--scenarios', tmp.dir], { cwd: tmp.dir });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.deepEqual(r.stdout.split('\n').filter((l) => l.startsWith('warning:')), [
        'warning: Coloured.yaml:1:3: the file holds the control character U+001B, which editors do not show (here and in 1 more place(s)); remove it: a scenario file is text, and YAML allows no control characters but tab and line breaks',
      ]);
      assert.match(r.stdout + r.stderr, /Broken\.yaml:3:1 E_YAML_SYNTAX line 3 starts with a byte-order mark/);
      assert.doesNotMatch(r.stdout + r.stderr, /Coloured\.yaml:1:3 E_/);
    } finally {
      tmp.cleanup();
    }
  });
});
