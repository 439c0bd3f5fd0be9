#!/usr/bin/env node
// npm's `prepare` step (`npm install` or `npm ci` in a clone, and the first `npx oktell-emu` there): compiles the
// TypeScript into dist/. TypeScript is a development dependency, so an install that leaves those out
// (`npm ci --omit=dev`, `npm prune --omit=dev`, NODE_ENV=production) cannot compile. Then a dist/ newer than every
// source file is used as it is (a production install built once: `npm ci && npm prune --omit=dev`); with none, or an
// older one (a `git pull` since), that is said in words with the install that works, instead of npm's
// `sh: 1: tsc: not found`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  const built = join(root, 'dist', 'cli', 'main.js');
  if (existsSync(built) && statSync(built).mtimeMs >= newestSource()) process.exit(0);
  process.stderr.write(
    `oktell-emu: cannot build dist/: TypeScript is not installed (it is a development dependency, left out by --omit=dev or NODE_ENV=production)${existsSync(built) ? ', and dist/ is older than the sources' : ''}.\n` +
      'For a production install, build with every dependency, then remove the development ones:\n' +
      '  npm ci && npm prune --omit=dev\n' +
      'and after each upgrade (git pull) the same again (docs/server.md, "Installing on a server").\n',
  );
  process.exit(1);
}
const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);

/** The newest modification time of the TypeScript sources dist/ is compiled from (tsconfig.json's folders). */
function newestSource() {
  let newest = 0;
  for (const folder of ['engine', 'components', 'adapters', 'bpium-emulator', 'server', 'cli']) {
    const dir = join(root, folder);
    if (existsSync(dir)) newest = Math.max(newest, newestIn(dir));
  }
  return newest;
}

/** Walked by hand: readdirSync's `recursive` came with Node 20.1, and 20.0 (package.json: node >=20) ignores it. */
function newestIn(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestIn(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}
