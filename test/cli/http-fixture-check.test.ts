// `run --http-fixtures FILE` checks the file before anything runs, as `test` checks a test file's HTTP fixture: a
// YAML mistake, a misspelt key, a `match` whose method is misspelt (which would match nothing) are each at their
// file:line:col with the fix, exit 2, and no run, instead of one line without a place or a silently dead fixture.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

// One GET; whatever the answer, the scenario returns the body it got.
const GET = `variables: { body: string }
start: call
blocks:
  call: { kind: WebRequest, method: GET, url: '"https://crm.example.ru/clients/7"', responseBody: body, exits: { success: done, error: done, timeout: done } }
  done: { kind: ReturnValue, values: { 1: '"got " + [body]' } }
`;

/** The fixture files the cases give, by name. */
const FILES: Record<string, string> = {
  'syntax.yaml': '- match: GET https://crm.example.ru/clients/*\n  json: { id: 7\n',
  'typos.yaml': '- match: GETT https://crm.example.ru/clients/*\n  stauts: 404\n',
  'not-a-list.yaml': 'match: GET https://crm.example.ru/clients/*\n',
  'empty.yaml': '# nothing yet\n',
  'good.yaml': '- match: GET https://crm.example.ru/clients/*\n  body: Иван\n',
  'any-method.yaml': '- match: https://crm.example.ru/*\n  body: Пётр\n',
};

describe('oktell-emu run --http-fixtures: the fixture file is checked first', () => {
  const tmp = tempDir();
  const data = join(tmp.dir, 'var');
  const run = (fixture: string, json = false) =>
    runCli(['run', 'Clients', '--scenarios', join(tmp.dir, 'scenarios'), '--dry-run', '--data-dir', data, '--http-fixtures', fixture, ...(json ? ['--json'] : [])], { cwd: tmp.dir, env: { NO_COLOR: '1' }, unset: ['OKTELL_SCENARIOS'] });
  before(() => {
    mkdirSync(join(tmp.dir, 'scenarios'));
    writeFileSync(join(tmp.dir, 'scenarios', 'Clients.yaml'), GET);
    mkdirSync(join(tmp.dir, 'fx'));
    for (const [name, text] of Object.entries(FILES)) writeFileSync(join(tmp.dir, 'fx', name), text);
  });
  after(() => tmp.cleanup());

  it('a YAML mistake is said at its line and column, with the hint, and nothing runs', () => {
    const r = run('fx/syntax.yaml');
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^oktell-emu: --http-fixtures fx\/syntax\.yaml: 1 problem\(s\) in the fixture file, nothing was run:\n/);
    assert.match(r.stderr, /\nfx\/syntax\.yaml:2:9 E_YAML_SYNTAX YAML syntax: \{ without its \}\n {4}hint: the \{ on line 2 \(column 9\) is not closed: end it with \} on that line .*see "--http-fixtures" in docs\/cli\.md/);
    assert.doesNotMatch(r.stderr, /YAMLParseError|\n\s+at /, 'no stack trace');
    assert.ok(!existsSync(data), 'no data folder made: the run did not start');
  });

  it('a misspelt method and a misspelt key are each at their place with the likely fix', () => {
    const r = run('fx/typos.yaml');
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /\nfx\/typos\.yaml:1:10 E_INVALID_PROPERTY "0\.match": "GETT" is not an HTTP method: did you mean "GET"\?/);
    assert.match(r.stderr, /\nfx\/typos\.yaml:2:3 E_UNKNOWN_KEY unknown key "stauts"\n {4}hint: did you mean "status"\? an HTTP fixture file: see "--http-fixtures" in docs\/cli\.md/);
    assert.ok(!existsSync(data), 'the run did not start');
    const json = run('fx/typos.yaml', true);
    assert.equal(json.code, 2);
    const parsed = JSON.parse(json.stdout) as { error: { code: string; issues: Array<{ file: string; line: number; col: number; code: string }> } };
    assert.equal(parsed.error.code, 'E_INVALID_FIXTURE');
    assert.deepEqual(parsed.error.issues.map((i) => `${i.file}:${i.line}:${i.col} ${i.code}`).sort(), ['fx/typos.yaml:1:10 E_INVALID_PROPERTY', 'fx/typos.yaml:2:3 E_UNKNOWN_KEY']);
  });

  it('one fixture not in a list, an empty file and a missing one are refused with what to write', () => {
    const one = run('fx/not-a-list.yaml');
    assert.equal(one.code, 2, one.stdout + one.stderr);
    assert.match(one.stderr, /\nfx\/not-a-list\.yaml:1:1 E_INVALID_PROPERTY the file is a mapping: expected .*\n {4}hint: write a list, even of one: \[\{"match":"GET https:\/\/crm\.example\.ru\/clients\/\*"\}\]/);
    assert.doesNotMatch(one.stderr, /\n\s+at /);
    const empty = run('fx/empty.yaml');
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /fx\/empty\.yaml:1:1 E_MISSING_PROPERTY the HTTP fixture file is empty\n {4}hint: give it a list of canned answers/);
    const missing = run('fx/missing.yaml');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /fx\/missing\.yaml:1:1 E_READ_FAILED cannot read the HTTP fixture file: ENOENT/);
  });

  it('a right file still answers the run, with a method or without', () => {
    const r = run('fx/good.yaml');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /got Иван/);
    const h = run('fx/any-method.yaml');
    assert.equal(h.code, 0, h.stdout + h.stderr);
    assert.match(h.stdout, /got Пётр/);
  });
});
