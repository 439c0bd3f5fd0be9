// Benchmark (c): the engine alone — blocks per second for a loop of Variable and Condition blocks, with and without
// a trace, against a bare JavaScript interpreter loop doing the same arithmetic in the same process.
import { defaultRegistry } from '../components/registry.js';
import { fixedClock, loadScenarioText, randomIds, runScenario, type AsyncStarterPort, type ScenarioLibrary } from '../engine/index.js';
import { round } from './bench-support.js';

/** i counts up to n; each turn of the loop is two blocks (a Variable and a Condition), plus a sum to keep it honest. */
export const LOOP_SCENARIO = `description: Benchmark loop of Variable and Condition blocks.
variables:
  i: number
  sum: number
  n: { type: number, initial: 0 }
start: init
blocks:
  init:
    kind: Variable
    set: { i: 0, sum: 0, n: InputParameter(1) }
    exits: { next: test }
  test:
    kind: Condition
    left: '[i]'
    operator: '<'
    right: '[n]'
    exits: { true: step, false: done }
  step:
    kind: Variable
    set: { i: '[i] + 1', sum: '[sum] + [i]' }
    exits: { next: test }
  done:
    kind: ReturnValue
    values: { 1: '[sum]' }
`;

export interface EngineResult {
  blocksPerRun: number;
  noTrace: number;
  trace: number;
  bareLoop: number;
  runs: { noTrace: number; trace: number; bare: number };
}

const noStarts: AsyncStarterPort = {
  start: async () => {
    throw new Error('no async starts in the benchmark');
  },
};

function library(): ScenarioLibrary {
  const r = loadScenarioText('Loop.yaml', LOOP_SCENARIO, { registry: defaultRegistry });
  if (!r.ok) throw new Error(`benchmark scenario is invalid: ${r.issues.map((i) => `${i.line}:${i.col} ${i.code} ${i.message}`).join('; ')}`);
  return { dir: '.', scenarios: new Map([['Loop', r.scenario]]), issues: [] };
}

/** Blocks per second of runScenario over `ms` milliseconds (several runs of `turns` loop turns each). */
async function measureEngine(lib: ScenarioLibrary, turns: number, trace: boolean, ms: number): Promise<{ rate: number; blocksPerRun: number }> {
  const ports = { asyncStarter: noStarts, clock: fixedClock(new Date('2024-01-01T00:00:00Z')), ids: randomIds };
  const opts = { params: { 1: turns }, trace, limits: { maxSteps: 10 * turns + 100 }, ports };
  // Warm up, and check the result so the loop cannot be optimised away unnoticed.
  const check = await runScenario(lib, 'Loop', opts);
  if (check.status !== 'completed' || check.returnValues['1'] !== (turns * (turns + 1)) / 2) throw new Error(`benchmark run went wrong: ${JSON.stringify(check.error ?? check.returnValues)}`);
  let blocks = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    const r = await runScenario(lib, 'Loop', opts);
    blocks += r.steps;
  }
  const elapsed = performance.now() - t0;
  return { rate: (blocks / elapsed) * 1000, blocksPerRun: check.steps };
}

/**
 * The baseline: the same loop in a minimal interpreter — blocks as objects in a Map, variables in a Map, each block a
 * closure that returns its exit — with none of the engine's checks, coercions or bookkeeping.
 */
function measureBareLoop(turns: number, ms: number): number {
  type Bare = { run: (v: Map<string, number>) => string; exits: Record<string, string | undefined> };
  const blocks = new Map<string, Bare>([
    ['init', { run: (v) => (v.set('i', 0), v.set('sum', 0), v.set('n', turns), 'next'), exits: { next: 'test' } }],
    ['test', { run: (v) => (v.get('i')! < v.get('n')! ? 'true' : 'false'), exits: { true: 'step', false: 'done' } }],
    ['step', { run: (v) => (v.set('i', v.get('i')! + 1), v.set('sum', v.get('sum')! + v.get('i')!), 'next'), exits: { next: 'test' } }],
    ['done', { run: () => 'next', exits: {} }],
  ]);
  let blocksRun = 0;
  let sink = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    const vars = new Map<string, number>();
    let id: string | undefined = 'init';
    while (id !== undefined) {
      const b: Bare = blocks.get(id)!;
      id = b.exits[b.run(vars)];
      blocksRun++;
    }
    sink += vars.get('sum')!;
  }
  const elapsed = performance.now() - t0;
  if (sink === 0) throw new Error('bare loop did nothing');
  return (blocksRun / elapsed) * 1000;
}

export async function benchEngine(opts: { ms?: number; turns?: number } = {}): Promise<EngineResult> {
  const ms = opts.ms ?? 3000;
  // 4,000 turns = 8,003 blocks per run: every step fits in the trace (its default limit is 10,000 steps).
  const turns = opts.turns ?? 4_000;
  const lib = library();
  const bare = measureBareLoop(turns, ms);
  const noTrace = await measureEngine(lib, turns, false, ms);
  const trace = await measureEngine(lib, turns, true, ms);
  return {
    blocksPerRun: noTrace.blocksPerRun,
    noTrace: round(noTrace.rate, 0),
    trace: round(trace.rate, 0),
    bareLoop: round(bare, 0),
    runs: { noTrace: ms, trace: ms, bare: ms },
  };
}
