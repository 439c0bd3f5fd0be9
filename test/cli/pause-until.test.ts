// `oktell-emu pause --until`: the time or duration is read as the help says, and a text it cannot hold is a usage
// error naming the option (not a crash of the line that prints the pause).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseUntil } from '../../cli/commands/pause.js';
import { UsageError } from '../../cli/config.js';

const NOW = Date.UTC(2026, 11, 8, 3, 0);

describe('pause --until', () => {
  it('a duration counts from now, and a time with an offset is that instant', () => {
    assert.equal(parseUntil('30m', NOW), NOW + 30 * 60_000);
    assert.equal(parseUntil('2d', NOW), NOW + 2 * 86_400_000);
    assert.equal(parseUntil('2026-12-09T10:00+03:00', NOW), Date.UTC(2026, 11, 9, 7, 0));
    assert.equal(parseUntil('2026-12-09T10:00Z', NOW), Date.UTC(2026, 11, 9, 10, 0));
  });

  it('a duration too long for a date, a text that is no time, and a time passed are usage errors naming --until', () => {
    for (const v of ['99999999999d', 'tomorrow', '2026-12-01T10:00Z']) {
      assert.throws(() => parseUntil(v, NOW), (e: unknown) => e instanceof UsageError && e.message.startsWith(`--until ${v}: `), v);
    }
  });
});
