// A retried job's run page: the Bpium calls and database statements it took from its job's journal (status
// `replayed`, made by the earlier attempt) are shown with the replayed badge, not the red one of a failure, and without
// "not performed". A real server over HTTP; the run recorded in its real SQLite store.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newSortableId } from '../../server/store/sortable-id.js';
import { get, startConsoleServer } from './console-helpers.js';

describe('a retried run’s replayed calls on its page', () => {
  it('Bpium calls and database statements taken from the journal: the replayed badge, no failure, no "not performed"', { timeout: 60_000 }, async () => {
    const t = await startConsoleServer();
    try {
      const id = newSortableId();
      const startedAt = Date.now() - 60_000;
      await t.server.store.recordRun({
        id,
        jobId: newSortableId(),
        attempt: 2,
        scenario: 'PushTasks',
        version: 'v1',
        trigger: 'async',
        status: 'completed',
        startedAt,
        finishedAt: startedAt + 40,
        params: {},
        returnValues: {},
        trace: [
          { step: 1, scenario: 'PushTasks', block: 'next', kind: 'DbQuery', exit: 'success', ms: 0.1, effect: { connection: 'main', statement: 'SELECT id FROM orders WHERE sent_at IS NULL LIMIT 1', params: {}, rolledBack: false, outcome: 'ok', rowCount: 1, replayed: true } },
        ],
        bpiumCalls: [
          { block: 'find', method: 'findRecord', catalogId: '11', status: 'replayed', performed: false },
          { block: 'mark', method: 'updateRecord', catalogId: '11', recordId: '2', status: 'replayed', performed: false },
          { block: 'find', method: 'findRecord', catalogId: '11', status: 'ok', performed: true },
        ],
        mails: [],
      });
      const page = await (await get(`${t.base}/runs/${id}`)).text();
      const bpium = /<table class="grid compact calls bpium-calls">[\s\S]*?<\/table>/.exec(page)?.[0] ?? '';
      assert.equal((bpium.match(/<span class="badge st-replayed">replayed<\/span>/g) ?? []).length, 2, bpium);
      assert.equal((bpium.match(/<span class="badge st-completed">ok<\/span>/g) ?? []).length, 1, bpium);
      assert.doesNotMatch(bpium, /st-failed|not performed/);
      const db = /<table class="grid compact calls db-calls">[\s\S]*?<\/table>/.exec(page)?.[0] ?? '';
      assert.match(db, /<span class="badge st-replayed">replayed<\/span> · 1 row\(s\)/);
    } finally {
      await t.cleanup();
    }
  });
});
