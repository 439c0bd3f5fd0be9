// `node dist/bench/pair-ack.js <before> <after> [--rounds N] [--webhooks N] [--warm-up N] [--before-env K=V] [--after-env K=V]`: is one build's acknowledgement dearer or
// cheaper than another's by a few per cent? The benchmark's own figures move by more than that between runs, so this
// compares two builds at the same moment: one server of each, alive together, loaded together, so the machine's
// swings hit both alike. Each server is the acknowledgement alone (its one worker waits on a Bpium that never answers,
// so no letter is sent beside the acknowledgements); its CPU time (all threads, from /proc) over a fixed number of
// acknowledgements is the measure. The rounds are made twice, the second time with the servers started in the other
// order. Give the same folder twice for a control: its spread is the noise that a difference must beat.
// Each folder is a checkout of this repository with `dist/` built (`npx tsc -p tsconfig.json`).
// `--before-env K=V` and `--after-env K=V` (each may be given several times) set an environment variable for that
// side's server only, over the common ones: the same build twice with `--after-env OKTELL_TRACE=failed` measures what
// a setting saves. A setting given to neither side is the same on both.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fireWebhooks } from './load.js';
import { median, round, silentBpiumEnv, startSilentService, type ServerChild } from './bench-support.js';
import { processCpuMs } from './flow.bench.js';

type Support = Pick<typeof import('./bench-support.js'), 'benchWorkspace' | 'startOktellChild'>;

export interface PairResult {
  before: number[];
  after: number[];
  /** after / before for each pair of loads taken together. */
  ratios: number[];
}

/** Loads the bench support of the build in `folder`, so each server runs that build's own code. */
async function supportOf(folder: string): Promise<Support> {
  const file = join(folder, 'dist', 'bench', 'bench-support.js');
  if (!existsSync(file)) throw new Error(`${folder} has no ${join('dist', 'bench', 'bench-support.js')}: build it first (npx tsc -p tsconfig.json in that folder)`);
  return (await import(pathToFileURL(file).href)) as Support;
}

export async function pairAck(o: { before: string; after: string; rounds: number; webhooks: number; warmUp?: number; connections?: number; log?: (s: string) => void; env?: Partial<Record<'before' | 'after', Record<string, string>>> }): Promise<PairResult> {
  const connections = o.connections ?? 16;
  const log = o.log ?? (() => undefined);
  const builds = { before: await supportOf(o.before), after: await supportOf(o.after) };
  const silent = await startSilentService();
  // No letter is sent (the jobs wait on the silent Bpium), so SMTP_URL names a port nothing listens on.
  const env = { SMTP_URL: 'smtp://127.0.0.1:9', MAIL_FROM: 'Oktell <oktell@example.com>', ...silentBpiumEnv(silent.url) };
  const result: PairResult = { before: [], after: [], ratios: [] };
  try {
    for (const order of [['before', 'after'], ['after', 'before']] as const) {
      const servers: Partial<Record<'before' | 'after', ServerChild>> = {};
      const workspaces: Array<{ cleanup(): void }> = [];
      try {
        for (const side of order) {
          const ws = builds[side].benchWorkspace(`oktell-pair-${side}-`);
          workspaces.push(ws);
          servers[side] = await builds[side].startOktellChild(ws, { ...env, ...o.env?.[side] });
        }
        const [b, a] = [servers.before!, servers.after!];
        await Promise.all([b, a].map((s) => fireWebhooks(s.url, { amount: o.warmUp ?? 8000, connections })));
        for (let i = 0; i < o.rounds; i++) {
          const c0 = [processCpuMs(b.child.pid!), processCpuMs(a.child.pid!)];
          const [rb, ra] = await Promise.all([b, a].map((s) => fireWebhooks(s.url, { amount: o.webhooks, connections })));
          const c1 = [processCpuMs(b.child.pid!), processCpuMs(a.child.pid!)];
          if (rb!.ok !== o.webhooks || ra!.ok !== o.webhooks) throw new Error(`not every webhook was acknowledged: ${rb!.ok} and ${ra!.ok} of ${o.webhooks}`);
          const msB = (c1[0]! - c0[0]!) / o.webhooks;
          const msA = (c1[1]! - c0[1]!) / o.webhooks;
          result.before.push(msB);
          result.after.push(msA);
          result.ratios.push(msA / msB);
          log(`${order[0]} started first, round ${i + 1}: before ${msB.toFixed(3)} ms, after ${msA.toFixed(3)} ms, after/before ${(msA / msB).toFixed(3)}`);
        }
      } finally {
        // Their jobs wait on the silent Bpium: nothing to drain, so no graceful stop.
        for (const s of Object.values(servers)) s.child.kill('SIGKILL');
        await Promise.all(Object.values(servers).map((s) => new Promise((r) => (s.child.exitCode !== null ? r(null) : s.child.once('exit', r)))));
        for (const ws of workspaces) ws.cleanup();
      }
    }
  } finally {
    await silent.close();
  }
  return result;
}

/** Every `--<name> NAME=value` taken out of `args`, as variables (a later one of the same name wins). */
export function envOption(args: string[], name: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = args.indexOf(`--${name}`); i >= 0; i = args.indexOf(`--${name}`)) {
    const pair = args.splice(i, 2)[1];
    const eq = pair?.indexOf('=') ?? -1;
    if (!pair || eq < 1) throw new Error(`--${name} takes NAME=value (e.g. --${name} OKTELL_TRACE=failed), not ${pair === undefined ? 'nothing' : `"${pair}"`}`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** The summary line: medians, the median ratio, and in how many pairs the after build cost less. */
export function summary(r: PairResult): string {
  const lower = r.ratios.filter((x) => x < 1).length;
  const same = r.ratios.filter((x) => x === 1).length;
  return (
    `ms of CPU per acknowledgement, median: before ${round(median(r.before), 3)}, after ${round(median(r.after), 3)}; ` +
    `after/before median ${round(median(r.ratios), 3)} (from ${round(Math.min(...r.ratios), 3)} to ${round(Math.max(...r.ratios), 3)}); ` +
    `after lower in ${lower}, equal in ${same}, higher in ${r.ratios.length - lower - same} of ${r.ratios.length} pairs`
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const option = (name: string, fallback: number) => {
    const i = args.indexOf(`--${name}`);
    if (i < 0) return fallback;
    const v = Number(args.splice(i, 2)[1]);
    if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} takes a whole number above 0`);
    return v;
  };
  try {
    const env = { before: envOption(args, 'before-env'), after: envOption(args, 'after-env') };
    for (const side of ['before', 'after'] as const) if (Object.keys(env[side]).length) console.log(`${side}: ${Object.entries(env[side]).map(([k, v]) => `${k}=${v}`).join(' ')}`);
    const rounds = option('rounds', 6);
    const webhooks = option('webhooks', 15000);
    const warmUp = option('warm-up', 8000);
    if (args.length !== 2) throw new Error('usage: node dist/bench/pair-ack.js <before-checkout> <after-checkout> [--rounds N] [--webhooks N] [--warm-up N] [--before-env K=V] [--after-env K=V]');
    const r = await pairAck({ before: resolve(args[0]!), after: resolve(args[1]!), rounds, webhooks, warmUp, env, log: (s) => console.log(s) });
    console.log(summary(r));
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 2;
  }
}
