// A letter whose end reached the SMTP server but was never answered, through the whole delivery path: a real SQLite
// queue, the worker pool, SendMail, the SMTP mailer and smtp-server on loopback (review D5). The server may hold the
// letter, so the job must not send it again by itself: it stops as a dead letter saying so, and a replay sends it.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { createSmtpMailer } from '../../adapters/mail/smtp.adapter.js';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioLibrary, type LoggerPort, type RunResult } from '../../engine/index.js';
import { runTally } from '../../server/metrics.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { tempDir } from '../helpers.js';
import { startSmtpServer } from '../mail/smtp-server.helper.js';
import { mailPool } from './pool.helper.js';

// Two letters; the second has an error exit, which an unknown outcome must not take (the run would end "completed",
// and nobody would look at the letter).
const TWO_LETTERS = `start: first
blocks:
  first:
    kind: SendMail
    to: '"ivan@example.com"'
    subject: '"первое"'
    text: '"t"'
    exits: { success: second }
  second:
    kind: SendMail
    to: '"ivan@example.com"'
    subject: '"второе"'
    text: '"t"'
    exits: { success: sent, error: refused }
  sent:
    kind: ReturnValue
    values: { 1: '"sent"' }
  refused:
    kind: ReturnValue
    values: { 1: '"refused"' }
`;

const until = async (what: string, ok: () => boolean, ms = 10_000) => {
  for (let i = 0; i < ms / 20 && !ok(); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(ok(), what);
};

describe('a letter whose outcome is unknown, through the job queue', { timeout: 60_000 }, () => {
  it('the job becomes a dead letter saying the letter may have been delivered, without a second copy; a replay sends it', async () => {
    const t = tempDir();
    // The second letter of the first attempt is received, then never answered; everything else is answered.
    const server = await startSmtpServer({ afterData: (n) => (n === 2 ? 'silent' : 'answer') });
    writeFileSync(join(t.dir, 'TwoLetters.yaml'), TWO_LETTERS);
    const lib = await loadScenarioLibrary(t.dir, { registry: defaultRegistry });
    assert.deepEqual(lib.issues, []);
    const store = await openSqliteStore({ file: join(t.dir, 'q.db') });
    const mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${server.port}`, from: 'robot@example.com', retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 40 }, socketTimeoutMs: 200, dataTimeoutMs: 400 });
    const attempts: Array<{ outcome: string; result: RunResult }> = [];
    const pool = mailPool(store, lib, mailer, {
      onAttempt: (_job, result, outcome) => void attempts.push({ outcome, result }),
    });
    try {
      const [id] = await store.enqueueJobs([{ scenario: 'TwoLetters', params: {} }]);
      pool.start();
      await until('the first attempt ended', () => attempts.length === 1);
      assert.equal(attempts[0]!.outcome, 'dead', 'the job is not queued for a retry');
      const { result } = attempts[0]!;
      assert.equal(result.status, 'failed');
      assert.equal(result.error?.code, 'R_EFFECT_UNKNOWN');
      assert.equal(result.error?.block, 'second');
      assert.deepEqual(result.returnValues, {}, 'the error exit was not taken');
      // The letter is recorded (and counted in the metrics) as of unknown outcome, not as failed: it may be delivered.
      assert.deepEqual(result.mails.map((m) => [m.subject, m.status]), [['первое', 'sent'], ['второе', 'unknown']]);
      assert.deepEqual(runTally(result).letters, { sent: 1, failed: 0, unknown: 1 });
      // A first attempt follows no cut-off one: nothing it did may repeat anything.
      assert.equal(result.mayRepeat, undefined);
      assert.ok(result.mails.every((m) => m.mayRepeat === undefined));
      const dead = await store.getJob(id!);
      assert.equal(dead?.status, 'dead');
      assert.match(JSON.stringify(dead?.lastError), /may have been delivered; it is not sent again: check the mailbox before replaying the job/);
      assert.equal(server.counts.data, 2, 'each letter reached the server once');

      // The operator checked the mailbox and the second letter is not there: the replay sends it, and only it.
      assert.deepEqual(await store.requeue({ ids: [id!] }), [id]);
      pool.wake();
      await until('the replay ended', () => attempts.length === 2);
      assert.equal(attempts[1]!.outcome, 'succeeded');
      assert.deepEqual(attempts[1]!.result.returnValues, { 1: 'sent' });
      assert.deepEqual(attempts[1]!.result.mails.map((m) => [m.subject, m.status]), [['первое', 'replayed'], ['второе', 'sent']]);
      const subjects = await Promise.all(server.letters.map(async (l) => (await simpleParser(l.raw)).subject));
      assert.deepEqual(subjects, ['первое', 'второе', 'второе'], 'the replay sent the second letter again, not the first');
      assert.equal((await store.getJob(id!))?.status, 'succeeded');
    } finally {
      await pool.stop(1000);
      await mailer.close();
      await server.close();
      await store.close();
      t.cleanup();
    }
  });

  it('after an attempt that was cut off, a letter cut off after its end was sent is marked as a possible repeat, with its Message-ID', async () => {
    const t = tempDir();
    // The first letter's end reaches the server, which then drops the connection without a reply.
    const server = await startSmtpServer({ afterData: (n) => (n === 1 ? 'hang-up' : 'answer') });
    writeFileSync(join(t.dir, 'TwoLetters.yaml'), TWO_LETTERS);
    const lib = await loadScenarioLibrary(t.dir, { registry: defaultRegistry });
    const store = await openSqliteStore({ file: join(t.dir, 'q.db') });
    const mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${server.port}`, from: 'robot@example.com', retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 40 }, socketTimeoutMs: 200, dataTimeoutMs: 400 });
    const attempts: Array<{ outcome: string; result: RunResult }> = [];
    const warnings: Array<{ obj: Record<string, unknown>; msg: string }> = [];
    const logger = {
      info() {},
      debug() {},
      error() {},
      warn: (obj: Record<string, unknown>, msg: string) => void warnings.push({ obj, msg }),
    } as unknown as LoggerPort;
    const pool = mailPool(store, lib, mailer, { logger, onAttempt: (_job, result, outcome) => void attempts.push({ outcome, result }) });
    try {
      // An attempt that was cut off with its end unrecorded: the server running it was killed (the restart finds it).
      const [id] = await store.enqueueJobs([{ scenario: 'TwoLetters', params: {} }]);
      assert.equal((await store.claimJobs('killed', 1, 60_000)).length, 1);
      assert.deepEqual(await store.recoverOrphans(), { requeued: 1, dead: 0, runsFailed: 0 });
      assert.equal(((await store.getJob(id!))?.lastError as { code?: string } | null)?.code, 'PROCESS_STOPPED');

      pool.start();
      await until('the attempt after the cut-off one ended', () => attempts.length === 1);
      const { outcome, result } = attempts[0]!;
      assert.equal(outcome, 'dead');
      assert.equal(result.error?.code, 'R_EFFECT_UNKNOWN');
      assert.equal(result.error?.block, 'first');
      assert.equal(server.letters.length, 1, 'the letter reached the server once, from this attempt');
      const sentId = (await simpleParser(server.letters[0]!.raw)).messageId;
      assert.ok(sentId);
      assert.ok(result.error!.message.includes(`Message-ID ${sentId}`), result.error!.message);
      // The cut attempt may have sent it too: this copy may be a second one, marked so, by the id the mailbox shows.
      assert.deepEqual(result.mails.map((m) => [m.subject, m.status, m.messageId, m.mayRepeat]), [['первое', 'unknown', sentId, true]]);
      assert.deepEqual(result.mayRepeat?.map((e) => [e.block, e.kind]), [['first', 'SendMail']]);
      const [summary] = (await store.listRuns({ scenario: 'TwoLetters' })).items.filter((r) => r.id === result.runId);
      assert.equal(summary?.mayRepeat, true, 'runs and the console list it as a possible repeat');
      const stored = (await store.getRun(result.runId))!.mails as Array<{ status: string; messageId?: string; mayRepeat?: boolean }>;
      assert.deepEqual(stored.map((m) => [m.status, m.messageId, m.mayRepeat]), [['unknown', sentId, true]]);
      const repeat = warnings.filter((w) => /may repeat it/.test(w.msg));
      assert.equal(repeat.length, 1, JSON.stringify(warnings));
      assert.match(repeat[0]!.msg, new RegExp(`this attempt made an effect that may repeat it: letter ${sentId!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} of "first"`));
      assert.equal((await store.getJob(id!))?.status, 'dead');
    } finally {
      await pool.stop(1000);
      await mailer.close();
      await server.close();
      await store.close();
      t.cleanup();
    }
  });
});
