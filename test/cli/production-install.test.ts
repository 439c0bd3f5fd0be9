// A production install without the development dependencies (trial 53, deploy, finding 1): `npm ci --omit=dev` in a
// clone runs the package's `prepare` step, which compiles the TypeScript, and TypeScript is a development dependency.
// It stopped with npm's `sh: 1: tsc: not found` (exit 127) and nothing else. The step now says what is missing and
// gives the install that works; a dist/ built before the development dependencies were pruned (`npm ci && npm prune
// --omit=dev`) is used as it is, so `npx oktell-emu` works there too (it ran prepare and failed: exit 127, silently),
// unless a source changed since (a `git pull`). Run here as npm runs it: the package's own `prepare` command, by sh,
// in a folder whose node_modules has no TypeScript.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { repoPath, tempDir } from '../helpers.js';

describe('npm ci --omit=dev in a clone', () => {
  /** A folder as `npm ci --omit=dev` leaves a clone (no TypeScript), with `cli/main.ts`; `prepare()` runs the step. */
  function omitDevClone(): { dir: string; cleanup(): void; prepare(): { status: number | null; stderr: string } } {
    const tmp = tempDir();
    const pkg = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { scripts: Record<string, string> };
    cpSync(repoPath('package.json'), join(tmp.dir, 'package.json'));
    cpSync(repoPath('tsconfig.json'), join(tmp.dir, 'tsconfig.json'));
    cpSync(repoPath('scripts'), join(tmp.dir, 'scripts'), { recursive: true });
    mkdirSync(join(tmp.dir, 'node_modules', '.bin'), { recursive: true }); // what --omit=dev leaves: no typescript
    mkdirSync(join(tmp.dir, 'cli'));
    writeFileSync(join(tmp.dir, 'cli', 'main.ts'), 'export {};\n');
    // npm puts node_modules/.bin first on the PATH, and node's own folder.
    const PATH = [join(tmp.dir, 'node_modules', '.bin'), dirname(process.execPath), '/usr/bin', '/bin'].join(':');
    const prepare = () => spawnSync('sh', ['-c', pkg.scripts['prepare']!], { cwd: tmp.dir, env: { PATH }, encoding: 'utf8' });
    return { ...tmp, prepare };
  }

  function built(dir: string, ageSeconds: number): void {
    mkdirSync(join(dir, 'dist', 'cli'), { recursive: true });
    writeFileSync(join(dir, 'dist', 'cli', 'main.js'), 'export {};\n');
    const at = Date.now() / 1000 + ageSeconds;
    utimesSync(join(dir, 'dist', 'cli', 'main.js'), at, at);
  }

  it('with no dist/: the prepare step says TypeScript is missing and gives the production install, instead of "tsc: not found"', () => {
    const clone = omitDevClone();
    try {
      const r = clone.prepare();
      assert.notEqual(r.status, 0);
      assert.doesNotMatch(r.stderr, /not found/);
      assert.match(r.stderr, /^oktell-emu: cannot build dist\/: TypeScript is not installed \(it is a development dependency, left out by --omit=dev or NODE_ENV=production\)\.\n/);
      assert.match(r.stderr, /\n {2}npm ci && npm prune --omit=dev\n/);
    } finally {
      clone.cleanup();
    }
  });

  it('with a dist/ newer than the sources (built, then pruned): nothing to do, exit 0, so npx oktell-emu works', () => {
    const clone = omitDevClone();
    try {
      built(clone.dir, 60);
      const r = clone.prepare();
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, '');
    } finally {
      clone.cleanup();
    }
  });

  it('with a dist/ older than a source (git pull since the build): refused, naming the stale dist/', () => {
    const clone = omitDevClone();
    try {
      built(clone.dir, -60);
      const r = clone.prepare();
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /^oktell-emu: cannot build dist\/: TypeScript is not installed .*, and dist\/ is older than the sources\.\n/);
    } finally {
      clone.cleanup();
    }
  });
});
