// The time budget of one regex extraction (components/re2-pattern.ts, allMatches): checked only between searches, and
// only when a search with text left to read is to come. A budget of -1 is one already spent, so these checks do not
// depend on the machine's speed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allMatches, compilePattern } from '../../components/re2-pattern.js';

function re(pattern: string) {
  const c = compilePattern(pattern, '');
  assert.ok(c.ok);
  return c.re;
}

describe('allMatches and its time budget', () => {
  it('gives every match within the budget', () => {
    assert.deepEqual(allMatches(re('(\\d+)'), 'a1 b22 c333', 1), { done: true, values: ['1', '22', '333'] });
  });

  it('stops between searches once the budget is spent, saying how many it found', () => {
    const r = allMatches(re('(\\d+)'), 'a1 b22 c333', 1, Infinity, -1);
    assert.equal(r.done, false);
    assert.equal(!r.done && r.found, 1);
  });

  it('never fails what needs no further search: no match, the limit reached, a match that ends the text', () => {
    assert.deepEqual(allMatches(re('(x)'), 'a1 b22', 1, Infinity, -1), { done: true, values: [] });
    assert.deepEqual(allMatches(re('(\\d+)'), 'a1 b22 c333', 1, 1, -1), { done: true, values: ['1'] });
    // The empty match at the end of the text (the S5 pattern over a body that almost matches).
    assert.deepEqual(allMatches(re('(\\w+\\s?)*$'), 'aaa!', 0, Infinity, -1), { done: true, values: [''] });
  });
});
