// JSON nested far deeper than the call stack (issue 18): jsonText writes a value of any depth. Since review s30 (M1) a
// document from request data deeper than MAX_JSON_DEPTH is refused before it is parsed (json-depth-limit.test.ts), so
// a webhook nested 100,000 levels takes the Parser's error exit, and a recursive ".." search meets at most 256 levels.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { createFixtureBpium, type BpiumFixtureFile } from '../../adapters/fixtures/bpium-fixtures.adapter.js';
import { createTemplateRenderer } from '../../adapters/mail/templates.js';
import { defaultRegistry } from '../../components/registry.js';
import { fixedClock, jsonText, loadScenarioLibrary, loadScenarioText, randomIds, runScenario, MAX_JSON_DEPTH, type EnginePorts, type Scenario, type ScenarioLibrary } from '../../engine/index.js';
import { repoPath } from '../helpers.js';

const DEPTH = 100_000;
const deep = `${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}`;

function ports(bpium?: EnginePorts['bpium'], templates?: EnginePorts['templates']): EnginePorts {
  return { ...(bpium ? { bpium } : {}), ...(templates ? { templates } : {}), clock: fixedClock(new Date('2026-12-01T09:00:00Z')), ids: randomIds, asyncStarter: { start: async () => ({ runId: 'x' }) } };
}

describe('deeply nested JSON', () => {
  it('jsonText writes what JSON.stringify writes, and also a value 100,000 levels deep', () => {
    for (const v of [null, 1.5, 'a"\\\n\u2028я', [1, [2, { a: [] }]], { 'к"': { b: null, c: [true, false] }, '': {} }]) assert.equal(jsonText(v), JSON.stringify(v));
    assert.throws(() => JSON.stringify(JSON.parse(deep)), RangeError, 'the reason for jsonText');
    assert.equal(jsonText(JSON.parse(deep)), deep);
    const mixed = `{"a":[{"b":${deep}},"x"],"c":1}`;
    assert.equal(jsonText(JSON.parse(mixed)), mixed);
  });

  it("the article's BpiumNewTask answers 'malformed webhook' with the limit when the description nests 100,000 deep, and notifies at 200", async () => {
    const dir = repoPath('scenarios');
    const templates = createTemplateRenderer({ dir: repoPath('scenarios', 'templates') });
    const lib = await loadScenarioLibrary(dir, { registry: defaultRegistry, templates });
    const fixture = parse(readFileSync(repoPath('test', 'fixtures', 'bpium-users.yaml'), 'utf8')) as BpiumFixtureFile;
    const body = (description: string) =>
      `{"hook":{"id":"1","event":"record.created","sequenceId":7},"payload":{"catalogId":"11","recordId":"5","values":{"2":"Глубокая задача","3":${description},"4":[{"id":"2"}]}}}`;
    const run = (description: string) => runScenario(lib, 'BpiumNewTask', { params: { 1: body(description) }, dryRun: true, timeZone: 'UTC', ports: ports(createFixtureBpium(fixture), templates) });
    const refused = await run(deep);
    assert.equal(refused.status, 'completed', JSON.stringify(refused.status === 'failed' && refused.error));
    assert.match(String(refused.returnValues['1']), /^malformed webhook: the document nests arrays and objects deeper than 256 levels/);
    assert.equal(refused.mails.length, 0);
    const r = await run(`${'['.repeat(200)}${']'.repeat(200)}`);
    assert.equal(r.returnValues['1'], 'notified 1 of 1');
    assert.deepEqual(r.mails.map((m) => m.to), [['ivan.petrov@example.com']]);
  });

  it('a recursive ".." search through a document at the limit finds what it holds', async () => {
    const text = `variables: { doc: string, ids: string }
start: p
blocks:
  p: { kind: Parser, mode: json, document: '[doc]', extract: { ids: { path: '$..id', function: all } }, exits: { success: s, error: s } }
  s: { kind: ReturnValue, values: { 1: '[ids]' } }
`;
    const loaded = loadScenarioText('Deep.yaml', text, { registry: defaultRegistry });
    assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.issues));
    const scenario = (loaded as { scenario: Scenario }).scenario;
    const lib: ScenarioLibrary = { dir: '.', scenarios: new Map([[scenario.name, scenario]]), issues: [] };
    const pairs = (MAX_JSON_DEPTH - 2) / 2; // 127 pairs of [{ inside the outer object: 255 levels
    const r = await runScenario(lib, scenario.name, { variables: { doc: `{"a":${'[{"id":2,"x":'.repeat(pairs)}0${'}]'.repeat(pairs)},"id":1}` }, ports: ports() });
    assert.equal(r.status, 'completed', JSON.stringify(r.status === 'failed' && r.error));
    assert.equal((JSON.parse(String(r.returnValues['1'])) as unknown[]).length, 1 + pairs);
  });
});
