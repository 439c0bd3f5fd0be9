// Grouped commits for better-sqlite3: write calls made in the same turn of the event loop share one transaction.
import type Database from 'better-sqlite3';
import { classifySqliteError, closedError, StoreUnavailableError } from './store.errors.js';
import type { StoreStats } from './store.port.js';

interface PendingWrite {
  op: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * Queues write operations and runs everything queued in one `BEGIN IMMEDIATE … COMMIT` on the next `setImmediate`,
 * so thousands of concurrent webhooks cost a handful of commits. Promises settle only after COMMIT returns, so a
 * resolved write is in the WAL file (it survives a killed process; with `synchronous=FULL` also a power cut).
 *
 * One failing operation must not sink the others. Wrapping each in a savepoint costs more than the inserts themselves
 * (measured: about twice the CPU per request), so the batch first runs bare; only if an operation throws is the whole
 * transaction rolled back and the batch run again with a savepoint per operation, where the failing one is rolled back
 * alone and only its caller sees the error. Operations are therefore re-runnable: SQL on prepared data, nothing else.
 */
export class WriteBatcher {
  private queue: PendingWrite[] = [];
  private scheduled = false;
  private closed = false;
  /** While set, writes queue up but nothing commits (see hold). */
  private held = false;
  private idle: Array<() => void> = [];
  private readonly counters: StoreStats = { operations: 0, transactions: 0, failedTransactions: 0, largestBatch: 0 };
  private readonly runBatch: Database.Transaction<(batch: PendingWrite[], results: Settled[], isolate: boolean) => void>;
  private readonly inSavepoint: Database.Transaction<(op: () => unknown) => unknown>;

  constructor(
    private readonly db: Database.Database,
    private readonly maxBatch = 2000,
  ) {
    this.inSavepoint = db.transaction((op: () => unknown) => op());
    this.runBatch = db.transaction((batch: PendingWrite[], results: Settled[], isolate: boolean) => {
      for (const w of batch) {
        if (!isolate) {
          results.push({ ok: true, value: w.op() });
          continue;
        }
        try {
          results.push({ ok: true, value: this.inSavepoint(w.op) });
        } catch (err) {
          // Some errors (SQLITE_FULL, IOERR) may roll back the whole transaction; then nothing here can commit.
          if (!db.inTransaction) throw err;
          results.push({ ok: false, error: classifySqliteError(err) });
        }
      }
    });
  }

  /** Runs `op` inside the next grouped transaction; resolves with its result after the commit. */
  submit<T>(op: () => T): Promise<T> {
    if (this.closed) return Promise.reject(closedError());
    this.counters.operations++;
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ op, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /**
   * Runs `during` with this process's commits held back: writes submitted meanwhile queue up (the event loop stays
   * free) and commit together once `during` settles, or once a timer of `atMostMs` fires (later on a busy event loop),
   * whatever it does. The prune's checkpoint thread uses it for its last catch-up, so a checkpoint can find nothing
   * committed after it began. False, and `during` not run: the batcher is closed or already held.
   */
  async hold(during: () => Promise<void>, atMostMs: number): Promise<boolean> {
    if (this.closed || this.held) return false;
    this.held = true;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([during(), new Promise<void>((resolve) => (timer = setTimeout(resolve, atMostMs)))]);
      return true;
    } finally {
      clearTimeout(timer);
      this.held = false;
      if (!this.scheduled && this.queue.length > 0) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    }
  }

  stats(): StoreStats {
    return { ...this.counters };
  }

  /** Refuses new writes and resolves once everything already queued has been committed (or rejected). */
  async close(): Promise<void> {
    this.closed = true;
    if (!this.scheduled && this.queue.length === 0) return;
    await new Promise<void>((r) => this.idle.push(r));
  }

  private flush(): void {
    this.scheduled = false;
    // Held back: hold() schedules the flush again when it lets go.
    if (this.held) return;
    const batch = this.queue.length <= this.maxBatch ? this.queue : this.queue.slice(0, this.maxBatch);
    this.queue = this.queue.length <= this.maxBatch ? [] : this.queue.slice(this.maxBatch);
    if (this.queue.length > 0) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    if (batch.length > 0) this.commit(batch);
    if (!this.scheduled) for (const done of this.idle.splice(0)) done();
  }

  private commit(batch: PendingWrite[]): void {
    this.counters.largestBatch = Math.max(this.counters.largestBatch, batch.length);
    let results: Settled[] = [];
    let failure = this.attempt(batch, results, false);
    // An operation failed for its own reasons (not the database's): run the batch again, each call isolated.
    if (failure && batch.length > 1 && !(classifySqliteError(failure.err) instanceof StoreUnavailableError)) {
      results = [];
      failure = this.attempt(batch, results, true);
    }
    if (failure) {
      const error = classifySqliteError(failure.err);
      if (error instanceof StoreUnavailableError) this.counters.lastRefusal = { at: Date.now(), reason: error.reason };
      for (const w of batch) w.reject(error);
      return;
    }
    this.counters.lastCommitAt = Date.now();
    batch.forEach((w, i) => {
      const r = results[i]!;
      if (r.ok) w.resolve(r.value);
      else w.reject(r.error);
    });
  }

  private attempt(batch: PendingWrite[], results: Settled[], isolate: boolean): { err: unknown } | undefined {
    this.counters.transactions++;
    try {
      this.runBatch.immediate(batch, results, isolate);
      return undefined;
    } catch (err) {
      this.counters.failedTransactions++;
      return { err };
    }
  }
}

type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };
