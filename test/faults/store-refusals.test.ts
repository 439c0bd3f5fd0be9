// A store that cannot take writes, as an operator meets it (trial 46): the log names the cause when webhooks are
// refused (their request lines say only 503) and says when they are stored again; a store the server cannot open or
// write at the start (a read-only folder, a full disk, a file in the way) stops it with one line naming the file and
// what to check, not the SQLite driver's stack trace.
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../cli/cli.helper.js';
import { tempDir } from '../helpers.js';
import { recoveryRefusal } from '../../server/serve.js';
import { StoreUnavailableError } from '../../server/store/store.errors.js';
import { StoreOpenError } from '../../server/store/store-open.js';
import { AUTH, BPIUM_READ_SCENARIO, capturingLogger, postWebhook, startTestServer, taskWebhook, waitFor } from '../server/server-helpers.js';
import pg from 'pg';
import { Metrics } from '../../server/metrics.js';
import { noteStoreRefusal, noteStoreTakesWrites } from '../../server/store-refusal.js';
import { classifyPgError } from '../../server/store/postgres.batcher.js';
import { testPostgres } from '../store/postgres.helper.js';
import { shellWord } from '../../cli/shell-word.js';

describe('a store that refuses writes, in the log', () => {
  it('a full store: the first refused webhook logs a warning naming the reason and what to check; the next ones add no line', { timeout: 60_000 }, async () => {
    const log = capturingLogger();
    const t = await startTestServer({ smtp: false, logger: log.logger, env: { OKTELL_STORE_MAX_PAGES: '90' } });
    try {
      const padding = 'x'.repeat(12_000);
      let refused = 0;
      for (let i = 0; i < 200 && refused < 4; i++) {
        const res = await postWebhook(t.server.url, taskWebhook({ name: `квота ${i}`, description: padding, responsible: ['2'], sequenceId: 71_000 + i }), t.secret);
        if (res.status === 503) refused++;
        else assert.equal(res.status, 200, await res.text());
      }
      assert.equal(refused, 4, 'the quota was reached');
      const lines = log.lines.filter((l) => /refused with 503/.test(l.msg ?? ''));
      assert.equal(lines.length, 1, `one line for four refusals: ${JSON.stringify(lines)}`);
      assert.equal(lines[0]!.level, 'warn');
      assert.equal(lines[0]!.obj.reason, 'full');
      const dir = shellWord(t.dataDir);
      assert.equal(
        lines[0]!.msg!,
        `webhook refused with 503 and Retry-After: the store cannot take writes (full): nothing of it was stored, so its sender must send it again; the disk holding the data folder ${t.dataDir} is full (or the store is at OKTELL_STORE_MAX_PAGES): free space there (df -h ${dir} for room, df -i ${dir} for files) or raise OKTELL_STORE_MAX_PAGES`,
      );
      assert.match(String(lines[0]!.obj.error), /./, 'the store’s own error is in the line');
    } finally {
      await t.cleanup();
    }
  });

  it('a store locked by another program: the refusal is logged with its reason, and the first webhook stored after it says the refusals are over', { timeout: 60_000 }, async () => {
    const log = capturingLogger();
    const t = await startTestServer({ smtp: false, logger: log.logger });
    const other = new Database(join(t.dataDir, 'oktell.sqlite'));
    try {
      other.exec('BEGIN IMMEDIATE');
      const locked = await postWebhook(t.server.url, taskWebhook({ name: 'заперто', responsible: ['2'], sequenceId: 72_001 }), t.secret);
      assert.equal(locked.status, 503);
      const warning = log.lines.find((l) => /refused with 503/.test(l.msg ?? ''));
      assert.equal(warning?.obj.reason, 'busy', JSON.stringify(log.lines.map((l) => l.msg)));
      assert.match(warning!.msg!, /the store cannot take writes \(busy\): .*another program holds a lock on the store \(a sqlite3 shell, a backup\): end it$/);
      other.exec('ROLLBACK');
      const stored = await postWebhook(t.server.url, taskWebhook({ name: 'снова', responsible: ['2'], sequenceId: 72_002 }), t.secret);
      assert.equal(stored.status, 200);
      const again = log.lines.filter((l) => /^the store takes writes again/.test(l.msg ?? ''));
      assert.equal(again.length, 1);
      assert.equal(again[0]!.level, 'info');
      assert.match(again[0]!.msg!, /webhooks are stored and acknowledged \(1 request\(s\) were refused with 503 before\)$/);
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
      await t.cleanup();
    }
  });

  it('a Web-API start stored after the refusals also says they are over (not only the next webhook)', { timeout: 60_000 }, async () => {
    const log = capturingLogger();
    const t = await startTestServer({ smtp: false, logger: log.logger });
    const other = new Database(join(t.dataDir, 'oktell.sqlite'));
    try {
      other.exec('BEGIN IMMEDIATE');
      const locked = await fetch(`${t.server.url}/execsvcscript?name=BpiumNewTask&async=1`, { headers: { authorization: AUTH } });
      assert.equal(locked.status, 503);
      assert.equal(log.lines.filter((l) => /^run refused with 503/.test(l.msg ?? '')).length, 1, JSON.stringify(log.lines.map((l) => l.msg)));
      other.exec('ROLLBACK');
      const started = await fetch(`${t.server.url}/execsvcscript?name=BpiumNewTask&async=1`, { headers: { authorization: AUTH } });
      assert.equal(started.status, 200, await started.text());
      const again = log.lines.filter((l) => /^the store takes writes again/.test(l.msg ?? ''));
      assert.equal(again.length, 1, JSON.stringify(log.lines.map((l) => l.msg)));
      assert.match(again[0]!.msg!, /\(1 request\(s\) were refused with 503 before\)$/);
      assert.equal(t.server.metrics.storeRefused, undefined, '/-/health no longer reports the refusal');
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
      await t.cleanup();
    }
  });

  it('a full store names its data folder in df commands that paste as they are (quoted), and PostgreSQL its own host', () => {
    const lines: Array<{ msg: string }> = [];
    const at = () => (_obj: Record<string, unknown>, msg: string) => lines.push({ msg });
    const logger = { debug: at(), info: at(), warn: at(), error: at(), child: () => logger } as never;
    const full = new StoreUnavailableError('full', 'database or disk is full', 5);
    const dataDir = "/srv/oktell data/it's";
    noteStoreRefusal({ metrics: new Metrics(), logger, config: { store: { kind: 'sqlite' }, dataDir } }, full, 'webhook', 1);
    assert.match(lines[0]!.msg, /; the disk holding the data folder \/srv\/oktell data\/it's is full \(or the store is at OKTELL_STORE_MAX_PAGES\): free space there \(df -h '\/srv\/oktell data\/it'\\''s' for room, df -i '\/srv\/oktell data\/it'\\''s' for files\) or raise OKTELL_STORE_MAX_PAGES$/);
    noteStoreRefusal({ metrics: new Metrics(), logger, config: { store: { kind: 'postgres' }, dataDir } }, full, 'webhook', 1);
    assert.match(lines[1]!.msg, /; the disk of the PostgreSQL server is full \(53100\): free space on the database's host$/);
  });

  it('a refusal that goes on is said again after 30 s with the count refused meanwhile, and a new reason that lasts within 5 s', () => {
    const metrics = new Metrics();
    const lines: Array<{ level: string; msg: string; obj: Record<string, unknown> }> = [];
    const at = (level: string) => (obj: Record<string, unknown>, msg: string) => lines.push({ level, msg, obj });
    const logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger } as never;
    const d = { metrics, logger, config: { store: { kind: 'sqlite' } } };
    const full = new StoreUnavailableError('full', 'database or disk is full', 5);
    const t0 = 1_000_000;
    noteStoreRefusal(d, full, 'webhook', t0);
    for (let i = 1; i <= 5; i++) noteStoreRefusal(d, full, 'webhook', t0 + i * 5_000);
    assert.equal(lines.length, 1, 'five more within 30 s: no line');
    noteStoreRefusal(d, full, 'webhook', t0 + 30_000);
    assert.equal(lines.length, 2);
    assert.match(lines[1]!.msg, /must send it again \(5 more refused since the last such line\); the disk holding/);
    assert.equal(lines[1]!.obj.refused, 7);
    // Another reason is said by its first refusal 5 s or more after the last line (one within 5 s is folded into it).
    noteStoreRefusal(d, new StoreUnavailableError('busy', 'database is locked', 1), 'webhook', t0 + 31_000);
    assert.equal(lines.length, 2);
    assert.equal(metrics.storeRefused?.reason, 'busy', '/-/health says the latest reason');
    noteStoreRefusal(d, new StoreUnavailableError('busy', 'database is locked', 1), 'webhook', t0 + 35_000);
    assert.equal(lines.length, 3);
    assert.match(lines[2]!.msg, /\(busy\): .*\(1 more refused since the last such line\); another program .*end it$/);
    assert.equal(metrics.unavailable, 9);
  });

  it('a PostgreSQL that crashes (full, io, full, io within 0.1 s) gives one warning, then one for the reason that lasts, naming the others', () => {
    const metrics = new Metrics();
    const lines: Array<{ level: string; msg: string; obj: Record<string, unknown> }> = [];
    const at = (level: string) => (obj: Record<string, unknown>, msg: string) => lines.push({ level, msg, obj });
    const logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger } as never;
    const d = { metrics, logger, config: { store: { kind: 'postgres' } } };
    const full = new StoreUnavailableError('full', 'database unavailable (53100): could not extend file', 30);
    const io = new StoreUnavailableError('io', 'database unavailable (ECONNREFUSED): connect ECONNREFUSED 127.0.0.1:5432', 5);
    const t0 = 3_000_000;
    const crash = [full, io, full, io, full, io];
    crash.forEach((err, i) => noteStoreRefusal(d, err, 'webhook', t0 + i * 20));
    assert.deepEqual(lines.map((l) => [l.level, l.obj.reason]), [['warn', 'full']], `one line for the flips: ${JSON.stringify(lines)}`);
    assert.equal(metrics.storeRefused?.reason, 'io', '/-/health says the latest reason');
    // The database stays down: its reason is said 5 s after the first line, with the flips counted.
    noteStoreRefusal(d, io, 'webhook', t0 + 4_000);
    assert.equal(lines.length, 1);
    noteStoreRefusal(d, io, 'webhook', t0 + 5_000);
    assert.deepEqual(lines.map((l) => [l.level, l.obj.reason]), [['warn', 'full'], ['warn', 'io']]);
    assert.match(lines[1]!.msg, /cannot take writes \(io\): .*\(6 more refused since the last such line, some of them as full\); the connection to PostgreSQL failed/);
    assert.equal(lines[1]!.obj.refused, 8);
    // And then the same reason is said again only after 30 s, as for any spell.
    noteStoreRefusal(d, io, 'webhook', t0 + 20_000);
    assert.equal(lines.length, 2);
    noteStoreRefusal(d, io, 'webhook', t0 + 35_000);
    assert.equal(lines.length, 3);
    assert.match(lines[2]!.msg, /\(1 more refused since the last such line\); the connection/);
  });

  for (const thread of [false, true]) {
    it(`the end of a job stored after the refusals says they are over when no webhook comes (delivery ${thread ? 'on its own thread' : 'on the main thread'})`, { timeout: 60_000 }, async () => {
      const log = capturingLogger();
      const t = await startTestServer({ smtp: false, logger: log.logger, env: thread ? { OKTELL_DELIVERY_THREAD: 'on' } : {}, extraScenarios: { 'SlowRead.yaml': BPIUM_READ_SCENARIO } });
      const other = new Database(join(t.dataDir, 'oktell.sqlite'));
      try {
        // A job whose read of Bpium is held up: it ends after the lock is gone, and its end is the next write stored.
        t.server.emulator!.injectFaults({ delayMs: 4000, times: 1, method: 'GET', pathPrefix: '/api/v1/catalogs/3' });
        const started = await fetch(`${t.server.url}/execsvcscript?name=SlowRead&async=1`, { headers: { authorization: AUTH } });
        assert.equal(started.status, 200);
        const jobId = started.headers.get('x-oktell-run-id')!;
        await waitFor('the job runs', async () => (await t.server.store.getJob(jobId))?.status === 'running');
        other.exec('BEGIN IMMEDIATE');
        const locked = await postWebhook(t.server.url, taskWebhook({ name: 'заперто', responsible: ['2'], sequenceId: 73_001 }), t.secret);
        assert.equal(locked.status, 503);
        other.exec('ROLLBACK');
        assert.equal((await t.server.store.getJob(jobId))?.status, 'running', 'the job was still running when the lock went');
        await waitFor('the job ended', async () => (await t.server.store.getJob(jobId))?.status === 'succeeded', 15_000);
        const again = await waitFor('the line saying the refusals are over', () => log.lines.find((l) => /^the store takes writes again/.test(l.msg ?? '')), 5000);
        assert.equal(again.level, 'info');
        assert.equal(again.msg, 'the store takes writes again: the end of a job was stored, so webhooks can be stored and acknowledged again (1 request(s) were refused with 503 before)');
        assert.equal(t.server.metrics.storeRefused, undefined, '/-/health no longer reports the refusal');
        // The next webhook is stored without a second such line.
        const stored = await postWebhook(t.server.url, taskWebhook({ name: 'снова', responsible: ['2'], sequenceId: 73_002 }), t.secret);
        assert.equal(stored.status, 200);
        assert.equal(log.lines.filter((l) => /^the store takes writes again/.test(l.msg ?? '')).length, 1);
      } finally {
        if (other.inTransaction) other.exec('ROLLBACK');
        other.close();
        await t.cleanup();
      }
    });
  }

  it("a service task's due time stored after the refusals says they are over when no webhook comes", { timeout: 60_000 }, async () => {
    const log = capturingLogger();
    const t = await startTestServer({ smtp: false, logger: log.logger, extraScenarios: { 'SlowRead.yaml': BPIUM_READ_SCENARIO }, config: 'serviceTasks:\n  - { name: tick, scenario: SlowRead, cron: "* * * * * *", timeZone: UTC }\n' });
    const other = new Database(join(t.dataDir, 'oktell.sqlite'));
    try {
      // Its runs' reads are held up well past the test's window: no job ends in it, so the next due time marked is the
      // first write stored after the lock.
      t.server.emulator!.injectFaults({ delayMs: 10_000, times: 100, method: 'GET', pathPrefix: '/api/v1/catalogs/3' });
      await waitFor('a run of the task is running', async () => (await t.server.store.listJobs({ task: 'tick', limit: 5 })).items.some((j) => j.status === 'running'));
      other.exec('BEGIN IMMEDIATE');
      const locked = await postWebhook(t.server.url, taskWebhook({ name: 'заперто', responsible: ['2'], sequenceId: 74_001 }), t.secret);
      assert.equal(locked.status, 503);
      other.exec('ROLLBACK');
      const again = await waitFor('the line saying the refusals are over', () => log.lines.find((l) => /^the store takes writes again/.test(l.msg ?? '')), 5000);
      assert.equal(again.msg, "the store takes writes again: a service task's due time was stored, so webhooks can be stored and acknowledged again (1 request(s) were refused with 503 before)");
      assert.equal(t.server.metrics.storeRefused, undefined);
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
      t.server.emulator?.clearFaults();
      await t.cleanup();
    }
  });

  it('refusals that come back soon after a write ended them (a nearly full disk) are one spell: at most one warning and one end line every 30 s', () => {
    const metrics = new Metrics();
    const lines: Array<{ level: string; msg: string; obj: Record<string, unknown> }> = [];
    const at = (level: string) => (obj: Record<string, unknown>, msg: string) => lines.push({ level, msg, obj });
    const logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger } as never;
    const d = { metrics, logger, config: { store: { kind: 'sqlite' } } };
    const full = new StoreUnavailableError('full', 'database or disk is full', 5);
    const t0 = 2_000_000;
    noteStoreRefusal(d, full, 'webhook', t0);
    noteStoreTakesWrites(d, 'the end of a job');
    assert.deepEqual(lines.map((l) => l.level), ['warn', 'info']);
    // A small write fits, a webhook does not: refused again and again, each time after another job's end.
    for (let i = 1; i <= 4; i++) {
      noteStoreRefusal(d, full, 'webhook', t0 + i * 5_000);
      assert.ok(metrics.storeRefused, '/-/health reports the refusal again');
      noteStoreTakesWrites(d, 'the end of a job');
    }
    assert.deepEqual(lines.map((l) => l.level), ['warn', 'info'], 'within 30 s of the warning: no more lines');
    noteStoreRefusal(d, full, 'webhook', t0 + 30_000);
    assert.deepEqual(lines.map((l) => l.level), ['warn', 'info', 'warn']);
    assert.match(lines[2]!.msg, /must send it again \(4 more refused since the last such line\)/);
    assert.equal(lines[2]!.obj.refused, 6);
    noteStoreTakesWrites(d, 'the end of a job');
    assert.deepEqual(lines.map((l) => l.level), ['warn', 'info', 'warn', 'info']);
    assert.match(lines[3]!.msg, /\(6 request\(s\) were refused with 503 before\)$/);
    // Another reason is a new spell, said at once.
    noteStoreRefusal(d, new StoreUnavailableError('busy', 'database is locked', 1), 'webhook', t0 + 31_000);
    assert.equal(lines.length, 5);
    assert.match(lines[4]!.msg, /\(busy\)/);
  });
});

describe('a PostgreSQL store that refuses writes, in the log', () => {
  it('names what to check on PostgreSQL, not the SQLite file, folder or lock', async (t) => {
    const at = await testPostgres();
    if (at.skip !== undefined) return t.skip(at.skip);
    // PostgreSQL's own refusal of a write (25006, as a standby answers), classified as the store classifies it.
    const client = new pg.Client({ connectionString: at.url });
    await client.connect();
    let refusal: unknown;
    try {
      await client.query('BEGIN READ ONLY');
      await client.query('CREATE TABLE oktell_refusal_probe (id int)').catch((e: unknown) => void (refusal = classifyPgError(e)));
      await client.query('ROLLBACK');
    } finally {
      await client.end();
    }
    assert.ok(refusal instanceof StoreUnavailableError, String(refusal));
    assert.equal(refusal.reason, 'readonly');
    const log = capturingLogger();
    noteStoreRefusal({ metrics: new Metrics(), logger: log.logger, config: { store: { kind: 'postgres' } } }, refusal, 'webhook');
    assert.equal(log.lines.length, 1);
    assert.match(log.lines[0]!.msg!, /the store cannot take writes \(readonly\): .*; PostgreSQL refuses writes \(25006: a standby, or default_transaction_read_only\): point OKTELL_STORE at the primary$/);
    assert.doesNotMatch(log.lines[0]!.msg!, /chattr|store file|folder/);
  });
});

describe('a store the server cannot open or write at the start', () => {
  it('serve stops with one line naming the file and what to check, exit 1, not a stack trace', { timeout: 60_000 }, () => {
    const tmp = tempDir();
    try {
      const dataDir = join(tmp.dir, 'var');
      // SQLite cannot make its shared-memory file where a folder stands in its way: the same refusal as a read-only
      // mount or a file made immutable, which a test cannot make without root.
      mkdirSync(join(dataDir, 'oktell.sqlite-shm'), { recursive: true });
      const r = runCli(['serve', '--port', '0', '--host', '127.0.0.1', '--bpium-emulator-port', '0', '--data-dir', dataDir], { env: { OKTELL_USERS: 'ops:pw' }, timeoutMs: 30_000 });
      assert.equal(r.code, 1, r.stderr);
      const file = join(dataDir, 'oktell.sqlite');
      assert.match(r.stderr, new RegExp(`^oktell-emu: cannot open the store ${file.replace(/[.\\/]/g, '\\$&')}: .* \\(SQLITE_[A-Z_]+\\): the server writes the file and its -wal and -shm beside it, and creates them in .*: check that none of them is read-only \\(chmod, chattr \\+i, a read-only mount\\) or other than a plain file, and start again; nothing stored is lost\\n$`));
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    } finally {
      tmp.cleanup();
    }
  });

  it('a store file that opens but refuses the first write (chattr +i, a full disk): the same line, naming the file', () => {
    const sqlite = Object.assign(new Error('attempt to write a readonly database'), { code: 'SQLITE_READONLY' });
    const e = recoveryRefusal(new StoreUnavailableError('readonly', 'database unavailable (SQLITE_READONLY): attempt to write a readonly database', 30, { cause: sqlite }), '/srv/var/oktell.sqlite', undefined);
    assert.ok(e instanceof StoreOpenError);
    assert.match(e.message, /^cannot open the store \/srv\/var\/oktell\.sqlite: attempt to write a readonly database \(SQLITE_READONLY\): /);
    const full = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    const f = recoveryRefusal(new StoreUnavailableError('full', 'database unavailable (SQLITE_FULL): database or disk is full', 30, { cause: full }), '/srv/var/oktell.sqlite', undefined) as Error;
    assert.match(f.message, /^cannot open the store \/srv\/var\/oktell\.sqlite: database or disk is full \(SQLITE_FULL\): the disk holding \/srv\/var is full: free space there \(df -h \/srv\/var for room, df -i \/srv\/var for files\) and start again; nothing stored is lost$/);
    // SQLite says a user's quota exceeded (EDQUOT) as an I/O error, without the errno: the line names the quota to check,
    // and does not call the disk full (this folder is not on a full disk).
    const ioerr = Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_WRITE' });
    const io = recoveryRefusal(new StoreUnavailableError('io', 'database unavailable (SQLITE_IOERR_WRITE): disk I/O error', 30, { cause: ioerr }), '/nonexistent-oktell/var/oktell.sqlite', undefined) as Error;
    assert.equal(io.message, "cannot open the store /nonexistent-oktell/var/oktell.sqlite: disk I/O error (SQLITE_IOERR_WRITE): the disk holding /nonexistent-oktell/var answered with an I/O error: check it (dmesg), and this user's disk quota there (quota -s; SQLite reports one exceeded this way too), and start again; nothing stored is lost");
    // A folder whose name holds a space (or a quote): the df command is quoted, so that it can be pasted as printed.
    const spaced = recoveryRefusal(new StoreUnavailableError('full', 'database unavailable (SQLITE_FULL): database or disk is full', 30, { cause: full }), "/srv/Oktell data/it's/oktell.sqlite", undefined) as Error;
    assert.ok(spaced.message.includes(`free space there (df -h '/srv/Oktell data/it'\\''s' for room, df -i '/srv/Oktell data/it'\\''s' for files) and start again`), spaced.message);
  });
});
