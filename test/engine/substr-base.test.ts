// Where SubStr counts positions from (substrBase, OKTELL_SUBSTR_BASE). Oktell's documentation shows SubStr only in
// `SubStr([s], 1, Length([s]) - 1)`, which drops the last character if positions start at 1 and the first if they
// start at 0, so the base is a setting: 0 by default, 1 for an installation whose live Oktell counts from 1.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultRegistry } from '../../components/registry.js';
import { fixedClock, loadScenarioText, randomIds, runScenario, type Scenario, type ScenarioLibrary } from '../../engine/index.js';

/** Expression → what it gives with positions from 0 and from 1, over [s] = "Иван". */
const CASES: Array<{ expr: string; base0: string; base1: string }> = [
  { expr: 'SubStr([s], 1, Length([s]) - 1)', base0: 'ван', base1: 'Ива' }, // Oktell's own example
  { expr: 'SubStr([s], 1, 2)', base0: 'ва', base1: 'Ив' },
  { expr: 'SubStr([s], 2)', base0: 'ан', base1: 'ван' },
  { expr: 'SubStr([s], 4, 1)', base0: '', base1: 'н' },
  { expr: 'SubStr([s], 0, 2)', base0: 'Ив', base1: 'Ив' }, // before the first position: clamped, as past the end is
  { expr: 'SubStr([s], 9, 2)', base0: '', base1: '' },
  { expr: 'Substring([s], 3, 5)', base0: 'н', base1: 'ан' },
  // Constants only: folded when the scenario loads, before any run's setting is known, this kept base 0.
  { expr: 'SubStr("Иван", 1, 2) + "!"', base0: 'ва!', base1: 'Ив!' },
  // Only SubStr follows the setting: IndexOf and Left/Right are not Oktell functions, and Left/Right are the portable form.
  { expr: 'IndexOf([s], "в")', base0: '1', base1: '1' },
  { expr: 'Left([s], 3) + "|" + Right([s], 3)', base0: 'Ива|ван', base1: 'Ива|ван' },
];

const SCENARIO = `variables: { s: string }
blocks:
  begin: { kind: Start, param: s, exits: { next: r } }
  r:
    kind: ReturnValue
    values:
${CASES.map((c, i) => `      ${i + 1}: '${c.expr.replace(/'/g, "''")}'`).join('\n')}
`;

async function run(substrBase?: 0 | 1): Promise<string[]> {
  const loaded = loadScenarioText('Cut.yaml', SCENARIO, { registry: defaultRegistry });
  assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.issues));
  const scenario = (loaded as { scenario: Scenario }).scenario;
  const library: ScenarioLibrary = { dir: '.', scenarios: new Map([[scenario.name, scenario]]), issues: [] };
  const r = await runScenario(library, scenario.name, {
    params: { 1: 'Иван' },
    ports: { clock: fixedClock(new Date('2026-12-01T09:00:00Z')), ids: randomIds, asyncStarter: { start: async () => ({ runId: 'x' }) }, ...(substrBase !== undefined ? { substrBase } : {}) },
  });
  assert.equal(r.status, 'completed', JSON.stringify(r.error));
  return CASES.map((_, i) => String(r.returnValues[i + 1]));
}

describe('SubStr and the position of the first character (substrBase)', () => {
  it('counts from 0 when nothing is set', async () => {
    assert.deepEqual(await run(), CASES.map((c) => c.base0));
  });
  it('counts from 0 with substrBase 0', async () => {
    assert.deepEqual(await run(0), CASES.map((c) => c.base0));
  });
  it('counts from 1 with substrBase 1, and nothing else changes', async () => {
    assert.deepEqual(await run(1), CASES.map((c) => c.base1));
  });
});
