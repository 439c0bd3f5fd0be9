// OKTELL_CLOCK_CHECK_MS: how often serve on PostgreSQL measures its clock against the database's after its start.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadServerConfig } from '../../server/config.js';
import { tempDir } from '../helpers.js';

function clockCheckMs(env: Record<string, string>): number {
  const tmp = tempDir();
  try {
    return loadServerConfig({}, env, tmp.dir).clockCheckMs;
  } finally {
    tmp.cleanup();
  }
}

describe('OKTELL_CLOCK_CHECK_MS', () => {
  for (const [value, expected] of [[undefined, 300_000], ['', 300_000], ['0', 0], ['1000', 1000], ['60000', 60_000]] as const) {
    it(`${JSON.stringify(value)} → ${expected}`, () => {
      assert.equal(clockCheckMs(value === undefined ? {} : { OKTELL_CLOCK_CHECK_MS: value }), expected);
    });
  }
  for (const [value, message] of [
    ['500', /OKTELL_CLOCK_CHECK_MS="500" must be 0 \(measure the clock at the start only\) or at least 1000 milliseconds/],
    ['-1', /OKTELL_CLOCK_CHECK_MS="-1" must be a whole number, at least 0/],
    ['5m', /OKTELL_CLOCK_CHECK_MS="5m" must be a whole number/],
  ] as const) {
    it(`${value} is refused with what it must be`, () => {
      assert.throws(() => clockCheckMs({ OKTELL_CLOCK_CHECK_MS: value }), message);
    });
  }
});
