// SQLite connections (better-sqlite3): one file per connection, opened on first use. better-sqlite3 is synchronous
// and cannot interrupt a statement, so the statements run in a process of their own (sqlite-process.ts), one at a
// time: a statement that never ends can no longer stop the server's thread. The block's timeout bounds how long a
// statement waits for another connection's lock (busy_timeout) and how long it may run: past it the process is killed
// (which stops the statement and rolls back what it had not committed) and a new one serves the next statement. A
// closed connection's process is kept a while for the next connection (a scenario test's, a console dry run's).
import { fork, type ChildProcess } from 'node:child_process';
import { EffectError, distinctNames, isReadOnlySql, renderNamedSql, type DbResult, type DbValue, type LoggerPort } from '../../engine/index.js';
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

/**
 * The process's Node flags: a small young generation (it holds one statement's rows at a time), and none of the
 * server's own (an inspector port, a heap limit meant for the server).
 */
const CHILD_FLAGS = ['--max-semi-space-size=1'];

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
  /** When it was started and when it said it was ready (performance.now()). */
  startedAt: number;
  readyAt: number;
  /** The answer awaited for the statement in flight, if any ('late': stopped before it answered). */
  pending?: { id: number; settle(a: SqliteAnswer | Error | 'late'): void };
  /** The connection's own "the process is gone" (it then starts a new one for its next statement). */
  onExit?: () => void;
  /** The connection's "its database is closed" (an answer to `close` with `keep`). */
  onClosed?: (ok: boolean) => void;
  exited: boolean;
  /** Killed by this side (a statement past its deadline, or the connection closed with one running). */
  killed: boolean;
  /** The end of what it wrote to stderr (a native module that does not load, a bad NODE_OPTIONS), for the error. */
  stderrTail: string;
}

/**
 * A process whose connection was closed, kept (with no database open) for the next connection to use: a scenario
 * test or a console dry run opens fresh connections each time, and starting a process costs far more than its
 * statements (a Node process loading the native driver, about 0.2–1 s). A spare is ended when it has waited
 * SPARE_IDLE_MS, and never keeps this process alive.
 */
const spares: { helper: Helper; timer: NodeJS.Timeout }[] = [];
const MAX_SPARES = 4;
const SPARE_IDLE_MS = 30_000;

/** How many SQLite processes this thread has started: what reusing them saves can be seen (and tested). */
let processesStarted = 0;
export const sqliteProcessesStarted = (): number => processesStarted;

/** Ends the spare processes at once (a server that stops, a test that counts processes). */
export function endSpareSqliteProcesses(): void {
  for (const s of spares.splice(0)) {
    clearTimeout(s.timer);
    s.helper.killed = true;
    s.helper.child.kill('SIGKILL');
  }
}

function takeSpare(): Helper | undefined {
  for (let s = spares.pop(); s; s = spares.pop()) {
    clearTimeout(s.timer);
    if (!s.helper.exited) return s.helper;
  }
  return undefined;
}

/** Keeps a process whose database was closed for the next connection, or ends it when enough are kept. */
function keepSpare(h: Helper): void {
  h.onExit = undefined;
  h.onClosed = undefined;
  if (spares.length >= MAX_SPARES || h.exited) {
    h.killed = true;
    h.child.kill('SIGKILL');
    return;
  }
  const entry = {
    helper: h,
    timer: setTimeout(() => {
      const i = spares.indexOf(entry);
      if (i >= 0) spares.splice(i, 1);
      h.killed = true;
      h.child.kill('SIGKILL');
    }, SPARE_IDLE_MS),
  };
  entry.timer.unref();
  spares.push(entry);
  idle(h);
}

function spawnHelper(): Helper {
  processesStarted++;
  const child = fork(PROCESS_SCRIPT, [], { execArgv: CHILD_FLAGS, env: processEnv(), serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  track(child);
  const h: Helper = { child, exited: false, killed: false, ready: Promise.resolve(), startedAt: performance.now(), readyAt: Infinity, stderrTail: '' };
  // Read here, not inherited: an orphan must not hold a caller's pipe open, and a failed start can say why.
  child.stderr?.on('data', (c: Buffer) => (h.stderrTail = (h.stderrTail + c.toString()).slice(-1000)));
  h.ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the SQLite process did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
    child.once('message', () => {
      clearTimeout(timer);
      h.readyAt = performance.now();
      resolve();
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the SQLite process ended as it started (${signal ?? `exit code ${code}`})${lastLine(h.stderrTail)}`));
    });
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
  h.ready.catch(() => undefined);
  child.on('message', (a: SqliteAnswer) => {
    if ('closed' in a) h.onClosed?.(a.closed);
    else if ('id' in a && h.pending?.id === a.id) h.pending.settle(a);
  });
  child.on('exit', (code, signal) => {
    h.exited = true;
    h.onExit?.();
    h.onClosed?.(false);
    // One this side killed is settled by whoever killed it, with an answer that came first if one did.
    if (!h.killed) h.pending?.settle(new ProcessEnded(`the SQLite process ended unexpectedly (${signal ?? `exit code ${code}`})${lastLine(h.stderrTail)}`));
  });
  child.on('error', () => undefined);
  idle(h);
  return h;
}

/** An idle process does not keep a CLI run (or a test) alive; one with a statement in flight does. */
function idle(h: Helper) {
  h.child.unref();
  (h.child.channel as { unref?(): void } | undefined)?.unref?.();
  (h.child.stderr as { unref?(): void } | null)?.unref?.();
}
function busy(h: Helper) {
  h.child.ref();
  (h.child.channel as { ref?(): void } | undefined)?.ref?.();
}

/** The process ended on its own while a statement ran (a crash, the OOM killer): it may have committed or not. */
class ProcessEnded extends Error {}

/** One statement waiting for its turn on the connection, or running. */
interface Turn {
  text: string;
  bind: Extract<SqliteRequest, { op: 'query' }>['bind'];
  timeoutMs: number;
  maxRows: number;
  /** Only reads: a statement that ends without an answer then can simply be run again. */
  reads: boolean;
  queuedAt: number;
  started: boolean;
  gaveUp: boolean;
}

/**
 * The environment of the process: what SQLite and Node need to start (the search path, the folder for temporary
 * files), none of the server's settings, which hold passwords it has no use for.
 */
export function processEnv(): NodeJS.ProcessEnv {
  const keep = ['PATH', 'TMPDIR', 'TMP', 'TEMP', 'SystemRoot', 'LANG'];
  return Object.fromEntries(keep.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]]));
}

/**
 * `rollsBack`: a dry run's connection. The first statement opens a transaction that `close` rolls back; each
 * statement runs in a savepoint so a failed one leaves the earlier ones of the run in place.
 * `logger`: where a statement stopped at its timeout is reported.
 */
export function sqliteDriver(path: string, rollsBack: boolean, logger?: LoggerPort): DbDriver {
  let helper: Helper | undefined;
  let nextId = 1;
  let closing = false;
  /** Statements run one at a time, in order, as they did on the one synchronous connection. */
  let queue: Promise<unknown> = Promise.resolve();

  function start(): Helper {
    const h = takeSpare() ?? spawnHelper();
    h.onExit = () => {
      if (helper === h) helper = undefined;
    };
    return h;
  }

  /**
   * Kills the process and resolves once it is gone and everything it sent has been read: an answer already on its
   * way (a statement that ended just before the deadline, read late because this thread was busy) is still taken.
   */
  function kill(h: Helper): Promise<void> {
    if (helper === h) helper = undefined;
    h.killed = true;
    const gone = new Promise<void>((resolve) => {
      let waiting = 0;
      const one = () => --waiting <= 0 && resolve();
      if (!h.exited) {
        waiting++;
        h.child.once('exit', one);
      }
      if (h.child.connected) {
        waiting++;
        h.child.once('disconnect', one);
      }
      if (waiting === 0) resolve();
      setTimeout(resolve, 2_000).unref();
    });
    h.child.kill('SIGKILL');
    return gone;
  }

  /** Sends one statement; settles with its answer, an error, or 'late' when it was stopped at `deadlineMs`. */
  function exchange(h: Helper, req: Extract<SqliteRequest, { op: 'query' }>, deadlineMs: number): Promise<SqliteAnswer | Error | 'late'> {
    return new Promise((resolve) => {
      let settled = false;
      const settle = (a: SqliteAnswer | Error | 'late') => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        delete h.pending;
        resolve(a);
      };
      const timer = setTimeout(() => void kill(h).then(() => settle('late')), deadlineMs);
      h.pending = { id: req.id, settle };
      h.child.send(req, (e) => e && settle(e));
    });
  }

  async function perform(t: Turn): Promise<DbResult> {
    if (closing) throw new EffectError('transient', 'SQLite: the connection is closing (the server is stopping); the statement was not run', { code: 'SQLITE_CANTOPEN' });
    const fresh = helper === undefined;
    const h = (helper ??= start());
    busy(h);
    try {
      try {
        await h.ready;
      } catch (e) {
        void kill(h); // nothing to wait for: it never answered
        throw new EffectError('transient', `SQLite: ${(e as Error).message}`, { code: 'SQLITE_CANTOPEN', cause: e });
      }
      // The wait behind earlier statements counts against the timeout; the start of a process this statement had to
      // wait for does not (a process started for an earlier statement, or after one was stopped, is not its cost).
      const startCost = fresh ? h.readyAt - Math.max(t.queuedAt, h.startedAt) : 0;
      const remaining = t.timeoutMs - (performance.now() - t.queuedAt - Math.max(0, startCost));
      if (remaining <= 0) throw waitedTooLong(t.timeoutMs);
      const req: SqliteRequest = { op: 'query', id: nextId++, path, rollsBack, text: t.text, ...(t.bind ? { bind: t.bind } : {}), busyMs: remaining, maxRows: t.maxRows };
      const answer = await exchange(h, req, remaining + LOCK_WAIT_GRACE_MS);
      if (answer === 'late') throw abandoned(t.timeoutMs, closing);
      if (answer instanceof ProcessEnded && !t.reads) {
        // A write whose process died with no answer may have committed: running it again could make it twice.
        throw new EffectError('unknown', `SQLite: ${answer.message} while a statement that writes ran: it may have been committed; it is not run again`, { code: 'SQLITE_IOERR', cause: answer });
      }
      if (answer instanceof Error) throw new EffectError('transient', `SQLite: ${answer.message}`, { code: 'SQLITE_IOERR', cause: answer });
      if (!('id' in answer)) throw new EffectError('transient', 'SQLite: an unexpected answer', { code: 'SQLITE_PROTOCOL' });
      if (!answer.ok) throw classify(answer.code, answer.message);
      return answer.result;
    } finally {
      if (!h.exited) idle(h);
    }
  }

  /** The error of a statement stopped at its deadline, or because the connection closed while it ran. */
  function abandoned(timeoutMs: number, byClose: boolean): EffectError {
    const lost = rollsBack ? "; this dry run's earlier statements on it are rolled back too" : '';
    if (byClose) {
      return new EffectError('transient', `SQLite: the server stopped while the statement ran; it was stopped and what it had not committed is rolled back${lost}`, { code: 'SQLITE_IOERR' });
    }
    logger?.error(
      { database: `sqlite:${path}`, timeoutMs, code: SQLITE_TIMEOUT_CODE },
      `an SQLite statement ran past its timeout (${seconds(timeoutMs)}) and was abandoned: the process running it was killed, which stops the statement and rolls back what it had not committed${lost}; a new process serves the next statement`,
    );
    return new EffectError('timeout', `SQLite: the statement ran longer than its timeout (${seconds(timeoutMs)}) and was stopped; what it had not committed is rolled back${lost}`, { code: SQLITE_TIMEOUT_CODE });
  }

  return {
    query(statement, params, opts): Promise<DbResult> {
      const names = distinctNames(statement);
      const t: Turn = {
        text: renderNamedSql(statement, (n) => `:${n}`),
        bind: names.length ? Object.fromEntries(names.map((n) => [n, bindable(params[n] ?? null)])) : undefined,
        timeoutMs: opts.timeoutMs,
        maxRows: opts.maxRows,
        reads: isReadOnlySql(statement),
        queuedAt: performance.now(),
        started: false,
        gaveUp: false,
      };
      const turn = queue.then(() => {
        if (t.gaveUp) throw waitedTooLong(t.timeoutMs);
        t.started = true;
        return perform(t);
      });
      queue = turn.catch(() => undefined);
      // A statement still waiting for its turn when its timeout is over takes its timeout exit then, not when its turn
      // comes (behind a statement that runs long, that could be much later); it is not run.
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          if (t.started) return;
          t.gaveUp = true;
          reject(waitedTooLong(t.timeoutMs));
        }, t.timeoutMs + LOCK_WAIT_GRACE_MS);
        timer.unref();
      });
      return Promise.race([turn, waited]).finally(() => clearTimeout(timer));
    },
    async close() {
      closing = true;
      const h = helper;
      // Called when the server's grace period is over: a statement still running is stopped, not waited for.
      if (h?.pending) await kill(h).then(() => h.pending?.settle('late'));
      await queue;
      helper = undefined;
      if (!h || h.exited || h.killed) return;
      h.onExit = undefined;
      busy(h);
      // The process rolls back a dry run's transaction and closes the file; it is then kept for the next connection
      // (with no database open), or ended when it cannot say it closed it.
      const closed = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 5_000);
        h.onClosed = (ok) => {
          clearTimeout(timer);
          resolve(ok);
        };
        if (h.child.connected) h.child.send({ op: 'close', keep: true } satisfies SqliteRequest, (e) => e && resolve(false));
        else resolve(false);
      });
      if (closed) return keepSpare(h);
      h.onClosed = undefined;
      await kill(h);
    },
  };
}

function waitedTooLong(timeoutMs: number): EffectError {
  return new EffectError('timeout', `SQLite: the statement waited for earlier statements on this connection until its timeout (${seconds(timeoutMs)}) and was not run`, { code: SQLITE_TIMEOUT_CODE });
}

/** The last line the process wrote to stderr, as a clause for an error message. */
function lastLine(text: string): string {
  const line = text.trim().split('\n').pop()?.trim();
  return line ? `: ${line.slice(0, 300)}` : '';
}

function seconds(ms: number): string {
  return `${Math.round(ms) / 1000} s`;
}

/**
 * SQLite binds numbers, text, blobs and NULL: booleans become 1/0 and dates ISO 8601 text (UTC). A whole number goes as
 * an INTEGER (a BigInt to better-sqlite3, which binds every JS number as a REAL): bound as a REAL, 79161234567 was
 * stored into a TEXT column as "79161234567.0" and did not equal the text "79161234567" in a WHERE.
 */
export function bindable(v: DbValue): string | number | bigint | null {
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  return v;
}

function classify(code: string, text: string): EffectError {
  const message = `SQLite: ${text}`;
  if (LOCK.test(code)) return new EffectError('timeout', `${message} (waited for another connection's lock until the timeout)`, { code });
  if (TRANSIENT.test(code)) return new EffectError('transient', message, { code });
  return new EffectError('permanent', message, { code });
}
