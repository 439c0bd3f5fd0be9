// Runs one test case: a dry run of its scenario with the case's parameters, fake Bpium, fixed clock and time zone,
// following every async start inline, then the subset match of its expectation.
import { createFixtureBpium } from '../../adapters/fixtures/bpium-fixtures.adapter.js';
import {
  attachChildResults,
  createInProcessStarter,
  fixedClock,
  runScenario,
  type EnginePorts,
  type IdPort,
  type RunResult,
  type ScenarioLibrary,
} from '../../engine/index.js';
import { loadLibrary } from '../config.js';
import { match, observe, type Mismatch, type Observed } from './expectations.js';
import type { TestCase } from './test-file.js';

/** Loaded scenario folders, one per folder and time zone (templates format dates in the case's zone). */
export class LibraryCache {
  private readonly loaded = new Map<string, ReturnType<typeof loadLibrary>>();

  get(dir: string, timeZone: string): ReturnType<typeof loadLibrary> {
    const key = `${timeZone}\u0000${dir}`;
    let entry = this.loaded.get(key);
    if (!entry) {
      entry = loadLibrary(dir, undefined, timeZone);
      this.loaded.set(key, entry);
    }
    return entry;
  }
}

export interface CaseOutcome {
  observed: Observed;
  mismatches: Mismatch[];
  durationMs: number;
}

/** Ids count up per case, so a dry-run Bpium create gets the same made-up id every time. */
function sequentialIds(): IdPort {
  let n = 0;
  return { newId: () => `test-${++n}` };
}

/** `defaultMaxEffects`: the cap of a case whose file sets none (OKTELL_MAX_EFFECTS); undefined: the engine's default. */
export async function runCase(c: TestCase, library: ScenarioLibrary, templates: EnginePorts['templates'], defaultMaxEffects?: number): Promise<CaseOutcome> {
  const t0 = performance.now();
  const ids = sequentialIds();
  const ports: EnginePorts = {
    // A fresh copy per case: a dry-run write must not leak into the next case.
    ...(c.bpium ? { bpium: createFixtureBpium(structuredClone(c.bpium)) } : {}),
    ...(templates ? { templates } : {}),
    clock: fixedClock(c.clock),
    ids,
    asyncStarter: undefined as never,
  };
  const maxEffects = c.maxEffects ?? defaultMaxEffects;
  const opts = { dryRun: true, timeZone: c.timeZone, ports, ...(maxEffects !== undefined ? { limits: { maxEffects } } : {}) };
  const starter = createInProcessStarter(ids, (req, runId) => runScenario(library, req.scenario, { ...opts, params: req.params, variables: req.variables, runId }));
  ports.asyncStarter = starter;
  const result: RunResult = attachChildResults(await runScenario(library, c.scenario, { ...opts, params: c.params }), await starter.drain());
  const observed = observe(result);
  return { observed, mismatches: match(c.expect, observed), durationMs: Math.round((performance.now() - t0) * 10) / 10 };
}
