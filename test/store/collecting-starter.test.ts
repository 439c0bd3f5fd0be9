// The collecting starter: async starts become jobs with stable ids, stored atomically with the run that made them, with
// the names of what carries a secret of the starting run beside their variables.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { CARRIES_SECRET, collectingStarter, jobSecretCarriers, jobVariables } from '../../server/starters.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';

it('turns async starts into jobs whose ids are the child run ids, stored with the request in one call', { timeout: 10_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'oktell-collector-'));
  const store = await openSqliteStore({ file: join(dir, 's.db') });
  try {
    let n = 0;
    const starter = collectingStarter({ newId: () => `job-${++n}` }, { kind: 'async' });
    const at = new Date(Date.UTC(2025, 0, 15, 9));
    const a = await starter.start({ scenario: 'SendLetter', params: { to: 'a@b.c' }, variables: { when: at, n: 1 }, parentRunId: 'hook-1', parentBlock: 'b4' });
    // A start that passes on a secret names what carries it (not the value) beside the variables.
    const b = await starter.start({ scenario: 'UpdateRecord', params: { 1: 'tok=s3cret-value' }, variables: { auth: 'Bearer S3CRET-VALUE' }, parentRunId: 'hook-1', parentBlock: 'b5', carriesSecret: { params: ['1'], variables: ['auth'] } });
    assert.deepEqual([a.runId, b.runId], ['job-1', 'job-2']);
    const jobs = starter.jobs;
    const r = await store.recordRequest({
      inbox: { receivedAt: Date.now(), method: 'POST', path: '/hook', headers: '', body: Buffer.from('{}'), signature: 'absent', dedupKey: null },
      jobs,
    });
    assert.deepEqual(r.jobIds, ['job-1', 'job-2']);
    const stored = await store.getJob('job-1');
    assert.equal(stored?.scenario, 'SendLetter');
    assert.equal(stored?.parentBlock, 'b4');
    assert.deepEqual(stored?.variables, { when: '2025-01-15T09:00:00.000Z', n: 1 });
    assert.deepEqual(stored?.trigger, { kind: 'async' });
    const second = (await store.getJob('job-2'))!;
    assert.deepEqual(second.variables, { auth: 'Bearer S3CRET-VALUE', [CARRIES_SECRET]: { params: ['1'], variables: ['auth'] } });
    assert.deepEqual(jobSecretCarriers(second.variables as Record<string, unknown>), { params: ['1'], variables: ['auth'] });
    assert.deepEqual(jobVariables(second.params as Record<string, string>, second.variables as Record<string, unknown>), { auth: 'Bearer S3CRET-VALUE' }, 'the run gets its variables without the names');
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
