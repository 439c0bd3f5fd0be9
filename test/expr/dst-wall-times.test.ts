// Wall times at a daylight-saving change read the same way in every zone, east or west of UTC: a time that happens
// twice (clocks go back) is its earlier occurrence, as service tasks' schedules take it; a time that never happens
// (clocks go forward) is read with the offset before the change, so it lands past the change by as much.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { instantOf, wallTimeOf, type WallTime } from '../../engine/expr/date-time.js';
import { cronSchedule } from '../../server/tasks/schedule.js';
import { createContext, run } from './fixed-context.js';

/** `ToDate(text)` evaluated in `timeZone`, as an ISO instant. */
function toDate(text: string, timeZone: string): string {
  const v = run(`ToDate("${text}")`, createContext({}, { timeZone }));
  assert.ok(v instanceof Date, `${text} in ${timeZone} is a date`);
  return v.toISOString();
}

/** The text `Str` writes for `ToDate(text)` in `timeZone`: the wall clock it lands on. */
function wallText(text: string, timeZone: string): string {
  return String(run(`Str(ToDate("${text}"))`, createContext({}, { timeZone })));
}

describe('a wall time that happens twice (clocks go back)', () => {
  const cases = [
    // east of UTC: CEST 02:30 (00:30Z) and then CET 02:30 (01:30Z)
    { zone: 'Europe/Berlin', text: '25.10.2026 02:30', earlier: '2026-10-25T00:30:00.000Z', cron: '30 2 25 10 *' },
    // west of UTC: EDT 01:30 (05:30Z) and then EST 01:30 (06:30Z)
    { zone: 'America/New_York', text: '01.11.2026 01:30', earlier: '2026-11-01T05:30:00.000Z', cron: '30 1 1 11 *' },
    // at UTC: BST 01:30 (00:30Z) and then GMT 01:30 (01:30Z)
    { zone: 'Europe/London', text: '25.10.2026 01:30', earlier: '2026-10-25T00:30:00.000Z', cron: '30 1 25 10 *' },
    // a half-hour change, far east: +11 01:45 (14:45Z the day before) and then +10:30 01:45 (15:15Z)
    { zone: 'Australia/Lord_Howe', text: '05.04.2026 01:45', earlier: '2026-04-04T14:45:00.000Z', cron: '45 1 5 4 *' },
  ];
  for (const c of cases) {
    it(`is its earlier occurrence in ${c.zone}, the due time a service task's schedule gives it`, () => {
      assert.equal(toDate(c.text, c.zone), c.earlier);
      assert.equal(wallText(c.text, c.zone), `${c.text}:00`);
      const due = cronSchedule(c.cron, c.zone).next(Date.parse(c.earlier) - 86_400_000);
      assert.equal(new Date(due!).toISOString(), c.earlier);
    });
  }

  it('AddDays from the day before lands on the earlier occurrence too', () => {
    const ctx = createContext({}, { timeZone: 'Europe/Berlin' });
    const v = run('AddDays(ToDate("24.10.2026 02:30"), 1)', ctx);
    assert.equal((v as Date).toISOString(), '2026-10-25T00:30:00.000Z');
  });
});

describe('a wall time that never happens (clocks go forward)', () => {
  const cases = [
    // 02:00 CET → 03:00 CEST: 02:30 is read with +01:00, which is 03:30 CEST
    { zone: 'Europe/Berlin', text: '29.03.2026 02:30', instant: '2026-03-29T01:30:00.000Z', wall: '29.03.2026 03:30:00' },
    // 02:00 EST → 03:00 EDT: 02:30 is read with -05:00, which is 03:30 EDT (not 01:30 EST, before the change)
    { zone: 'America/New_York', text: '08.03.2026 02:30', instant: '2026-03-08T07:30:00.000Z', wall: '08.03.2026 03:30:00' },
    // 02:00 → 02:30 (a half hour): 02:15 is read with +10:30, which is 02:45
    { zone: 'Australia/Lord_Howe', text: '04.10.2026 02:15', instant: '2026-10-03T15:45:00.000Z', wall: '04.10.2026 02:45:00' },
  ];
  for (const c of cases) {
    it(`lands past the change by as much in ${c.zone}`, () => {
      assert.equal(toDate(c.text, c.zone), c.instant);
      assert.equal(wallText(c.text, c.zone), c.wall);
    });
  }
});

describe('instantOf and wallTimeOf', () => {
  const zones = ['Europe/Berlin', 'America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'Australia/Sydney', 'America/Santiago', 'Europe/Moscow', 'Asia/Kolkata'];
  it('give back any instant, or the earlier instant with the same wall clock', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1990, 0, 1) / 60_000, max: Date.UTC(2040, 0, 1) / 60_000 }), fc.constantFrom(...zones), (minute, zone) => {
        const t = minute * 60_000;
        const wall = wallTimeOf(new Date(t), zone);
        const back = instantOf(wall, zone).getTime();
        assert.deepEqual(wallTimeOf(new Date(back), zone), wall);
        assert.ok(back <= t, `${new Date(t).toISOString()} in ${zone} came back later, ${new Date(back).toISOString()}`);
        // Only the second occurrence of a repeated wall time comes back earlier, by at most the size of a change.
        assert.ok(t - back <= 2 * 3_600_000);
      }),
      { numRuns: 3000 },
    );
  });

  it('the days around the changes of 2026, minute by minute, in a zone east and one west of UTC', () => {
    for (const [zone, days] of [['Europe/Berlin', ['2026-03-29', '2026-10-25']], ['America/New_York', ['2026-03-08', '2026-11-01']]] as const) {
      for (const day of days) {
        const [y, m, d] = day.split('-').map(Number) as [number, number, number];
        for (let minute = 0; minute < 24 * 60; minute++) {
          const w: WallTime = { year: y, month: m, day: d, hour: Math.floor(minute / 60), minute: minute % 60, second: 0, ms: 0 };
          const t = instantOf(w, zone).getTime();
          const back = wallTimeOf(new Date(t), zone);
          if (back.hour === w.hour && back.minute === w.minute) {
            // A real wall time: no earlier instant shows it (at most an hour earlier is where a repeat would be).
            const earlier = wallTimeOf(new Date(t - 3_600_000), zone);
            assert.ok(!(earlier.hour === w.hour && earlier.minute === w.minute), `${day} ${w.hour}:${w.minute} in ${zone} is not the earlier occurrence`);
          } else {
            // A skipped one: an hour later on the wall clock, in the hour after the change.
            assert.deepEqual([back.hour, back.minute], [w.hour + 1, w.minute], `${day} ${w.hour}:${w.minute} in ${zone}`);
          }
        }
      }
    }
  });
});
