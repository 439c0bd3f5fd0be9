// What a block sees of its run (BlockRuntime): the current block and scenario, kept current as the run moves through
// calls and jumps, and kept as plain properties. A runtime made with getters cost a four-block run several times its
// own work (each one got a hidden class of its own, and the collector copied it and everything it reached), so the
// shape is checked here, next to what the properties say.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { defaultRegistry } from '../../components/registry.js';
import { fixedClock, loadScenarioText, randomIds, runScenario, type BlockDefinition, type BlockRuntime, type Scenario } from '../../engine/index.js';

/** A block that notes what the runtime said when it ran, and which of its properties are accessors. */
function probeRegistry(seen: Array<{ blockId: string; scenario: string; accessors: string[] }>) {
  const probe: BlockDefinition<Record<string, never>, null> = {
    kind: 'Probe',
    oktellName: 'Проба',
    description: 'Test block: notes the runtime it was given.',
    exits: ['next'],
    schema: z.strictObject({}),
    example: 'p:\n  kind: Probe\n  exits: { next: done }',
    compile: () => null,
    run: (_config, rt: BlockRuntime) => {
      const accessors = Object.entries(Object.getOwnPropertyDescriptors(rt))
        .filter(([, d]) => d.get !== undefined || d.set !== undefined)
        .map(([k]) => k);
      seen.push({ blockId: rt.blockId, scenario: rt.scenario, accessors });
      return 'next';
    },
  };
  return new Map([...defaultRegistry, ['Probe', probe]]);
}

const FILES = {
  'Outer.yaml': `start: a
blocks:
  a: { kind: Probe, exits: { next: call } }
  call: { kind: AsyncScenario, scenario: Inner, mode: call, exits: { next: b } }
  b: { kind: Probe, exits: { next: go } }
  go: { kind: AsyncScenario, scenario: Last, mode: jump }
`,
  'Inner.yaml': `start: c
blocks:
  c: { kind: Probe, exits: { next: end } }
  end: { kind: Stop }
`,
  'Last.yaml': `start: d
blocks:
  d: { kind: Probe, exits: { next: end } }
  end: { kind: ReturnValue, values: { 1: '"done"' } }
`,
};

describe('the block runtime', () => {
  it('names the current block and scenario through a call, the return from it and a jump, as plain properties', async () => {
    const seen: Array<{ blockId: string; scenario: string; accessors: string[] }> = [];
    const registry = probeRegistry(seen);
    const scenarios = new Map<string, Scenario>();
    for (const [file, text] of Object.entries(FILES)) {
      const loaded = loadScenarioText(file, text, { registry });
      assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.issues));
      scenarios.set(loaded.scenario.name, loaded.scenario);
    }
    const r = await runScenario({ dir: '.', scenarios, issues: [] }, 'Outer', {
      ports: { clock: fixedClock(new Date('2026-12-01T09:00:00Z')), ids: randomIds, asyncStarter: { start: async () => ({ runId: 'x' }) } },
    });
    assert.equal(r.status, 'completed', JSON.stringify(r.error));
    assert.equal(r.returnValues[1], 'done');
    assert.deepEqual(seen, [
      { blockId: 'a', scenario: 'Outer', accessors: [] },
      { blockId: 'c', scenario: 'Inner', accessors: [] },
      { blockId: 'b', scenario: 'Outer', accessors: [] },
      { blockId: 'd', scenario: 'Last', accessors: [] },
    ]);
  });
});
