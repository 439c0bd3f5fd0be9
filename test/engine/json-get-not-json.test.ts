// JsonGet on an answer that is not JSON (a proxy's HTML error page) fails the run with R_EXPRESSION at the
// expression's file:line:col, and the message ends with the fix: a Parser block, whose error exit takes such a body,
// or a look at the status first (trial 38 #12).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultRegistry } from '../../components/registry.js';
import { fixedClock, loadScenarioText, randomIds, runScenario, type Scenario, type ScenarioLibrary } from '../../engine/index.js';

const TEXT = `variables: { body: string, id: string }
blocks:
  begin: { kind: Start, param: body, exits: { next: read } }
  read:
    kind: Variable
    set: { id: 'JsonGet([body], "id")' }
    exits: { next: r }
  r: { kind: ReturnValue, values: { 1: '[id]' } }
`;

describe('JsonGet on text that is not JSON', () => {
  it('names where, what, the expression, then how to take such an answer', async () => {
    const loaded = loadScenarioText('ReadId.yaml', TEXT, { registry: defaultRegistry });
    assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.issues));
    const scenario = (loaded as { scenario: Scenario }).scenario;
    const lib: ScenarioLibrary = { dir: '.', scenarios: new Map([[scenario.name, scenario]]), issues: [] };
    const ports = { clock: fixedClock(new Date('2026-12-01T09:00:00Z')), ids: randomIds, asyncStarter: { start: async () => ({ runId: 'x' }) } };
    const html = '<html><body><h1>502 Bad Gateway</h1></body></html>';
    const r = await runScenario(lib, scenario.name, { params: { 1: html }, ports });
    assert.equal(r.status, 'failed');
    const error = r.status === 'failed' ? r.error : undefined;
    assert.equal(error?.code, 'R_EXPRESSION');
    assert.deepEqual([error?.file, error?.line, error?.col], ['ReadId.yaml', 6, 16]);
    assert.match(error!.message, /^block "read": set id: JsonGet: text "<html><body><h1>502 Bad Gateway<\/h1><\/bo…" is not valid JSON \(.*\) \(in expression "JsonGet\(\[body\], \\"id\\"\)"\); /);
    assert.ok(
      error!.message.endsWith(
        "; to take an answer that may not be JSON (an HTML error page), read it with a Parser block (mode: json), whose error exit takes a body that is not JSON, or check the answer's status (the WebRequest's status variable) before reading it",
      ),
      error!.message,
    );
    // Valid JSON still reads as before.
    const ok = await runScenario(lib, scenario.name, { params: { 1: '{"id":"42"}' }, ports });
    assert.deepEqual([ok.status, ok.returnValues['1']], ['completed', '42']);
  });
});
