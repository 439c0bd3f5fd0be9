// What an on-call alert needs from /-/metrics (operator trial L4): the scenario folder's problems as /-/health counts
// them, how long due work has waited for a worker (a stuck backlog, apart from jobs waiting out a retry), and which
// build runs since when. Over HTTP on a real server with a real SQLite store.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { startSilentServer } from '../mail/smtp-server.helper.js';
import { repoPath } from '../helpers.js';
import { AUTH, postWebhook, startTestServer, taskWebhook, waitFor } from './server-helpers.js';

const value = (page: string, metric: string): number | undefined => {
  const m = new RegExp(`^${metric.replace(/[{}"().]/g, '\\$&')} (\\S+)$`, 'm').exec(page);
  return m ? Number(m[1]) : undefined;
};

describe('/-/metrics for alerts', () => {
  it('gives the scenario problems, the age of the oldest due job, the build and the start time', { timeout: 60_000 }, async () => {
    const silent = await startSilentServer(); // a letter never ends: the one worker stays busy
    const before = Date.now();
    const t = await startTestServer({ smtp: false, smtpPort: silent.port, env: { OKTELL_WORKERS: '1' }, extraScenarios: { 'Broken.yaml': 'variables: {}\nblocks:\n  start: { kind: Nope }\n' } });
    const metrics = async () => {
      const res = await fetch(`${t.server.url}/-/metrics`, { headers: { authorization: AUTH } });
      assert.equal(res.status, 200);
      return res.text();
    };
    try {
      const health = (await (await fetch(`${t.server.url}/-/health`)).json()) as { status: string; invalid: number; invalidFiles: number };
      assert.ok(health.invalid > 0);
      let page = await metrics();
      assert.equal(value(page, 'oktell_scenario_problems'), health.invalid, "as /-/health's invalid");
      assert.equal(value(page, 'oktell_scenario_files_invalid'), 1, "as /-/health's invalidFiles");
      assert.equal(health.invalidFiles, 1);
      assert.match(page, /^# TYPE oktell_scenario_files_invalid gauge$/m);

      const version = (JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { version: string }).version;
      assert.equal(value(page, `oktell_build_info{version="${version}",node="${process.version}"}`), 1);
      const started = value(page, 'process_start_time_seconds')!;
      assert.ok(started <= Math.ceil(before / 1000) && started > Math.floor(before / 1000) - 3600, `the start of this process: ${started}`);

      assert.equal(value(page, 'oktell_queue_oldest_due_seconds'), 0, 'nothing due');
      // The only worker waits on the first letter; the second job is due and waits for it.
      const posted = Date.now();
      for (const name of ['первое', 'второе']) assert.equal((await postWebhook(t.server.url, taskWebhook({ name, responsible: ['3'] }), t.secret)).status, 200);
      await waitFor('one job running and one due behind it', async () => {
        const c = await t.server.store.counts();
        return c.jobs.running === 1 && c.jobs.queued === 1;
      });
      page = await waitFor('the due job to have waited', async () => {
        const p = await metrics();
        return (value(p, 'oktell_queue_oldest_due_seconds') ?? 0) > 0 ? p : undefined;
      });
      const age = value(page, 'oktell_queue_oldest_due_seconds')!;
      assert.ok(age <= (Date.now() - posted) / 1000, `no older than the webhook: ${age}`);
      assert.equal(value(page, 'oktell_jobs{status="queued"}'), 1);

      // Cheap to scrape: the one query added reads the jobs_due index of the server's own SQLite file, not the table.
      const db = new Database(join(t.dataDir, 'oktell.sqlite'), { readonly: true });
      try {
        const oldestDue = /oldestDue: `([^`]+)`/.exec(readFileSync(repoPath('server', 'store', 'sqlite.statements.ts'), 'utf8'))![1]!;
        const plan = (db.prepare(`EXPLAIN QUERY PLAN ${oldestDue}`).all(Date.now()) as Array<{ detail: string }>).map((r) => r.detail).join('; ');
        assert.match(plan, /USING COVERING INDEX jobs_due \(status=\?\)/, plan);
      } finally {
        db.close();
      }
    } finally {
      await t.cleanup();
      await silent.close();
    }
  });
});
