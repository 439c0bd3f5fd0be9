// WAL checkpoints off the main thread while the SQLite store prunes. A prune rewrites many pages in a row; with the
// connection's automatic checkpoint, every 5,000 WAL pages one committing window on the main thread also copied them
// into the database file and synced it, which held the event loop (and the webhooks waiting on it) for 100–300 ms on
// a large store. For the prune's time a thread with its own connection makes PASSIVE checkpoints (they take no lock a
// writer waits for), and the main connection's automatic checkpoint is off from the moment the thread has its
// connection open until the prune ends. Past the usual size the prune waits for the thread to catch up, so the WAL
// stays bounded (the usual size plus what is committed during one checkpoint) and is reused from its start. When
// webhooks keep the thread from catching up, its last checkpoint runs with this process's commits held back for a
// moment (they queue, the event loop stays free), instead of the main connection copying the pages itself.
// When the thread fails, ends, or does not answer in time, the main connection's automatic checkpoint is put back at
// once (the WAL keeps every commit until a checkpoint copies it, so nothing is lost either way).
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

/** What the main thread sends the checkpoint thread. */
export type CheckpointRequest = { kind: 'checkpoint' } | { kind: 'stop' };
/** The thread's messages: its connection is open; a checkpoint's answer, the WAL's frames and how many are in the database file. */
export type CheckpointAnswer = { kind: 'ready' } | { kind: 'done'; log: number; checkpointed: number };

/** What the checkpoints of one prune came to, for pruneStats(). */
export interface CheckpointSummary {
  /** Checkpoints the thread made. */
  checkpoints: number;
  /** The most WAL frames a checkpoint saw. */
  largestLog: number;
  /** Checkpoints the thread made with the commits held back, after it had not caught up with them (see afterCommit). */
  heldCheckpoints: number;
  /** The longest such hold, in ms (webhooks wait that long to be stored; the event loop does not). */
  longestHoldMs: number;
  /** Checkpoints the main connection made when the thread did not catch up even then (see afterCommit). */
  mainCheckpoints: number;
  /** The longest of those, in ms (it holds the event loop). */
  longestMainMs: number;
  /** Why the thread stopped before the prune ended (then the main connection checkpointed again); none: it did not. */
  failure?: string;
}

export interface PruneCheckpointOptions {
  /** The main connection's automatic checkpoint, in WAL pages: put back when the prune ends or the thread fails. */
  autocheckpointPages: number;
  /** Past this many WAL frames the prune waits for the thread's checkpoint before its next window. */
  walLimitPages: number;
  /** The longest wait for an answer before the thread is given up on. */
  answerTimeoutMs: number;
  /** The thread's script (tests give one that fails). */
  worker?: URL;
  /**
   * Runs a checkpoint with this process's commits held back until it ends or a timer of the given ms fires (the
   * store's WriteBatcher.hold); false when nothing was held or run (the store is closing).
   */
  holdWrites?: (during: () => Promise<void>, atMostMs: number) => Promise<boolean>;
}

/** How many checkpoints the thread makes to catch up with the commits before the main connection makes one. */
export const CATCH_UP_ROUNDS = 5;

/** The longest the commits are held back for the thread's last catch-up (it copies a few webhooks' pages: a few ms). */
export const HOLD_MS = 100;

/** How long the prune waits for one checkpoint before it gives the thread up and checkpoints on the main thread. */
export const CHECKPOINT_ANSWER_TIMEOUT_MS = 60_000;

/**
 * The checkpoint thread of one prune. `started` resolves once the thread has its connection open (then the main
 * connection's automatic checkpoint is off) or has failed to (then it stays on).
 *
 * @example
 *   const ckpt = new PruneCheckpoints(db, file, { autocheckpointPages: 5000, walLimitPages: 5000, answerTimeoutMs: 60_000 });
 *   try { await ckpt.started; for (...) { await commitWindow(); await ckpt.afterCommit(); } } finally { await ckpt.end(); }
 */
export class PruneCheckpoints {
  readonly started: Promise<void>;

  private readonly worker: Worker;
  private readonly summary: CheckpointSummary = { checkpoints: 0, largestLog: 0, heldCheckpoints: 0, longestHoldMs: 0, mainCheckpoints: 0, longestMainMs: 0 };
  /** The checkpoint under way: settles with its answer, or when the thread is given up on. */
  private pending: Promise<void> | undefined;
  private answered: (() => void) | undefined;
  private lastLog = 0;
  /** The last answer was a checkpoint that could not run (SQLite's -1). */
  private lastBusy = false;
  /** The last answer found every frame of the WAL in the database file: the next write starts the WAL anew. */
  private caughtUp = false;
  private stopped = false;
  private ended: Promise<CheckpointSummary> | undefined;
  private exited: Promise<void>;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Database.Database,
    file: string,
    private readonly opts: PruneCheckpointOptions,
  ) {
    this.worker = new Worker(opts.worker ?? new URL('./prune-checkpoints.worker.js', import.meta.url), { workerData: { file } });
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.on('message', (a: CheckpointAnswer) => {
      if (a.kind === 'ready') {
        // Until the thread can checkpoint, the main connection goes on doing it: the WAL is never left without either.
        if (!this.stopped) this.db.pragma('wal_autocheckpoint = 0');
      } else {
        this.summary.checkpoints++;
        // SQLite answers -1 when the checkpoint could not run (another connection was checkpointing, a CLI's write
        // past its own limit): nothing is known of the WAL then, so the last size seen stands.
        this.lastBusy = a.log < 0;
        this.caughtUp = !this.lastBusy && a.checkpointed === a.log;
        if (!this.lastBusy) this.lastLog = a.log;
        this.summary.largestLog = Math.max(this.summary.largestLog, a.log);
      }
      this.settle();
    });
    this.worker.once('error', (e) => this.fallBack(`the checkpoint thread failed: ${e.message}`));
    this.worker.once('exit', (code) => this.fallBack(`the checkpoint thread ended (exit code ${code})`));
    this.expectAnswer();
    this.started = this.pending!;
  }

  /**
   * To be called after each window's commit: asks for a checkpoint unless one is under way. Once the WAL holds more
   * than `walLimitPages` frames, the prune's next window waits (webhooks are stored meanwhile) until the thread has
   * caught up: SQLite reuses the WAL from its start only at a write that finds all of it in the database file, and a
   * checkpoint that ran while windows were committed never caught up with them (the WAL grew to 13,000 frames, 54 MB,
   * in a prune that wrote 20 MB between checkpoints). The thread checkpoints again until one finds nothing committed
   * since the one before, or finds all of it copied (a few webhooks' pages each time). After `CATCH_UP_ROUNDS` it makes
   * one more with this process's commits held back (`holdWrites`, at most `HOLD_MS`): nothing can be committed under
   * it, so it catches up. Only if even that one does not (another process writing, a thread that answers -1) does the
   * main connection copy what is left itself, as its own automatic checkpoint would have: the WAL stays bounded under
   * any load.
   */
  async afterCommit(): Promise<void> {
    if (this.stopped) return;
    if (this.lastLog <= this.opts.walLimitPages) {
      if (!this.pending) this.request();
      return;
    }
    let before = -1;
    for (let round = 0; round < CATCH_UP_ROUNDS; round++) {
      if (this.stopped) return;
      await this.checkpoint();
      // A checkpoint that could not run tells nothing: ask again (after the rounds, the main connection copies).
      if (this.lastBusy) continue;
      // Nothing committed since the last checkpoint (the next write starts the WAL anew), or a write already did.
      if (this.lastLog === before || this.lastLog <= this.opts.walLimitPages) return;
      before = this.lastLog;
    }
    if (this.stopped) return;
    if (this.opts.holdWrites) {
      const held = performance.now();
      if (!(await this.opts.holdWrites(() => this.checkpoint(), HOLD_MS))) return;
      this.summary.longestHoldMs = Math.max(this.summary.longestHoldMs, performance.now() - held);
      this.summary.heldCheckpoints++;
      // Still under way when the hold let go (`pending`): a copy by the main connection now would block the event loop
      // or find the thread's checkpoint running; the next window waits for its answer instead (the rounds above).
      if (this.stopped || this.pending || this.caughtUp) return;
    }
    if (this.stopped || !this.db.open) return;
    const started = performance.now();
    this.db.pragma('wal_checkpoint(PASSIVE)');
    this.summary.mainCheckpoints++;
    this.summary.longestMainMs = Math.max(this.summary.longestMainMs, performance.now() - started);
    this.lastLog = 0;
  }

  /** One last checkpoint by the thread, the thread stopped, the main connection's automatic checkpoint put back. */
  end(): Promise<CheckpointSummary> {
    this.ended ??= (async () => {
      if (!this.stopped) await this.checkpoint();
      if (!this.stopped) {
        this.stopped = true;
        this.worker.postMessage({ kind: 'stop' } satisfies CheckpointRequest);
        this.restore();
      }
      await this.exited;
      return { ...this.summary };
    })();
    return this.ended;
  }

  /**
   * One checkpoint made from now on: waits for the one under way (and any another caller asked for meanwhile), then
   * asks for its own and waits for it. One request at a time: a close() during the prune calls end() while the prune
   * may be asking too, and a second request made over a first one left the first one's timer running (it held the
   * process open 60 s after the store was closed).
   */
  private async checkpoint(): Promise<void> {
    while (this.pending) await this.pending;
    if (this.stopped) return;
    this.request();
    await this.pending;
  }

  /** Asks for a checkpoint; never while one is under way (its answer would settle the wrong request). */
  private request(): void {
    if (this.pending) return;
    this.expectAnswer();
    this.worker.postMessage({ kind: 'checkpoint' } satisfies CheckpointRequest);
  }

  /** The next message from the thread settles `pending`; none in `answerTimeoutMs` gives the thread up. */
  private expectAnswer(): void {
    clearTimeout(this.timer);
    this.pending = new Promise((resolve) => (this.answered = resolve));
    this.timer = setTimeout(() => {
      this.fallBack(`the checkpoint thread did not answer in ${this.opts.answerTimeoutMs} ms`);
      void this.worker.terminate();
    }, this.opts.answerTimeoutMs);
  }

  private settle(): void {
    clearTimeout(this.timer);
    const done = this.answered;
    this.pending = undefined;
    this.answered = undefined;
    done?.();
  }

  /** The thread is gone or given up on: the main connection checkpoints again, from its next commit on. */
  private fallBack(why: string): void {
    if (this.stopped) return;
    this.stopped = true;
    this.summary.failure = why;
    this.restore();
    this.settle();
  }

  private restore(): void {
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${this.opts.autocheckpointPages}`);
  }
}
