// A dry run records Bpium writes instead of making them, but still resolves the field names of their values through
// the catalog structure (a read): a name the catalog does not have takes `error` with BPIUM_UNKNOWN_FIELD, as the live
// run does, instead of a dry run or a scenario test "succeeding" with a write the real Bpium refuses.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { FIXTURE, writeScenario } from './bpium-dry-write.helper.js';
import { runCli } from './cli.helper.js';

const scenario = (field: string) => writeScenario(field, '5', `'4': '«[{"id": "2"}]»'`);

const TESTS = `bpium: bpium.yaml
cases:
  - name: an unknown field name is refused as by Bpium
    scenario: Unknown
    expect:
      returnValues: { 1: fail BPIUM_UNKNOWN_FIELD }
      bpiumCalls: [{ method: createRecord, status: error, performed: false }]
  - name: a known field name is a recorded write
    scenario: Known
    expect:
      returnValues: { 1: { contains: ok dry-run- } }
      bpiumCalls: [{ method: createRecord, status: dry-run }, { method: updateRecord, status: dry-run }]
`;

interface RunJson {
  returnValues: Record<string, unknown>;
  bpiumCalls: Array<{ method: string; status: string; error?: string }>;
  trace: Array<{ block: string; effect?: { values?: unknown } }>;
}

describe('a dry-run Bpium write resolves its field names', () => {
  const tmp = tempDir();
  const scenarios = join(tmp.dir, 'w');
  before(() => {
    mkdirSync(join(scenarios, 'tests'), { recursive: true });
    writeFileSync(join(scenarios, 'Unknown.yaml'), scenario('Нет такого'));
    writeFileSync(join(scenarios, 'Known.yaml'), scenario('название'));
    writeFileSync(join(scenarios, 'tests', 'bpium.yaml'), FIXTURE);
    writeFileSync(join(scenarios, 'tests', 'writes.test.yaml'), TESTS);
  });
  after(() => tmp.cleanup());
  const run = (name: string) => {
    const r = runCli(['run', name, '--scenarios', scenarios, '--dry-run', '--json', '--bpium-fixtures', join(scenarios, 'tests', 'bpium.yaml')]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    return JSON.parse(r.stdout) as RunJson;
  };

  it('run --dry-run --bpium-fixtures: an unknown name takes error with the live code and message', () => {
    const out = run('Unknown');
    assert.deepEqual(out.returnValues, { '1': 'fail BPIUM_UNKNOWN_FIELD' });
    assert.deepEqual(out.bpiumCalls.map((c) => [c.method, c.status, c.error]), [
      ['createRecord', 'error', 'catalog 11 has no field named "Нет такого" (fields: Название, Ответственный)'],
    ]);
  });

  it('run --dry-run --bpium-fixtures: known names (any case) are recorded by id, not performed', () => {
    const out = run('Known');
    assert.match(String(out.returnValues['1']), /^ok dry-run-/);
    assert.deepEqual(out.bpiumCalls.map((c) => [c.method, c.status]), [['createRecord', 'dry-run'], ['updateRecord', 'dry-run']]);
    assert.deepEqual(out.trace.find((s) => s.block === 'create')?.effect?.values, { '2': 'Позвонить клиенту', '4': [{ id: '2' }] });
  });

  it('oktell-emu test: the case with an unknown name sees the error exit, the other a recorded write', () => {
    const r = runCli(['test', '--scenarios', scenarios]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /2 passed, 0 failed\n/);
  });
});
