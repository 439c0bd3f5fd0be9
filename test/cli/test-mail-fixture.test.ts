// Scenario tests can make a letter fail as the SMTP server would (`mail: { failures }`): 550 takes SendMail's error
// exit, 451 and network are an outage that fails the run as retryable. Data-driven, through the real command.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

const NOTIFY = `description: writes to the address in parameter 1
variables: { to: string, why: string }
blocks:
  begin: { kind: Start, param: to, exits: { next: send } }
  send:
    kind: SendMail
    to: '[to]'
    subject: '"Привет"'
    text: '"текст"'
    errorVariable: why
    exits: { success: sent, error: refused }
  sent: { kind: ReturnValue, values: { 1: '"sent"' } }
  refused: { kind: ReturnValue, values: { 1: '"refused: " + [why]' } }
`;

const CASES: Array<[string, string, string]> = [
  ['no fixture: rendered, not sent', '', '{ returnValues: { 1: sent }, mails: [ { to: [ann@example.com], status: dry-run } ] }'],
  ['550 for the recipient: the error exit', 'mail: { failures: { ANN@example.com: 550 } }', '{ returnValues: { 1: { contains: "refused: SMTP permanent failure" } }, mails: [ { status: failed } ] }'],
  ['451 for every letter: an outage, the run fails as retryable', 'mail: { failures: { "*": 451 } }', '{ status: failed, error: { code: R_EFFECT_TRANSIENT, block: send, retryable: true } }'],
  ['network: the same outage', 'mail: { failures: { "*": network } }', '{ status: failed, error: { code: R_EFFECT_TRANSIENT } }'],
  ['no-reply: the outcome is unknown, no exit is taken and the run fails as not retryable', 'mail: { failures: { "*": no-reply } }', '{ status: failed, returnValues: {}, error: { code: R_EFFECT_UNKNOWN, block: send, retryable: false }, mails: [ { status: unknown } ] }'],
  ['another recipient named: this letter goes through', 'mail: { failures: { bob@example.com: 550 } }', '{ returnValues: { 1: sent } }'],
];

describe('scenario tests: mail fixtures', () => {
  it('every case passes as the fixture decides', () => {
    const tmp = tempDir();
    try {
      mkdirSync(join(tmp.dir, 'scenarios', 'tests'), { recursive: true });
      writeFileSync(join(tmp.dir, 'scenarios', 'Notify.yaml'), NOTIFY);
      const cases = CASES.map(([name, fixture, expect]) => `  - name: "${name}"\n    scenario: Notify\n    params: { 1: ann@example.com }\n${fixture ? `    ${fixture}\n` : ''}    expect: ${expect}\n`).join('');
      writeFileSync(join(tmp.dir, 'scenarios', 'tests', 'mail.test.yaml'), `cases:\n${cases}`);
      const r = runCli(['test'], { cwd: tmp.dir, unset: ['OKTELL_SCENARIOS'] });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(r.stdout.trim().split('\n').at(-1), `${CASES.length} passed, 0 failed`);
    } finally {
      tmp.cleanup();
    }
  });

  it('a failure the fixture does not know is a located problem', () => {
    const tmp = tempDir();
    try {
      mkdirSync(join(tmp.dir, 'scenarios', 'tests'), { recursive: true });
      writeFileSync(join(tmp.dir, 'scenarios', 'Notify.yaml'), NOTIFY);
      writeFileSync(join(tmp.dir, 'scenarios', 'tests', 'bad.test.yaml'), 'cases:\n  - name: x\n    scenario: Notify\n    mail: { failures: { "*": 554 } }\n    expect: { status: completed }\n');
      const r = runCli(['test'], { cwd: tmp.dir, unset: ['OKTELL_SCENARIOS'] });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /^scenarios\/tests\/bad\.test\.yaml:4:\d+ E_INVALID_PROPERTY/m);
    } finally {
      tmp.cleanup();
    }
  });
});
