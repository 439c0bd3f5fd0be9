// The Parser's and the Bpium block's "not valid JSON" reasons are one line: V8's message quotes the stretch of the
// text around the mistake with its line breaks (`Unexpected token 'a', "ab<line break>cd" is not valid JSON`), and
// the reason goes into the scenario's error variable, the trace, the run's error and the log, which it broke in two.
// Escaped as JsonGet's error escapes them (oneLine). And a JsonGet path whose key holds a line break is refused at
// load time with the key escaped in the message and in the hint's `["…"]`.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createFixtureBpium } from '../../adapters/fixtures/bpium-fixtures.adapter.js';
import { defaultRegistry } from '../../components/registry.js';
import { fixedClock, loadScenarioText, randomIds, runScenario, type EnginePorts } from '../../engine/index.js';
import { libraryOfText } from '../scenario-text.helper.js';

const ports: EnginePorts = {
  clock: fixedClock(new Date('2026-12-01T09:00:00Z')),
  ids: randomIds,
  asyncStarter: { start: async () => ({ runId: 'x' }) },
  bpium: createFixtureBpium({ catalogs: { '3': { records: { '1': { '1': 'Иван' } } } } }),
};

async function runText(yaml: string, variables: Record<string, string>) {
  const { library, name } = libraryOfText('Lines.yaml', yaml);
  return runScenario(library, name, { variables, dryRun: true, ports });
}

const PARSER = `variables: { doc: string, a: string, err: string }
start: p
blocks:
  p: { kind: Parser, mode: json, document: '[doc]', extract: { a: $.a }, errorVariable: err, exits: { success: ok, error: bad } }
  ok: { kind: ReturnValue, values: { 1: '"ok"' } }
  bad: { kind: ReturnValue, values: { 1: '[err]' } }
`;

const bpium = (property: string, wired: boolean) => `variables: { doc: string, code: string }
start: b
blocks:
  b:
    kind: Bpium
    method: ${property === 'filtersJson' ? 'findRecord' : 'createRecord'}
    catalog: '"3"'
    ${property}: '[doc]'
    errorCode: code
    exits: { success: ok${wired ? ', error: bad' : ''} }
  ok: { kind: ReturnValue, values: { 1: '"ok"' } }
${wired ? "  bad: { kind: ReturnValue, values: { 1: '[code]' } }\n" : ''}`;

describe('"not valid JSON" reasons are one line', () => {
  it('the Parser (mode json): its error variable holds the reason with the line break escaped', async () => {
    const r = await runText(PARSER, { doc: 'ab\ncd' });
    assert.equal(r.status, 'completed', JSON.stringify(r.error));
    const reason = String(r.returnValues['1']);
    assert.equal(reason, `the document is not valid JSON: Unexpected token 'a', "ab\\ncd" is not valid JSON`);
    const step = JSON.stringify(r.trace.find((s) => s.block === 'p'));
    assert.ok(step.includes('\\"ab\\\\ncd\\"'), step);
  });

  for (const property of ['filtersJson', 'valuesJson']) {
    it(`the Bpium block's ${property}: the run's error (unwired) and the trace (wired) say it on one line`, async () => {
      const failed = await runText(bpium(property, false), { doc: 'no\r\njson' });
      assert.equal(failed.status, 'failed');
      const message = failed.status === 'failed' ? failed.error.message : '';
      assert.doesNotMatch(message, /[\n\r]/, JSON.stringify(message));
      assert.match(message, new RegExp(`${property} is not valid JSON: Unexpected token 'o', "no\\\\r\\\\njson" is not valid JSON`));
      const taken = await runText(bpium(property, true), { doc: 'no\r\njson' });
      assert.equal(taken.returnValues['1'], 'BPIUM_BAD_JSON');
      const step = JSON.stringify(taken.trace.find((s) => s.block === 'b'));
      assert.ok(step.includes(`${property} is not valid JSON: Unexpected token 'o', \\"no\\\\r\\\\njson\\"`), step);
    });
  }

  it('a filtersJson that is JSON but not an array or object says what it is', async () => {
    const r = await runText(bpium('filtersJson', false), { doc: '"a\\nb"' });
    assert.equal(r.status, 'failed');
    assert.match(r.status === 'failed' ? r.error.message : '', /filtersJson is the JSON text "a\\nb", not a JSON array of \{fieldId, value\} or an object of field id → value/);
  });

  it('a JsonGet path with a line break in a key: the load-time message and the hint show it escaped', () => {
    const text = `variables:\n  body: string\n  id: string\nstart: b\nblocks:\n  b:\n    kind: Variable\n    set: { id: 'JsonGet([body], "ab\n\n      cd")' }\n`;
    const loaded = loadScenarioText('Path.yaml', text, { registry: defaultRegistry });
    assert.equal(loaded.ok, false);
    const issue = (loaded as { issues: Array<{ message: string; hint?: string }> }).issues[0]!;
    assert.equal(issue.hint, 'write such a key in brackets: ["ab\\ncd"]');
    assert.match(issue.message, /^JsonGet: bad path "ab\\ncd": key "ab\\ncd" holds spaces \(at position 0\)/);
  });
});
