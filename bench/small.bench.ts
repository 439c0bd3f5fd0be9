// Benchmark (d), the smallest setup: the server with its jobs on the main thread and a small young generation, wired
// to the Bpium emulator (its own process) and an SMTP sink; its peak RSS and the rate at which it drains a backlog.
import { benchWorkspace, peakRssMiB, round, startOktellChild, startBpiumEmulatorChild, startScriptChild, stopChild, type ServerChild } from './bench-support.js';
import { fireWebhooks, sinkReset, sinkStats, waitForLetters } from './load.js';

/**
 * A fresh data folder, the SMTP sink, the Bpium emulator (its own process) and `oktell-emu serve` wired to both, with
 * `env` and Node's `nodeArgs` on top; `measure` runs against them and everything is stopped afterwards.
 */
async function withDeliveryRig<T>(prefix: string, env: Record<string, string>, nodeArgs: string[], measure: (oktell: ServerChild, sink: ServerChild) => Promise<T>): Promise<T> {
  const ws = benchWorkspace(prefix);
  const sink = await startScriptChild('smtp-sink.child.js');
  const bpium = await startBpiumEmulatorChild(ws);
  const oktell = await startOktellChild(ws, { SMTP_URL: `smtp://127.0.0.1:${sink.port}`, MAIL_FROM: 'Oktell <oktell@example.com>', ...bpium.serverEnv, ...env }, nodeArgs);
  try {
    return await measure(oktell, sink);
  } finally {
    await oktell.stop();
    await stopChild(sink.child);
    await bpium.stop();
    ws.cleanup();
  }
}

/**
 * Warm-up, then a burst of webhooks as fast as they are acknowledged; the letters delivered after the burst, per second
 * until the last one, are the rate at which the pool drains a backlog when no requests compete with it.
 */
async function probeCapacity(url: string, sink: ServerChild, probeSeconds = 2): Promise<{ capacity: number; probeWebhooks: number }> {
  // Warm-up, not measured: JIT of both threads, the SMTP and Bpium connections, SQLite pages.
  const warm = await fireWebhooks(url, { seconds: 2, connections: 16 });
  await waitForLetters(sink.child, warm.ok, 120_000);
  await new Promise((r) => setTimeout(r, 1000));
  await sinkReset(sink.child);
  const probe = await fireWebhooks(url, { seconds: probeSeconds, connections: 16 });
  const probeEnd = Date.now();
  const atProbeEnd = (await sinkStats(sink.child)).letters;
  let probed = await waitForLetters(sink.child, probe.ok, 120_000);
  // Requests still in flight when the load stopped were acknowledged too: wait until the count stops moving.
  for (let last = -1; probed.letters !== last; ) {
    last = probed.letters;
    await new Promise((r) => setTimeout(r, 1000));
    probed = await sinkStats(sink.child);
  }
  await sinkReset(sink.child);
  return { capacity: (probed.letters - atProbeEnd) / Math.max(0.001, (probed.lastAt - probeEnd) / 1000), probeWebhooks: probe.ok };
}

export interface SmallFootprintResult {
  /** The settings measured: the server's environment and Node's flags. */
  env: Record<string, string>;
  nodeArgs: string[];
  peakRssMiB: number | undefined;
  capacityPerSecond: number;
  probeWebhooks: number;
}

/** The smallest setup docs/configuration.md describes: one thread, a small young generation. Its RSS and capacity. */
export const SMALL_FOOTPRINT = { env: { OKTELL_DELIVERY_THREAD: 'off' }, nodeArgs: ['--max-semi-space-size=2'] };

export async function benchSmallFootprint(): Promise<SmallFootprintResult> {
  return withDeliveryRig('oktell-bench-small-', SMALL_FOOTPRINT.env, SMALL_FOOTPRINT.nodeArgs, async (oktell, sink) => {
    const { capacity, probeWebhooks } = await probeCapacity(oktell.url, sink, 4);
    return { ...SMALL_FOOTPRINT, peakRssMiB: peakRssMiB(oktell.child.pid!), capacityPerSecond: round(capacity, 0), probeWebhooks };
  });
}
