// `test --from-run` and `test --against-runs` find the runs a run started by the job ids its trace names, not by
// listing every run since it started: on a store of a year's runs that listing cost seconds for each selected run (9 s
// for 300 runs), and it stopped after 20,000 runs, newest first, so a run with more runs after it than that lost the
// runs it started from its case (a year-old webhook's case expected no letter at all, and passed).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { caseFromRun } from '../../cli/testing/from-run.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import type { ListRunsQuery, RunWrite, Store } from '../../server/store/store.port.js';

const T0 = Date.parse('2025-12-01T09:00:00Z');
const step = (n: number, scenario: string, extra: Record<string, unknown> = {}) => ({ step: n, scenario, block: `b${n}`, kind: 'Variable', exit: 'next', ms: 0, ...extra });
const run = (id: string, over: Partial<RunWrite>): RunWrite => ({ id, scenario: 'Hook', version: 'v1', trigger: 'http', status: 'completed', startedAt: T0, finishedAt: T0 + 1, durationMs: 1, params: {}, returnValues: {}, trace: [step(1, 'Hook')], ...over });

describe('the runs a recorded run started, on a store with many runs after it', { timeout: 120_000 }, () => {
  it('a run with 20,001 runs after it: its job\'s last attempt is in the case, found without listing the runs since it', async () => {
    const store = await openSqliteStore({ file: ':memory:' });
    try {
      const [jobId] = await store.enqueueJobs([{ id: 'job-1', scenario: 'Child', params: { 1: 'x' }, parentRunId: 'hook-1' }]);
      await store.recordRun(run('hook-1', { trace: [step(1, 'Hook'), step(2, 'Hook', { kind: 'AsyncScenario', effect: { started: 'Child', runId: jobId } })] }));
      // Two attempts of the job: the second (started later) is the one the case expects.
      const child = (id: string, attempt: number, at: number, status: 'failed' | 'completed') =>
        run(id, { scenario: 'Child', trigger: 'async', jobId, parentRunId: 'hook-1', attempt, status, startedAt: at, finishedAt: at + 1, returnValues: { 1: status }, trace: [step(1, 'Child')] });
      await store.recordRun(child('child-1', 1, T0 + 10, 'failed'));
      await store.recordRun(child('child-2', 2, T0 + 5000, 'completed'));
      // A year of other webhooks after it.
      const later: Promise<void>[] = [];
      for (let i = 0; i < 20_001; i++) later.push(store.recordRun(run(`later-${String(i).padStart(6, '0')}`, { startedAt: T0 + 10_000 + i * 1000, finishedAt: T0 + 10_001 + i * 1000 })));
      await Promise.all(later);

      const listed: ListRunsQuery[] = [];
      const counting = new Proxy(store, {
        get(target, name, receiver) {
          if (name === 'listRuns') return (q?: ListRunsQuery) => (listed.push(q ?? {}), target.listRuns(q));
          const v = Reflect.get(target, name, receiver) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      }) as Store;
      const recorded = await caseFromRun(counting, 'hook-1', { timeZone: 'UTC' });
      const started = (recorded.case.expect as { asyncStarted?: Array<{ scenario: string; result: { status: string; returnValues: unknown } }> }).asyncStarted;
      assert.deepEqual(started?.map((s) => [s.scenario, s.result.status, s.result.returnValues]), [['Child', 'completed', { 1: 'completed' }]]);
      // No listing of the runs since the root: only its job's runs, by the job's id.
      assert.deepEqual(listed.filter((q) => q.since !== undefined), []);
      assert.deepEqual(listed.map((q) => q.jobId), [jobId]);
    } finally {
      await store.close();
    }
  });
});
