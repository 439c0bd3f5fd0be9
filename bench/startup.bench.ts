// Benchmark (d, first half): time from spawning `node bin/oktell-emu.js serve` to its first healthy answer.
import { benchWorkspace, median, round, startOktellChild } from './bench-support.js';

export interface StartupResult {
  /** Fresh data folder (the store and the emulator's data are created). */
  freshMs: number[];
  /** Restart on the same data folder. */
  restartMs: number[];
  medianMs: number;
  maxMs: number;
}

export async function benchStartup(o: { times?: number } = {}): Promise<StartupResult> {
  const times = o.times ?? 3;
  const freshMs: number[] = [];
  const restartMs: number[] = [];
  for (let i = 0; i < times; i++) {
    const ws = benchWorkspace('oktell-bench-start-');
    try {
      const fresh = await startOktellChild(ws);
      freshMs.push(round(fresh.startMs, 0));
      await fresh.stop();
      const again = await startOktellChild(ws);
      restartMs.push(round(again.startMs, 0));
      await again.stop();
    } finally {
      ws.cleanup();
    }
  }
  const all = [...freshMs, ...restartMs];
  return { freshMs, restartMs, medianMs: median(all), maxMs: Math.max(...all) };
}
