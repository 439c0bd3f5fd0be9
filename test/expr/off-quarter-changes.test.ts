// Offsets are cached per 15-minute bucket of UTC time, but not every zone changes its offset on a quarter hour:
// America/St_Johns changed at 00:01 local until 2011 (03:31Z in spring), Pacific/Kiritimati at 10:40Z in 1979. The
// minutes after such a change are read and shown with the offset after it, whichever instant of the bucket came first.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDefault, instantOf, wallTimeOf, type WallTime } from '../../engine/expr/date-time.js';
import { createContext, run } from './fixed-context.js';

const wall = (year: number, month: number, day: number, hour: number, minute: number): WallTime => ({ year, month, day, hour, minute, second: 0, ms: 0 });

describe('a zone that changes its offset off the quarter hour', () => {
  it('America/St_Johns, 14.03.2010 (00:01 NST → 01:01 NDT): a wall time just after the change, once the bucket holds one just before it', () => {
    const zone = 'America/St_Johns';
    // 00:00 NST is 03:30Z, in the bucket 03:30–03:45Z that the change at 03:31Z splits.
    assert.equal(instantOf(wall(2010, 3, 14, 0, 0), zone).toISOString(), '2010-03-14T03:30:00.000Z');
    // 01:05 NDT is 03:35Z, after the change: not 04:35Z (02:05 NDT), as when 03:30Z's offset stood for the bucket.
    assert.equal(instantOf(wall(2010, 3, 14, 1, 5), zone).toISOString(), '2010-03-14T03:35:00.000Z');
    const ctx = createContext({}, { timeZone: zone });
    assert.equal(run('Str(ToDate("14.03.2010 00:00"))', ctx), '14.03.2010 00:00:00');
    assert.equal(run('Str(ToDate("14.03.2010 01:05"))', ctx), '14.03.2010 01:05:00');
  });

  it('America/St_Johns: an instant just after the change is shown on the wall clock after it', () => {
    const zone = 'America/St_Johns';
    assert.equal(formatDefault(new Date('2010-03-14T03:30:30Z'), zone), '14.03.2010 00:00:30');
    assert.equal(formatDefault(new Date('2010-03-14T03:31:00Z'), zone), '14.03.2010 01:01:00');
    assert.equal(formatDefault(new Date('2010-03-14T03:44:59Z'), zone), '14.03.2010 01:14:59');
    // and back (clocks go back at 00:01 NDT = 02:31Z in November): 02:30Z is 00:00 NDT, 02:31Z is 23:01 NST
    assert.equal(formatDefault(new Date('2010-11-07T02:30:00Z'), zone), '07.11.2010 00:00:00');
    assert.equal(formatDefault(new Date('2010-11-07T02:31:00Z'), zone), '06.11.2010 23:01:00');
  });

  it('Pacific/Kiritimati, 01.10.1979 (−10:40 → −10:00 at 10:40Z): every minute of the bucket reads back as itself', () => {
    const zone = 'Pacific/Kiritimati';
    for (let m = 0; m < 15; m++) {
      const t = new Date(Date.UTC(1979, 9, 1, 10, 30 + m));
      const w = wallTimeOf(t, zone);
      const offsetMin = m < 10 ? -640 : -600;
      assert.equal(Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute) - t.getTime(), offsetMin * 60_000, `10:${30 + m}Z`);
      assert.equal(instantOf(w, zone).getTime(), t.getTime(), `10:${30 + m}Z read back`);
    }
  });
});
