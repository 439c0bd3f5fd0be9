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
  const loop = () => {
    const loaded = loadScenarioText('Loop.yaml', LOOP, { registry: defaultRegistry });
    assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.issues));
    const scenario = (loaded as { scenario: Scenario }).scenario;
    const library: ScenarioLibrary = { dir: '.', scenarios: new Map([[scenario.name, scenario]]), issues: [] };
    return { library, name: scenario.name };
  };
  const matches = 800;
  const body = Array.from({ length: matches }, (_, k) => `id=${k}`).join(' ');
  /** Runs the loop over `text` with `regexBudgetMs`, its warnings caught. */
  const runLoop = async (text: string, regexBudgetMs: number) => {
    const { library, name } = loop();
    const warnings: Array<{ obj: Record<string, unknown>; msg: string | undefined }> = [];
    const ignore = () => {};
    const logger = { debug: ignore, info: ignore, error: ignore, warn: (obj: object, msg?: string) => warnings.push({ obj: obj as Record<string, unknown>, msg }) };
    const r = await runScenario(library, name, {
      params: { 1: text },
      ports: { clock: fixedClock(new Date('2026-12-01T09:00:00Z')), ids: randomIds, asyncStarter: { start: async () => ({ runId: 'x' }) }, regexBudgetMs, logger },
    });
    return { r, warnings };
  };

  it('stops a loop of cheap extractions that are quadratic together', async () => {
    // 800 turns of up to 800 searches: some hundreds of milliseconds of searching in all, against a budget of 20.
    const { r } = await runLoop(body, 20);
    assert.equal(r.status, 'completed', JSON.stringify(r.error));
    assert.match(String(r.returnValues[1]), /^block "take": the regex `id=\(\\d\+\)` \(value for id\) ran out of the run's 20 ms regex budget/);
    assert.ok(Number(r.returnValues[2]) < matches, `stopped at turn ${String(r.returnValues[2])} of ${matches}`);
  });

  it('a run whose budget ran out says so in one warning (the run itself completes), naming the run, the block and the limit', async () => {
    const { r, warnings } = await runLoop(body, 20);
    assert.equal(r.status, 'completed');
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    assert.deepEqual(warnings[0]!.obj, { runId: r.runId, scenario: 'Loop', block: 'take', limitMs: 20 });
    assert.equal(warnings[0]!.msg, r.returnValues[1]);
  });

  it('the warning names the scenario the Parser is in, when a scenario it called ran out', async () => {
    const outer = `variables: { body: string, n: number, i: number, id: string, err: string }
start: begin
blocks:
  begin: { kind: Start, param: body, exits: { next: scan } }
  scan: { kind: AsyncScenario, scenario: Loop, mode: call, params: { 1: '[body]' }, exits: { next: done } }
  done: { kind: ReturnValue, values: { 1: '[err]' } }
`;
    const inner = loop().library.scenarios.get('Loop')!;
    const loaded = loadScenarioText('Outer.yaml', outer, { registry: defaultRegistry });
    assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.issues));
    const o = (loaded as { scenario: Scenario }).scenario;
    const library: ScenarioLibrary = { dir: '.', scenarios: new Map([[o.name, o], [inner.name, inner]]), issues: [] };
    const warnings: Array<Record<string, unknown>> = [];
    const ignore = () => {};
    const r = await runScenario(library, 'Outer', {
      params: { 1: body },
      ports: { clock: fixedClock(new Date('2026-12-01T09:00:00Z')), ids: randomIds, asyncStarter: { start: async () => ({ runId: 'x' }) }, regexBudgetMs: 20, logger: { debug: ignore, info: ignore, error: ignore, warn: (obj: object) => warnings.push(obj as Record<string, unknown>) } },
    });
    assert.equal(r.status, 'completed', JSON.stringify(r.error));
    assert.deepEqual(warnings, [{ runId: r.runId, scenario: 'Loop', block: 'take', limitMs: 20 }]);
  });

  // The run keeps the current scenario as it moves: back in the caller after a call, in the target after a jump.
  const NOOP = `start: done\nblocks:\n  done: { kind: ReturnValue, values: { 3: '"noop"' } }\n`;
  const afterCall = LOOP.replace('begin: { kind: Start, param: body, exits: { next: size } }', "begin: { kind: Start, param: body, exits: { next: first } }\n  first: { kind: AsyncScenario, scenario: Noop, mode: call, exits: { next: size } }");
  const jumping = `variables: { body: string }
start: begin
blocks:
  begin: { kind: Start, param: body, exits: { next: first } }
  first: { kind: AsyncScenario, scenario: Noop, mode: call, exits: { next: away } }
  away: { kind: AsyncScenario, scenario: Loop, mode: jump, params: { 1: '[body]' } }
`;
  for (const [what, text, named] of [
    ['the caller, back from a scenario it called', afterCall, 'Outer'],
    ['the scenario jumped to, after a call', jumping, 'Loop'],
  ] as const) {
    it(`the warning names ${what}`, async () => {
      const scenarios = new Map<string, Scenario>();
      for (const [file, yaml] of [['Outer.yaml', text], ['Noop.yaml', NOOP], ['Loop.yaml', LOOP]] as const) {
        const loaded = loadScenarioText(file, yaml, { registry: defaultRegistry });
        assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.issues));
        const sc = (loaded as { scenario: Scenario }).scenario;
        scenarios.set(sc.name, sc);
      }
      const warnings: Array<Record<string, unknown>> = [];
      const ignore = () => {};
      const r = await runScenario({ dir: '.', scenarios, issues: [] }, 'Outer', {
        params: { 1: body },
        ports: { clock: fixedClock(new Date('2026-12-01T09:00:00Z')), ids: randomIds, asyncStarter: { start: async () => ({ runId: 'x' }) }, regexBudgetMs: 20, logger: { debug: ignore, info: ignore, error: ignore, warn: (obj: object) => warnings.push(obj as Record<string, unknown>) } },
      });
      assert.equal(r.status, 'completed', JSON.stringify(r.error));
      assert.equal(r.returnValues[3], 'noop');
      assert.deepEqual(warnings, [{ runId: r.runId, scenario: named, block: 'take', limitMs: 20 }]);
    });
  }

  it('a run within its budget logs nothing', async () => {
    const { r, warnings } = await runLoop('id=1 id=2', 1000);
    assert.equal(r.returnValues[1], 'done');
    assert.deepEqual(warnings, []);
  });
});
