// `runs` and `show` on a real server's data folder where a job went dead (SMTP down, two attempts): `runs` marks
// the dead job's last run, `show` says the job is dead and prints the replay command, and a filter that matches
// nothing says so instead of "no runs recorded yet".
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freePort } from '../mail/smtp-server.helper.js';
import { postWebhook, startTestServer, taskWebhook, waitFor } from '../server/server-helpers.js';
import { runCli } from './cli-process.js';

describe('runs and show of a dead-lettered job', () => {
  it('runs marks it dead, show says so with the replay command, an empty filter names itself', { timeout: 60_000 }, async () => {
    const t = await startTestServer({ smtp: false, smtpPort: await freePort(), config: 'workers: { baseDelayMs: 50, maxDelayMs: 100, maxAttempts: 2 }\n' });
    try {
      const res = await postWebhook(t.server.url, taskWebhook({ name: 'мёртвое письмо', responsible: ['3'] }), t.secret);
      assert.equal(res.status, 200);
      const dead = await waitFor('a dead letter', async () => (await t.server.store.listJobs({ status: 'dead' })).items[0]);
      const [last, first] = (await t.server.store.listRuns({ jobId: dead.id })).items;
      assert.equal(last!.id, dead.lastRunId);
      const cli = (...args: string[]) => runCli([...args, '--data-dir', t.dataDir]);

      // runs: the last attempt is shown dead (JSON: dead: true), the earlier one stays failed (it was retried).
      const list = cli('runs', '--scenario', 'BpiumNewTask');
      assert.equal(list.code, 0, list.stderr);
      const lineOf = (id: string) => list.stdout.split('\n').find((l) => l.includes(id)) ?? '';
      assert.match(lineOf(last!.id), /\sdead\s+BpiumNewTask/);
      assert.match(lineOf(first!.id), /\sfailed\s+BpiumNewTask/);
      const rows = JSON.parse(cli('runs', '--json').stdout) as Array<{ id: string; status: string; dead?: boolean }>;
      assert.deepEqual(rows.filter((r) => r.dead).map((r) => [r.id, r.status]), [[last!.id, 'failed']]);

      // show: the job's state and the command that replays it, with this data folder.
      const shown = cli('show', last!.id);
      assert.equal(shown.code, 0, shown.stderr);
      assert.match(shown.stdout, new RegExp(`job ${dead.id} is dead-lettered after 2/2 attempts: nothing retries it; replay it: npx oktell-emu replay ${last!.id} --data-dir \\S+`));
      const earlier = cli('show', first!.id);
      assert.match(earlier.stdout, new RegExp(`job ${dead.id} is dead-lettered after 2/2 attempts \\(its latest run: ${last!.id}\\)`));
      const json = JSON.parse(cli('show', last!.id, '--json').stdout) as { job: { status: string; attempts: number; maxAttempts: number } };
      assert.deepEqual([json.job.status, json.job.attempts, json.job.maxAttempts], ['dead', 2, 2]);

      // A filter that matches nothing is named; a scenario with no run at all gets the closest recorded name.
      const none = cli('runs', '--status', 'running');
      assert.equal(none.code, 0, none.stderr);
      assert.match(none.stdout, /^no run matches --status running \(\d+ run\(s\) recorded/);
      assert.doesNotMatch(none.stdout, /no runs recorded yet/);
      const typo = cli('runs', '--scenario', 'BpiumNewTsk');
      assert.match(typo.stdout, /no run matches --scenario BpiumNewTsk .*\nno run of scenario "BpiumNewTsk" is recorded at all: did you mean "BpiumNewTask"\?/);
    } finally {
      await t.cleanup();
    }
  });
});
