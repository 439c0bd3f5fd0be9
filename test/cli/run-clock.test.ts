// `run --dry-run --now … --tz …`: the run's clock and time zone fixed from the command line, as scenario tests fix
// them, so "what happens at 18:05 on Friday" can be tried without waiting for it.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

const WORK_HOURS = `variables: { hour: number }
blocks:
  h:
    kind: Variable
    set: { hour: 'Num(FormatDate(Now(), "H"))' }
    exits: { next: c }
  c:
    kind: Condition
    expression: '[hour] >= 9 And [hour] < 18'
    exits: { true: open, false: closed }
  open: { kind: ReturnValue, values: { 1: '"open " + FormatDate(Now(), "dd.MM.yyyy HH:mm")' } }
  closed: { kind: ReturnValue, values: { 1: '"closed " + FormatDate(Now(), "dd.MM.yyyy HH:mm")' } }
`;

describe('oktell-emu run --now and --tz', () => {
  const tmp = tempDir();
  const dir = join(tmp.dir, 'w');
  before(() => {
    mkdirSync(dir);
    writeFileSync(join(dir, 'WorkHours.yaml'), WORK_HOURS);
  });
  after(() => tmp.cleanup());
  const run = (...args: string[]) => runCli(['run', 'WorkHours', '--scenarios', dir, '--json', ...args], { unset: ['OKTELL_TZ'] });
  const answer = (...args: string[]) => {
    const r = run('--dry-run', ...args);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    return (JSON.parse(r.stdout) as { returnValues: Record<string, string> }).returnValues['1'];
  };

  it('--now fixes Now() of a dry run, read as wall time in the run\'s zone', () => {
    assert.equal(answer('--now', '2024-03-15T18:05'), 'closed 15.03.2024 18:05');
    assert.equal(answer('--now', '15.03.2024 17:05'), 'open 15.03.2024 17:05');
  });

  it('--tz sets the zone; a time with Z or an offset is that instant', () => {
    // 12:05 UTC is 15:05 in Moscow (the default) and 17:05 in Yekaterinburg.
    assert.equal(answer('--now', '2024-03-15T12:05Z'), 'open 15.03.2024 15:05');
    assert.equal(answer('--now', '2024-03-15T12:05Z', '--tz', 'Asia/Yekaterinburg'), 'open 15.03.2024 17:05');
    assert.equal(answer('--now', '2024-03-15T20:05', '--tz', 'Asia/Yekaterinburg'), 'closed 15.03.2024 20:05');
    // The text output prints the run's dates in that zone too.
    writeFileSync(join(dir, 'Stamp.yaml'), "variables: { at: datetime }\nblocks:\n  s: { kind: Variable, set: { at: 'Now()' }, exits: { next: r } }\n  r: { kind: ReturnValue, values: { 1: '[at]' } }\n");
    const text = runCli(['run', 'Stamp', '--scenarios', dir, '--dry-run', '--now', '2024-03-15T12:05Z', '--tz', 'Asia/Yekaterinburg'], { unset: ['OKTELL_TZ'] });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /return values 1=15\.03\.2024 17:05:00/);
  });

  it('refuses a time that is not one, an unknown zone, and --now on a live run', () => {
    const cases: Array<[string[], string]> = [
      [['--dry-run', '--now', 'tomorrow'], '--now "tomorrow" is not a date and time: write e.g. 2024-03-15T18:05, "15.03.2024 18:05" or 2024-03-15T15:05Z'],
      [['--dry-run', '--tz', 'Mars/Base'], '--tz "Mars/Base" is not a time zone: use an IANA name such as Europe/Moscow, Asia/Yekaterinburg or UTC'],
      [['--dry-run', '--tz', 'Europe/Moskow'], '--tz "Europe/Moskow" is not a time zone: did you mean Europe/Moscow? (an IANA name such as Europe/Moscow, Asia/Yekaterinburg or UTC)'],
      [['--now', '2024-03-15T18:05'], '--now fixes the clock of a dry run only: add --dry-run'],
    ];
    for (const [args, message] of cases) {
      const r = run(...args);
      assert.equal(r.code, 2, r.stdout);
      assert.deepEqual(JSON.parse(r.stdout), { status: 'failed', error: { code: 'E_USAGE', message } });
    }
  });
});
