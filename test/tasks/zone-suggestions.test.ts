// A service task's `timeZone` written as an abbreviation (MSK) or a fixed offset (UTC+3) gets, as the suggestion to
// paste, the zone meant: not the zone closest by spelling (Asia/Omsk for MSK, UTC for UTC+3), which would run the
// schedule hours off. Checked through the real binary (`tasks`, and `serve` for the server's own OKTELL_TZ).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../cli/cli.helper.js';
import { repoPath, tempDir } from '../helpers.js';

const env = { OKTELL_SCENARIOS: repoPath('scenarios') };

/** The line `oktell-emu tasks` gives for `timeZone: <zone>` (quoted in the YAML), at 5:15. */
function taskZoneLine(dir: string, zone: string): string {
  writeFileSync(join(dir, 'oktell.config.yaml'), `serviceTasks:\n  - name: report\n    scenario: DailyReport\n    cron: "0 9 * * *"\n    timeZone: "${zone}"\n`);
  const out = runCli(['tasks'], { cwd: dir, env, unset: ['OKTELL_DATA_DIR', 'OKTELL_TZ'] });
  assert.equal(out.code, 2, out.stderr);
  const line = out.stderr.split('\n').find((l) => l.includes('timeZone:'));
  assert.ok(line, out.stderr);
  return line.replace(/^oktell-emu: /, '');
}

describe('service task time zones: the suggestion is the zone meant', () => {
  it('names Europe/Moscow for MSK, Etc/GMT-3 (explained) for UTC+3, GMT+3 and +03:00, and nothing for an unknown abbreviation', () => {
    const tmp = tempDir('oktell-zone-guess-');
    try {
      assert.equal(taskZoneLine(tmp.dir, 'MSK'), 'oktell.config.yaml:5:15: timeZone: "MSK" is not a time zone (did you mean Europe/Moscow?)');
      assert.equal(taskZoneLine(tmp.dir, 'YEKT'), 'oktell.config.yaml:5:15: timeZone: "YEKT" is not a time zone (did you mean Asia/Yekaterinburg?)');
      const gmt3 = 'is not a time zone (did you mean Etc/GMT-3 (UTC+3, no daylight saving: IANA writes these offsets with the sign reversed)?)';
      assert.equal(taskZoneLine(tmp.dir, 'UTC+3'), `oktell.config.yaml:5:15: timeZone: "UTC+3" ${gmt3}`);
      assert.equal(taskZoneLine(tmp.dir, 'GMT+3'), `oktell.config.yaml:5:15: timeZone: "GMT+3" ${gmt3}`);
      assert.equal(taskZoneLine(tmp.dir, '+03:00'), `oktell.config.yaml:5:15: timeZone: "+03:00" ${gmt3}`);
      assert.match(taskZoneLine(tmp.dir, 'UTC-5'), /did you mean Etc\/GMT\+5 \(UTC-5, /);
      // The minus of `UTC−03:00` as Wikipedia writes it (U+2212) or a dash: the zone meant, not UTC by spelling.
      assert.match(taskZoneLine(tmp.dir, 'UTC\u221203:00'), /did you mean Etc\/GMT\+3 \(UTC-3, /);
      assert.match(taskZoneLine(tmp.dir, 'UTC\u20135'), /did you mean Etc\/GMT\+5 \(UTC-5, /);
      // An offset without its sign may be either way: no guess, not UTC (hours off).
      assert.equal(taskZoneLine(tmp.dir, 'UTC3'), 'oktell.config.yaml:5:15: timeZone: "UTC3" is not a time zone (e.g. Europe/Moscow, UTC)');
      assert.equal(taskZoneLine(tmp.dir, 'UTC 3'), 'oktell.config.yaml:5:15: timeZone: "UTC 3" is not a time zone (e.g. Europe/Moscow, UTC)');
      // No Etc/ zone has half hours, and an abbreviation not known is no typo of a city (EKB is not Asia/Omsk either).
      assert.equal(taskZoneLine(tmp.dir, '+05:30'), 'oktell.config.yaml:5:15: timeZone: "+05:30" is not a time zone (e.g. Europe/Moscow, UTC)');
      assert.equal(taskZoneLine(tmp.dir, 'EKB'), 'oktell.config.yaml:5:15: timeZone: "EKB" is not a time zone (e.g. Europe/Moscow, UTC)');
      // Typos of real names are still found.
      assert.equal(taskZoneLine(tmp.dir, 'Europe/Moskow'), 'oktell.config.yaml:5:15: timeZone: "Europe/Moskow" is not a time zone (did you mean Europe/Moscow?)');
      assert.equal(taskZoneLine(tmp.dir, 'Moscow'), 'oktell.config.yaml:5:15: timeZone: "Moscow" is not a time zone (did you mean Europe/Moscow?)');
      // The suggested zones work when pasted: the same task with them is accepted.
      for (const zone of ['Europe/Moscow', 'Asia/Yekaterinburg', 'Etc/GMT-3', 'Etc/GMT+5']) {
        writeFileSync(join(tmp.dir, 'oktell.config.yaml'), `serviceTasks:\n  - { name: report, scenario: DailyReport, cron: "0 9 * * *", timeZone: ${zone} }\n`);
        const ok = runCli(['tasks'], { cwd: tmp.dir, env, unset: ['OKTELL_DATA_DIR', 'OKTELL_TZ'] });
        assert.equal(ok.code, 0, `${zone}: ${ok.stderr}`);
      }
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), 'serviceTasks:\n  - { name: report, scenario: DailyReport, cron: "0 9 * * *", timeZone: Etc/GMT-3 }\n');
      assert.match(runCli(['tasks'], { cwd: tmp.dir, env, unset: ['OKTELL_DATA_DIR', 'OKTELL_TZ'] }).stdout, /next: \d{4}-\d\d-\d\dT09:00:00\+03:00/);
    } finally {
      tmp.cleanup();
    }
  });

  it('the server\'s own OKTELL_TZ=MSK gets the same suggestion, not Asia/Omsk', () => {
    const tmp = tempDir('oktell-zone-guess-serve-');
    try {
      const out = runCli(['serve', '--port', '0', '--host', '127.0.0.1', '--bpium-emulator-port', '0', '--data-dir', join(tmp.dir, 'var')], { cwd: tmp.dir, env: { ...env, OKTELL_TZ: 'MSK' }, timeoutMs: 60_000 });
      assert.notEqual(out.code, 0);
      assert.match(out.stderr, /OKTELL_TZ="MSK" is not a time zone: did you mean Europe\/Moscow\?/);
      assert.doesNotMatch(out.stderr, /Omsk/);
    } finally {
      tmp.cleanup();
    }
  });
});
