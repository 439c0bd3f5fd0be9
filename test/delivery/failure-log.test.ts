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
});
