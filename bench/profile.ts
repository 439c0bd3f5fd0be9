// `npm run bench:profile`: the server under the (a)+(b) load with `node --cpu-prof`, summarised per thread: where the
// CPU goes (self time by package and by function, inclusive time of the server's own functions). Writes
// bench/results/<date>-profile.md, the evidence behind "what bounds each number" in the README.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchWorkspace, machineFacts, repoRoot, startBpiumEmulatorChild, startOktellChild, startScriptChild, stopChild } from './bench-support.js';
import { fireWebhooks, sinkReset, waitForLetters } from './load.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const IDLE = new Set(['(idle)', '(program)']);

function where(url: string): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const own = /\/dist\/(.+)$/.exec(url);
  if (own) return own[1]!.split('/').slice(0, -1).join('/') || own[1]!;
  if (url.startsWith('node:')) return 'node internals';
  return url ? 'other' : '(native: syscalls, SQLite, crypto, GC)';
}

function label(n: ProfileNode): string {
  const cf = n.callFrame;
  const file = cf.url.replace(/.*node_modules\//, '').replace(/.*\/dist\//, '');
  return `${cf.functionName || '(anonymous)'} ${file}:${cf.lineNumber + 1}`;
}

/** Busy ms, self time by package and by function, inclusive time of our own functions (each as % of busy). */
export function summarise(p: CpuProfile, top = 15) {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((s, i) => self.set(s, (self.get(s) ?? 0) + (p.timeDeltas[i] ?? 0)));
  let total = 0;
  let idle = 0;
  for (const [id, t] of self) {
    total += t;
    if (IDLE.has(byId.get(id)!.callFrame.functionName)) idle += t;
  }
  const busy = total - idle;
  const pct = (t: number) => Math.round((t / busy) * 1000) / 10;
  const add = (m: Map<string, number>, k: string, t: number) => m.set(k, (m.get(k) ?? 0) + t);
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const [id, t] of self) {
    const n = byId.get(id)!;
    if (IDLE.has(n.callFrame.functionName)) continue;
    add(byPackage, where(n.callFrame.url), t);
    add(byFunction, label(n), t);
  }
  // Inclusive time: each node's subtree, counted once per function along a path (recursion is not double-counted).
  const subtree = new Map<number, number>();
  const sum = (id: number): number => {
    let t = self.get(id) ?? 0;
    for (const c of byId.get(id)!.children ?? []) t += sum(c);
    subtree.set(id, t);
    return t;
  };
  const root = p.nodes[0]!.id;
  sum(root);
  const inclusive = new Map<string, number>();
  const walk = (id: number, open: Set<string>) => {
    const n = byId.get(id)!;
    const k = label(n);
    const fresh = n.callFrame.url.includes('/dist/') && !n.callFrame.url.includes('node_modules') && !open.has(k);
    if (fresh) {
      open.add(k);
      add(inclusive, k, subtree.get(id)!);
    }
    for (const c of n.children ?? []) walk(c, open);
    if (fresh) open.delete(k);
  };
  walk(root, new Set());
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, t]) => ({ what: k, percent: pct(t) }));
  return { totalMs: Math.round(total / 1000), busyMs: Math.round(busy / 1000), byPackage: sorted(byPackage), byFunction: sorted(byFunction), inclusive: sorted(inclusive) };
}

async function main() {
  const machine = machineFacts();
  const profDir = mkdtempSync(join(tmpdir(), 'oktell-profile-'));
  const ws = benchWorkspace('oktell-bench-profile-');
  const sink = await startScriptChild('smtp-sink.child.js');
  const bpium = await startBpiumEmulatorChild(ws);
  const oktell = await startOktellChild(ws, { SMTP_URL: `smtp://127.0.0.1:${sink.port}`, MAIL_FROM: 'Oktell <oktell@example.com>', ...bpium.serverEnv }, ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
  let acked = 0;
  try {
    const warm = await fireWebhooks(oktell.url, { seconds: 2, connections: 16 });
    await waitForLetters(sink.child, warm.ok, 120_000);
    await sinkReset(sink.child);
    // (a): acknowledgements at full speed for 5 s, then (b): their letters delivered as the queue drains.
    const burst = await fireWebhooks(oktell.url, { seconds: 5, connections: 16 });
    acked = burst.ok;
    await waitForLetters(sink.child, burst.ok, 300_000);
  } finally {
    await oktell.stop(); // the profiles are written as the process exits
    await stopChild(sink.child);
    await bpium.stop();
    ws.cleanup();
  }
  const files = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile')).sort();
  const threads = files.map((f, i) => ({ thread: i === 0 ? 'main thread (HTTP, store, jobs)' : `delivery thread ${i} (OKTELL_DELIVERY_THREAD=on)`, ...summarise(JSON.parse(readFileSync(join(profDir, f), 'utf8')) as CpuProfile) }));
  if (process.env.KEEP_PROFILE) process.stderr.write(`profiles kept in ${profDir}\n`);
  else rmSync(profDir, { recursive: true, force: true });
  const table = (rows: Array<{ what: string; percent: number }>) => ['| % of busy | where |', '|---:|---|', ...rows.map((r) => `| ${r.percent} | \`${r.what}\` |`)].join('\n');
  const text = [
    `# CPU profile of the server, ${machine.date.slice(0, 10)}`,
    '',
    `Machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node.js ${machine.node}; load average at the start ${machine.loadAverage}.`,
    `Made with \`npm run bench:profile\`: \`oktell-emu serve --cpu-prof\` (the default setup: the jobs on the main thread), a 2 s warm-up, then 5 s of`,
    `signed webhooks over 16 connections (${acked} acknowledged) and the delivery of their letters through the Bpium`,
    'emulator (its own process) to the SMTP sink. Percentages are of the time each thread was busy (idle time excluded).',
    '',
    ...threads.flatMap((t) => [
      `## ${t.thread}: busy ${t.busyMs} ms of ${t.totalMs} ms`,
      '',
      '### Self time by package',
      '',
      table(t.byPackage),
      '',
      '### Self time by function',
      '',
      table(t.byFunction),
      '',
      "### Inclusive time of the server's own functions",
      '',
      table(t.inclusive),
      '',
    ]),
  ].join('\n');
  const dir = join(repoRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${machine.date.slice(0, 10)}-profile.md`);
  writeFileSync(file, `${text}\n`);
  process.stdout.write(`${text}\n\nwritten to ${file}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  main().catch((e: unknown) => {
    process.stderr.write(`profile failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
