// A run that fails says where, like a load error: file:line:col of the failing line (here the set: entry's
// expression), in text and in --json.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

/** The block `compute` fails at its set: entry (line 12, column 15): "abc" is not a number (read from a variable: a constant would not load). */
const FAILS = `variables:
  n: number
  s: string
start: begin
blocks:
  begin:
    kind: Variable
    set: { s: '"abc"' }
    exits: { next: compute }
  compute:
    kind: Variable
    set: { n: 'Num([s])' }
`;

function run(json: boolean) {
  const tmp = tempDir();
  try {
    mkdirSync(join(tmp.dir, 'scenarios'));
    writeFileSync(join(tmp.dir, 'scenarios', 'Fails.yaml'), FAILS);
    return runCli(['run', 'Fails', '--dry-run', ...(json ? ['--json'] : [])], { cwd: tmp.dir });
  } finally {
    tmp.cleanup();
  }
}

describe('oktell-emu run: a run error carries the YAML location of its failing line', () => {
  it('in the text output, as file:line:col code message', () => {
    const r = run(false);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^\s+error scenarios\/Fails\.yaml:12:15 R_EXPRESSION block "compute": set n: Num: cannot convert/m);
  });
  it('in --json, as file, line and col of the error', () => {
    const r = run(true);
    assert.equal(r.code, 1, r.stderr);
    const out = JSON.parse(r.stdout) as { error: Record<string, unknown> };
    assert.deepEqual({ file: out.error.file, line: out.error.line, col: out.error.col, block: out.error.block }, { file: 'scenarios/Fails.yaml', line: 12, col: 15, block: 'compute' });
  });
});
