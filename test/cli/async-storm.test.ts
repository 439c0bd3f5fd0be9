// Scenarios that start each other without end: the command-line run's guard stops them with its own code,
// R_ASYNC_LIMIT (it was reported as an internal error), and says so once at the end of the text output.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SHOWN_NESTING } from '../../cli/format.js';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

const FORK = `variables: { n: number }
blocks:
  inc: { kind: Variable, set: { n: '[n] + 1' }, exits: { next: j } }
  j: { kind: AsyncScenario, scenario: Fork, exits: { next: k } }
  k: { kind: AsyncScenario, scenario: Fork }
`;

type Run = { error?: { code: string; message: string }; asyncStarted: Array<{ result?: Run }> };

function codes(r: Run): string[] {
  return [...(r.error ? [r.error.code] : []), ...r.asyncStarted.flatMap((a) => (a.result ? codes(a.result) : []))];
}

describe('run: scenarios that start each other without end', () => {
  it('are stopped with R_ASYNC_LIMIT, named, never R_INTERNAL; the text output says it at the end', () => {
    const tmp = tempDir();
    try {
      writeFileSync(join(tmp.dir, 'Fork.yaml'), FORK);
      const json = runCli(['run', 'Fork', '--scenarios', tmp.dir, '--dry-run', '--json'], { timeoutMs: 60_000 });
      // Started runs failed: the command fails too, with one line naming the first of them.
      assert.equal(json.code, 1, json.stderr);
      assert.match(json.stderr, /^oktell-emu: started run Fork \(run \S+, started by Fork\) failed: \S+ R_ASYNC_LIMIT .* \(and \d+ more failed run\(s\) of this tree: see the output\)\n$/);
      const all = codes(JSON.parse(json.stdout) as Run);
      assert.ok(all.length > 0, 'some started runs were stopped');
      assert.deepEqual([...new Set(all)], ['R_ASYNC_LIMIT']);
      const text = runCli(['run', 'Fork', '--scenarios', tmp.dir, '--dry-run'], { timeoutMs: 60_000 });
      assert.match(text.stderr, /note: \d+ started run\(s\) stopped with R_ASYNC_LIMIT: the scenarios start each other without end\n$/);
    } finally {
      tmp.cleanup();
    }
  });

  it('a ring of two scenarios: the text output shows the first levels and counts the rest (a thousand levels printed were 25 MB)', () => {
    const tmp = tempDir();
    try {
      writeFileSync(join(tmp.dir, 'Ping.yaml'), `blocks:\n  go: { kind: AsyncScenario, scenario: Pong }\n`);
      writeFileSync(join(tmp.dir, 'Pong.yaml'), `blocks:\n  go: { kind: AsyncScenario, scenario: Ping }\n`);
      const text = runCli(['run', 'Ping', '--scenarios', tmp.dir, '--dry-run'], { timeoutMs: 60_000, env: { NO_COLOR: '1' } });
      assert.equal(text.code, 1, text.stderr);
      const lines = text.stdout.split('\n');
      // Each level: the run's line, its step, the started line.
      assert.ok(lines.length < 4 * (SHOWN_NESTING + 2), `${lines.length} lines, ${text.stdout.length} characters`);
      const runs = lines.filter((l) => /^\s*(Ping|Pong) (completed|failed) /.test(l));
      assert.equal(runs.length, SHOWN_NESTING + 1, 'the run and the first levels of started runs');
      assert.match(text.stdout, /… its run and (\d+) run\(s\) it started in turn, nested deeper than 20 starts, are not shown \(--json prints them\)\n/);
      const rest = Number(/and (\d+) run\(s\) it started in turn/.exec(text.stdout)![1]);
      assert.ok(rest > 900, `the runs not shown are counted: ${rest}`);
      assert.match(text.stderr, /note: 1 started run\(s\) stopped with R_ASYNC_LIMIT: the scenarios start each other without end\n$/);
    } finally {
      tmp.cleanup();
    }
  });
});
