// `oktell-emu validate` on variables taken from the environment: one that is not set is a warning with its place
// (the file is valid: the variable starts empty), a value that does not fit its type is a problem that does not quote
// the value, and the shipped BpiumTaskChat, whose token falls back to "", validates without a warning.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

const CHAT = `variables:
  chatToken: { type: string, env: OKTELL_TEST_CHAT_TOKEN }
  retries: { type: number, env: OKTELL_TEST_RETRIES, initial: 3 }
start: r
blocks:
  r: { kind: ReturnValue, values: { 1: 'Len([chatToken]) + [retries]' } }
`;

describe('validate and variables from the environment', () => {
  it('warns about an unset one at file:line:col and exits 0; a value that does not fit is a problem, not quoted', () => {
    const tmp = tempDir();
    try {
      const dir = join(tmp.dir, 'scenarios');
      mkdirSync(dir);
      writeFileSync(join(dir, 'Chat.yaml'), CHAT);
      const unset = runCli(['validate', '--scenarios', dir], { cwd: tmp.dir, unset: ['OKTELL_TEST_CHAT_TOKEN', 'OKTELL_TEST_RETRIES'] });
      assert.equal(unset.code, 0, unset.stdout + unset.stderr);
      assert.equal(
        unset.stdout.split('\n').filter((l) => l.startsWith('warning:')).join('\n'),
        'warning: scenarios/Chat.yaml:2:3: variable chatToken takes its value from environment variable OKTELL_TEST_CHAT_TOKEN, which is not set: it starts empty (set it, or give the declaration an initial: to make that the intended fallback)',
      );
      const json = runCli(['validate', '--scenarios', dir, '--json'], { cwd: tmp.dir, unset: ['OKTELL_TEST_CHAT_TOKEN', 'OKTELL_TEST_RETRIES'] });
      assert.match((JSON.parse(json.stdout) as { warnings: string[] }).warnings[0]!, /^scenarios\/Chat\.yaml:2:3: variable chatToken takes its value from environment variable OKTELL_TEST_CHAT_TOKEN, which is not set/);

      const set = runCli(['validate', '--scenarios', dir], { cwd: tmp.dir, env: { OKTELL_TEST_CHAT_TOKEN: 'ZEBRA-CLI-TOKEN', OKTELL_TEST_RETRIES: '5' } });
      assert.equal(set.code, 0, set.stdout + set.stderr);
      assert.doesNotMatch(set.stdout, /warning/);

      const bad = runCli(['validate', '--scenarios', dir], { cwd: tmp.dir, env: { OKTELL_TEST_CHAT_TOKEN: 't', OKTELL_TEST_RETRIES: 'ZEBRA-CLI-RETRIES' } });
      assert.equal(bad.code, 1);
      assert.match(bad.stdout, /^scenarios\/Chat\.yaml:3:33 E_INVALID_VARIABLE the value of environment variable OKTELL_TEST_RETRIES does not fit variable "retries" \(number\)$/m);
      assert.doesNotMatch(bad.stdout + bad.stderr, /ZEBRA/);
    } finally {
      tmp.cleanup();
    }
  });

  it('the shipped scenarios validate without a warning with OKTELL_CHAT_TOKEN unset', () => {
    const r = runCli(['validate'], { unset: ['OKTELL_CHAT_TOKEN', 'OKTELL_SCENARIOS'] });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout, /warning/);
  });
});
