// Oktell's return values are service variables («(сл) Возвращаемое значение N»), assigned like variables: the
// article's HTTP404 sets «(сл) Возвращаемое значение 2» to 200. A Variable block takes these names as a ReturnValue
// block would; declaring one as an ordinary variable (which would make the scenario return nothing) is refused.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultRegistry } from '../../components/registry.js';
import { createInProcessStarter, fixedClock, loadScenarioText, randomIds, returnValueSlot, runScenario, type ScenarioLibrary } from '../../engine/index.js';

const ARTICLE_HOOK = `variables: { address: string, body: string }
start: begin
blocks:
  begin:
    kind: InputParameter
    params: { address: 1, body: 4 }
    exits: { next: check }
  check:
    kind: Condition
    expression: Contains([address], "/Bpium/NewTask")
    exits: { true: ack }
  ack:
    kind: Variable
    set:
      (сл) Возвращаемое значение 2: 200
      Return value 1: '"got " + Length([body]) + " characters"'
      возвращаемое значение 3: '"text/plain; charset=utf-8"'
`;

function load(text: string) {
  return loadScenarioText('HTTP404.yaml', text, { registry: defaultRegistry });
}

describe("Oktell's return-value service variables", () => {
  it('recognises the spellings an integrator copies from Oktell, and nothing else', () => {
    for (const [name, slot] of [
      ['(сл) Возвращаемое значение 2', 2],
      ['(Сл.) возвращаемое значение 12', 12],
      ['Возвращаемое значение 1', 1],
      ['Return value 3', 3],
      ['return value 99', 99],
    ] as const) {
      assert.equal(returnValueSlot(name), slot, name);
    }
    for (const name of ['Возвращаемое значение', 'Return value 0', 'Return value 100', 'return_value 2', 'myReturn value 2']) assert.equal(returnValueSlot(name), undefined, name);
  });

  it('a Variable block assigning «(сл) Возвращаемое значение 2» sets return value 2, as the article\'s HTTP404 does', async () => {
    const r = load(ARTICLE_HOOK);
    assert.ok(r.ok, JSON.stringify(!r.ok && r.issues));
    const library: ScenarioLibrary = { dir: '.', scenarios: new Map([[r.scenario.name, r.scenario]]), issues: [] };
    const ports = { clock: fixedClock(new Date('2026-12-02T00:00:00Z')), ids: randomIds, asyncStarter: createInProcessStarter(randomIds, () => Promise.reject(new Error('none'))) };
    const run = await runScenario(library, 'HTTP404', { params: { 1: '/Bpium/NewTask', 4: '{"a":1}' }, ports });
    assert.equal(run.status, 'completed');
    assert.deepEqual(run.returnValues, { '1': 'got 7 characters', '2': 200, '3': 'text/plain; charset=utf-8' });
    assert.deepEqual(run.variables, { address: '/Bpium/NewTask', body: '{"a":1}' });
    const other = await runScenario(library, 'HTTP404', { params: { 1: '/elsewhere' }, ports });
    assert.deepEqual(other.returnValues, {}, 'the other branch sets nothing: the hook answers 404');
  });

  it('declaring one as a variable is refused at its line, with the way to assign it', () => {
    const r = load(ARTICLE_HOOK.replace('variables: { address: string, body: string }', 'variables:\n  address: string\n  body: string\n  (сл) Возвращаемое значение 2: number'));
    assert.equal(r.ok, false);
    const issue = !r.ok ? r.issues.find((i) => i.code === 'E_INVALID_VARIABLE') : undefined;
    assert.ok(issue, 'the declaration is refused');
    assert.deepEqual([issue.line, issue.col], [4, 3]);
    assert.match(issue.message, /"\(сл\) Возвращаемое значение 2" is Oktell's service variable for return value 2, not a variable to declare/);
    assert.match(issue.hint!, /ReturnValue block: values: \{ 2: … \}/);
  });

  it('reading one is refused with the reason (service variables are write-only); other blocks assigning one are told where it can be set', () => {
    const read = load(ARTICLE_HOOK.replace('Contains([address], "/Bpium/NewTask")', `'[Return value 2] = 200'`));
    assert.equal(read.ok, false);
    const unknown = !read.ok ? read.issues.find((i) => i.code === 'E_UNKNOWN_VARIABLE') : undefined;
    assert.match(unknown?.hint ?? '', /return value 2 can be set but not read/);
    const parsed = load(ARTICLE_HOOK.replace('params: { address: 1, body: 4 }', 'params: { address: 1, "Return value 2": 4 }'));
    assert.equal(parsed.ok, false);
    const target = !parsed.ok ? parsed.issues.find((i) => i.code === 'E_UNKNOWN_VARIABLE') : undefined;
    assert.match(target?.hint ?? '', /return value 2 is set by a Variable block's set: or a ReturnValue block/);
  });
});
