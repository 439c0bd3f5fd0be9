// Benchmark (a): acknowledgement of /Bpium/NewTask webhooks (auth, signature, the HTTP404 scenario, a grouped SQLite
// commit, then 200) with the background jobs running as usual, against a bare express 5 app, interleaved rounds.
// A second oktell server whose Bpium never answers shows the acknowledgement alone: its one worker waits on the silent
// Bpium for the whole benchmark (an hour's timeout) and the other jobs stay queued, so its CPU per request is what
// the hook itself costs, without the letters sent meanwhile.
import { benchWorkspace, silentBpiumEnv, startSilentService, median, peakRssMiB, round, startOktellChild, startBpiumEmulatorChild, startScriptChild, stopChild } from './bench-support.js';
import { cpuClocks } from './flow.bench.js';
import { fireWebhooks, sinkReset, waitForLetters, type LoadResult } from './load.js';

/** A load round with what bounds it: the server's CPU per acknowledged request and how busy its main thread was. */
export type MeasuredLoad = LoadResult & { cpuMsPerRequest: number; mainThreadBusy: number };

export interface AckRound {
  round: number;
  bare: MeasuredLoad;
  /** Reference floors (`floor-ack.child.ts`): node:http alone, and the least a durable acknowledgement can do. */
  nodeHttp: MeasuredLoad;
  durableFloor: MeasuredLoad;
  oktell: MeasuredLoad;
  /** An oktell server whose jobs wait on a Bpium that never answers: the acknowledgement without delivery beside it. */
  ackAlone: MeasuredLoad;
  /** Seconds after the oktell round until every acknowledged webhook's letter had arrived. */
  drainSeconds: number;
  lettersMissing: number;
}

/** One server's figures over the rounds (medians). */
export type SideSummary = { rps: number; p50: number; p99: number; cpuMsPerRequest: number; mainThreadBusy: number };

export interface AckResult {
  seconds: number;
  connections: number;
  rounds: AckRound[];
  bare: SideSummary;
  oktell: SideSummary;
  nodeHttp: SideSummary;
  durableFloor: SideSummary;
  ackAlone: SideSummary;
  /** Median over rounds of the acknowledgement alone's requests per second over bare express's. */
  ackAloneRatio: number;
  /** Median over rounds of each floor's requests per second over bare express's. */
  floorRatios: { nodeHttp: number; durableFloor: number };
  /** Median over rounds of oktell/bare requests per second, and of oktell p99 / bare p99. */
  throughputRatio: number;
  p99Ratio: number;
  peakRssMiB: number | undefined;
  errors: number;
}

export async function benchAck(o: { rounds?: number; seconds?: number; connections?: number; log?: (s: string) => void } = {}): Promise<AckResult> {
  const rounds = o.rounds ?? 3;
  const seconds = o.seconds ?? 5;
  const connections = o.connections ?? 16;
  const log = o.log ?? (() => undefined);
  // Each part is stopped in the reverse order of its start, also when a later one fails to start.
  const stops: Array<() => unknown> = [];
  const started = <T>(part: T, stop: (p: T) => unknown): T => (stops.unshift(() => stop(part)), part);
  const ws = started(benchWorkspace('oktell-bench-ack-'), (w) => w.cleanup());
  try {
    const sink = started(await startScriptChild('smtp-sink.child.js'), (c) => stopChild(c.child));
    const bare = started(await startScriptChild('bare-express.child.js'), (c) => stopChild(c.child));
    const nodeHttp = started(await startScriptChild('floor-ack.child.js', ['http']), (c) => stopChild(c.child));
    const durableFloor = started(await startScriptChild('floor-ack.child.js', ['durable', ws.dir]), (c) => stopChild(c.child));
    const bpium = started(await startBpiumEmulatorChild(ws), (b) => b.stop());
    const oktell = started(await startOktellChild(ws, { SMTP_URL: `smtp://127.0.0.1:${sink.port}`, MAIL_FROM: 'Oktell <oktell@example.com>', ...bpium.serverEnv }), (c) => c.stop());
    const silent = started(await startSilentService(), (c) => c.close());
    const wsAlone = started(benchWorkspace('oktell-bench-ack-alone-'), (w) => w.cleanup());
    // Its jobs wait on the silent Bpium: nothing to drain, so it is not given a graceful stop's grace.
    const alone = started(
      await startOktellChild(wsAlone, { SMTP_URL: `smtp://127.0.0.1:${sink.port}`, MAIL_FROM: 'Oktell <oktell@example.com>', ...silentBpiumEnv(silent.url) }),
      (c) => (c.child.kill('SIGKILL'), c.stop()),
    );
    // Warm-up of both (JIT, connection pools, SQLite pages), not measured; then let the queue drain.
    await fireWebhooks(bare.url, { seconds: 2, connections });
    await fireWebhooks(nodeHttp.url, { seconds: 2, connections });
    await fireWebhooks(durableFloor.url, { seconds: 2, connections });
    await fireWebhooks(alone.url, { seconds: 2, connections });
    const warm = await fireWebhooks(oktell.url, { seconds: 2, connections });
    await waitForLetters(sink.child, warm.ok, 60_000);
    await sinkReset(sink.child);
    let acked = 0;
    const results: AckRound[] = [];
    for (let i = 0; i < rounds; i++) {
      /** The bare baseline and the two floors, each on a quiet machine. */
      const runBaselines = async () => ({
        b: await measured(bare.child.pid!, bare.url),
        h: await measured(nodeHttp.child.pid!, nodeHttp.url),
        d: await measured(durableFloor.child.pid!, durableFloor.url),
        a: await measured(alone.child.pid!, alone.url),
      });
      const runOktell = async () => {
        const r = await measured(oktell.child.pid!, oktell.url);
        acked += r.ok;
        return r;
      };
      // Alternate the order so neither side always runs on a warmer or cooler machine.
      let b: MeasuredLoad;
      let h: MeasuredLoad;
      let d: MeasuredLoad;
      let a: MeasuredLoad;
      let k: MeasuredLoad;
      let drainSeconds: number;
      let lettersMissing: number;
      if (i % 2 === 0) {
        ({ b, h, d, a } = await runBaselines());
        k = await runOktell();
        ({ drainSeconds, lettersMissing } = await drain());
      } else {
        k = await runOktell();
        ({ drainSeconds, lettersMissing } = await drain());
        ({ b, h, d, a } = await runBaselines());
      }
      results.push({ round: i + 1, bare: b, nodeHttp: h, durableFloor: d, oktell: k, ackAlone: a, drainSeconds, lettersMissing });
      log(`  (a) round ${i + 1}: bare ${round(b.rps, 0)} req/s p99 ${b.p99} ms; node:http ${round(h.rps, 0)}; durable floor ${round(d.rps, 0)}; oktell ack alone ${round(a.rps, 0)}; oktell ${round(k.rps, 0)} req/s p99 ${k.p99} ms; queue drained in ${drainSeconds} s`);
    }
    return {
      seconds,
      connections,
      rounds: results,
      bare: side(results.map((r) => r.bare)),
      oktell: side(results.map((r) => r.oktell)),
      nodeHttp: side(results.map((r) => r.nodeHttp)),
      durableFloor: side(results.map((r) => r.durableFloor)),
      ackAlone: side(results.map((r) => r.ackAlone)),
      ackAloneRatio: round(median(results.map((r) => r.ackAlone.rps / r.bare.rps)), 3),
      floorRatios: {
        nodeHttp: round(median(results.map((r) => r.nodeHttp.rps / r.bare.rps)), 2),
        durableFloor: round(median(results.map((r) => r.durableFloor.rps / r.bare.rps)), 2),
      },
      throughputRatio: round(median(results.map((r) => r.oktell.rps / r.bare.rps)), 3),
      p99Ratio: round(median(results.map((r) => r.oktell.p99 / Math.max(r.bare.p99, 1))), 2),
      peakRssMiB: peakRssMiB(oktell.child.pid!),
      errors: results.reduce((n, r) => n + r.oktell.errors + r.oktell.non2xx, 0),
    };

    /** One load round against `url`, with the server's CPU per acknowledged request and its main thread's busy share. */
    async function measured(pid: number, url: string): Promise<MeasuredLoad> {
      const c0 = cpuClocks(pid, {});
      const r = await fireWebhooks(url, { seconds, connections });
      const c1 = cpuClocks(pid, {});
      return { ...r, cpuMsPerRequest: round((c1.server - c0.server) / Math.max(1, r.ok), 3), mainThreadBusy: round((c1.main - c0.main) / Math.max(1, c1.at - c0.at), 2) };
    }

    /** Waits (bounded) until the letters of every webhook acknowledged so far have arrived, so the next bare round runs on a quiet machine. */
    async function drain() {
      const t0 = performance.now();
      const s = await waitForLetters(sink.child, acked, 120_000);
      return { drainSeconds: round((performance.now() - t0) / 1000, 1), lettersMissing: Math.max(0, acked - s.letters) };
    }
  } finally {
    for (const stop of stops) await stop();
  }
}

/** Medians over rounds of one side's figures. */
function side(rs: MeasuredLoad[]): SideSummary {
  const m = (f: (r: MeasuredLoad) => number) => median(rs.map(f));
  return { rps: round(m((r) => r.rps), 0), p50: m((r) => r.p50), p99: m((r) => r.p99), cpuMsPerRequest: round(m((r) => r.cpuMsPerRequest), 3), mainThreadBusy: round(m((r) => r.mainThreadBusy), 2) };
}
