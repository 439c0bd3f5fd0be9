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
  /**
   * What bounds letters/s: the share of the span the server's main thread was on a core (1 = saturated), and the CPU
   * per letter of the other processes of the run (the SMTP sink, the Bpium emulator, the load generator), which share
   * the same cores.
   */
  bounds: { mainThreadBusy: number; othersCpuMsPerLetter: { smtpSink: number; bpium: number; loadGenerator: number } };
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
  return statCpuMs(`/proc/${pid}/stat`);
}

/** CPU time of a process's main thread (the one running JavaScript and the event loop), in ms. */
export function mainThreadCpuMs(pid: number): number {
  return statCpuMs(`/proc/${pid}/task/${pid}/stat`);
}

function statCpuMs(file: string): number {
  const stat = readFileSync(file, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

/** CPU clocks of the processes of one measurement: the server (all threads and its main thread), the others, this one. */
export function cpuClocks(server: number, others: Record<string, number>) {
  const u = process.cpuUsage();
  return {
    server: processCpuMs(server),
    main: mainThreadCpuMs(server),
    others: Object.fromEntries(Object.entries(others).map(([k, pid]) => [k, processCpuMs(pid)])),
    self: (u.user + u.system) / 1000,
    at: performance.now(),
  };
}

type Side = 'plain' | 'oktell';

async function measureSide(side: Side, bpium: { serverEnv: Record<string, string>; pid: number }, webhooks: number, connections: number): Promise<FlowSide> {
  const bpiumEnv = bpium.serverEnv;
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
    const others = { smtpSink: sink.child.pid!, bpium: bpium.pid };
    const c0 = cpuClocks(pid, others);
    const t0 = Date.now();
    const load = await fireWebhooks(server.url, { amount: webhooks, connections });
    const s = await waitForLetters(sink.child, load.ok, 180_000);
    const c1 = cpuClocks(pid, others);
    const seconds = Math.max(0.001, (s.lastAt - t0) / 1000);
    const stats = await sinkStats(sink.child);
    const perLetter = (ms: number) => round(ms / Math.max(1, s.letters), 2);
    return {
      webhooks,
      acknowledged: load.ok,
      letters: s.letters,
      lettersPerSecond: round(s.letters / seconds, 0),
      cpuMsPerLetter: perLetter(c1.server - c0.server),
      ackPerSecond: round(load.rps, 0),
      p50DelayMs: percentile(s.delays, 50),
      p99DelayMs: percentile(s.delays, 99),
      peakRssMiB: peakRssMiB(pid),
      missing: Math.max(0, load.ok - s.letters),
      duplicates: stats.duplicates,
      bounds: {
        // Over the same span as letters/s (the server is idle once the last letter is in, while the sink is polled).
        mainThreadBusy: round((c1.main - c0.main) / (seconds * 1000), 2),
        othersCpuMsPerLetter: {
          smtpSink: perLetter(c1.others.smtpSink! - c0.others.smtpSink!),
          bpium: perLetter(c1.others.bpium! - c0.others.bpium!),
          loadGenerator: perLetter(c1.self - c0.self),
        },
      },
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
    bounds: {
      mainThreadBusy: round(m((s) => s.bounds.mainThreadBusy), 2),
      othersCpuMsPerLetter: {
        smtpSink: round(m((s) => s.bounds.othersCpuMsPerLetter.smtpSink), 2),
        bpium: round(m((s) => s.bounds.othersCpuMsPerLetter.bpium), 2),
        loadGenerator: round(m((s) => s.bounds.othersCpuMsPerLetter.loadGenerator), 2),
      },
    },
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
        got[side] = await measureSide(side, { serverEnv: bpium.serverEnv, pid: bpium.child.pid! }, webhooks, connections);
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
