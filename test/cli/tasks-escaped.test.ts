// `tasks` prints a task's scenario name, and the warning and error lines about it, with the terminal's controls
// escaped, as every `oktell-emu: …` line is (docs/cli.md): a YAML "\u202e" in the configuration would otherwise show
// the rest of the line reversed. --json keeps the real character.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCliAsync } from './cli.helper.js';

describe('tasks with a bidirectional control in a scenario name', () => {
  it('the list line and the error line write it as \\u202e; --json keeps it', { timeout: 60_000 }, async () => {
    const tmp = tempDir();
    try {
      mkdirSync(join(tmp.dir, 'scenarios'));
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), 'serviceTasks:\n  - name: t1\n    scenario: "Po\\u202eLL"\n    every: 5m\n');
      const args = ['tasks', '--scenarios', join(tmp.dir, 'scenarios'), '--data-dir', join(tmp.dir, 'var')];
      const r = await runCliAsync(args, { cwd: tmp.dir });
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.doesNotMatch(r.stdout + r.stderr, /\u202e/, JSON.stringify(r.stdout + r.stderr));
      assert.match(r.stdout, /^t1 {2}Po\\u202eLL {2}every 5m /m);
      assert.match(r.stderr, /^oktell-emu: oktell\.config\.yaml:3:15: scenario: "Po\\u202eLL" is not in the scenarios folder$/m);
      const j = await runCliAsync([...args, '--json'], { cwd: tmp.dir });
      assert.equal((JSON.parse(j.stdout) as { tasks: Array<{ scenario: string }> }).tasks[0]!.scenario, 'Po\u202eLL');
    } finally {
      tmp.cleanup();
    }
  });
});
