// Bpium ids given with white space around them (a value parsed out of text with its line end) are sent without it
// (adapters/bpium/query.ts assertBpiumId). The run's record must name the ids sent: `test --from-run` makes a fixture
// of it, keyed by catalog and record, and that fixture must answer the recorded case's run as the record says.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createFixtureBpium, type BpiumFixtureFile } from '../../adapters/fixtures/bpium-fixtures.adapter.js';
import { loadLibrary } from '../../cli/config.js';
import { caseFromRun } from '../../cli/testing/from-run.js';
import { createInProcessStarter, fixedClock, randomIds, runScenario, type EnginePorts } from '../../engine/index.js';
import { runWrite } from '../../server/run-record.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { tempDir } from '../helpers.js';

const GET = `variables: { catalog: string, id: string, email: string, code: string }
start: get
blocks:
  get:
    kind: Bpium
    method: getRecord
    catalog: '[catalog]'
    record: '[id]'
    fields: { email: 2 }
    errorCode: code
    exits: { success: ok, error: failed }
  ok: { kind: ReturnValue, values: { 1: '[email]' } }
  failed: { kind: ReturnValue, values: { 1: '"failed: " + [code]' } }
`;

describe('a recorded run whose Bpium ids came with white space around them', () => {
  it('becomes a case whose fixture has the ids sent, and answers that case as the run was answered', async () => {
    const tmp = tempDir();
    writeFileSync(join(tmp.dir, 'Get.yaml'), GET);
    const { library, templates } = await loadLibrary(tmp.dir, undefined, 'Europe/Moscow');
    const ports = (data: BpiumFixtureFile): EnginePorts => ({
      bpium: createFixtureBpium(structuredClone(data)),
      templates,
      clock: fixedClock(new Date('2026-11-30T07:15:00Z')),
      ids: randomIds,
      asyncStarter: createInProcessStarter(randomIds, async () => {
        throw new Error('Get starts nothing');
      }),
    });
    const variables = { catalog: ' 3\r\n', id: '\t2 ' };
    const store = await openSqliteStore({ file: join(tmp.dir, 'oktell.sqlite') });
    try {
      const data: BpiumFixtureFile = { catalogs: { '3': { records: { '2': { '2': 'ivan.petrov@example.com' } } } } };
      const result = await runScenario(library, 'Get', { variables, dryRun: true, timeZone: 'Europe/Moscow', ports: ports(data) });
      assert.equal(result.returnValues['1'], 'ivan.petrov@example.com');
      await store.recordRun(runWrite(result, { trigger: 'cli', params: {} }));
      const recorded = await caseFromRun(store, result.runId, { name: 'padded ids', timeZone: 'Europe/Moscow' });
      assert.deepEqual(recorded.case.bpium, data);
      assert.deepEqual((recorded.case.expect as { bpiumCalls: unknown[] }).bpiumCalls, [{ method: 'getRecord', catalogId: '3', recordId: '2', status: 'ok' }]);
      // The case's fixture answers the same run alike.
      const again = await runScenario(library, 'Get', { variables, dryRun: true, timeZone: 'Europe/Moscow', ports: ports(recorded.case.bpium as BpiumFixtureFile) });
      assert.equal(again.returnValues['1'], 'ivan.petrov@example.com');
    } finally {
      await store.close();
      tmp.cleanup();
    }
  });
});
