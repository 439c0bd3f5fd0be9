// A value expected as text that the run gave as a number (or the other way round) prints the same on both sides of
// the failure: `oktell-emu test` says which is which. Through the real binary on real files.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

const ANSWER = `start: answer
blocks:
  answer:
    kind: ReturnValue
    values: { 1: '"422"', 2: 422, 3: 423 }
`;

const CASES = `cases:
  - name: types count
    scenario: Answer
    expect:
      returnValues: { 1: 422, 2: "422", 3: 424 }
`;

describe('test: text against a number', () => {
  it('says "(text vs number)" where only the type differs, nothing where the values differ', { timeout: 60_000 }, () => {
    const tmp = tempDir();
    try {
      const scenarios = join(tmp.dir, 'scenarios');
      mkdirSync(join(scenarios, 'tests'), { recursive: true });
      writeFileSync(join(scenarios, 'Answer.yaml'), ANSWER);
      writeFileSync(join(scenarios, 'tests', 'answer.test.yaml'), CASES);
      const r = runCli(['test'], { cwd: tmp.dir, unset: ['OKTELL_SCENARIOS'], timeoutMs: 60_000 });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /returnValues\.1: expected 422 got "422" \(number vs text\)$/m);
      assert.match(r.stdout, /returnValues\.2: expected "422" got 422 \(text vs number\)$/m);
      assert.match(r.stdout, /returnValues\.3: expected 424 got 423$/m);
    } finally {
      tmp.cleanup();
    }
  });
});
