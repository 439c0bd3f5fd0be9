// `expect.tables`: the rows of a case's databases once its run has ended, read before they are rolled back, through
// the real binary on real SQLite files: a table's rows by primary key, a query's rows, a row that differs at its
// line:col, unknown connections and tables at their keys with a suggestion, a query that writes refused, --json,
// JUnit and --update.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

/** Marks an order sent and logs it in a table whose name needs quoting. */
const SEND = `start: mark
blocks:
  mark:
    kind: DbQuery
    sql: UPDATE orders SET sent_at = :at WHERE id = :id
    params: { at: '"2026-11-28"', id: InputParameter(1) }
    exits: { success: log }
  log:
    kind: DbQuery
    sql: INSERT INTO "order ""log""" (order_id, note) VALUES (:id, 'sent')
    params: { id: InputParameter(1) }
    exits: { success: mail }
  mail:
    kind: DbQuery
    sql: INSERT INTO mails (subject) VALUES ('order sent')
`;

const MIGRATION = `CREATE TABLE orders (id INTEGER PRIMARY KEY, sent_at TEXT);
CREATE TABLE "order ""log""" (order_id INTEGER, note TEXT);
CREATE TABLE mails (id INTEGER PRIMARY KEY, subject TEXT);
`;

const CASES = `db:
  main: INSERT INTO orders (id) VALUES (2), (1);
cases:
  - name: the rows the run wrote
    scenario: Send
    params: { 1: 2 }
    expect:
      tables:
        main:
          orders:
            - { id: 1, sent_at: null }
            - { id: 2, sent_at: "2026-11-28" }
          order "log": [ { order_id: 2, note: sent } ]
          sent:
            query: SELECT id FROM orders WHERE sent_at IS NOT NULL ORDER BY id
            rows: [ { id: 2 } ]
  - name: a wrong row
    scenario: Send
    params: { 1: 2 }
    expect:
      tables:
        main:
          orders:
            - { id: 1, sent_at: null }
            - { id: 2, sent_at: "2026-11-29" }
          order "log": []
`;

const BAD = `cases:
  - name: a misspelt table
    scenario: Send
    params: { 1: 1 }
    expect:
      tables:
        main:
          ordres: []
  - name: a misspelt connection
    scenario: Send
    params: { 1: 1 }
    expect:
      tables:
        mian:
          orders: []
  - name: a query that writes
    scenario: Send
    params: { 1: 1 }
    expect:
      tables:
        main:
          gone:
            query: DELETE FROM orders RETURNING id
            rows: []
  - name: a query with a placeholder
    scenario: Send
    params: { 1: 1 }
    expect:
      tables:
        main:
          one:
            query: SELECT id FROM orders WHERE id = ?
            rows: []
`;

function folder(root: string): string {
  const scenarios = join(root, 'scenarios');
  mkdirSync(join(scenarios, 'db', 'main'), { recursive: true });
  mkdirSync(join(scenarios, 'tests'));
  writeFileSync(join(scenarios, 'Send.yaml'), SEND);
  writeFileSync(join(scenarios, 'db', 'main', '001-orders.sql'), MIGRATION);
  return scenarios;
}

describe('oktell-emu test: expect.tables', () => {
  it('passes on the rows the run left, fails on a wrong row at its line:col, in text, --json and JUnit', { timeout: 90_000 }, () => {
    const tmp = tempDir();
    try {
      const scenarios = folder(tmp.dir);
      writeFileSync(join(scenarios, 'tests', 'send.test.yaml'), CASES);
      const cli = (...args: string[]) => runCli(['test', '--scenarios', scenarios, ...args], { cwd: tmp.dir, unset: ['OKTELL_SCENARIOS'], timeoutMs: 60_000 });

      const text = cli();
      assert.equal(text.code, 1, text.stderr + text.stdout);
      assert.match(text.stdout, /✓ .*send\.test\.yaml › the rows the run wrote/);
      assert.match(text.stdout, /✗ .*send\.test\.yaml › a wrong row/);
      assert.match(text.stdout, /send\.test\.yaml:25:33 tables\.main\.orders\[1\]\.sent_at: expected "2026-11-29" got "2026-11-28"/);
      assert.match(text.stdout, /send\.test\.yaml:26:24 tables\.main\.order "log": expected 0 row\(s\) got 1 row\(s\)\n\s+\+ \[0\] \{"order_id":2,"note":"sent"\} \(extra\)/);
      assert.match(text.stdout, /1 passed, 1 failed/);

      const json = JSON.parse(cli('--json').stdout) as { cases: Array<{ name: string; status: string; failures: Array<{ place: string; line: number; col: number; expected: string; actual: string }> }> };
      assert.deepEqual(json.cases.map((c) => c.status), ['passed', 'failed']);
      assert.deepEqual(json.cases[1]!.failures.map((f) => [f.place, f.line, f.col, f.expected, f.actual]), [
        ['tables.main.orders[1].sent_at', 25, 33, '"2026-11-29"', '"2026-11-28"'],
        ['tables.main.order "log"', 26, 24, '0 row(s)', '1 row(s)'],
      ]);

      const junit = cli('--reporter', 'junit');
      assert.equal(junit.code, 1);
      assert.match(junit.stdout, /<failure type="mismatch" message="tables\.main\.orders\[1\]\.sent_at: expected &quot;2026-11-29&quot; got &quot;2026-11-28&quot;">/);
    } finally {
      tmp.cleanup();
    }
  });

  it('--update rewrites the rows that changed, keeping the columns each row names; an empty table gets whole rows', { timeout: 90_000 }, () => {
    const tmp = tempDir();
    try {
      const scenarios = folder(tmp.dir);
      const file = join(scenarios, 'tests', 'send.test.yaml');
      // A table named like a list of the run's (mails) is still a table: its rows are written whole.
      writeFileSync(file, CASES.replace('          order "log": []\n', '          order "log": []\n          mails: []\n'));
      const cli = (...args: string[]) => runCli(['test', '--scenarios', scenarios, ...args], { cwd: tmp.dir, unset: ['OKTELL_SCENARIOS'], timeoutMs: 60_000 });
      const r = cli('--update');
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.match(r.stdout, /1 updated, 1 unchanged/);
      const text = readFileSync(file, 'utf8');
      assert.match(text, /- \{ id: 2, sent_at: "2026-11-28" \}\n\s+order "log": \[ ?\{ ?order_id: 2, note: sent ?\} ?\]\n\s+mails: \[ ?\{ ?id: 1, subject: order sent ?\} ?\]/);
      assert.equal(cli().code, 0);
    } finally {
      tmp.cleanup();
    }
  });

  it('an unknown table or connection and a query that writes are problems at their keys, with a suggestion; the cases do not run', { timeout: 90_000 }, () => {
    const tmp = tempDir();
    try {
      const scenarios = folder(tmp.dir);
      writeFileSync(join(scenarios, 'tests', 'bad.test.yaml'), BAD);
      const r = runCli(['test', '--scenarios', scenarios], { cwd: tmp.dir, unset: ['OKTELL_SCENARIOS'], timeoutMs: 60_000 });
      assert.equal(r.code, 2, r.stderr + r.stdout);
      assert.match(r.stderr, /bad\.test\.yaml:8:11 E_INVALID_PROPERTY expect\.tables\.main\.ordres: the case's "main" database has no table "ordres" \(its case was not run\)\n\s+hint: did you mean "orders"\? its tables: .*orders/);
      assert.match(r.stderr, /bad\.test\.yaml:14:9 E_UNKNOWN_CONNECTION expect\.tables\.mian: the case has no database named "mian"\n\s+hint: did you mean "main"\?/);
      assert.match(r.stderr, /bad\.test\.yaml:23:20 E_INVALID_PROPERTY expect\.tables\.main\.gone\.query: it does not only read/);
      assert.match(r.stderr, /bad\.test\.yaml:32:20 E_INVALID_PROPERTY expect\.tables\.main\.one\.query: it has a parameter \(\?\), which nothing here gives a value \(its case was not run\)\n\s+hint: write the values into the query/);
      assert.doesNotMatch(r.stdout, /[✓✗]/);
    } finally {
      tmp.cleanup();
    }
  });
});
