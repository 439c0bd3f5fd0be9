// The messages for mistakes in scenario test files and the fixture files they name: YAML slips get the scenario
// loader's hints (first error only), wrong matcher and fixture shapes name the allowed forms and the nearest key or
// value, item keys of recorded lists are checked, a fixture file's mistake is located in it, and expected variables
// and data set connections are checked against the scenarios (a file with problems counts for its connections).
// Data-driven: file text → the located lines it gets.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoPath, tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

interface Row {
  what: string;
  text: string;
  /** Every located line on stderr, `line:col CODE message`, in order; with `hint` the hint after the first. */
  lines: string[];
  hint?: RegExp;
  /** Other files next to the test file. */
  files?: Record<string, string>;
}

const ROWS: Row[] = [
  {
    what: 'a key of a case indented one column less than its siblings: at the key, which sibling to align with',
    text: 'cases:\n  - name: one\n    scenario: HTTP404\n    params: { 1: /x }\n   expect:\n      status: completed\n',
    lines: ['5:4 E_YAML_SYNTAX YAML syntax: All mapping items must start at the same column'],
    hint: /^indent "expect" like "params" on line 4 \(column 5\), with spaces$/,
  },
  {
    what: 'a key of a list item one column too far',
    text: 'cases:\n  - name: one\n    scenario: HTTP404\n    expect:\n      mails:\n        - to: [a@example.com]\n           subject: x\n',
    lines: ['7:12 E_YAML_SYNTAX YAML syntax: All mapping items must start at the same column'],
    hint: /^indent "subject" like "to" on line 6 \(column 11\), with spaces$/,
  },
  {
    what: 'an unquoted value with ": " in it: quote it',
    text: 'cases:\n  - name: one\n    scenario: HTTP404\n    expect:\n      mails:\n        - subject: Крупная сделка: Поставка станков\n',
    lines: ['6:20 E_YAML_SYNTAX YAML syntax: Nested mappings are not allowed in compact mappings'],
    hint: /^YAML reads ": " inside a value as a new key; quote the value: subject: 'Крупная сделка: Поставка станков'$/,
  },
  {
    what: 'scenario: indented further than the name of its list item: at the key, with the column of "name"',
    text: 'cases:\n  - name: one\n      scenario: HTTP404\n    expect:\n      status: completed\n',
    lines: ['3:7 E_YAML_SYNTAX YAML syntax: All mapping items must start at the same column'],
    hint: /^indent "scenario" like "name" on line 2 \(column 5\), with spaces/,
  },
  {
    what: 'a matcher whose last } is missing: at its {, not at the next line with the parser\'s "must be sufficiently indented"',
    text: 'cases:\n  - name: one\n    scenario: HTTP404\n    expect:\n      returnValues: { equals: { 1: done }\n      mails: []\n',
    lines: ['5:21 E_YAML_SYNTAX YAML syntax: { without its }'],
    hint: /^the \{ on line 5 \(column 21\) is not closed: end it with \} on that line/,
  },
  {
    what: 'timeout: true in an HTTP fixture: a failure is written fail: timeout',
    text: 'cases:\n  - name: one\n    scenario: HTTP404\n    http:\n      - { match: "POST https://x.example/*", timeout: true }\n    expect: {}\n',
    lines: ['5:46 E_UNKNOWN_KEY unknown key "timeout"'],
    hint: /^a fixture that fails is written fail: timeout \(fail: timeout or fail: network\), in place of "timeout: …"; /,
  },
  {
    what: 'a stray line: one problem, the errors after it counted',
    text: 'cases:\n  bad\n  - name: one\n    scenario: HTTP404\n    expect:\n      status: completed\n',
    lines: ['2:3 E_YAML_SYNTAX YAML syntax: Implicit keys need to be on a single line'],
    hint: /^line 2 \("bad"\) is neither "key: value" nor a list item "- …": remove it, or end a key with ":"; the parser reports 4 more errors after this one/,
  },
  {
    what: 'typos inside list items are reported at their keys, not as a wrong kind of list',
    text: 'cases:\n  - name: one\n    scenario: HTTP404\n    expect:\n      mails: [ { subject: { matchs: "Крупная" }, text: { contains: "a", matches: "руб" } } ]\n',
    lines: ['5:29 E_UNKNOWN_KEY unknown key "matchs"', '5:73 E_UNKNOWN_KEY "matches" does not go with "contains" here'],
    hint: /^did you mean "matches"\?/,
  },
  {
    what: 'a misspelt matcher of a return value is a problem, not a failing case',
    text: 'cases:\n  - name: one\n    scenario: HTTP404\n    expect:\n      returnValues: { 1: { contain: done } }\n',
    lines: ['5:28 E_UNKNOWN_KEY unknown key "contain"'],
    hint: /^did you mean "contains"\?/,
  },
  {
    what: 'a matcher on a field of a Bpium call',
    text: 'cases:\n  - name: one\n    scenario: HTTP404\n    expect:\n      bpiumCalls: [ { status: { contain: o } } ]\n',
    lines: ['5:33 E_UNKNOWN_KEY unknown key "contain"'],
    hint: /^did you mean "contains"\?/,
  },
  {
    what: 'http: as a mapping names both forms and offers the list',
    text: 'cases:\n  - name: one\n    scenario: HTTP404\n    http: { match: "GET https://x.example/*" }\n    expect: {}\n',
    lines: ['4:11 E_INVALID_PROPERTY "cases.0.http" is a mapping: expected a fixture file name or a list of fixtures (- match: …)'],
    hint: /^write a list, even of one: \[\{"match":"GET https:\/\/x\.example\/\*"\}\]/,
  },
  {
    what: 'a webhook body pasted as a YAML mapping into params: the JSON text in single quotes, or a file (trial 40)',
    text: 'cases:\n  - name: one\n    scenario: HTTP404\n    params: { 1: /Shop/Order, 4: {"orderNo":"A-1","amount":1500.5} }\n    expect: {}\n',
    lines: ['4:34 E_INVALID_PROPERTY "cases.0.params.4" is a mapping: expected text, a number or true or false'],
    hint: /^a parameter is text, as the web server passes a body: write the JSON in single quotes, 4: '\{"orderNo":"A-1","amount":1500\.5\}', or keep it in a file next to the test file: 4: "@order\.json"; see docs\/testing-scenarios\.md$/,
  },
  {
    what: 'to: as a number names an address, a list of addresses and a matcher (one address as text is fine)',
    text: 'cases:\n  - name: one\n    scenario: HTTP404\n    expect:\n      mails: [ { to: 42 } ]\n',
    lines: ['5:22 E_INVALID_PROPERTY "cases.0.expect.mails.0.to" is the number 42: expected an address, a list of addresses or a matcher ({ equals | contains | matches | edges: … })'],
    hint: /^see docs\/testing-scenarios\.md/,
  },
  {
    what: 'retryable: "true" in quotes: the line to write, as a scenario\'s check says it',
    text: 'cases:\n  - name: one\n    scenario: HTTP404\n    expect:\n      error: { retryable: "true" }\n',
    lines: ['5:27 E_INVALID_PROPERTY "cases.0.expect.error.retryable" is text ("true"): expected true or false or a matcher ({ equals | contains | matches | edges: … })'],
    hint: /^write retryable: true \(true or false, without quotes\); see docs\/testing-scenarios\.md$/,
  },
  {
    what: 'status: "200" of a web request in quotes: the number to write',
    text: 'cases:\n  - name: one\n    scenario: HTTP404\n    expect:\n      httpCalls: [ { status: "200" } ]\n',
    lines: ['5:30 E_INVALID_PROPERTY "cases.0.expect.httpCalls.0.status" is text ("200"): expected a number or a matcher ({ equals | contains | matches | edges: … })'],
    hint: /^write status: 200 \(a number, without quotes\); see docs\/testing-scenarios\.md$/,
  },
  {
    what: 'length: "4" of { edges } in quotes: the number to write',
    text: 'cases:\n  - name: one\n    scenario: HTTP404\n    expect:\n      path: { edges: { length: "4" } }\n',
    lines: ['5:32 E_INVALID_PROPERTY "cases.0.expect.path.edges.length" is text ("4"): expected a whole number'],
    hint: /^write length: 4 \(a number, without quotes\); see docs\/testing-scenarios\.md$/,
  },
  {
    what: 'inline Bpium fixture: records as a list, a failure misspelt',
    text: 'cases:\n  - name: one\n    scenario: HTTP404\n    bpium: { catalogs: { "3": { records: [ { a: 1 } ] } }, failures: { "3/2": timout } }\n    expect: {}\n',
    lines: [
      '4:42 E_INVALID_PROPERTY "cases.0.bpium.catalogs.3.records" is a list: expected a mapping of record id → its field values',
      '4:79 E_INVALID_PROPERTY "cases.0.bpium.failures.3/2" is text ("timout"): expected 404, 429, 500, another HTTP status, timeout or network',
    ],
  },
  {
    what: 'item keys of recorded lists are checked, with a did-you-mean',
    text: 'cases:\n  - name: one\n    scenario: HTTP404\n    expect:\n      bpiumCalls: [ { method: getRecord, catalog: "3" } ]\n      mails: [ { subjet: x } ]\n      httpCalls: [ { statusCode: 200 } ]\n      dbCalls: [ { rows: 1 } ]\n',
    lines: ['5:42 E_UNKNOWN_KEY unknown key "catalog"', '6:18 E_UNKNOWN_KEY unknown key "subjet"', '7:22 E_UNKNOWN_KEY unknown key "statusCode"', '8:20 E_UNKNOWN_KEY unknown key "rows"'],
    hint: /^did you mean "catalogId"\?/,
  },
  {
    what: 'the keys of an expected error are checked too, with a did-you-mean, not failed as "got nothing"',
    text: 'cases:\n  - name: one\n    scenario: HTTP404\n    expect:\n      error: { cod: R_EFFECT_LIMIT, retriable: false }\n',
    lines: ['5:16 E_UNKNOWN_KEY unknown key "cod"', '5:37 E_UNKNOWN_KEY unknown key "retriable"'],
    hint: /^did you mean "code"\?/,
  },
  {
    what: 'a mistake in a Bpium fixture file is located in it, the hint naming the test file line using it',
    text: 'bpium: users.yaml\ncases:\n  - name: one\n    scenario: HTTP404\n    expect: {}\n',
    files: { 'users.yaml': 'catalogs:\n  "3":\n    name: Сотрудники\n    record:\n      "2": { "4": ivan@example.com }\n' },
    lines: ['4:5 E_UNKNOWN_KEY unknown key "record"'],
    hint: /^did you mean "records"\? the Bpium fixture of s\/tests\/row\d+\.test\.yaml:1:8; see "--bpium-fixtures" in docs\/cli\.md$/,
  },
  {
    what: 'a YAML slip in a fixture file gets the hint too',
    text: 'cases:\n  - name: one\n    scenario: HTTP404\n    bpium: users.yaml\n    expect: {}\n',
    files: { 'users.yaml': 'catalogs:\n  "3":\n    name: Сотрудники\n   records: {}\n' },
    lines: ['4:4 E_YAML_SYNTAX YAML syntax: All mapping items must start at the same column'],
    hint: /^indent "records" like "name" on line 3 \(column 5\), with spaces/,
  },
  {
    what: 'an expected variable its scenario does not declare',
    text: 'cases:\n  - name: one\n    scenario: Cfg\n    expect: { variables: { limt: 10 } }\n',
    lines: ['4:28 E_INVALID_PROPERTY scenario "Cfg" has no variable "limt"'],
    hint: /^did you mean "limit"\?$/,
  },
  {
    what: 'a preset variable only a started scenario declares, of a type it cannot hold: named with that scenario',
    text: 'cases:\n  - name: one\n    scenario: HTTP404\n    params: { 1: /Bpium/TaskChat }\n    variables: { chatStatus: двести }\n    expect: {}\n',
    lines: ['5:30 E_INVALID_PROPERTY variable "chatStatus" of scenario "BpiumTaskChat" is of type number and cannot hold "двести": cannot convert text "двести" to a number'],
    hint: /^give a value of type number, e\.g\. chatStatus: /,
  },
  {
    what: 'a data set for a connection no scenario uses',
    text: 'cases:\n  - name: one\n    scenario: Cfg\n    db: { mian: "SELECT 1" }\n    expect: {}\n',
    lines: ['4:17 E_UNKNOWN_CONNECTION db.mian: no scenario uses a connection named "mian"'],
    hint: /^did you mean "main"\? the scenarios' connections: main, crm /,
  },
  {
    what: 'a parameter numbered 0: the numbers parameters take and the line to write, not zod\'s "Invalid key in record"',
    text: 'cases:\n  - name: one\n    scenario: HTTP404\n    params: { 0: /Bpium/NewTask }\n    expect: {}\n',
    lines: ['4:15 E_INVALID_PROPERTY "cases.0.params.0": the key "0" is not an input parameter number, 1 to 99'],
    hint: /^number the parameters from 1, as Oktell's «Входной параметр N»: params: \{ 1: \/Bpium\/NewTask, /,
  },
  {
    what: 'a data set under a key that is no connection name',
    text: 'cases:\n  - name: one\n    scenario: Cfg\n    db: { "my db": "SELECT 1" }\n    expect: {}\n',
    lines: ['4:11 E_INVALID_PROPERTY "cases.0.db.my db": the key "my db" is not a connection name'],
  },
  {
    what: 'no case at all: an empty list, and what a case is at least, not zod\'s "Too small"',
    text: 'cases: []\n',
    lines: ['1:8 E_INVALID_PROPERTY "cases" is an empty list: expected at least 1 item'],
    hint: /^a case is at least: cases: \[ \{ name: …, scenario: …, expect: \{ status: completed \} \} \]; see docs\/testing-scenarios\.md$/,
  },
  {
    what: 'an empty name and an effect cap of 0 are said in words',
    text: 'maxEffects: 0\ncases:\n  - name: ""\n    scenario: HTTP404\n    expect: {}\n',
    lines: ['1:13 E_INVALID_PROPERTY "maxEffects" is the number 0: expected 1 or more', '3:11 E_INVALID_PROPERTY "cases.0.name" is empty text: expected some text'],
  },
];

/** A number variable with an initial value, and a statement on connection crm. */
const CFG = `variables:
  limit: { type: number, initial: 10 }
blocks:
  q: { kind: DbQuery, connection: crm, sql: "SELECT 1 AS one", exits: { success: r, error: r } }
  r: { kind: ReturnValue, values: { 1: '[limit]' } }
`;

describe('oktell-emu test: messages for mistakes in test files and their fixtures', () => {
  const tmp = tempDir();
  const scenarios = join(tmp.dir, 's');
  before(() => {
    mkdirSync(join(scenarios, 'tests'), { recursive: true });
    cpSync(repoPath('scenarios', 'HTTP404.yaml'), join(scenarios, 'HTTP404.yaml'));
    cpSync(repoPath('scenarios', 'BpiumNewTask.yaml'), join(scenarios, 'BpiumNewTask.yaml'));
    cpSync(repoPath('scenarios', 'BpiumTaskChat.yaml'), join(scenarios, 'BpiumTaskChat.yaml'));
    cpSync(repoPath('scenarios', 'templates'), join(scenarios, 'templates'), { recursive: true });
    writeFileSync(join(scenarios, 'Cfg.yaml'), CFG);
  });
  after(() => tmp.cleanup());

  ROWS.forEach((row, n) => {
    it(row.what, () => {
      for (const [name, text] of Object.entries(row.files ?? {})) writeFileSync(join(scenarios, 'tests', name), text);
      writeFileSync(join(scenarios, 'tests', `row${n}.test.yaml`), row.text);
      const r = runCli(['test', join(scenarios, 'tests', `row${n}.test.yaml`)], { cwd: tmp.dir, env: { OKTELL_DATABASES: '' } });
      assert.equal(r.code, 2, r.stdout + r.stderr);
      const located = r.stderr.split('\n').filter((l) => / E_/.test(l));
      assert.deepEqual(
        located.map((l) => l.replace(/^\S+?:(\d+:\d+) /, '$1 ')),
        row.lines,
        r.stderr,
      );
      if (row.hint) {
        const hint = r.stderr.split('\n').find((l) => l.startsWith('    hint: '))?.slice('    hint: '.length);
        assert.match(hint ?? '', row.hint, r.stderr);
      }
    });
  });

  it('a data set may name main, the connection of any file (with problems too) and a migrations folder, listed in that order', () => {
    // A statement on connection ledger, in a file with a problem (an unknown variable): its scenario is not loaded.
    const broken = join(scenarios, 'Broken.yaml');
    writeFileSync(broken, `blocks:\n  q: { kind: DbQuery, connection: ledger, sql: "SELECT 1 AS one", exits: { success: r, error: r } }\n  r: { kind: ReturnValue, values: { 1: '[nope]' } }\n`);
    mkdirSync(join(scenarios, 'db', 'archive'), { recursive: true });
    try {
      const file = join(scenarios, 'tests', 'connections.test.yaml');
      writeFileSync(file, 'cases:\n  - name: one\n    scenario: Cfg\n    db: { ledger: "SELECT 1", archive: "SELECT 1", ledgr: "SELECT 1" }\n    expect: {}\n');
      const r = runCli(['test', file], { cwd: tmp.dir, env: { OKTELL_DATABASES: '' } });
      assert.equal(r.code, 2, r.stdout + r.stderr);
      const connections = r.stderr.split('\n').filter((l) => / E_UNKNOWN_CONNECTION /.test(l));
      assert.deepEqual(connections.map((l) => l.replace(/^\S+?:(\d+:\d+) /, '$1 ')), ['4:59 E_UNKNOWN_CONNECTION db.ledgr: no scenario uses a connection named "ledgr"'], r.stderr);
      assert.match(r.stderr, /hint: did you mean "ledger"\? the scenarios' connections: main, crm, ledger, archive \(/);
    } finally {
      rmSync(broken);
      rmSync(join(scenarios, 'db'), { recursive: true });
    }
  });
});
