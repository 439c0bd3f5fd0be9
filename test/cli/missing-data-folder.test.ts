// The reading commands (runs, show, outbox, tasks) and replay on a data folder that does not exist or holds no store
// yet: one line and exit 2 for a missing folder, and no file created to be read. (`tasks run` makes a missing folder,
// as a live run does: data-folder-modes.test.ts.)
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoPath, tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

const TASKS = 'serviceTasks:\n  - { name: report, scenario: DailyReport, cron: "0 9 * * *", timeZone: UTC }\n';

describe('oktell-emu on a missing or empty data folder', () => {
  it('a folder that does not exist: every command says so on one line, exit 2, and creates nothing', () => {
    const tmp = tempDir();
    try {
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), TASKS);
      const missing = join(tmp.dir, 'no-such-dir');
      const commands = [['runs'], ['show', 'some-run'], ['replay', '--status', 'dead'], ['outbox'], ['outbox', 'show', 'last']];
      for (const args of commands) {
        const r = runCli([...args, '--data-dir', missing], { cwd: tmp.dir, unset: ['OKTELL_STORE'] });
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.equal(r.stdout, '', args.join(' '));
        assert.equal(
          r.stderr,
          `oktell-emu: no data folder ${missing}: nothing has been recorded there; start the server with that folder first (npx oktell-emu serve --data-dir ${missing}), or check the path (--data-dir, OKTELL_DATA_DIR, dataDir: of the configuration file)\n`,
          args.join(' '),
        );
        assert.equal(existsSync(missing), false, `${args.join(' ')} created the folder`);
      }
      // The task listing needs no store to show the schedule: listed, with a note that the folder is not there.
      const tasks = runCli(['tasks', '--data-dir', missing], { cwd: tmp.dir, env: { OKTELL_SCENARIOS: repoPath('scenarios') }, unset: ['OKTELL_STORE'] });
      assert.equal(tasks.code, 0, tasks.stderr);
      assert.match(tasks.stdout, /^report {2}DailyReport {2}0 9 \* \* \* {2}UTC\n {2}last run: never run\n {2}next: /);
      assert.equal(tasks.stderr, `oktell-emu: note: no data folder ${missing} yet: every task is listed as never run (start the server with it, or check --data-dir)\n`);
      assert.equal(existsSync(missing), false, 'tasks created the folder');
      // The same through OKTELL_DATA_DIR, and with --json only the JSON object.
      const json = runCli(['runs', '--json'], { cwd: tmp.dir, env: { OKTELL_DATA_DIR: missing } });
      assert.equal(json.code, 2);
      assert.equal(json.stderr, '');
      assert.match((JSON.parse(json.stdout) as { error: { code: string; message: string } }).error.message, new RegExp(`^no data folder ${missing}:`));
      const file = runCli(['runs', '--data-dir', join(tmp.dir, 'oktell.config.yaml')], { cwd: tmp.dir });
      assert.equal(file.code, 2);
      assert.match(file.stderr, /^oktell-emu: the data folder .*oktell\.config\.yaml is a file, not a folder/);
    } finally {
      tmp.cleanup();
    }
  });

  it('a folder without a store: the reading commands answer "nothing yet" and create no file; tasks run creates the store', () => {
    const tmp = tempDir();
    try {
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), TASKS);
      const empty = join(tmp.dir, 'empty');
      mkdirSync(empty);
      const cli = (...args: string[]) => runCli([...args, '--data-dir', empty], { cwd: tmp.dir, env: { OKTELL_SCENARIOS: repoPath('scenarios') }, unset: ['OKTELL_STORE'] });

      assert.deepEqual(cli('runs'), { code: 0, stdout: 'no runs recorded yet\n', stderr: '' });
      assert.equal(cli('runs', '--json').stdout, '[]\n');
      const show = cli('show', 'some-run');
      assert.equal(show.code, 2);
      assert.equal(show.stderr, `oktell-emu: no run some-run: no runs recorded in ${empty} yet (no oktell.sqlite there)\n`);
      assert.equal(cli('replay', '--status', 'dead').stdout, 'nothing to replay: no dead job (nor any failed one)\n');
      assert.equal(cli('replay', 'some-run').code, 2);
      const tasks = cli('tasks');
      assert.equal(tasks.code, 0, tasks.stderr);
      assert.match(tasks.stdout, /^report .*\n {2}last run: never run\n/);
      assert.match(cli('outbox').stdout, /is empty: no letters stored yet/);
      assert.deepEqual(readdirSync(empty), [], 'reading created no file');

      const queued = cli('tasks', 'run', 'report');
      assert.equal(queued.code, 0, queued.stderr);
      assert.ok(existsSync(join(empty, 'oktell.sqlite')), 'tasks run creates the store the server will read');
      assert.match(cli('tasks').stdout, /last run: queued, manual run queued/);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('oktell-emu runs and replay: a --status that is not one of theirs', () => {
  // Data-driven: the value, the command, and the line it must print (exit 2), before any store is opened.
  const cases: Array<{ args: string[]; says: string }> = [
    { args: ['runs', '--status', 'faild'], says: 'oktell-emu: --status faild: did you mean failed? it takes running, completed, failed, dead or queued\n' },
    { args: ['runs', '--status', 'whatever'], says: 'oktell-emu: --status whatever: it takes running, completed, failed, dead or queued\n' },
    { args: ['replay', '--status', 'daed'], says: 'oktell-emu: --status daed: did you mean dead? it takes dead, failed or queued\n' },
    { args: ['replay', '--status', 'completed'], says: 'oktell-emu: --status completed: it takes dead, failed or queued\n' },
  ];
  for (const c of cases) {
    it(`${c.args.join(' ')}`, () => {
      const tmp = tempDir();
      try {
        const r = runCli([...c.args, '--data-dir', join(tmp.dir, 'data')], { cwd: tmp.dir, unset: ['OKTELL_STORE'] });
        assert.equal(r.code, 2, r.stderr);
        assert.equal(r.stderr, c.says);
      } finally {
        tmp.cleanup();
      }
    });
  }
});
