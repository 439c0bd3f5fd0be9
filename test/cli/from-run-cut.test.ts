// --from-run of a run whose return value and subject the store kept cut (over 4096 and 256 characters): the case
// expects their kept beginning with `{ contains }` instead of the cut text, so the written test passes through the
// real binary, and the comment above the case says what is not checked.
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoPath, tempDir } from '../helpers.js';
import { runCli } from './cli-process.js';

const LONG_ANSWER = `description: Answers a long text and sends a letter with a long subject.
start: begin
blocks:
  begin:
    kind: Start
    exits: { next: notify }
  notify:
    kind: SendMail
    to: '"ivan.petrov@example.com"'
    subject: '"Длинная тема " + PadLeft("", 300, "т")'
    text: '"короткий текст"'
    exits: { success: answer, error: answer }
  answer:
    kind: ReturnValue
    values:
      1: '"начало " + PadLeft("", 5000, "ab")'
      2: '"short"'
`;

describe('test --from-run of a run with values the store kept cut', () => {
  it('expects the kept beginning of a long return value and subject, and the written case passes', { timeout: 60_000 }, () => {
    const tmp = tempDir();
    try {
      const scenarios = join(tmp.dir, 'scenarios');
      const data = join(tmp.dir, 'var');
      cpSync(repoPath('scenarios'), scenarios, { recursive: true });
      writeFileSync(join(scenarios, 'LongAnswer.yaml'), LONG_ANSWER);
      const run = runCli(['run', 'LongAnswer', '--scenarios', scenarios, '--data-dir', data]);
      assert.equal(run.code, 0, run.stdout + run.stderr);
      const runId = /npx oktell-emu show (\S+)/.exec(run.stdout + run.stderr)?.[1];
      assert.ok(runId, run.stdout + run.stderr);

      const out = join(scenarios, 'tests', 'long.test.yaml');
      const r = runCli(['test', '--from-run', runId, '--name', 'long answer', '--out', out, '--scenarios', scenarios, '--data-dir', data]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /✓ .*long answer/);

      const written = readFileSync(out, 'utf8');
      assert.doesNotMatch(written, /\[cut: /);
      assert.match(written, /returnValues:\s*\n\s*"?1"?:\s*\n?\s*contains: начало abab/);
      assert.match(written, /"?2"?: short/);
      assert.match(written, /subject:\s*\n?\s*contains: Длинная тема ттт/);
      assert.match(written, /return value 1 of LongAnswer: 5007 characters, only the first 4096 are checked/);
      assert.match(written, /the subject of letter 1 of LongAnswer: 313 characters, only the first 256 are checked/);

      // The beginning is still checked: another answer fails the case.
      writeFileSync(join(scenarios, 'LongAnswer.yaml'), LONG_ANSWER.replace('"начало "', '"конец "'));
      const changed = runCli(['test', out, '--scenarios', scenarios]);
      assert.equal(changed.code, 1, changed.stdout + changed.stderr);
      assert.match(changed.stdout, /returnValues\.1/);
    } finally {
      tmp.cleanup();
    }
  });
});
