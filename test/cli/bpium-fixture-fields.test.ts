// A Bpium fixture file can name a catalog's fields, so a block giving fields by Bpium name works under
// --bpium-fixtures: docs/cli.md's own fixture example is run with such a block.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoPath, tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

/** getRecord of user 2 with one field by Bpium name and one by id; the error exit shows the code and the reason is in --json. */
const TASK = `variables: { email: string, nm: string, code: string }
blocks:
  find:
    kind: Bpium
    method: getRecord
    catalog: '"3"'
    record: '"2"'
    fields: { email: '"Эл. почта"', nm: '"1"' }
    errorCode: code
    exits: { success: ok, error: bad }
  ok: { kind: ReturnValue, values: { 1: '[nm] + " " + [email]' } }
  bad: { kind: ReturnValue, values: { 1: '"bad " + [code]' } }
`;

/** The fixture example of docs/cli.md's `run` section, as a file. */
function docsFixture(): string {
  const doc = readFileSync(repoPath('docs', 'cli.md'), 'utf8');
  const block = /a fake Bpium kept in memory[^\n]*\n\n {2}```yaml\n([\s\S]*?) {2}```/.exec(doc)?.[1];
  assert.ok(block, 'docs/cli.md shows a Bpium fixture file');
  return block.replace(/^ {2}/gm, '');
}

describe('oktell-emu run --bpium-fixtures: fields by Bpium name', () => {
  const tmp = tempDir();
  before(() => {
    mkdirSync(join(tmp.dir, 'w'));
    writeFileSync(join(tmp.dir, 'w', 'Task.yaml'), TASK);
    writeFileSync(join(tmp.dir, 'docs-fixture.yaml'), docsFixture());
    writeFileSync(join(tmp.dir, 'no-fields.yaml'), 'catalogs:\n  "3":\n    records:\n      "2": { "1": Иван Петров, "2": ivan.petrov@example.com }\n');
  });
  after(() => tmp.cleanup());

  it('the documented fixture resolves a field given by name', () => {
    const r = runCli(['run', 'Task', '--scenarios', join(tmp.dir, 'w'), '--dry-run', '--json', '--bpium-fixtures', join(tmp.dir, 'docs-fixture.yaml')]);
    assert.equal(r.code, 0, r.stdout);
    const out = JSON.parse(r.stdout) as { returnValues: Record<string, unknown>; bpiumCalls: Array<{ status: string }> };
    assert.deepEqual(out.returnValues, { '1': 'Иван Петров ivan.petrov@example.com' });
  });

  it('a catalog without fields says the fixture lists none, instead of an empty list', () => {
    const r = runCli(['run', 'Task', '--scenarios', join(tmp.dir, 'w'), '--dry-run', '--json', '--bpium-fixtures', join(tmp.dir, 'no-fields.yaml')]);
    assert.equal(r.code, 0, r.stdout);
    const out = JSON.parse(r.stdout) as { returnValues: Record<string, unknown>; bpiumCalls: Array<{ status: string; error?: string }> };
    assert.deepEqual(out.returnValues, { '1': 'bad BPIUM_UNKNOWN_FIELD' });
    const failed = out.bpiumCalls.find((c) => c.status === 'error');
    assert.equal(failed?.error, 'catalog 3 has no field named "Эл. почта" (its structure lists no fields; a fixture file names them under fields: of the catalog)');
  });
});
