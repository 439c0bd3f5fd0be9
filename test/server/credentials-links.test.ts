// The secrets kept in the data folder (server-user.json, bpium-webhook-secret, console-csrf-secret) as root reads
// them. The folder's owner (a service's user, perhaps taken over) can put a symbolic link in a secret file's place,
// pointing at a file only root may read: root's `serve` took that file for its credentials and printed the login and
// password it held at the start. Run as root, a link there is refused with a message naming the file and the fix; any
// other user follows it as before. Runs only as root (ownership, a uid switch).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CONSOLE_SECRET_NAME, EMULATOR_SECRET_FILE, generatedUser, persistentSecret } from '../../server/credentials.js';
import { repoPath, repoRoot, tempDir } from '../helpers.js';
import { runCli } from '../cli/cli.helper.js';

const SERVICE_UID = 65534; // nobody
const SERVICE_GID = 65534;
const asRoot = process.getuid?.() === 0;

/** A data folder of the service's user, and beside it a folder only root may read, holding `file` with `text`. */
function folders(tmp: string, file: string, text: string): { data: string; precious: string } {
  chmodSync(tmp, 0o755);
  const data = join(tmp, 'lib');
  mkdirSync(data, { mode: 0o700 });
  chownSync(data, SERVICE_UID, SERVICE_GID);
  const rootOnly = join(tmp, 'root');
  mkdirSync(rootOnly, { mode: 0o700 });
  const precious = join(rootOnly, file);
  writeFileSync(precious, text, { mode: 0o600 });
  return { data, precious };
}

describe('root reading a kept secret that is a symbolic link', { skip: asRoot ? false : 'needs root (chown, a uid switch): run the suite as root to check this' }, () => {
  it('server-user.json as a link to a root-only file: refused, naming the file and the fix; its content not used', () => {
    const tmp = tempDir();
    try {
      const { data, precious } = folders(tmp.dir, 'admin.json', '{"login":"root-admin","password":"root-only-password"}\n');
      const file = join(data, 'server-user.json');
      symlinkSync(precious, file);
      assert.throws(
        () => generatedUser(data),
        (e: Error) => {
          assert.match(e.message, new RegExp(`^the file of the generated login ${file} is a symbolic link \\(to ${precious}\\): oktell-emu running as root does not follow it`));
          assert.match(e.message, /Fix: replace the link with the file itself, or remove it \(a new login and password are generated/);
          assert.doesNotMatch(e.message, /root-only-password/);
          return true;
        },
      );
      assert.equal(readFileSync(precious, 'utf8'), '{"login":"root-admin","password":"root-only-password"}\n', 'the linked file is left as it was');
      // What the administrator sees: `serve` stops at the start with that one line (no stack), exit 2.
      const serve = runCli(['serve', '-d', data, '--bpium-emulator-port', '0'], { env: { OKTELL_USERS: '', OKTELL_PORT: '0' }, unset: ['OKTELL_STORE'], timeoutMs: 20_000 });
      assert.equal(serve.code, 2, serve.stdout + serve.stderr);
      assert.match(serve.stderr, new RegExp(`^oktell-emu: the file of the generated login ${file} is a symbolic link`));
      assert.doesNotMatch(serve.stdout + serve.stderr, /root-only-password|\n\s+at /);
    } finally {
      tmp.cleanup();
    }
  });

  it('the webhook and console secrets as links: refused the same way', () => {
    for (const name of [EMULATOR_SECRET_FILE, CONSOLE_SECRET_NAME]) {
      const tmp = tempDir();
      try {
        const { data, precious } = folders(tmp.dir, 'token', 'root-only-token\n');
        const file = join(data, name);
        symlinkSync(precious, file);
        assert.throws(() => persistentSecret(data, name), new RegExp(`^RefusedLinkError: the secret file ${file} is a symbolic link \\(to ${precious}\\).*Fix: replace the link with the file itself, or remove it`));
      } finally {
        tmp.cleanup();
      }
    }
  });

  it('a kept file that is no link is read as ever; the service\'s own user follows a link as before', () => {
    const tmp = tempDir();
    try {
      const { data } = folders(tmp.dir, 'unused', '');
      writeFileSync(join(data, 'server-user.json'), '{"login":"kept","password":"kept-password"}\n', { mode: 0o600 });
      assert.deepEqual(generatedUser(data), { user: { login: 'kept', password: 'kept-password' }, file: join(data, 'server-user.json'), created: false });

      // The service's user: a link to a file of its own is followed (a secret kept on another volume).
      const own = join(tmp.dir, 'own-secret');
      writeFileSync(own, 'service-token\n', { mode: 0o600 });
      chownSync(own, SERVICE_UID, SERVICE_GID);
      symlinkSync(own, join(data, EMULATOR_SECRET_FILE));
      const script = `const { persistentSecret } = await import(${JSON.stringify(repoPath('dist', 'server', 'credentials.js'))});
        process.stdout.write(persistentSecret(${JSON.stringify(data)}, ${JSON.stringify(EMULATOR_SECRET_FILE)}));`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8', uid: SERVICE_UID, gid: SERVICE_GID });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, 'service-token');
    } finally {
      tmp.cleanup();
    }
  });
});
