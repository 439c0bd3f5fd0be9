// A dry run records Bpium writes instead of making them, but checks their numeric field ids against the catalog
// structure it reads (as it resolves field names): an id the catalog does not have takes `error` with what the live
// run gets from Bpium (our emulator refuses such a write with 400), instead of a dry run or a scenario test
// "succeeding" with a write the real Bpium refuses. A fixture run (writes made into the fixture) refuses it the same way.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { FIXTURE, writeScenario } from './bpium-dry-write.helper.js';
import { startTestEmulator } from '../bpium/helpers.js';
import { runCli, startCli } from './cli.helper.js';

const scenario = (field: string, record: string) => writeScenario(field, record);

const TESTS = `bpium: bpium.yaml
cases:
  - name: an unknown field id is refused as by Bpium
    scenario: UnknownId
    expect:
      returnValues: { 1: fail 400 }
      bpiumCalls: [{ method: createRecord, status: error, performed: false }]
  - name: a known field id is a recorded write
    scenario: KnownId
    expect:
      returnValues: { 1: { contains: ok dry-run- } }
      bpiumCalls: [{ method: createRecord, status: dry-run }, { method: updateRecord, status: dry-run }]
`;

interface RunJson {
  returnValues: Record<string, unknown>;
  bpiumCalls: Array<{ method: string; status: string; performed: boolean; httpStatus?: number; error?: string }>;
}

const NO_FIELD_99 = 'catalog 11 has no field "99"';

describe('a dry-run Bpium write checks its field ids', () => {
  const tmp = tempDir();
  const scenarios = join(tmp.dir, 'w');
  const fixture = join(scenarios, 'tests', 'bpium.yaml');
  before(() => {
    mkdirSync(join(scenarios, 'tests'), { recursive: true });
    writeFileSync(join(scenarios, 'UnknownId.yaml'), scenario('99', '5'));
    writeFileSync(join(scenarios, 'KnownId.yaml'), scenario('2', '5'));
    writeFileSync(fixture, FIXTURE);
    writeFileSync(join(scenarios, 'tests', 'ids.test.yaml'), TESTS);
  });
  after(() => tmp.cleanup());
  const run = (name: string, ...more: string[]) => {
    const r = runCli(['run', name, '--scenarios', scenarios, '--json', '--bpium-fixtures', fixture, ...more], { env: { OKTELL_DATA_DIR: join(tmp.dir, 'var') } });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    return JSON.parse(r.stdout) as RunJson;
  };

  it('against the Bpium emulator: the dry run takes the error exit with the live run\'s errorCode and status, and sends nothing', { timeout: 60_000 }, async () => {
    const emu = await startTestEmulator();
    try {
      // Record 1 of catalog 11 is in the emulator's seed.
      writeFileSync(join(scenarios, 'UnknownIdLive.yaml'), scenario('99', '1'));
      const env = { BPIUM_URL: emu.url, BPIUM_LOGIN: emu.login, BPIUM_PASSWORD: emu.password, OKTELL_DATA_DIR: join(tmp.dir, 'var-live') };
      // In the background: the emulator answers from this process, which a synchronous spawn would block.
      const runAgainst = async (...more: string[]) => {
        const p = startCli(['run', 'UnknownIdLive', '--scenarios', scenarios, '--json', ...more], { env });
        assert.equal((await p.exited).code, 0, p.stdout() + p.stderr());
        return JSON.parse(p.stdout()) as RunJson;
      };
      const live = await runAgainst();
      assert.deepEqual(live.returnValues, { '1': 'fail 400' });
      assert.deepEqual(live.bpiumCalls.map((c) => [c.method, c.status, c.performed, c.httpStatus]), [['createRecord', 'error', false, 400]]);
      assert.ok(live.bpiumCalls[0]!.error!.includes(NO_FIELD_99), live.bpiumCalls[0]!.error);
      const writes = () => emu.requests().filter((q) => q.method !== 'GET').length;
      const before = writes();
      const dry = await runAgainst('--dry-run');
      assert.deepEqual(dry.returnValues, live.returnValues);
      assert.deepEqual(dry.bpiumCalls.map((c) => [c.method, c.status, c.performed, c.httpStatus]), [['createRecord', 'error', false, 400]]);
      assert.ok(dry.bpiumCalls[0]!.error!.startsWith(`${NO_FIELD_99} (checked against the catalog structure in a dry run: the write was not sent`), dry.bpiumCalls[0]!.error);
      assert.equal(writes(), before, 'the dry run wrote nothing');
    } finally {
      await emu.stop();
    }
  });

  it('run --dry-run --bpium-fixtures: an unknown id takes error; known ids are recorded', () => {
    const out = run('UnknownId', '--dry-run');
    assert.deepEqual(out.returnValues, { '1': 'fail 400' });
    assert.deepEqual(out.bpiumCalls.map((c) => [c.method, c.status]), [['createRecord', 'error']]);
    assert.match(out.bpiumCalls[0]!.error!, /^catalog 11 has no field "99" \(checked against the catalog structure/);
    const known = run('KnownId', '--dry-run');
    assert.match(String(known.returnValues['1']), /^ok dry-run-/);
    assert.deepEqual(known.bpiumCalls.map((c) => [c.method, c.status]), [['createRecord', 'dry-run'], ['updateRecord', 'dry-run']]);
  });

  it('run --bpium-fixtures (writes made into the fixture): an unknown id is refused with 400, as Bpium refuses it', () => {
    const out = run('UnknownId');
    assert.deepEqual(out.returnValues, { '1': 'fail 400' });
    assert.deepEqual(out.bpiumCalls.map((c) => [c.method, c.status, c.httpStatus, c.error]), [['createRecord', 'error', 400, `fixture: Bpium answered 400: ${NO_FIELD_99}`]]);
    const known = run('KnownId');
    assert.deepEqual(known.bpiumCalls.map((c) => [c.method, c.status]), [['createRecord', 'ok'], ['updateRecord', 'ok']]);
  });

  it('oktell-emu test: the case with an unknown id sees the error exit, the other a recorded write', () => {
    const r = runCli(['test', '--scenarios', scenarios]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /2 passed, 0 failed\n/);
  });
});
