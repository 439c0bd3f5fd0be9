// Schedules and task definitions: cron and intervals in a zone, across daylight-saving changes; config errors with
// file:line:col and the next due times of the good tasks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseServiceTasks, ServiceTaskError } from '../../server/tasks/definitions.js';
import { cronSchedule, intervalSchedule, isoInZone, nextDueTimes } from '../../server/tasks/schedule.js';

const NY = 'America/New_York';
const due = (expr: string, from: string, n: number, zone = NY) => nextDueTimes(cronSchedule(expr, zone), Date.parse(from), n).map((t) => isoInZone(t, zone));

describe('cron schedules', () => {
  it('a fixed hour with stepped minutes follows real time: none on the spring change day, each time twice in autumn (service-tasks.md)', () => {
    const berlin = 'Europe/Berlin';
    // 2026-03-29 02:00 CET → 03:00 CEST: no 02:xx that day, and no run for it.
    assert.deepEqual(due('*/30 2 * * *', '2026-03-28T12:00:00Z', 3, berlin), ['2026-03-30T02:00:00+02:00', '2026-03-30T02:30:00+02:00', '2026-03-31T02:00:00+02:00']);
    // 2026-10-25 03:00 CEST → 02:00 CET: 02:00 and 02:30 happen twice, and run twice.
    assert.deepEqual(due('*/30 2 * * *', '2026-10-24T12:00:00Z', 5, berlin), ['2026-10-25T02:00:00+02:00', '2026-10-25T02:30:00+02:00', '2026-10-25T02:00:00+01:00', '2026-10-25T02:30:00+01:00', '2026-10-26T02:00:00+01:00']);
  });

  it('a daily time skipped by the spring change is due once, right after the clocks jump', () => {
    // 2026-03-08 02:00 EST → 03:00 EDT: 02:30 does not exist that day.
    assert.deepEqual(due('30 2 * * *', '2026-03-06T12:00:00Z', 3), ['2026-03-07T02:30:00-05:00', '2026-03-08T03:00:00-04:00', '2026-03-09T02:30:00-04:00']);
  });

  it('a daily time that happens twice in the autumn is due once; an hourly * schedule follows real time', () => {
    // 2026-11-01 02:00 EDT → 01:00 EST: 01:30 happens twice.
    assert.deepEqual(due('30 1 * * *', '2026-10-30T12:00:00Z', 3), ['2026-10-31T01:30:00-04:00', '2026-11-01T01:30:00-04:00', '2026-11-02T01:30:00-05:00']);
    assert.deepEqual(due('0 * * * *', '2026-11-01T04:30:00Z', 3), ['2026-11-01T01:00:00-04:00', '2026-11-01T01:00:00-05:00', '2026-11-01T02:00:00-05:00']);
  });

  it('reads seconds, names, ranges, steps, and day-of-month OR day-of-week', () => {
    assert.deepEqual(due('*/20 * * * * *', '2026-01-01T00:00:00Z', 3, 'UTC'), ['2026-01-01T00:00:20Z', '2026-01-01T00:00:40Z', '2026-01-01T00:01:00Z']);
    assert.deepEqual(due('0 9 * * mon-fri', '2026-01-02T12:00:00Z', 2, 'Europe/Moscow'), ['2026-01-05T09:00:00+03:00', '2026-01-06T09:00:00+03:00']);
    assert.deepEqual(due('0 0 13 * fri', '2026-02-01T00:00:00Z', 3, 'UTC'), ['2026-02-06T00:00:00Z', '2026-02-13T00:00:00Z', '2026-02-20T00:00:00Z']);
    assert.deepEqual(due('0 9 29 feb *', '2026-01-01T00:00:00Z', 1, 'UTC'), ['2028-02-29T09:00:00Z']);
  });

  it('intervals are due at multiples of the interval since the epoch, on every instance alike', () => {
    const s = intervalSchedule('5m');
    assert.deepEqual(nextDueTimes(s, Date.parse('2026-01-01T00:03:10Z'), 2).map((t) => new Date(t).toISOString()), ['2026-01-01T00:05:00.000Z', '2026-01-01T00:10:00.000Z']);
    assert.throws(() => intervalSchedule('5 minutes'), /not an interval/);
    assert.throws(() => intervalSchedule('500ms'), /shorter than one second/);
  });

  it('refuses bad expressions with what is wrong', () => {
    assert.throws(() => cronSchedule('61 * * * *', 'UTC'), /minute: 61 is outside 0-59/);
    assert.throws(() => cronSchedule('* * *', 'UTC'), /has 3 field\(s\)/);
    assert.throws(() => cronSchedule('0 9 * * *', 'Mars/Olympus'), /^ScheduleError: "Mars\/Olympus" is not a time zone \(e\.g\. Europe\/Moscow, UTC\)$/);
    assert.throws(() => cronSchedule('0 9 * * *', 'Europe/Moskow'), /^ScheduleError: "Europe\/Moskow" is not a time zone \(did you mean Europe\/Moscow\?\)$/);
  });

  it('an interval without a unit or in words, and words for a cron, get the every: value to write', () => {
    const message = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    assert.equal(message(() => intervalSchedule('60')), '"60" has no unit: write 60s for seconds (or 1m, units ms, s, m, h, d)');
    assert.equal(message(() => intervalSchedule('45')), '"45" has no unit: write 45s for seconds (units ms, s, m, h, d)');
    assert.equal(message(() => intervalSchedule('5 minutes')), '"5 minutes" is not an interval: write 5m');
    assert.equal(message(() => intervalSchedule('*/5 * * * *')), '"*/5 * * * *" is not an interval but looks like a cron expression: write cron: "*/5 * * * *" in place of every:');
    assert.equal(message(() => intervalSchedule('0 9 * * mon-fri')), '"0 9 * * mon-fri" is not an interval but looks like a cron expression: write cron: "0 9 * * mon-fri" in place of every:');
    assert.equal(message(() => intervalSchedule('@hourly')), '"@hourly" is not an interval but looks like a cron expression: write cron: "@hourly" in place of every:');
    assert.equal(message(() => intervalSchedule('5x')), '"5x" is not an interval (e.g. 30s, 5m, 1h30m, 1d)');
    assert.equal(message(() => cronSchedule('every minute', 'UTC')), '"every minute" is not a cron expression: for a task due every 1m, write every: 1m in place of cron:');
    assert.equal(message(() => cronSchedule('every 2 hours', 'UTC')), '"every 2 hours" is not a cron expression: for a task due every 2h, write every: 2h in place of cron:');
    // In the configuration: at the value, as every problem of a task.
    assert.throws(
      () => parseServiceTasks('c.yaml', 'serviceTasks:\n  - { name: a, scenario: S, every: 60 }\n  - { name: b, scenario: S, cron: "every minute" }\n', 'UTC'),
      (e: Error) => /c\.yaml:2:36: every: "60" has no unit: write 60s/.test(e.message) && /c\.yaml:3:35: cron: "every minute" is not a cron expression/.test(e.message),
    );
  });
});

describe('service task definitions', () => {
  const config = `port: 4055
serviceTasks:
  - name: poll
    scenario: PollOrders
    every: 5m
  - name: report
    scenario: DailyReport
    cron: "0 9 * * *"
  - name: broken
    scenario: X
    cron: "0 25 * * *"
  - name: zone
    scenario: X
    every: 1h
    timeZone: Nowhere/City
    missed: sometimes
`;

  it('reports every bad field at its line and column, with the next three due times of the good tasks', () => {
    const now = Date.parse('2026-06-01T10:02:00Z');
    let message = '';
    try {
      parseServiceTasks('oktell.config.yaml', config, 'Europe/Moscow', now);
    } catch (e) {
      assert.ok(e instanceof ServiceTaskError);
      message = e.message;
    }
    const lines = message.split('\n');
    assert.equal(lines[0], 'oktell.config.yaml:11:11: cron: hour: 25 is outside 0-23');
    assert.match(lines[1]!, /^oktell.config.yaml:15:15: timeZone: "Nowhere\/City" is not a time zone/);
    assert.match(lines[2]!, /^oktell.config.yaml:16:13: missed: once/);
    assert.equal(lines[3], 'the other tasks are due:');
    assert.equal(lines[4], '  poll (every 5m): next 2026-06-01T13:05:00+03:00, 2026-06-01T13:10:00+03:00, 2026-06-01T13:15:00+03:00');
    assert.equal(lines[5], '  report (0 9 * * *): next 2026-06-02T09:00:00+03:00, 2026-06-03T09:00:00+03:00, 2026-06-04T09:00:00+03:00');
  });

  it('reads a good task with its defaults: the server zone, enabled, missed once, overlap run', () => {
    const [t] = parseServiceTasks('c.yaml', `serviceTasks:\n  - { name: a, scenario: S, every: 1m, params: { 2: '"x"' } }\n`, 'Europe/Moscow');
    assert.deepEqual({ ...t, schedule: t!.schedule.text, params: Object.keys(t!.params) }, { name: 'a', scenario: 'S', schedule: 'every 1m', timeZone: 'Europe/Moscow', params: ['2'], enabled: true, missed: 'once', overlap: 'run', scenarioAt: 'c.yaml:2:26', paramsAt: { 2: 'c.yaml:2:50' } });
  });

  it('checks parameter expressions at their place in the file, and refuses variables', () => {
    const text = 'serviceTasks:\n  - name: a\n    scenario: S\n    every: 1m\n    params:\n      2: \'Upper("x"\'\n      3: \'[who]\'\n';
    assert.throws(
      () => parseServiceTasks('c.yaml', text, 'UTC'),
      (e: Error) => /^c\.yaml:6:\d+: params\.2: /m.test(e.message) && /c\.yaml:7:10: params\.3: a task has no variables \(\[who\]\)/.test(e.message),
    );
  });

  it('an unknown key close to a known one (param for params) names the one meant', () => {
    const text = 'serviceTasks:\n  - name: a\n    scenario: S\n    every: 1m\n    param: { 2: Now() }\n';
    assert.throws(() => parseServiceTasks('c.yaml', text, 'UTC'), (e: Error) => /c\.yaml:5:5: unknown key "param" \(did you mean params\? known: name, scenario, /.test(e.message));
  });
  it('refuses unknown keys, duplicate names, and a task with both cron and every', () => {
    const text = 'serviceTasks:\n  - { name: a, scenario: S, every: 1m, colour: red }\n  - { name: a, scenario: S, every: 1m, cron: "* * * * *" }\n';
    assert.throws(() => parseServiceTasks('c.yaml', text, 'UTC'), (e: Error) => /c.yaml:2:40: unknown key "colour"/.test(e.message) && /c.yaml:3:13: name "a" is used by an earlier task/.test(e.message) && /exactly one of cron/.test(e.message));
  });
});
