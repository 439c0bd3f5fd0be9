// effectsInOrder (server/console/effect-order.ts), on records made by hand: each step takes its own block's next
// record, blocks interleaved, a letter step that failed before its letter was made takes none, and whatever no step
// takes follows at the end by kind. `show` and `run` print in this order (show-run, run-effect-order test them end to end).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { effectsInOrder } from '../../server/console/effect-order.js';

const letter = (block: string, subject: string, error?: string) => ({ block, to: ['a@example.com'], subject, text: '', ...(error ? { error } : {}) });
const call = (block: string, recordId: string) => ({ block, method: 'getRecord', catalogId: 1, recordId, status: 'ok' });
const step = (block: string, kind: string, effect: object = { ok: true }) => ({ block, kind, effect });

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
});
