// A failure repeated on every poll is logged once in full, then once per interval without the stack, then its end.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { repeatingFailureLog } from '../../server/delivery/failure-log.js';
import { capturingLogger } from '../server/server-helpers.js';

describe('repeatingFailureLog', () => {
  it('logs the first failure with its error, repeats at most once per interval without it, and says when it works again', () => {
    const { lines, logger } = capturingLogger();
    let now = 1_000;
    const log = repeatingFailureLog(logger, { failing: 'cannot claim jobs; will try again', recovered: 'jobs can be claimed again' }, 60_000, () => now);
    const err = new Error('database unavailable (SQLITE_FULL): database or disk is full');
    for (let i = 0; i <= 240; i++) {
      log.failed(err);
      now += 500; // two polls a second, for two minutes
    }
    assert.equal(lines.length, 3, lines.map((l) => l.msg).join('\n'));
    assert.equal(lines[0]!.obj.err, err);
    for (const l of lines.slice(1)) {
      assert.equal(l.level, 'warn');
      assert.equal(l.obj.err, undefined, 'no stack after the first line');
      assert.equal(l.obj.reason, err.message);
      assert.match(l.msg!, /^cannot claim jobs; will try again \(still failing: 120 more time\(s\) since the last line\)$/);
    }
    log.succeeded();
    log.succeeded();
    assert.equal(lines.length, 4);
    assert.deepEqual([lines[3]!.level, lines[3]!.msg, lines[3]!.obj.failures], ['info', 'jobs can be claimed again after 241 failure(s)', 241]);
    log.failed(err);
    assert.equal(lines.length, 5, 'a new run of failures starts with a full line again');
    assert.equal(lines[4]!.obj.err, err);
  });

  it('a store\'s refusal says its kind and message on every line of the spell, and a spell with nothing left to try ends quietly', () => {
    const { lines, logger } = capturingLogger();
    let now = 1_000;
    const log = repeatingFailureLog(logger, { failing: 'heartbeat failed', recovered: 'heartbeat renewed again' }, 60_000, () => now);
    const refusal = Object.assign(new Error('database unavailable (55P03): canceling statement due to lock timeout'), { name: 'StoreUnavailableError', reason: 'busy' });
    for (let i = 0; i < 4; i++) {
      log.failed(refusal);
      now += 40_000;
    }
    const said = lines.map((l) => [l.obj.reason, l.obj.error, l.obj.err]);
    assert.deepEqual(said, [
      ['busy', refusal.message, undefined],
      ['busy', refusal.message, undefined],
    ]);
    // The jobs whose leases failed to renew all ended: the spell ends with a line of its own, not a later outage's summary.
    log.ended('heartbeat: no lease left to renew');
    log.ended('heartbeat: no lease left to renew');
    assert.deepEqual([lines.length, lines[2]!.level, lines[2]!.msg], [3, 'info', 'heartbeat: no lease left to renew after 4 failure(s)']);
    now += 3 * 86_400_000;
    log.failed(refusal);
    assert.deepEqual([lines.length, lines[3]!.msg, lines[3]!.obj.sinceMs], [4, 'heartbeat failed', undefined], 'days later, a new spell opens with a first line');
  });
});
