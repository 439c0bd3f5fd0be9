// A run longer than its trace limit keeps the trace's first half and its last half: the end of a runaway loop is
// where the reader looks. The steps between are counted, never silently lost. And keeping a trace never changes how
// a run ends: a trace note that fails to compute is left out.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { defaultRegistry } from '../../components/registry.js';
import { fixedClock, loadScenarioText, randomIds, runScenario, type BlockDefinition, type Scenario, type ScenarioLibrary } from '../../engine/index.js';

const LOOP = `variables: { i: number }
start: inc
blocks:
  inc:
    kind: Variable
    set: { i: '[i] + 1' }
    exits: { next: check }
  check:
    kind: Condition
    expression: '[i] < 12'
    exits: { true: inc, false: done }
  done:
    kind: Stop
`;

async function run(traceLimit: number, text = LOOP, registry = defaultRegistry, trace = true) {
  const loaded = loadScenarioText('Loop.yaml', text, { registry });
  assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.issues));
  const scenario = (loaded as { scenario: Scenario }).scenario;
  const library: ScenarioLibrary = { dir: '.', scenarios: new Map([[scenario.name, scenario]]), issues: [] };
  return runScenario(library, scenario.name, { traceLimit, trace, ports: { clock: fixedClock(new Date('2026-12-01T09:00:00Z')), ids: randomIds, asyncStarter: { start: async () => ({ runId: 'x' }) } } });
}

describe('the trace limit', () => {
  // 12 rounds of inc + check, then done: 25 steps.
  const cases: Array<{ limit: number; steps: number[]; cut: number | undefined }> = [
    { limit: 100, steps: Array.from({ length: 25 }, (_, i) => i + 1), cut: undefined },
    { limit: 25, steps: Array.from({ length: 25 }, (_, i) => i + 1), cut: undefined },
    { limit: 10, steps: [1, 2, 3, 4, 5, 21, 22, 23, 24, 25], cut: 15 },
    { limit: 7, steps: [1, 2, 3, 4, 23, 24, 25], cut: 18 },
    { limit: 1, steps: [1], cut: 24 },
    { limit: 0, steps: [], cut: 25 },
  ];
  for (const c of cases) {
    it(`${c.limit} steps at most → ${c.steps.length} kept, ${c.cut ?? 0} counted as left out`, async () => {
      const r = await run(c.limit);
      assert.equal(r.status, 'completed', JSON.stringify(r.error));
      assert.equal(r.steps, 25);
      assert.deepEqual(r.trace.map((s) => s.step), c.steps);
      assert.equal(r.traceTruncated, c.cut);
      if (c.steps.length > 1) assert.equal(r.trace.at(-1)!.block, 'done', 'the last step is the last block that ran');
    });
  }
});

describe('the values a kept step changed', () => {
  // 9,000 rounds: past the head, the ring goes round hundreds of times, and the trace's store of changed values is
  // rewritten several times to drop overwritten steps' values. Every kept step must still show its own values.
  const long = LOOP.replace("'[i] < 12'", "'[i] < 9000'");
  for (const limit of [10, 7, 2]) {
    it(`limit ${limit}: each kept step shows the value it set, after the ring went round`, async () => {
      const r = await run(limit, long);
      assert.equal(r.status, 'completed', JSON.stringify(r.error));
      assert.equal(r.steps, 18001);
      assert.equal(r.trace.length, limit);
      assert.equal(r.traceTruncated, 18001 - limit);
      for (const s of r.trace) {
        if (s.block === 'inc') assert.deepEqual(s.changed, { i: (s.step + 1) / 2 }, `step ${s.step}`);
        else assert.equal(s.changed, undefined, `step ${s.step}`);
        if (s.block === 'check') assert.deepEqual(s.notes, [`with [i] = ${s.step / 2}`], `step ${s.step}`);
      }
      assert.deepEqual(
        r.trace.map((s) => s.step),
        [...Array.from({ length: Math.ceil(limit / 2) }, (_, i) => i + 1), ...Array.from({ length: Math.floor(limit / 2) }, (_, i) => 18001 - Math.floor(limit / 2) + 1 + i)],
      );
    });
  }

  it('the failing step keeps what it changed before it failed, with the error', async () => {
    const failing = `variables: { a: number, b: number, t: string }
start: s
blocks:
  s:
    kind: Variable
    set: { a: 5, t: "'not a number'", b: '[t]' }
    exits: { next: t }
  t:
    kind: Stop
`;
    const r = await run(100, failing);
    assert.equal(r.status, 'failed');
    assert.equal(r.trace.length, 1);
    assert.equal(r.trace[0]!.exit, 'failed');
    assert.deepEqual(r.trace[0]!.changed, { a: 5, t: 'not a number' });
    assert.equal(r.trace[0]!.error, r.error!.message);
  });
});

describe('trace notes', () => {
  // A block of this test only: its note throws, as a note re-reading a value could.
  const noisy: BlockDefinition<Record<string, never>, null> = {
    kind: 'Noisy', oktellName: 'Шумный', description: 'test block', exits: ['next'], schema: z.strictObject({}), example: 'n: { kind: Noisy }',
    compile: () => null,
    run(_config, rt) {
      rt.traceNote(() => {
        throw new Error('the note failed');
      });
      rt.traceNote('kept');
      return 'next';
    },
  };
  const registry = new Map([...defaultRegistry, ['Noisy', noisy]]);
  const text = 'start: n\nblocks:\n  n:\n    kind: Noisy\n    exits: { next: done }\n  done:\n    kind: Stop\n';
  it('a step keeps all of its notes, in the order they were made; a note function is given the runtime', async () => {
    // A step's first note is kept apart from the others until a second comes (interpreter.ts): none may be lost.
    const several: BlockDefinition<Record<string, never>, null> = {
      kind: 'Several', oktellName: 'Несколько', description: 'test block', exits: ['next'], schema: z.strictObject({}), example: 's: { kind: Several }',
      compile: () => null,
      run(_config, rt) {
        rt.traceNote('one');
        rt.traceNote((r) => `two at ${r.blockId}`);
        rt.traceNote('');
        rt.traceNote('three');
        return 'next';
      },
    };
    const one: BlockDefinition<Record<string, never>, null> = { ...several, kind: 'One', run: (_c, rt) => (rt.traceNote((r) => `only ${r.blockId}`), 'next') };
    const text = 'start: s\nblocks:\n  s:\n    kind: Several\n    exits: { next: o }\n  o:\n    kind: One\n    exits: { next: done }\n  done:\n    kind: Stop\n';
    const r = await run(100, text, new Map([...defaultRegistry, ['Several', several], ['One', one]]));
    assert.equal(r.status, 'completed', JSON.stringify(r.error));
    assert.deepEqual(r.trace.map((s) => s.notes), [['one', 'two at s', 'three'], ['only o'], undefined]);
  });

  it("an operand-form Condition's note shows the two values it compared", async () => {
    const text = `variables: { i: number, name: string }
start: set
blocks:
  set:
    kind: Variable
    set: { i: 7, name: '"Иван"' }
    exits: { next: check }
  check:
    kind: Condition
    left: '[i]'
    operator: '<'
    right: '[name]'
    exits: { true: done, false: done }
  done:
    kind: Stop
`;
    const r = await run(100, text);
    assert.equal(r.status, 'completed', JSON.stringify(r.error));
    assert.deepEqual(r.trace[1]!.notes, ['compared 7 < "Иван"']);
    assert.deepEqual(Object.keys(r.trace[1]!), ['step', 'scenario', 'block', 'kind', 'exit', 'ms', 'notes']);
    assert.deepEqual(Object.keys(r.trace[0]!), ['step', 'scenario', 'block', 'kind', 'exit', 'ms', 'changed']);
  });

  for (const trace of [true, false]) {
    it(`a note that fails to compute is left out; the run ends the same (trace ${trace ? 'on' : 'off'})`, async () => {
      const r = await run(100, text, registry, trace);
      assert.equal(r.status, 'completed', JSON.stringify(r.error));
      assert.equal(r.steps, 2);
      if (trace) assert.deepEqual(r.trace[0]!.notes, ['kept']);
      else assert.deepEqual(r.trace, []);
    });
  }
});
