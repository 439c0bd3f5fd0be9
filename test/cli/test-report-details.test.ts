// What `oktell-emu test` says about a failing case, through the real binary on real files: the error of a run that
// failed unexpectedly (text, --json, JUnit), empty dbCalls/httpCalls expected and kept by --update, one line per
// letter or call when a list has another length, the differing lines of two texts, the mismatches and form problems
// in file order, and --from-run notices kept off a machine-read stdout.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadLibrary } from '../../cli/config.js';
import { formatPlace, match } from '../../cli/testing/expectations.js';
import { refreshed } from '../../cli/testing/update.js';
import { fixedClock, randomIds, runScenario, createInProcessStarter, type EnginePorts } from '../../engine/index.js';
import { runWrite } from '../../server/run-record.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { repoPath, tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

const cli = (args: string[], cwd: string) => runCli(args, { cwd, unset: ['OKTELL_SCENARIOS'], timeoutMs: 60_000 });

/** Fails at its `compute` block (line 12, column 15) when parameter 1 is not a number; returns the number otherwise. */
const FAILS = `variables:
  n: number
  s: string
start: begin
blocks:
  begin:
    kind: Variable
    set: { s: 'InputParameter(1)' }
    exits: { next: compute }
  compute:
    kind: Variable
    set: { n: 'Num([s])' }
    exits: { next: answer }
  answer:
    kind: ReturnValue
    values: { 1: '[n]' }
`;

/** Starts Fails with a parameter it cannot take, and answers 200 itself. */
const STARTS = `start: go
blocks:
  go:
    kind: AsyncScenario
    scenario: Fails
    mode: async
    params: { 1: '"abc"' }
    exits: { next: answer }
  answer:
    kind: ReturnValue
    values: { 2: 200 }
`;

const ERROR_AT = 'scenarios/Fails.yaml:12:15 R_EXPRESSION block "compute": set n: Num: cannot convert text "abc" to a number';

/** The shipped scenarios (letters, Bpium) and the two above, with `tests/<name>` holding `text`. */
function folder(name: string, text: string) {
  const tmp = tempDir();
  const scenarios = join(tmp.dir, 'scenarios');
  cpSync(repoPath('scenarios'), scenarios, { recursive: true });
  writeFileSync(join(scenarios, 'Fails.yaml'), FAILS);
  writeFileSync(join(scenarios, 'Starts.yaml'), STARTS);
  writeFileSync(join(scenarios, 'tests', name), text);
  return { ...tmp, scenarios, file: join(scenarios, 'tests', name), shown: `scenarios/tests/${name}` };
}

const RUN_ERRORS = `cases:
  - name: its own run fails
    scenario: Fails
    params: { 1: abc }
    expect: { status: completed, returnValues: { 1: 5 } }
  - name: the run it starts fails
    scenario: Starts
    expect:
      returnValues: { 2: 201 }
      asyncStarted:
        - scenario: Fails
  - name: the failure is expected, a value is not
    scenario: Fails
    params: { 1: abc }
    expect: { status: failed, error: { code: R_EXPRESSION }, returnValues: { 1: 5 } }
`;

describe('oktell-emu test: a case whose run failed unexpectedly shows the run\'s error', () => {
  it('in the text, under its mismatches, as `run` prints it; for a started run, naming it; not when the failure was expected', () => {
    const f = folder('errors.test.yaml', RUN_ERRORS);
    try {
      const r = cli(['test', f.shown], f.dir);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const blocks = r.stdout.split(/\n(?=[✓✗])/);
      const own = blocks.find((b) => b.includes('› its own run fails'))!;
      assert.ok(own.includes(`\n    error ${ERROR_AT}`), own);
      const child = blocks.find((b) => b.includes('› the run it starts fails'))!;
      assert.ok(child.includes(`\n    error in started run Fails (asyncStarted[0].result): ${ERROR_AT}`), child);
      const expected = blocks.find((b) => b.includes('› the failure is expected'))!;
      assert.match(expected, /returnValues\.1: expected 5 got nothing/);
      assert.doesNotMatch(expected, /error /, expected);
    } finally {
      f.cleanup();
    }
  });

  it('in --json, as runErrors of the failed case with the place of the run, and in the JUnit failure text', () => {
    const f = folder('errors.test.yaml', RUN_ERRORS);
    try {
      const r = cli(['test', f.shown, '--json'], f.dir);
      assert.equal(r.code, 1, r.stderr);
      const out = JSON.parse(r.stdout) as { cases: Array<{ name: string; runErrors?: Array<Record<string, unknown>> }> };
      const errors = (name: string) => out.cases.find((c) => c.name === name)!.runErrors?.map((e) => [e.place, e.scenario, e.code, e.block, e.file, e.line, e.col]);
      assert.deepEqual(errors('its own run fails'), [['', 'Fails', 'R_EXPRESSION', 'compute', 'scenarios/Fails.yaml', 12, 15]]);
      assert.deepEqual(errors('the run it starts fails'), [['asyncStarted[0].result', 'Fails', 'R_EXPRESSION', 'compute', 'scenarios/Fails.yaml', 12, 15]]);
      assert.equal(errors('the failure is expected, a value is not'), undefined);

      const junit = cli(['test', f.shown, '--reporter', 'junit'], f.dir);
      assert.equal(junit.code, 1, junit.stderr);
      const escaped = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
      assert.ok(junit.stdout.includes(`&#10;error ${escaped(ERROR_AT)}`), junit.stdout);
      assert.ok(junit.stdout.includes(`error in started run Fails (asyncStarted[0].result): ${escaped(ERROR_AT)}`), junit.stdout);
    } finally {
      f.cleanup();
    }
  });
});

describe('oktell-emu test: dbCalls: [] and httpCalls: []', () => {
  it('pass when the run made no statement and no request, and --update keeps them', () => {
    const f = folder('none.test.yaml', `cases:
  - name: no calls
    scenario: Fails
    params: { 1: "5" }
    expect: { dbCalls: [], httpCalls: [], returnValues: { 1: 5 } }
  - name: no calls, a value changed
    scenario: Fails
    params: { 1: "6" }
    expect: { dbCalls: [], httpCalls: [], returnValues: { 1: 5 } }
`);
    try {
      const r = cli(['test', f.shown, '--filter', 'no calls'], f.dir);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /^✓ scenarios\/tests\/none\.test\.yaml › no calls \(/m);
      assert.doesNotMatch(r.stdout, /dbCalls|httpCalls/);
      assert.equal(cli(['test', f.shown, '--update'], f.dir).code, 0);
      assert.match(readFileSync(f.file, 'utf8'), /params: \{ 1: "6" \}\n {4}expect: \{ dbCalls: \[\], httpCalls: \[\], returnValues: \{ 1: 6 \} \}/);
    } finally {
      f.cleanup();
    }
  });
});

describe('oktell-emu test: lists of another length and texts of several lines', () => {
  it('a list of letters or calls shows one line per item, the extra and the missing ones marked', () => {
    const f = folder('lists.test.yaml', `bpium: bpium-users.yaml
clock: 2026-11-28T09:00:00Z
timeZone: Europe/Moscow
cases:
  - name: one letter expected, two written
    scenario: BpiumNewTask
    params: { 1: "@webhooks/two-responsible.json" }
    expect:
      mails:
        - to: [ivan.petrov@example.com]
      bpiumCalls:
        - { method: getRecord, catalogId: "3", recordId: "2" }
        - { method: getRecord, catalogId: "3", recordId: "4", status: ok }
        - { method: getRecord, catalogId: "3", recordId: "3" }
`);
    try {
      const r = cli(['test', f.shown], f.dir);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const lines = r.stdout.split('\n');
      const at = (text: string) => lines.findIndex((l) => l.includes(text));
      const mails = at('mails: expected 1 item(s) got 2 item(s)');
      assert.ok(mails > 0, r.stdout);
      assert.deepEqual(lines.slice(mails + 1, mails + 3), [
        '          [0] to ivan.petrov@example.com "Новая задача: Перезвонить клиенту"',
        '        + [1] to maria.smirnova@example.org "Новая задача: Перезвонить клиенту" (extra)',
      ]);
      const calls = at('bpiumCalls: expected 3 item(s) got 2 item(s)');
      assert.deepEqual(lines.slice(calls + 1, calls + 4), [
        '          [0] getRecord catalog 3 record 2 → ok',
        '        - getRecord catalog 3 record 4 → ok (missing: item [1] of the expectation)',
        '          [1] getRecord catalog 3 record 3 → ok',
      ]);
      assert.doesNotMatch(r.stdout, /"block":/, 'no JSON dump of the letters');

      const json = JSON.parse(cli(['test', f.shown, '--json'], f.dir).stdout) as { cases: Array<{ failures: Array<{ place: string; detail?: string[] }> }> };
      assert.deepEqual(json.cases[0]!.failures.find((x) => x.place === 'mails')!.detail, [
        '  [0] to ivan.petrov@example.com "Новая задача: Перезвонить клиенту"',
        '+ [1] to maria.smirnova@example.org "Новая задача: Перезвонить клиенту" (extra)',
      ]);
    } finally {
      f.cleanup();
    }
  });

  it('a long list shows its extra and missing items with the item before and after each, the others counted', () => {
    const call = (id: number) => ({ method: 'getRecord', catalogId: '3', recordId: String(id), status: 'ok' });
    const expected = Array.from({ length: 100 }, (_, i) => call(i));
    const [m] = match({ bpiumCalls: expected }, { bpiumCalls: [...expected.slice(0, 50), call(500), ...expected.slice(50)] });
    assert.equal(m!.actual, '101 item(s)');
    assert.deepEqual(m!.detail, [
      '  … 49 item(s) as expected',
      '  [49] getRecord catalog 3 record 49 → ok',
      '+ [50] getRecord catalog 3 record 500 → ok (extra)',
      '  [51] getRecord catalog 3 record 50 → ok',
      '  … 49 item(s) as expected',
    ]);
    // Too long to pair every item with every other: compared at the same position.
    const many = Array.from({ length: 250 }, (_, i) => call(i));
    const [p] = match({ bpiumCalls: many }, { bpiumCalls: [...many, call(999)] });
    assert.deepEqual(p!.detail, ['  … 249 item(s) as expected', '  [249] getRecord catalog 3 record 249 → ok', '+ [250] getRecord catalog 3 record 999 → ok (extra)']);
  });

  it('two texts of several lines: the differing line numbered from each side, with a line of context', () => {
    const mismatches = match({ mails: [{ text: 'Здравствуйте!\n\nСделка «Станки»\nсумма 25000 руб.\n--\n' }] }, { mails: [{ text: 'Здравствуйте!\n\nСделка «Станки»\nсумма 250000 руб.\n--\n' }] });
    assert.deepEqual(mismatches.map((m) => [formatPlace(m.place), m.expected, m.actual, m.detail]), [
      [
        'mails[0].text',
        'a text of 6 line(s)',
        'one that differs at line 4 (- expected, + got)',
        ['     3 "Сделка «Станки»"', '-    4 "сумма 25000 руб."', '+    4 "сумма 250000 руб."', '     5 "--"'],
      ],
    ]);
    // One-line values stay as they were: both values, quoted.
    assert.deepEqual(match({ subject: 'a' }, { subject: 'b' }).map((m) => [m.expected, m.actual, m.detail]), [['"a"', '"b"', undefined]]);
  });
});

describe('oktell-emu test: file order', () => {
  it('a case\'s mismatches are listed by their line in the test file, not by the order of the expectation\'s keys', () => {
    const f = folder('order.test.yaml', `cases:
  - name: two mismatches
    scenario: Fails
    params: { 1: "5" }
    expect:
      returnValues: { 1: 6 }
      path: [begin]
      status: failed
`);
    try {
      const r = cli(['test', f.shown], f.dir);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const located = r.stdout.split('\n').filter((l) => l.startsWith(`    ${f.shown}:`)).map((l) => l.trim().split(' ').slice(0, 2).join(' '));
      assert.deepEqual(located, [`${f.shown}:6:26 returnValues.1:`, `${f.shown}:7:13 path:`, `${f.shown}:8:15 status:`]);
    } finally {
      f.cleanup();
    }
  });

  it('an { edges } expectation is placed at its length: or at the item of first/last that differs, not at path:', () => {
    const f = folder('edges.test.yaml', `cases:
  - name: another length
    scenario: Fails
    params: { 1: "5" }
    expect:
      path: { edges: { first: [begin], length: 4 } }
  - name: a last item differs
    scenario: Fails
    params: { 1: "5" }
    expect:
      path:
        edges:
          first: [begin]
          last: [compute, end]
          length: 3
`);
    try {
      const r = cli(['test', f.shown], f.dir);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const located = r.stdout.split('\n').filter((l) => l.startsWith(`    ${f.shown}:`)).map((l) => l.trim().split(' ').slice(0, 2).join(' '));
      // The 4 of length: 4 (line 6, column 48); the end of last: [compute, end] (line 14, column 27), told as the run's path[2].
      assert.deepEqual(located, [`${f.shown}:6:48 path:`, `${f.shown}:14:27 path[2]:`]);
    } finally {
      f.cleanup();
    }
  });

  it('--update keeps an { edges } expectation in its form: the new length and the new last item, then the case passes', () => {
    const f = folder('edges-update.test.yaml', `cases:
  - name: a cut path
    scenario: Fails
    params: { 1: "5" }
    expect:
      path:
        edges:
          first: [begin]
          last: [done]   # where it ends
          length: 4
`);
    try {
      assert.equal(cli(['test', f.shown, '--update'], f.dir).code, 0);
      const after = readFileSync(f.file, 'utf8');
      assert.match(after, /path:\n {8}edges:\n {10}first: \[begin\]\n {10}last: \[answer\] {3}# where it ends\n {10}length: 3\n/);
      const again = cli(['test', f.shown], f.dir);
      assert.equal(again.code, 0, again.stdout + again.stderr);
    } finally {
      f.cleanup();
    }
  });

  it('the form problems of a test file are listed by line, in the text and in --json', () => {
    const f = folder('bad.test.yaml', `cases:
  - name: a
    scenario: Fails
    extra: 1
    expect: { status: done }
`);
    try {
      const r = cli(['test', f.shown], f.dir);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      const located = r.stderr.split('\n').filter((l) => l.startsWith(f.shown)).map((l) => l.split(' ').slice(0, 2).join(' '));
      assert.deepEqual(located, [`${f.shown}:4:5 E_UNKNOWN_KEY`, `${f.shown}:5:23 E_INVALID_PROPERTY`]);
      const json = JSON.parse(cli(['test', f.shown, '--json'], f.dir).stdout) as { issues: Array<{ line: number }> };
      assert.deepEqual(json.issues.map((i) => i.line), [4, 5]);
    } finally {
      f.cleanup();
    }
  });
});

describe('oktell-emu test --from-run with --json or --reporter junit', () => {
  it('writes its notices to stderr: stdout is exactly the JSON object, or the XML', async () => {
    const f = folder('other.test.yaml', 'cases:\n  - { name: other, scenario: Fails, params: { 1: "1" }, expect: { status: completed } }\n');
    const { library, templates } = await loadLibrary(f.scenarios, undefined, 'Europe/Moscow');
    const ports: EnginePorts = { templates, clock: fixedClock(new Date('2026-11-30T07:15:00Z')), ids: randomIds, asyncStarter: createInProcessStarter(randomIds, async () => { throw new Error('Fails starts nothing'); }) };
    const result = await runScenario(library, 'Fails', { params: { 1: '5' }, dryRun: true, timeZone: 'Europe/Moscow', ports });
    mkdirSync(join(f.dir, 'var'));
    const store = await openSqliteStore({ file: join(f.dir, 'var', 'oktell.sqlite') });
    await store.recordRun(runWrite(result, { trigger: 'cli', params: { 1: '5' } }));
    await store.close();
    try {
      const json = cli(['test', '--from-run', result.runId, '--name', 'as json', '-d', 'var', '-s', 'scenarios', '--json'], f.dir);
      assert.equal(json.code, 0, json.stdout + json.stderr);
      assert.equal((JSON.parse(json.stdout) as { passed: number }).passed, 1, json.stdout);
      assert.match(json.stderr, /^\+ case "as json" written to scenarios\/tests\/recorded\.test\.yaml\n/);

      const junit = cli(['test', '--from-run', result.runId, '--name', 'as junit', '-d', 'var', '-s', 'scenarios', '--reporter', 'junit'], f.dir);
      assert.equal(junit.code, 0, junit.stdout + junit.stderr);
      assert.match(junit.stdout, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites /);
      assert.match(junit.stderr, /^\+ case "as junit" written to /);

      // Read by a person, the notice stays where the report is.
      const text = cli(['test', '--from-run', result.runId, '--name', 'as text', '-d', 'var', '-s', 'scenarios'], f.dir);
      assert.match(text.stdout, /^\+ case "as text" written to /);
    } finally {
      f.cleanup();
    }
  });
});

describe('--update of dbCalls: [] once the scenario makes a statement', () => {
  it('writes the statement as a recorded case expects it (connection, statement, status, rowCount), not every field of the run', () => {
    const statement = { connection: 'main', statement: 'INSERT INTO deal_audit (amount) VALUES (:amount)', params: { amount: 5 }, status: 'ok', rowCount: 1, rolledBack: true, block: 'audit' };
    assert.deepEqual(refreshed({ dbCalls: [] }, { dbCalls: [statement] }), { dbCalls: [{ connection: 'main', statement: statement.statement, status: 'ok', rowCount: 1 }] });
  });
});
