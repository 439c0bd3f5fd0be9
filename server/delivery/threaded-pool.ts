// The worker pool run in a delivery thread: the main thread answers HTTP and owns the store; scenarios, Bpium calls
// and letters run on the other thread (the second core), so acknowledgements do not wait behind deliveries.
import { Worker, type ResourceLimits } from 'node:worker_threads';
import type { LoggerPort, OutageLogPort } from '../../engine/index.js';
import { serializeError, type DeliveryInit, type ToMain, type ToThread } from './protocol.js';
import type { PoolStopReport, WorkerPool } from './pool.js';
import { dispatchCall, type DeliveryStore } from './store-link.js';
import type { RunTally } from '../metrics.js';

export interface ThreadedPoolOptions {
  store: DeliveryStore;
  logger: LoggerPort;
  /** Where the thread's outage reports go (`init.foldOutages`). */
  outages?: OutageLogPort;
  init: DeliveryInit;
  /**
   * Called after each finished attempt in the thread (metrics); `mayRepeat`: its effects that may repeat a cut-off
   * attempt's; `outcome`: what became of its job (the pool's: `queued`, `dead`, `failed`, `succeeded`…).
   */
  onAttempt?: (status: string, seconds: number, tally: RunTally, mayRepeat: number, outcome: string) => void;
  /** A thread that died is started again after this many ms (default 1000); its jobs are claimed again by lease. */
  restartMs?: number;
  /** Heap limits of the thread (see server/heap.ts); V8's defaults when absent. */
  resourceLimits?: ResourceLimits;
}

export interface ThreadedPool extends WorkerPool {
  /** The scenarios changed on disk: the thread reloads its copy. */
  reload(): void;
  /** The heap limits the running thread was given, as V8 reports them (undefined while no thread runs). */
  resourceLimits(): ResourceLimits | undefined;
}

export function createThreadedWorkerPool(o: ThreadedPoolOptions): ThreadedPool {
  let worker: Worker | undefined;
  let running = 0;
  let stopping = false;
  let stopped: ((report: PoolStopReport) => void) | undefined;
  let restartTimer: NodeJS.Timeout | undefined;
  const send = (m: ToThread) => worker?.postMessage(m);

  let ready: (() => void) | undefined;
  function spawn() {
    const w = new Worker(new URL('./thread.js', import.meta.url), { workerData: o.init, ...(o.resourceLimits ? { resourceLimits: o.resourceLimits } : {}) });
    worker = w;
    w.on('message', (m: ToMain) => {
      switch (m.t) {
        case 'call':
          dispatchCall(o.store, m.call).then(
            (value) => w.postMessage({ t: 'result', id: m.id, ok: true, value } satisfies ToThread),
            (e: unknown) => w.postMessage({ t: 'result', id: m.id, ok: false, error: serializeError(e) } satisfies ToThread),
          );
          return;
        case 'log':
          o.logger[m.level](m.obj, m.msg);
          return;
        case 'outage':
          if (!o.outages) return;
          if (m.call === 'effectFailed') o.outages.effectFailed(m.key, m.line);
          else if (m.call === 'attemptFailed') o.outages.attemptFailed(m.key, m.line, m.job);
          else o.outages.reached(m.target);
          return;
        case 'attempt':
          running = m.running;
          o.onAttempt?.(m.status, m.seconds, m.tally, m.mayRepeat, m.outcome);
          return;
        case 'stopped':
          running = 0;
          stopped?.({ unfinished: m.unfinished, unrecorded: m.unrecorded, leased: m.leased, ...(m.takenOver ? { takenOver: m.takenOver } : {}) });
          return;
        case 'ready':
          ready?.();
          ready = undefined;
          return;
      }
    });
    w.on('error', (err) => o.logger.error({ err }, 'the delivery thread failed'));
    w.on('exit', (code) => {
      if (worker === w) worker = undefined;
      if (stopping) {
        stopped?.({ unfinished: running, unrecorded: [], leased: running });
        return;
      }
      // Its running jobs keep their leases and are claimed again once those expire; queued jobs wait for the new thread.
      o.logger.error({ code }, `the delivery thread exited (${code}); starting it again`);
      restartTimer = setTimeout(spawn, o.restartMs ?? 1000);
    });
  }

  return {
    start: () =>
      new Promise<void>((resolve, reject) => {
        ready = resolve;
        spawn();
        // A thread that cannot start at all (a broken install) fails the start instead of restarting forever.
        worker!.once('error', (err) => {
          if (!ready) return;
          ready = undefined;
          stopping = true;
          reject(err);
        });
      }),
    wake: () => send({ t: 'wake' }),
    reload: () => send({ t: 'reload' }),
    resourceLimits: () => worker?.resourceLimits,
    async stop(graceMs = 10_000) {
      stopping = true;
      clearTimeout(restartTimer);
      const w = worker;
      if (!w) return { unfinished: 0, unrecorded: [], leased: 0 };
      const report = await new Promise<PoolStopReport>((resolve) => {
        stopped = resolve;
        w.postMessage({ t: 'stop', graceMs } satisfies ToThread);
      });
      await w.terminate();
      return report;
    },
    get running() {
      return running;
    },
  };
}
