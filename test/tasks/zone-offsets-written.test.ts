// Ways of writing a task's zone that got no zone to paste: Moscow time plus hours as Russia writes it (`MSK+2`,
// `МСК+2`), a city in capitals (`OMSK`), which was taken for an abbreviation, and an offset left unquoted
// (`timeZone: +3`, which YAML reads as the number 3, its sign lost). Through the real binary, the suggestions taken.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ECHO_DUE } from './task-scenarios.js';
import { withTasksProject } from './tasks-project.helper.js';

const NOTE = 'no daylight saving: IANA writes these offsets with the sign reversed';
const task = (zone: string, i: number) => `  - name: t${i}\n    scenario: Tick\n    cron: "0 9 * * *"\n    timeZone: ${zone}\n`;

/** The zone problems `oktell-emu tasks` gives for these zones (one task each), without their places. */
function zoneProblems(tasks: (config: string) => { code: number | null; stderr: string }, zones: string[]): string[] {
  const out = tasks(`serviceTasks:\n${zones.map(task).join('')}`);
  assert.equal(out.code, 2, out.stderr);
  return out.stderr.split('\n').filter((l) => /oktell\.config\.yaml:\d/.test(l)).map((l) => l.replace(/^(oktell-emu: )?oktell\.config\.yaml:\d+:\d+: /, ''));
}

/** The UTC offsets of 09:00 of the tasks `oktell-emu tasks` lists, one task per zone; the zones must be accepted. */
function offsetsOf(tasks: (config: string) => { code: number | null; stdout: string; stderr: string }, zones: string[]): Array<string | undefined> {
  const good = tasks(`serviceTasks:\n${zones.map(task).join('')}`);
  assert.equal(good.code, 0, good.stderr);
  return good.stdout.split('\n').filter((l) => l.startsWith('  next: ')).map((l) => /T09:00:00([+-]\d\d:\d\d)/.exec(l)?.[1]);
}

describe('service task zones: MSK+N, cities in capitals, unquoted offsets', () => {
  it('MSK+N suggests Russia\'s zone of that offset and the Etc/ one', () => {
    withTasksProject('oktell-zone-msk-', { 'Tick.yaml': ECHO_DUE }, (tasks) => {
      assert.deepEqual(zoneProblems(tasks, ['MSK+2', 'МСК+2', 'MSK-1', '"MSK+4"', 'MSK+12']), [
        `timeZone: "MSK+2" is not a time zone (did you mean Asia/Yekaterinburg (MSK+2, UTC+5) or Etc/GMT-5 (UTC+5, ${NOTE})?)`,
        `timeZone: "МСК+2" is not a time zone (did you mean Asia/Yekaterinburg (MSK+2, UTC+5) or Etc/GMT-5 (UTC+5, ${NOTE})?)`,
        `timeZone: "MSK-1" is not a time zone (did you mean Europe/Kaliningrad (MSK-1, UTC+2) or Etc/GMT-2 (UTC+2, ${NOTE})?)`,
        `timeZone: "MSK+4" is not a time zone (did you mean Asia/Krasnoyarsk (MSK+4, UTC+7) or Etc/GMT-7 (UTC+7, ${NOTE})?)`,
        // UTC+15: no zone has it.
        'timeZone: "MSK+12" is not a time zone (e.g. Europe/Moscow, UTC)',
      ]);
      assert.deepEqual(offsetsOf(tasks, ['Asia/Yekaterinburg', 'Etc/GMT-5', 'Europe/Kaliningrad', 'Etc/GMT-2', 'Asia/Krasnoyarsk', 'Etc/GMT-7']), ['+05:00', '+05:00', '+02:00', '+02:00', '+07:00', '+07:00']);
    });
  });

  it('a city in capitals (OMSK, TOMSK) suggests its zone; an abbreviation no city has still gets none', () => {
    withTasksProject('oktell-zone-caps-', { 'Tick.yaml': ECHO_DUE }, (tasks) => {
      assert.deepEqual(zoneProblems(tasks, ['OMSK', 'TOMSK', 'EKB', 'NSK']), [
        'timeZone: "OMSK" is not a time zone (did you mean Asia/Omsk?)',
        'timeZone: "TOMSK" is not a time zone (did you mean Asia/Tomsk?)',
        'timeZone: "EKB" is not a time zone (e.g. Europe/Moscow, UTC)',
        'timeZone: "NSK" is not a time zone (e.g. Europe/Moscow, UTC)',
      ]);
      assert.deepEqual(offsetsOf(tasks, ['Asia/Omsk', 'Asia/Tomsk']), ['+06:00', '+07:00']);
    });
  });

  it('an unquoted offset (+3, -5) is said to be read as a number, with the zone of that offset; 3 gets no guess', () => {
    withTasksProject('oktell-zone-number-', { 'Tick.yaml': ECHO_DUE }, (tasks) => {
      assert.deepEqual(zoneProblems(tasks, ['+3', '-5', '3', '+03']), [
        `timeZone: +3 is read by YAML as the number 3, not a zone name (did you mean Etc/GMT-3 (UTC+3, ${NOTE})?)`,
        `timeZone: -5 is read by YAML as the number -5, not a zone name (did you mean Etc/GMT+5 (UTC-5, ${NOTE})?)`,
        // No sign: either way round; a number is no zone.
        'timeZone: 3 is read by YAML as the number 3, not a zone name: write a zone name (e.g. Europe/Moscow, UTC)',
        `timeZone: +03 is read by YAML as the number 3, not a zone name (did you mean Etc/GMT-3 (UTC+3, ${NOTE})?)`,
      ]);
      assert.deepEqual(offsetsOf(tasks, ['Etc/GMT-3', 'Etc/GMT+5']), ['+03:00', '-05:00']);
    });
  });

  it('the file\'s own timeZone: +3 unquoted gets the same explanation (was: expected string, received number)', () => {
    withTasksProject('oktell-zone-file-number-', { 'Tick.yaml': ECHO_DUE }, (tasks) => {
      const plus = tasks('timeZone: +3\nserviceTasks:\n  - { name: t, scenario: Tick, every: 5m }\n');
      assert.equal(plus.code, 2, plus.stderr);
      assert.match(plus.stderr, new RegExp(`oktell\\.config\\.yaml:1:11: timeZone: \\+3 is read by YAML as the number 3, not a zone name \\(did you mean Etc/GMT-3 \\(UTC\\+3, ${NOTE}\\)\\?\\)`));
      const bare = tasks('timeZone: 3\n');
      assert.equal(bare.code, 2, bare.stderr);
      assert.match(bare.stderr, /oktell\.config\.yaml:1:11: timeZone: 3 is read by YAML as the number 3, not a zone name: write a zone name \(e\.g\. Europe\/Moscow, UTC\)/);
    });
  });
});

describe('the file\'s own timeZone: left empty', () => {
  it('is not said to be the number 0 (Number("") is 0): YAML read no value', () => {
    withTasksProject('oktell-zone-file-empty-', { 'Tick.yaml': ECHO_DUE }, (tasks) => {
      const out = tasks('timeZone:\nserviceTasks:\n  - { name: t, scenario: Tick, every: 5m }\n');
      assert.equal(out.code, 2, out.stderr);
      assert.doesNotMatch(out.stderr, /number 0/);
      // Was "Invalid input: expected string, received null", which did not say what to write.
      assert.match(out.stderr, /oktell\.config\.yaml:1:10: timeZone: is empty: write a zone name \(e\.g\. Europe\/Moscow, UTC\), or remove the line for the default, Europe\/Moscow/);
    });
  });
});
