// The "did you mean" tables of exit words and other tools' function names are looked up by what the file says: a name
// that is also a property every object has (constructor, __proto__) must be reported as unknown like any other, not
// crash the loader (validate and the server's load stopped on a TypeError) or come out as an internal error.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioText } from '../../engine/index.js';

const scenario = (exit: string, expression: string) => `variables: { v: string }
start: s
blocks:
  s:
    kind: Start
    exits: { ${exit}: a }
  a:
    kind: Variable
    set: { v: '${expression}' }
    exits: { next: done }
  done: { kind: Stop }
`;

const load = (text: string) => loadScenarioText('/tmp/Words.yaml', text, { registry: defaultRegistry });

describe('exit and function names that are properties of every object', () => {
  for (const exit of ['constructor', '__proto__', 'Constructor']) {
    it(`an exit named ${exit} is an unknown exit`, () => {
      const r = load(scenario(exit, '"x"'));
      assert.equal(r.ok, false);
      assert.deepEqual(r.issues.map((i) => [i.code, i.message])[0], ['E_UNKNOWN_EXIT', `Start has no exit "${exit}"`]);
    });
  }
  for (const name of ['constructor', '__proto__']) {
    it(`a function named ${name} is an unknown function, not an internal error`, () => {
      const r = load(scenario('next', `${name}(1)`));
      assert.equal(r.ok, false);
      assert.equal(r.issues.length, 1, JSON.stringify(r.issues));
      assert.equal(r.issues[0]!.code, 'E_INVALID_EXPRESSION');
      assert.doesNotMatch(`${r.issues[0]!.message} ${r.issues[0]!.hint ?? ''}`, /internal error|please report/);
      assert.match(r.issues[0]!.message, new RegExp(`unknown function.*${name}`, 'i'));
    });
  }
  it('a variable typed constructor is told the types, not "did you mean v: function Object() …"', () => {
    const r = load('variables: { v: constructor }\nstart: done\nblocks:\n  done: { kind: Stop }\n');
    assert.equal(r.ok, false);
    assert.equal(r.issues[0]!.code, 'E_INVALID_VARIABLE');
    assert.doesNotMatch(r.issues[0]!.hint ?? '', /function|native code/);
  });
});
