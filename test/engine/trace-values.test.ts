// A trace keeps cut values, cut as each step is recorded: a scenario that builds a text in a loop (the count from the
// request) once pinned thousands of full versions of it, and cutting them when the run was stored copied each one
// (one small request took the server to 1.36 GB).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { defaultRegistry } from '../../components/registry.js';
import { cutText, cutTextParts, fixedClock, loadScenarioText, randomIds, runScenario, TRACE_TEXT_CHARS, type RunResult, type Scenario, type ScenarioLibrary } from '../../engine/index.js';
import { traceCutter } from '../../engine/cut-text.js';

const ACCUMULATE = `variables: { n: number, i: number, acc: string }
start: begin
blocks:
  begin:
    kind: Start
    param: n
    exits: { next: more }
  more:
    kind: Condition
    expression: '[i] < [n]'
    exits: { true: add, false: done }
  add:
    kind: Variable
    set:
      acc: '[acc] + "abcdefgh,"'
      i: '[i] + 1'
    exits: { next: more }
  done:
    kind: ReturnValue
    values: { 1: 'Length([acc])' }
`;

async function accumulate(n: number): Promise<RunResult> {
  const loaded = loadScenarioText('Accumulate.yaml', ACCUMULATE, { registry: defaultRegistry });
  assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.issues));
  const scenario = (loaded as { scenario: Scenario }).scenario;
  const library: ScenarioLibrary = { dir: '.', scenarios: new Map([[scenario.name, scenario]]), issues: [] };
  return runScenario(library, scenario.name, { params: { 1: n }, ports: { clock: fixedClock(new Date('2026-12-01T09:00:00Z')), ids: randomIds, asyncStarter: { start: async () => ({ runId: 'x' }) } } });
}

/** Characters of every text the trace's changed values hold. */
function tracedChars(r: RunResult): number {
  let n = 0;
  for (const s of r.trace) for (const v of Object.values(s.changed ?? {})) if (typeof v === 'string') n += v.length;
  return n;
}

describe('values kept by the trace', () => {
  it('a text grown over 12,000 rounds is kept cut in every step, with its whole length', async () => {
    const r = await accumulate(12_000);
    assert.equal(r.status, 'completed', JSON.stringify(r.error));
    assert.equal(r.returnValues['1'], 108_000);
    assert.equal(r.trace.length, 10_000);
    const changedValues = r.trace.reduce((a, s) => a + Object.keys(s.changed ?? {}).length, 0);
    assert.ok(tracedChars(r) <= changedValues * (TRACE_TEXT_CHARS + 40), `the trace holds ${tracedChars(r)} characters`);
    // Early steps keep the beginning of the text; every cut says how long the text was.
    const first = r.trace.map((s) => s.changed?.acc).find((v): v is string => typeof v === 'string' && v.length > TRACE_TEXT_CHARS);
    assert.ok(first && cutTextParts(first)?.start.startsWith('abcdefgh,abcdefgh,'), first);
    const last = r.trace.findLast((s) => s.changed?.acc !== undefined)!.changed!.acc as string;
    assert.equal(cutTextParts(last)?.length, 108_000);
    // The whole value is still the run's.
    assert.equal((r.variables.acc as string).length, 108_000);
  });

  it('a text cut already keeps the length of the whole value when cut again, also to fewer characters', () => {
    const once = cutText('я'.repeat(300), 256);
    assert.equal(cutText(once, 256), once);
    assert.deepEqual(cutTextParts(cutText(once, 100)), { start: 'я'.repeat(100), length: 300 });
    assert.deepEqual(cutTextParts(cutText(once, 0)), { start: '', length: 300 });
  });

  it('reads at most its budget of long texts in a run; past it a value is kept as its length', () => {
    const cut = traceCutter(4, 10);
    assert.equal(cut('abc'), 'abc');
    assert.equal(cut('abcdefgh'), 'abcd… [cut: 8 characters in all]');
    assert.equal(cut('abcdefgh'), '… [cut: 8 characters in all]');
    assert.deepEqual(cutTextParts(cut('abcdefghij')), { start: '', length: 10 });
    assert.equal(cut(12), 12);
  });

  it('a run and its run record of that loop leave little on the heap', { timeout: 120_000 }, () => {
    // In a child process with a collectable heap: what the result and the record retain, not how fast they are made.
    const script = `
      const { defaultRegistry } = await import(${JSON.stringify(new URL('../../components/registry.js', import.meta.url).href)});
      const e = await import(${JSON.stringify(new URL('../../engine/index.js', import.meta.url).href)});
      const { runWrite } = await import(${JSON.stringify(new URL('../../server/run-record.js', import.meta.url).href)});
      const loaded = e.loadScenarioText('Accumulate.yaml', ${JSON.stringify(ACCUMULATE)}, { registry: defaultRegistry });
      const library = { dir: '.', scenarios: new Map([[loaded.scenario.name, loaded.scenario]]), issues: [] };
      gc();
      const before = process.memoryUsage().heapUsed;
      const result = await e.runScenario(library, 'Accumulate', { params: { 1: 12000 }, ports: { clock: e.fixedClock(new Date()), ids: e.randomIds, asyncStarter: { start: async () => ({ runId: 'x' }) } } });
      const record = runWrite(result, { trigger: 'webapi', params: {} });
      gc();
      const grown = process.memoryUsage().heapUsed - before;
      process.stdout.write(JSON.stringify({ grown, steps: result.trace.length, stored: Buffer.byteLength(JSON.stringify(record.trace)) }));`;
    const out = JSON.parse(execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8' })) as { grown: number; steps: number; stored: number };
    assert.equal(out.steps, 10_000);
    // The record keeps the head and the tail of those steps within its budget (run-budget.ts).
    assert.ok(out.stored < 64 * 1024, `the stored trace takes ${out.stored} bytes`);
    // 10,000 steps of a few hundred characters each, twice (result and record), and the last 108 KB text.
    assert.ok(out.grown < 40 * 1024 * 1024, `the run and its record retain ${(out.grown / 1048576).toFixed(1)} MiB`);
  });
});
