#!/usr/bin/env node
// Entry point: runs the compiled CLI. Build first with `npm run build` (npm install does it through `prepare`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const main = join(root, 'dist', 'cli', 'main.js');
if (!existsSync(main)) {
  process.stderr.write('oktell-emu: the compiled CLI is missing (dist/cli/main.js). In a clone of the repository, run `npm install` or `npm run build` first.\n');
  process.exit(2);
}
const { main: run } = await import(main);
await run(process.argv);
