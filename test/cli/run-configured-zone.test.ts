// `run` and `test --from-run` take the time zone as `serve` does: OKTELL_TZ, else `timeZone:` of the configuration
// file, else Europe/Moscow (and `run --tz` over all of them). A live run is recorded beside the server's runs, so it
// computes Now() in their zone, and a case written from a run replays it in the zone it ran in.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

const CLOCK = `variables: { at: datetime }
blocks:
  s: { kind: Variable, set: { at: 'Now()' }, exits: { next: r } }
  r: { kind: ReturnValue, values: { 1: 'FormatDate([at], "HH:mm")', 2: '[at]' } }
`;

describe('run and test --from-run with timeZone: in the configuration file', () => {
  const tmp = tempDir();
  const dir = join(tmp.dir, 'scenarios');
  const config = join(tmp.dir, 'tz.yaml');
  before(() => {
    mkdirSync(dir);
    writeFileSync(join(dir, 'Clock.yaml'), CLOCK);
    writeFileSync(config, 'timeZone: Asia/Tokyo\n');
  });
  after(() => tmp.cleanup());
  const run = (args: string[], env: Record<string, string> = {}) =>
    runCli(['run', 'Clock', '--scenarios', dir, '--config', config, '--data-dir', join(tmp.dir, 'var'), ...args], env.OKTELL_TZ ? { env } : { unset: ['OKTELL_TZ'] });

  it('a dry run computes Now() in the file\'s zone; OKTELL_TZ is over the file, --tz over both', () => {
    const hour = (args: string[], env: Record<string, string> = {}) => {
      const r = run(['--dry-run', '--now', '2024-03-15T03:00Z', '--json', ...args], env);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      return (JSON.parse(r.stdout) as { returnValues: Record<string, string> }).returnValues['1'];
    };
    // 03:00 UTC is 12:00 in Tokyo, 06:00 in Moscow (the default), 04:00 in Berlin, 08:00 in Yekaterinburg.
    assert.equal(hour([]), '12:00');
    assert.equal(hour([], { OKTELL_TZ: 'Europe/Berlin' }), '04:00');
    assert.equal(hour(['--tz', 'Asia/Yekaterinburg']), '08:00');
    // The text output prints the run's dates in the same zone.
    const text = run(['--dry-run', '--now', '2024-03-15T03:00Z']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /return values 1="12:00" 2=15\.03\.2024 12:00:00/);
  });

  it('a live run is recorded with Tokyo times, and test --from-run writes its case in Tokyo, where it passes', () => {
    const before = Date.now();
    const live = run(['--json']);
    const after = Date.now();
    assert.equal(live.code, 0, live.stdout + live.stderr);
    const result = JSON.parse(live.stdout) as { runId: string; returnValues: Record<string, string> };
    const tokyo = (ms: number) => new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Tokyo', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(ms);
    assert.ok([tokyo(before), tokyo(after)].includes(result.returnValues['1']!), `${result.returnValues['1']} is not Tokyo's ${tokyo(before)}`);

    const out = join(dir, 'tests', 'recorded.test.yaml');
    const written = runCli(['test', '--from-run', result.runId, '--scenarios', dir, '--config', config, '--data-dir', join(tmp.dir, 'var'), '--out', out], { unset: ['OKTELL_TZ'] });
    assert.equal(written.code, 0, written.stdout + written.stderr);
    assert.match(readFileSync(out, 'utf8'), /^ {4}timeZone: Asia\/Tokyo$/m);
    // Run again on its own: the case expects the run's Tokyo hour, and gets it from its zone.
    const again = runCli(['test', out, '--scenarios', dir], { unset: ['OKTELL_TZ'] });
    assert.equal(again.code, 0, again.stdout + again.stderr);
  });
});
