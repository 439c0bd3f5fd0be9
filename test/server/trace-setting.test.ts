// OKTELL_TRACE (the file's `trace:`): `all` (the default) stores every run's trace; `failed` stores a completed run
// without its steps (a marker step in their place; web requests and statements, whose only record is their step, kept)
// and never cuts or serialises those steps. Failed runs, and completed runs that may repeat an effect, keep theirs.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { RunResult, TraceStep } from '../../engine/index.js';
import { ConfigError, loadServerConfig } from '../../server/config.js';
import { runWrite } from '../../server/run-record.js';
import { startedJobIdsOf } from '../../server/started-jobs.js';
import { storedReturnValues } from '../../server/stored-values.js';
import { traceNotKeptOf, TRACE_NOT_KEPT_KIND, type TraceKept } from '../../server/trace-setting.js';
import { tempDir } from '../helpers.js';

describe('OKTELL_TRACE: reading the setting', () => {
  const cases: Array<{ env?: string; file?: string; kept?: TraceKept; error?: RegExp }> = [
    { kept: 'all' },
    { env: 'all', kept: 'all' },
    { env: 'failed', kept: 'failed' },
    { env: ' FAILED ', kept: 'failed' },
    { file: 'trace: failed\n', kept: 'failed' },
    { env: 'all', file: 'trace: failed\n', kept: 'all' },
    { env: '', file: 'trace: failed\n', kept: 'failed' },
    { env: 'completed', error: /^OKTELL_TRACE="completed" must be all \(the default: every run keeps its trace\) or failed \(a completed run is stored without its trace steps; a failed run keeps them\)$/ },
    { env: 'none', error: /^OKTELL_TRACE="none" must be all .* or failed / },
    { file: 'trace: errors\n', error: /oktell\.config\.yaml:1:8: trace: Invalid option: expected one of "all"\|"failed"$/ },
  ];
  for (const c of cases) {
    it(`${c.env === undefined ? '(unset)' : JSON.stringify(c.env)}${c.file ? ` with ${c.file.trim()}` : ''} → ${c.kept ?? 'refused'}`, () => {
      const tmp = tempDir('oktell-trace-config-');
      try {
        if (c.file) writeFileSync(join(tmp.dir, 'oktell.config.yaml'), c.file);
        const env = c.env === undefined ? {} : { OKTELL_TRACE: c.env };
        const load = () => loadServerConfig(c.file ? { config: join(tmp.dir, 'oktell.config.yaml') } : {}, env, tmp.dir);
        if (c.error) assert.throws(load, (e: unknown) => e instanceof ConfigError && c.error!.test(e.message));
        else assert.equal(load().traceKept, c.kept);
      } finally {
        tmp.cleanup();
      }
    });
  }
});

/** A step whose `changed` counts its reads: cutting or serialising the trace reads it, leaving it out does not. */
function countingStep(step: number, reads: { n: number }, kind = 'Variable'): TraceStep {
  const changed = { x: 'я'.repeat(5000) };
  const s = { step, scenario: 'S', block: `b${step}`, kind, exit: 'next', ms: 0 } as TraceStep;
  Object.defineProperty(s, 'changed', { enumerable: true, get: () => (reads.n++, changed) });
  return s;
}

function result(status: 'completed' | 'failed', trace: TraceStep[], extra: Partial<RunResult> = {}): RunResult {
  return {
    runId: 'r1', scenario: 'S', version: 'v1', status, returnValues: { 1: 'done' }, variables: {}, mails: [], bpiumCalls: [],
    asyncStarted: [], trace, steps: trace.length, startedAt: new Date(0).toISOString(), durationMs: 1,
    ...(status === 'failed' ? { error: { code: 'X', message: 'broke' } } : {}),
    ...extra,
  } as RunResult;
}

const webStep: TraceStep = { step: 3, scenario: 'S', block: 'call', kind: 'WebRequest', exit: 'success', ms: 1, effect: { request: { method: 'GET', url: 'http://x/' }, status: 200 } };

describe('OKTELL_TRACE: what a run record keeps', () => {
  const cases: Array<{ name: string; kept: TraceKept | undefined; status: 'completed' | 'failed'; extra?: Partial<RunResult>; whole: boolean }> = [
    { name: 'default, completed', kept: undefined, status: 'completed', whole: true },
    { name: 'all, completed', kept: 'all', status: 'completed', whole: true },
    { name: 'all, failed', kept: 'all', status: 'failed', whole: true },
    { name: 'failed, failed', kept: 'failed', status: 'failed', whole: true },
    { name: 'failed, completed', kept: 'failed', status: 'completed', whole: false },
    { name: 'failed, completed but may repeat an effect', kept: 'failed', status: 'completed', extra: { mayRepeat: [{ step: 1, scenario: 'S', block: 'b1', kind: 'SendMail' }] } as Partial<RunResult>, whole: true },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.whole ? 'the whole trace' : 'a marker, the web request, and no step read'}`, () => {
      const reads = { n: 0 };
      const trace = [countingStep(1, reads), countingStep(2, reads), webStep];
      const run = runWrite(result(c.status, trace, c.extra), { trigger: 'http', params: {}, ...(c.kept ? { traceKept: c.kept } : {}) });
      const stored = JSON.parse(JSON.stringify(run.trace)) as TraceStep[];
      assert.deepEqual([run.returnValues, run.status], [{ 1: 'done' }, c.status]);
      if (c.whole) {
        assert.deepEqual(stored.map((s) => s.step), [1, 2, 3]);
        assert.equal(traceNotKeptOf(stored), undefined);
        assert.ok(reads.n > 0);
      } else {
        assert.equal(reads.n, 0, 'the steps left out were neither cut nor serialised');
        assert.deepEqual(stored.map((s) => [s.step, s.kind]), [[0, TRACE_NOT_KEPT_KIND], [3, 'WebRequest']]);
        assert.deepEqual(traceNotKeptOf(stored), { setting: 'OKTELL_TRACE=failed', steps: 3, started: [] });
        assert.deepEqual(stored[0]!.notes, ['trace not kept (OKTELL_TRACE=failed)']);
      }
    });
  }

  it('the jobs the run started are named in the marker, all of them even when a runaway loop lost steps', () => {
    const asyncStarted = [
      { block: 'go', scenario: 'Child', params: {}, runId: 'job-1' },
      { block: 'go', scenario: 'Child', params: {}, runId: 'job-2' },
    ];
    // The trace kept the ends of a loop of 10,002 steps: the starts' own steps are among those left out.
    const run = runWrite(result('completed', [countingStep(1, { n: 0 }), countingStep(10_002, { n: 0 })], { asyncStarted, traceTruncated: 10_000 }), { trigger: 'http', params: {}, traceKept: 'failed' });
    const stored = JSON.parse(JSON.stringify(run.trace)) as TraceStep[];
    assert.deepEqual(traceNotKeptOf(stored), { setting: 'OKTELL_TRACE=failed', steps: 10_002, started: ['job-1', 'job-2'] });
    assert.deepEqual(startedJobIdsOf(stored), ['job-1', 'job-2']);
    // A marker of an older build names none: the jobs table is read then.
    const older = [{ ...stored[0]!, effect: { traceNotKept: { setting: 'OKTELL_TRACE=failed', steps: 2 } } }];
    assert.equal(startedJobIdsOf(older), undefined);
  });

  it('a date among the return values is still read back as a date without the steps that set it', () => {
    const when = new Date('2026-12-01T10:00:00Z');
    const run = runWrite(result('completed', [countingStep(1, { n: 0 })], { returnValues: { 1: when, 2: 'text' } }), { trigger: 'http', params: {}, traceKept: 'failed' });
    const stored = JSON.parse(JSON.stringify({ r: run.returnValues, t: run.trace })) as { r: unknown; t: unknown };
    assert.deepEqual(storedReturnValues(stored.r, stored.t), { 1: when, 2: 'text' });
  });
});
