// SQLite connections that open and close often (a scenario test's cases, console dry runs) reuse the process of a
// closed connection instead of starting one each: a dry run's transaction is rolled back and its file closed before
// the process serves anyone else; a process killed at a timeout or dead meanwhile is never reused; connections open
// at the same time never share one; the console's dry run logs a statement stopped at its timeout.
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import { endSpareSqliteProcesses, sqliteDriver, sqliteProcessesStarted } from '../../adapters/db/sqlite.js';
import { buildPorts } from '../../adapters/ports.js';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioLibrary, parseNamedSql, randomIds, type LoggerPort } from '../../engine/index.js';
import { performDryRun } from '../../server/console/dry-run.js';
import { tempDir } from '../helpers.js';

const COUNT_TO = 'WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r WHERE x < 400000000) SELECT count(*) AS c FROM r';
const opts = (timeoutMs = 10_000) => ({ timeoutMs, maxRows: 10 });
const q = (text: string) => parseNamedSql(text);

/** The SQLite processes this test process has now (spares included). */
function children(): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(process.pid), '-f', 'sqlite-process'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when none matches
  }
}

describe('SQLite processes reused across connections', { timeout: 120_000 }, () => {
  const tmp = tempDir();
  const file = join(tmp.dir, 'shared.sqlite');
  const db = new Database(file);
  db.exec('CREATE TABLE t (n INTEGER)');
  db.close();
  const rows = () => {
    const r = new Database(file, { readonly: true });
    try {
      return (r.prepare('SELECT count(*) AS c FROM t').get() as { c: number }).c;
    } finally {
      r.close();
    }
  };
  beforeEach(() => endSpareSqliteProcesses());
  after(() => {
    endSpareSqliteProcesses();
    tmp.cleanup();
  });

  it('five dry-run connections one after another start one process, and each sees none of the earlier ones\' rows', async () => {
    const started = sqliteProcessesStarted();
    const seen: unknown[] = [];
    for (let i = 0; i < 5; i++) {
      const d = sqliteDriver(file, true);
      await d.query(q('INSERT INTO t (n) VALUES (1)'), {}, opts());
      seen.push((await d.query(q('SELECT count(*) AS c FROM t'), {}, opts())).rows[0]);
      await d.close();
    }
    assert.deepEqual(seen, Array(5).fill({ c: 1 }), 'each connection saw only its own insert');
    assert.equal(rows(), 0, 'every dry run was rolled back');
    assert.equal(sqliteProcessesStarted() - started, 1);
    assert.equal(children().length, 1, 'the one process waits as a spare');
  });

  it('a kept process serves a connection to another file (the one it had is closed)', async () => {
    const other = join(tmp.dir, 'other.sqlite');
    const started = sqliteProcessesStarted();
    const a = sqliteDriver(file, false);
    await a.query(q('SELECT 1'), {}, opts());
    await a.close();
    const b = sqliteDriver(other, false);
    await b.query(q('CREATE TABLE u (x INTEGER)'), {}, opts());
    await b.query(q('INSERT INTO u (x) VALUES (7)'), {}, opts());
    await b.close();
    assert.equal(sqliteProcessesStarted() - started, 1);
    const r = new Database(other, { readonly: true });
    assert.deepEqual(r.prepare('SELECT x FROM u').all(), [{ x: 7 }]);
    r.close();
  });

  it('connections open at the same time each have their own process, and a dry run\'s rows stay in its own', async () => {
    const started = sqliteProcessesStarted();
    const a = sqliteDriver(file, true);
    const b = sqliteDriver(file, false);
    try {
      await a.query(q('INSERT INTO t (n) VALUES (5)'), {}, opts());
      // a holds the write lock in its open transaction: b reads the committed file, without a's row.
      assert.deepEqual((await b.query(q('SELECT count(*) AS c FROM t'), {}, opts())).rows, [{ c: 0 }]);
      assert.equal(sqliteProcessesStarted() - started, 2);
      assert.equal(children().length, 2);
    } finally {
      await a.close();
      await b.close();
    }
    assert.equal(rows(), 0);
  });

  it('a process killed at a statement\'s timeout is not kept; the one started after it is', async () => {
    const started = sqliteProcessesStarted();
    const a = sqliteDriver(file, false);
    await a.query(q('SELECT 1'), {}, opts());
    await assert.rejects(a.query(q(COUNT_TO), {}, opts(300)), (e: Error & { kind?: string }) => e.kind === 'timeout');
    await a.query(q('SELECT 1'), {}, opts());
    await a.close();
    assert.equal(sqliteProcessesStarted() - started, 2, 'a new process after the kill');
    const b = sqliteDriver(file, false);
    await b.query(q('SELECT 1'), {}, opts());
    await b.close();
    assert.equal(sqliteProcessesStarted() - started, 2, 'b took the process a left');
  });

  it('a kept process that died meanwhile is not used', async () => {
    const a = sqliteDriver(file, false);
    await a.query(q('SELECT 1'), {}, opts());
    await a.close();
    const [spare] = children();
    assert.ok(spare, 'a spare is kept');
    process.kill(spare, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    const started = sqliteProcessesStarted();
    const b = sqliteDriver(file, false);
    assert.deepEqual((await b.query(q('SELECT count(*) AS c FROM t'), {}, opts())).rows, [{ c: 0 }]);
    await b.close();
    assert.equal(sqliteProcessesStarted() - started, 1);
  });

  it('ending the spares leaves no process behind', async () => {
    const a = sqliteDriver(file, false);
    await a.query(q('SELECT 1'), {}, opts());
    await a.close();
    assert.equal(children().length, 1);
    endSpareSqliteProcesses();
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(children(), []);
  });
});

describe("the console's dry run", { timeout: 60_000 }, () => {
  it('logs a statement stopped at its timeout, as the server does for live runs', async () => {
    const tmp = tempDir();
    const lines: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
    const log = (level: string) => (obj: Record<string, unknown>, msg: string) => void lines.push({ level, obj, msg });
    const logger = { info: log('info'), warn: log('warn'), error: log('error'), debug: log('debug') } as unknown as LoggerPort;
    const built = buildPorts({ env: {}, dataDir: tmp.dir, templates: { render: () => ({}) }, ids: randomIds, noMail: true, logger });
    try {
      writeFileSync(
        join(tmp.dir, 'Endless.yaml'),
        `variables: { c: number }
start: count
blocks:
  count: { kind: DbQuery, sql: "${COUNT_TO}", timeout: 1, exits: { success: done, timeout: done } }
  done: { kind: Stop }
`,
      );
      const lib = await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry });
      assert.deepEqual(lib.issues, []);
      const r = await performDryRun(lib, 'Endless', {}, built.ports, 'UTC', undefined, { main: { dialect: 'sqlite', path: join(tmp.dir, 'main.sqlite') } });
      assert.equal(r.trace.find((s) => s.block === 'count')?.exit, 'timeout', JSON.stringify(r.trace));
      const stopped = lines.filter((l) => l.level === 'error' && /ran past its timeout/.test(l.msg));
      assert.equal(stopped.length, 1, JSON.stringify(lines));
      assert.equal(stopped[0]!.obj.code, 'DB_TIMEOUT');
    } finally {
      await built.close();
      endSpareSqliteProcesses();
      tmp.cleanup();
    }
  });
});
