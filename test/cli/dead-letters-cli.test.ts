// `runs` and `show` on a real server's data folder where a job went dead (SMTP down, two attempts): `runs` marks
// the dead job's last run, `show` says the job is dead and prints the replay command, and a filter that matches
// nothing says so instead of "no runs recorded yet".
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freePort, startSmtpServer } from '../mail/smtp-server.helper.js';
import { postWebhook, startTestServer, taskWebhook, waitFor } from '../server/server-helpers.js';
import { runCli } from './cli-process.js';

describe('runs and show of a dead-lettered job', () => {
  it('runs marks it dead, show says so with the replay command, an empty filter names itself, replay says what a named id is', { timeout: 60_000 }, async () => {
    const smtpPort = await freePort();
    let smtp: Awaited<ReturnType<typeof startSmtpServer>> | undefined;
    const t = await startTestServer({ smtp: false, smtpPort, config: 'workers: { baseDelayMs: 50, maxDelayMs: 100, maxAttempts: 2 }\n' });
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
      // Its header says dead, as `runs` and the console list it; the earlier attempt's says failed (it was retried).
      assert.match(shown.stdout.split('\n')[0]!, new RegExp(`^BpiumNewTask dead run ${last!.id} `));
      const earlier = cli('show', first!.id);
      assert.match(earlier.stdout.split('\n')[0]!, new RegExp(`^BpiumNewTask failed run ${first!.id} `));
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

      // replay of the webhook's own run: said what it is, with the job it started (dead) and how to replay that.
      const hook = (await t.server.store.listRuns({ scenario: 'HTTP404' })).items[0]!;
      const notJob = cli('replay', hook.id);
      assert.equal(notJob.code, 2, notJob.stdout);
      assert.match(notJob.stderr, new RegExp(`${hook.id}: the webhook run of HTTP404 \\(it answered its request\\), not a queued job: it is not replayed; the job\\(s\\) it started: ${dead.id} \\(BpiumNewTask, dead\\) — npx oktell-emu replay ${dead.id}`));
      assert.equal((await t.server.store.getJob(dead.id))!.status, 'dead', 'nothing was queued');

      // SMTP back: the replay by run id delivers; naming the run again says its job succeeded, and exits non-zero.
      smtp = await startSmtpServer({ port: smtpPort });
      const replayed = cli('replay', last!.id);
      assert.equal(replayed.code, 0, replayed.stderr);
      assert.equal(replayed.stdout, `requeued 1 job(s): ${dead.id}\n`);
      await waitFor('the replayed job to succeed', async () => ((await t.server.store.getJob(dead.id))?.status === 'succeeded' ? true : undefined), 20_000);
      const again = cli('replay', last!.id);
      assert.equal(again.code, 2, again.stdout);
      assert.match(again.stderr, new RegExp(`run ${last!.id}: its job ${dead.id} succeeded: nothing to replay`));
    } finally {
      await t.cleanup();
      await smtp?.close();
    }
  });
});
