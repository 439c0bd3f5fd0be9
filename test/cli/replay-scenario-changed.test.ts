// `replay --status failed` on a SQLite store whose failed jobs include some that stopped with R_SCENARIO_CHANGED: an
// earlier attempt sent a letter, then an upgrade renamed that letter's block, so the retry stopped before its first
// effect rather than send the letter again. Replaying such a job on the version loaded now sends that letter a second
// time, which is the operator's decision for each: the bulk form requeues the other failed jobs and leaves those,
// saying how many, why, the command that replays each and the flag that takes them all (exit 1); --include-changed
// takes them; a replay by id replays one as before. The jobs are made by the real delivery path: worker pool,
// SendMail, the SMTP mailer, smtp-server on loopback, the scenario files loaded before and after the edit; the store is
// SQLite, and PostgreSQL when OKTELL_TEST_PG_URL is set.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createSmtpMailer } from '../../adapters/mail/smtp.adapter.js';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioLibrary, type ScenarioLibrary } from '../../engine/index.js';
import type { BackoffPolicy } from '../../server/store/backoff.js';
import { openPostgresStore } from '../../server/store/postgres.store.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import type { JobStatus, Store } from '../../server/store/store.port.js';
import { tempDir } from '../helpers.js';
import { smtpError, startSmtpServer, type TestSmtpServer } from '../mail/smtp-server.helper.js';
import { mailPool } from '../delivery/pool.helper.js';
import { dropSchema, randomSchemaName, testPostgres, urlWithSchema } from '../store/postgres.helper.js';
import { runCli, type CliResult } from './cli.helper.js';

/** A letter to Ivan, then one to a mailbox the server refuses for now (451), then an answer. */
const LETTERS = `start: first
blocks:
  first:
    kind: SendMail
    to: '"ivan@example.com"'
    subject: '"первое"'
    text: '"t"'
    exits: { success: second }
  second:
    kind: SendMail
    to: '"later@example.com"'
    subject: '"второе"'
    text: '"t"'
    exits: { success: sent }
  sent:
    kind: ReturnValue
    values: { 1: '"sent"' }
`;

/** The upgrade: the first letter's block renamed, nothing else. */
const RENAMED = LETTERS.replace('start: first', 'start: firstMail').replace('  first:\n', '  firstMail:\n');

/** A letter to a mailbox the server refuses for good (550): the job fails, not retried, for another reason. */
const REFUSED = `start: send
blocks:
  send:
    kind: SendMail
    to: '"nobody@example.com"'
    subject: '"никому"'
    text: '"t"'
    exits: { success: sent }
  sent:
    kind: ReturnValue
    values: { 1: '"sent"' }
`;

/** Retries come due at once. */
const QUICK: BackoffPolicy = { initialMs: 20, factor: 1, maxMs: 20, jitter: 0 };

const until = async (what: string, ok: () => boolean | Promise<boolean>, ms = 20_000) => {
  for (let i = 0; i < ms / 20; i++) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(what);
};

async function statusesOf(store: Store, ids: Record<string, string>): Promise<Record<string, JobStatus | undefined>> {
  const out: Record<string, JobStatus | undefined> = {};
  for (const [name, id] of Object.entries(ids)) out[name] = (await store.getJob(id))?.status;
  return out;
}

/** Runs the store's queued jobs on a pool with this library until `done` says so. */
async function runPool(store: Store, lib: ScenarioLibrary, smtp: TestSmtpServer, done: () => Promise<boolean>, what: string): Promise<void> {
  const mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${smtp.port}`, from: 'robot@example.com', retry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 10 } });
  const pool = mailPool(store, lib, mailer);
  try {
    pool.start();
    await until(what, done);
  } finally {
    // Each attempt in hand is let end (a 451, at once), so no job is left running under a lease when the pool stops:
    // with a 1 s grace a loaded machine could leave one running on PostgreSQL, where a stop does not give jobs back.
    await pool.stop(10_000);
    await mailer.close();
  }
}

/**
 * In the store: two jobs of Letters failed with R_SCENARIO_CHANGED (first letter sent, the second refused
 * for now, then the first letter's block renamed), and one job of Refused failed for good (550).
 */
async function failedJobs(store: Store, scenarios: string): Promise<{ changed1: string; refused: string; changed2: string }> {
  const smtp = await startSmtpServer({
    rcpt: (address) => (address === 'later@example.com' ? smtpError(451, 'try again later') : address === 'nobody@example.com' ? smtpError(550, 'no such mailbox') : undefined),
  });
  try {
    const load = async () => {
      const lib = await loadScenarioLibrary(scenarios, { registry: defaultRegistry });
      assert.deepEqual(lib.issues, []);
      return lib;
    };
    const [changed1, refused, changed2] = await store.enqueueJobs([
      { scenario: 'Letters', params: {} },
      { scenario: 'Refused', params: {} },
      { scenario: 'Letters', params: {} },
    ]);
    const ids = { changed1: changed1!, refused: refused!, changed2: changed2! };
    // Version 1: each Letters job sends its first letter and waits for a retry (as often as the pool gets to it: the
    // journal keeps the first letter from being sent again); Refused fails for good.
    await runPool(store, await load(), smtp, async () => {
      const s = await statusesOf(store, ids);
      return s.refused === 'failed' && (await Promise.all([ids.changed1, ids.changed2].map(async (id) => (await store.getJob(id))!.attempts >= 1))).every(Boolean);
    }, 'the first attempts ended');
    assert.deepEqual(await statusesOf(store, ids), { changed1: 'queued', refused: 'failed', changed2: 'queued' });
    // The upgrade renames the first letter's block: the retries stop before their first effect.
    writeFileSync(join(scenarios, 'Letters.yaml'), RENAMED);
    await runPool(store, await load(), smtp, async () => Object.values(await statusesOf(store, ids)).every((s) => s === 'failed'), 'the retries ended');
    const codes = await Promise.all(Object.values(ids).map(async (id) => ((await store.getJob(id))!.lastError as { code?: string }).code));
    assert.deepEqual(codes, ['R_SCENARIO_CHANGED', 'R_EFFECT_PERMANENT', 'R_SCENARIO_CHANGED']);
    assert.equal(smtp.letters.length, 2, 'one first letter per Letters job, none sent again');
    return ids;
  } finally {
    await smtp.close();
  }
}

type StoreKind = {
  name: string;
  skip?: string;
  /** The store the jobs are made in, opened with quick retries and many attempts. */
  open(data: string): Promise<Store>;
  /** The store as the CLI reaches it: its environment, and the --data-dir the printed commands carry. */
  cliEnv(data: string): Record<string, string>;
  dirFlag(data: string): string;
  drop(): Promise<void>;
};

const pg = await testPostgres();
const schema = randomSchemaName('replaychanged');
const STORES: StoreKind[] = [
  {
    name: 'SQLite',
    open: (data) => openSqliteStore({ file: join(data, 'oktell.sqlite'), backoff: QUICK, defaultMaxAttempts: 50 }),
    cliEnv: () => ({}),
    dirFlag: (data) => ` --data-dir ${data}`,
    drop: async () => undefined,
  },
  {
    name: 'PostgreSQL',
    ...(pg.skip ? { skip: pg.skip } : {}),
    open: () => openPostgresStore({ url: urlWithSchema(pg.url!, schema), poolSize: 4, backoff: QUICK, defaultMaxAttempts: 50 }),
    cliEnv: () => ({ OKTELL_STORE: urlWithSchema(pg.url!, schema) }),
    dirFlag: () => '',
    drop: () => dropSchema(pg.url!, schema),
  },
];

for (const kind of STORES) {
  describe(`replay --status failed with jobs stopped by a scenario change (${kind.name})`, { timeout: 120_000, ...(kind.skip ? { skip: kind.skip } : {}) }, () => {
    const tmp = tempDir();
    const data = join(tmp.dir, 'data');
    const scenarios = join(tmp.dir, 'scenarios');
    const dirFlag = kind.dirFlag(data);
    let jobs: { changed1: string; refused: string; changed2: string };
    const env = kind.cliEnv(data);
    const cli = (...args: string[]): CliResult => runCli([...args, '--data-dir', data], { cwd: tmp.dir, env, unset: ['OKTELL_STORE', 'OKTELL_CONFIG', 'OKTELL_DATA_DIR'].filter((k) => !(k in env)) });
    const statuses = async () => {
      const store = await kind.open(data);
      try {
        return await statusesOf(store, jobs);
      } finally {
        await store.close();
      }
    };

    before(async () => {
      mkdirSync(data, { mode: 0o700 });
      mkdirSync(scenarios);
      writeFileSync(join(scenarios, 'Letters.yaml'), LETTERS);
      writeFileSync(join(scenarios, 'Refused.yaml'), REFUSED);
      const store = await kind.open(data);
      try {
        jobs = await failedJobs(store, scenarios);
      } finally {
        await store.close();
      }
    });
    after(async () => {
      await kind.drop();
      tmp.cleanup();
    });

    it('the bulk form requeues the others, leaves those whose scenario changed with the command for each, and exits 1', async () => {
      const r = cli('replay', '--status', 'failed');
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stdout, `requeued 1 job(s): ${jobs.refused}\n`);
      const lines = r.stderr.split('\n');
      assert.match(lines[0]!, /^oktell-emu: warning: left out 2 failed job\(s\) whose scenario changed since an earlier attempt made effects \(R_SCENARIO_CHANGED: .*\): replayed on the version loaded now, they make the effects of the renamed blocks again \(a letter sent twice\)\. Check each first \(npx oktell-emu show <job id>.* names its version then and now\), then restore the version it ran and replay it, or replay it as it is:$/);
      assert.ok(lines[0]!.includes(`show <job id>${dirFlag} names`), lines[0]);
      const perId = lines.filter((l) => l.startsWith('  npx oktell-emu replay '));
      assert.deepEqual(perId.map((l) => l.replace(/\s+#.*$/, '')).sort(), [jobs.changed1, jobs.changed2].map((id) => `  npx oktell-emu replay ${id}${dirFlag}`).sort());
      assert.ok(perId.every((l) => l.endsWith('# Letters')), r.stderr);
      assert.ok(lines.includes(`or all of them with: npx oktell-emu replay --status failed --include-changed${dirFlag}`), r.stderr);
      assert.doesNotMatch(r.stderr, /unknown outcome/);
      assert.deepEqual(await statuses(), { changed1: 'failed', refused: 'queued', changed2: 'failed' });

      // Run again: nothing else to requeue, said as such, still exit 1 with the two listed.
      const again = cli('replay', '--status', 'failed');
      assert.equal(again.code, 1, again.stderr);
      assert.equal(again.stdout, 'nothing requeued: every failed job left stopped because its scenario changed (R_SCENARIO_CHANGED)\n');
      assert.match(again.stderr, /left out 2 failed job\(s\) whose scenario changed/);
      const json = cli('replay', '--status', 'failed', '--json');
      assert.equal(json.code, 1, json.stderr);
      assert.equal(json.stdout, '[]\n');
    });

    it('a replay by id replays one of them as before; --include-changed replays the rest', async () => {
      const one = cli('replay', jobs.changed1);
      assert.equal(one.code, 0, one.stderr);
      assert.equal(one.stdout, `requeued 1 job(s): ${jobs.changed1}\n`);
      assert.equal((await statuses()).changed1, 'queued');

      assert.equal(cli('replay', '--include-changed').code, 2, '--include-changed alone is a usage error');
      const all = cli('replay', '--status', 'failed', '--include-changed');
      assert.equal(all.code, 0, all.stderr);
      assert.equal(all.stdout, `requeued 1 job(s): ${jobs.changed2}\n`);
      assert.doesNotMatch(all.stderr, /left out/);
      assert.deepEqual(await statuses(), { changed1: 'queued', refused: 'queued', changed2: 'queued' });
    });
  });
}
