// The README's dry runs work as pasted into a terminal in a fresh clone: every `npx oktell-emu run … --dry-run` line of
// its shell blocks runs from the repository's root and completes, with the letters the sample webhook asks for.
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../cli/cli-process.js';
import { runCli as runCliIn } from '../cli/cli.helper.js';
import { repoPath, tempDir } from '../helpers.js';

/** The `npx oktell-emu run … --dry-run` commands of the README's ```sh blocks, comments cut, as argument lists. */
function readmeDryRuns(): string[][] {
  const readme = readFileSync(repoPath('README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks
    .flatMap((b) => b.split('\n'))
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l.startsWith('npx oktell-emu run ') && l.includes('--dry-run'))
    .map((l) => l.split(/\s+/).slice(2));
}

describe('README: the precise-errors example is what validate prints for that typo', () => {
  it('[usrId] in getUser of a copy of the scenarios gives the line the README quotes (trial s33-docs1 #11)', () => {
    const readme = readFileSync(repoPath('README.md'), 'utf8').replace(/\s+/g, ' ');
    const quoted = /`(scenarios\/BpiumNewTask\.yaml:\d+:\d+ E_UNKNOWN_VARIABLE unknown variable \[usrId\] \[block getUser\])` with a hint \(`([^`]+)`\)/.exec(readme);
    assert.ok(quoted, 'the README quotes the error');
    const tmp = tempDir();
    try {
      cpSync(repoPath('scenarios'), join(tmp.dir, 'scenarios'), { recursive: true });
      const file = join(tmp.dir, 'scenarios', 'BpiumNewTask.yaml');
      const text = readFileSync(file, 'utf8');
      assert.ok(text.includes("record: '[userId]'"));
      writeFileSync(file, text.replace("record: '[userId]'", "record: '[usrId]'"));
      const r = runCliIn(['validate'], { cwd: tmp.dir });
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stdout.split('\n')[0], quoted[1]);
      assert.equal(r.stdout.split('\n')[1]!.trim(), `hint: ${quoted[2]}`);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('README: the command-line examples', () => {
  const commands = readmeDryRuns();
  it('the README shows dry runs of both article scenarios', () => {
    assert.deepEqual(commands.map((c) => c[1]).sort(), ['BpiumNewTask', 'HTTP404']);
  });
  for (const args of commands) {
    it(`oktell-emu ${args.join(' ')}`, () => {
      const r = runCli(args);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      if (args.includes('--json')) {
        const result = JSON.parse(r.stdout);
        assert.equal(result.status, 'completed');
        assert.deepEqual(result.mails.map((m: { to: string[] }) => m.to).flat(), ['ivan.petrov@example.com', 'maria.smirnova@example.org']);
      } else {
        assert.match(r.stdout, /BpiumNewTask completed/);
        assert.match(r.stdout, /mail dry-run to ivan\.petrov@example\.com/);
        assert.doesNotMatch(r.stdout, /failed/);
      }
    });
  }
});
