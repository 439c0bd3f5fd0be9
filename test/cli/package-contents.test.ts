// What `npm pack` puts in the package, and that the packed files alone make a working oktell-emu: the compiled CLI
// and the files it reads at run time, without the tests, the benchmarks or anything of a data folder.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { repoPath, repoRoot, tempDir } from '../helpers.js';
import { cliEnvironment } from './cli.helper.js';
import { buildProgram } from '../../cli/main.js';
import { helpExamples } from '../../cli/help-examples.js';
import type { Command } from 'commander';

/** The paths `npm pack` would put in the tarball (scripts skipped: dist/ is the one this test run compiled). */
function packedFiles(): string[] {
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const [pack] = JSON.parse(r.stdout) as Array<{ files: Array<{ path: string }> }>;
  return pack!.files.map((f) => f.path);
}

describe('the npm package', () => {
  const files = packedFiles();

  it('holds the compiled CLI and its run-time files, not the tests, benchmarks, sources or data', () => {
    for (const f of ['bin/oktell-emu.js', 'dist/cli/main.js', 'dist/server/delivery/thread.js', 'dist/server/store/prune-checkpoints.worker.js', 'bpium-emulator/seed.yaml', 'server/console/views/layout.njk', 'server/console/assets/diagram.css', 'scenarios/HTTP404.yaml', 'README.md', 'LICENSE']) {
      assert.ok(files.includes(f), `${f} is packed`);
    }
    const unwanted = files.filter((f) => /^(test|bench|var|\.ci|dist\/test|dist\/bench)\//.test(f) || f.endsWith('.ts') || f.endsWith('.map'));
    assert.deepEqual(unwanted, []);
  });

  it('every file a --help example names is packed, so the example works in an installed package', () => {
    const paths = (c: Command, path: string): string[] => [path, ...c.commands.flatMap((sub) => paths(sub, path ? `${path} ${sub.name()}` : sub.name()))];
    const named = paths(buildProgram(), '')
      .flatMap((p) => helpExamples(p))
      .flatMap((line) => line.split(' '))
      // `-p 4=@file` reads a file; other words are files when they are a relative path with an extension.
      .map((word) => word.replace(/^\d+=@/, ''))
      .filter((word) => /^\w[\w.-]*\/[\w./-]+\.(json|ya?ml|eml)$/.test(word));
    assert.ok(named.length >= 4, `the examples name files: ${named.join(', ')}`);
    assert.deepEqual(named.filter((f) => !files.includes(f)), [], 'named by an example but not packed');
  });

  it('installed without the SQLite driver\'s build (its install script refused), a command says so in one line with the fix', () => {
    const tmp = tempDir();
    try {
      const root = join(tmp.dir, 'oktell-emulator');
      copyPacked(files, root);
      // The dependencies an install with --ignore-scripts brings: all of them, better-sqlite3 without its build/.
      const modules = join(root, 'node_modules');
      mkdirSync(modules);
      for (const name of readdirSync(repoPath('node_modules'))) {
        if (name !== 'better-sqlite3') symlinkSync(repoPath('node_modules', name), join(modules, name), 'dir');
      }
      for (const part of ['package.json', 'lib']) cpSync(repoPath('node_modules', 'better-sqlite3', part), join(modules, 'better-sqlite3', part), { recursive: true });
      assert.ok(!existsSync(join(modules, 'better-sqlite3', 'build')));
      const bin = join(root, 'bin', 'oktell-emu.js');
      const r = spawnSync(process.execPath, [bin, 'run', 'DailyReport', '-s', join(root, 'scenarios'), '-d', join(tmp.dir, 'var'), '--dry-run'], { cwd: tmp.dir, encoding: 'utf8', env: cliEnvironment() });
      assert.notEqual(r.status, 0);
      assert.equal(r.stderr, 'oktell-emu: the SQLite driver (better-sqlite3) is installed without its compiled part: its install script did not run (npm install --ignore-scripts, or npm refusing scripts not approved); run npm rebuild better-sqlite3 where oktell-emulator is installed\n');
    } finally {
      tmp.cleanup();
    }
  });

  it('the packed files alone run: --version, and a diagram drawn with the console stylesheet', () => {
    const tmp = tempDir();
    try {
      const root = join(tmp.dir, 'oktell-emulator');
      copyPacked(files, root);
      // The dependencies an install would bring.
      symlinkSync(repoPath('node_modules'), join(root, 'node_modules'), 'dir');
      const bin = join(root, 'bin', 'oktell-emu.js');
      const version = spawnSync(process.execPath, [bin, '--version'], { cwd: tmp.dir, encoding: 'utf8', env: cliEnvironment() });
      assert.equal(version.status, 0, version.stderr);
      assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
      const svg = spawnSync(process.execPath, [bin, 'graph', join(root, 'scenarios', 'HTTP404.yaml'), '--format', 'svg'], { cwd: tmp.dir, encoding: 'utf8', env: cliEnvironment() });
      assert.equal(svg.status, 0, svg.stderr);
      assert.match(svg.stdout, /<svg[\s\S]*<style>[\s\S]*<\/svg>/);
    } finally {
      tmp.cleanup();
    }
  });
});

/** The packed files, copied under `root` as an install would lay them out. */
function copyPacked(files: readonly string[], root: string): void {
  for (const f of files) {
    mkdirSync(dirname(join(root, f)), { recursive: true });
    copyFileSync(repoPath(f), join(root, f));
  }
}
