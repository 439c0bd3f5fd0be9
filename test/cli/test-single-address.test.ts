// An expected letter's `to` (and `cc`, `bcc`) may be one address, as users write it: `to: ann@example.com` is the list
// of that one address — it passes when the letter went to exactly that address and fails otherwise — beside the list
// form; `--update` keeps the one-address form. Through the real command.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

const NOTIFY = `description: writes to the addresses in parameter 1, with a copy to those in parameter 2
variables: { to: string, copy: string }
blocks:
  begin: { kind: Start, param: to, exits: { next: copyTo } }
  copyTo: { kind: InputParameter, params: { copy: 2 }, exits: { next: send } }
  send:
    kind: SendMail
    to: '[to]'
    cc: '[copy]'
    subject: '"Привет"'
    text: '"текст"'
    exits: { success: done }
  done: { kind: Stop }
`;

/** Runs `oktell-emu test` (with `args`) on one test file; returns the result and the file's text afterwards. */
function runTests(cases: string, args: string[] = []) {
  const tmp = tempDir();
  try {
    mkdirSync(join(tmp.dir, 'scenarios', 'tests'), { recursive: true });
    writeFileSync(join(tmp.dir, 'scenarios', 'Notify.yaml'), NOTIFY);
    const file = join(tmp.dir, 'scenarios', 'tests', 'notify.test.yaml');
    writeFileSync(file, `cases:\n${cases}`);
    const r = runCli(['test', ...args], { cwd: tmp.dir, unset: ['OKTELL_SCENARIOS'] });
    return { ...r, text: readFileSync(file, 'utf8') };
  } finally {
    tmp.cleanup();
  }
}

const item = (name: string, to: string, cc: string, mail: string) => `  - name: ${name}\n    scenario: Notify\n    params: { 1: "${to}", 2: "${cc}" }\n    expect: { mails: [ ${mail} ] }\n`;

describe('scenario tests: one address for an expected letter\'s to, cc, bcc', () => {
  it('passes when the letter went to exactly that address, the list form as before', () => {
    const r = runTests(
      [
        item('one address', 'ann@example.com', 'boss@example.com', '{ to: ann@example.com, cc: boss@example.com, bcc: [] }'),
        item('one address in a list', 'ann@example.com', 'boss@example.com', '{ to: [ann@example.com], cc: [boss@example.com] }'),
        item('one address and a matcher', 'ann@example.com', 'boss@example.com', '{ to: ann@example.com, cc: { contains: boss@example.com } }'),
      ].join(''),
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stdout.trim().split('\n').at(-1), '3 passed, 0 failed');
  });

  it('fails when the letter went to another address, or to more than that one', () => {
    const r = runTests(
      [
        item('another address', 'ann@example.com', 'boss@example.com', '{ to: bob@example.com }'),
        item('another copy', 'ann@example.com', 'boss@example.com', '{ to: ann@example.com, cc: chief@example.com }'),
        item('two recipients', 'ann@example.com, carl@example.com', 'boss@example.com', '{ to: ann@example.com }'),
      ].join(''),
    );
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(r.stdout.trim().split('\n').at(-1), '0 passed, 3 failed');
    assert.match(r.stdout, /mails\[0\]\.to: expected \["bob@example\.com"\] got \["ann@example\.com"\]/);
    assert.match(r.stdout, /mails\[0\]\.cc: expected \["chief@example\.com"\] got \["boss@example\.com"\]/);
    assert.match(r.stdout, /mails\[0\]\.to: expected \["ann@example\.com"\] got \["ann@example\.com","carl@example\.com"\]/);
  });

  it('--update keeps one address as one address, and writes the list when the letter has several', () => {
    const r = runTests([item('moved', 'bob@example.com', 'boss@example.com', '{ to: ann@example.com, subject: Привет }'), item('widened', 'ann@example.com, carl@example.com', 'boss@example.com', '{ to: ann@example.com }')].join(''), ['--update']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const expects = r.text.split('\n').filter((l) => l.trim().startsWith('expect:')).map((l) => l.trim().replace(/\s+/g, ' ').replace(/([[{]) | ([\]}])/g, '$1$2'));
    assert.deepEqual(expects, ['expect: {mails: [{to: bob@example.com, subject: Привет}]}', 'expect: {mails: [{to: [ann@example.com, carl@example.com]}]}']);
  });

  it('a value that is no address, list or matcher is refused, naming the three forms', () => {
    const r = runTests(item('number', 'ann@example.com', 'boss@example.com', '{ to: 42 }'));
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /notify\.test\.yaml:\d+:\d+ E_INVALID_PROPERTY "cases\.0\.expect\.mails\.0\.to" is the number 42: expected an address, a list of addresses or a matcher/);
  });
});
