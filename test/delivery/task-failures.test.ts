// The summary of a service task's runs that fail the same way at every due time (server/delivery/task-failures.ts):
// counted between lines, one line per interval, and one when a run ends otherwise.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { taskFailureLog } from '../../server/delivery/task-failures.js';
import { capturingLogger } from '../server/server-helpers.js';

describe('the repeated failures of a service task', () => {
  it('says the first failure, then one line per interval with the repeats since the last, and the end of the streak', () => {
    const { lines, logger } = capturingLogger();
    let now = 0;
    const log = taskFailureLog(logger, 60_000, () => now);
    const bad = { code: 'R_EXPRESSION', message: 'Num: cannot convert text "ten" to a number' };
    assert.equal(log.failing('poll'), false);
    assert.equal(log.ended('poll', bad), true, 'the first failure is written as usual');
    assert.equal(log.failing('poll'), true);
    const written: boolean[] = [];
    for (let i = 0; i < 30; i++) {
      now += 5_000;
      written.push(log.ended('poll', bad));
    }
    assert.ok(written.every((w) => !w), 'the repeats are only counted');
    // 30 repeats, 5 s apart: a line at 60 s and at 120 s.
    assert.deepEqual(lines.map((l) => [l.level, l.obj.failures, l.msg]), [
      ['error', 13, 'service task poll: 13 runs in a row failed the same way (R_EXPRESSION: Num: cannot convert text "ten" to a number); 12 more since the last line, each a failed job (oktell-emu runs --status failed); the lines of the repeats are at debug level'],
      ['error', 25, 'service task poll: 25 runs in a row failed the same way (R_EXPRESSION: Num: cannot convert text "ten" to a number); 12 more since the last line, each a failed job (oktell-emu runs --status failed); the lines of the repeats are at debug level'],
    ]);
    // Another task is apart; another failure of this one is written, and ends the streak with its count.
    assert.equal(log.ended('report', bad), true);
    assert.equal(log.ended('poll', { code: 'R_DB', message: 'no such table' }), true);
    assert.equal(lines.at(-1)!.msg, 'service task poll: 31 runs in a row failed the same way (R_EXPRESSION: Num: cannot convert text "ten" to a number); this run failed otherwise (R_DB)');
    assert.equal(log.ended('poll', undefined), true, 'a completed run is written');
    assert.equal(lines.length, 3, 'a streak of one failure needs no summary');
    assert.equal(log.failing('poll'), false);
  });

  it('says at a stop the repeats counted since the last line, once', () => {
    const { lines, logger } = capturingLogger();
    let now = 0;
    const log = taskFailureLog(logger, 600_000, () => now);
    const bad = { code: 'R_DB', message: 'no such table: orders' };
    log.ended('poll', bad);
    for (let i = 0; i < 4; i++) {
      now += 5_000;
      log.ended('poll', bad);
    }
    log.ended('other', bad);
    assert.equal(lines.length, 0, 'the first failures were written by the job lines; the repeats only counted');
    log.flush();
    assert.deepEqual(lines.map((l) => [l.level, l.obj.task, l.obj.failures, l.msg]), [
      ['error', 'poll', 5, 'service task poll: 5 runs in a row failed the same way (R_DB: no such table: orders); 4 more since the last line, each a failed job (oktell-emu runs --status failed); said at the stop'],
    ]);
    log.flush();
    assert.equal(lines.length, 1, 'nothing new to say');
  });
});
