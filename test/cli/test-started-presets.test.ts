// A case's `variables:` preset every scenario of the run that declares them: the case's own, one it calls (a variable
// the run does not have yet) and one it starts. A case of the hook scenario can so set the service address of the
// scenario the hook starts. Through the real command, on a folder of three scenarios.
import assert from 'node:assert/strict';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoPath, tempDir } from '../helpers.js';
import { runCli, testCases } from './cli.helper.js';

const SCENARIOS: Record<string, string> = {
  'Parent.yaml': `description: starts Child and calls Callee
variables: { note: string }
blocks:
  begin: { kind: Start, param: note, exits: { next: start } }
  start: { kind: AsyncScenario, scenario: Child, params: { 1: '[note]' }, exits: { next: call } }
  call: { kind: AsyncScenario, mode: call, scenario: Callee, exits: { next: done } }
  done: { kind: Stop }
`,
  'Child.yaml': `description: returns its gateway address
variables: { url: { type: string, initial: "" }, p: string }
blocks:
  begin: { kind: Start, param: p, exits: { next: r } }
  r: { kind: ReturnValue, values: { 1: '[url]' }, exits: { next: done } }
  done: { kind: Stop }
`,
  'Callee.yaml': `description: doubles its limit
variables: { limit: { type: number, initial: 1 }, twice: number }
blocks:
  begin: { kind: Start, exits: { next: v } }
  v: { kind: Variable, set: { twice: '[limit] * 2' }, exits: { next: done } }
  done: { kind: Stop }
`,
};

const runCases = (cases: string) => testCases(SCENARIOS, cases);

describe('oktell-emu test: a case presets the variables of the scenarios its run starts and calls', () => {
  it('the started scenario gets the address, the called one the limit', () => {
    const r = runCases(`  - name: presets
    scenario: Parent
    params: { 1: hi }
    variables: { url: "https://gw.example/api", limit: 5 }
    expect:
      variables: { limit: 5, twice: 10 }
      asyncStarted:
        - scenario: Child
          result: { returnValues: { 1: "https://gw.example/api" } }
`);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /✓ scenarios\/tests\/cases\.test\.yaml › presets/);
    assert.match(r.stdout, /1 passed, 0 failed/);
  });

  it('without a preset each keeps its initial value, so the expectation above would fail', () => {
    const r = runCases(`  - name: no presets
    scenario: Parent
    params: { 1: hi }
    expect:
      variables: { limit: 1, twice: 2 }
      asyncStarted:
        - scenario: Child
          result: { returnValues: { 1: "" } }
`);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /1 passed, 0 failed/);
  });

  it('a misspelt name that no scenario of the run declares is still a problem, with a suggestion', () => {
    const r = runCases(`  - name: typo
    scenario: Parent
    params: { 1: hi }
    variables: { nte: x }
    expect: {}
`);
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /E_INVALID_PROPERTY scenario "Parent" has no variable "nte"/);
    assert.match(r.stdout + r.stderr, /did you mean "note"\?/);
  });

  it("the shipped HTTP404's case sets the gateway of the BpiumTaskChat it starts (the example of docs/testing-scenarios.md)", () => {
    const tmp = tempDir();
    try {
      cpSync(repoPath('scenarios'), join(tmp.dir, 'scenarios'), { recursive: true });
      writeFileSync(join(tmp.dir, 'scenarios', 'tests', 'gateway.test.yaml'), `cases:
  - name: the webhook's case sets the gateway
    scenario: HTTP404
    params: { 1: /Bpium/TaskChat, 4: "@webhooks/one-responsible.json" }
    variables: { chatUrl: "https://chat.example.ru/api/messages", chatToken: t0ken }
    http:
      - match: POST https://chat.example.ru/api/messages
        status: 201
        json: { id: m-1 }
    expect:
      returnValues: { 2: 200 }
      asyncStarted:
        - scenario: BpiumTaskChat
          result:
            returnValues: { 1: posted to chat }
            httpCalls: [ { method: POST, url: "https://chat.example.ru/api/messages", status: 201 } ]
`);
      const r = runCli(['test', 'scenarios/tests/gateway.test.yaml'], { cwd: tmp.dir, unset: ['OKTELL_SCENARIOS', 'OKTELL_CHAT_TOKEN'] });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /1 passed, 0 failed/);
    } finally {
      tmp.cleanup();
    }
  });
});
