// How the server sizes its JavaScript heaps. V8's defaults suit a process that owns a big machine: after each full
// collection it lets the old generation grow to up to four times what survived, and each thread's young generation
// to 48 MB (V8's measure: two 16 MB semi-spaces, which `new_space` reports as 32 MB, plus one more for large
// objects). The server keeps little alive (a job's data lives for one delivery), so under load that slack is most of
// its memory. `compact` (the default) keeps the heaps near their live size: measured on 2 cores, with the jobs on the
// main thread, the peak RSS under the benchmark's load is about 122–125 MiB (docs/configuration.md has the comparisons).
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import type { ResourceLimits } from 'node:worker_threads';
import type { HeapSetting } from './config.js';

/** After a full collection the old generation may grow to 1.5 × what survived (V8's default allows up to 4 ×). */
export const COMPACT_HEAP_GROWING_PERCENT = 50;
/**
 * The delivery thread's young generation: two 4 MB semi-spaces and their overflow, instead of up to 48 MB. Measured
 * with --trace-gc over the same load: 6 MB doubled the thread's collection time per letter (0.47 against 0.24 ms with
 * V8's default), 12 MB took 0.27 ms for the same peak RSS.
 */
export const COMPACT_THREAD_YOUNG_GENERATION_MB = 12;

/**
 * Applies the setting to this process. V8's heap-growing factor is one process-wide flag, read whenever a collector
 * sets the next heap limit, so it takes effect on the running main thread and on every thread started later. It is
 * only ever tightened here: `v8` leaves V8's sizing as the process had it.
 */
export function applyHeapSetting(setting: HeapSetting, o: { deliveryThread?: boolean } = {}): void {
  if (setting !== 'compact') return;
  setFlagsFromString(`--heap-growing-percent=${COMPACT_HEAP_GROWING_PERCENT}`);
  // The growth factor is one flag for every thread: held at 1 it would also stop a delivery thread's young
  // generation from growing at all, so with a delivery thread that thread's resource limit caps its own instead.
  if (!o.deliveryThread) capYoungGeneration(COMPACT_MAIN_YOUNG_GENERATION_MB);
}

/**
 * The main thread's new space (its two semi-spaces) under `compact`: 16 MB instead of V8's 32 MB. Measured with
 * `npm run bench`: about 15 MiB less at the peak, with no CPU per letter to tell apart (most of a request's objects
 * die young).
 */
export const COMPACT_MAIN_YOUNG_GENERATION_MB = 16;

let capping: PerformanceObserver | undefined;

/**
 * The factor V8 may grow a young generation of `youngBytes` by under a cap of `capBytes`: 2 (V8's default) while a
 * doubling stays within the cap, else 1 (no growth). V8 shrinks an idle young generation to twice what survived,
 * rounded to its 256 KiB pages, so it may regrow from any size, not only from halves of the cap: from 1.5 MiB it
 * doubles to 12 MiB, and growing while below 16 MiB took it to 24 MiB, 28 MiB from 1.75 (seen under the benchmark's
 * load, up to 12 MiB of the peak RSS). The factor is a whole number, so such a young generation stays below the cap.
 */
export function youngGrowthFactor(youngBytes: number, capBytes: number): 1 | 2 {
  return youngBytes * 2 <= capBytes ? 2 : 1;
}

/**
 * Holds the main thread's young generation at `mb` at most. Its maximum is fixed when V8 starts
 * (`--max-semi-space-size`, a flag no code can set later), but V8 reaches that maximum by doubling the young
 * generation as objects survive, and the factor it doubles by is read at every growth. So after each collection the
 * factor is set by `youngGrowthFactor`: 1 (no growth) once a doubling would pass `mb`, 2 again below, for example
 * after V8 shrank it while idle.
 */
export function capYoungGeneration(mb: number): void {
  if (capping) return;
  const target = mb * 1024 * 1024;
  let factor = 2;
  const check = () => {
    const young = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
    const want = youngGrowthFactor(young, target);
    if (want !== factor) setFlagsFromString(`--semi-space-growth-factor=${(factor = want)}`);
  };
  capping = new PerformanceObserver(check);
  capping.observe({ entryTypes: ['gc'] });
  check();
}

/** Limits for the delivery thread's heap: a smaller young generation with `compact`, V8's defaults with `v8`. */
export function deliveryThreadLimits(setting: HeapSetting): ResourceLimits | undefined {
  return setting === 'compact' ? { maxYoungGenerationSizeMb: COMPACT_THREAD_YOUNG_GENERATION_MB } : undefined;
}
