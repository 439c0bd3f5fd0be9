// Everything the product creates in the data folder is private (newcomer s28, finding 3): the folder 0700 and every
// file in it 0600 under the usual umask 022, whichever command made them — `serve`, a live `run`, `tasks run` — the
// DbQuery database `main.sqlite` and the SQLite side files (-wal, -shm, -journal) included. A live `run` and `tasks
// run` make a missing data folder alike, and say so.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoPath, tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';
import { startServeProcess } from './cli-process.js';

/** `path mode` for the folder and everything under it, modes in octal (`700`, `600`). */
function modes(dir: string): string[] {
  const out = [`. ${(statSync(dir).mode & 0o777).toString(8)}`];
  for (const name of readdirSync(dir, { recursive: true }) as string[]) out.push(`${name} ${(statSync(join(dir, name)).mode & 0o777).toString(8)}`);
  return out.sort();
}

/** The entries whose mode is not private: 700 for folders, 600 for files. */
function notPrivate(dir: string): string[] {
  return modes(dir).filter((line) => {
    const [name, mode] = line.split(' ');
    return mode !== (statSync(join(dir, name!)).isDirectory() ? '700' : '600');
  });
}

describe('the data folder and its files are private, whichever command makes them', () => {
  let umask: number;
  // Set here, inherited by every oktell-emu process the tests start: a group/other-readable default, as on most systems.
  before(() => (umask = process.umask(0o022)));
  after(() => process.umask(umask));

  it('serve: the folder 700; the stores, main.sqlite, serve.lock, serve.json, credentials, letters and side files 600', { timeout: 90_000 }, async () => {
    const tmp = tempDir();
    const data = join(tmp.dir, 'var');
    const serve = await startServeProcess({ dataDir: data, env: { OKTELL_USERS: '' } });
    try {
      // A letter in the outbox and a row in main.sqlite (the notifications table), as the newcomer's trial made them.
      const demo = runCli(['demo', '--data-dir', data], { timeoutMs: 60_000 });
      assert.equal(demo.code, 0, demo.stderr);
      const all = modes(data);
      for (const name of ['oktell.sqlite', 'main.sqlite', 'serve.lock', 'serve.json', 'server-user.json', 'outbox']) {
        assert.ok(all.some((l) => l.startsWith(`${name} `)), `${name} is there: ${all.join(', ')}`);
      }
      assert.ok(all.some((l) => /^outbox\/.*\.eml /.test(l)), `a letter: ${all.join(', ')}`);
      assert.deepEqual(notPrivate(data), [], all.join(', '));
    } finally {
      await serve.stop();
      tmp.cleanup();
    }
  });

  it('a live run on a missing folder makes it 700, says so, and writes main.sqlite and oktell.sqlite 600', () => {
    const tmp = tempDir();
    try {
      const data = join(tmp.dir, 'd8');
      const r = runCli(['run', 'RecordNotification', '-d', data, '-p', '1=1', '-p', '2=2', '-p', '3=a@b.ru'], { unset: ['OKTELL_STORE'] });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`^oktell-emu: note: made the data folder ${data} \\(mode 700\\)\\n`));
      assert.deepEqual(modes(data), ['. 700', 'main.sqlite 600', 'oktell.sqlite 600']);
      // A mistyped scenario is refused and leaves no folder behind.
      const typo = runCli(['run', 'RecordNotificaton', '-d', join(tmp.dir, 'typo'), '-p', '1=1'], { unset: ['OKTELL_STORE'] });
      assert.equal(typo.code, 2, typo.stderr);
      assert.equal(existsSync(join(tmp.dir, 'typo')), false);
      // Trial s33-docs1 #11: so is a scenario that is there but cannot run, with no note of a folder made.
      const scenarios = join(tmp.dir, 'scenarios');
      mkdirSync(scenarios);
      writeFileSync(join(scenarios, 'Bad.yaml'), 'blocks:\n  start: { kind: Start, exits: { next: stop } }\n  stop: { kind: Stop, result: "[nope]" }\n');
      const invalid = runCli(['run', 'Bad', '-s', scenarios, '-d', join(tmp.dir, 'invalid')], { unset: ['OKTELL_STORE'] });
      assert.equal(invalid.code, 2, invalid.stderr);
      assert.match(invalid.stderr, /^oktell-emu: scenario Bad cannot run: /);
      assert.doesNotMatch(invalid.stderr, /made the data folder/);
      assert.equal(existsSync(join(tmp.dir, 'invalid')), false);
    } finally {
      tmp.cleanup();
    }
  });

  it('tasks run on a missing folder makes it 700 as a live run does, says so, and queues the job there', () => {
    const tmp = tempDir();
    try {
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), 'serviceTasks:\n  - { name: report, scenario: DailyReport, cron: "0 9 * * *", timeZone: UTC }\n');
      const data = join(tmp.dir, 'new', 'data');
      const r = runCli(['tasks', 'run', 'report', '--data-dir', data], { cwd: tmp.dir, env: { OKTELL_SCENARIOS: repoPath('scenarios') }, unset: ['OKTELL_STORE'] });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^report: job \S+ queued\n$/);
      assert.match(r.stderr, new RegExp(`^oktell-emu: note: made the data folder ${data} \\(mode 700\\)\\n`));
      assert.match(r.stderr, /no server is running with .*: the queued job\(s\) wait there/);
      assert.deepEqual(modes(data), ['. 700', 'oktell.sqlite 600']);
      // The folder above is an ordinary one: only the data folder itself is made private.
      assert.equal((statSync(join(tmp.dir, 'new')).mode & 0o777).toString(8), '755');
      // An unknown task is refused before anything is made.
      const unknown = runCli(['tasks', 'run', 'reprot', '--data-dir', join(tmp.dir, 'typo')], { cwd: tmp.dir, env: { OKTELL_SCENARIOS: repoPath('scenarios') }, unset: ['OKTELL_STORE'] });
      assert.equal(unknown.stderr, 'oktell-emu: no service task named "reprot" in the configuration: did you mean "report"? (the tasks are report)\n');
      assert.equal(existsSync(join(tmp.dir, 'typo')), false);
      assert.match(runCli(['tasks', '--data-dir', data], { cwd: tmp.dir, env: { OKTELL_SCENARIOS: repoPath('scenarios') } }).stdout, /last run: queued, manual run queued/);
    } finally {
      tmp.cleanup();
    }
  });
});
