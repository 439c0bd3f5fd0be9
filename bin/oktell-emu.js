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
// Colours are settled before the CLI (and picocolors, which reads the environment once, as it loads) is imported:
// FORCE_COLOR=0 or false means no colours, as in Node and most tools; --color and --no-color are taken by every
// command (picocolors reads them from process.argv) and left out of what the commands parse.
if (process.env.FORCE_COLOR === '0' || process.env.FORCE_COLOR === 'false') {
  delete process.env.FORCE_COLOR;
  process.env.NO_COLOR = '1';
}
const end = process.argv.indexOf('--');
const colorFlag = (arg, i) => (arg === '--color' || arg === '--no-color') && (end === -1 || i < end);
const { main: run } = await import(main);
await run(process.argv.filter((arg, i) => !colorFlag(arg, i)));
