// Problems of a scenario test file whose form is right: a case's `variables:` preset that the variable's type cannot
// hold is a located problem (the run would silently keep the initial value); scenario names and variables are
// reported in the same round as @files, fixtures and clocks, and each problem keeps only the cases it concerns from
// running (a file-wide setting: the cases using it).
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

/** A number with an initial value, a datetime and a json variable, all returned. */
const CFG = `variables:
  limit: { type: number, initial: 10 }
  since: datetime
  extra: json
blocks:
  r:
    kind: ReturnValue
    values: { 1: '[limit] + 1', 2: '[since]', 3: '[extra]' }
`;

describe('oktell-emu test: case variables its scenario cannot hold', () => {
  const tmp = tempDir();
  const scenarios = join(tmp.dir, 's');
  before(() => {
    mkdirSync(join(scenarios, 'tests'), { recursive: true });
    writeFileSync(join(scenarios, 'Cfg.yaml'), CFG);
  });
  after(() => tmp.cleanup());
  const test = (name: string, text: string, ...args: string[]) => {
    writeFileSync(join(scenarios, 'tests', name), text);
    return runCli(['test', join(scenarios, 'tests', name), ...args], { cwd: tmp.dir });
  };

  it('a value the type refuses is E_INVALID_PROPERTY at the value, naming variable, type and value; the other case runs', () => {
    const r = test(
      'types.test.yaml',
      `cases:
  - name: preset wrong type
    scenario: Cfg
    variables: { limit: "много", since: "вчера", extra: "{not json" }
    expect: { returnValues: { 1: 11 }, variables: { limit: 10 } }
  - name: preset right type
    scenario: Cfg
    variables: { limit: 5, since: "2026-03-15T09:30:00Z", extra: '{"a": 1}' }
    expect: { returnValues: { 1: 6 } }
`,
    );
    assert.equal(r.code, 2, r.stdout + r.stderr);
    const lines = r.stderr.split('\n').filter((l) => / E_/.test(l));
    assert.deepEqual(lines.slice(0, 2), [
      's/tests/types.test.yaml:4:25 E_INVALID_PROPERTY variable "limit" of scenario "Cfg" is of type number and cannot hold "много": cannot convert text "много" to a number',
      's/tests/types.test.yaml:4:41 E_INVALID_PROPERTY variable "since" of scenario "Cfg" is of type datetime and cannot hold "вчера": cannot read text "вчера" as a date (expected dd.MM.yyyy HH:mm:ss, dd.MM.yyyy or ISO 8601 such as 2024-03-15T09:30:00)',
    ]);
    // JSON.parse's own wording differs between Node versions: only what this project writes is compared.
    assert.ok(lines[2]?.startsWith('s/tests/types.test.yaml:4:57 E_INVALID_PROPERTY variable "extra" of scenario "Cfg" is of type json and cannot hold "{not json": text "{not json" is not valid JSON'), lines[2]);
    assert.equal(lines.length, 3, r.stderr);
    assert.match(r.stderr, /hint: give a value of type number, e\.g\. limit: 10/);
    assert.doesNotMatch(r.stdout, /preset wrong type/, 'the case with the problem does not run');
    assert.match(r.stdout, /^✓ s\/tests\/types\.test\.yaml › preset right type /m);
    assert.equal(r.stdout.trim().split('\n').at(-1), '1 passed, 0 failed; 3 problem(s) listed above (the cases they concern did not run)');
  });

  it('a mistyped timeZone, of the file or of a case, is E_INVALID_PROPERTY with the zone meant (trial 38 #12)', () => {
    const r = test(
      'zones.test.yaml',
      `timeZone: Europe/Moskow
cases:
  - name: own zone
    scenario: Cfg
    timeZone: Asia/Ekaterinburg
    expect: { status: completed }
  - name: far off
    scenario: Cfg
    timeZone: Mars/Olympus
    expect: { status: completed }
`,
    );
    assert.equal(r.code, 2, r.stdout + r.stderr);
    const lines = r.stderr.split('\n');
    const hintAfter = (problem: string) => lines[lines.findIndex((l) => l.includes(problem)) + 1]?.trim();
    assert.match(r.stderr, /zones\.test\.yaml:1:11 E_INVALID_PROPERTY unknown time zone "Europe\/Moskow"/);
    assert.equal(hintAfter('"Europe/Moskow"'), 'hint: did you mean Europe/Moscow? use an IANA name such as Europe/Moscow or UTC');
    assert.match(r.stderr, /zones\.test\.yaml:5:15 E_INVALID_PROPERTY unknown time zone "Asia\/Ekaterinburg"/);
    assert.equal(hintAfter('"Asia/Ekaterinburg"'), 'hint: did you mean Asia/Yekaterinburg? use an IANA name such as Europe/Moscow or UTC');
    assert.equal(hintAfter('"Mars/Olympus"'), 'hint: use an IANA name such as Europe/Moscow or UTC');
  });

  it('values a variable converts are accepted: numeric text and a number for text', () => {
    const r = test('convert.test.yaml', `cases:\n  - name: converted\n    scenario: Cfg\n    variables: { limit: "41" }\n    expect: { returnValues: { 1: 42 } }\n`);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });
});

/** Start parameter 1 into p, returned. */
const ROUTER = `variables: { p: string }
blocks:
  begin: { kind: Start, param: p, exits: { next: save } }
  save: { kind: ReturnValue, values: { 1: '[p]' } }
`;

describe('oktell-emu test: every problem of a loaded test file in one round, each keeping only its cases from running', () => {
  const tmp = tempDir();
  const scenarios = join(tmp.dir, 's');
  before(() => {
    mkdirSync(join(scenarios, 'tests'), { recursive: true });
    writeFileSync(join(scenarios, 'Cfg.yaml'), CFG);
    writeFileSync(join(scenarios, 'Router.yaml'), ROUTER);
  });
  after(() => tmp.cleanup());
  const test = (name: string, text: string) => {
    writeFileSync(join(scenarios, 'tests', name), text);
    return runCli(['test', join(scenarios, 'tests', name)], { cwd: tmp.dir });
  };
  const problems = (stderr: string) => stderr.split('\n').filter((l) => / E_/.test(l)).map((l) => l.replace(/^\S+?:(\d+:\d+) (E_\w+) .*$/, '$1 $2'));

  it('unknown scenario and variable come with a missing @file and a bad clock; the case without a problem runs', () => {
    const r = test(
      'mixed.test.yaml',
      `cases:
  - name: fine
    scenario: Router
    params: { 1: /crm/lead }
    expect: { path: [begin, save], returnValues: { 1: /crm/lead } }
  - name: unknown scenario
    scenario: Routr
    expect: { status: completed }
  - name: missing file
    scenario: Router
    params: { 1: "@nofile.json" }
    expect: { status: completed }
  - name: bad variable
    scenario: Cfg
    variables: { limt: 1 }
    expect: { status: completed }
  - name: bad clock
    scenario: Router
    clock: 15.03.2024
    expect: { status: completed }
`,
    );
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.deepEqual(problems(r.stderr), ['7:15 E_UNKNOWN_SCENARIO', '11:18 E_READ_FAILED', '15:24 E_INVALID_PROPERTY', '19:12 E_INVALID_PROPERTY']);
    assert.deepEqual(r.stdout.split('\n').filter((l) => l.startsWith('✓') || l.startsWith('✗')).map((l) => l.replace(/ \(.*$/, '')), ['✓ s/tests/mixed.test.yaml › fine']);
    assert.equal(r.stdout.trim().split('\n').at(-1), '1 passed, 0 failed; 4 problem(s) listed above (the cases they concern did not run)');
  });

  it('the test file\'s problems come in the order of its lines, then those inside a fixture file it names (trial s33-docs1 #9)', () => {
    writeFileSync(join(scenarios, 'tests', 'users.yaml'), 'catalogs:\n  "3":\n    record: {}\n');
    const r = test(
      'order.test.yaml',
      `cases:
  - name: bad variable
    scenario: Cfg
    variables: { limt: 1 }
    expect: { status: completed }
  - name: missing file
    scenario: Router
    params: { 1: "@nofile.json" }
    expect: { status: completed }
  - name: bad fixture file
    scenario: Router
    bpium: users.yaml
    expect: { status: completed }
`,
    );
    assert.equal(r.code, 2, r.stdout + r.stderr);
    const lines = r.stderr.split('\n').filter((l) => / E_/.test(l)).map((l) => l.replace(/^\S*?([\w.-]+):(\d+:\d+) (E_\w+) .*$/, '$1:$2 $3'));
    assert.deepEqual(lines, ['order.test.yaml:4:24 E_INVALID_PROPERTY', 'order.test.yaml:8:18 E_READ_FAILED', 'users.yaml:3:5 E_UNKNOWN_KEY']);
    assert.match(r.stderr, /the Bpium fixture of \S*order\.test\.yaml:12:12/);
  });

  it('a bad file-wide clock or fixture stops the cases using it; a case with its own still runs', () => {
    const r = test(
      'file-wide.test.yaml',
      `clock: yesterday
bpium: missing-fixture.yaml
cases:
  - name: uses the file's clock
    scenario: Router
    params: { 1: a }
    bpium: { catalogs: {} }
    expect: { returnValues: { 1: a } }
  - name: uses the file's fixture
    scenario: Router
    params: { 1: b }
    clock: 2026-03-15T09:30:00Z
    expect: { returnValues: { 1: b } }
  - name: its own clock and fixture
    scenario: Router
    params: { 1: c }
    clock: 2026-03-15T09:30:00Z
    bpium: { catalogs: {} }
    expect: { returnValues: { 1: c } }
`,
    );
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.deepEqual(problems(r.stderr), ['1:8 E_INVALID_PROPERTY', '2:8 E_READ_FAILED']);
    assert.deepEqual(r.stdout.split('\n').filter((l) => /^[✓✗]/.test(l)).map((l) => l.replace(/ \(.*$/, '')), ['✓ s/tests/file-wide.test.yaml › its own clock and fixture']);
  });

  it('a repeated case name stops the repeated case only', () => {
    const r = test('names.test.yaml', 'cases:\n  - name: same\n    scenario: Router\n    params: { 1: a }\n    expect: { returnValues: { 1: a } }\n  - name: same\n    scenario: Router\n    expect: {}\n');
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.deepEqual(problems(r.stderr), ['6:11 E_INVALID_PROPERTY']);
    assert.match(r.stdout, /^1 passed, 0 failed; 1 problem\(s\) listed above/m);
  });

  it('a mistake in the form still stops the whole file, with every form mistake at once', () => {
    const r = test('form.test.yaml', 'cases:\n  - name: a\n    scenario: Routr\n    expct: {}\n  - name: b\n    scenario: Router\n    clock: 5\n    expect: {}\n');
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.deepEqual(problems(r.stderr), ['2:5 E_MISSING_PROPERTY', '4:5 E_UNKNOWN_KEY', '7:12 E_INVALID_PROPERTY']);
    assert.match(r.stderr, /no case was run/);
  });
});

/** One POST, answered by the case's fixture (or the dry run's default 200). */
/** A test file with a mistake in an inline fixture: the problems `test` reports, the cases it ran, its last line. */
interface InlineFixtureRow {
  name: string;
  text: string;
  problems: string[];
  ran: string[];
  last: string;
}

/** Runs `test` on the row's file as s/tests/t.test.yaml under `cwd` and checks what it reports and runs. */
function checkRow(row: InlineFixtureRow, cwd: string): void {
  writeFileSync(join(cwd, 's', 'tests', 't.test.yaml'), row.text);
  const r = runCli(['test', join('s', 'tests', 't.test.yaml')], { cwd });
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.deepEqual(r.stderr.split('\n').filter((l) => /^(\S+:\d+:\d+ E_| {4}hint: )/.test(l)), row.problems);
  assert.deepEqual(r.stdout.split('\n').filter((l) => /^[✓✗] s\//.test(l)).map((l) => l.replace(/ \(.*$/, '')), row.ran);
  assert.equal(`${r.stdout}${r.stderr}`.trim().split('\n').filter((l) => /passed|no case was run/.test(l)).at(-1), row.last);
}

const POST = `blocks:
  send:
    kind: WebRequest
    method: POST
    url: '"https://sms.example.ru/api/send"'
    body: '"hi"'
    exits: { success: null }
`;

describe('oktell-emu test: a mistake inside an inline http: fixture stops only the cases using that fixture', () => {
  const tmp = tempDir();
  const scenarios = join(tmp.dir, 's');
  before(() => {
    mkdirSync(join(scenarios, 'tests'), { recursive: true });
    writeFileSync(join(scenarios, 'Post.yaml'), POST);
  });
  after(() => tmp.cleanup());
  const good = (name: string, status = 201) => `  - name: ${name}
    scenario: Post
    http: [{ match: "POST https://sms.example.ru/*", status: ${status} }]
    expect: { httpCalls: [{ status: ${status} }] }
`;
  const rows: InlineFixtureRow[] = [
    {
      name: 'a misspelt key in one case\'s fixture: at the key, with the key it likely means; the cases before and after run',
      text: `cases:\n${good('before')}  - name: misspelt\n    scenario: Post\n    http:\n      - match: POST https://sms.example.ru/*\n        stauts: 201\n    expect: { httpCalls: [{ status: 201 }] }\n${good('after', 202)}`,
      problems: ['s/tests/t.test.yaml:10:9 E_UNKNOWN_KEY unknown key "stauts"', '    hint: did you mean "status"? see docs/testing-scenarios.md'],
      ran: ['✓ s/tests/t.test.yaml › before', '✓ s/tests/t.test.yaml › after'],
      last: '2 passed, 0 failed; 1 problem(s) listed above (the cases they concern did not run)',
    },
    {
      name: 'a key far from any: the known keys',
      text: `cases:\n  - name: colour\n    scenario: Post\n    http: [{ match: "POST https://sms.example.ru/*", colour: red }]\n    expect: {}\n${good('other')}`,
      problems: ['s/tests/t.test.yaml:4:54 E_UNKNOWN_KEY unknown key "colour"', '    hint: known keys: match, status, headers, body, json, fail; see docs/testing-scenarios.md'],
      ran: ['✓ s/tests/t.test.yaml › other'],
      last: '1 passed, 0 failed; 1 problem(s) listed above (the cases they concern did not run)',
    },
    {
      name: 'a value of the wrong kind in one case\'s fixture, and a misspelt key in another\'s: each stops its own case',
      text: `cases:\n${good('fine')}  - name: wordy status\n    scenario: Post\n    http: [{ match: "POST https://sms.example.ru/*", status: two hundred }]\n    expect: {}\n  - name: misspelt\n    scenario: Post\n    http: [{ match: "POST https://sms.example.ru/*", jsn: {} }]\n    expect: {}\n`,
      problems: [
        's/tests/t.test.yaml:8:62 E_INVALID_PROPERTY "cases.1.http.0.status" is text ("two hundred"): expected a whole number',
        '    hint: see docs/testing-scenarios.md',
        's/tests/t.test.yaml:12:54 E_UNKNOWN_KEY unknown key "jsn"',
        '    hint: did you mean "json"? see docs/testing-scenarios.md',
      ],
      ran: ['✓ s/tests/t.test.yaml › fine'],
      last: '1 passed, 0 failed; 2 problem(s) listed above (the cases they concern did not run)',
    },
    {
      name: 'in the file-wide fixture: the cases using it stop, a case with its own runs',
      text: `http:\n  - match: POST https://sms.example.ru/*\n    stauts: 201\ncases:\n  - name: uses the file's\n    scenario: Post\n    expect: {}\n${good('its own')}`,
      problems: ['s/tests/t.test.yaml:3:5 E_UNKNOWN_KEY unknown key "stauts"', '    hint: did you mean "status"? see docs/testing-scenarios.md'],
      ran: ['✓ s/tests/t.test.yaml › its own'],
      last: '1 passed, 0 failed; 1 problem(s) listed above (the cases they concern did not run)',
    },
    {
      name: 'with a mistake elsewhere in the form, the whole file stops, every mistake listed',
      text: `cases:\n${good('fine')}  - name: misspelt\n    scenario: Post\n    http: [{ match: "POST https://sms.example.ru/*", stauts: 201 }]\n    expct: {}\n`,
      problems: [
        's/tests/t.test.yaml:6:5 E_MISSING_PROPERTY "cases.1.expect" is required',
        '    hint: see docs/testing-scenarios.md',
        's/tests/t.test.yaml:8:54 E_UNKNOWN_KEY unknown key "stauts"',
        '    hint: did you mean "status"? see docs/testing-scenarios.md',
        's/tests/t.test.yaml:9:5 E_UNKNOWN_KEY unknown key "expct"',
        '    hint: did you mean "expect"? see docs/testing-scenarios.md',
      ],
      ran: [],
      last: '✗ 3 problem(s): no case was run',
    },
  ];
  for (const row of rows) it(row.name, () => checkRow(row, tmp.dir));
});

/** getRecord of user 2 of catalog 3: its name (field 1), or "bad <code>" on the error exit. */
const READ = `variables: { nm: string, code: string }
blocks:
  find:
    kind: Bpium
    method: getRecord
    catalog: '"3"'
    record: '"2"'
    fields: { nm: '"1"' }
    errorCode: code
    exits: { success: ok, error: bad }
  ok: { kind: ReturnValue, values: { 1: '[nm]' } }
  bad: { kind: ReturnValue, values: { 1: '"bad " + [code]' } }
`;

describe('oktell-emu test: a mistake inside an inline bpium: fixture stops only the cases using that fixture', () => {
  const tmp = tempDir();
  const scenarios = join(tmp.dir, 's');
  before(() => {
    mkdirSync(join(scenarios, 'tests'), { recursive: true });
    writeFileSync(join(scenarios, 'Read.yaml'), READ);
  });
  after(() => tmp.cleanup());
  /** A case with a right inline fixture: it runs, and passes on the name it reads. */
  const good = (name: string, who = 'Иван') => `  - name: ${name}
    scenario: Read
    bpium: { catalogs: { "3": { records: { "2": { "1": ${who} } } } } }
    expect: { returnValues: { 1: ${who} } }
`;
  const rows: InlineFixtureRow[] = [
    {
      name: 'a misspelt key in one case\'s fixture: at the key, with the key it likely means; the cases before and after run',
      text: `cases:
${good('before')}  - name: misspelt
    scenario: Read
    bpium:
      catalogs:
        "3":
          recods: { "2": { "1": Иван } }
    expect: { returnValues: { 1: Иван } }
${good('after', 'Мария')}`,
      problems: ['s/tests/t.test.yaml:11:11 E_UNKNOWN_KEY unknown key "recods"', '    hint: did you mean "records"? see docs/testing-scenarios.md'],
      ran: ['✓ s/tests/t.test.yaml › before', '✓ s/tests/t.test.yaml › after'],
      last: '2 passed, 0 failed; 1 problem(s) listed above (the cases they concern did not run)',
    },
    {
      name: 'a value of the wrong kind: at the value, with the value it likely means; a failing case of the same file fails on its own',
      text: `cases:
  - name: misspelt failure
    scenario: Read
    bpium: { catalogs: { "3": { records: {} } }, failures: { "3/2": tiemout } }
    expect: { returnValues: { 1: bad BPIUM_TIMEOUT } }
${good('fine')}${good('wrong name', 'Пётр').replace('{ 1: Пётр }', '{ 1: Павел }')}`,
      problems: [
        's/tests/t.test.yaml:4:69 E_INVALID_PROPERTY "cases.0.bpium.failures.3/2" is text ("tiemout"): expected 404, 429, 500, another HTTP status, timeout or network',
        '    hint: did you mean "timeout"? see docs/testing-scenarios.md',
      ],
      ran: ['✓ s/tests/t.test.yaml › fine', '✗ s/tests/t.test.yaml › wrong name'],
      last: '1 passed, 1 failed; 1 problem(s) listed above (the cases they concern did not run)',
    },
    {
      name: 'in the file-wide fixture: the cases using it stop, a case with its own runs',
      text: `bpium:
  catalogs:
    "3": { record: { "2": { "1": Иван } } }
cases:
  - name: uses the file's
    scenario: Read
    expect: {}
${good('its own')}`,
      problems: ['s/tests/t.test.yaml:3:12 E_UNKNOWN_KEY unknown key "record"', '    hint: did you mean "records"? see docs/testing-scenarios.md'],
      ran: ['✓ s/tests/t.test.yaml › its own'],
      last: '1 passed, 0 failed; 1 problem(s) listed above (the cases they concern did not run)',
    },
    {
      name: 'with a mistake elsewhere in the form, the whole file stops, every mistake listed',
      text: `cases:
${good('fine')}  - name: misspelt
    scenario: Read
    bpium: { catalogs: { "3": { recods: {} } } }
    expct: {}
`,
      problems: [
        's/tests/t.test.yaml:6:5 E_MISSING_PROPERTY "cases.1.expect" is required',
        '    hint: see docs/testing-scenarios.md',
        's/tests/t.test.yaml:8:33 E_UNKNOWN_KEY unknown key "recods"',
        '    hint: did you mean "records"? see docs/testing-scenarios.md',
        's/tests/t.test.yaml:9:5 E_UNKNOWN_KEY unknown key "expct"',
        '    hint: did you mean "expect"? see docs/testing-scenarios.md',
      ],
      ran: [],
      last: '✗ 3 problem(s): no case was run',
    },
  ];
  for (const row of rows) it(row.name, () => checkRow(row, tmp.dir));
});
