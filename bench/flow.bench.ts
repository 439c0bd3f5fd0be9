// Benchmark (b): the article's flow end to end, ours against the plain baseline in the same run. Each side gets the
// same webhooks (a warm-up, then `webhooks` of them over `connections` connections), the same Bpium emulator (its own
// process, as Bpium is remote) and an SMTP sink of its own. Per side: letters per second from the first webhook to the
// last letter, the server's CPU time (all threads, from /proc) per letter, the webhook-to-mailbox delay and peak RSS.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { benchWorkspace, median, peakRssMiB, percentile, round, startBpiumEmulatorChild, startOktellChild, startScriptChild, stopChild, type ServerChild } from './bench-support.js';
import { fireWebhooks, sinkReset, sinkStats, waitForLetters } from './load.js';

export interface FlowSide {
  webhooks: number;
  acknowledged: number;
  letters: number;
  lettersPerSecond: number;
  /** Server CPU (user + system, every thread) from the first webhook to the last letter, per letter. */
  cpuMsPerLetter: number;
  ackPerSecond: number;
  p50DelayMs: number;
  p99DelayMs: number;
  peakRssMiB: number | undefined;
  missing: number;
  duplicates: number;
}

export interface FlowResult {
  webhooks: number;
  connections: number;
  rounds: number;
  plain: FlowSide;
  oktell: FlowSide;
  /** oktell / plain, medians over rounds: > 1 is better for letters/s, < 1 is better for CPU, delay and memory. */
  ratios: { lettersPerSecond: number; cpuPerLetter: number; p99Delay: number; peakRss: number };
  perRound: Array<{ plain: FlowSide; oktell: FlowSide }>;
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time a process has used so far, in ms (utime + stime of all its threads). */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

type Side = 'plain' | 'oktell';

async function measureSide(side: Side, bpiumEnv: Record<string, string>, webhooks: number, connections: number): Promise<FlowSide> {
  const sink = await startScriptChild('smtp-sink.child.js');
  const mailEnv = { SMTP_URL: `smtp://127.0.0.1:${sink.port}`, MAIL_FROM: 'Oktell <oktell@example.com>' };
  const ws = benchWorkspace(`oktell-bench-flow-${side}-`);
  let server: ServerChild;
  if (side === 'oktell') server = await startOktellChild(ws, { ...mailEnv, ...bpiumEnv });
  else server = await startScriptChild('plain-flow.child.js', [], { ...mailEnv, ...bpiumEnv, BPIUM_WEBHOOK_SECRET: 'bench-webhook-secret' });
  try {
    // Warm-up, not measured: JIT, connection pools, SQLite pages.
    const warm = await fireWebhooks(server.url, { amount: Math.max(200, Math.round(webhooks / 4)), connections });
    await waitForLetters(sink.child, warm.ok, 120_000);
    await sinkReset(sink.child);
    const pid = server.child.pid!;
    const cpu0 = processCpuMs(pid);
    const t0 = Date.now();
    const load = await fireWebhooks(server.url, { amount: webhooks, connections });
    const s = await waitForLetters(sink.child, load.ok, 180_000);
    const cpu1 = processCpuMs(pid);
    const seconds = Math.max(0.001, (s.lastAt - t0) / 1000);
    const stats = await sinkStats(sink.child);
    return {
      webhooks,
      acknowledged: load.ok,
      letters: s.letters,
      lettersPerSecond: round(s.letters / seconds, 0),
      cpuMsPerLetter: round((cpu1 - cpu0) / Math.max(1, s.letters), 2),
      ackPerSecond: round(load.rps, 0),
      p50DelayMs: percentile(s.delays, 50),
      p99DelayMs: percentile(s.delays, 99),
      peakRssMiB: peakRssMiB(pid),
      missing: Math.max(0, load.ok - s.letters),
      duplicates: stats.duplicates,
    };
  } finally {
    await server.stop();
    await stopChild(sink.child);
    ws.cleanup();
  }
}

function medianSide(sides: FlowSide[]): FlowSide {
  const m = (f: (s: FlowSide) => number) => median(sides.map(f));
  const first = sides[0]!;
  return {
    ...first,
    acknowledged: m((s) => s.acknowledged),
    letters: m((s) => s.letters),
    lettersPerSecond: m((s) => s.lettersPerSecond),
    cpuMsPerLetter: round(m((s) => s.cpuMsPerLetter), 2),
    ackPerSecond: m((s) => s.ackPerSecond),
    p50DelayMs: m((s) => s.p50DelayMs),
    p99DelayMs: m((s) => s.p99DelayMs),
    peakRssMiB: Math.max(...sides.map((s) => s.peakRssMiB ?? 0)) || undefined,
    missing: sides.reduce((a, s) => a + s.missing, 0),
    duplicates: sides.reduce((a, s) => a + s.duplicates, 0),
  };
}

/** Rounds alternate which side goes first; each side's figures are medians over rounds, the ratios medians of per-round ratios. */
export async function benchFlow(o: { webhooks?: number; connections?: number; rounds?: number; log?: (s: string) => void } = {}): Promise<FlowResult> {
  const webhooks = o.webhooks ?? 2000;
  const connections = o.connections ?? 20;
  const rounds = o.rounds ?? 2;
  const ws = benchWorkspace('oktell-bench-flow-bpium-');
  const bpium = await startBpiumEmulatorChild(ws);
  try {
    const perRound: Array<{ plain: FlowSide; oktell: FlowSide }> = [];
    for (let i = 0; i < rounds; i++) {
      const order: Side[] = i % 2 === 0 ? ['plain', 'oktell'] : ['oktell', 'plain'];
      const got: Partial<Record<Side, FlowSide>> = {};
      for (const side of order) {
        got[side] = await measureSide(side, bpium.serverEnv, webhooks, connections);
        o.log?.(`  round ${i + 1} ${side}: ${got[side]!.lettersPerSecond} letters/s, ${got[side]!.cpuMsPerLetter} ms CPU per letter`);
      }
      perRound.push({ plain: got.plain!, oktell: got.oktell! });
    }
    const ratio = (f: (s: FlowSide) => number | undefined) => round(median(perRound.map((r) => (f(r.oktell) ?? NaN) / (f(r.plain) ?? NaN))), 2);
    return {
      webhooks,
      connections,
      rounds,
      plain: medianSide(perRound.map((r) => r.plain)),
      oktell: medianSide(perRound.map((r) => r.oktell)),
      ratios: {
        lettersPerSecond: ratio((s) => s.lettersPerSecond),
        cpuPerLetter: ratio((s) => s.cpuMsPerLetter),
        p99Delay: ratio((s) => s.p99DelayMs),
        peakRss: ratio((s) => s.peakRssMiB),
      },
      perRound,
    };
  } finally {
    await bpium.stop();
    ws.cleanup();
  }
}
