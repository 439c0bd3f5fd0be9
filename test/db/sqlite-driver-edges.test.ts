// The SQLite driver's process at its edges (review s29): an answer that came just before the deadline is taken, not
// thrown away with a kill (a committed write reported as rolled back would be run again by a retry); a statement
// still waiting for its turn takes its timeout when that is over; closing stops a running statement instead of
// waiting out its timeout; a write whose process died with no answer is of unknown outcome, not retried; the process
// gets none of the server's settings.
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { endSpareSqliteProcesses, processEnv, sqliteDriver } from '../../adapters/db/sqlite.js';
import { EffectError, parseNamedSql } from '../../engine/index.js';
import { tempDir } from '../helpers.js';

/** Counts to :lim: ends on its own after about lim / 10 million seconds. */
const COUNT_TO = 'WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r WHERE x < CAST(:lim AS INTEGER)) SELECT count(*) AS c FROM r';
const sql = (text: string) => parseNamedSql(text);

/** Holds this thread for `ms`, as a busy server thread would. */
function blockFor(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    /* busy */
  }
}

const settled = (p: Promise<unknown>) => p.then(
  (v) => ({ ok: true as const, v }),
  (e: unknown) => ({ ok: false as const, e: e as EffectError }),
);

describe('the SQLite driver at its edges', { timeout: 120_000 }, () => {
  const tmp = tempDir();
  const file = join(tmp.dir, 'edges.sqlite');
  before(() => {
    const db = new Database(file);
    db.exec('CREATE TABLE t (n INTEGER)');
    db.close();
  });
  after(() => tmp.cleanup());
  const rows = () => {
    const db = new Database(file, { readonly: true });
    try {
      return (db.prepare('SELECT count(*) AS c FROM t').get() as { c: number }).c;
    } finally {
      db.close();
    }
  };

  it('an answer that arrived while this thread was busy past the deadline is taken: the write committed and says so', async () => {
    const d = sqliteDriver(file, false);
    try {
      await d.query(sql('SELECT 1'), {}, { timeoutMs: 5000, maxRows: 10 }); // the process is up
      const before = rows();
      const insert = settled(d.query(sql('INSERT INTO t (n) VALUES (1)'), {}, { timeoutMs: 300, maxRows: 10 }));
      await new Promise((r) => setImmediate(r)); // the statement is sent
      blockFor(1500); // its answer waits in the pipe; the deadline passes meanwhile
      const r = await insert;
      assert.equal(rows(), before + 1, 'the row was committed');
      assert.ok(r.ok, `the block is told what happened: ${!r.ok ? r.e.message : ''}`);
      assert.equal((r.v as { rowCount: number }).rowCount, 1);
    } finally {
      await d.close();
    }
  });

  it('a statement waiting behind a long one takes its timeout when its own time is over, and is not run', async () => {
    const d = sqliteDriver(file, false);
    try {
      const before = rows();
      const order: string[] = [];
      const long = settled(d.query(sql(COUNT_TO), { lim: '40000000' }, { timeoutMs: 60_000, maxRows: 10 })).then((r) => (order.push('long'), r));
      const short = settled(d.query(sql('INSERT INTO t (n) VALUES (2)'), {}, { timeoutMs: 300, maxRows: 10 })).then((r) => (order.push('short'), r));
      const s = await short;
      assert.equal(s.ok, false);
      assert.ok(!s.ok && s.e instanceof EffectError);
      assert.equal(!s.ok && s.e.kind, 'timeout');
      assert.equal(!s.ok && s.e.details.code, 'DB_TIMEOUT');
      assert.match(!s.ok ? s.e.message : '', /waited for earlier statements on this connection until its timeout \(0\.3 s\) and was not run/);
      const l = await long;
      assert.ok(l.ok, 'the long statement ran to its end');
      assert.deepEqual(order, ['short', 'long'], 'the waiting statement was told before the long one ended');
      assert.equal(rows(), before, 'the statement that gave up was never run');
    } finally {
      await d.close();
    }
  });

  it('closing the connection stops a running statement at once instead of waiting out its timeout', async () => {
    const d = sqliteDriver(file, false);
    const long = settled(d.query(sql(COUNT_TO), { lim: '400000000' }, { timeoutMs: 600_000, maxRows: 10 }));
    await new Promise((r) => setTimeout(r, 1500)); // the process started and the statement runs
    await d.close();
    const r = await long;
    assert.equal(r.ok, false, 'the statement did not run to its end');
    assert.equal(!r.ok && r.e.kind, 'transient');
    assert.match(!r.ok ? r.e.message : '', /the server stopped while the statement ran; it was stopped/);
  });

  it('a write whose process dies with no answer is of unknown outcome (not retried); a read is retried', async () => {
    endSpareSqliteProcesses(); // processes kept from the tests above would be counted below
    for (const [text, kind] of [
      ['INSERT INTO t (n) WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r WHERE x < 400000000) SELECT x FROM r', 'unknown'],
      [COUNT_TO, 'transient'],
    ] as const) {
      const d = sqliteDriver(file, false);
      try {
        const q = settled(d.query(sql(text), { lim: '400000000' }, { timeoutMs: 600_000, maxRows: 10 }));
        await new Promise((r) => setTimeout(r, 1500));
        // The OOM killer, or an operator: the process dies from outside.
        const pids = execFileSync('pgrep', ['-P', String(process.pid), '-f', 'sqlite-process'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
        assert.equal(pids.length, 1, `one SQLite process: ${pids.join(',')}`);
        process.kill(Number(pids[0]), 'SIGKILL');
        const r = await q;
        assert.equal(r.ok, false);
        assert.equal(!r.ok && r.e.kind, kind, !r.ok ? r.e.message : '');
        assert.match(!r.ok ? r.e.message : '', /the SQLite process ended unexpectedly \(SIGKILL\)/);
      } finally {
        await d.close();
      }
    }
  });

  it("the process gets none of the server's settings", () => {
    process.env.OKTELL_TEST_SECRET_FOR_SQLITE = 'p4ssw0rd';
    try {
      const env = processEnv();
      assert.equal(env.OKTELL_TEST_SECRET_FOR_SQLITE, undefined);
      assert.equal(env.PATH, process.env.PATH);
      assert.ok(Object.keys(env).every((k) => ['PATH', 'TMPDIR', 'TMP', 'TEMP', 'SystemRoot', 'LANG'].includes(k)), Object.keys(env).join(','));
    } finally {
      delete process.env.OKTELL_TEST_SECRET_FOR_SQLITE;
    }
  });
});
