// The secrets and the generated user the server keeps in its data folder are made once, whoever makes them: a
// `webhook send` and a starting `serve` (or two commands) that make the same secret at the same moment must end up
// with one secret between them, the one on disk; an empty file an earlier start left is replaced; a link put in the
// file's place is never written through. Real processes on a real folder.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { generatedUser, persistentSecret } from '../../server/credentials.js';
import { repoPath, tempDir } from '../helpers.js';

const CREDENTIALS = pathToFileURL(repoPath('dist', 'server', 'credentials.js')).href;

/** What `persistentSecret` (or `generatedUser`'s password) returns in each of `n` processes started together. */
async function madeTogether(dir: string, n: number, call: 'secret' | 'user'): Promise<string[]> {
  const code = `const c = await import(${JSON.stringify(CREDENTIALS)}); await new Promise((r) => setTimeout(r, Number(process.argv[1]) - Date.now()));
process.stdout.write(${call === 'secret' ? `c.persistentSecret(${JSON.stringify(dir)}, 'shared-secret')` : `c.generatedUser(${JSON.stringify(dir)}).user.password`});`;
  const at = String(Date.now() + 700);
  return Promise.all(
    Array.from({ length: n }, () => new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', code, at], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      child.on('close', (status) => (status === 0 ? resolve(out) : reject(new Error(`exit ${status}: ${err}`))));
    })),
  );
}

describe('secrets and the generated user are made once', () => {
  for (const call of ['secret', 'user'] as const) {
    it(`${call}: six processes making it at the same moment all use the one on disk`, { timeout: 60_000 }, async () => {
      for (let round = 0; round < 3; round++) {
        const tmp = tempDir('oktell-once-');
        try {
          const got = await madeTogether(tmp.dir, 6, call);
          const onDisk = call === 'secret' ? readFileSync(join(tmp.dir, 'shared-secret'), 'utf8').trim() : (JSON.parse(readFileSync(join(tmp.dir, 'server-user.json'), 'utf8')) as { password: string }).password;
          assert.deepEqual(got, got.map(() => onDisk), `round ${round + 1}`);
        } finally {
          tmp.cleanup();
        }
      }
    });
  }

  it('an empty file an earlier start left is replaced; a kept one is used as it is', () => {
    const tmp = tempDir('oktell-once-');
    try {
      writeFileSync(join(tmp.dir, 'shared-secret'), '');
      const made = persistentSecret(tmp.dir, 'shared-secret');
      assert.match(made, /^[\w-]{32}$/);
      assert.equal(readFileSync(join(tmp.dir, 'shared-secret'), 'utf8'), `${made}\n`);
      assert.equal(persistentSecret(tmp.dir, 'shared-secret'), made);
      writeFileSync(join(tmp.dir, 'server-user.json'), '{}');
      const user = generatedUser(tmp.dir);
      assert.equal(user.created, true);
      assert.deepEqual(generatedUser(tmp.dir), { ...user, created: false });
    } finally {
      tmp.cleanup();
    }
  });

  it('a dangling link in the place of the file is replaced by the file, not written through', () => {
    const tmp = tempDir('oktell-once-');
    try {
      const target = join(tmp.dir, 'elsewhere');
      symlinkSync(target, join(tmp.dir, 'shared-secret'));
      const made = persistentSecret(tmp.dir, 'shared-secret');
      assert.equal(existsSync(target), false, 'nothing was written where the link points');
      assert.ok(lstatSync(join(tmp.dir, 'shared-secret')).isFile(), 'the link was replaced by the file itself');
      assert.equal(readFileSync(join(tmp.dir, 'shared-secret'), 'utf8'), `${made}\n`);
    } finally {
      tmp.cleanup();
    }
  });
});
