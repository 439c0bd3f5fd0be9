// The paired comparison's summary line: medians, the median ratio and its range, and the pairs counted by direction.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { summary } from '../../bench/pair-ack.js';

test('the summary counts the pairs where the after build cost less, the same, and more', () => {
  const line = summary({ before: [0.3, 0.4, 0.5, 0.2], after: [0.27, 0.4, 0.55, 0.19], ratios: [0.9, 1, 1.1, 0.95] });
  assert.equal(
    line,
    'ms of CPU per acknowledgement, median: before 0.35, after 0.335; after/before median 0.975 (from 0.9 to 1.1); after lower in 2, equal in 1, higher in 1 of 4 pairs',
  );
});
