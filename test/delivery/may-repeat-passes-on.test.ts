// The suspicion of a cut-off attempt passes on through an attempt that failed before it made an effect (review of
// trial 58, kill -9 under load): a job killed while its letter was under way, whose next attempt met an outage (SMTP
// 451) and made nothing, sends the letter at the attempt after that. That letter may be the cut attempt's twin, so it
// is marked `may repeat` as the docs promise (scaling.md, "Effects at most twice"); the outage attempt's own error
// (R_EFFECT_TRANSIENT) once replaced PROCESS_STOPPED as the job's last error and the mark was lost. Real parts: the
// SQLite queue, the worker pool, SendMail, the SMTP mailer and smtp-server on loopback.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createSmtpMailer } from '../../adapters/mail/smtp.adapter.js';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioLibrary, type RunResult } from '../../engine/index.js';
import type { BackoffPolicy } from '../../server/store/backoff.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { tempDir } from '../helpers.js';
import { smtpError, startSmtpServer } from '../mail/smtp-server.helper.js';
import { ONE_LETTER, until } from './lease-fence.helper.js';
import { mailPool } from './pool.helper.js';

const QUICK: BackoffPolicy = { initialMs: 20, factor: 1, maxMs: 20, jitter: 0 };

type SmtpOptions = Parameters<typeof startSmtpServer>[0];

/**
 * A job of one letter whose first attempt was cut off (claimed by a server that was killed, found running at the
 * restart), then run by a pool against an SMTP server that refuses the first letter for now (451), until two more
 * attempts ended: the outage one, which makes nothing, and the one after it. `smtp` adds to the server's options,
 * `pendingMarkMs` is the mailer's.
 */
async function cutThenOutage(smtp: Partial<NonNullable<SmtpOptions>>, pendingMarkMs: number | undefined, check: (r: { attempts: Array<{ outcome: string; result: RunResult }>; store: Awaited<ReturnType<typeof openSqliteStore>> }) => Promise<void> = async () => undefined): Promise<void> {
  const t = tempDir();
  const server = await startSmtpServer({ data: (n) => (n === 1 ? smtpError(451, 'try again later') : undefined), ...smtp });
  writeFileSync(join(t.dir, 'OneLetter.yaml'), ONE_LETTER);
  const lib = await loadScenarioLibrary(t.dir, { registry: defaultRegistry });
  assert.deepEqual(lib.issues, []);
  const store = await openSqliteStore({ file: join(t.dir, 'q.db'), backoff: QUICK, defaultMaxAttempts: 5 });
  const mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${server.port}`, from: 'robot@example.com', ...(pendingMarkMs !== undefined ? { pendingMarkMs } : {}), retry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 10 } });
  const attempts: Array<{ outcome: string; result: RunResult }> = [];
  const pool = mailPool(store, lib, mailer, { onAttempt: (_job, result, outcome) => void attempts.push({ outcome, result }) });
  try {
    // The server running the job's first attempt was killed (the restart finds it running): its letter may be out.
    const [id] = await store.enqueueJobs([{ scenario: 'OneLetter', params: {} }]);
    assert.equal((await store.claimJobs('killed', 1, 60_000)).length, 1);
    assert.deepEqual(await store.recoverOrphans(), { requeued: 1, dead: 0, runsFailed: 0 });
    pool.start();
    await until('two attempts after the cut-off one ended', () => attempts.length === 2);
    assert.deepEqual(attempts.map((a) => [a.outcome, a.result.error?.code ?? null]), [['queued', 'R_EFFECT_TRANSIENT'], ['succeeded', null]]);
    assert.equal(server.letters.length, 1, 'one letter reached the server, from the last attempt');
    assert.deepEqual(attempts[1]!.result.mails.map((m) => [m.status, m.mayRepeat]), [['sent', true]], 'marked: the cut attempt may have sent it too');
    assert.equal((await store.getJob(id!))?.status, 'succeeded');
    await check({ attempts, store });
  } finally {
    await pool.stop(1000);
    await mailer.close();
    await server.close();
    await store.close();
    t.cleanup();
  }
}

describe('may repeat, after a cut-off attempt and an attempt that made nothing', { timeout: 60_000 }, () => {
  it('the letter sent by the attempt after the outage is marked as a possible twin of the cut attempt', async () => {
    await cutThenOutage({}, undefined, async ({ attempts, store }) => {
      assert.deepEqual(attempts[0]!.result.mails.map((m) => m.status), ['failed'], 'the outage attempt sent nothing');
      const last = attempts[1]!.result;
      assert.deepEqual(last.mayRepeat?.map((e) => [e.block, e.kind]), [['first', 'SendMail']]);
      const [summary] = (await store.listRuns({ scenario: 'OneLetter' })).items.filter((r) => r.id === last.runId);
      assert.equal(summary?.mayRepeat, true, 'runs and the console list it as a possible repeat');
    });
  });

  it('also when the outage attempt left a pending mark it withdrew (a slow 451): a mark is no effect', async () => {
    // The first letter is answered 451 only after the mailer marked it pending: the mark and its withdrawal ride on
    // the attempt's end, and still nothing was made.
    await cutThenOutage({ dataReplyDelayMs: (n) => (n === 1 ? 400 : 0) }, 50);
  });
});
