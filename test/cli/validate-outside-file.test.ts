// `validate -s FOLDER FILE` for a file outside the folder (newcomer s28, finding 6): the file is checked with that
// folder's templates and scenarios, as if saved there; without -s, with its own folder's, and the hint for a missing
// template names the folder it searched.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoPath, tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

/** A folder `broken/` holding copies of two shipped scenarios, without their templates; `fn` gets the CLI run there. */
function withCopies(fn: (cli: (...args: string[]) => ReturnType<typeof runCli>) => void): void {
  const tmp = tempDir();
  try {
    mkdirSync(join(tmp.dir, 'broken'));
    copyFileSync(repoPath('scenarios', 'BpiumNewTask.yaml'), join(tmp.dir, 'broken', 'B1.yaml'));
    copyFileSync(repoPath('scenarios', 'HTTP404.yaml'), join(tmp.dir, 'broken', 'H1.yaml'));
    fn((...args) => runCli(['validate', ...args], { cwd: tmp.dir, unset: ['OKTELL_SCENARIOS'] }));
  } finally {
    tmp.cleanup();
  }
}

describe('oktell-emu validate of a file outside the scenarios folder', () => {
  it('-s names the folder whose templates and scenarios are used; a -s folder that does not exist is refused', () => {
    withCopies((cli) => {
      // With -s: the shipped templates (and scenarios, which H1 starts) are found, as if the file were in the folder.
      assert.deepEqual(cli('-s', repoPath('scenarios'), 'broken/B1.yaml', 'broken/H1.yaml'), { code: 0, stdout: '✓ 2 scenario file(s) valid\n', stderr: '' });
      // A -s folder that does not exist is a usage error, not a silent fallback.
      const missing = cli('-s', 'no-such-folder', 'broken/B1.yaml');
      assert.equal(missing.code, 2);
      assert.equal(missing.stderr, 'oktell-emu: --scenarios no-such-folder: no such folder\n');
    });
  });

  it('without -s, the file\'s own folder: the hint for a missing template names the folder searched', () => {
    withCopies((cli) => {
      // Without -s: the file's own folder, which has no templates, and the hint says which folder that was.
      const alone = cli('broken/B1.yaml');
      assert.equal(alone.code, 1, alone.stderr);
      assert.equal(
        alone.stdout,
        'broken/B1.yaml:153:15 E_INVALID_TEMPLATE mail template "bpium-new-task" not found [block notify]\n' +
          '    hint: create bpium-new-task.subject.njk and bpium-new-task.text.njk and/or bpium-new-task.html.njk in broken/templates/ (the templates folder searched)\n' +
          '✗ 1 problem(s) in 1 file(s)\n',
      );
      const json = JSON.parse(cli('broken/B1.yaml', '--json').stdout) as { issues: Array<{ hint: string }> };
      assert.match(json.issues[0]!.hint, / in broken\/templates\/ \(the templates folder searched\)$/);
    });
  });
});
