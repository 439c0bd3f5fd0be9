// A write refused for the user's disk quota (EDQUOT) is not a full disk: the disk may have room, so `df -h` shows
// nothing and "free space there" is the wrong advice. This kernel's tmpfs and ext4 have no quotas, so the real binary
// is started with a preload (node --import) that makes one file-system call fail as a quota makes it fail, with the
// same errno, code and syscall; the command's own code does the rest. The same preload makes `backup` fail after its
// copy is in place, which must not be said as "no copy was kept".
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { runCli } from './cli.helper.js';
import { repoPath, tempDir } from '../helpers.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';

/**
 * A preload that makes `fs[call]` throw `code` (with the errno, syscall and path Node gives it) for a path that
 * `match` (a regular expression's source) matches; other calls go through.
 */
function failingCall(dir: string, call: 'openSync' | 'statSync' | 'promises.writeFile', match: string, code: 'EDQUOT' | 'EIO', syscall: string): string {
  const file = join(dir, `fail-${call}.mjs`);
  const [module, name] = call === 'promises.writeFile' ? ['node:fs/promises', 'writeFile'] : ['node:fs', call];
  const errno = code === 'EDQUOT' ? -122 : -5;
  const words = code === 'EDQUOT' ? 'disk quota exceeded' : 'i/o error';
  writeFileSync(
    file,
    `import fs from '${module}';
import { syncBuiltinESMExports } from 'node:module';
const real = fs.${name};
const match = new RegExp(${JSON.stringify(match)});
fs.${name} = function (path, ...rest) {
  if (typeof path === 'string' && match.test(path)) {
    const e = Object.assign(new Error(${JSON.stringify(`${code}: ${words}, ${syscall} '`)} + path + "'"), { errno: ${errno}, code: ${JSON.stringify(code)}, syscall: ${JSON.stringify(syscall)}, path });
    ${call === 'promises.writeFile' ? 'return Promise.reject(e);' : 'throw e;'}
  }
  return real.call(this, path, ...rest);
};
syncBuiltinESMExports();
`,
  );
  return pathToFileURL(file).href;
}

/** A data folder with a store holding one queued job. */
async function dataFolder(root: string): Promise<string> {
  const data = join(root, 'var');
  mkdirSync(data, { mode: 0o700 });
  const store = await openSqliteStore({ file: join(data, 'oktell.sqlite') });
  await store.enqueueJobs([{ scenario: 'Echo', params: {} }]);
  await store.close();
  return data;
}

const noStack = (stderr: string) => assert.doesNotMatch(stderr, /\n\s+at |Node\.js v/, `no stack trace:\n${stderr}`);

describe('a disk quota, and a backup whose copy is in place, in the commands’ words', () => {
  it('backup whose copy the quota refuses: says the quota is exceeded (not that the disk is full, not df), exit 1, nothing left', { timeout: 60_000 }, async () => {
    const tmp = tempDir('oktell-quota-');
    try {
      const data = await dataFolder(tmp.dir);
      const out = join(tmp.dir, 'copies');
      mkdirSync(out);
      const target = join(out, 'copy.sqlite');
      const preload = failingCall(tmp.dir, 'openSync', '\\.partial-\\d+$', 'EDQUOT', 'open');
      const r = runCli(['backup', target, '--data-dir', data], { env: { NODE_OPTIONS: `--import=${preload}` } });
      assert.equal(r.code, 1, r.stderr);
      noStack(r.stderr);
      const line = r.stderr.trim();
      assert.match(line, new RegExp(`^oktell-emu: cannot write the copy ${target}: EDQUOT: disk quota exceeded, open '${out}/\\.copy\\.sqlite\\.partial-\\d+' \\(EDQUOT\\): the disk quota of this user is exceeded on the disk holding ${out}: free some of this user's files on that disk or have its quota raised \\(quota -s shows it; df does not\\) or back up to another disk; no copy was kept$`));
      assert.doesNotMatch(line, /is full|df -h/);
      assert.deepEqual(readdirSync(out), []);
    } finally {
      tmp.cleanup();
    }
  });

  it('graph -o into a folder whose quota is used up: the quota, not free space (df)', { timeout: 60_000 }, () => {
    const tmp = tempDir('oktell-quota-');
    try {
      const out = join(tmp.dir, 'diagram.mmd');
      const preload = failingCall(tmp.dir, 'promises.writeFile', 'diagram\\.mmd$', 'EDQUOT', 'open');
      const r = runCli(['graph', repoPath('scenarios', 'HTTP404.yaml'), '-o', out], { env: { NODE_OPTIONS: `--import=${preload}` } });
      assert.equal(r.code, 1, r.stderr);
      noStack(r.stderr);
      assert.equal(r.stderr.trim(), `oktell-emu: cannot open ${out}: this user's disk quota is exceeded (EDQUOT): free some of this user's files on that disk or have its quota raised (quota -s shows it; df does not) and try again`);
    } finally {
      tmp.cleanup();
    }
  });

  it('backup that fails after its copy is renamed into place: says the copy is kept, and it is there', { timeout: 60_000 }, async () => {
    const tmp = tempDir('oktell-kept-copy-');
    try {
      const data = await dataFolder(tmp.dir);
      const target = join(tmp.dir, 'copy.sqlite');
      // The size read after the rename is the first call on the target's own name (the checks before it test whether it exists).
      const preload = failingCall(tmp.dir, 'statSync', '/copy\\.sqlite$', 'EIO', 'stat');
      const r = runCli(['backup', target, '--data-dir', data], { env: { NODE_OPTIONS: `--import=${preload}` } });
      assert.equal(r.code, 1, r.stderr);
      noStack(r.stderr);
      assert.equal(existsSync(target), true, 'the copy is in place');
      assert.equal(r.stderr.trim(), `oktell-emu: the copy ${target} is in place (written, synced, quick_check ok), but it could not be reported on: EIO: i/o error, stat '${target}'; the copy is kept (ls -l ${target})`);
      assert.doesNotMatch(r.stderr, /no copy was kept/);
    } finally {
      tmp.cleanup();
    }
  });
});
