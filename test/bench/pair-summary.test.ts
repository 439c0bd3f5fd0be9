// The paired comparison's summary line: medians, the median ratio and its range, and the pairs counted by direction.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { envOption, summary } from '../../bench/pair-ack.js';

test('the summary counts the pairs where the after build cost less, the same, and more', () => {
  const line = summary({ before: [0.3, 0.4, 0.5, 0.2], after: [0.27, 0.4, 0.55, 0.19], ratios: [0.9, 1, 1.1, 0.95] });
  assert.equal(
    line,
    'ms of CPU per acknowledgement, median: before 0.35, after 0.335; after/before median 0.975 (from 0.9 to 1.1); after lower in 2, equal in 1, higher in 1 of 4 pairs',
  );
});

test('--before-env and --after-env give each side its variables, and are taken out of the arguments', () => {
  const args = ['/a', '--after-env', 'OKTELL_TRACE=failed', '/b', '--rounds', '2', '--after-env', 'X=a=b', '--before-env', 'Y='];
  assert.deepEqual(envOption(args, 'after-env'), { OKTELL_TRACE: 'failed', X: 'a=b' });
  assert.deepEqual(envOption(args, 'before-env'), { Y: '' });
  assert.deepEqual(args, ['/a', '/b', '--rounds', '2']);
  assert.throws(() => envOption(['--after-env', 'OKTELL_TRACE'], 'after-env'), /--after-env takes NAME=value \(e\.g\. --after-env OKTELL_TRACE=failed\), not "OKTELL_TRACE"/);
  assert.throws(() => envOption(['--before-env'], 'before-env'), /not nothing/);
});
