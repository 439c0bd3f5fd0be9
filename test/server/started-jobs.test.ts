// The jobs a run started are read by the ids its trace names, not by reading the jobs table for its id (which has no
// index on the parent run: on a store of 180,000 jobs each such read took about 0.5 s on the server's event loop, at
// every view of a run's console page and every `show`); a trace that may not name them all falls back to that read.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startedJobIdsOf, startedJobs } from '../../server/started-jobs.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { fitRunRecord } from '../../server/run-budget.js';
import type { TraceStep } from '../../engine/index.js';
import type { ListJobsQuery, Store } from '../../server/store/store.port.js';

const step = (n: number, effect?: Record<string, unknown>) => ({ step: n, scenario: 'Hook', block: `b${n}`, kind: effect ? 'AsyncScenario' : 'Variable', exit: 'next', ms: 0, ...(effect ? { effect } : {}) });

/** A store whose job list by parent run is counted (the read of the jobs table this file is about). */
function counted(store: Store): { store: Pick<Store, 'getJob' | 'listJobs'>; scans: () => number; reads: () => number } {
  let scans = 0;
  let reads = 0;
  return {
    store: {
      getJob: (id) => {
        reads++;
        return store.getJob(id);
      },
      listJobs: (q?: ListJobsQuery) => {
        if (q?.parentRunId) scans++;
        return store.listJobs(q);
      },
    },
    scans: () => scans,
    reads: () => reads,
  };
}

describe('startedJobs', () => {
  it('a whole trace: the jobs it names that this run started, newest first, without reading the jobs table', async () => {
    const store = await openSqliteStore({ file: ':memory:' });
    try {
      const [a, b] = await store.enqueueJobs([
        { id: 'job-a', scenario: 'Child', params: {}, parentRunId: 'hook-1' },
        { id: 'job-b', scenario: 'Child', params: {}, parentRunId: 'hook-1' },
      ]);
      // Another run's job, named by a caller-chosen id, and one never queued (a duplicate delivery's start): left out.
      await store.enqueueJobs([{ id: 'job-other', scenario: 'Child', params: {}, parentRunId: 'hook-2' }]);
      for (let i = 0; i < 50; i++) await store.enqueueJobs([{ scenario: 'Filler', params: {}, parentRunId: `hook-x${i}` }]);
      const trace = [step(1), step(2, { started: 'Child', runId: a }), step(3, { started: 'Child', runId: 'never-queued' }), step(4, { started: 'Child', runId: b }), step(5, { started: 'Child', runId: 'job-other' })];
      assert.deepEqual(startedJobIdsOf(trace), ['job-a', 'never-queued', 'job-b', 'job-other']);
      const c = counted(store);
      assert.deepEqual((await startedJobs(c.store, { id: 'hook-1', trace }, 20)).map((j) => j.id), ['job-b', 'job-a']);
      assert.deepEqual((await startedJobs(c.store, { id: 'hook-1', trace }, 1)).map((j) => j.id), ['job-b']);
      assert.equal(c.scans(), 0, 'the jobs table was read for the run id');
      // Read from the last started back, only as far as the limit: the last (another run's) and job-b.
      const few = counted(store);
      await startedJobs(few.store, { id: 'hook-1', trace }, 1);
      assert.equal(few.reads(), 2, 'jobs read for a limit of 1');
      // The same as the read of the jobs table gives.
      assert.deepEqual((await store.listJobs({ parentRunId: 'hook-1' })).items.map((j) => j.id), ['job-b', 'job-a']);
    } finally {
      await store.close();
    }
  });

  it('a trace that may not name every start (steps left out, not kept, none): the jobs table is read', async () => {
    const store = await openSqliteStore({ file: ':memory:' });
    try {
      await store.enqueueJobs([{ id: 'job-a', scenario: 'Child', params: {}, parentRunId: 'hook-1' }]);
      const notKept = [{ step: 0, scenario: 'Hook', block: '(trace not kept)', kind: 'TraceNotKept', exit: 'not kept', ms: 0 }];
      for (const trace of [[step(1), step(3)], notKept, null, [step(2)]]) {
        assert.equal(startedJobIdsOf(trace), undefined, JSON.stringify(trace));
        const c = counted(store);
        assert.deepEqual((await startedJobs(c.store, { id: 'hook-1', trace }, 20)).map((j) => j.id), ['job-a']);
        assert.equal(c.scans(), 1);
      }
    } finally {
      await store.close();
    }
  });

  it('a record cut at its budget with its tail left out (no gap in the step numbers): the jobs table is read', async () => {
    const store = await openSqliteStore({ file: ':memory:' });
    try {
      await store.enqueueJobs([
        { id: 'job-early', scenario: 'Child', params: {}, parentRunId: 'hook-1' },
        { id: 'job-late', scenario: 'Child', params: {}, parentRunId: 'hook-1' },
      ]);
      // 200 small steps, a start at step 2 and one at step 190, then a last step too large for the room left: the
      // budget's cut keeps the head and no tail, and its marker takes the number of the first step left out.
      const whole: TraceStep[] = [];
      for (let i = 1; i <= 200; i++) whole.push(<TraceStep>step(i, i === 2 ? { started: 'Child', runId: 'job-early' } : i === 190 ? { started: 'Child', runId: 'job-late' } : undefined));
      whole.push(<TraceStep>{ ...step(201), changed: { big: 'x'.repeat(12_000) } });
      const tailCut = fitRunRecord({ trace: whole, bpiumCalls: [], mails: [] }, [], 16_384, 'hook-1', 'Hook').trace;
      // Parameters that fill the budget: every step left out, the marker alone (numbered 1).
      const allCut = fitRunRecord({ trace: whole, bpiumCalls: [], mails: [] }, [{ body: 'y'.repeat(16_384) }], 16_384, 'hook-1', 'Hook').trace;
      for (const trace of [tailCut, allCut]) {
        assert.ok(trace.every((s, i) => s.step === i + 1), 'step numbers without a gap');
        assert.equal(startedJobIdsOf(trace), undefined);
        assert.deepEqual((await startedJobs(store, { id: 'hook-1', trace }, 20)).map((j) => j.id).sort(), ['job-early', 'job-late']);
      }
      // A cut that left no step out (only letters or Bpium calls): its marker comes last, and every start is named.
      const noStepCut = [...whole.slice(0, 3), { step: 4, scenario: 'Hook', block: tailCut.at(-1)!.block, kind: tailCut.at(-1)!.kind, exit: 'left out', ms: 0, effect: { recordCut: { budgetBytes: 16_384, steps: { first: 3, omitted: 0 }, bpiumCalls: { first: 0, omitted: 0 }, mails: { first: 1, omitted: 2 } } } }];
      assert.deepEqual(startedJobIdsOf(noStepCut), ['job-early']);
    } finally {
      await store.close();
    }
  });
});
