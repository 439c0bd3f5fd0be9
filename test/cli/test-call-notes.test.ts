// A failing case says why a statement or a web request of its run went wrong, next to the difference: the database's
// error (`no such table: tasks`), the URL no fixture matched, or that a POST no fixture matched got the dry run's
// default 200. Through the real binary on real files, in text, --json and JUnit.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

/** Reads a table no migration creates (its `tasks` database is fresh), then GETs and POSTs with no fixture for them. */
const SWEEP = `variables: { n: number, code: string, got: string }
start: count
blocks:
  count:
    kind: DbQuery
    connection: tasks
    sql: SELECT count(*) AS n FROM tasks
    errorCode: code
    exits: { success: look, error: look }
  look:
    kind: WebRequest
    url: '"https://crm.example.ru/api/tasks"'
    errorCode: code
    exits: { success: post, error: post }
  post:
    kind: WebRequest
    method: POST
    url: '"https://receiver.example.ru/tasks/overdue"'
    json: { n: '[n]' }
    exits: { success: done, error: done }
  done:
    kind: ReturnValue
    values: { 1: '"ok"' }
`;

const CASES = `cases:
  - name: the sweep
    scenario: Sweep
    http:
      - match: POST https://receiver.example.ru/other
        status: 201
    expect:
      dbCalls: [ { connection: tasks, status: ok } ]
      httpCalls:
        - { method: GET, status: 200 }
        - { method: POST, status: 201 }
`;

describe('test: a failing call says why', () => {
  it('the database error, the URL without a fixture and the default answer, in text, --json and JUnit', { timeout: 90_000 }, () => {
    const tmp = tempDir();
    try {
      const scenarios = join(tmp.dir, 'scenarios');
      mkdirSync(join(scenarios, 'tests'), { recursive: true });
      writeFileSync(join(scenarios, 'Sweep.yaml'), SWEEP);
      writeFileSync(join(scenarios, 'tests', 'sweep.test.yaml'), CASES);
      const cli = (...args: string[]) => runCli(['test', ...args], { cwd: tmp.dir, unset: ['OKTELL_SCENARIOS'], timeoutMs: 60_000 });

      const text = cli();
      assert.equal(text.code, 1, text.stderr);
      const lines = text.stdout.split('\n');
      const under = (head: RegExp) => {
        const i = lines.findIndex((l) => head.test(l));
        assert.ok(i >= 0, `${head} in\n${text.stdout}`);
        return lines[i + 1]!.trim();
      };
      assert.equal(under(/dbCalls\[0\]\.status: expected "ok" got "error"$/), 'error: SQLite: no such table: tasks (SQLITE_ERROR)');
      assert.equal(under(/httpCalls\[0\]\.status: expected 200 got nothing$/), 'error: no HTTP fixture matches GET https://crm.example.ru/api/tasks');
      assert.equal(under(/httpCalls\[1\]\.status: expected 201 got 200$/), '(no fixture matched: the dry-run default answer, 200 with an empty body)');

      const json = JSON.parse(cli('--json').stdout) as { cases: Array<{ failures: Array<{ place: string; detail?: string[] }> }> };
      const detail = Object.fromEntries(json.cases[0]!.failures.map((f) => [f.place, f.detail]));
      assert.deepEqual(detail['dbCalls[0].status'], ['error: SQLite: no such table: tasks (SQLITE_ERROR)']);
      assert.deepEqual(detail['httpCalls[0].status'], ['error: no HTTP fixture matches GET https://crm.example.ru/api/tasks']);
      assert.deepEqual(detail['httpCalls[1].status'], ['(no fixture matched: the dry-run default answer, 200 with an empty body)']);

      const junit = cli('--reporter', 'junit').stdout;
      assert.match(junit, /no such table: tasks/);
      assert.match(junit, /no HTTP fixture matches GET https:\/\/crm\.example\.ru\/api\/tasks/);
      assert.match(junit, /no fixture matched: the dry-run default answer/);
    } finally {
      tmp.cleanup();
    }
  });
});

/** Reads one employee from the users catalog: the Bpium call of the shipped article, alone. */
const LOOKUP = `variables: { email: string, code: string }
start: read
blocks:
  read:
    kind: Bpium
    method: getRecord
    catalog: '"3"'
    record: '"2"'
    fields: { email: '"2"' }
    errorCode: code
    exits: { success: done, error: done }
  done:
    kind: ReturnValue
    values: { 1: '[email]' }
`;

const USERS = `catalogs:
  "3":
    name: Сотрудники
    fields: [ { id: "1", name: Имя, type: text }, { id: "2", name: Эл. почта, type: text } ]
    records:
      "2": { "1": Иван Петров, "2": ivan.petrov@example.com }
`;

// What the article.test.yaml shipped before 2026-12-04 said of such a call: performed: true.
const OLD_CASE = `bpium: users.yaml
cases:
  - name: the lookup
    scenario: Lookup
    expect:
      returnValues: { 1: ivan.petrov@example.com }
      bpiumCalls: [ { method: getRecord, status: ok, performed: true } ]
`;

describe('test: performed: true of a call a fixture answered', () => {
  it('says the call is recorded performed: false, fixture: true, and what to write (an older test file)', { timeout: 90_000 }, () => {
    const tmp = tempDir();
    try {
      const scenarios = join(tmp.dir, 'scenarios');
      mkdirSync(join(scenarios, 'tests'), { recursive: true });
      writeFileSync(join(scenarios, 'Lookup.yaml'), LOOKUP);
      writeFileSync(join(scenarios, 'tests', 'users.yaml'), USERS);
      writeFileSync(join(scenarios, 'tests', 'lookup.test.yaml'), OLD_CASE);
      const r = runCli(['test'], { cwd: tmp.dir, unset: ['OKTELL_SCENARIOS'], timeoutMs: 60_000 });
      assert.equal(r.code, 1, r.stderr);
      const lines = r.stdout.split('\n');
      const i = lines.findIndex((l) => /bpiumCalls\[0\]\.performed: expected true got false$/.test(l));
      assert.ok(i >= 0, r.stdout);
      assert.match(lines[i + 1]!.trim(), /^\(answered by the test's fake Bpium \(bpium:\): nothing went out, so the call is recorded performed: false, fixture: true since the build of 2026-12-04; .*write performed: false, or run test --update\)$/);
    } finally {
      tmp.cleanup();
    }
  });
});
