// `runs --status running` on a real server's data folder while a job is in the middle of its attempt (SMTP that never
// answers): the job is listed as in progress, although its run is recorded only when the attempt ends, from when its
// attempt was claimed (not its last lease renewal); the console counts it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSilentServer } from '../mail/smtp-server.helper.js';
import { repoPath, tempDir } from '../helpers.js';
import { AUTH, postWebhook, serveUrl, startChild, startTestServer, taskWebhook, waitFor } from '../server/server-helpers.js';
import { runCliAsync } from './cli.helper.js';

describe('runs --status running', () => {
  it('lists a job running now, as /-/metrics counts it, with its attempt and when the attempt began', { timeout: 60_000 }, async () => {
    const silent = await startSilentServer();
    // The shortest lease: renewed every second, so the job's updatedAt soon moves past its claim.
    const t = await startTestServer({ smtp: false, smtpPort: silent.port, env: { OKTELL_LEASE_MS: '3000' } });
    // Not spawnSync: the server runs in this process and must renew its lease meanwhile.
    const runs = (...args: string[]) => runCliAsync(['runs', '--status', 'running', ...args, '--data-dir', t.dataDir]);
    try {
      const res = await postWebhook(t.server.url, taskWebhook({ name: 'долгое письмо', responsible: ['3'] }), t.secret);
      assert.equal(res.status, 200);
      const job = await waitFor('the job to run', async () => (await t.server.store.listJobs({ status: 'running' })).items[0]);
      const renewed = await waitFor('a lease renewal', async () => {
        const j = await t.server.store.getJob(job.id);
        return j && j.claimedAt !== null && j.updatedAt > j.claimedAt ? j : undefined;
      });
      const text = await runs();
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, new RegExp(`running\\s+BpiumNewTask\\s+async\\s+job ${job.id} #1 \\(claimed by a worker: in progress, or claimed ahead and waiting for a free slot; its run is recorded when the attempt ends\\)`));
      const rows = JSON.parse((await runs('--json')).stdout) as Array<{ id: string | null; jobId: string; status: string; inProgress?: boolean; attempt: number; startedAt: number }>;
      // No run is recorded until the attempt ends: its id is null, not an empty string a script would take for one.
      assert.deepEqual(rows.map((r) => [r.id, r.jobId, r.status, r.inProgress, r.attempt]), [[null, job.id, 'running', true, 1]]);
      assert.equal(rows[0]!.startedAt, renewed.claimedAt, 'the start is the claim of the attempt, not its last renewal');
      // --since filters on that start too: an attempt begun before the time given is not listed, though renewed after.
      const since = new Date(renewed.claimedAt! + 1).toISOString();
      const later = await runs('--since', since, '--json');
      assert.deepEqual(JSON.parse(later.stdout), [], later.stderr);
      const earlier = JSON.parse((await runs('--since', new Date(renewed.claimedAt!).toISOString(), '--json')).stdout) as Array<{ jobId: string }>;
      assert.deepEqual(earlier.map((r) => r.jobId), [job.id]);
      // The console's runs page counts it as running too.
      const page = await (await fetch(`${t.server.url}/-/console/runs`, { headers: { authorization: AUTH } })).text();
      assert.match(page, /<b>1<\/b> running/);
    } finally {
      await t.cleanup();
      await silent.close();
    }
  });

  it('after its server is killed (SQLite), says the attempt was cut off and resumes at the next start, in runs and show', { timeout: 60_000 }, async () => {
    const silent = await startSilentServer();
    const tmp = tempDir('oktell-cut-off-');
    const dataDir = join(tmp.dir, 'var');
    const scenarios = join(tmp.dir, 'scenarios');
    cpSync(repoPath('scenarios'), scenarios, { recursive: true });
    const { proc: child, output } = startChild(dataDir, scenarios, silent.port);
    const cli = (...args: string[]) => runCliAsync([...args, '--data-dir', dataDir]);
    try {
      const url = await serveUrl(child, dataDir, output);
      const secret = readFileSync(join(dataDir, 'bpium-webhook-secret'), 'utf8').trim();
      assert.equal((await postWebhook(url, taskWebhook({ name: 'оборванное письмо', responsible: ['3'] }), secret)).status, 200);
      // While the server runs, the job waiting on SMTP is in progress.
      const running = await waitFor('the job to run', async () => {
        const r = await cli('runs', '--status', 'running', '--json');
        const rows = JSON.parse(r.stdout || '[]') as Array<{ jobId: string; inProgress?: boolean; cutOff?: boolean }>;
        return rows.length ? rows : undefined;
      }, 20_000);
      assert.deepEqual(running.map((r) => [r.inProgress, r.cutOff]), [[true, undefined]]);
      const jobId = running[0]!.jobId;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;

      const text = await cli('runs', '--status', 'running');
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, new RegExp(`running\\s+BpiumNewTask\\s+async\\s+job ${jobId} #1 \\(cut off: no server is running; the next start resumes it\\)`));
      assert.doesNotMatch(text.stdout, /in progress/);
      assert.match(text.stderr, /note: no server is running with .*: its attempt was cut off when the server stopped, and the next start resumes the job \(npx oktell-emu serve --data-dir /);
      const rows = JSON.parse((await cli('runs', '--status', 'running', '--json')).stdout) as Array<{ jobId: string; inProgress?: boolean; cutOff?: boolean }>;
      assert.deepEqual(rows.map((r) => [r.jobId, r.inProgress, r.cutOff]), [[jobId, true, true]]);

      const show = await cli('show', jobId);
      assert.equal(show.code, 2, show.stdout);
      assert.match(show.stderr, new RegExp(`job ${jobId} \\(BpiumNewTask\\) is recorded as running attempt 1, but no server is running with .*: its attempt was cut off when the server stopped, and the next start resumes the job`));
      assert.doesNotMatch(show.stderr, /is running and has no run/);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await silent.close();
      tmp.cleanup();
    }
  });
});
