// Every block kind's YAML example (shown in hints and docs) is itself a valid block: the docs cannot rot.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { blockDefinitions } from '../../components/registry.js';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioText } from '../../engine/index.js';

/** Wraps one example block into a scenario, declaring the variables it uses and stub blocks for its exits. */
function wrap(example: string): string {
  const block = parse(example) as Record<string, Record<string, unknown>>;
  const [id] = Object.keys(block);
  const text = JSON.stringify(block);
  const variables: Record<string, string> = {};
  for (const m of text.matchAll(/\[([^\][\\]+)\]/g)) variables[m[1]!.trim()] = 'string';
  const b = block[id!]!;
  for (const key of ['param', 'answer', 'errorCode', 'newId', 'errorVariable', 'rows', 'rowCount', 'status', 'responseBody', 'responseHeaders']) if (typeof b[key] === 'string') variables[b[key] as string] = 'string';
  for (const key of ['set', 'params', 'extract', 'fields', 'into']) {
    if (b[key] && typeof b[key] === 'object' && !(b.kind === 'AsyncScenario' && key === 'params')) for (const k of Object.keys(b[key] as object)) variables[k] = 'string';
  }
  if (b.kind === 'Variable') for (const k of Object.keys(b.set as object)) variables[k] = 'number';
  const blocks: Record<string, unknown> = { ...block };
  for (const target of Object.values((b.exits ?? {}) as Record<string, string>)) blocks[target] ??= { kind: 'Stop' };
  return stringify({ variables, start: id, blocks });
}

describe('block examples', () => {
  for (const def of blockDefinitions) {
    it(`the ${def.kind} example loads as a valid block`, () => {
      const wrapped = wrap(def.example);
      const r = loadScenarioText('Example.yaml', wrapped, { registry: defaultRegistry });
      if (!r.ok) assert.fail(`${def.kind} example is invalid:\n${r.issues.map((i) => `${i.code} ${i.message}`).join('\n')}\n---\n${wrapped}`);
      const blocks = [...r.scenario.blocks.values()];
      assert.equal(blocks[0]!.kind, def.kind);
    });
  }
  it('every kind has a description, its Oktell name and an example', () => {
    for (const def of blockDefinitions) {
      assert.ok(def.description.length > 20, def.kind);
      assert.match(def.oktellName, /[А-Яа-я]/, def.kind);
      assert.ok(def.example.includes(`kind: ${def.kind}`), def.kind);
    }
  });
});
