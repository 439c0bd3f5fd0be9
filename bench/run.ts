// `npm run bench`: runs benchmarks (a)–(d) on loopback, prints the table and writes bench/results/<date>.md.
// Options: --quick (shorter runs, for a smoke test), --only engine,startup,ack,flow,small,store, --webhooks N (for (b)).
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { benchAck, type AckResult } from './ack.bench.js';
import { machineFacts, repoRoot, round } from './bench-support.js';
import { benchSmallFootprint, type SmallFootprintResult } from './small.bench.js';
import { benchEngine, type EngineResult } from './engine.bench.js';
import { benchFlow, type FlowResult, type FlowSide } from './flow.bench.js';
import { benchStartup, type StartupResult } from './startup.bench.js';
import { benchStore, STORE_SHAPES, type StoreResult } from './store.bench.js';

interface Results {
  engine?: EngineResult;
  startup?: StartupResult;
  ack?: AckResult;
  flow?: FlowResult;
  small?: SmallFootprintResult;
  store?: StoreResult;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const yes = (ok: boolean) => (ok ? 'yes' : '**no**');
const n = (x: number) => Math.round(x).toLocaleString('en-US');
const pct = (share: number) => `${Math.round(share * 100)} %`;

/** The summary table: measure, result, baseline, target, met. */
export function table(r: Results): string {
  const rows: string[][] = [];
  if (r.ack) {
    const a = r.ack;
    rows.push(['(a) webhook acks, throughput', `${n(a.oktell.rps)} req/s`, `bare express ${n(a.bare.rps)} req/s → **${a.throughputRatio}×**`, '≥ 0.9×', yes(a.throughputRatio >= 0.9)]);
    rows.push(['(a) webhook acks, latency p50 / p99', `${a.oktell.p50} / ${a.oktell.p99} ms`, `bare ${a.bare.p50} / ${a.bare.p99} ms → p99 **${a.p99Ratio}×**`, 'p99 < 1.5×', yes(a.p99Ratio < 1.5)]);
    rows.push([
      '(a) what bounds the acks',
      `${a.oktell.cpuMsPerRequest} ms server CPU per ack, main thread busy ${pct(a.oktell.mainThreadBusy)}`,
      `bare ${a.bare.cpuMsPerRequest} ms per request, busy ${pct(a.bare.mainThreadBusy)} → CPU per request ${round(a.oktell.cpuMsPerRequest / a.bare.cpuMsPerRequest, 2)}×`,
      '—',
      '—',
    ]);
    rows.push([
      '(a) the acknowledgement alone (a second server whose one worker waits on a Bpium that never answers: no letters sent beside the acks)',
      `${n(a.ackAlone.rps)} req/s, ${a.ackAlone.cpuMsPerRequest} ms server CPU per ack, p99 ${a.ackAlone.p99} ms`,
      `bare express → **${a.ackAloneRatio}×**, CPU per request ${round(a.ackAlone.cpuMsPerRequest / a.bare.cpuMsPerRequest, 2)}×; the letters sent during the acks above add ${round(a.oktell.cpuMsPerRequest - a.ackAlone.cpuMsPerRequest, 3)} ms per ack`,
      '—',
      '—',
    ]);
    rows.push([
      '(a) floors: a minimal durable ack / node:http alone',
      `${n(a.durableFloor.rps)} / ${n(a.nodeHttp.rps)} req/s, ${a.durableFloor.cpuMsPerRequest} / ${a.nodeHttp.cpuMsPerRequest} ms CPU per request`,
      `${a.floorRatios.durableFloor}× / ${a.floorRatios.nodeHttp}× bare express; an oktell ack costs ${round(a.oktell.cpuMsPerRequest / a.durableFloor.cpuMsPerRequest, 1)}× the durable floor's CPU`,
      '—',
      '—',
    ]);
  }
  if (r.flow) {
    const f = r.flow;
    const o = f.oktell;
    const p = f.plain;
    rows.push(['(b) letters per second, webhook to mailbox', `${n(o.lettersPerSecond)} /s`, `plain express + fetch + nodemailer ${n(p.lettersPerSecond)} /s → **${f.ratios.lettersPerSecond}×**`, '≥ 1.5×', yes(f.ratios.lettersPerSecond >= 1.5)]);
    rows.push(['(b) server CPU per letter (all threads)', `${o.cpuMsPerLetter} ms`, `plain ${p.cpuMsPerLetter} ms → **${f.ratios.cpuPerLetter}×**`, '≤ 1.5 ms and ≤ 0.5×', yes(o.cpuMsPerLetter <= 1.5 && f.ratios.cpuPerLetter <= 0.5)]);
    const lost = o.missing > 0 ? '**letters missing**' : o.duplicates ? '**letters sent twice**' : 'none lost or doubled';
    const others = (x: FlowSide) => {
      const c = x.bounds.othersCpuMsPerLetter;
      return `${round(c.smtpSink + c.bpium + c.loadGenerator, 2)} ms (SMTP sink ${c.smtpSink}, Bpium ${c.bpium}, load ${c.loadGenerator})`;
    };
    rows.push([
      '(b) what bounds letters/s',
      `main thread busy ${pct(o.bounds.mainThreadBusy)}; other processes ${others(o)} per letter`,
      `plain: main thread busy ${pct(p.bounds.mainThreadBusy)}; other processes ${others(p)}`,
      '—',
      '—',
    ]);
    rows.push(['(b) webhook → mailbox delay p50 / p99', `${n(o.p50DelayMs)} / ${n(o.p99DelayMs)} ms`, `plain ${n(p.p50DelayMs)} / ${n(p.p99DelayMs)} ms → p99 ${f.ratios.p99Delay}×; ${n(o.letters)} letters for ${n(o.acknowledged)} acks, ${o.missing} missing, ${o.duplicates} sent twice`, '—', lost]);
  }
  if (r.engine) {
    const g = r.engine;
    rows.push(['(c) engine, no trace', `${n(g.noTrace)} blocks/s`, `bare JS interpreter loop ${n(g.bareLoop)} blocks/s (${round(g.noTrace / g.bareLoop, 2)}×)`, '≥ 5,000,000', yes(g.noTrace >= 5_000_000)]);
    rows.push(['(c) engine, with trace', `${n(g.trace)} blocks/s`, `(${round(g.trace / g.bareLoop, 3)}× the bare loop)`, '≥ 1,000,000', yes(g.trace >= 1_000_000)]);
  }
  const rss = [r.ack?.peakRssMiB, r.flow?.oktell.peakRssMiB].filter((x): x is number => typeof x === 'number');
  const plainRss = r.flow ? `; plain flow ${r.flow.plain.peakRssMiB ?? '—'} MiB (${r.flow.ratios.peakRss}×)` : '';
  if (rss.length) rows.push(['(d) server peak RSS during (a) / (b)', `${r.ack?.peakRssMiB ?? '—'} / ${r.flow?.oktell.peakRssMiB ?? '—'} MiB`, `VmHWM of the server process${plainRss}`, '< 150 MB', yes(Math.max(...rss) * 1.048576 < 150)]);
  if (r.small) {
    const m = r.small;
    const setup = `${Object.entries(m.env).map(([k, v]) => `${k}=${v}`).join(' ')} node ${m.nodeArgs.join(' ')}`;
    const vs = r.flow ? `; default setup ${r.flow.oktell.peakRssMiB ?? '—'} MiB, ${n(r.flow.oktell.lettersPerSecond)} letters/s` : '';
    rows.push(['(d) peak RSS, smallest setup', `${m.peakRssMiB ?? '—'} MiB, capacity ${n(m.capacityPerSecond)} letters/s`, `\`${setup}\`${vs}`, '< 150 MB', yes((m.peakRssMiB ?? Infinity) * 1.048576 < 150)]);
  }
  if (r.startup) rows.push(['(d) process start → listening', `median ${r.startup.medianMs} ms, max ${r.startup.maxMs} ms`, `fresh ${r.startup.freshMs.join(', ')}; restart ${r.startup.restartMs.join(', ')} ms`, '< 1 s', yes(r.startup.maxMs < 1000)]);
  if (r.store) {
    const st = r.store;
    const shapes = STORE_SHAPES.map((sh) => `${sh} ${st.cpuUsPerAck[sh]} µs (${st.ratioToInbox[sh]}×)`).join('; ');
    rows.push(['(e) store CPU per acknowledgement, by records written', shapes, 'the inbox row alone, same run; one grouped commit per 16', '—', '—']);
  }
  const head = ['measure', 'result', 'baseline / detail', 'target', 'met'];
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
}

async function main() {
  const quick = process.argv.includes('--quick');
  const only = new Set((arg('only') ?? 'engine,startup,ack,flow,small,store').split(','));
  const webhooks = arg('webhooks') ? Number(arg('webhooks')) : undefined;
  const machine = machineFacts();
  const log = (s: string) => process.stderr.write(`${s}\n`);
  log(`oktell-emulator benchmarks on ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}${quick ? ' (quick)' : ''}`);
  const t0 = performance.now();
  const r: Results = {};
  if (only.has('engine')) {
    log('(c) engine …');
    r.engine = await benchEngine({ ms: quick ? 500 : 2500 });
  }
  if (only.has('startup')) {
    log('(d) start-up …');
    r.startup = await benchStartup({ times: quick ? 1 : 3 });
  }
  if (only.has('ack')) {
    log('(a) acknowledgements vs bare express, interleaved …');
    r.ack = await benchAck({ rounds: quick ? 2 : 3, seconds: quick ? 2 : 5, connections: 16, log });
  }
  if (only.has('flow')) {
    log('(b) the article\'s flow end to end, against the plain baseline in the same run …');
    r.flow = await benchFlow({ webhooks: webhooks ?? (quick ? 400 : 2000), rounds: quick ? 1 : 2, connections: 20, log });
  }
  if (only.has('small')) {
    log('(d) the smallest setup: peak RSS and delivery capacity …');
    r.small = await benchSmallFootprint();
  }
  if (only.has('store')) {
    log('(e) the store: what each record of an acknowledgement costs …');
    r.store = await benchStore({ acks: quick ? 2000 : 8000, rounds: quick ? 1 : 3 });
  }
  const elapsed = round((performance.now() - t0) / 1000, 0);
  const text = table(r);
  process.stdout.write(`\n${text}\n\n(${elapsed} s)\n`);
  if (quick) return;
  const day = machine.date.slice(0, 10);
  const dir = join(repoRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${day}.md`);
  writeFileSync(file, report(r, machine, text, elapsed));
  log(`written ${file}`);
}

function report(r: Results, m: ReturnType<typeof machineFacts>, text: string, elapsed: number): string {
  const lines = [
    `# Benchmark results, ${m.date.slice(0, 10)}`,
    '',
    `Machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB memory (${m.freeGiB} GiB free at start), ${m.platform}, Node.js ${m.node}.`,
    `Run at ${m.date} with \`npm run bench\` (${elapsed} s); 1-minute load average at the start ${m.loadAverage}, at the end ${round(loadavg()[0] ?? 0, 2)}`,
    '(above 0 means other work shared the cores and every number here is lower than on an idle machine).',
    'Every server listens on 127.0.0.1; the load generator',
    '(autocannon), the server under test, the SMTP sink and the bare-express baseline are separate processes sharing',
    'these cores, so compare the ratios more than the absolute numbers.',
    '',
    text,
    '',
    '## How each number is made',
    '',
    '- **(a)** autocannon, 16 connections, posts signed, unique `record.created` webhooks to `/Bpium/NewTask` of `oktell-emu serve`',
    '  (Basic auth, `X-Hook-Signature`, the HTTP404 scenario, one grouped SQLite commit, then 200), with its workers sending the',
    '  letters through the Bpium emulator (its own process, as Bpium is remote) to the SMTP sink as usual, on the same',
    '  thread (the default setup); and the same requests to a bare express 5 app',
    '  that reads the body and answers 200. Rounds alternate the order; after each oktell round the queue is drained (every',
    '  acknowledged webhook has its letter) before the next bare round. Medians over rounds; ratio = median of per-round ratios.',
    '  What bounds it: each server\'s CPU time (all threads, from /proc; for oktell including the jobs that ran during the',
    '  round) per acknowledged request, and the share of the round its main thread spent on a core (/proc/<pid>/task/<pid>).',
    '  When both main threads are near 100 %, each server is bound by its main thread\'s CPU per request, and the',
    '  throughput ratio is about the inverse of the CPU-per-request ratio.',
    '  Two floors run in the same rounds (`bench/floor-ack.child.ts`): node:http that reads the body and answers 200, and the',
    '  least a durable acknowledgement can do (constant-time Basic auth, the HMAC checked, one SQLite row per request, grouped',
    '  commit per event-loop turn, 200 after COMMIT; no scenario, dedup, run record or job). They show how much of the gap',
    '  to bare express is Node and durability, and how much is what the server\'s hook does beyond them.',
    '  A second oktell server in the same rounds shows the acknowledgement alone: its Bpium never answers and its one worker',
    '  waits on it for the whole run (an hour\'s timeout), so no letter is sent beside its acknowledgements (the jobs stay',
    '  queued); its CPU per request is the hook\'s own, and the difference to the first server is what the letters sent',
    '  during a flood add per acknowledgement.',
    '- **(b)** the article\'s flow twice in each round, in alternating order: `oktell-emu serve` and the plain baseline',
    '  (`bench/plain-flow.child.ts`: express + fetch + nodemailer, signature checked, nothing persisted). Each gets a',
    '  warm-up, then the same number of signed webhooks over 20 connections, the same Bpium emulator (its own process) and',
    '  an SMTP sink of its own. Letters per second run from the first webhook to the last letter; server CPU is the',
    '  process\'s user + system time over the same span (every thread, from /proc), divided by the letters; the delay is',
    '  the sink\'s arrival time minus the send time carried in the task name. Ratios are oktell / plain, medians over rounds.',
    '  What bounds it: the share of the same span the server\'s main thread spent on a core, and the CPU per letter of the other',
    '  processes (SMTP sink, Bpium emulator, this load generator), which share the same two cores.',
    '- **(c)** `runScenario` on a loop of one Condition and one Variable block (8,003 blocks a run, every step within the',
    '  trace limit), `trace: false` and `trace: true`; the baseline is a minimal interpreter loop (blocks as closures in a',
    '  Map, variables in a Map) in the same process.',
    '- **(d)** peak RSS is the server process\'s VmHWM after (a) and after (b) (one process each, all rounds); start-up is the time from',
    '  `spawn(node bin/oktell-emu.js serve)` to the first 200 from `/-/health`, on a fresh and on an existing data folder.',
    '  The default setup keeps its heap compact (`OKTELL_HEAP=compact`: a 16 MB young generation). The smallest setup',
    '  (docs/configuration.md) also gives Node a 4 MB young generation with a flag; its capacity is the rate at which a 4 s burst',
    '  of webhooks drains, and its VmHWM is read after the drain.',
    '- **(e)** the SQLite store alone, in this process: `recordRequest` with the inbox row of a benchmark webhook, with and',
    '  without the HTTP404 run record and the job the shipped HTTP404 makes for it (real records, made as the hook makes',
    '  them), 16 in flight so each event-loop turn commits 16 together, into a fresh store file per shape; the process\'s',
    '  CPU time per call, median of alternating rounds, and each shape against the inbox row alone.',
    '',
    '## Raw numbers',
    '',
    '```json',
    JSON.stringify(r, null, 1),
    '```',
    '',
  ];
  return lines.join('\n');
}

// Run when started as a program; imported (by the table's test) it only defines.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    process.stderr.write(`benchmark failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
