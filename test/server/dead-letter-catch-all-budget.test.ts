// The dead-letter catch-all's own attempts, through a real server (SQLite file, real SMTP on loopback): its jobs get
// OKTELL_DEAD_LETTER_MAX_ATTEMPTS, not OKTELL_MAX_ATTEMPTS, and the start log states both schedules; a DeadLetter.yaml
// saved while the server runs turns the default catch-all on at that reload; a job buried by an expired lease, or by
// the recovery of a start, is logged with the catch-all it got.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { smtpError } from '../mail/smtp-server.helper.js';
import { AUTH, capturingLogger, startTestServer, waitFor, type TestServer } from './server-helpers.js';

const FLAKY = `description: Writes to the desk, whose mail server defers it.
start: begin
blocks:
  begin: { kind: Start, exits: { next: mail } }
  mail:
    kind: SendMail
    to: '"desk@shop.example"'
    subject: '"Order"'
    text: '"order"'
    exits: { success: done, error: done }
  done: { kind: Stop }
`;

const DEAD_LETTER = `description: Tells the admin of every job given up on.
start: begin
blocks:
  begin: { kind: Start, exits: { next: mail } }
  mail:
    kind: SendMail
    to: '"admin@example.com"'
    subject: '"Dead letter: " + InputParameter(2)'
    text: 'InputParameter(1)'
    exits: { success: done, error: done }
  done: { kind: Stop }
`;

const RETRIES = 'workers: { baseDelayMs: 20, maxDelayMs: 40, maxAttempts: 4 }\n';

async function startFlaky(t: TestServer): Promise<string> {
  const res = await fetch(`${t.server.url}/execsvcscriptplain?name=Flaky&async=1`, { headers: { authorization: AUTH } });
  assert.equal(res.status, 200, await res.text());
  return res.headers.get('x-oktell-run-id')!;
}

const status = async (t: TestServer, id: string) => (await t.server.store.getJob(id))?.status;

describe('the dead-letter catch-all\'s own attempts and what it logs, through a real server', () => {
  it('with the mail server down, a job dies after OKTELL_MAX_ATTEMPTS and its catch-all after OKTELL_DEAD_LETTER_MAX_ATTEMPTS; the start log says both', { timeout: 60_000 }, async () => {
    const log = capturingLogger();
    const t = await startTestServer({
      smtp: { rcpt: () => smtpError(451, 'everything is down') },
      config: `${RETRIES}deadLetterMaxAttempts: 3\n`,
      env: { OKTELL_DEAD_LETTER_MAX_ATTEMPTS: '2' },
      logger: log.logger,
      extraScenarios: { 'Flaky.yaml': FLAKY, 'DeadLetter.yaml': DEAD_LETTER },
    });
    try {
      assert.equal(t.server.config.deadLetterMaxAttempts, 2, 'the variable over the file');
      const said = log.lines.find((l) => l.level === 'info' && l.msg?.startsWith('jobs that fail as retryable'));
      assert.match(said?.msg ?? '', /^jobs that fail as retryable: 4 attempts, .* then a dead letter \(npx oktell-emu runs --status dead lists those\); the dead-letter catch-all's jobs \(DeadLetter\): 2 attempts, waiting about 0 s in all between them, then a dead letter$/);
      assert.equal((said?.obj.retries as { deadLetterMaxAttempts?: number }).deadLetterMaxAttempts, 2);
      const id = await startFlaky(t);
      await waitFor('the job dead', async () => ((await status(t, id)) === 'dead' ? true : undefined), 30_000);
      assert.equal((await t.server.store.getJob(id))?.attempts, 4);
      const [catchAll] = (await t.server.store.listJobs({ scenario: 'DeadLetter', limit: 10 })).items;
      assert.ok(catchAll);
      await waitFor('the catch-all dead', async () => ((await status(t, catchAll.id)) === 'dead' ? true : undefined), 30_000);
      const dead = (await t.server.store.getJob(catchAll.id))!;
      assert.deepEqual([dead.attempts, dead.maxAttempts], [2, 2], 'the catch-all gave up after its own two attempts');
    } finally {
      await t.cleanup();
    }
  });

  it('a DeadLetter.yaml saved while the server runs turns the default catch-all on at that reload', { timeout: 60_000 }, async () => {
    const log = capturingLogger();
    const t = await startTestServer({
      smtp: { rcpt: (address) => (address === 'desk@shop.example' ? smtpError(451, 'try again later') : undefined) },
      config: RETRIES,
      watch: true,
      logger: log.logger,
      extraScenarios: { 'Flaky.yaml': FLAKY },
    });
    try {
      assert.equal(t.server.config.deadLetter, undefined, 'no DeadLetter at the start');
      const before = await startFlaky(t);
      await waitFor('the first job dead', async () => ((await status(t, before)) === 'dead' ? true : undefined), 30_000);
      assert.deepEqual((await t.server.store.listJobs({ scenario: 'DeadLetter', limit: 10 })).items, [], 'off before the file is there');
      writeFileSync(join(t.scenariosDir, 'DeadLetter.yaml'), DEAD_LETTER);
      const on = await waitFor('the catch-all turned on', () => log.lines.find((l) => l.level === 'info' && /^the dead-letter catch-all is on: DeadLetter/.test(l.msg ?? '')), 20_000);
      assert.equal(on.obj.scenario, 'DeadLetter');
      const after = await startFlaky(t);
      await waitFor('the second job dead', async () => ((await status(t, after)) === 'dead' ? true : undefined), 30_000);
      const alls = (await t.server.store.listJobs({ scenario: 'DeadLetter', limit: 10 })).items;
      assert.deepEqual(alls.map((j) => j.trigger), [{ deadLetterOf: after }]);
      // Unset, 5 or a job's own attempts when those are fewer (here 4).
      assert.equal(alls[0]!.maxAttempts, 4, 'the default budget of a catch-all job, no more than a job\'s');
      await waitFor('the catch-all told the admin', async () => ((await status(t, alls[0]!.id)) === 'succeeded' ? true : undefined), 20_000);
    } finally {
      await t.cleanup();
    }
  });

  it('a job buried by an expired lease is logged with the catch-all it got', { timeout: 60_000 }, async () => {
    const log = capturingLogger();
    const t = await startTestServer({ smtp: {}, logger: log.logger, extraScenarios: { 'Flaky.yaml': FLAKY, 'DeadLetter.yaml': DEAD_LETTER } });
    try {
      // An instance that claimed a job's last attempt and vanished (its lease of 1 ms runs out at once): the server's
      // next claim buries it. Its own pool may claim a job first (then it just delivers it): tried again with another.
      let id: string | undefined;
      for (let i = 0; i < 20 && !id; i++) {
        const [queued] = await t.server.store.enqueueJobs([{ scenario: 'Flaky', params: {}, maxAttempts: 1 }]);
        const got = await t.server.store.claimJobs('a-vanished-instance', 1, 1);
        if (got[0]?.id === queued) id = queued;
      }
      assert.ok(id, 'a job claimed by the vanished instance');
      const buried = await waitFor('the warning', () => log.lines.find((l) => l.level === 'warn' && l.obj.jobId === id && /^dead letter: job /.test(l.msg ?? '')), 20_000);
      const catchAllJob = buried.obj.catchAllJob as string;
      assert.ok(catchAllJob);
      assert.equal(buried.msg, `dead letter: job ${id} (Flaky) was given up on: its lease expired during its last attempt (its instance stopped or hung); the dead-letter catch-all was queued as job ${catchAllJob}; npx oktell-emu show ${id}`);
      assert.deepEqual((await t.server.store.getJob(catchAllJob))?.trigger, { deadLetterOf: id });
    } finally {
      await t.cleanup();
    }
  });

  it('a job the previous process left running at its last attempt is logged at the start with the catch-all it got', { timeout: 60_000 }, async () => {
    const log = capturingLogger();
    let id = '';
    const t = await startTestServer({
      smtp: {},
      logger: log.logger,
      extraScenarios: { 'Flaky.yaml': FLAKY, 'DeadLetter.yaml': DEAD_LETTER },
      before: async (dataDir) => {
        const store = await openSqliteStore({ file: join(dataDir, 'oktell.sqlite') });
        [id] = (await store.enqueueJobs([{ scenario: 'Flaky', params: {}, maxAttempts: 1 }])) as [string];
        await store.claimJobs('the-previous-process', 1, 3_600_000);
        await store.close();
      },
    });
    try {
      const buried = log.lines.filter((l) => l.level === 'warn' && /^dead letter: job /.test(l.msg ?? ''));
      assert.equal(buried.length, 1, JSON.stringify(buried));
      const catchAllJob = buried[0]!.obj.catchAllJob as string;
      assert.equal(buried[0]!.msg, `dead letter: job ${id} (Flaky) was given up on: the previous process stopped during its last attempt; the dead-letter catch-all was queued as job ${catchAllJob}; npx oktell-emu show ${id}`);
      assert.deepEqual((await t.server.store.getJob(catchAllJob))?.trigger, { deadLetterOf: id });
      assert.ok(log.lines.some((l) => l.level === 'warn' && /^resumed 0 job\(s\) left unfinished by the previous process \(1 had no attempts left\)$/.test(l.msg ?? '')));
    } finally {
      await t.cleanup();
    }
  });
});
