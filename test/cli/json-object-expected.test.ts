// A JSON document that must be an object but is a top-level array (or a bare value) is said to be one, with the fix.
// `webhook send --fresh` on a saved list of deliveries said "the body has no "hook" … object", as if it were an object
// lacking a key; a Bpium block's valuesJson holding [ { … } ] said only "must be a JSON object of field id → value".
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { createFixtureBpium, type BpiumFixtureFile } from '../../adapters/fixtures/bpium-fixtures.adapter.js';
import { freshBody } from '../../cli/commands/webhook.js';
import { defaultRegistry } from '../../components/registry.js';
import { fixedClock, loadScenarioText, randomIds, runScenario, type EnginePorts, type Scenario, type ScenarioLibrary } from '../../engine/index.js';
import { repoPath } from '../helpers.js';

const HOOK = { hook: { id: '7', sequenceId: 42 }, timestamp: '1732780800' };

function refusal(body: string): string {
  try {
    freshBody(Buffer.from(body), new Date('2026-12-06T12:00:00Z'));
  } catch (e) {
    return (e as Error).message;
  }
  assert.fail(`expected --fresh to refuse ${body}`);
}

describe('webhook send --fresh: a body that is not a JSON object', () => {
  it('a top-level array is said to be an array, not an object lacking "hook", with the fix', () => {
    assert.equal(
      refusal(JSON.stringify([HOOK, HOOK])),
      '--fresh: the body is a JSON array of 2 items, objects, not a JSON object: a Bpium webhook body is one object with "hook": { "id", "sequenceId" }; save each item in a file of its own and send each',
    );
    assert.equal(
      refusal(JSON.stringify([HOOK])),
      '--fresh: the body is a JSON array of one item, an object, not a JSON object: a Bpium webhook body is one object with "hook": { "id", "sequenceId" }; save the object inside the [ ] alone',
    );
    assert.match(refusal('[]'), /^--fresh: the body is an empty JSON array, not a JSON object: .*; send it without --fresh$/);
    assert.match(refusal('[1, 2]'), /^--fresh: the body is a JSON array of 2 items, not a JSON object: .*; send it without --fresh$/);
    assert.match(refusal('"text"'), /^--fresh: the body is the JSON text "text", not a JSON object: /);
    assert.match(refusal('null'), /^--fresh: the body is null, not a JSON object: /);
  });

  it('an object without "hook" is still told so, and a Bpium body is still made fresh', () => {
    assert.match(refusal('{"hello":"world"}'), /^--fresh: the body has no "hook"/);
    const made = JSON.parse(freshBody(Buffer.from(JSON.stringify(HOOK)), new Date('2026-12-06T12:00:00Z')).body.toString('utf8')) as typeof HOOK;
    assert.equal(made.hook.sequenceId, Date.parse('2026-12-06T12:00:00Z'));
  });
});

describe('Bpium valuesJson that is not a JSON object', () => {
  const ports: EnginePorts = { clock: fixedClock(new Date('2026-12-01T09:00:00Z')), ids: randomIds, asyncStarter: { start: async () => ({ runId: 'x' }) } };
  const yaml = `variables: { doc: string, id: string }
start: c
blocks:
  c: { kind: Bpium, method: createRecord, catalog: 3, valuesJson: '[doc]', newId: id }
`;

  async function failure(doc: string): Promise<string> {
    const loaded = loadScenarioText('Values.yaml', yaml, { registry: defaultRegistry });
    assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.issues));
    const scenario = (loaded as { scenario: Scenario }).scenario;
    const lib: ScenarioLibrary = { dir: '.', scenarios: new Map([[scenario.name, scenario]]), issues: [] };
    const fixture = parse(readFileSync(repoPath('test', 'fixtures', 'bpium-users.yaml'), 'utf8')) as BpiumFixtureFile;
    const r = await runScenario(lib, scenario.name, { variables: { doc }, ports: { ...ports, bpium: createFixtureBpium(fixture) } });
    assert.equal(r.status, 'failed', JSON.stringify(r));
    return r.status === 'failed' ? r.error.message : '';
  }

  it('a top-level array names what it is and the fix', async () => {
    assert.match(await failure('[{"2": "Иван"}]'), /valuesJson is a JSON array of one item, an object, not a JSON object of field id → value: give the object inside the \[ \] alone/);
    assert.match(await failure('[{"2": "a"}, {"2": "b"}]'), /valuesJson is a JSON array of 2 items, objects, not a JSON object of field id → value: one block writes one record: give one object, and loop over the items to write each/);
    assert.match(await failure('"x"'), /valuesJson is the JSON text "x", not a JSON object of field id → value: write one object of field id → value, e\.g\. \{"2": "text", "5": \["3"\]\}/);
  });
});
