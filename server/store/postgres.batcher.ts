// Grouped commits on PostgreSQL: write calls queued while a transaction is in flight share the next one.
import type { Socket } from 'node:net';
import type { ClientBase, Pool, PoolClient } from 'pg';
import { closedError, StoreUnavailableError, type StoreUnavailableReason } from './store.errors.js';
import type { StoreStats } from './store.port.js';

/** One write call: SQL on a connection that is inside a transaction. Must be safe to run again (the batch may be retried). */
export type PgOp<T> = (client: PoolClient) => Promise<T>;

interface PendingWrite {
  op: PgOp<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
  /** When the call was made (Date.now()): how long it has waited, for `/-/health`. */
  at: number;
}

type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };

export interface PgBatcherOptions {
  /** Most calls per transaction. Default 1000. */
  maxBatch?: number;
  /** Transactions in flight at once (each on its own connection). Default 2. */
  maxInFlight?: number;
  /** Attempts of a batch that lost a deadlock or a serialization conflict. Default 5. */
  conflictAttempts?: number;
  /**
   * A transaction whose connection has heard nothing from the database for this long while a statement waits is
   * given up: the connection is closed and the batch fails as `io` (`withAnswerBound`). Default: none.
   */
  noAnswerMs?: number;
  /**
   * Where the batches take their connections, shared with the store's reads. Required: a watch made after the pool
   * opened connections would not know them, so could not close them after a silence.
   */
  connections: PgConnections;
  /** The clock of the refusal spells (`refusalSpells`): the store's, which also writes the leases. Default Date.now. */
  now?: () => number;
}

/**
 * A spell in which the database refused this store's writes: from the first refusal after a commit to the next
 * commit (`end` undefined while no write has committed since).
 */
export interface RefusalSpell {
  start: number;
  end?: number;
}

/** Spells are kept this long after their end, and at most this many. */
const SPELL_MEMORY_MS = 3_600_000;
const SPELL_MEMORY = 1000;

/**
 * Queues write calls and runs them in `BEGIN … COMMIT` transactions on pooled connections; each promise settles only
 * after its COMMIT has returned. While `maxInFlight` transactions are busy, new calls wait and then all go together,
 * so the number of commits grows far slower than the number of calls.
 *
 * Failures, by who must act:
 * - the database cannot write (connection lost, shutting down, disk full, too many connections, read-only): every
 *   call of the batch is rejected with `StoreUnavailableError`; nothing of it was committed;
 * - a deadlock or serialization conflict with another instance: the whole batch runs again (a few times);
 * - one call's own error (a duplicate job id): the batch runs again with a savepoint per call, and only that call
 *   is rejected. Savepoints cost two round trips per call, so the common path goes without them.
 */
export class PgWriteBatcher {
  private queue: PendingWrite[] = [];
  private inFlight = 0;
  /** The batches in a transaction now, each in the order of its calls (the oldest first). */
  private readonly running = new Set<PendingWrite[]>();
  private scheduled = false;
  private closed = false;
  private idle: Array<() => void> = [];
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  private readonly conflictAttempts: number;
  private readonly noAnswerMs: number | undefined;
  private readonly connections: PgConnections;
  private readonly counters: StoreStats = { operations: 0, transactions: 0, failedTransactions: 0, largestBatch: 0 };
  private readonly spells: RefusalSpell[] = [];
  private readonly now: () => number;

  constructor(
    private readonly pool: Pool,
    opts: PgBatcherOptions,
  ) {
    this.maxBatch = opts.maxBatch ?? 1000;
    this.maxInFlight = opts.maxInFlight ?? 2;
    this.conflictAttempts = opts.conflictAttempts ?? 5;
    this.noAnswerMs = opts.noAnswerMs;
    this.connections = opts.connections;
    this.now = opts.now ?? Date.now;
  }

  submit<T>(op: PgOp<T>): Promise<T> {
    if (this.closed) return Promise.reject(closedError());
    this.counters.operations++;
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ op, resolve: resolve as (v: unknown) => void, reject, at: Date.now() });
      // Wait one turn of the event loop so calls made together (Promise.all, a burst of requests) share a batch.
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.pump();
        });
      }
    });
  }

  /** Remembers a batch the database refused (for `/-/health`: a store that takes no write at all). */
  private noteRefusal(error: unknown): void {
    if (!(error instanceof StoreUnavailableError)) return;
    this.counters.lastRefusal = { at: Date.now(), reason: error.reason };
    const last = this.spells.at(-1);
    if (last && last.end === undefined) return;
    this.spells.push({ start: this.now() });
    if (this.spells.length > SPELL_MEMORY) this.spells.shift();
  }

  /** Ends the refusal spell under way, if any, and forgets the spells that ended long ago. */
  private noteCommit(): void {
    this.counters.lastCommitAt = Date.now();
    const last = this.spells.at(-1);
    if (!last || last.end !== undefined) return;
    const now = this.now();
    last.end = now;
    while (this.spells[0]?.end !== undefined && this.spells[0].end < now - SPELL_MEMORY_MS) this.spells.shift();
  }

  /** The spells in which the database refused this store's writes, oldest first, within the last hour or so. */
  refusalSpells(): readonly RefusalSpell[] {
    return this.spells.map((s) => ({ ...s }));
  }

  stats(): StoreStats {
    // The queue and each batch keep the order of the calls, so the oldest call waiting is the first of one of them.
    let oldest = this.queue[0]?.at;
    for (const batch of this.running) if (batch[0] && (oldest === undefined || batch[0].at < oldest)) oldest = batch[0].at;
    return { ...this.counters, ...(oldest !== undefined ? { oldestWriteSince: oldest } : {}) };
  }

  /** Refuses new writes; resolves once everything already queued has been committed or rejected. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.queue.length === 0 && this.inFlight === 0 && !this.scheduled) return;
    await new Promise<void>((r) => this.idle.push(r));
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight++;
      this.running.add(batch);
      void this.run(batch).finally(() => {
        this.running.delete(batch);
        this.inFlight--;
        this.pump();
      });
    }
    if (this.queue.length === 0 && this.inFlight === 0 && !this.scheduled) for (const done of this.idle.splice(0)) done();
  }

  private async run(batch: PendingWrite[]): Promise<void> {
    this.counters.largestBatch = Math.max(this.counters.largestBatch, batch.length);
    let client: PoolClient;
    try {
      client = await this.connections.connect();
    } catch (err) {
      const error = classifyPgError(err);
      this.noteRefusal(error);
      for (const w of batch) w.reject(error);
      return;
    }
    let broken: Error | undefined;
    try {
      let isolate = false;
      for (let attempt = 1; ; attempt++) {
        this.counters.transactions++;
        const outcome = await withAnswerBound(client, this.noAnswerMs, () => this.attempt(client, batch, isolate), this.connections.noteSilent);
        if (outcome.ok) {
          this.noteCommit();
          batch.forEach((w, i) => {
            const r = outcome.results[i]!;
            if (r.ok) w.resolve(r.value);
            else w.reject(r.error);
          });
          return;
        }
        this.counters.failedTransactions++;
        const kind = failureKind(outcome.err);
        if (kind === 'unavailable') {
          if (isConnectionError(outcome.err)) broken = outcome.err as Error;
          const error = classifyPgError(outcome.err);
          this.noteRefusal(error);
          for (const w of batch) w.reject(error);
          return;
        }
        if (kind === 'conflict' && attempt < this.conflictAttempts) {
          await new Promise((r) => setTimeout(r, 2 + Math.random() * 10 * attempt));
          continue;
        }
        if (kind === 'conflict') {
          const error = new StoreUnavailableError('busy', `the database kept reporting conflicts: ${(outcome.err as Error).message}`, 1, { cause: outcome.err });
          for (const w of batch) w.reject(error);
          return;
        }
        if (!isolate && batch.length > 1) {
          isolate = true;
          continue;
        }
        for (const w of batch) w.reject(outcome.err);
        return;
      }
    } finally {
      client.release(broken);
    }
  }

  /** One transaction over the batch. In `isolate` mode a call's own error is kept for that call alone. */
  private async attempt(client: PoolClient, batch: PendingWrite[], isolate: boolean): Promise<{ ok: true; results: Settled[] } | { ok: false; err: unknown }> {
    const results: Settled[] = [];
    try {
      await client.query('BEGIN');
      for (const w of batch) {
        if (!isolate) {
          results.push({ ok: true, value: await w.op(client) });
          continue;
        }
        await client.query('SAVEPOINT call');
        try {
          results.push({ ok: true, value: await w.op(client) });
          await client.query('RELEASE SAVEPOINT call');
        } catch (err) {
          if (failureKind(err) !== 'call') throw err;
          await client.query('ROLLBACK TO SAVEPOINT call');
          results.push({ ok: false, error: err });
        }
      }
      await client.query('COMMIT');
      return { ok: true, results };
    } catch (err) {
      if (!isConnectionError(err)) await client.query('ROLLBACK').catch(() => undefined);
      return { ok: false, err };
    }
  }
}

/** SQLSTATEs meaning "another transaction got in the way; the same work may succeed if tried again". */
const CONFLICT_CODES = new Set(['40001', '40P01']);

function failureKind(err: unknown): 'unavailable' | 'conflict' | 'call' {
  if (reasonOf(err)) return 'unavailable';
  if (CONFLICT_CODES.has(codeOf(err))) return 'conflict';
  return 'call';
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

/**
 * Runs `work` (queries on `client`) and closes the client's connection when the database sends nothing on it for
 * `ms` while `work` is under way: a network partition that drops packets, or a database host gone without a word
 * (a failover), after which no statement_timeout can end a statement the server does not hear, and TCP may wait a
 * quarter of an hour before it gives up. The pending query then fails as a lost connection, reported as `io`
 * ("the database did not answer …"), and the caller must not reuse the client (`isConnectionError` is true). A
 * statement that runs long is not cut: its server answers (with its rows, or the statement timeout's error) before
 * `ms`, which must exceed the statement timeout. `work`'s own outcome object (a batch's `{ ok: false, err }`) gets the
 * same error in place of pg's.
 */
export async function withAnswerBound<T>(client: ClientBase, ms: number | undefined, work: () => Promise<T>, onSilent?: () => void): Promise<T> {
  const stream = streamOf(client);
  if (!ms || !stream) return work();
  let fired = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      fired = true;
      onSilent?.();
      stream.destroy();
    }, ms);
    timer.unref();
  };
  const heard = () => arm();
  stream.on('data', heard);
  arm();
  const silent = (err: unknown) =>
    new StoreUnavailableError('io', `the database did not answer within ${ms} ms (its host gone, or a network that drops packets): its connection was closed`, RETRY_AFTER.io, { cause: err });
  try {
    const result = await work();
    if (fired && result && typeof result === 'object' && (result as { ok?: unknown }).ok === false) return { ...result, err: silent((result as { err?: unknown }).err) };
    return result;
  } catch (err) {
    throw fired ? silent(err) : err;
  } finally {
    clearTimeout(timer);
    stream.off('data', heard);
  }
}

/**
 * Hands out a pool's connections, except those open when one of them was found silent (`withAnswerBound`) that have
 * not heard the database since its silence began: the database that stopped answering on one stopped on the others
 * with it, and an idle one would cost its next call the whole wait again, one connection after another once the
 * database is back. Those are closed instead, and a fresh connection is made. A connection that heard the database
 * within `answeredWithinMs` before the silence was found is kept: the silent call's statement would have been answered
 * (its rows, or the statement timeout's error) by the statement timeout after its last word, so with a silence bound
 * of the statement timeout plus this margin, the database stopped answering on it at least this long ago, and a
 * connection that heard it since works. 0: every open connection is closed. They are closed by closing their sockets,
 * not by pg's goodbye to the server: a socket whose host no longer answers would stay open after its goodbye until TCP
 * gives up (a quarter of an hour, or never when something on the way takes the packets without passing them on),
 * keeping the process alive after it stopped. The idle ones are closed at once; those in use when the silence was
 * found, at their next checkout.
 */
export class PgConnections {
  /** The pool's connections made since this watch began (built with the pool, it sees them all). */
  private readonly live = new Map<ClientBase, { inUse: boolean; stale: boolean; heardAt: number }>();
  constructor(
    private readonly pool: Pool,
    private readonly answeredWithinMs = 0,
  ) {
    pool.on('connect', (client) => {
      const s = { inUse: false, stale: false, heardAt: performance.now() };
      this.live.set(client, s);
      streamOf(client)?.on('data', () => (s.heardAt = performance.now()));
    });
    pool.on('acquire', (client) => this.setInUse(client, true));
    pool.on('release', (_err: Error | undefined, client: ClientBase) => this.setInUse(client, false));
    pool.on('remove', (client) => this.live.delete(client));
  }

  private setInUse(client: ClientBase, inUse: boolean): void {
    const s = this.live.get(client);
    if (s) s.inUse = inUse;
  }

  /** A connection was found silent: the ones open now and not heard since are not used again; idle ones are closed now. */
  noteSilent = (): void => {
    const since = performance.now() - this.answeredWithinMs;
    for (const [client, s] of this.live) {
      if (this.answeredWithinMs > 0 && s.heardAt > since) continue;
      s.stale = true;
      if (!s.inUse) streamOf(client)?.destroy();
    }
  };

  async connect(): Promise<PoolClient> {
    for (;;) {
      const client = await this.pool.connect();
      if (!this.live.get(client)?.stale) return client;
      streamOf(client)?.destroy();
      client.release(new Error('open when the database stopped answering on one of its connections, and not heard since'));
    }
  }
}

function streamOf(client: ClientBase): Socket | undefined {
  return (client as unknown as { connection?: { stream?: Socket } }).connection?.stream;
}

/** The connection itself is gone or unusable: it must not go back to the pool. */
export function isConnectionError(err: unknown): boolean {
  if (err instanceof StoreUnavailableError && err.reason === 'io') return true;
  const code = codeOf(err);
  if (code.startsWith('08') || code.startsWith('57P') || /^E[A-Z]+$/.test(code)) return true;
  const message = err instanceof Error ? err.message : '';
  return /Connection terminated|connection timeout|timeout exceeded|Client has encountered a connection error|not queryable/i.test(message);
}

const RETRY_AFTER: Record<StoreUnavailableReason, number> = { full: 30, busy: 1, readonly: 30, io: 5, closed: 5 };

function reasonOf(err: unknown): StoreUnavailableReason | undefined {
  if (err instanceof StoreUnavailableError) return err.reason;
  const code = codeOf(err);
  if (code === '53100') return 'full'; // disk_full
  if (code === '53200' || code === '53300' || code === '55P03' || code === '57014') return 'busy'; // out of memory, too many connections, lock timeout, statement timeout
  if (code === '25006') return 'readonly'; // read_only_sql_transaction (a standby)
  if (isConnectionError(err)) return 'io';
  return undefined;
}

/**
 * Maps a pg error to `StoreUnavailableError` when it means "the database cannot take writes now"; returns other
 * errors (constraint violations: caller bugs) unchanged.
 */
export function classifyPgError(err: unknown): unknown {
  if (err instanceof StoreUnavailableError) return err;
  const reason = reasonOf(err);
  if (!reason) return err;
  const code = codeOf(err);
  return new StoreUnavailableError(reason, `database unavailable${code ? ` (${code})` : ''}: ${(err as Error).message}`, RETRY_AFTER[reason], { cause: err });
}
