// Two mistakes whose message gave no fix to paste: a task naming its scenario's file (`Tick.yaml`) instead of the
// scenario, and Go cron's `@every 5m` under cron:. Through the real binary, with a fix that works when pasted.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ECHO_DUE } from './task-scenarios.js';
import { withTasksProject } from './tasks-project.helper.js';

describe('service task typos: the file name for the scenario, @every under cron', () => {
  it('suggests the scenario name and every:, and the suggestions are taken', () => {
    withTasksProject('oktell-task-typos-', { 'Tick.yaml': ECHO_DUE }, (tasks) => {
      const bad = tasks('serviceTasks:\n  - name: a\n    scenario: scenarios/Tick.yaml\n    cron: "@every 5m"\n  - name: b\n    scenario: Tick.yml\n    every: 1h\n');
      assert.equal(bad.code, 2);
      const lines = bad.stderr.split('\n').filter((l) => /oktell\.config\.yaml:\d/.test(l)).map((l) => l.replace(/^oktell-emu: /, ''));
      assert.deepEqual(lines, [
        'oktell.config.yaml:3:15: scenario: "scenarios/Tick.yaml" is not in the scenarios folder (did you mean Tick?)',
        'oktell.config.yaml:4:11: cron: "@every 5m" is an interval, not a cron expression: write every: 5m in place of cron:',
        'oktell.config.yaml:6:15: scenario: "Tick.yml" is not in the scenarios folder (did you mean Tick?)',
      ]);
      // The value given must itself be taken by every: (`10 minutes` is not), and every: "@every 5m" says to drop the @every.
      const words = tasks('serviceTasks:\n  - name: a\n    scenario: Tick\n    cron: "@every 10 minutes"\n  - name: b\n    scenario: Tick\n    every: "@every 5m"\n  - name: c\n    scenario: Tick\n    cron: "@every 300"\n');
      assert.equal(words.code, 2);
      assert.deepEqual(words.stderr.split('\n').filter((l) => /oktell\.config\.yaml:\d/.test(l)).map((l) => l.replace(/^oktell-emu: /, '')), [
        'oktell.config.yaml:4:11: cron: "@every 10 minutes" is an interval, not a cron expression: write every: 10m in place of cron:',
        'oktell.config.yaml:7:12: every: "@every 5m" is not an interval: write 5m',
        'oktell.config.yaml:10:11: cron: "@every 300" is an interval, not a cron expression: write every: an interval such as 5m or 1h30m ("300" has no unit: write 300s for seconds (or 5m, units ms, s, m, h, d)) in place of cron:',
      ]);
      const good = tasks('serviceTasks:\n  - name: a\n    scenario: Tick\n    every: 5m\n  - name: b\n    scenario: Tick\n    every: 1h\n');
      assert.equal(good.code, 0, good.stderr);
      assert.match(good.stdout, /^a {2}Tick {2}every 5m /);
    });
  });
});
