// Benchmark (b): end to end — signed webhooks at a steady offered rate → HTTP404 → job → BpiumNewTask → the Bpium
// emulator (its own process, as Bpium is remote) → a letter on a local SMTP server; notifications per second and webhook-to-mailbox delay.
import { benchWorkspace, peakRssMiB, percentile, round, startOktellChild, startBpiumEmulatorChild, startScriptChild, stopChild } from './bench-support.js';
import { fireWebhooks, sinkReset, sinkStats, waitForLetters } from './load.js';

export interface E2eResult {
  /** Letters per second delivered after a burst of `probeWebhooks` (the pool draining a backlog, no new requests). */
  capacityPerSecond: number;
  probeWebhooks: number;
  offeredRate: number;
  seconds: number;
  acknowledged: number;
  letters: number;
  /** Letters that arrived during the sending window, per second of it. */
  sustainedPerSecond: number;
  /** All letters divided by the time from the first webhook to the last letter. */
  overallPerSecond: number;
  p50DelayMs: number;
  p99DelayMs: number;
  /** Seconds after the last webhook until the last letter. */
  drainSeconds: number;
  lettersMissing: number;
  peakRssMiB: number | undefined;
}

/**
 * First a probe: a burst of webhooks as fast as they are acknowledged; the letters delivered after it, per second
 * until the last one, give the delivery capacity. Then the sustained run: webhooks at `rate` (default 80 % of that capacity, so the queue
 * stays short and the delay means something) for `seconds`.
 */
export async function benchE2e(o: { rate?: number; seconds?: number; connections?: number; probeSeconds?: number } = {}): Promise<E2eResult> {
  const seconds = o.seconds ?? 30;
  const ws = benchWorkspace('oktell-bench-e2e-');
  const sink = await startScriptChild('smtp-sink.child.js');
  const bpium = await startBpiumEmulatorChild(ws);
  const oktell = await startOktellChild(ws, { SMTP_URL: `smtp://127.0.0.1:${sink.port}`, MAIL_FROM: 'Oktell <oktell@example.com>', ...bpium.serverEnv });
  try {
    // Warm-up, not measured: JIT of both threads, the SMTP and Bpium connections, SQLite pages.
    const warm = await fireWebhooks(oktell.url, { seconds: 2, connections: 16 });
    await waitForLetters(sink.child, warm.ok, 120_000);
    await new Promise((r) => setTimeout(r, 1000));
    await sinkReset(sink.child);
    const probe = await fireWebhooks(oktell.url, { seconds: o.probeSeconds ?? 2, connections: 16 });
    const probeEnd = Date.now();
    const atProbeEnd = (await sinkStats(sink.child)).letters;
    let probed = await waitForLetters(sink.child, probe.ok, 120_000);
    // Requests still in flight when the load stopped were acknowledged too: wait until the count stops moving.
    for (let last = -1; probed.letters !== last; ) {
      last = probed.letters;
      await new Promise((r) => setTimeout(r, 1000));
      probed = await sinkStats(sink.child);
    }
    // Letters delivered after the burst, per second until the last one: the rate at which the pool drains a backlog
    // when no requests compete with it.
    const capacity = (probed.letters - atProbeEnd) / Math.max(0.001, (probed.lastAt - probeEnd) / 1000);
    await sinkReset(sink.child);
    const rate = o.rate ?? Math.max(10, Math.round((capacity * 0.8) / 10) * 10);
    const t0 = Date.now();
    const load = await fireWebhooks(oktell.url, { seconds, connections: o.connections ?? 32, overallRate: rate });
    const sentUntil = Date.now();
    const during = await sinkStats(sink.child);
    const s = await waitForLetters(sink.child, load.ok, 120_000);
    const window = (sentUntil - t0) / 1000;
    return {
      capacityPerSecond: round(capacity, 0),
      probeWebhooks: probe.ok,
      offeredRate: rate,
      seconds,
      acknowledged: load.ok,
      letters: s.letters,
      sustainedPerSecond: round(during.letters / window, 0),
      overallPerSecond: round(s.letters / ((s.lastAt - t0) / 1000), 0),
      p50DelayMs: percentile(s.delays, 50),
      p99DelayMs: percentile(s.delays, 99),
      drainSeconds: round(Math.max(0, s.lastAt - sentUntil) / 1000, 1),
      lettersMissing: Math.max(0, load.ok - s.letters),
      peakRssMiB: peakRssMiB(oktell.child.pid!),
    };
  } finally {
    await oktell.stop();
    await stopChild(sink.child);
    await bpium.stop();
    ws.cleanup();
  }
}
