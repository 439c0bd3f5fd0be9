// Scenarios that start each other asynchronously in a ring are a warning of validate (and of serve's start): on the
// server each start is a job, and nothing bounds a chain of jobs, so an unguarded ring sends its letters for ever
// (trial 48: C045_CrmLookup → C045_Notify → C045_CrmLookup; a dry run of it printed 25 MB before R_ASYNC_LIMIT).
// Calls and jumps stay within one run and are not counted; the files stay valid (exit 0).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateFolder } from './cli.helper.js';

const starting = (target: string, mode = 'async') => `blocks:\n  go: { kind: AsyncScenario, scenario: ${target}, mode: ${mode}, exits: { next: r } }\n  r: { kind: ReturnValue, values: { 1: '"x"' } }\n`;

describe('validate: scenarios starting each other asynchronously', () => {
  it('warns once per ring, at its first start, and not for calls or a plain chain', () => {
    const r = validateFolder({
      'Lookup.yaml': starting('Notify'),
      'Notify.yaml': starting('Lookup'),
      'Poll.yaml': starting('Poll'),
      'Head.yaml': starting('Tail'),
      'Tail.yaml': `blocks:\n  r: { kind: ReturnValue, values: { 1: '"end"' } }\n`,
      'CallA.yaml': starting('CallB', 'call'),
      'CallB.yaml': `blocks:\n  c: { kind: Condition, expression: 1 = 2, exits: { true: go, false: r } }\n  go: { kind: AsyncScenario, scenario: CallA, mode: call, exits: { next: r } }\n  r: { kind: ReturnValue, values: { 1: '"x"' } }\n`,
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const { warnings } = r;
    assert.deepEqual(warnings, [
      'warning: Lookup.yaml:2:40: scenarios Lookup, Notify start each other asynchronously (Lookup (block go) starts Notify, Notify (block go) starts Lookup) on every way through them that does not fail: on the server each start is a job of its own and nothing bounds a chain of jobs, so it runs without end, sending its letters and requests again at each turn (a command-line or test run stops after 1000 starts, R_ASYNC_LIMIT); let a Condition end it (a count of retries, a poll until done), or break the ring',
      'warning: Poll.yaml:2:40: scenario Poll starts itself asynchronously (Poll (block go) starts Poll) on every way through them that does not fail: on the server each start is a job of its own and nothing bounds a chain of jobs, so it runs without end, sending its letters and requests again at each turn (a command-line or test run stops after 1000 starts, R_ASYNC_LIMIT); let a Condition end it (a count of retries, a poll until done), or break the ring',
    ]);
  });

  it('does not warn of a ring a Condition can leave (a retry counted, a poll until done), but one that starts again on both branches', () => {
    const r = validateFolder({
      // Retries itself at most three times: the Condition's false branch ends the run without a start.
      'Retry.yaml': `variables:\n  attempt: { type: number, initial: 0 }\nstart: check\nblocks:\n  check: { kind: Condition, expression: '[attempt] < 3', exits: { true: again, false: done } }\n  again: { kind: AsyncScenario, scenario: Retry, params: { 1: '[attempt] + 1' }, exits: { next: done } }\n  done: { kind: ReturnValue, values: { 1: '"x"' } }\n`,
      // Polls through Check, which starts Poll again only while not done.
      'Poll.yaml': starting('Check'),
      'Check.yaml': `variables:\n  status: string\nstart: c\nblocks:\n  c: { kind: Condition, expression: '[status] = "done"', exits: { true: stop, false: go } }\n  go: { kind: AsyncScenario, scenario: Poll, exits: { next: stop } }\n  stop: { kind: Stop }\n`,
      // Both branches start itself again: nothing leaves the ring.
      'Both.yaml': `variables:\n  x: number\nstart: c\nblocks:\n  c: { kind: Condition, expression: '[x] > 1', exits: { true: a, false: b } }\n  a: { kind: AsyncScenario, scenario: Both, exits: { next: r } }\n  b: { kind: AsyncScenario, scenario: Both, exits: { next: r } }\n  r: { kind: ReturnValue, values: { 1: '"x"' } }\n`,
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const { warnings } = r;
    assert.equal(warnings.length, 1, r.stdout);
    assert.match(warnings[0]!, /^warning: Both\.yaml:\d+:\d+: scenario Both starts itself asynchronously \(Both \(block a\) starts Both, Both \(block b\) starts Both\) on every way/);
  });
});
