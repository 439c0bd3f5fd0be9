// A dry run shows what the live run does: a SendMail block that succeeds clears its errorVariable in both, so the two
// traces of the block agree (the live letter goes to the outbox in a temporary data folder).
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCli } from '../cli/cli.helper.js';

const NOTIFY = `variables: { mailError: { type: string, initial: "" }, to: string }
start: begin
blocks:
  begin: { kind: Start, param: to, exits: { next: letter } }
  letter:
    kind: SendMail
    to: '[to]'
    subject: '"Проверка"'
    text: '"Здравствуйте"'
    errorVariable: mailError
    exits: { success: done, error: failed }
  done: { kind: ReturnValue, values: { 1: '"sent"' } }
  failed: { kind: ReturnValue, values: { 1: '"failed: " + [mailError]' } }
`;

describe('SendMail: the dry trace is the live trace', () => {
  // The letter's step, in each mode: the exit and the variables it set.
  const cases: Array<{ name: string; errorVariableInitial: string }> = [
    { name: 'the error variable starts empty', errorVariableInitial: '' },
    { name: 'the error variable holds an earlier error', errorVariableInitial: 'earlier failure' },
  ];
  for (const c of cases) {
    it(`${c.name}: success sets mailError="" in the dry run as in the live run`, { timeout: 60_000 }, () => {
      const tmp = tempDir();
      try {
        const dir = join(tmp.dir, 'scenarios');
        mkdirSync(dir);
        writeFileSync(join(dir, 'Notify.yaml'), NOTIFY.replace('initial: ""', `initial: ${JSON.stringify(c.errorVariableInitial)}`));
        const run = (extra: string[]) =>
          runCli(['run', 'Notify', '-s', dir, '-p', '1=ann@example.com', '--data-dir', join(tmp.dir, 'data'), ...extra], { cwd: tmp.dir, unset: ['OKTELL_SCENARIOS'], timeoutMs: 60_000 });
        const live = run([]);
        const dry = run(['--dry-run']);
        const step = (out: string) => out.split('\n').find((l) => /^\s+2 letter SendMail/.test(l));
        for (const [mode, r] of [['live', live], ['dry', dry]] as const) {
          assert.equal(r.code, 0, `${mode}: ${r.stdout}${r.stderr}`);
          assert.match(r.stdout, /return values 1="sent"/, mode);
          assert.equal(step(r.stdout)?.trim(), '2 letter SendMail → success mailError=""', `${mode}: ${r.stdout}`);
        }
        assert.equal(readdirSync(join(tmp.dir, 'data', 'outbox')).filter((f) => f.endsWith('.eml')).length, 1, 'only the live run wrote a letter');
      } finally {
        tmp.cleanup();
      }
    });
  }
});
