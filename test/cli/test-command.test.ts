// `oktell-emu test` as a user runs it: the real binary on real files — the shipped tests pass, a broken template
// shows the failing field, invalid test files are located, and --json, --reporter junit, --filter, --update work.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildTestFileJsonSchema } from '../../cli/testing/test-file.js';
import { repoPath, repoRoot, saveByRename, tempDir } from '../helpers.js';
import { postWebhook, startTestServer, taskWebhook, waitFor } from '../server/server-helpers.js';
import { runCli } from './cli.helper.js';

const cli = (args: string[], cwd = repoRoot) => runCli(args, { cwd, unset: ['OKTELL_SCENARIOS'], timeoutMs: 60_000 });

/** A copy of the shipped scenarios with their tests, to break on purpose. */
function scenariosCopy() {
  const tmp = tempDir();
  cpSync(repoPath('scenarios'), join(tmp.dir, 'scenarios'), { recursive: true });
  return { ...tmp, scenarios: join(tmp.dir, 'scenarios'), testFile: join(tmp.dir, 'scenarios', 'tests', 'article.test.yaml') };
}

function breakSubject(scenarios: string) {
  const subject = join(scenarios, 'templates', 'bpium-new-task.subject.njk');
  writeFileSync(subject, readFileSync(subject, 'utf8').replace('Новая задача:', 'New task:'));
}

/** The cases of the article's flow (article.test.yaml), of the WebRequest example (task-chat) and of the database examples. */
const ARTICLE_CASES = 15;
const SHIPPED_CASES = ARTICLE_CASES + 5 + 4 + 3;

describe('oktell-emu test: the shipped scenario tests', () => {
  it('pass: one line per case, the summary line, exit 0', () => {
    const r = cli(['test']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.filter((l) => l.startsWith('✓ scenarios/tests/article.test.yaml › ')).length, ARTICLE_CASES, r.stdout);
    assert.equal(lines.filter((l) => l.startsWith('✓ scenarios/tests/record-notification.test.yaml › ')).length, 4, r.stdout);
    assert.equal(lines.filter((l) => l.startsWith('✓ scenarios/tests/daily-report.test.yaml › ')).length, 3, r.stdout);
    assert.equal(lines.filter((l) => l.startsWith('✓ scenarios/tests/task-chat.test.yaml › ')).length, 5, r.stdout);
    assert.equal(lines.at(-1), `${SHIPPED_CASES} passed, 0 failed`);
  });

  it('show the failing field, where the test asks for it, with both values, and exit 1 when the template changes', () => {
    const copy = scenariosCopy();
    try {
      breakSubject(copy.scenarios);
      const r = cli(['test'], copy.dir);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /^✗ scenarios\/tests\/article\.test\.yaml › one responsible gets one letter/m);
      const text = readFileSync(copy.testFile, 'utf8').split('\n');
      const line = text.findIndex((l) => l.includes('subject: "Новая задача: Подготовить договор"')) + 1;
      const col = text[line - 1]!.indexOf('"') + 1;
      assert.ok(
        r.stdout.includes(
          `scenarios/tests/article.test.yaml:${line}:${col} asyncStarted[0].result.mails[0].subject: expected "Новая задача: Подготовить договор" got "New task: Подготовить договор"`,
        ),
        r.stdout,
      );
      assert.match(r.stdout, new RegExp(`\n${SHIPPED_CASES - 2} passed, 2 failed\n$`));
    } finally {
      copy.cleanup();
    }
  });
});

describe('docs/testing-scenarios.md', () => {
  it('its example test file, copied next to the shipped tests, passes', () => {
    const doc = readFileSync(repoPath('docs', 'testing-scenarios.md'), 'utf8');
    const example = /```yaml\n(# yaml-language-server[\s\S]*?)```/.exec(doc)?.[1];
    assert.ok(example, 'the docs hold an example test file');
    const copy = scenariosCopy();
    try {
      writeFileSync(join(copy.scenarios, 'tests', 'from-docs.test.yaml'), example);
      const r = cli(['test', 'scenarios/tests/from-docs.test.yaml'], copy.dir);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /^1 passed, 0 failed$/m);
    } finally {
      copy.cleanup();
    }
  });

  it('its maxEffects example works as a file of its own, with the shipped body and fixture (trial s33-docs1 #10)', () => {
    const doc = readFileSync(repoPath('docs', 'testing-scenarios.md'), 'utf8');
    const example = /save it as `scenarios\/tests\/cap\.test\.yaml`[\s\S]*?```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    assert.ok(example && /maxEffects: \d/.test(example), 'the docs hold the maxEffects example');
    const copy = scenariosCopy();
    try {
      writeFileSync(join(copy.scenarios, 'tests', 'cap.test.yaml'), example);
      const r = cli(['test', 'scenarios/tests/cap.test.yaml'], copy.dir);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /^1 passed, 0 failed$/m);
    } finally {
      copy.cleanup();
    }
  });
});

describe('docs/testing-scenarios.md: rows after the run', () => {
  it('its tables example passes with the shipped RecordNotification; a wrong row fails with the line the page shows', () => {
    const doc = readFileSync(repoPath('docs', 'testing-scenarios.md'), 'utf8');
    const example = /save it as `scenarios\/tests\/notified-rows\.test\.yaml`[\s\S]*?```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    assert.ok(example && /tables:/.test(example), 'the docs hold the tables example');
    const shown = /\n {4}(scenarios\/tests\/notified-rows\.test\.yaml:\d+:\d+ tables\.[^\n]*)/.exec(doc)?.[1];
    assert.ok(shown, 'the docs show a failing row');
    const copy = scenariosCopy();
    try {
      const file = join(copy.scenarios, 'tests', 'notified-rows.test.yaml');
      writeFileSync(file, example);
      const r = cli(['test', 'scenarios/tests/notified-rows.test.yaml'], copy.dir);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /^1 passed, 0 failed$/m);
      writeFileSync(file, example.replace('employee_id: "8", email', 'employee_id: "9", email'));
      const wrong = cli(['test', 'scenarios/tests/notified-rows.test.yaml'], copy.dir);
      assert.equal(wrong.code, 1, wrong.stdout + wrong.stderr);
      assert.ok(wrong.stdout.includes(shown), `${shown}\nin\n${wrong.stdout}`);
    } finally {
      copy.cleanup();
    }
  });
});

describe('oktell-emu test: invalid test files', () => {
  it('exit 2 with every problem at file:line:col, and run nothing', () => {
    const tmp = tempDir();
    try {
      mkdirSync(join(tmp.dir, 'tests'));
      cpSync(repoPath('scenarios', 'HTTP404.yaml'), join(tmp.dir, 'HTTP404.yaml'));
      cpSync(repoPath('scenarios', 'BpiumNewTask.yaml'), join(tmp.dir, 'BpiumNewTask.yaml'));
      cpSync(repoPath('scenarios', 'BpiumTaskChat.yaml'), join(tmp.dir, 'BpiumTaskChat.yaml'));
      cpSync(repoPath('scenarios', 'templates'), join(tmp.dir, 'templates'), { recursive: true });
      writeFileSync(
        join(tmp.dir, 'tests', 'bad.test.yaml'),
        [
          'cases:',
          '  - name: typo in a key',
          '    scenario: HTTP404',
          '    expct: { status: completed }',
          '  - name: unknown scenario',
          '    scenario: BpiumNewTsk',
          '    params: { 1: "@missing.json" }',
          '    expect: { status: done }',
          '',
        ].join('\n'),
      );
      const r = cli(['test', 'tests/bad.test.yaml'], tmp.dir);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.equal(r.stdout, '');
      const located = r.stderr.split('\n').filter((l) => l.startsWith('tests/bad.test.yaml:')).map((l) => l.split(' ').slice(0, 2).join(' ')).sort();
      assert.deepEqual(located, ['tests/bad.test.yaml:2:5 E_MISSING_PROPERTY', 'tests/bad.test.yaml:4:5 E_UNKNOWN_KEY', 'tests/bad.test.yaml:8:23 E_INVALID_PROPERTY']);
      assert.match(r.stderr, /did you mean "expect"\?/);

      // Once the schema is right, the semantic checks: a missing @file and an unknown scenario, both located.
      writeFileSync(
        join(tmp.dir, 'tests', 'bad.test.yaml'),
        ['cases:', '  - name: unknown scenario', '    scenario: BpiumNewTsk', '    params: { 1: "@missing.json" }', '    expect: { status: completed }', ''].join('\n'),
      );
      const r2 = cli(['test', 'tests'], tmp.dir);
      assert.equal(r2.code, 2, r2.stdout + r2.stderr);
      assert.match(r2.stderr, /^tests\/bad\.test\.yaml:4:18 E_READ_FAILED parameter 1: cannot read missing\.json/m);
      // The unknown scenario is found once the file reads (the missing file stops the check before it).
      writeFileSync(join(tmp.dir, 'tests', 'missing.json'), '{}');
      const r3 = cli(['test'], tmp.dir);
      assert.equal(r3.code, 2, 'no tests folder under ./scenarios: a usage error');
      assert.match(r3.stderr, /no tests folder at/);
      const r4 = cli(['test', '--json', 'tests'], tmp.dir);
      assert.equal(r4.code, 2);
      const out = JSON.parse(r4.stdout) as { status: string; issues: Array<{ line: number; col: number; code: string; hint: string }> };
      assert.equal(out.status, 'invalid');
      assert.deepEqual(out.issues.map((i) => [i.line, i.col, i.code]), [[3, 15, 'E_UNKNOWN_SCENARIO']]);
      assert.match(out.issues[0]!.hint, /did you mean "BpiumNewTask"/);
    } finally {
      tmp.cleanup();
    }
  });

  it('a case running an invalid scenario says the scenario is invalid, once per test file, not that it is unknown', () => {
    const copy = scenariosCopy();
    try {
      const file = join(copy.scenarios, 'BpiumNewTask.yaml');
      writeFileSync(file, `${readFileSync(file, 'utf8')}\nbogusKey: 1\n`);
      const r = cli(['test', 'scenarios/tests/article.test.yaml'], copy.dir);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /^scenarios\/BpiumNewTask\.yaml:\d+:\d+ E_UNKNOWN_KEY unknown top-level key "bogusKey"/m);
      assert.doesNotMatch(r.stderr, /E_UNKNOWN_SCENARIO|unknown scenario/);
      const said = r.stderr.split('\n').filter((l) => l.includes('scenario "BpiumNewTask" is invalid'));
      assert.equal(said.length, 1, r.stderr);
      assert.match(said[0]!, /^scenarios\/tests\/article\.test\.yaml:\d+:\d+ E_INVALID_PROPERTY scenario "BpiumNewTask" is invalid .*the \d+ cases running it cannot run/);
    } finally {
      copy.cleanup();
    }
  });

  it('a case whose scenario can start an invalid one runs and fails where it reaches it; one whose own scenario is invalid is held back, counting the selected cases', () => {
    const copy = scenariosCopy();
    try {
      const file = join(copy.scenarios, 'BpiumNewTask.yaml');
      writeFileSync(file, `${readFileSync(file, 'utf8')}\nbogusKey: 1\n`);
      const outcome = (filter: string) => {
        const r = cli(['test', 'scenarios/tests/article.test.yaml', '--json', '--filter', filter], copy.dir);
        assert.equal(r.code, 2, r.stdout + r.stderr);
        const out = JSON.parse(r.stdout) as { status: string; failed: number; cases?: Array<{ runErrors?: Array<{ place: string; message: string }> }>; issues: Array<{ message: string }> };
        assert.equal(out.status, 'invalid', 'the broken scenario stands in the way');
        return { failed: out.failed ?? 0, runErrors: (out.cases ?? []).flatMap((c) => c.runErrors ?? []).map((e) => `${e.place}: ${e.message}`), held: out.issues.map((i) => i.message).filter((m) => m.startsWith('scenario "')) };
      };
      // HTTP404 runs, acknowledges, and starts BpiumNewTask (AsyncScenario), whose run fails at its broken file.
      assert.deepEqual(outcome('a deleted task'), { failed: 1, runErrors: ['asyncStarted[0].result: scenario "BpiumNewTask" is invalid (its problems are listed with its file), and the run reached it'], held: [] });
      assert.deepEqual(outcome('sends nothing'), { failed: 0, runErrors: [], held: ['scenario "BpiumNewTask" is invalid (its problems are listed with its file): the 2 cases running it cannot run'] });
    } finally {
      copy.cleanup();
    }
  });

  it('an invalid test file keeps only its own cases from running: the other files run, the problems are listed, exit 2', () => {
    const copy = scenariosCopy();
    try {
      writeFileSync(join(copy.scenarios, 'tests', 'bad.test.yaml'), 'cases:\n  - name: typo\n    scenario: HTTP404\n    expct: { status: completed }\n');
      const r = cli(['test'], copy.dir);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /^scenarios\/tests\/bad\.test\.yaml:4:5 E_UNKNOWN_KEY unknown key "expct"/m);
      assert.doesNotMatch(r.stderr, /no case was run/);
      assert.equal(r.stdout.split('\n').filter((l) => l.startsWith('✓ ')).length, SHIPPED_CASES, r.stdout);
      assert.equal(r.stdout.trim().split('\n').at(-1), `${SHIPPED_CASES} passed, 0 failed; 2 problem(s) listed above (the cases they concern did not run)`);

      // A failing case as well: the problem still decides the exit code, and both are reported.
      breakSubject(copy.scenarios);
      const both = cli(['test'], copy.dir);
      assert.equal(both.code, 2, both.stdout + both.stderr);
      assert.equal(both.stdout.trim().split('\n').at(-1), `${SHIPPED_CASES - 2} passed, 2 failed; 2 problem(s) listed above (the cases they concern did not run)`);
    } finally {
      copy.cleanup();
    }
  });

  it('a case naming an unknown scenario or variable does not run; the other cases of its file do', () => {
    const copy = scenariosCopy();
    try {
      const file = join(copy.scenarios, 'tests', 'mixed.test.yaml');
      writeFileSync(
        file,
        [
          'cases:',
          '  - name: runs',
          '    scenario: HTTP404',
          '    params: { 1: "/Bpium/NewTask", 4: "@webhooks/one-responsible.json" }',
          '    expect: { returnValues: { 2: 200 } }',
          '  - name: unknown scenario',
          '    scenario: HTTP40',
          '    expect: { status: completed }',
          '  - name: unknown variable',
          '    scenario: BpiumTaskChat',
          '    variables: { chatUlr: x }',
          '    expect: { status: completed }',
          '',
        ].join('\n'),
      );
      const r = cli(['test', 'scenarios/tests/mixed.test.yaml'], copy.dir);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stdout, /^✓ scenarios\/tests\/mixed\.test\.yaml › runs /m);
      assert.doesNotMatch(r.stdout, /unknown (scenario|variable)/);
      assert.match(r.stderr, /^scenarios\/tests\/mixed\.test\.yaml:7:15 E_UNKNOWN_SCENARIO unknown scenario "HTTP40"/m);
      assert.match(r.stderr, /^scenarios\/tests\/mixed\.test\.yaml:11:\d+ E_INVALID_PROPERTY scenario "BpiumTaskChat" has no variable "chatUlr"/m);
      assert.equal(r.stdout.trim().split('\n').at(-1), '1 passed, 0 failed; 2 problem(s) listed above (the cases they concern did not run)');

      const json = cli(['test', '--json', 'scenarios/tests/mixed.test.yaml'], copy.dir);
      assert.equal(json.code, 2);
      const out = JSON.parse(json.stdout) as { passed: number; failed: number; status: string; cases: Array<{ name: string }>; issues: Array<{ line: number; code: string }> };
      assert.deepEqual([out.passed, out.failed, out.status], [1, 0, 'invalid']);
      assert.deepEqual(out.cases.map((c) => c.name), ['runs']);
      assert.deepEqual(out.issues.map((i) => [i.line, i.code]), [[7, 'E_UNKNOWN_SCENARIO'], [11, 'E_INVALID_PROPERTY']]);

      const junit = cli(['test', '--reporter', 'junit', 'scenarios/tests/mixed.test.yaml'], copy.dir);
      assert.equal(junit.code, 2);
      assertWellFormedXml(junit.stdout);
      // Each case kept from running is a testcase of its own, errored with its problem.
      assert.match(junit.stdout, /<testsuites name="oktell-emu test" tests="3" failures="0" errors="2" /);
      assert.match(junit.stdout, /<testcase classname="scenarios\/tests\/mixed\.test\.yaml" name="unknown scenario" time="0\.000">\n\s+<error type="E_UNKNOWN_SCENARIO" message="not run: 7:15 unknown scenario &quot;HTTP40&quot; in scenarios">/);
      assert.match(junit.stdout, /<testcase classname="scenarios\/tests\/mixed\.test\.yaml" name="unknown variable" time="0\.000">\n\s+<error type="E_INVALID_PROPERTY" message="not run: 11:\d+ scenario &quot;BpiumTaskChat&quot; has no variable &quot;chatUlr&quot;">/);
      assert.match(junit.stdout, /<testcase classname="scenarios\/tests\/mixed\.test\.yaml" name="runs" time="[\d.]+"\/>/);
    } finally {
      copy.cleanup();
    }
  });

  it('--reporter junit with nothing runnable still writes XML: the problems as errors, not an empty report', () => {
    const copy = scenariosCopy();
    try {
      writeFileSync(join(copy.scenarios, 'tests', 'bad.test.yaml'), 'cases:\n  - name: typo\n    scenario: HTTP404\n    expct: { status: completed }\n');
      const r = cli(['test', '--reporter', 'junit', 'scenarios/tests/bad.test.yaml'], copy.dir);
      assert.equal(r.code, 2);
      assertWellFormedXml(r.stdout);
      assert.match(r.stdout, /<testsuites name="oktell-emu test" tests="1" failures="0" errors="1" /);
      assert.match(r.stdout, /<testsuite name="scenarios\/tests\/bad\.test\.yaml" tests="1" failures="0" errors="1" /);
      assert.match(r.stderr, /no case was run/);
    } finally {
      copy.cleanup();
    }
  });

  it('case variables: preset the scenario\'s settings; a name it does not declare is a problem at its place', () => {
    const copy = scenariosCopy();
    try {
      const file = join(copy.scenarios, 'tests', 'vars.test.yaml');
      const head = 'cases:\n  - name: preset\n    scenario: BpiumTaskChat\n    params: { 1: "@webhooks/one-responsible.json" }\n';
      writeFileSync(file, `${head}    variables: { chatUrl: "https://chat.example.ru/m" }\n    expect: { returnValues: { 1: posted to chat } }\n`);
      const ok = cli(['test', 'scenarios/tests/vars.test.yaml'], copy.dir);
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      writeFileSync(file, `${head}    variables: { chatUlr: "https://chat.example.ru/m" }\n    expect: { returnValues: { 1: posted to chat } }\n`);
      const bad = cli(['test', 'scenarios/tests/vars.test.yaml'], copy.dir);
      assert.equal(bad.code, 2, bad.stdout + bad.stderr);
      assert.match(bad.stderr, /^scenarios\/tests\/vars\.test\.yaml:5:\d+ E_INVALID_PROPERTY scenario "BpiumTaskChat" has no variable "chatUlr"/m);
      assert.match(bad.stderr, /did you mean "chatUrl"\?/);
    } finally {
      copy.cleanup();
    }
  });

  it('a regular expression that does not compile is an invalid file, not a crash', () => {
    const tmp = tempDir();
    try {
      mkdirSync(join(tmp.dir, 'tests'));
      cpSync(repoPath('scenarios', 'HTTP404.yaml'), join(tmp.dir, 'HTTP404.yaml'));
      cpSync(repoPath('scenarios', 'BpiumNewTask.yaml'), join(tmp.dir, 'BpiumNewTask.yaml'));
      cpSync(repoPath('scenarios', 'BpiumTaskChat.yaml'), join(tmp.dir, 'BpiumTaskChat.yaml'));
      cpSync(repoPath('scenarios', 'templates'), join(tmp.dir, 'templates'), { recursive: true });
      writeFileSync(join(tmp.dir, 'tests', 'regex.test.yaml'), 'cases:\n  - name: bad regex\n    scenario: HTTP404\n    expect:\n      returnValues: { 2: { matches: "(unclosed" } }\n');
      const r = cli(['test', 'tests'], tmp.dir);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /^tests\/regex\.test\.yaml:5:\d+ E_INVALID_REGEX invalid regular expression: missing closing \)/m);
    } finally {
      tmp.cleanup();
    }
  });

  it('validate refuses a test file and names the command that runs it', () => {
    const r = cli(['validate', 'scenarios/tests/article.test.yaml']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /is a test file, not a scenario: run it with `oktell-emu test scenarios\/tests\/article\.test\.yaml`/);
  });

  it('exit 2 on a path that is not a test file', () => {
    const r = cli(['test', 'scenarios/HTTP404.yaml']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /not a test file/);
  });
});

describe('oktell-emu test: reporters and selection', () => {
  it('--json prints one object with every case and each failure with its place and both values', () => {
    const copy = scenariosCopy();
    try {
      breakSubject(copy.scenarios);
      const r = cli(['test', '--json'], copy.dir);
      assert.equal(r.code, 1);
      const out = JSON.parse(r.stdout) as { passed: number; failed: number; cases: Array<{ name: string; status: string; failures: Array<{ place: string; expected: string; actual: string; line: number }> }> };
      assert.equal(out.passed, SHIPPED_CASES - 2);
      assert.equal(out.failed, 2);
      const failed = out.cases.find((c) => c.name === 'two responsible get a letter each')!;
      assert.equal(failed.status, 'failed');
      assert.deepEqual(failed.failures.map((f) => [f.place, f.expected, f.actual]), [
        ['asyncStarted[0].result.mails[0].subject', '"Новая задача: Перезвонить клиенту"', '"New task: Перезвонить клиенту"'],
      ]);
    } finally {
      copy.cleanup();
    }
  });

  it('--reporter junit prints well-formed JUnit XML: a suite per file, a testcase per case, failures with their text', () => {
    const copy = scenariosCopy();
    try {
      breakSubject(copy.scenarios);
      const r = cli(['test', '--reporter', 'junit'], copy.dir);
      assert.equal(r.code, 1);
      const xml = r.stdout;
      assertWellFormedXml(xml);
      assert.match(xml, new RegExp(`^<\\?xml version="1\\.0" encoding="UTF-8"\\?>\n<testsuites name="oktell-emu test" tests="${SHIPPED_CASES}" failures="2" errors="0" time="[\\d.]+">`));
      assert.equal((xml.match(/<testsuite /g) ?? []).length, 4, 'one suite per shipped test file');
      assert.equal((xml.match(/<testcase /g) ?? []).length, SHIPPED_CASES);
      assert.equal((xml.match(/<failure /g) ?? []).length, 2);
      assert.match(xml, /<testcase classname="scenarios\/tests\/article\.test\.yaml" name="a responsible Bpium does not know gets no letter, the others do" time="[\d.]+"\/>/);
      assert.match(xml, /message="asyncStarted\[0\]\.result\.mails\[0\]\.subject: expected &quot;Новая задача: Подготовить договор&quot; got &quot;New task: Подготовить договор&quot;"/);
    } finally {
      copy.cleanup();
    }
  });

  it('--filter runs only the cases whose name contains the text', () => {
    const r = cli(['test', '--filter', 'NOT JSON']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n').map((l) => l.replace(/ \(.*\)$/, '')), [
      '✓ scenarios/tests/article.test.yaml › a body that is not JSON is still acknowledged, and nothing is sent',
      '1 passed, 0 failed',
    ]);
    const none = cli(['test', '--filter', 'no such case']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no case matches --filter no such case/);
  });

  it('--reporter other than text or junit is a usage error', () => {
    const r = cli(['test', '--reporter', 'tap']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--reporter tap: it takes text or junit/);
    const typo = cli(['test', '--reporter', 'junt']);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /--reporter junt: did you mean junit\? it takes text or junit/);
  });
});

describe('oktell-emu test --update', () => {
  it('rewrites only the values that changed, keeps every comment and the layout, and the tests pass again', () => {
    const copy = scenariosCopy();
    try {
      breakSubject(copy.scenarios);
      const before = readFileSync(copy.testFile, 'utf8');
      const r = cli(['test', '--update', '--filter', 'one responsible'], copy.dir);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /› one responsible gets one letter updated\n1 updated, 0 unchanged\n$/);
      const after = readFileSync(copy.testFile, 'utf8');
      assert.equal(after, before.replace('subject: "Новая задача: Подготовить договор"', 'subject: "New task: Подготовить договор"'));
      // The other failing case was not selected: it still fails, and an update of everything fixes it too.
      assert.equal(cli(['test'], copy.dir).code, 1);
      assert.equal(cli(['test', '--update'], copy.dir).code, 0);
      const r2 = cli(['test'], copy.dir);
      assert.equal(r2.code, 0, r2.stdout);
      for (const comment of before.split('\n').filter((l) => l.includes('#'))) {
        assert.ok(readFileSync(copy.testFile, 'utf8').includes(comment), `comment kept: ${comment}`);
      }
    } finally {
      copy.cleanup();
    }
  });

  it('changes the structure where the run did something else, keeping the comments', () => {
    const copy = scenariosCopy();
    try {
      const text = readFileSync(copy.testFile, 'utf8');
      const broken = text.replace('            bpiumCalls:\n              - { method: getRecord, catalogId: "3", recordId: "2", status: ok }\n', '            bpiumCalls: []   # wrong on purpose\n');
      writeFileSync(copy.testFile, broken);
      assert.equal(cli(['test', '--filter', 'one responsible'], copy.dir).code, 1);
      assert.equal(cli(['test', '--update', '--filter', 'one responsible'], copy.dir).code, 0);
      const after = readFileSync(copy.testFile, 'utf8');
      // Only the changed line differs: flow lists elsewhere stay unpadded ([a, b]), comments keep their spacing.
      const changed = after.split('\n').filter((line, i) => line !== broken.split('\n')[i]);
      assert.deepEqual(changed, ['            bpiumCalls: [{method: getRecord, catalogId: "3", recordId: "2", status: ok}] # wrong on purpose']);
      assert.equal(after.split('\n').length, broken.split('\n').length);
      assert.equal(cli(['test'], copy.dir).code, 0);
    } finally {
      copy.cleanup();
    }
  });
});

describe('oktell-emu test --update: words in a path', () => {
  it('writes a changed step of a path as a plain word where the file had one, quoted only where it must be', () => {
    const copy = scenariosCopy();
    try {
      const file = join(copy.scenarios, 'tests', 'task-chat.test.yaml');
      const text = readFileSync(file, 'utf8');
      const right = 'path: [begin, isConfigured, parseWebhook, isNewTask, notNewTask]';
      assert.ok(text.includes(right));
      const broken = text.replace(right, 'path: [begin, isConfigured, parseWebhook, isNewTask, no]');
      writeFileSync(file, broken);
      assert.equal(cli(['test', 'scenarios/tests/task-chat.test.yaml'], copy.dir).code, 1);
      assert.equal(cli(['test', '--update', 'scenarios/tests/task-chat.test.yaml'], copy.dir).code, 0);
      // The file reads as before it was broken: notNewTask is a plain word again, not "notNewTask".
      assert.equal(readFileSync(file, 'utf8'), text);
    } finally {
      copy.cleanup();
    }
  });
});

describe('oktell-emu test --watch', () => {
  it('runs the tests, then again after a template is saved, showing the new failure', async () => {
    const copy = scenariosCopy();
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    delete env.OKTELL_SCENARIOS;
    const child = spawn(process.execPath, [repoPath('bin', 'oktell-emu.js'), 'test', '--watch'], { cwd: copy.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    // Waits for output, not for time: the guard only stops a hung test.
    const waitFor = (re: RegExp) =>
      new Promise<void>((res, rej) => {
        const guard = setTimeout(() => rej(new Error(`no ${re} in:\n${out}`)), 30_000);
        const check = () => {
          if (re.test(out)) {
            clearTimeout(guard);
            child.stdout.off('data', check);
            res();
          }
        };
        child.stdout.on('data', check);
        check();
      });
    try {
      await waitFor(new RegExp(`${SHIPPED_CASES} passed, 0 failed\nwatching for changes`));
      breakSubject(copy.scenarios);
      await waitFor(new RegExp(`bpium-new-task\\.subject\\.njk changed: running again[\\s\\S]*${SHIPPED_CASES - 2} passed, 2 failed\nwatching for changes`));
      assert.match(out, /mails\[0\]\.subject: expected "Новая задача: Подготовить договор" got "New task: Подготовить договор"/);
      // An editor's safe write (a temporary file renamed over the template) is seen too, and so is the next one.
      const subject = join(copy.scenarios, 'templates', 'bpium-new-task.subject.njk');
      const broken = readFileSync(subject, 'utf8');
      saveByRename(subject, broken.replace('New task:', 'Новая задача:'));
      await waitFor(new RegExp(`bpium-new-task\\.subject\\.njk changed: running again[\\s\\S]*${SHIPPED_CASES} passed, 0 failed\nwatching for changes \\(Ctrl\\+C to stop\\)\n$`));
      saveByRename(subject, broken);
      await waitFor(new RegExp(`${SHIPPED_CASES - 2} passed, 2 failed\nwatching for changes \\(Ctrl\\+C to stop\\)\n$`));
      // Ctrl-C stops the watch as validate --watch's does: said, exit 0 (not 130, not silent).
      child.kill('SIGINT');
      const [code, signal] = (await new Promise((res) => child.once('exit', (c, s) => res([c, s])))) as [number | null, string | null];
      assert.deepEqual({ code, signal }, { code: 0, signal: null });
      assert.match(out, /watching for changes \(Ctrl\+C to stop\)\nstopped watching\n$/);
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill();
        await new Promise((res) => child.once('exit', res));
      }
      copy.cleanup();
    }
  });

  it('does not go with --update', () => {
    const r = cli(['test', '--watch', '--update']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--watch .* does not go with --update/);
  });

  it('--json and --reporter junit together are a usage error, not one of them dropped', () => {
    const r = cli(['test', '--json', '--reporter', 'junit']);
    assert.equal(r.code, 2);
    assert.deepEqual(JSON.parse(r.stdout), { status: 'failed', error: { code: 'E_USAGE', message: '--json and --reporter junit both choose the output: give one' } });
  });
});

describe('oktell-emu test --from-run', () => {
  it("turns a server run of the article's flow into a case that passes, fails after the template changes, and passes after --update", async () => {
    const t = await startTestServer();
    let hookRunId: string;
    const body = taskWebhook({ name: 'Позвонить поставщику', description: 'До обеда.', responsible: ['2', '99'] });
    try {
      // Headers whose names say auth or session carry credentials too: they stay out of the test file.
      const res = await postWebhook(t.server.url, body, t.secret, undefined, undefined, { 'x-auth': 'xauth-value-1', 'x-session-id': 'sess-value-77', 'x-request-id': 'req-5' });
      assert.equal(res.status, 200);
      hookRunId = res.headers.get('x-oktell-run-id')!;
      await waitFor('the child run', async () => (await t.server.store.listRuns({ scenario: 'BpiumNewTask' })).items.find((r) => r.status !== 'running'));
      await waitFor('one letter', () => t.smtp!.letters.length === 1);
    } finally {
      await t.server.close(2000);
      await t.smtp?.close();
    }
    const root = join(t.dataDir, '..');
    try {
      const r = cli(['test', '--from-run', hookRunId, '--name', 'recorded article run', '--data-dir', 'var'], root);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /^\+ case "recorded article run" written to scenarios\/tests\/recorded\.test\.yaml\n/);
      assert.match(r.stdout, /✓ scenarios\/tests\/recorded\.test\.yaml › recorded article run/);
      assert.match(r.stdout, /1 passed, 0 failed\n$/);
      const file = join(t.scenariosDir, 'tests', 'recorded.test.yaml');
      const text = readFileSync(file, 'utf8');
      // The answers Bpium gave are the fixture; the letter and the calls are the expectation.
      assert.match(text, /"2": \{ ?"1": [^,]+, "2": [^}]+@[^}]+\}/, text);
      assert.match(text, /subject: "?Новая задача: Позвонить поставщику/);
      assert.match(text, /recordId: "99", status: not-found/);
      assert.match(text, /"?4"?: "@recorded\/[0-9a-z]+-4\.json"/);
      assert.doesNotMatch(text, /authorization|basic |s3cret|x-hook-signature/i, 'no credentials in a test file');
      // The body byte for byte as received: a scenario may read its length or forward it as text.
      assert.equal(readFileSync(join(t.scenariosDir, 'tests', 'recorded', `${hookRunId}-4.json`), 'utf8'), body, 'the webhook body, as received');
      const headers = readFileSync(join(t.scenariosDir, 'tests', 'recorded', `${hookRunId}-2.txt`), 'utf8');
      assert.match(headers, /content-type: application\/json/i);
      assert.match(text, new RegExp(`# Parameter 2 \\(recorded/${hookRunId}-2\\.txt\\) is the request's headers, credentials left out\\.`));
      assert.match(headers, /x-request-id: req-5/i);
      assert.doesNotMatch(headers, /xauth-value-1|sess-value-77/);
      for (const secret of [text, headers]) {
        assert.doesNotMatch(secret, /authorization|basic |s3cret|x-hook-signature|\[redacted\]/i, 'no credentials in a test file');
      }
      const missing = cli(['test', '--from-run', 'nosuchrun', '--data-dir', 'var'], root);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /no run nosuchrun in the store/);

      breakSubject(t.scenariosDir);
      const failing = cli(['test', '--filter', 'recorded article run'], root);
      assert.equal(failing.code, 1);
      assert.match(failing.stdout, /asyncStarted\[0\]\.result\.mails\[0\]\.subject: expected "Новая задача: Позвонить поставщику" got "New task: Позвонить поставщику"/);
      assert.equal(cli(['test', '--update', '--filter', 'recorded article run'], root).code, 0);
      const after = readFileSync(file, 'utf8');
      assert.ok(after.includes(`# Recorded from run ${hookRunId}.`), 'the comment is kept');
      assert.match(after, /subject: "New task: Позвонить поставщику"/);
      const passing = cli(['test', '--filter', 'recorded article run'], root);
      assert.equal(passing.code, 0, passing.stdout);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('says so when there is no store in the data folder', () => {
    const tmp = tempDir();
    try {
      const r = cli(['test', '--from-run', 'nosuchrun', '--data-dir', join(tmp.dir, 'var')]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /no store at .*oktell\.sqlite: point --data-dir/);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('the test file JSON Schema', () => {
  it('schema/scenario-test.schema.json is what `oktell-emu schema --tests` prints (regenerate it with that)', () => {
    const r = cli(['schema', '--tests']);
    assert.equal(r.code, 0);
    assert.deepEqual(JSON.parse(r.stdout), buildTestFileJsonSchema());
    assert.deepEqual(JSON.parse(readFileSync(repoPath('schema', 'scenario-test.schema.json'), 'utf8')), buildTestFileJsonSchema());
  });
});

/** A small well-formedness check: balanced tags, quoted attributes, entities only where XML allows them. */
function assertWellFormedXml(xml: string) {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  const token = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = token.exec(body))) {
    end = token.lastIndex;
    if (m[5] !== undefined) {
      assert.ok(stack.length > 0 || m[5].trim() === '', `text outside the root: ${m[5]}`);
      assert.doesNotMatch(m[5], /&(?!(amp|lt|gt|quot|apos|#\d+);)/, 'a bare & in text');
      continue;
    }
    for (const a of m[3]!.matchAll(/"([^"]*)"/g)) assert.doesNotMatch(a[1]!, /&(?!(amp|lt|gt|quot|apos|#\d+);)/, 'a bare & in an attribute');
    if (m[1]) assert.equal(stack.pop(), m[2], `closing </${m[2]}> matches its opening tag`);
    else if (!m[4]) stack.push(m[2]!);
  }
  assert.equal(end, body.length, `unparsable XML at: ${body.slice(end, end + 80)}`);
  assert.deepEqual(stack, [], 'every tag is closed');
}
