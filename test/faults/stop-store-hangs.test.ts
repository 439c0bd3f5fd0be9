// A graceful stop while the PostgreSQL store hangs (does not answer at all, as behind a network partition that drops
// packets) rather than refusing: the job whose letter went out but whose end the store never answered is counted as
// an unrecorded end (its letter is sent again by the next attempt), not as "still running"; and the stop ends
// although neither the queued count nor the store's close is ever answered, saying what it could not finish.
// Real parts: the server on a PostgreSQL schema reached through a TCP proxy (frozen-proxy.helper.ts), which is frozen
// (it stops forwarding in both directions without closing anything) the moment the loopback SMTP server has the letter.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dropSchema, querySchema, randomSchemaName, testPostgres, urlWithSchema } from '../store/postgres.helper.js';
import { freezableProxy, viaProxy } from './frozen-proxy.helper.js';
import { capturingLogger, postWebhook, startTestServer, taskWebhook, waitFor } from '../server/server-helpers.js';

const pg = await testPostgres();

describe('a stop while the PostgreSQL store hangs', () => {
  it('the job whose end was never answered is an unrecorded end with its letter, and the stop ends without the store', { timeout: 60_000, skip: pg.skip }, async () => {
    const pgUrl = new URL(pg.url!);
    const proxy = await freezableProxy({ host: pgUrl.hostname, port: Number(pgUrl.port || 5432) });
    const schema = randomSchemaName('hang');
    const log = capturingLogger();
    const t = await startTestServer({
      logger: log.logger,
      smtp: {
        afterData: (n) => {
          if (n === 1) proxy.freeze();
          return 'answer';
        },
      },
      env: { OKTELL_STORE: urlWithSchema(viaProxy(pg.url!, proxy), schema) },
    });
    try {
      const res = await postWebhook(t.server.url, taskWebhook({ name: 'письмо при разрыве сети', responsible: ['2'] }), t.secret);
      assert.equal(res.status, 200);
      await waitFor('the letter', () => t.smtp!.letters.length === 1, 20_000);

      // The test's timeout is the bound: without one of its own, this stop waited for the store for ever.
      const report = await t.server.close(2500);
      const said = log.lines.map((l) => `${l.level} ${l.msg ?? ''}`).join('\n');
      assert.deepEqual(report, { unfinished: 1, unrecorded: 1, effects: 1, letters: 1 }, said);
      assert.ok(!log.lines.some((l) => /still running/.test(l.msg ?? '')), `no job is said to be still running:\n${said}`);

      const named = log.lines.find((l) => l.level === 'error' && Array.isArray(l.obj.jobs));
      assert.ok(named, `a line names the job:\n${said}`);
      const jobs = named.obj.jobs as string[];
      assert.equal(jobs.length, 1);
      assert.match(named.msg!, /^1 job\(s\) made effects \(1 letter\(s\) sent\) whose end the store did not record before the grace period ended \(it refused the writes or did not answer them\): when another instance runs them after their lease expires, these are made again \(letters sent twice\)$/);

      // Its attempt had ended (the end, with the letter's journal entry, is what the store did not answer): it is not
      // given back, so no other instance can claim it before that end arrives; it stays under the lease.
      assert.equal(log.lines.find((l) => /give-back/.test(l.msg ?? '')), undefined, `no give-back of an ended attempt:\n${said}`);
      // What the stop could not finish, said, and that nothing acknowledged is lost by it.
      const unanswered = log.lines.find((l) => /the store did not answer the stop/.test(l.msg ?? ''));
      assert.ok(unanswered, `a line says the store did not answer:\n${said}`);
      assert.equal(unanswered.level, 'warn');
      assert.match(unanswered.msg!, /^the store did not answer the stop.s last steps in time \(2 s after the grace period\): queued jobs not counted, the store not closed cleanly .*nothing acknowledged is lost by this: every job stays in the store, an unfinished one under its lease, which PostgreSQL hands to another instance when it expires$/);
      const stopped = log.lines.find((l) => /^stopped/.test(l.msg ?? ''));
      assert.ok(stopped, said);
      assert.match(stopped.msg!, /^stopped, not cleanly; 1 job\(s\) made effects/);
      assert.equal(stopped.obj.queued, undefined);

      // Behind the store's back: the job is still there, running under the lease another instance waits out.
      const [row] = await querySchema<{ status: string; lease_owner: string | null }>(pg.url!, schema, 'SELECT status, lease_owner FROM jobs WHERE id = $1', [jobs[0]]);
      assert.equal(row?.status, 'running');
      assert.ok(row.lease_owner);
    } finally {
      await proxy.destroy();
      await t.cleanup();
      await dropSchema(pg.url!, schema);
    }
  });
});
