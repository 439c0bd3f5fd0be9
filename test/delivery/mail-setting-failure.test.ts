// A letter the SMTP server refuses because of a setting (its TLS certificate rejected, the sender refused), through the
// whole delivery path: SQLite queue, worker pool, SendMail with an `error` exit, the SMTP mailer, smtp-server on
// loopback. Such a refusal would refuse every letter, so it must not take the block's error exit (the run would end
// completed and `replay` would refuse it): the job is a dead letter at once, and once the setting is fixed
// `replay --status dead` sends the letter, once. The same holds for a server that refuses to relay for this client (a
// login missing from SMTP_URL), though it says so to RCPT TO. A recipient the server refuses (550 to RCPT TO) still
// takes the error exit (trial s33, finding 3).
// A run that is not a queued job (a live `oktell-emu run`, a synchronous Web-API run) fails the same way, and its
// message does not promise a dead letter that does not exist.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createSmtpMailer, type SmtpMailer } from '../../adapters/mail/smtp.adapter.js';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioLibrary, type LoggerPort, type RunResult, type ScenarioLibrary } from '../../engine/index.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { tempDir } from '../helpers.js';
import { runCli, runCliAsync } from '../cli/cli.helper.js';
import { smtpError, startSmtpServer } from '../mail/smtp-server.helper.js';
import { mailPool } from './pool.helper.js';
import { AUTH, startTestServer, waitFor } from '../server/server-helpers.js';

// As the shipped BpiumNewTask: the error exit notes the refusal and the run goes on to complete.
const notify = (to: string) => `start: notify
variables:
  mailError: string
blocks:
  notify:
    kind: SendMail
    to: '"${to}"'
    subject: '"Новая задача"'
    text: '"t"'
    errorVariable: mailError
    exits: { success: sent, error: refused }
  sent:
    kind: ReturnValue
    values: { 1: '"sent"' }
  refused:
    kind: ReturnValue
    values: { 1: '"refused: " + [mailError]' }
`;

const FAST = { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 };

const until = async (what: string, ok: () => boolean, ms = 15_000) => {
  for (let i = 0; i < ms / 20 && !ok(); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(ok(), what);
};

/** A data folder with the scenarios Notify (to ivan@) and NotifyNobody (to a mailbox the server refuses). */
async function setUp() {
  const t = tempDir();
  const data = join(t.dir, 'data');
  const scenarios = join(t.dir, 'scenarios');
  mkdirSync(data, { mode: 0o700 });
  mkdirSync(scenarios);
  writeFileSync(join(scenarios, 'Notify.yaml'), notify('ivan@example.com'));
  writeFileSync(join(scenarios, 'NotifyNobody.yaml'), notify('nobody@example.com'));
  const lib = await loadScenarioLibrary(scenarios, { registry: defaultRegistry });
  assert.deepEqual(lib.issues, []);
  const replay = (...args: string[]) => runCli(['replay', ...args, '--data-dir', data], { cwd: t.dir, unset: ['OKTELL_STORE', 'OKTELL_CONFIG', 'OKTELL_DATA_DIR'] });
  return { t, data, lib, replay };
}

/** Runs the jobs queued (and those named in `enqueue`) through a pool over `<data>/oktell.sqlite`, then closes it all. */
async function runJobs(data: string, lib: ScenarioLibrary, mailer: SmtpMailer, work: { enqueue?: string[]; wake?: boolean; logger?: LoggerPort }) {
  // Five attempts allowed: a setting failure must not spend them.
  const store = await openSqliteStore({ file: join(data, 'oktell.sqlite'), defaultMaxAttempts: 5 });
  const ended: Array<{ jobId: string; outcome: string; result: RunResult }> = [];
  const pool = mailPool(store, lib, mailer, { onAttempt: (job, result, outcome) => void ended.push({ jobId: job.id, outcome, result }), ...(work.logger ? { logger: work.logger } : {}) });
  try {
    const ids = work.enqueue ? await store.enqueueJobs(work.enqueue.map((scenario) => ({ scenario, params: {} }))) : [];
    pool.start();
    const expected = Math.max(ids.length, 1);
    await until(`${expected} attempt(s) ended`, () => ended.length >= expected);
    const jobs = await Promise.all(ended.map(async (e) => (await store.getJob(e.jobId))!));
    // As stored: what `show`, `runs` and the console read.
    const runs = await Promise.all(ended.map(async (e) => (await store.getRun(e.result.runId))!));
    return { ids, ended, jobs, runs };
  } finally {
    await pool.stop(1000);
    await mailer.close();
    await store.close();
  }
}

describe('a letter refused for a wrong SMTP setting is kept as a dead letter, not taken to the error exit', { timeout: 120_000 }, () => {
  it('a TLS certificate the client rejects: dead at once with R_EFFECT_SETTING; after the fix, replay sends the letter once', async () => {
    const { t, data, lib, replay } = await setUp();
    // The server offers STARTTLS with smtp-server's self-signed certificate, which a client rejects by default.
    const smtp = await startSmtpServer({ starttls: true });
    try {
      const strict = createSmtpMailer({ url: `smtp://127.0.0.1:${smtp.port}`, from: 'robot@example.com', retry: FAST });
      const first = await runJobs(data, lib, strict, { enqueue: ['Notify'] });
      assert.equal(first.ended.length, 1);
      const { outcome, result } = first.ended[0]!;
      assert.equal(outcome, 'dead', 'a dead letter at once, not retried and not completed');
      assert.equal(result.status, 'failed');
      assert.deepEqual(result.returnValues, {}, 'the error exit was not taken');
      assert.equal(result.error?.code, 'R_EFFECT_SETTING');
      assert.equal(result.error?.block, 'notify');
      assert.match(result.error!.message, /SMTP setting failure, not retried: TLS with the SMTP server 127\.0\.0\.1:\d+ failed .*a setting: check the server's certificate.*\?rejectUnauthorized=false/);
      assert.match(result.error!.message, /its job is a dead letter, to replay once the setting is fixed/);
      assert.equal(first.jobs[0]!.status, 'dead');
      assert.equal(first.jobs[0]!.attempts, 1, 'no attempt spent on retries');
      assert.equal(smtp.letters.length, 0);

      // The operator fixes the setting (a self-signed certificate accepted) and replays the dead letters.
      const r = replay('--status', 'dead');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `requeued 1 job(s): ${first.ids[0]}\n`);
      const trusting = createSmtpMailer({ url: `smtp://127.0.0.1:${smtp.port}?rejectUnauthorized=false`, from: 'robot@example.com', retry: FAST });
      const second = await runJobs(data, lib, trusting, {});
      assert.equal(second.ended[0]!.outcome, 'succeeded');
      assert.deepEqual(second.ended[0]!.result.returnValues, { 1: 'sent' });
      assert.equal(smtp.letters.length, 1, 'the replay delivered exactly one letter');
      assert.equal(smtp.letters[0]!.secure, true);
    } finally {
      await smtp.close();
      t.cleanup();
    }
  });

  it('a sender the server refuses (553 to MAIL FROM): dead with R_EFFECT_SETTING, replayed once fixed; a refused recipient (550 to RCPT TO) still takes the error exit', async () => {
    const { t, data, lib, replay } = await setUp();
    let senderAllowed = false;
    const smtp = await startSmtpServer({
      mailFrom: () => (senderAllowed ? undefined : smtpError(553, '5.7.1 Sender address rejected: not owned by user robot')),
      rcpt: (address) => (address === 'nobody@example.com' ? smtpError(550, '5.1.1 No such user here') : undefined),
    });
    const mailer = () => createSmtpMailer({ url: `smtp://127.0.0.1:${smtp.port}`, from: 'robot@example.com', retry: FAST });
    try {
      const first = await runJobs(data, lib, mailer(), { enqueue: ['Notify'] });
      const { outcome, result } = first.ended[0]!;
      assert.equal(outcome, 'dead');
      assert.deepEqual(result.returnValues, {}, 'the error exit was not taken');
      assert.equal(result.error?.code, 'R_EFFECT_SETTING');
      assert.match(result.error!.message, /SMTP setting failure, not retried: the SMTP server refused the sender: "553 5\.7\.1 Sender address rejected: not owned by user robot" to MAIL FROM; a setting: check MAIL_FROM/);
      assert.deepEqual(result.mails.map((m) => m.status), ['failed']);
      assert.equal(first.jobs[0]!.status, 'dead');
      assert.equal(first.jobs[0]!.attempts, 1);

      senderAllowed = true;
      const r = replay(first.ids[0]!);
      assert.equal(r.code, 0, r.stderr);
      const second = await runJobs(data, lib, mailer(), {});
      assert.equal(second.ended[0]!.outcome, 'succeeded');
      assert.deepEqual(second.ended[0]!.result.returnValues, { 1: 'sent' });
      assert.equal(smtp.letters.length, 1, 'the replay delivered exactly one letter');

      // A refusal of this letter's recipient is the scenario's to handle: the error exit, the job succeeded.
      const third = await runJobs(data, lib, mailer(), { enqueue: ['NotifyNobody'] });
      assert.equal(third.ended[0]!.outcome, 'succeeded');
      assert.match(String(third.ended[0]!.result.returnValues[1]), /^refused: SMTP permanent failure, not retried: the SMTP server answered "550 5\.1\.1 No such user here" to RCPT TO$/);
      assert.equal(third.jobs[0]!.status, 'succeeded');
      assert.equal(smtp.letters.length, 1);
    } finally {
      await smtp.close();
      t.cleanup();
    }
  });

  it('a relay that refuses this client (554 5.7.1 Relay access denied to RCPT TO, no login in SMTP_URL): dead with R_EFFECT_SETTING, replayed once the login is given; 550 5.1.1 still takes the error exit', async () => {
    const { t, data, lib, replay } = await setUp();
    // As Postfix with reject_unauth_destination: a client that has not logged in may not send to other domains.
    const smtp = await startSmtpServer({
      auth: { user: 'robot', pass: 'relay-pass' },
      authOptional: true,
      rcpt: (address, _n, session) =>
        !session.user ? smtpError(554, `5.7.1 <${address}>: Relay access denied`)
        : address === 'nobody@example.com' ? smtpError(550, '5.1.1 No such user here')
        : undefined,
    });
    const mailer = (login: string) => createSmtpMailer({ url: `smtp://${login}127.0.0.1:${smtp.port}`, from: 'robot@example.com', retry: FAST });
    try {
      const first = await runJobs(data, lib, mailer(''), { enqueue: ['Notify'] });
      const { outcome, result } = first.ended[0]!;
      assert.equal(outcome, 'dead', 'a dead letter at once, not retried and not completed');
      assert.equal(result.status, 'failed');
      assert.deepEqual(result.returnValues, {}, 'the error exit was not taken');
      assert.equal(result.error?.code, 'R_EFFECT_SETTING');
      assert.equal(result.error?.block, 'notify');
      assert.equal(
        result.error!.message,
        `SendMail "notify": SMTP setting failure, not retried: the SMTP server 127.0.0.1:${smtp.port} refuses to relay for this client: "554 5.7.1 <ivan@example.com>: Relay access denied" to RCPT TO; a setting: SMTP_URL has no login: add the user and password of an account the server relays for (smtp://user:password@host:port), or name the server that relays this host's mail; the letter is not sent and not dropped: its job is a dead letter, to replay once the setting is fixed`,
      );
      assert.deepEqual(result.mails.map((m) => m.status), ['failed']);
      assert.equal(first.jobs[0]!.status, 'dead');
      assert.equal(first.jobs[0]!.attempts, 1, 'no attempt spent on retries');
      assert.equal(smtp.letters.length, 0);

      // The login is added to SMTP_URL; the dead letter is replayed and delivered, once.
      const r = replay('--status', 'dead');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `requeued 1 job(s): ${first.ids[0]}\n`);
      const second = await runJobs(data, lib, mailer('robot:relay-pass@'), {});
      assert.equal(second.ended[0]!.outcome, 'succeeded');
      assert.deepEqual(second.ended[0]!.result.returnValues, { 1: 'sent' });
      assert.deepEqual(smtp.letters.map((l) => [l.rcptTo, l.user]), [[['ivan@example.com'], 'robot']]);

      // A recipient the server does not know is this letter's refusal: the error exit, the job succeeded.
      const third = await runJobs(data, lib, mailer('robot:relay-pass@'), { enqueue: ['NotifyNobody'] });
      assert.equal(third.ended[0]!.outcome, 'succeeded');
      assert.equal(third.ended[0]!.result.returnValues[1], 'refused: SMTP permanent failure, not retried: the SMTP server answered "550 5.1.1 No such user here" to RCPT TO');
      assert.equal(third.jobs[0]!.status, 'succeeded');
      assert.equal(smtp.letters.length, 1);
    } finally {
      await smtp.close();
      t.cleanup();
    }
  });

  it('a relay that refuses the user SMTP_URL logs in as: the advice speaks of the login in SMTP_URL and names no user, in the run, its record, the job and the log', async () => {
    const { t, data, lib } = await setUp();
    // The server knows the login but relays only for another account.
    const smtp = await startSmtpServer({
      auth: { user: 'clerk.petrova', pass: 'clerk-pass' },
      rcpt: (address, _n, session) => (session.user !== 'robot' ? smtpError(554, `5.7.1 <${address}>: Relay access denied`) : undefined),
    });
    const lines: string[] = [];
    const logger: LoggerPort = {
      info: (o: unknown, m?: string) => void lines.push(JSON.stringify([o, m])),
      warn: (o: unknown, m?: string) => void lines.push(JSON.stringify([o, m])),
      error: (o: unknown, m?: string) => void lines.push(JSON.stringify([o, m])),
      debug: () => undefined,
    } as LoggerPort;
    const mailer = createSmtpMailer({ url: `smtp://clerk.petrova:clerk-pass@127.0.0.1:${smtp.port}`, from: 'robot@example.com', retry: FAST, logger });
    try {
      const { ended, jobs, runs } = await runJobs(data, lib, mailer, { enqueue: ['Notify'], logger });
      const { outcome, result } = ended[0]!;
      assert.equal(outcome, 'dead');
      assert.equal(result.error?.code, 'R_EFFECT_SETTING');
      assert.equal(
        result.error!.message,
        `SendMail "notify": SMTP setting failure, not retried: the SMTP server 127.0.0.1:${smtp.port} refuses to relay for this client: "554 5.7.1 <ivan@example.com>: Relay access denied" to RCPT TO; a setting: check that the login in SMTP_URL is one this server relays for, and that SMTP_URL names the server that relays this host's mail; the letter is not sent and not dropped: its job is a dead letter, to replay once the setting is fixed`,
      );
      assert.equal(smtp.letters.length, 0);
      assert.ok(lines.some((l) => l.includes('check that the login in SMTP_URL is one this server relays for')), 'the log gives the advice');
      for (const [what, text] of [['the run record', JSON.stringify(runs[0])], ['the job', JSON.stringify(jobs[0])], ['the log', lines.join('\n')]] as const) {
        assert.ok(text.includes('Relay access denied'), `${what} holds the refusal`);
        assert.ok(!text.includes('clerk.petrova'), `${what} names no user: ${text}`);
        assert.ok(!text.includes('clerk-pass'), `${what} names no password`);
      }
    } finally {
      await smtp.close();
      t.cleanup();
    }
  });

  it('a run that is not a queued job (a live `oktell-emu run`) fails with R_EFFECT_SETTING without promising a dead letter', async () => {
    const { t, data } = await setUp();
    const smtp = await startSmtpServer({ mailFrom: () => smtpError(553, '5.7.1 Sender address rejected: not owned by user robot') });
    try {
      const r = await runCliAsync(['run', 'Notify', '--scenarios', join(t.dir, 'scenarios'), '--data-dir', data, '--json'], {
        cwd: t.dir,
        env: { SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, MAIL_FROM: 'robot@example.com' },
        unset: ['OKTELL_STORE', 'OKTELL_CONFIG', 'OKTELL_DATA_DIR'],
      });
      assert.equal(r.code, 1, r.stderr);
      const out = JSON.parse(r.stdout) as RunResult;
      assert.equal(out.status, 'failed');
      assert.deepEqual(out.returnValues, {}, 'the error exit was not taken');
      assert.equal(out.error?.code, 'R_EFFECT_SETTING');
      assert.match(out.error!.message, /SMTP setting failure, not retried: the SMTP server refused the sender: "553 5\.7\.1 Sender address rejected: not owned by user robot" to MAIL FROM; a setting: check MAIL_FROM/);
      assert.match(out.error!.message, /; the letter is not sent, and this run is not a queued job, so no dead letter keeps it: once the setting is fixed, make the request \(or run the command\) again$/);
      assert.doesNotMatch(out.error!.message, /dead letter, to replay|its job/);
      assert.equal(smtp.letters.length, 0);
    } finally {
      await smtp.close();
      t.cleanup();
    }
  });

  it('on a server, a synchronous Web-API run says no dead letter keeps it, and the same start with async=1 says its job is one', async () => {
    const t = await startTestServer({
      smtp: { mailFrom: () => smtpError(553, '5.7.1 Sender address rejected: not owned by user robot') },
      extraScenarios: { 'Notify.yaml': notify('ivan@example.com') },
    });
    try {
      const call = async (query: string) => {
        const res = await fetch(`${t.server.url}/execsvcscript?name=Notify${query}`, { headers: { authorization: AUTH } });
        return { status: res.status, text: await res.text() };
      };
      const errorOf = async (runId: string) => {
        const run = await waitFor(`run ${runId} recorded`, async () => {
          const r = await t.server.store.getRun(runId);
          return r && r.status !== 'running' ? r : undefined;
        }, 20_000);
        return run.error as { code: string; message: string };
      };

      const sync = await call('');
      assert.equal(sync.status, 200);
      assert.match(sync.text, /key="startresult" value="1" name="failed"/);
      const syncRun = await waitFor('the Web-API run recorded', async () => (await t.server.store.listRuns({ scenario: 'Notify' })).items[0]);
      assert.equal(syncRun.trigger, 'webapi');
      assert.equal(syncRun.jobId, null);
      const syncError = await errorOf(syncRun.id);
      assert.equal(syncError.code, 'R_EFFECT_SETTING');
      assert.match(syncError.message, /refused the sender: "553 5\.7\.1 Sender address rejected: not owned by user robot" to MAIL FROM; .*; the letter is not sent, and this run is not a queued job, so no dead letter keeps it: once the setting is fixed, make the request \(or run the command\) again$/);

      const queued = await call('&async=1');
      assert.equal(queued.status, 200);
      const jobId = /key="runid" value="([^"]+)"/i.exec(queued.text)?.[1];
      assert.ok(jobId, queued.text);
      const job = await waitFor('the job dead-lettered', async () => {
        const j = await t.server.store.getJob(jobId);
        return j?.status === 'dead' ? j : undefined;
      }, 20_000);
      const jobError = await errorOf(job.lastRunId!);
      assert.equal(jobError.code, 'R_EFFECT_SETTING');
      assert.match(jobError.message, /; the letter is not sent and not dropped: its job is a dead letter, to replay once the setting is fixed$/);
      assert.equal(t.smtp!.letters.length, 0);
    } finally {
      await t.cleanup();
    }
  });
});
