// SQLite connections (better-sqlite3): one file per connection, opened on first use. better-sqlite3 is synchronous
// and cannot interrupt a statement, so the statements run in a process of their own (sqlite-process.ts), one at a
// time: a statement that never ends can no longer stop the server's thread. The block's timeout bounds how long a
// statement waits for another connection's lock (busy_timeout) and how long it may run: past it the process is killed
// (which stops the statement and rolls back what it had not committed) and a new one serves the next statement.
import { fork, type ChildProcess } from 'node:child_process';
import { EffectError, distinctNames, renderNamedSql, type DbResult, type DbValue, type LoggerPort } from '../../engine/index.js';
import type { DbDriver } from './driver.js';
import type { SqliteAnswer, SqliteRequest } from './sqlite-protocol.js';

/** Codes that mean "try again later"; SQLITE_BUSY/LOCKED after the whole wait is the block's timeout. */
const TRANSIENT = /^SQLITE_(IOERR|CANTOPEN|FULL|NOMEM|PROTOCOL)/;
const LOCK = /^SQLITE_(BUSY|LOCKED)/;

/** The code of a statement stopped because it ran past the block's timeout (not one of SQLite's own). */
export const SQLITE_TIMEOUT_CODE = 'DB_TIMEOUT';

/**
 * How much longer than the timeout the process is given before it is killed, so that a statement waiting for a lock
 * ends with SQLite's own SQLITE_BUSY (and its process lives on) rather than being killed at the same moment.
 */
const LOCK_WAIT_GRACE_MS = 200;

/** How long the process may take to start (a busy machine loading the native driver). */
const START_TIMEOUT_MS = 30_000;

const PROCESS_SCRIPT = new URL('./sqlite-process.js', import.meta.url);

/** Processes still alive when this process (or thread) exits are killed: none must outlive the server. */
const alive = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  alive.add(child);
  child.once('exit', () => alive.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of alive) c.kill('SIGKILL');
  });
}

interface Helper {
  child: ChildProcess;
  ready: Promise<void>;
  /** When it said it was ready (performance.now()): the time before does not count against a statement's timeout. */
  readyAt: number;
  /** The answer awaited for the statement in flight, if any. */
  pending?: { id: number; settle(a: SqliteAnswer | Error): void };
  exited: boolean;
}

/**
 * `rollsBack`: a dry run's connection. The first statement opens a transaction that `close` rolls back; each
 * statement runs in a savepoint so a failed one leaves the earlier ones of the run in place.
 * `logger`: where a statement stopped at its timeout is reported.
 */
export function sqliteDriver(path: string, rollsBack: boolean, logger?: LoggerPort): DbDriver {
  let helper: Helper | undefined;
  let nextId = 1;
  /** Statements run one at a time, in order, as they did on the one synchronous connection. */
  let queue: Promise<unknown> = Promise.resolve();

  function start(): Helper {
    const child = fork(PROCESS_SCRIPT, [], { execArgv: [], serialization: 'advanced', stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
    track(child);
    const h: Helper = { child, exited: false, ready: Promise.resolve(), readyAt: Infinity };
    h.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the SQLite process did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
      child.once('message', () => {
        clearTimeout(timer);
        h.readyAt = performance.now();
        resolve();
      });
      child.once('exit', () => {
        clearTimeout(timer);
        reject(new Error('the SQLite process ended as it started'));
      });
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    h.ready.catch(() => undefined);
    child.on('message', (a: SqliteAnswer) => {
      if ('id' in a && h.pending?.id === a.id) h.pending.settle(a);
    });
    child.on('exit', (code, signal) => {
      h.exited = true;
      if (helper === h) helper = undefined;
      h.pending?.settle(new Error(`the SQLite process ended unexpectedly (${signal ?? `exit code ${code}`})`));
    });
    child.on('error', () => undefined);
    idle(h);
    return h;
  }

  /** An idle process does not keep a CLI run (or a test) alive; one with a statement in flight does. */
  function idle(h: Helper) {
    h.child.unref();
    (h.child.channel as { unref?(): void } | undefined)?.unref?.();
  }
  function busy(h: Helper) {
    h.child.ref();
    (h.child.channel as { ref?(): void } | undefined)?.ref?.();
  }

  async function perform(text: string, bind: Extract<SqliteRequest, { op: 'query' }>['bind'], opts: { timeoutMs: number; maxRows: number }, queuedAt: number): Promise<DbResult> {
    const h = (helper ??= start());
    busy(h);
    try {
      try {
        await h.ready;
      } catch (e) {
        if (helper === h) helper = undefined;
        h.child.kill('SIGKILL');
        throw new EffectError('transient', `SQLite: ${(e as Error).message}`, { code: 'SQLITE_CANTOPEN', cause: e });
      }
      // The wait behind earlier statements counts against the timeout; the process's start does not.
      const remaining = opts.timeoutMs - (performance.now() - Math.max(queuedAt, h.readyAt));
      if (remaining <= 0) {
        throw new EffectError('timeout', `SQLite: the statement waited for earlier statements on this connection until its timeout (${seconds(opts.timeoutMs)}) and was not run`, { code: SQLITE_TIMEOUT_CODE });
      }
      const id = nextId++;
      const answer = await new Promise<SqliteAnswer | Error | 'late'>((resolve) => {
        const timer = setTimeout(() => resolve('late'), remaining + LOCK_WAIT_GRACE_MS);
        h.pending = {
          id,
          settle: (a) => {
            clearTimeout(timer);
            resolve(a);
          },
        };
        const req: SqliteRequest = { op: 'query', id, path, rollsBack, text, ...(bind ? { bind } : {}), busyMs: remaining, maxRows: opts.maxRows };
        h.child.send(req, (e) => e && h.pending?.settle(e));
      });
      delete h.pending;
      if (answer === 'late') throw abandon(h, opts.timeoutMs);
      if (answer instanceof Error) throw new EffectError('transient', `SQLite: ${answer.message}`, { code: 'SQLITE_IOERR', cause: answer });
      if ('ready' in answer) throw new EffectError('transient', 'SQLite: an unexpected answer', { code: 'SQLITE_PROTOCOL' });
      if (!answer.ok) throw classify(answer.code, answer.message);
      return answer.result;
    } finally {
      if (!h.exited) idle(h);
    }
  }

  /** Kills the process running a statement past its deadline: the statement stops, a new process serves the next. */
  function abandon(h: Helper, timeoutMs: number): EffectError {
    if (helper === h) helper = undefined;
    h.child.kill('SIGKILL');
    const lost = rollsBack ? '; this dry run\'s earlier statements on it are rolled back too' : '';
    logger?.error(
      { database: `sqlite:${path}`, timeoutMs, code: SQLITE_TIMEOUT_CODE },
      `an SQLite statement ran past its timeout (${seconds(timeoutMs)}) and was abandoned: the process running it was killed, which stops the statement and rolls back what it had not committed${lost}; a new process serves the next statement`,
    );
    return new EffectError('timeout', `SQLite: the statement ran longer than its timeout (${seconds(timeoutMs)}) and was stopped; what it had not committed is rolled back${lost}`, { code: SQLITE_TIMEOUT_CODE });
  }

  return {
    query(statement, params, opts): Promise<DbResult> {
      const queuedAt = performance.now();
      const names = distinctNames(statement);
      const bind = names.length ? Object.fromEntries(names.map((n) => [n, bindable(params[n] ?? null)])) : undefined;
      const text = renderNamedSql(statement, (n) => `:${n}`);
      const next = queue.then(() => perform(text, bind, opts, queuedAt));
      queue = next.catch(() => undefined);
      return next;
    },
    async close() {
      await queue;
      const h = helper;
      helper = undefined;
      if (!h || h.exited) return;
      busy(h);
      const ended = new Promise<void>((resolve) => h.child.once('exit', () => resolve()));
      // The process rolls back a dry run's transaction and ends; one that does not is killed.
      const timer = setTimeout(() => h.child.kill('SIGKILL'), 5_000);
      if (h.child.connected) h.child.send({ op: 'close' } satisfies SqliteRequest, () => undefined);
      else h.child.kill('SIGKILL');
      await ended;
      clearTimeout(timer);
    },
  };
}

function seconds(ms: number): string {
  return `${Math.round(ms) / 1000} s`;
}

/** SQLite binds numbers, text, blobs and NULL: booleans become 1/0 and dates ISO 8601 text (UTC). */
function bindable(v: DbValue): string | number | null {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof Date) return v.toISOString();
  return v;
}

function classify(code: string, text: string): EffectError {
  const message = `SQLite: ${text}`;
  if (LOCK.test(code)) return new EffectError('timeout', `${message} (waited for another connection's lock until the timeout)`, { code });
  if (TRANSIENT.test(code)) return new EffectError('transient', message, { code });
  return new EffectError('permanent', message, { code });
}
