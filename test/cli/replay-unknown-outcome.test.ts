// `replay --status dead` after an incident, on a SQLite store whose dead letters include letters of unknown outcome
// (R_EFFECT_UNKNOWN: the mail server received the letter and never answered; it may be in the mailbox). The bulk
// form requeues the others and leaves those, saying how many, why, and the command that replays each (exit 1);
// --include-unknown takes them too; a replay by id still replays one, with a warning (trial s30, finding 5).
// The dead letters are made by the real delivery path: worker pool, SendMail, the SMTP mailer, smtp-server.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createSmtpMailer } from '../../adapters/mail/smtp.adapter.js';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioLibrary } from '../../engine/index.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import type { JobStatus } from '../../server/store/store.port.js';
import { tempDir } from '../helpers.js';
import { smtpError, startSmtpServer } from '../mail/smtp-server.helper.js';
import { runCli, type CliResult } from './cli.helper.js';
import { mailPool } from '../delivery/pool.helper.js';

const ONE_LETTER = `start: send
blocks:
  send:
    kind: SendMail
    to: '"ivan@example.com"'
    subject: '"письмо"'
    text: '"t"'
    exits: { success: sent }
  sent:
    kind: ReturnValue
    values: { 1: '"sent"' }
`;

const until = async (what: string, ok: () => boolean, ms = 15_000) => {
  for (let i = 0; i < ms / 20 && !ok(); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(ok(), what);
};

/**
 * Three dead jobs in `<data>/oktell.sqlite`, made one after the other: the first and third letters are received and
 * never answered (dead at once, R_EFFECT_UNKNOWN), the second is refused for now (451) on the job's only attempt.
 */
async function deadLetters(data: string, scenarios: string): Promise<{ unknown1: string; refused: string; unknown2: string }> {
  const smtp = await startSmtpServer({ afterData: (n) => (n === 2 ? 'answer' : 'silent'), data: (n) => (n === 2 ? smtpError(451, 'try again later') : undefined) });
  const lib = await loadScenarioLibrary(scenarios, { registry: defaultRegistry });
  assert.deepEqual(lib.issues, []);
  const store = await openSqliteStore({ file: join(data, 'oktell.sqlite'), defaultMaxAttempts: 1 });
  const mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${smtp.port}`, from: 'robot@example.com', retry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 10 }, socketTimeoutMs: 200, dataTimeoutMs: 400 });
  const ended: string[] = [];
  const pool = mailPool(store, lib, mailer, {
    onAttempt: (_job, _result, outcome) => void ended.push(outcome),
  });
  try {
    pool.start();
    const ids: string[] = [];
    for (let n = 1; n <= 3; n++) {
      const [id] = await store.enqueueJobs([{ scenario: 'OneLetter', params: {} }]);
      ids.push(id!);
      pool.wake();
      await until(`job ${n} ended`, () => ended.length === n);
    }
    assert.deepEqual(ended, ['dead', 'dead', 'dead']);
    const codes = await Promise.all(ids.map(async (id) => ((await store.getJob(id))!.lastError as { code?: string }).code));
    assert.deepEqual(codes.map((c) => c === 'R_EFFECT_UNKNOWN'), [true, false, true], `the jobs' errors: ${codes.join(', ')}`);
    assert.equal(smtp.counts.data, 3);
    return { unknown1: ids[0]!, refused: ids[1]!, unknown2: ids[2]! };
  } finally {
    await pool.stop(1000);
    await mailer.close();
    await smtp.close();
    await store.close();
  }
}

describe('replay --status dead with dead letters of unknown outcome (SQLite)', { timeout: 120_000 }, () => {
  const tmp = tempDir();
  const data = join(tmp.dir, 'data');
  const scenarios = join(tmp.dir, 'scenarios');
  let jobs: { unknown1: string; refused: string; unknown2: string };
  const cli = (...args: string[]): CliResult => runCli([...args, '--data-dir', data], { cwd: tmp.dir, unset: ['OKTELL_STORE', 'OKTELL_CONFIG', 'OKTELL_DATA_DIR'] });
  const statuses = async (): Promise<Record<string, JobStatus>> => {
    const store = await openSqliteStore({ file: join(data, 'oktell.sqlite') });
    try {
      const out: Record<string, JobStatus> = {};
      for (const [name, id] of Object.entries(jobs)) out[name] = (await store.getJob(id))!.status;
      return out;
    } finally {
      await store.close();
    }
  };

  before(async () => {
    mkdirSync(data, { mode: 0o700 });
    mkdirSync(scenarios);
    writeFileSync(join(scenarios, 'OneLetter.yaml'), ONE_LETTER);
    jobs = await deadLetters(data, scenarios);
  });
  after(() => tmp.cleanup());

  it('the bulk form requeues the others, leaves those of unknown outcome with the command for each, and exits 1', async () => {
    const r = cli('replay', '--status', 'dead');
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, `requeued 1 job(s): ${jobs.refused}\n`);
    const lines = r.stderr.split('\n');
    assert.match(lines[0]!, /^oktell-emu: warning: left out 2 dead job\(s\) of unknown outcome \(R_EFFECT_UNKNOWN: a letter the mail server never confirmed, which may have been delivered, .*\): a replay would do it again\. Check each first \(npx oktell-emu show <job id> --data-dir \S+ names the letter and its Message-ID\), then replay each one that did not arrive:$/);
    const perId = lines.filter((l) => l.startsWith('  npx oktell-emu replay '));
    assert.deepEqual(perId.map((l) => l.replace(/\s+#.*$/, '')).sort(), [jobs.unknown1, jobs.unknown2].map((id) => `  npx oktell-emu replay ${id} --data-dir ${data}`).sort());
    assert.ok(perId.every((l) => l.endsWith('# OneLetter')), r.stderr);
    assert.ok(lines.includes(`or all of them with: npx oktell-emu replay --status dead --include-unknown --data-dir ${data}`), r.stderr);
    assert.deepEqual(await statuses(), { unknown1: 'dead', refused: 'queued', unknown2: 'dead' });

    // Run again: nothing else to requeue, said as such (not "nothing to replay"), and still exit 1 with the two listed.
    const again = cli('replay', '--status', 'dead', '--json');
    assert.equal(again.code, 1, again.stderr);
    assert.equal(again.stdout, '[]\n');
    assert.match(again.stderr, /left out 2 dead job\(s\) of unknown outcome/);
  });

  it('a replay by id replays one of them, with a warning; --include-unknown replays the rest', async () => {
    const one = cli('replay', jobs.unknown1);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(one.stdout, `requeued 1 job(s): ${jobs.unknown1}\n`);
    assert.match(one.stderr, new RegExp(`^oktell-emu: warning: job ${jobs.unknown1} \\(OneLetter\\) ended with an effect of unknown outcome \\(R_EFFECT_UNKNOWN: .*\\): replayed as asked, so it is done again\\n`));
    assert.equal((await statuses()).unknown1, 'queued');

    assert.equal(cli('replay', '--include-unknown').code, 2, '--include-unknown alone is a usage error');
    const all = cli('replay', '--status', 'dead', '--include-unknown');
    assert.equal(all.code, 0, all.stderr);
    assert.equal(all.stdout, `requeued 1 job(s): ${jobs.unknown2}\n`);
    assert.doesNotMatch(all.stderr, /left out/);
    assert.deepEqual(await statuses(), { unknown1: 'queued', refused: 'queued', unknown2: 'queued' });
  });
});
