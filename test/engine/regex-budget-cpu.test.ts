// The regex budget counts the CPU time the searches use, not time on the clock: a server that waits for a core on a
// busy machine (here: paused with SIGSTOP in the middle of a long extraction) must not see a cheap extraction fail.
// A child process makes the extraction, so that only it is paused.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { repoPath } from '../helpers.js';

const pattern = pathToFileURL(repoPath('dist', 'components', 're2-pattern.js')).href;

// 400,000 matches: about a second of CPU here, long enough for a pause that starts 50 ms in to fall inside it, and
// well within a budget of 4 s of CPU. It says when it starts, and prints what allMatches gave and how long it took.
const CHILD = `
import { allMatches, compilePattern } from ${JSON.stringify(pattern)};
const c = compilePattern('(\\\\d)', '');
const text = '1 '.repeat(400000);
allMatches(c.re, '1 2 3', 1, Infinity, 4000);
const t0 = performance.now();
process.stdout.write('start\\n');
const r = allMatches(c.re, text, 1, Infinity, 4000);
process.stdout.write(JSON.stringify({ done: r.done, n: r.done ? r.values.length : r.found, wallMs: Math.round(performance.now() - t0) }) + '\\n');
`;

it('an extraction paused longer than its budget, using little CPU, still gives every match', { timeout: 60_000 }, async () => {
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let paused = false;
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    if (!paused && out.includes('start\n')) {
      paused = true;
      // Paused 50 ms into the extraction for 4.5 s, more than the 4 s budget, then let go.
      setTimeout(() => {
        child.kill('SIGSTOP');
        setTimeout(() => child.kill('SIGCONT'), 4500);
      }, 50);
    }
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 0);
  const result = JSON.parse(out.split('\n')[1]!) as { done: boolean; n: number; wallMs: number };
  assert.ok(result.wallMs > 4500, `the pause fell inside the extraction (took ${result.wallMs} ms on the clock)`);
  assert.deepEqual({ done: result.done, n: result.n }, { done: true, n: 400000 });
});
