// A graceful stop while the SMTP server hangs: a real SMTP server on loopback (smtp-server) takes the letter whole and
// then never answers its end, so the job waits in the SMTP client, whose own wait for that reply lasts minutes. The
// stop must not wait for it (nor for the client's socket timeout): it ends within the grace period and the same short
// bounds as for the other connections, with the SMTP connection still open. The letter, marked pending in the job's
// journal before the stop, is neither lost nor sent twice: the job given back runs again at the next start and becomes
// a dead letter naming it, and the SMTP server has received it once. A webhook whose hook scenario waits on the same
// silent server is answered 503 when the grace period ends, rather than cut without an answer a second later.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AUTH, capturingLogger, postWebhook, startTestServer, taskWebhook, waitFor } from '../server/server-helpers.js';
import { SHUT_DOWN_MID_RUN } from '../../server/hook.js';
import { CONNECTIONS_AFTER_GRACE_MS } from '../../server/within.js';

const GRACE_MS = 1000;

/** A hook scenario that sends a letter before it answers 200. */
const MAILING_HOOK = `start: m
blocks:
  m:
    kind: SendMail
    to: '"ivan@example.com"'
    subject: '"из сценария хука"'
    text: '"текст"'
    exits: { success: r, error: r }
  r:
    kind: ReturnValue
    values: { 2: '200' }
`;

describe('a stop while the SMTP server hangs after a letter', () => {
  it('ends without waiting for the SMTP server; the letter stays pending and is not sent again after the restart', { timeout: 60_000 }, async () => {
    const log = capturingLogger();
    const t = await startTestServer({
      logger: log.logger,
      // The first letter is never answered; the test ends the connection left open after 1 s.
      smtp: { afterData: (n) => (n === 1 ? 'silent' : 'answer'), closeTimeoutMs: 1000 },
      env: { SMTP_PENDING_MARK_MS: '100' },
    });
    let second: Awaited<ReturnType<typeof t.restart>> | undefined;
    try {
      const res = await postWebhook(t.server.url, taskWebhook({ name: 'письмо без ответа', responsible: ['2'] }), t.secret);
      assert.equal(res.status, 200);
      await waitFor('the letter to reach the SMTP server', () => t.smtp!.letters.length === 1, 20_000);
      await waitFor('the letter to be marked pending', () => log.lines.some((l) => /recorded as pending/.test(l.msg ?? '')), 20_000);
      const [job] = (await t.server.store.listJobs({})).items;
      assert.equal(job?.status, 'running');

      const began = performance.now();
      const report = await t.server.close(GRACE_MS);
      const took = performance.now() - began;
      const said = log.lines.map((l) => `${l.level} ${l.msg ?? ''}`).join('\n');
      assert.deepEqual(report, { unfinished: 1, unrecorded: 0, effects: 0, letters: 0 }, said);
      // Loose on purpose: what matters is that the stop did not wait for the SMTP server (minutes) or the client's
      // socket timeout (30 s), not how fast the machine is. The connection is still open when the stop has ended.
      assert.ok(took < GRACE_MS + CONNECTIONS_AFTER_GRACE_MS + 2000, `the stop took ${Math.round(took)} ms:\n${said}`);
      assert.equal(t.smtp!.connections.open, 1, 'the SMTP connection of the letter is still waiting for its reply');
      assert.ok(!log.lines.some((l) => /not closed cleanly|the store did not answer/.test(l.msg ?? '')), said);
      const stopped = log.lines.find((l) => /^stopped/.test(l.msg ?? ''));
      assert.equal(stopped?.obj.queued, 1, `the stop record counts the job given back:\n${said}`);

      // The next start runs the job given back: the pending letter is not sent again, the job is a dead letter naming it.
      second = await t.restart();
      const store = second.store;
      const dead = await waitFor('the job to run again', async () => {
        const j = await store.getJob(job.id);
        return j?.status === 'dead' ? j : undefined;
      }, 20_000);
      const reason = JSON.stringify(dead.lastError);
      assert.match(reason, /SMTP outcome unknown, not sent again: an earlier attempt of this job was cut off/);
      assert.equal(t.smtp!.counts.data, 1, 'the letter reached the SMTP server once');
      assert.equal(t.smtp!.letters.length, 1);
    } finally {
      await second?.close(500);
      await t.cleanup();
    }
  });

  // The hook's HTTP404 run lives in its request: a stop waits for it within the grace period. One still waiting on the
  // SMTP server then used to keep the port's close waiting for its answer one more second, and was then cut without any.
  it('a webhook whose hook scenario waits on it is answered 503 at the end of the grace period, not cut a second later', { timeout: 60_000 }, async () => {
    const log = capturingLogger();
    const t = await startTestServer({ logger: log.logger, smtp: { afterData: () => 'silent', closeTimeoutMs: 1000 }, extraScenarios: { 'HTTP404.yaml': MAILING_HOOK } });
    try {
      const answer = fetch(`${t.server.url}/crm/event`, { method: 'POST', headers: { authorization: AUTH, 'content-type': 'application/json' }, body: '{"id":1}' }).then(
        async (res) => ({ status: res.status, retryAfter: res.headers.get('retry-after'), connection: res.headers.get('connection'), text: await res.text() }),
        (e: unknown) => ({ failed: String(e) }),
      );
      await waitFor('the letter to reach the SMTP server', () => t.smtp!.letters.length === 1, 20_000);

      const began = performance.now();
      const report = await t.server.close(GRACE_MS);
      const took = performance.now() - began;
      const said = log.lines.map((l) => `${l.level} ${l.msg ?? ''}`).join('\n');
      assert.deepEqual(report, { unfinished: 0, unrecorded: 0, effects: 0, letters: 0 }, said);
      assert.deepEqual(await answer, { status: 503, retryAfter: '5', connection: 'close', text: SHUT_DOWN_MID_RUN }, said);
      assert.ok(took < GRACE_MS + CONNECTIONS_AFTER_GRACE_MS + 2000, `the stop took ${Math.round(took)} ms:\n${said}`);
      assert.ok(!log.lines.some((l) => /connection\(s\) still receiving a request/.test(l.msg ?? '')), `no connection was cut:\n${said}`);
      const told = log.lines.find((l) => l.level === 'warn' && /^1 webhook request\(s\) whose hook scenario was still running at shutdown were answered 503/.test(l.msg ?? ''));
      assert.ok(told, `the stop says it answered the request 503:\n${said}`);
      assert.equal(told.obj.hookRequests, 1);
      assert.equal(t.smtp!.counts.data, 1, 'the letter reached the SMTP server once');
    } finally {
      await t.cleanup();
    }
  });
});
