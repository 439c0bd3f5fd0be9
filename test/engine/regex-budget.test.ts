// The time budget of regex extractions (components/re2-pattern.ts, allMatches, given what is left of the run's): checked
// only between searches, and only when a search with text left to read is to come. A budget of -1 is one already spent, so these checks do not
// depend on the machine's speed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allMatches, compilePattern } from '../../components/re2-pattern.js';
import { defaultRegistry } from '../../components/registry.js';
import { fixedClock, loadScenarioText, randomIds, runScenario, type Scenario, type ScenarioLibrary } from '../../engine/index.js';

function re(pattern: string) {
  const c = compilePattern(pattern, '');
  assert.ok(c.ok);
  return c.re;
}

describe('allMatches and its time budget', () => {
  it('gives every match within the budget', () => {
    assert.deepEqual(allMatches(re('(\\d+)'), 'a1 b22 c333', 1), { done: true, values: ['1', '22', '333'] });
  });

  it('stops between searches once the budget is spent, saying how many it found', () => {
    const r = allMatches(re('(\\d+)'), 'a1 b22 c333', 1, Infinity, -1);
    assert.equal(r.done, false);
    assert.equal(!r.done && r.found, 1);
  });

  it('never fails what needs no further search: no match, the limit reached, a match that ends the text', () => {
    assert.deepEqual(allMatches(re('(x)'), 'a1 b22', 1, Infinity, -1), { done: true, values: [] });
    assert.deepEqual(allMatches(re('(\\d+)'), 'a1 b22 c333', 1, 1, -1), { done: true, values: ['1'] });
    // The empty match at the end of the text (the S5 pattern over a body that almost matches).
    assert.deepEqual(allMatches(re('(\\w+\\s?)*$'), 'aaa!', 0, Infinity, -1), { done: true, values: [''] });
  });
});

// A loop that takes match i of the text at each turn: every extraction is cheap (i + 1 short searches, well under a
// millisecond), but the turns together are quadratic. The budget is the run's, so the loop is stopped too; with a
// budget per extraction it ran to its end (review s27 F1).
const LOOP = `variables: { body: string, n: number, i: number, id: string, err: string }
start: begin
blocks:
  begin: { kind: Start, param: body, exits: { next: size } }
  size:
    kind: Variable
    set: { n: '800' }
    exits: { next: check }
  check:
    kind: Condition
    expression: '[i] < [n]'
    exits: { true: take, false: done }
  take:
    kind: Parser
    mode: regex
    document: '[body]'
    extract:
      id: { pattern: 'id=(\\d+)', index: '[i]' }
    errorVariable: err
    exits: { success: inc, error: stopped }
  inc:
    kind: Variable
    set: { i: '[i] + 1' }
    exits: { next: check }
  done: { kind: ReturnValue, values: { 1: '"done"', 2: '[i]' } }
  stopped: { kind: ReturnValue, values: { 1: '[err]', 2: '[i]' } }
`;

describe('the regex budget of a run', () => {
  it('stops a loop of cheap extractions that are quadratic together', async () => {
    const loaded = loadScenarioText('Loop.yaml', LOOP, { registry: defaultRegistry });
    assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.issues));
    const scenario = (loaded as { scenario: Scenario }).scenario;
    const library: ScenarioLibrary = { dir: '.', scenarios: new Map([[scenario.name, scenario]]), issues: [] };
    const matches = 800;
    const body = Array.from({ length: matches }, (_, k) => `id=${k}`).join(' ');
    // 800 turns of up to 800 searches: some hundreds of milliseconds of searching in all, against a budget of 20.
    const r = await runScenario(library, scenario.name, {
      params: { 1: body },
      ports: { clock: fixedClock(new Date('2026-12-01T09:00:00Z')), ids: randomIds, asyncStarter: { start: async () => ({ runId: 'x' }) }, regexBudgetMs: 20 },
    });
    assert.equal(r.status, 'completed', JSON.stringify(r.error));
    assert.match(String(r.returnValues[1]), /^block "take": the regex `id=\(\\d\+\)` \(value for id\) ran out of the run's 20 ms regex budget/);
    assert.ok(Number(r.returnValues[2]) < matches, `stopped at turn ${String(r.returnValues[2])} of ${matches}`);
  });
});
