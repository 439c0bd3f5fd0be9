// effectsInOrder (server/console/effect-order.ts), on records made by hand: each step takes its own block's next
// record, blocks interleaved, a letter step that failed before its letter was made takes none, a step that made two
// records (a Bpium call that worked, then its field lookup that failed) takes both, also when a called scenario has a
// block of the same id, and whatever no step takes follows at the end by kind. `show` and `run` print in this order (show-run, run-effect-order test them end to end).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { effectsInOrder } from '../../server/console/effect-order.js';

const letter = (block: string, subject: string, error?: string) => ({ block, to: ['a@example.com'], subject, text: '', ...(error ? { error } : {}) });
const call = (block: string, recordId: string) => ({ block, method: 'getRecord', catalogId: 1, recordId, status: 'ok' });
const step = (block: string, kind: string, effect: object = { ok: true }) => ({ block, kind, effect });
/** A Bpium call that failed, as the block records it and its step's effect tells it. */
const failedCall = (block: string, recordId: string, error: string) => ({ block, method: 'getRecord', catalogId: 1, recordId, status: 'error', error });
const failedStep = (block: string, error: string, scenario?: string) => ({ ...(scenario ? { scenario } : {}), block, kind: 'Bpium', effect: { failure: 'permanent', error } });
const named = (e: { kind: string; record: object }) => `${e.kind}:${'subject' in e.record ? e.record.subject : (e.record as { recordId: string; status: string }).recordId + (e.record as { status: string }).status.replace(/^ok$/, '')}`;
const UNKNOWN = 'catalog 1 has no field named "Имя" (its structure lists no fields; a fixture file names them under fields: of the catalog)';

describe('effects in the order the steps made them', () => {
  it('pairs each step with its own block’s next record, across interleaved blocks, and leaves a failed-before-letter step empty', () => {
    const run = {
      mails: [letter('tell', 'first'), letter('warn', 'w1'), letter('tell', 'third'), letter('warn', 'w2')],
      bpiumCalls: [call('read', '1'), call('read', '2'), call('read', '3')],
    };
    const trace = [
      step('read', 'Bpium'),
      step('tell', 'SendMail'),
      step('warn', 'SendMail'),
      step('read', 'Bpium'),
      // Failed before its letter was made: no letter carries this error, so it takes none.
      step('tell', 'SendMail', { failure: 'permanent', error: 'no recipient' }),
      step('read', 'Bpium'),
      step('tell', 'SendMail'),
      step('warn', 'SendMail'),
    ];
    const order = effectsInOrder(run, trace).map((e) => `${e.kind}:${'subject' in e.record ? e.record.subject : (e.record as { recordId: string }).recordId}`);
    assert.deepEqual(order, ['bpium:1', 'mail:first', 'mail:w1', 'bpium:2', 'bpium:3', 'mail:third', 'mail:w2']);
  });

  it('puts the records no step took at the end, by kind, and drops none', () => {
    const run = { mails: [letter('tell', 'a'), letter('tell', 'b')], bpiumCalls: [call('read', '1'), call('gone', '9')] };
    const order = effectsInOrder(run, [step('tell', 'SendMail'), step('read', 'Bpium')]).map((e) => `${e.kind}:${'subject' in e.record ? e.record.subject : (e.record as { recordId: string }).recordId}`);
    assert.deepEqual(order, ['mail:a', 'bpium:1', 'mail:b', 'bpium:9']);
  });

  it('a step that recorded a call that worked and then one that failed (its field names) lists both at that step', () => {
    const run = {
      mails: [letter('tell', 'after the read')],
      bpiumCalls: [call('read', '1'), failedCall('read', '1', UNKNOWN), call('read', '2')],
    };
    const trace = [failedStep('read', UNKNOWN), step('tell', 'SendMail'), step('read', 'Bpium')];
    assert.deepEqual(effectsInOrder(run, trace).map(named), ['bpium:1', 'bpium:1error', 'mail:after the read', 'bpium:2']);
  });

  it('a called scenario’s block of the same id takes its own call, not the caller’s failed one', () => {
    // Main's `read` worked and then failed on a field name, took its error exit and called Sub, whose `read` worked
    // and led to a letter. The records say only `read`: the steps say which scenario.
    const run = {
      mails: [letter('tell', 'from Sub')],
      bpiumCalls: [call('read', '1'), failedCall('read', '1', UNKNOWN), call('read', '2')],
    };
    const trace = [
      failedStep('read', UNKNOWN, 'Main'),
      { scenario: 'Main', block: 'toSub', kind: 'AsyncScenario' },
      { scenario: 'Sub', ...step('read', 'Bpium') },
      { scenario: 'Sub', ...step('tell', 'SendMail') },
    ];
    assert.deepEqual(effectsInOrder(run, trace).map(named), ['bpium:1', 'bpium:1error', 'bpium:2', 'mail:from Sub']);
  });

  it('a failed step whose record is the first of its block takes that one alone', () => {
    const run = { bpiumCalls: [failedCall('read', '1', 'HTTP 500'), failedCall('read', '2', 'HTTP 500')], mails: [letter('tell', 'between')] };
    const trace = [failedStep('read', 'HTTP 500'), step('tell', 'SendMail'), failedStep('read', 'HTTP 500')];
    assert.deepEqual(effectsInOrder(run, trace).map(named), ['bpium:1error', 'mail:between', 'bpium:2error']);
  });
});
