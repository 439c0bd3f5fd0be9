// `run` lists a run's letters, Bpium calls, database statements and web requests in the order its steps made them, as
// `show` lists a stored run's (server/console/effect-order.ts), not all the letters first and the Bpium calls after.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCliAsync } from './cli.helper.js';
import { MAIN, SUB } from './main-sub.helper.js';

/** A Bpium read, a letter, then a Bpium write: one of each kind on either side of the letter. */
const BETWEEN = `variables: { name: string }
start: read
blocks:
  read:
    kind: Bpium
    method: getRecord
    catalog: '"3"'
    record: '"2"'
    fields: { name: '"1"' }
    exits: { success: tell }
  tell:
    kind: SendMail
    to: '"ops@example.com"'
    subject: '"about " + [name]'
    text: '"between the two calls"'
    exits: { success: write }
  write:
    kind: Bpium
    method: updateRecord
    catalog: '"3"'
    record: '"2"'
    values: { "1": '"Пётр Иванов"' }
    exits: { success: null }
`;

/** Three rounds of a Bpium read and a letter; the first letter has no recipient and fails before it is made. */
const ROUNDS = `variables: { i: number, name: string, mailError: string }
start: round
blocks:
  round:
    kind: Variable
    set: { i: '[i] + 1' }
    exits: { next: read }
  read:
    kind: Bpium
    method: getRecord
    catalog: '"3"'
    record: '"" + [i]'
    fields: { name: '"1"' }
    exits: { success: tell }
  tell:
    kind: SendMail
    to: 'If([i] = 1, "", "ops" + [i] + "@example.com")'
    subject: '"round " + [i]'
    text: '"round " + [i]'
    errorVariable: mailError
    exits: { success: again, error: again }
  again:
    kind: Condition
    expression: '[i] < 3'
    exits: { true: round, false: null }
`;

/**
 * A Bpium read that works and then fails on a field name the fixture's catalog does not list: the block records the
 * call that worked and the failure, both at its one step; a letter and a Bpium write follow.
 */
const FIELD = `variables: { name: string, code: string }
start: read
blocks:
  read:
    kind: Bpium
    method: getRecord
    catalog: '"3"'
    record: '"2"'
    fields: { name: '"Имя"' }
    errorCode: code
    exits: { success: tell, error: tell }
  tell:
    kind: SendMail
    to: '"ops@example.com"'
    subject: '"code " + [code]'
    text: '"after the read"'
    exits: { success: write }
  write:
    kind: Bpium
    method: updateRecord
    catalog: '"3"'
    record: '"2"'
    values: { "1": '"Пётр Иванов"' }
    exits: { success: null }
`;

const FIXTURE = `catalogs:
  "3":
    records:
      "1": { "1": Анна }
      "2": { "1": Иван Петров }
      "3": { "1": Ольга }
`;

/** The line of the failed field lookup of Field's and Main's `read`. */
const UNKNOWN_FIELD =
  '  bpium getRecord catalog 3 record 2 → error (not sent, fixture) catalog 3 has no field named "Имя" (its structure lists no fields; a fixture file names them under fields: of the catalog)';

/** The effect lines of `run`'s text output, in the order printed. */
const effectLines = (stdout: string) => stdout.split('\n').filter((l) => /^ {2}(mail|bpium|db|http) /.test(l));

describe('run: the effects in the order the run made them', () => {
  const tmp = tempDir();
  const scenarios = join(tmp.dir, 'scenarios');
  before(() => {
    mkdirSync(scenarios);
    writeFileSync(join(scenarios, 'Between.yaml'), BETWEEN);
    writeFileSync(join(scenarios, 'Rounds.yaml'), ROUNDS);
    writeFileSync(join(scenarios, 'Field.yaml'), FIELD);
    writeFileSync(join(scenarios, 'Main.yaml'), MAIN);
    writeFileSync(join(scenarios, 'Sub.yaml'), SUB);
    writeFileSync(join(tmp.dir, 'fx.yaml'), FIXTURE);
  });
  after(() => tmp.cleanup());
  // No Bpium from the environment: the fixture file answers.
  const cli = (args: string[]) =>
    runCliAsync([...args, '-s', scenarios, '--data-dir', join(tmp.dir, 'var'), '--dry-run', '--bpium-fixtures', 'fx.yaml'], {
      cwd: tmp.dir,
      unset: ['OKTELL_SCENARIOS', 'BPIUM_URL', 'BPIUM_LOGIN', 'BPIUM_PASSWORD'],
      timeoutMs: 60_000,
    });

  it('a Bpium call, a letter and a Bpium call are printed in that order, not the letter first', { timeout: 120_000 }, async () => {
    const r = await cli(['run', 'Between']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(
      effectLines(r.stdout),
      [
        '  bpium getRecord catalog 3 record 2 → ok (not sent, fixture)',
        '  mail dry-run to ops@example.com',
        '  bpium updateRecord catalog 3 record 2 → dry-run (not performed)',
      ],
      r.stdout,
    );
    // --json is as it was: the lists by kind, no order field.
    const json = await cli(['run', 'Between', '--json']);
    const out = JSON.parse(json.stdout) as Record<string, unknown> & { mails: unknown[]; bpiumCalls: Array<{ method: string }> };
    assert.deepEqual(out.bpiumCalls.map((c) => c.method), ['getRecord', 'updateRecord']);
    assert.equal(out.mails.length, 1);
    assert.deepEqual(Object.keys(out).filter((k) => /order|effects/i.test(k)), []);
  });

  it('a letter that failed before it was made is shown at its step and takes no later letter to it', { timeout: 120_000 }, async () => {
    const r = await cli(['run', 'Rounds']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(
      effectLines(r.stdout),
      [
        '  bpium getRecord catalog 3 record 1 → ok (not sent, fixture)',
        // Refused before it was made (no recipient): shown at its own step, and the later letters at theirs.
        '  mail refused before sending: no recipient: "to" is empty',
        '  bpium getRecord catalog 3 record 2 → ok (not sent, fixture)',
        '  mail dry-run to ops2@example.com',
        '  bpium getRecord catalog 3 record 3 → ok (not sent, fixture)',
        '  mail dry-run to ops3@example.com',
      ],
      r.stdout,
    );
  });

  it('a Bpium step that recorded a call that worked and then a failure lists both at its step, before the letter after it', { timeout: 120_000 }, async () => {
    const r = await cli(['run', 'Field']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(
      effectLines(r.stdout),
      ['  bpium getRecord catalog 3 record 2 → ok (not sent, fixture)', UNKNOWN_FIELD, '  mail dry-run to ops@example.com', '  bpium updateRecord catalog 3 record 2 → dry-run (not performed)'],
      r.stdout,
    );
  });

  it('a called scenario with a block of the caller’s id lists its own call at its own step', { timeout: 120_000 }, async () => {
    const r = await cli(['run', 'Main']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(
      effectLines(r.stdout),
      ['  bpium getRecord catalog 3 record 2 → ok (not sent, fixture)', UNKNOWN_FIELD, '  bpium getRecord catalog 3 record 3 → ok (not sent, fixture)', '  mail dry-run to ops@example.com'],
      r.stdout,
    );
    // --json is as it was: the calls in the order made, with no scenario or order added to them.
    const json = await cli(['run', 'Main', '--json']);
    const out = JSON.parse(json.stdout) as { bpiumCalls: Array<Record<string, unknown>> };
    assert.deepEqual(out.bpiumCalls.map((c) => [c.block, c.recordId, c.status]), [['read', '2', 'ok'], ['read', '2', 'error'], ['read', '3', 'ok']]);
    assert.deepEqual(out.bpiumCalls.flatMap((c) => Object.keys(c).filter((k) => /scenario|order|step/i.test(k))), []);
  });
});
