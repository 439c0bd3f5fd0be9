// The outbox of a service's data folder as root sees it. Its folder's owner (the service's user, perhaps taken over)
// can put a symbolic link where the outbox folder or a letter file should be, pointing at /etc or /root: root's server
// or command would write its letters there, or read a file only root may read and print it as a letter. Run as root,
// oktell-emu refuses such a link with why and what to do; any other user follows it as before (an outbox on another
// disk). And `oktell-emu outbox` lists the letters it can read when one file cannot be read, marking that one with why.
// The root cases run only as root, the other user's with a uid switch (as root-on-service-folder does).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createOutboxMailer } from '../../adapters/mail/outbox.adapter.js';
import { EffectError } from '../../engine/errors.js';
import { repoPath, repoRoot, tempDir } from '../helpers.js';
import { cliEnvironment, runCli } from './cli.helper.js';

const SERVICE_UID = 65534; // nobody: any user other than root
const SERVICE_GID = 65534;
const asRoot = process.getuid?.() === 0;

/** A letter as the outbox writes it, under an outbox file name for `n` (0-59 seconds past the minute). */
function letter(dir: string, n: number, subject: string): string {
  const name = `20261201-1200${String(n).padStart(2, '0')}-000-00000${n % 10}-0000000${n % 10}.eml`;
  writeFileSync(join(dir, name), `From: oktell@localhost\r\nTo: ivan${n}@example.com\r\nSubject: ${subject}\r\nMessage-ID: <m${n}@localhost>\r\n\r\nHello ${n}\r\n`, { mode: 0o600 });
  return name;
}

/** `oktell-emu …args` run as the service's user. */
function cliAsService(args: string[]) {
  return spawnSync(process.execPath, [repoPath('bin', 'oktell-emu.js'), ...args], { cwd: repoRoot, env: cliEnvironment({}, ['OKTELL_STORE']), encoding: 'utf8', uid: SERVICE_UID, gid: SERVICE_GID });
}

/** Everything under `dir`, owned by the service's user: a data folder, and beside it a folder only root may enter. */
function serviceFolders(tmp: string): { data: string; rootOnly: string } {
  chmodSync(tmp, 0o755);
  const data = join(tmp, 'lib');
  mkdirSync(join(data, 'outbox'), { recursive: true, mode: 0o700 });
  const rootOnly = join(tmp, 'root');
  mkdirSync(rootOnly, { mode: 0o700 });
  return { data, rootOnly };
}

function giveAway(...paths: string[]): void {
  for (const p of paths) chownSync(p, SERVICE_UID, SERVICE_GID);
}

describe('oktell-emu outbox with a letter it cannot read', () => {
  it('lists the others and marks the bad one with why (a folder in place of a letter file)', () => {
    const tmp = tempDir();
    try {
      const outbox = join(tmp.dir, 'outbox');
      mkdirSync(outbox);
      letter(outbox, 1, 'First letter');
      const folder = '20261201-120002-000-000002-00000002.eml';
      mkdirSync(join(outbox, folder));
      letter(outbox, 3, 'Last letter');
      const r = runCli(['outbox', '-d', tmp.dir], { unset: ['OKTELL_STORE'] });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /First letter/);
      assert.match(r.stdout, /Last letter/);
      assert.match(r.stdout, new RegExp(`\\(not read: see below\\)\\s+${folder}`));
      assert.match(r.stdout, new RegExp(`! ${folder} is a folder, not a letter file: move it out of the outbox`));
      assert.match(r.stdout, /3 letters in /);
      const json = runCli(['outbox', '-d', tmp.dir, '--json'], { unset: ['OKTELL_STORE'] });
      assert.equal(json.code, 0, json.stderr);
      const entries = JSON.parse(json.stdout) as Array<{ file: string; problem?: string }>;
      assert.deepEqual(entries.map((e) => e.problem ?? null), [null, 'a folder, not a letter file: move it out of the outbox', null]);
      const show = runCli(['outbox', 'show', folder, '-d', tmp.dir], { unset: ['OKTELL_STORE'] });
      assert.equal(show.code, 2);
      assert.match(show.stderr, new RegExp(`the letter .*${folder} is a folder, not a letter file`));
    } finally {
      tmp.cleanup();
    }
  });
});

describe('root and symbolic links in a service\'s outbox', { skip: asRoot ? false : 'needs root (chown, a uid switch): run the suite as root to check this' }, () => {
  it('a letter root wrote is refused when the outbox is a link; the service\'s user writes through it as before', async () => {
    const tmp = tempDir();
    try {
      const { data, rootOnly } = serviceFolders(tmp.dir);
      const outbox = join(data, 'outbox');
      renameSync(outbox, join(data, 'was-outbox'));
      symlinkSync(rootOnly, outbox);
      giveAway(data, join(data, 'was-outbox'));
      const mailer = createOutboxMailer({ dir: outbox, from: 'oktell@localhost' });
      const sent = mailer.send({ to: ['ivan@example.com'], cc: [], bcc: [], subject: 'Тест', text: 'Привет' });
      await assert.rejects(sent, (e: unknown) => {
        assert.ok(e instanceof EffectError);
        assert.equal(e.kind, 'permanent');
        assert.equal(e.details.setting, true, 'a setting: the job waits as a dead letter to replay once fixed');
        assert.match(e.message, new RegExp(`the outbox ${outbox} is a symbolic link \\(to ${rootOnly}\\): oktell-emu running as root does not follow it`));
        assert.match(e.message, /Fix: make it a real folder/);
        return true;
      });
      assert.deepEqual(readdirSync(rootOnly), [], 'nothing written where the link points');

      // The service's user (not root): a link is followed, as ever; here to a folder of its own.
      const own = join(tmp.dir, 'own-outbox');
      mkdirSync(own);
      giveAway(own);
      renameSync(outbox, join(tmp.dir, 'old-link'));
      symlinkSync(own, outbox);
      const script = `const { createOutboxMailer } = await import(${JSON.stringify(repoPath('dist', 'adapters', 'mail', 'outbox.adapter.js'))});
        await createOutboxMailer({ dir: ${JSON.stringify(outbox)}, from: 'oktell@localhost' }).send({ to: ['ivan@example.com'], cc: [], bcc: [], subject: 'x', text: 'y' });`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8', uid: SERVICE_UID, gid: SERVICE_GID });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(readdirSync(own).filter((n) => n.endsWith('.eml')).length, 1);
    } finally {
      tmp.cleanup();
    }
  });

  it('oktell-emu outbox as root refuses an outbox that is a link, with why; the service\'s user lists it', () => {
    const tmp = tempDir();
    try {
      const { data } = serviceFolders(tmp.dir);
      const elsewhere = join(tmp.dir, 'elsewhere');
      mkdirSync(elsewhere);
      letter(elsewhere, 1, 'Behind the link');
      giveAway(data, elsewhere, join(elsewhere, readdirSync(elsewhere)[0]!));
      const outbox = join(data, 'outbox');
      renameSync(outbox, join(tmp.dir, 'was-outbox'));
      symlinkSync(elsewhere, outbox);
      for (const args of [['outbox', '-d', data], ['outbox', 'show', 'last', '-d', data]]) {
        const r = runCli(args, { unset: ['OKTELL_STORE'] });
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}`);
        assert.match(r.stderr, new RegExp(`the outbox ${outbox} is a symbolic link \\(to ${elsewhere}\\): oktell-emu running as root does not follow it`));
        assert.match(r.stderr, /run the command as the data folder's owner/);
        assert.doesNotMatch(r.stdout, /Behind the link|Hello 1/);
      }
      const listed = cliAsService(['outbox', '-d', data]);
      assert.equal(listed.status, 0, listed.stderr);
      assert.match(listed.stdout, /Behind the link/);
    } finally {
      tmp.cleanup();
    }
  });

  it('a letter that is a link to a root-only file: root lists the others and marks it, and does not show it', () => {
    const tmp = tempDir();
    try {
      const { data, rootOnly } = serviceFolders(tmp.dir);
      const outbox = join(data, 'outbox');
      const good = letter(outbox, 1, 'Readable letter');
      const secret = join(rootOnly, 'secret.eml');
      writeFileSync(secret, 'Subject: root only secret\r\n\r\nsecret body\r\n', { mode: 0o600 });
      const linked = '20261201-120002-000-000002-00000002.eml';
      symlinkSync(secret, join(outbox, linked));
      giveAway(data, outbox, join(outbox, good));
      const r = runCli(['outbox', '-d', data], { unset: ['OKTELL_STORE'] });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Readable letter/);
      assert.match(r.stdout, new RegExp(`! ${linked} is a symbolic link \\(to ${secret}\\): not followed while running as root`));
      assert.doesNotMatch(r.stdout, /root only secret/);
      for (const ref of ['last', linked, join(outbox, linked)]) {
        const show = runCli(['outbox', 'show', ref, '-d', data], { unset: ['OKTELL_STORE'] });
        assert.equal(show.code, 2, `${ref}: ${show.stdout}`);
        assert.match(show.stderr, /symbolic link/);
        assert.doesNotMatch(show.stdout + show.stderr, /root only secret|secret body/);
      }
    } finally {
      tmp.cleanup();
    }
  });

  it('the service\'s user lists its outbox when root left one letter it cannot read (mode 000, root\'s)', () => {
    const tmp = tempDir();
    try {
      const { data } = serviceFolders(tmp.dir);
      const outbox = join(data, 'outbox');
      const first = letter(outbox, 1, 'First letter');
      const locked = letter(outbox, 2, 'Root letter');
      chmodSync(join(outbox, locked), 0o000);
      const last = letter(outbox, 3, 'Last letter');
      giveAway(data, outbox, join(outbox, first), join(outbox, last));
      const r = cliAsService(['outbox', '-d', data]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /First letter/);
      assert.match(r.stdout, /Last letter/);
      assert.match(r.stdout, new RegExp(`! ${locked} is unreadable: permission denied \\(owner uid 0, mode 000\\); give it to the server's user, or remove it`));
    } finally {
      tmp.cleanup();
    }
  });
});
