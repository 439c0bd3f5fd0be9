// A run records the time zone it ran in, so `test --against-runs` and `test --from-run` on a store copied to a machine
// in another zone (`oktell-emu backup`, given to a colleague: no serve.json beside it) replay it as it ran. A run of
// an older build kept no zone: replayed in the command's, as before. Real SQLite files, the real binary.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

const CLOCK = `variables: { at: datetime }
blocks:
  s: { kind: Variable, set: { at: 'Now()' }, exits: { next: r } }
  r: { kind: ReturnValue, values: { 1: 'FormatDate([at], "HH:mm")', 2: 'Str([at])' } }
`;

describe('a copied store replays each run in the time zone its record names', { timeout: 90_000 }, () => {
  const tmp = tempDir();
  const dir = join(tmp.dir, 'scenarios');
  const server = join(tmp.dir, 'tokyo-var');
  const copy = join(tmp.dir, 'moscow-copy');
  let runId = '';
  before(() => {
    mkdirSync(dir);
    writeFileSync(join(dir, 'Clock.yaml'), CLOCK);
    // The colleague's machine: a live run in Tokyo, recorded in the data folder's SQLite store.
    const live = runCli(['run', 'Clock', '--scenarios', dir, '--data-dir', server, '--json'], { env: { OKTELL_TZ: 'Asia/Tokyo' } });
    assert.equal(live.code, 0, live.stdout + live.stderr);
    runId = (JSON.parse(live.stdout) as { runId: string }).runId;
    // Backed up and handed over: the copy is a store file alone, without serve.json.
    mkdirSync(copy);
    const backup = runCli(['backup', join(copy, 'oktell.sqlite'), '--data-dir', server], { env: { OKTELL_TZ: 'Asia/Tokyo' } });
    assert.equal(backup.code, 0, backup.stdout + backup.stderr);
  });
  after(() => tmp.cleanup());

  const moscow = (args: string[], dataDir = copy) => runCli(['test', ...args, '--scenarios', dir, '--data-dir', dataDir], { env: { OKTELL_TZ: 'Europe/Moscow' } });

  it('the record keeps the zone the run ran in; test --against-runs in Moscow replays it in Tokyo: the same, with a note', () => {
    const row = new Database(join(copy, 'oktell.sqlite'), { readonly: true }).prepare('SELECT time_zone FROM runs WHERE id = ?').get(runId) as { time_zone: string | null };
    assert.equal(row.time_zone, 'Asia/Tokyo');
    const r = moscow(['--against-runs']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stdout, `1 recorded run(s) against ${dir}: 1 same, 0 differ, 0 not replayable\n`);
    assert.match(r.stderr, /^replaying 1 in Asia\/Tokyo \(the time zone each run's record names\), not this command's Europe\/Moscow, so their times come out as they did$/m);
    assert.doesNotMatch(r.stderr, /will differ/);
  });

  it('show in Moscow prints the dates of the run\'s values in Tokyo, where it ran, and says so; its start in Moscow', () => {
    const r = runCli(['show', runId, '--data-dir', copy], { env: { OKTELL_TZ: 'Europe/Moscow' } });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^ {2}started \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+03:00 · [\d.]+ ms · ran in Asia\/Tokyo: the dates of its values are in that zone$/m);
    // The variable's date (an instant in the record) reads as the text the run made of it.
    const at = /^ +1 s Variable → next at=(\S+ \S+)$/m.exec(r.stdout)?.[1];
    assert.ok(at, r.stdout);
    assert.match(r.stdout, new RegExp(`^ {2}return values 1="\\d\\d:\\d\\d" 2="${at.replace(/\./g, '\\.')}"$`, 'm'));
  });

  it('test --from-run in Moscow writes the case in Tokyo, says so, and the case passes', () => {
    const out = join(dir, 'tests', 'recorded.test.yaml');
    const r = moscow(['--from-run', runId, '--out', out]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(readFileSync(out, 'utf8'), /^ {4}timeZone: Asia\/Tokyo$/m);
    assert.ok(r.stderr.includes(`run ${runId} ran in the time zone Asia/Tokyo (its record), this command's is Europe/Moscow: the case has timeZone: Asia/Tokyo, so its times come out as they did`), r.stderr);
  });

  it('a run of an older build, which kept no zone, is replayed in the command\'s zone as before: it differs', () => {
    const old = join(tmp.dir, 'old-copy');
    mkdirSync(old);
    const backup = runCli(['backup', join(old, 'oktell.sqlite'), '--data-dir', copy], { env: { OKTELL_TZ: 'Europe/Moscow' } });
    assert.equal(backup.code, 0, backup.stdout + backup.stderr);
    const db = new Database(join(old, 'oktell.sqlite'));
    db.prepare('UPDATE runs SET time_zone = NULL').run();
    db.close();
    const r = moscow(['--against-runs'], old);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /returnValues\.1: expected "\d\d:\d\d" got "\d\d:\d\d"/);
    assert.doesNotMatch(r.stderr, /replaying 1 in/);
    // With the server's serve.json beside it, the warning of before names the server's zone.
    writeFileSync(join(old, 'serve.json'), JSON.stringify({ pid: 999999999, url: 'http://127.0.0.1:9', signedPaths: [], startedAt: new Date().toISOString(), timeZone: 'Asia/Tokyo' }));
    const warned = moscow(['--against-runs'], old);
    assert.match(warned.stderr, /runs in the time zone Asia\/Tokyo \(serve\.json\), this command in Europe\/Moscow: the times its runs wrote will differ; run it with OKTELL_TZ=Asia\/Tokyo/);
  });

  it('a record naming a zone this build does not know (edited by hand): against-runs, from-run and show say so and do not crash', () => {
    const bad = join(tmp.dir, 'bad-copy');
    mkdirSync(bad);
    const backup = runCli(['backup', join(bad, 'oktell.sqlite'), '--data-dir', copy], { env: { OKTELL_TZ: 'Europe/Moscow' } });
    assert.equal(backup.code, 0, backup.stdout + backup.stderr);
    const db = new Database(join(bad, 'oktell.sqlite'));
    db.prepare('UPDATE runs SET time_zone = ?').run('Mars/Olympus\u001b[2J');
    db.close();
    const note = /which is not one this build knows \(a store edited by hand, or a server with a newer time zone database\): replayed in this command's Europe\/Moscow instead/;
    const against = moscow(['--against-runs'], bad);
    assert.equal(against.code, 1, against.stdout + against.stderr);
    assert.match(against.stderr, /^! 1 run\(s\) name in their record the time zone "Mars\/Olympus\\u001b\[2J", /m);
    assert.match(against.stderr, note);
    assert.doesNotMatch(against.stderr + against.stdout, /RangeError|\u001b\[2J/);
    assert.match(against.stdout, /0 same, 1 differ, 0 not replayable/);
    const out = join(tmp.dir, 'bad.test.yaml');
    const from = moscow(['--from-run', runId, '--out', out], bad);
    assert.match(from.stderr, new RegExp(`^! run ${runId}'s record names the time zone "Mars/Olympus\\\\u001b\\[2J", `, 'm'));
    assert.match(readFileSync(out, 'utf8'), /^ {4}timeZone: Europe\/Moscow$/m);
    const show = runCli(['show', runId, '--data-dir', bad], { env: { OKTELL_TZ: 'Europe/Moscow' } });
    assert.equal(show.code, 0, show.stdout + show.stderr);
    assert.match(show.stdout, /· its record names the time zone "Mars\/Olympus\\u001b\[2J", which this build does not know: the dates of its values are in Europe\/Moscow$/m);
  });
});
