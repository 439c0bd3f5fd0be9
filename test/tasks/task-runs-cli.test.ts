// `oktell-emu runs` and `show` on runs a real server started for its service tasks: they say which task (and due
// time or manual start) a run came from, read from its job, and `show` names the parameters that failed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli } from '../cli/cli.helper.js';
import { AUTH, startTestServer, waitFor } from '../server/server-helpers.js';
import { ECHO_DUE } from './task-scenarios.js';

interface RunRow {
  id: string;
  scenario: string;
  trigger: string;
  task?: { name: string; kind: string; dueAt: string; paramErrors?: Record<string, string> };
}

describe('runs and show tell a service task\'s run', () => {
  it('a due run and a manual run: the task and its due time in runs, runs --json, show and show --json', async () => {
    const config = 'serviceTasks:\n  - { name: tick, scenario: Tick, cron: "* * * * * *", timeZone: UTC }\n  - { name: bad-param, scenario: Tick, every: 1d, params: { 2: \'ToDate("x")\' } }\n';
    const t = await startTestServer({ smtp: false, extraScenarios: { 'Tick.yaml': ECHO_DUE }, config });
    try {
      const manual = await fetch(`${t.server.url}/-/tasks/bad-param/run`, { method: 'POST', headers: { authorization: AUTH } });
      assert.equal(manual.status, 202);
      const { jobId } = (await manual.json()) as { jobId: string };
      await waitFor('a due run and the manual run completed', async () => {
        const runs = (await t.server.store.listRuns({ scenario: 'Tick', status: 'completed' })).items;
        return runs.some((r) => r.jobId === jobId) && runs.some((r) => r.jobId !== jobId) && runs;
      });
      const cli = (...args: string[]) => {
        const r = runCli([...args, '--data-dir', t.dataDir], { unset: ['OKTELL_STORE', 'OKTELL_CONFIG'] });
        assert.equal(r.code, 0, r.stderr);
        return r.stdout;
      };

      const rows = JSON.parse(cli('runs', '--json', '--scenario', 'Tick', '-n', '1000')) as RunRow[];
      const due = rows.find((r) => r.task?.name === 'tick');
      const byHand = rows.find((r) => r.task?.name === 'bad-param');
      assert.ok(due && byHand, JSON.stringify(rows));
      assert.equal(due.trigger, 'task', 'the run as recorded (migration 3)');
      assert.deepEqual({ kind: due.task!.kind, paramErrors: due.task!.paramErrors }, { kind: 'due', paramErrors: undefined });
      assert.match(due.task!.dueAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.equal(byHand.task!.kind, 'manual');

      const text = cli('runs', '--scenario', 'Tick', '-n', '1000');
      const line = (id: string) => text.split('\n').find((l) => l.includes(id)) ?? '';
      // Then its outcome: Tick returns the due time it was given.
      assert.match(line(due.id), new RegExp(` Tick +task +.* task tick \\(due ${due.task!.dueAt}\\) · ${due.task!.dueAt}$`));
      assert.match(line(byHand.id), / task bad-param \(manual\) · \d{4}-\d\d-\d\dT[\d:]+(Z|[+-]\d\d:\d\d)$/);
      assert.doesNotMatch(text, / async /, 'no task run is listed as async');

      assert.match(cli('show', due.id).split('\n')[0]!, new RegExp(`^Tick completed run ${due.id} · task tick \\(due ${due.task!.dueAt}\\) · version `));
      const shown = cli('show', byHand.id);
      assert.match(shown, / · task bad-param \(manual\) · /);
      assert.match(shown, /\n {2}parameter 2 failed, passed empty: ToDate: cannot read text "x" as a date/);
      const json = JSON.parse(cli('show', byHand.id, '--json')) as RunRow;
      assert.equal(json.task?.name, 'bad-param');
      assert.match(json.task?.paramErrors?.['2'] ?? '', /^ToDate: /);
    } finally {
      await t.cleanup();
    }
  });
});
