// A case's `variables:` that its own scenario declares are that scenario's: a scenario it starts gets such a name only
// as a live start passes it (copied when the types match and copyVariables is not false), never the case's value
// converted to its own type or past copyVariables: false — else the test would pass on what production never does.
// Names the case's scenario does not declare still preset the scenarios it starts (test-started-presets).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testCases } from './cli.helper.js';

const SCENARIOS: Record<string, string> = {
  'Main.yaml': `description: starts Child (types differ) and Quiet (no copy)
variables: { id: number, note: string }
blocks:
  begin: { kind: Start, exits: { next: child } }
  child: { kind: AsyncScenario, scenario: Child, exits: { next: quiet } }
  quiet: { kind: AsyncScenario, scenario: Quiet, copyVariables: false, exits: { next: done } }
  done: { kind: Stop }
`,
  'Child.yaml': `description: returns its id, a string
variables: { id: { type: string, initial: "none" } }
blocks:
  begin: { kind: Start, exits: { next: r } }
  r: { kind: ReturnValue, values: { 1: '[id]' }, exits: { next: done } }
  done: { kind: Stop }
`,
  'Quiet.yaml': `description: returns its note, which Main does not pass
variables: { note: { type: string, initial: "own" } }
blocks:
  begin: { kind: Start, exits: { next: r } }
  r: { kind: ReturnValue, values: { 1: '[note]' }, exits: { next: done } }
  done: { kind: Stop }
`,
};

const runCases = (cases: string) => testCases(SCENARIOS, cases);

describe('oktell-emu test: a name the case\'s own scenario declares reaches a started one only as a live start passes it', () => {
  it('another type and copyVariables: false keep the started scenarios\' initial values, as live', () => {
    const r = runCases(`  - name: own names
    scenario: Main
    variables: { id: 42, note: hello }
    expect:
      variables: { id: 42, note: hello }
      asyncStarted:
        - scenario: Child
          result: { returnValues: { 1: none } }
        - scenario: Quiet
          result: { returnValues: { 1: own } }
`);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /1 passed, 0 failed/);
  });
});
