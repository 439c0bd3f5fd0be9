// A data folder that the command's user may not read (trial 62, CLI from scripts, finding 1): the server's folder is
// mode 700, its user's, and a cron job or CI runner running `oktell-emu runs` as another user was answered as if the
// folder were empty: `no runs recorded yet`, `runs --status dead --json` `[]`, `replay --status dead` `nothing to
// replay`, all with exit 0, so a monitoring script saw no dead letters; `show`, `backup`, `webhook send` and `demo`
// gave a wrong reason (no store, no generated user, no server running). A store file the user may not open (the
// folder open to others, the file mode 600) ended in the driver's SQLITE_CANTOPEN stack. Each is now one line naming
// the folder (or file), the user, the owner and mode, exit 2 (`E_FILE` with --json). Run as the user nobody on a
// folder root owns, so it needs root.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoPath, tempDir } from '../helpers.js';
import { cannotRunAsNobody, runCli } from './cli.helper.js';

const TASKS = 'serviceTasks:\n  - { name: report, scenario: DailyReport, cron: "0 9 * * *", timeZone: UTC }\n';
const NOBODY = 65534;

describe('oktell-emu run by a user who may not read the data folder', { skip: cannotRunAsNobody() }, () => {
  it('every command that reads the folder says so in one line, exit 2, instead of an empty answer', () => {
    const tmp = tempDir();
    try {
      chmodSync(tmp.dir, 0o755);
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), TASKS);
      const data = join(tmp.dir, 'var');
      const env = { OKTELL_SCENARIOS: repoPath('scenarios') };
      // As root (the server's user here): a store with one queued job and one cancelled, in a folder of mode 700.
      const asRoot = (...args: string[]) => runCli([...args, '--data-dir', data], { cwd: tmp.dir, env, unset: ['OKTELL_STORE'] });
      assert.equal(asRoot('tasks', 'run', 'report').code, 0);
      assert.equal(asRoot('tasks', 'run', 'report').code, 0);
      assert.equal(asRoot('cancel', '--status', 'queued').code, 0);
      assert.equal(asRoot('tasks', 'run', 'report').code, 0);
      assert.equal(asRoot('runs', '--status', 'dead', '--json').stdout.startsWith('[{'), true);

      const line = `cannot read the data folder ${data}: permission denied (EACCES) for the user nobody (the folder belongs to uid 0, mode 700); run the command as the user the server runs as (sudo -u <that user> npx oktell-emu …), or check the path (--data-dir, OKTELL_DATA_DIR, dataDir: of the configuration file)`;
      const asNobody = (...args: string[]) => runCli([...args, '--data-dir', data], { cwd: tmp.dir, env, unset: ['OKTELL_STORE'], uid: NOBODY });
      const commands = [
        ['runs'],
        ['runs', '--status', 'dead'],
        ['show', '01m97jdshb6g3m6ph1qse1qsb3'],
        ['replay', '--status', 'dead'],
        ['cancel', '--status', 'queued'],
        ['tasks'],
        ['tasks', 'run', 'report'],
        ['outbox'],
        ['backup', join(tmp.dir, 'copy.sqlite')],
        ['webhook', 'send', '/Bpium/NewTask', repoPath('scenarios', 'tests', 'webhooks', 'two-responsible.json')],
        ['demo'],
        ['validate'],
      ];
      for (const args of commands) {
        const r = asNobody(...args);
        assert.deepEqual(r, { code: 2, stdout: '', stderr: `oktell-emu: ${line}\n` }, args.join(' '));
      }
      // With --json: the one JSON object on stdout, nothing on stderr.
      for (const args of [['runs', '--status', 'dead', '--json'], ['replay', '--status', 'dead', '--json'], ['cancel', '--status', 'queued', '--json']]) {
        const r = asNobody(...args);
        assert.equal(r.code, 2, args.join(' '));
        assert.equal(r.stderr, '', args.join(' '));
        assert.deepEqual(JSON.parse(r.stdout), { status: 'failed', error: { code: 'E_FILE', message: line } }, args.join(' '));
      }
      // A folder above it that may not be entered: the same, with that said.
      chmodSync(tmp.dir, 0o700);
      const above = runCli(['runs', '--data-dir', data], { cwd: '/', env, unset: ['OKTELL_STORE'], uid: NOBODY });
      assert.equal(above.code, 2);
      assert.equal(above.stdout, '');
      assert.match(above.stderr, new RegExp(`^oktell-emu: cannot read the data folder ${data}: permission denied \\(EACCES\\) for the user nobody \\(a folder on its path may not be entered\\); `));
      chmodSync(tmp.dir, 0o755);
      // Nothing was changed by the refused commands: the queued job is still queued, the dead letter still dead.
      const queued = JSON.parse(asRoot('runs', '--status', 'queued', '--json').stdout) as unknown[];
      const dead = JSON.parse(asRoot('runs', '--status', 'dead', '--json').stdout) as unknown[];
      assert.deepEqual([queued.length, dead.length], [1, 2]);
    } finally {
      tmp.cleanup();
    }
  });

  it('a store file the user may not open, in a folder it may enter: one line, not the driver\'s stack', () => {
    const tmp = tempDir();
    try {
      chmodSync(tmp.dir, 0o755);
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), TASKS);
      const data = join(tmp.dir, 'var');
      mkdirSync(data, { mode: 0o755 });
      chmodSync(data, 0o755);
      const env = { OKTELL_SCENARIOS: repoPath('scenarios') };
      assert.equal(runCli(['tasks', 'run', 'report', '--data-dir', data], { cwd: tmp.dir, env, unset: ['OKTELL_STORE'] }).code, 0);
      const file = join(data, 'oktell.sqlite');
      chmodSync(file, 0o600);
      const line = `cannot open the store ${file}: permission denied (EACCES) for the user nobody (the file belongs to uid 0, mode 600); run the command as the user the server runs as (sudo -u <that user> npx oktell-emu …), or check the path (--data-dir, OKTELL_DATA_DIR, dataDir: of the configuration file)`;
      for (const args of [['runs'], ['show', '01m97jdshb6g3m6ph1qse1qsb3'], ['replay', '--status', 'dead']]) {
        const r = runCli([...args, '--data-dir', data], { cwd: tmp.dir, env, unset: ['OKTELL_STORE'], uid: NOBODY });
        assert.deepEqual(r, { code: 2, stdout: '', stderr: `oktell-emu: ${line}\n` }, args.join(' '));
      }
      const json = runCli(['runs', '--json', '--data-dir', data], { cwd: tmp.dir, env, unset: ['OKTELL_STORE'], uid: NOBODY });
      assert.deepEqual({ code: json.code, stderr: json.stderr, out: JSON.parse(json.stdout) as unknown }, { code: 2, stderr: '', out: { status: 'failed', error: { code: 'E_FILE', message: line } } });
    } finally {
      tmp.cleanup();
    }
  });
});
