// JSON nested far deeper than the call stack (issue 18): the parts of such a document a scenario reads still work
// (JSON text of any depth), and what cannot work (a recursive ".." search through it) fails with R_TOO_DEEP, a
// permanent error that says what is wrong, instead of R_INTERNAL "Maximum call stack size exceeded".
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { createFixtureBpium, type BpiumFixtureFile } from '../../adapters/fixtures/bpium-fixtures.adapter.js';
import { createTemplateRenderer } from '../../adapters/mail/templates.js';
import { defaultRegistry } from '../../components/registry.js';
import { fixedClock, jsonText, loadScenarioLibrary, loadScenarioText, randomIds, runScenario, type EnginePorts, type Scenario, type ScenarioLibrary } from '../../engine/index.js';
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

  it("the article's BpiumNewTask still notifies the responsible when the task's description is an array nested 100,000 deep", async () => {
    const dir = repoPath('scenarios');
    const templates = createTemplateRenderer({ dir: repoPath('scenarios', 'templates') });
    const lib = await loadScenarioLibrary(dir, { registry: defaultRegistry, templates });
    const fixture = parse(readFileSync(repoPath('test', 'fixtures', 'bpium-users.yaml'), 'utf8')) as BpiumFixtureFile;
    const body = `{"hook":{"id":"1","event":"record.created","sequenceId":7},"payload":{"catalogId":"11","recordId":"5","values":{"2":"Глубокая задача","3":${deep},"4":[{"id":"2"}]}}}`;
    const r = await runScenario(lib, 'BpiumNewTask', { params: { 1: body }, dryRun: true, timeZone: 'UTC', ports: ports(createFixtureBpium(fixture), templates) });
    assert.equal(r.status, 'completed', JSON.stringify(r.error));
    assert.equal(r.returnValues['1'], 'notified 1 of 1');
    assert.deepEqual(r.mails.map((m) => m.to), [['ivan.petrov@example.com']]);
  });

  it('a recursive ".." search through such a document fails with R_TOO_DEEP, permanent, with a clear message', async () => {
    const text = `variables: { doc: string, ids: string }
start: p
blocks:
  p: { kind: Parser, mode: json, document: '[doc]', extract: { ids: { path: '$..id', function: all } }, exits: { success: s, error: s } }
  s: { kind: Stop }
`;
    const loaded = loadScenarioText('Deep.yaml', text, { registry: defaultRegistry });
    assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.issues));
    const scenario = (loaded as { scenario: Scenario }).scenario;
    const lib: ScenarioLibrary = { dir: '.', scenarios: new Map([[scenario.name, scenario]]), issues: [] };
    const r = await runScenario(lib, scenario.name, { variables: { doc: `{"a":${deep},"id":1}` }, ports: ports() });
    assert.equal(r.status, 'failed');
    if (r.status !== 'failed') return;
    assert.equal(r.error.code, 'R_TOO_DEEP');
    assert.equal(r.error.retryable, false);
    assert.match(r.error.message, /block "p": the data is nested too deeply/);
  });
});
