// `run --bpium-fixtures FILE` checks the file before anything runs, as `test` checks a test file's fixture: a YAML
// mistake or a wrong form is each problem at its file:line:col with the fix, exit 2, and no run, instead of a stack
// trace or a fixture that silently answers nothing.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoPath, tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

describe('oktell-emu run --bpium-fixtures: the fixture file is checked first', () => {
  const tmp = tempDir();
  const data = join(tmp.dir, 'var');
  const run = (fixture: string, json = false) =>
    runCli(['run', 'BpiumNewTask', '--scenarios', repoPath('scenarios'), '--dry-run', '--data-dir', data, '-p', `1=@${repoPath('scenarios', 'tests', 'webhooks', 'one-responsible.json')}`, '--bpium-fixtures', fixture, ...(json ? ['--json'] : [])], { cwd: tmp.dir, env: { NO_COLOR: '1' } });
  before(() => {
    mkdirSync(join(tmp.dir, 'fx'));
    writeFileSync(join(tmp.dir, 'fx', 'syntax.yaml'), 'catalogs:\n  "3":\n    records:\n      "2": { "1": Иван Петров, "2": ivan.petrov@example.com\n');
    writeFileSync(join(tmp.dir, 'fx', 'typos.yaml'), 'catalogs:\n  "3":\n    recods:\n      "2": { "1": Иван Петров, "2": ivan.petrov@example.com }\nfailures:\n  "3/2": tiemout\n');
    writeFileSync(join(tmp.dir, 'fx', 'no-catalogs.yaml'), 'catalog:\n  "3": { records: {} }\n');
    writeFileSync(join(tmp.dir, 'fx', 'empty.yaml'), '# nothing yet\n');
    writeFileSync(join(tmp.dir, 'fx', 'good.yaml'), 'catalogs:\n  3:\n    records:\n      "2": { "1": Иван Петров, "2": ivan.petrov@example.com }\n');
  });
  after(() => tmp.cleanup());

  it('a YAML mistake is said at its line and column, with the hint, and nothing runs', () => {
    const r = run('fx/syntax.yaml');
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^oktell-emu: --bpium-fixtures fx\/syntax\.yaml: 1 problem\(s\) in the fixture file, nothing was run:\n/);
    assert.match(r.stderr, /\nfx\/syntax\.yaml:4:12 E_YAML_SYNTAX YAML syntax: \{ without its \}\n {4}hint: the \{ on line 4 \(column 12\) is not closed: end it with \} on that line .*see "--bpium-fixtures" in docs\/cli\.md/);
    assert.doesNotMatch(r.stderr, /YAMLParseError|\n\s+at /, 'no stack trace');
    assert.ok(!existsSync(data), 'no data folder made: the run did not start');
  });

  it('a misspelt key and an unknown failure are each at their place with the likely fix', () => {
    const r = run('fx/typos.yaml');
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /\nfx\/typos\.yaml:3:5 E_UNKNOWN_KEY unknown key "recods"\n {4}hint: did you mean "records"\?/);
    assert.match(r.stderr, /\nfx\/typos\.yaml:6:10 E_INVALID_PROPERTY "failures\.3\/2" is text \("tiemout"\): expected 404, 429, 500, another HTTP status, timeout or network\n {4}hint: did you mean "timeout"\?/);
    const json = run('fx/typos.yaml', true);
    assert.equal(json.code, 2);
    const parsed = JSON.parse(json.stdout) as { error: { code: string; issues: Array<{ file: string; line: number; col: number; code: string }> } };
    assert.equal(parsed.error.code, 'E_INVALID_FIXTURE');
    assert.deepEqual(parsed.error.issues.map((i) => `${i.file}:${i.line}:${i.col} ${i.code}`), ['fx/typos.yaml:3:5 E_UNKNOWN_KEY', 'fx/typos.yaml:6:10 E_INVALID_PROPERTY']);
  });

  it('a file without catalogs:, an empty one and a missing one are refused with what to write', () => {
    const none = run('fx/no-catalogs.yaml');
    assert.equal(none.code, 2);
    assert.match(none.stderr, /fx\/no-catalogs\.yaml:1:1 E_UNKNOWN_KEY unknown key "catalog"\n {4}hint: did you mean "catalogs"\?/);
    assert.doesNotMatch(none.stderr, /\n\s+at /);
    const empty = run('fx/empty.yaml');
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /fx\/empty\.yaml:1:1 E_MISSING_PROPERTY the Bpium fixture file is empty\n {4}hint: give it catalogs:/);
    const missing = run('fx/missing.yaml');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /fx\/missing\.yaml:1:1 E_READ_FAILED cannot read the Bpium fixture file: ENOENT/);
  });

  it('a right file still answers the run (a catalog id written as a number included)', () => {
    const r = run('fx/good.yaml');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /BpiumNewTask completed/);
    assert.match(r.stdout, /notified 1 of 1/);
  });
});
