// A run-time error of an expression is one line, whatever the value that failed holds. A value quoted in the message
// shows its line breaks escaped (quoteForMessage), but parts of it the reason held unquoted kept them: the stretch of
// the text V8's JSON error shows (`Unexpected token 'a', "ab<line break>cd" is not valid JSON`) and a key of a bad
// JsonGet path (`key "ab<line break>cd" holds spaces`), so the message, in a log or the console, broke in two.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultRegistry } from '../../components/registry.js';
import { fixedClock, loadScenarioText, randomIds, runScenario, type EnginePorts, type Scenario, type ScenarioLibrary } from '../../engine/index.js';
import type { Value } from '../../engine/values.js';
import { runtimeError } from './fixed-context.js';

describe('a run-time error with a line break in the value stays on one line', () => {
  const rows: Array<[source: string, vars: Record<string, Value>, message: RegExp]> = [
    ['JsonGet([a], "x")', { a: 'ab\ncd' }, /^JsonGet: text "ab\\ncd" is not valid JSON \(Unexpected token 'a', "ab\\ncd" is not valid JSON\) \(in expression/],
    ['JsonCount([a])', { a: 'no\r\njson\there' }, /^JsonCount: text "no\\r\\njson\\there" is not valid JSON \(Unexpected token 'o', "no\\r\\njson\\there" is not valid JSON\)/],
    ['JsonGet("{}", [p])', { p: 'ab\ncd' }, /^JsonGet: bad path "ab\\ncd" at position 0: key "ab\\ncd" holds spaces \(in expression/],
    ['JsonGet("{}", [p])', { p: 'a[0]\nb' }, /^JsonGet: bad path "a\[0\]\\nb" at position 4: unexpected "\\n" after "\]"/],
    ['Num([a])', { a: '1\n2' }, /^Num: cannot convert text "1\\n2" to a number/],
  ];
  for (const [source, vars, message] of rows) {
    it(`${source} with ${JSON.stringify(vars)}`, () => {
      const e = runtimeError(source, vars);
      assert.doesNotMatch(e.message, /[\n\r\t]/, JSON.stringify(e.message));
      assert.match(e.message, message);
    });
  }

  it('through a scenario run: the run\'s error message is one line', async () => {
    const text = `variables:\n  body: string\n  id: string\nstart: a\nblocks:\n  a:\n    kind: Variable\n    set: { body: '"not\n\n      json"' }\n    exits: { next: b }\n  b:\n    kind: Variable\n    set: { id: 'JsonGet([body], "id")' }\n`;
    const loaded = loadScenarioText('Lines.yaml', text, { registry: defaultRegistry });
    assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.issues));
    const scenario = (loaded as { scenario: Scenario }).scenario;
    const lib: ScenarioLibrary = { dir: '.', scenarios: new Map([[scenario.name, scenario]]), issues: [] };
    const ports: EnginePorts = { clock: fixedClock(new Date('2026-12-01T09:00:00Z')), ids: randomIds, asyncStarter: { start: async () => ({ runId: 'x' }) } };
    const r = await runScenario(lib, scenario.name, { dryRun: true, timeZone: 'UTC', ports });
    assert.equal(r.status, 'failed');
    const message = r.status === 'failed' ? r.error.message : '';
    assert.doesNotMatch(message, /[\n\r]/, JSON.stringify(message));
    assert.match(message, /JsonGet: text "not\\njson" is not valid JSON \(Unexpected token 'o', "not\\njson" is not valid JSON\)/);
  });
});
