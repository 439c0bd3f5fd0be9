// What `test --from-run` writes reads like a hand-written test file: a real run of the article's BpiumNewTask with
// Bpium's one-line webhook body, recorded in a real SQLite store, made a case by the real binary, which then passes.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { testFileText } from '../../cli/testing/write-case.js';
import { repoPath, tempDir } from '../helpers.js';
import { runCli } from './cli-process.js';
import { articleBody as body, recordArticleRun } from './from-run.helper.js';

describe('the case --from-run writes reads like one written by hand', () => {
  it('writes the body to a file exactly as received, parameter and return value numbers plain, and the case passes', async () => {
    const tmp = tempDir();
    try {
      const runId = await recordArticleRun(join(tmp.dir, 'var'));
      cpSync(repoPath('scenarios'), join(tmp.dir, 'scenarios'), { recursive: true });
      const out = join(tmp.dir, 'scenarios', 'tests', 'recorded.test.yaml');
      const args = ['test', '--from-run', runId, '--scenarios', join(tmp.dir, 'scenarios'), '--data-dir', join(tmp.dir, 'var')];
      const r = runCli([...args, '--name', 'two responsible']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /✓ .*two responsible/);
      const again = runCli([...args, '--name', 'the same again']);
      assert.equal(again.code, 0, again.stdout + again.stderr);

      const written = readFileSync(out, 'utf8');
      // Numbers as a person writes them (`1:`), not quoted keys (`"1":`); strings that need quotes keep them.
      assert.match(written, /params: \{ 1: "@recorded\/[^"]+-1\.json" \}/);
      assert.match(written, /returnValues: \{ 1: notified 2 of 2 \}/);
      assert.doesNotMatch(written, /"1": (notified|"@)/);
      assert.match(written, /subject: "Новая задача: Перезвонить клиенту"/);
      // A blank line between the two cases, each with its comment.
      assert.doesNotMatch(written, /indented for reading/);
      assert.match(written, /\n\n {2}# Recorded from run \S+\.\n(.*\n)? {2}- name: the same again/);

      const [file] = readdirSync(join(tmp.dir, 'scenarios', 'tests', 'recorded'));
      assert.equal(readFileSync(join(tmp.dir, 'scenarios', 'tests', 'recorded', file!), 'utf8'), body, 'byte for byte');
    } finally {
      tmp.cleanup();
    }
  });

  it('a scenario that measures the body as text gets the same text in the case (review s31: an indented body changed its length)', () => {
    const tmp = tempDir();
    try {
      const scenarios = join(tmp.dir, 'scenarios');
      mkdirSync(join(scenarios, 'tests'), { recursive: true });
      writeFileSync(join(scenarios, 'Measure.yaml'), [
        'variables: { body: string }',
        'start: s',
        'blocks:',
        '  s:',
        '    kind: InputParameter',
        '    params: { body: 1 }',
        '    exits: { next: r }',
        '  r:',
        '    kind: ReturnValue',
        "    values: { 1: 'Len([body])', 2: '[body]' }",
        '',
      ].join('\n'));
      const env = { OKTELL_DATA_DIR: join(tmp.dir, 'var'), OKTELL_SCENARIOS: scenarios };
      const live = runCli(['run', 'Measure', '-p', `1=${body}`, '--json'], env);
      assert.equal(live.code, 0, live.stderr);
      const runId = (JSON.parse(live.stdout) as { runId: string }).runId;
      const r = runCli(['test', '--from-run', runId, '--scenarios', scenarios, '--out', join(scenarios, 'tests', 'measure.test.yaml')], env);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /1 passed, 0 failed/);
    } finally {
      tmp.cleanup();
    }
  });

  it('short request headers (CR LF between lines) go to a recorded file, not a quoted line of escapes, and the case passes', () => {
    const tmp = tempDir();
    try {
      const scenarios = join(tmp.dir, 'scenarios');
      mkdirSync(join(scenarios, 'tests'), { recursive: true });
      writeFileSync(join(scenarios, 'Headers.yaml'), [
        'variables: { headers: string }',
        'start: s',
        'blocks:',
        '  s:',
        '    kind: InputParameter',
        '    params: { headers: 2 }',
        '    exits: { next: r }',
        '  r:',
        '    kind: ReturnValue',
        "    values: { 1: 'Len([headers])', 2: '[headers]' }",
        '',
      ].join('\n'));
      const headers = 'Content-Type: application/json\r\nUser-Agent: Bpium/1.0';
      const env = { OKTELL_DATA_DIR: join(tmp.dir, 'var'), OKTELL_SCENARIOS: scenarios };
      const live = runCli(['run', 'Headers', '-p', '1={}', '-p', `2=${headers}`, '--json'], env);
      assert.equal(live.code, 0, live.stderr);
      const runId = (JSON.parse(live.stdout) as { runId: string }).runId;
      const out = join(scenarios, 'tests', 'headers.test.yaml');
      const r = runCli(['test', '--from-run', runId, '--scenarios', scenarios, '--out', out], env);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /1 passed, 0 failed/);
      const written = readFileSync(out, 'utf8');
      assert.match(written, new RegExp(`params: \\{ 1: "\\{\\}", 2: "@recorded/${runId}-2\\.txt" \\}`));
      assert.match(written, new RegExp(`# Parameter 2 \\(recorded/${runId}-2\\.txt\\) is the request's headers`));
      assert.doesNotMatch(written.split('expect:')[0]!, /\\r/, 'no escaped carriage return among the parameters');
      assert.equal(readFileSync(join(scenarios, 'tests', 'recorded', `${runId}-2.txt`), 'utf8'), headers, 'byte for byte, CR LF kept');
    } finally {
      tmp.cleanup();
    }
  });

  it('writes text of several lines as a block, never inside a { } mapping, and reads back the same values', () => {
    const testCase = {
      name: 'lines',
      scenario: 'Report',
      params: { '1': 'first line\nsecond line', '2': '  indented\nnext\n', '3': 'crlf\r\nline', '4': '@literal' },
      db: { main: "INSERT OR IGNORE INTO clients (id) VALUES (1);\nINSERT OR IGNORE INTO clients (id) VALUES (2);\n" },
      expect: { returnValues: { '1': 'two\nlines', '2': 200 }, dbCalls: [{ connection: 'main', statement: 'SELECT id\n  FROM clients', status: 'ok' }] },
    };
    const text = testFileText(testCase);
    assert.deepEqual(parse(text).cases[0], testCase);
    assert.match(text, /\n {6}main: \|\n {8}INSERT OR IGNORE INTO clients \(id\) VALUES \(1\);\n {8}INSERT/);
    assert.match(text, /\n {6}1: \|-\n {8}first line\n {8}second line\n/);
    assert.match(text, /returnValues:\n {8}1: \|-\n {10}two\n {10}lines\n {8}2: 200\n/);
    // A carriage return has no block form: it stays quoted, as does the @ that is not a file.
    assert.match(text, /3: "crlf\\r\\nline"/);
    assert.match(text, /4: "@literal"/);
    assert.doesNotMatch(text, /\{\s*\n/);
  });
});
