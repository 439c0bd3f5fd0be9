// An administrator runs oktell-emu as root on the data folder of a service that runs as its own user (trial 53,
// deploy, finding 2). What root's commands create there must stay the service's: a live `run` wrote its letters into
// the outbox as root, mode 600, and from then on the service's console answered 500 on its outbox page and
// `oktell-emu outbox` run as the service's user stopped at `cannot open …eml: permission denied`. Now every file and
// folder a command makes in a folder root does not own is given to that folder's owner, as SQLite does for its -wal
// and -shm. Runs only as root (it needs chown); says so otherwise.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, chmodSync, chownSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { giveToFolderOwner } from '../../adapters/private-file.js';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoPath, repoRoot, tempDir } from '../helpers.js';
import { cliEnvironment, runCli } from './cli.helper.js';
import { startServeProcess } from './cli-process.js';

const SERVICE_UID = 65534; // nobody: any user other than root
const SERVICE_GID = 65534;
const asRoot = process.getuid?.() === 0;

/** `path uid` for everything under `dir`, the root-owned ones only. */
function ownedByOthers(dir: string): string[] {
  const out: string[] = [];
  for (const name of ['.', ...(readdirSync(dir, { recursive: true }) as string[])]) {
    const uid = statSync(join(dir, name)).uid;
    if (uid !== SERVICE_UID) out.push(`${name} uid ${uid}`);
  }
  return out;
}

/** A data folder of the service's user in `dir`, and beside it a file only root may read (what a link would reach). */
function serviceFolderBesideRootFile(dir: string): { data: string; precious: string } {
  const data = join(dir, 'lib');
  mkdirSync(data, { mode: 0o700 });
  chownSync(data, SERVICE_UID, SERVICE_GID);
  const precious = join(dir, 'shadow');
  writeFileSync(precious, 'root only\n', { mode: 0o600 });
  return { data, precious };
}

describe('root commands on a service user\'s data folder leave its files to that user', { skip: asRoot ? false : 'needs root (chown): run the suite as root to check this' }, () => {
  it('a live run as root: letters, the store and main.sqlite belong to the folder\'s owner, who can read the outbox', () => {
    const tmp = tempDir();
    try {
      chmodSync(tmp.dir, 0o755); // the service's user reaches its folder
      const data = join(tmp.dir, 'lib');
      mkdirSync(data, { mode: 0o700 });
      chownSync(data, SERVICE_UID, SERVICE_GID);
      const mail = runCli(['run', 'BpiumNewTask', '-d', data, '-p', `1=@${repoPath('scenarios', 'tests', 'webhooks', 'two-responsible.json')}`, '--bpium-fixtures', repoPath('scenarios', 'tests', 'bpium-users.yaml')], { unset: ['OKTELL_STORE'] });
      assert.equal(mail.code, 0, mail.stderr);
      const db = runCli(['run', 'RecordNotification', '-d', data, '-p', '1=1', '-p', '2=2', '-p', '3=a@b.ru'], { unset: ['OKTELL_STORE'] });
      assert.equal(db.code, 0, db.stderr);
      const names = readdirSync(data, { recursive: true }) as string[];
      for (const name of ['oktell.sqlite', 'main.sqlite', 'outbox']) assert.ok(names.includes(name), `${name}: ${names.join(', ')}`);
      assert.ok(names.some((n) => n.endsWith('.eml')), names.join(', '));
      assert.deepEqual(ownedByOthers(data), []);
      // What the service's user sees: the letters root's run wrote.
      const outbox = spawnSync(process.execPath, [repoPath('bin', 'oktell-emu.js'), 'outbox', '-d', data], { cwd: repoRoot, env: cliEnvironment({}, ['OKTELL_STORE']), encoding: 'utf8', uid: SERVICE_UID, gid: SERVICE_GID });
      assert.equal(outbox.status, 0, outbox.stderr);
      assert.match(outbox.stdout, /ivan\.petrov@example\.com/);
    } finally {
      tmp.cleanup();
    }
  });

  it('serve started as root on the folder: credentials, secrets, the stores and serve.json belong to its owner', { timeout: 90_000 }, async () => {
    const tmp = tempDir();
    try {
      chmodSync(tmp.dir, 0o755);
      const data = join(tmp.dir, 'lib');
      mkdirSync(data, { mode: 0o700 });
      chownSync(data, SERVICE_UID, SERVICE_GID);
      const serve = await startServeProcess({ dataDir: data, env: { OKTELL_USERS: '' } });
      try {
        const demo = runCli(['demo', '--data-dir', data], { timeoutMs: 60_000 });
        assert.equal(demo.code, 0, demo.stderr);
        const names = readdirSync(data, { recursive: true }) as string[];
        for (const name of ['server-user.json', 'bpium-webhook-secret', 'bpium-emulator.sqlite', 'serve.json', 'serve.lock', 'oktell.sqlite', 'main.sqlite', 'outbox']) {
          assert.ok(names.includes(name), `${name}: ${names.join(', ')}`);
        }
        assert.deepEqual(ownedByOthers(data), []);
      } finally {
        await serve.stop();
      }
      assert.deepEqual(ownedByOthers(data), []);
    } finally {
      tmp.cleanup();
    }
  });

  // The folder's owner (the service's user, perhaps taken over) can put a link in the place of a file root has just
  // made, before root gives it away: root must give the link, never what it points to (here a root file outside).
  it('a link put in the place of a file root made: the link is given, not the file it points to', () => {
    const tmp = tempDir();
    try {
      const { data, precious } = serviceFolderBesideRootFile(tmp.dir);
      const link = join(data, 'server-user.json');
      symlinkSync(precious, link);
      giveToFolderOwner(link);
      assert.equal(statSync(precious).uid, 0, 'the file the link points to is still root\'s');
      assert.equal(lstatSync(link).uid, SERVICE_UID, 'the link itself is the folder owner\'s');
    } finally {
      tmp.cleanup();
    }
  });

  // A hard link is the file it links to: lchown on the path would give that file away. Where fs.protected_hardlinks
  // is 0 the folder's owner may link any file it can see, so root gives through the descriptor it made the file with.
  it('a hard link put in the place of a file root made: the file made is given, not the linked one', () => {
    const tmp = tempDir();
    try {
      const { data, precious } = serviceFolderBesideRootFile(tmp.dir);
      const made = join(data, 'serve.json.tmp');
      const fd = openSync(made, 'wx', 0o600);
      try {
        // What the folder's owner does between root's open and its chown: the file made is replaced by a hard link.
        unlinkSync(made);
        linkSync(precious, made);
        giveToFolderOwner(made, fd);
        assert.equal(statSync(precious).uid, 0, 'the file the hard link shares is still root\'s');
      } finally {
        closeSync(fd);
      }
    } finally {
      tmp.cleanup();
    }
  });
});
