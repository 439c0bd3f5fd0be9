// `oktell-emu test` and `validate` as CI steps: a test file's mistakes said as what they are (a `path:` step that is
// no block of the scenario, an `@file` with a typo), a misnamed test file not silently skipped, an empty scenarios
// folder not passed as valid, and names with control characters kept apart and harmless in JUnit XML and in the log.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

/** Hook answers 200 and starts Child; Child returns its parameter. */
const HOOK = [
  'blocks:',
  '  save: { kind: Start, exits: { next: isNewTask } }',
  `  isNewTask: { kind: Variable, set: { n: '1' }, exits: { next: start } }`,
  '  start: { kind: AsyncScenario, scenario: Child, exits: { next: acknowledge } }',
  `  acknowledge: { kind: ReturnValue, values: { 1: '"ok"' } }`,
  'variables:',
  '  n: number',
  '',
].join('\n');
const CHILD = ['blocks:', `  echo: { kind: ReturnValue, values: { 1: 'InputParameter(1)' } }`, ''].join('\n');

describe('oktell-emu test in a CI pipeline', () => {
  const tmp = tempDir();
  const scenarios = join(tmp.dir, 's');
  const tests = join(scenarios, 'tests');
  before(() => {
    mkdirSync(join(tests, 'webhooks'), { recursive: true });
    writeFileSync(join(scenarios, 'Hook.yaml'), HOOK);
    writeFileSync(join(scenarios, 'Child.yaml'), CHILD);
    writeFileSync(join(tests, 'webhooks', 'one-responsible.json'), '{"a":1}');
  });
  after(() => tmp.cleanup());
  const write = (dir: string, name: string, text: string) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };

  it('a path: step that is no block of the scenario says so under the difference, with the block it likely means', () => {
    const file = write(
      join(tmp.dir, 'p', 's', 'tests'),
      'path.test.yaml',
      `scenarios: ${JSON.stringify(scenarios)}
cases:
  - name: typo in the path
    scenario: Hook
    expect:
      path: [save, isNewTsk, start, acknowledge]
  - name: typo in an edge of a started run
    scenario: Hook
    expect:
      asyncStarted:
        - scenario: Child
          result: { path: { edges: { first: [ehco, zzzzzzzz] } } }
  - name: a step too many, one unknown
    scenario: Hook
    expect: { path: [save, isNewTask, start, acknowledge, finish] }
  - name: right path
    scenario: Hook
    expect: { path: [save, isNewTask, start, acknowledge] }
`,
    );
    const r = runCli(['test', file], { cwd: tmp.dir });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const out = r.stdout.split('\n').map((l) => l.trim());
    const after = (line: string) => out[out.indexOf(line) + 1];
    assert.equal(
      after('p/s/tests/path.test.yaml:6:20 path[1]: expected "isNewTsk" got "isNewTask"'),
      '"isNewTsk" is not a block of scenario "Hook" nor of a scenario it starts: did you mean "isNewTask"?',
    );
    // Under { edges } of a started run, too: each step no block of its scenario, under the difference of the list.
    assert.equal(after('p/s/tests/path.test.yaml:12:27 asyncStarted[0].result.path: expected at least 2 item(s) got 1 item(s): ["echo"]'), '"ehco" is not a block of scenario "Child": did you mean "echo"?');
    assert.ok(out.includes('"zzzzzzzz" is not a block of scenario "Child"'), r.stdout);
    assert.ok(out.includes('"finish" is not a block of scenario "Hook" nor of a scenario it starts'), r.stdout);
    assert.match(r.stdout, /✓ .*right path/);
    const j = JSON.parse(runCli(['test', file, '--json'], { cwd: tmp.dir }).stdout) as { cases: Array<{ failures: Array<{ place: string; detail?: string[] }> }> };
    assert.deepEqual(j.cases[0]!.failures[0]!.detail, ['"isNewTsk" is not a block of scenario "Hook" nor of a scenario it starts: did you mean "isNewTask"?']);
    // A block renamed on purpose: --update rewrites the path, and the case passes.
    assert.equal(runCli(['test', file, '--update', '--filter', 'typo in the path'], { cwd: tmp.dir }).code, 0);
    assert.equal(runCli(['test', file, '--filter', 'typo in the path'], { cwd: tmp.dir }).code, 0);
  });

  it('an @file with a typo gets the closest existing path, for a parameter, a folder, a data set and a fixture', () => {
    const file = write(
      tests,
      'files.test.yaml',
      `cases:
  - name: file typo
    scenario: Child
    params: { 1: "@webhooks/one-responsibel.json" }
    expect: { status: completed }
  - name: folder typo
    scenario: Child
    params: { 1: "@webhook/one-responsible.json" }
    expect: { status: completed }
  - name: case typo
    scenario: Child
    params: { 1: "@Webhooks/One-Responsible.json" }
    expect: { status: completed }
  - name: nothing close
    scenario: Child
    params: { 1: "@webhooks/zzzzzzzzzzzzzz.json" }
    expect: { status: completed }
  - name: fixture typo
    scenario: Child
    http: webhooks/one-responsble.json
    expect: { status: completed }
`,
    );
    const r = runCli(['test', file], { cwd: tmp.dir });
    assert.equal(r.code, 2, r.stdout + r.stderr);
    const hints = r.stderr.split('\n').filter((l) => l.includes('hint:')).map((l) => l.trim());
    assert.deepEqual(hints, [
      'hint: did you mean "@webhooks/one-responsible.json"? (a path after @ is relative to the test file)',
      'hint: did you mean "@webhooks/one-responsible.json"? (a path after @ is relative to the test file)',
      'hint: did you mean "@webhooks/one-responsible.json"? (a path after @ is relative to the test file)',
      'hint: a path after @ is relative to the test file',
      'hint: did you mean "webhooks/one-responsible.json"? (the path is relative to the test file)',
    ]);
    assert.match(r.stderr, /files\.test\.yaml:4:18 E_READ_FAILED parameter 1: cannot read webhooks\/one-responsibel\.json: ENOENT/);
  });

  it('a YAML file with cases: in a tests folder but not named *.test.yaml is a problem, not silently skipped', () => {
    const dir = join(tmp.dir, 'm', 's', 'tests');
    write(dir, 'ok.test.yaml', `scenarios: ${JSON.stringify(scenarios)}\ncases:\n  - name: passes\n    scenario: Child\n    expect: { status: completed }\n`);
    write(dir, 'checkout-test.yaml', `scenarios: ${JSON.stringify(scenarios)}\ncases:\n  - name: would fail\n    scenario: Child\n    expect: { status: failed }\n`);
    write(dir, 'fixture.yaml', 'catalogs: {}\n');
    const r = runCli(['test', dir, '--reporter', 'junit'], { cwd: tmp.dir });
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /m\/s\/tests\/checkout-test\.yaml:2:1 E_TEST_FILE_NAME this file has cases: but its name does not end in \.test\.yaml or \.test\.yml, so its cases were not run\n\s+hint: rename it to checkout\.test\.yaml/);
    assert.doesNotMatch(r.stderr, /fixture\.yaml/);
    assert.match(r.stdout, /<error type="E_TEST_FILE_NAME"/);
    assert.match(r.stdout, /<testcase classname="m\/s\/tests\/ok\.test\.yaml" name="passes"/);
  });

  it('--reporter junit that cannot run at all still writes a JUnit report saying why, with exit 2', () => {
    mkdirSync(join(tmp.dir, 'no-tests'), { recursive: true });
    const good = write(join(tmp.dir, 'f', 's', 'tests'), 'good.test.yaml', `scenarios: ${JSON.stringify(scenarios)}\ncases:\n  - name: passes\n    scenario: Child\n    expect: { status: completed }\n`);
    for (const args of [['test', join(tmp.dir, 'no-tests'), '--reporter', 'junit'], ['test', good, '--reporter=junit', '--bogus'], ['test', good, '--reporter', 'junit', '--filter', 'no such case']]) {
      const r = runCli(args, { cwd: tmp.dir });
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stdout, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites name="oktell-emu test" tests="1" failures="0" errors="1"/);
      assert.match(r.stdout, /<testcase classname="oktell-emu test" name="oktell-emu test could not run" time="0\.000">\n\s+<error type="E_USAGE" message="[^"]+">oktell-emu: [^<]+<\/error>/);
      assert.match(r.stderr, /^oktell-emu: /, 'the log has the reason too');
    }
    // Other outputs are left as they were: --json has its own object, the text output nothing on stdout.
    assert.match(runCli(['test', join(tmp.dir, 'no-tests'), '--json'], { cwd: tmp.dir }).stdout, /^\{"status":"failed","error":\{"code":"E_USAGE"/);
    assert.equal(runCli(['test', join(tmp.dir, 'no-tests')], { cwd: tmp.dir }).stdout, '');
  });

  it('in JUnit, a case a problem kept from running is a testcase of its own, errored with its problem', () => {
    const file = write(
      join(tmp.dir, 'n', 's', 'tests'),
      'held.test.yaml',
      `scenarios: ${JSON.stringify(scenarios)}
cases:
  - name: runs
    scenario: Child
    expect: { status: completed }
  - name: names no scenario
    scenario: Chlid
    expect: { status: completed }
  - name: reads no file
    scenario: Child
    params: { 1: "@nothing-here.json" }
    expect: { status: completed }
`,
    );
    const r = runCli(['test', file, '--reporter', 'junit'], { cwd: tmp.dir });
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stdout, /<testsuites name="oktell-emu test" tests="3" failures="0" errors="2"/);
    assert.match(r.stdout, /<testsuite name="n\/s\/tests\/held\.test\.yaml" tests="3" failures="0" errors="2"/);
    assert.match(r.stdout, /<testcase classname="n\/s\/tests\/held\.test\.yaml" name="names no scenario" time="0\.000">\n\s+<error type="E_UNKNOWN_SCENARIO" message="not run: 7:15 unknown scenario &quot;Chlid&quot;/);
    assert.match(r.stdout, /<testcase classname="n\/s\/tests\/held\.test\.yaml" name="reads no file" time="0\.000">\n\s+<error type="E_READ_FAILED" message="not run: 11:18 parameter 1: cannot read nothing-here\.json: ENOENT"/);
    assert.doesNotMatch(r.stdout, /is invalid/, 'each problem is its case\'s: no file-wide error');
  });

  it('a quoted pattern the shell did not expand is named as one', () => {
    const r = runCli(['test', join(tests, '*.test.yaml')], { cwd: tmp.dir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no such file or folder \(oktell-emu does not expand patterns such as \*/);
  });

  it('validate of a folder without scenario files exits 2 instead of "0 scenario file(s) valid"', () => {
    mkdirSync(join(tmp.dir, 'empty'), { recursive: true });
    const r = runCli(['validate', join(tmp.dir, 'empty')], { cwd: tmp.dir });
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /no scenario files \(\*\.yaml, \*\.yml\) in empty: nothing was checked/);
    assert.doesNotMatch(r.stdout, /0 scenario file\(s\) valid/);
    const j = runCli(['validate', '--json', '-s', join(tmp.dir, 'empty')], { cwd: tmp.dir });
    assert.equal(j.code, 2, j.stdout + j.stderr);
    assert.equal(runCli(['validate', scenarios], { cwd: tmp.dir }).code, 0);
  });

  it('control characters of a case name stay visible and distinct in JUnit XML, and escaped in the text log', () => {
    const file = write(
      tests,
      'names.test.yaml',
      `cases:
  - name: "bell \\x07 here"
    scenario: Child
    params: { 1: x }
    expect: { returnValues: { 1: "y\\x01" } }
  - name: "bell \\x08 here"
    scenario: Child
    params: { 1: x }
    expect: { returnValues: { 1: x } }
  - name: "esc \\x1b[31m red, quotes \\" <tag> & Кириллица 🚀"
    scenario: Child
    params: { 1: x }
    expect: { returnValues: { 1: x } }
`,
    );
    const j = runCli(['test', file, '--reporter', 'junit'], { cwd: tmp.dir });
    assert.equal(j.code, 1, j.stdout + j.stderr);
    assert.ok(!/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(j.stdout), 'no character XML 1.0 cannot hold');
    assert.match(j.stdout, /name="bell \\u0007 here"/);
    assert.match(j.stdout, /name="bell \\u0008 here"/);
    assert.match(j.stdout, /name="esc \\u001b\[31m red, quotes &quot; &lt;tag&gt; &amp; Кириллица 🚀"/);
    assert.match(j.stdout, /<failure type="mismatch" message="returnValues\.1: expected &quot;y\\u0001&quot; got &quot;x&quot;">s\/tests\/names\.test\.yaml:5:34 returnValues\.1:/);
    // Checked by a real XML parser when the machine has one.
    if (existsSync('/usr/bin/xmllint')) {
      const xml = join(tmp.dir, 'junit.xml');
      writeFileSync(xml, j.stdout);
      execFileSync('/usr/bin/xmllint', ['--noout', xml]);
    }
    const t = runCli(['test', file], { cwd: tmp.dir, env: { NO_COLOR: '1' } });
    assert.ok(!/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(t.stdout), JSON.stringify(t.stdout));
    assert.match(t.stdout, /✗ s\/tests\/names\.test\.yaml › bell \\u0007 here/);
    assert.match(t.stdout, /✓ s\/tests\/names\.test\.yaml › esc \\u001b\[31m red/);
  });
});
