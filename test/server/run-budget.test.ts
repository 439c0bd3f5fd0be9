// A run record has a size budget (OKTELL_RUN_RECORD_BUDGET, 64 KiB by default): a webhook that fans out to hundreds of
// Bpium calls and letters keeps the head and the tail of its trace, calls and letters, and one marker step says what
// was left out. `show` prints the marker; a test made from the run with `--from-run` checks only what was kept, and passes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { match } from '../../cli/testing/expectations.js';
import { ConfigError, loadServerConfig } from '../../server/config.js';
import { DEFAULT_RUN_RECORD_BYTES, fitRunRecord, recordCutOf, RECORD_CUT_KIND } from '../../server/run-budget.js';
import type { TraceStep } from '../../engine/index.js';
import { runCli } from '../cli/cli-process.js';
import { AUTH, postWebhook, startTestServer, taskWebhook, waitFor } from './server-helpers.js';

/** Bytes of one row of `runs` as SQLite holds its values (text as UTF-8). */
function runRowBytes(file: string, runId: string): number {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const cols = (db.prepare(`SELECT name FROM pragma_table_info('runs')`).pluck().all() as string[]).map((c) => `coalesce(length(CAST("${c}" AS BLOB)), 0)`);
    return Number(db.prepare(`SELECT ${cols.join(' + ')} FROM runs WHERE id = ?`).pluck().get(runId));
  } finally {
    db.close();
  }
}

function steps(n: number): TraceStep[] {
  return Array.from({ length: n }, (_, i) => ({ step: i + 1, scenario: 'Loop', block: `b${i % 3}`, kind: 'Variable', exit: 'next', ms: 0, changed: { x: 'я'.repeat(200) } }));
}

describe('the size budget of a run record', () => {
  it('keeps a record that fits as it is, and cuts the middle of one that does not, under the budget, with a marker step', () => {
    const small = { trace: steps(10), bpiumCalls: [], mails: [] };
    assert.equal(fitRunRecord(small, [{}], 16 * 1024, 'r1', 'Loop'), small, 'nothing to do: the same object');
    const big = { trace: steps(1000), bpiumCalls: [], mails: [] };
    const fitted = fitRunRecord(big, [{}], 16 * 1024, 'r1', 'Loop');
    assert.ok(Buffer.byteLength(JSON.stringify(fitted)) < 16 * 1024, `${Buffer.byteLength(JSON.stringify(fitted))} bytes`);
    const cut = recordCutOf(fitted.trace)!;
    assert.ok(cut.steps.first > 0 && cut.steps.omitted > 900);
    const marker = fitted.trace[cut.steps.first]!;
    assert.equal(marker.kind, RECORD_CUT_KIND);
    assert.equal(fitted.trace[0]!.step, 1, 'the head');
    assert.equal(fitted.trace.at(-1)!.step, 1000, 'the tail: where the run ended');
    assert.equal(fitted.trace.length - 1 + cut.steps.omitted, 1000);
    assert.match(marker.notes![0]!, new RegExp(`steps ${cut.steps.first + 1}–${cut.steps.first + cut.steps.omitted} \\(${cut.steps.omitted} of 1000\\).*not kept anywhere.*OKTELL_RUN_RECORD_BUDGET`));
  });

  it('is 64 KiB unless OKTELL_RUN_RECORD_BUDGET or runRecordBudget says otherwise, and not below 16 KiB', () => {
    assert.equal(loadServerConfig({}, {}, '/nonexistent').runRecordBytes, DEFAULT_RUN_RECORD_BYTES);
    assert.equal(loadServerConfig({}, { OKTELL_RUN_RECORD_BUDGET: '256kb' }, '/nonexistent').runRecordBytes, 256 * 1024);
    assert.throws(() => loadServerConfig({}, { OKTELL_RUN_RECORD_BUDGET: '8kb' }, '/nonexistent'), (e: unknown) => e instanceof ConfigError && /OKTELL_RUN_RECORD_BUDGET \(8192 bytes\) is below 16384 bytes/.test(e.message));
    assert.throws(() => loadServerConfig({}, { OKTELL_RUN_RECORD_BUDGET: 'lots' }, '/nonexistent'), (e: unknown) => e instanceof ConfigError && /OKTELL_RUN_RECORD_BUDGET/.test(e.message));
  });

  it('{ edges } checks the first and last items and the length of a list, not the items between', () => {
    const list = ['a', 'b', 'x', 'y', 'c', 'd'];
    assert.deepEqual(match({ edges: { first: ['a', 'b'], last: ['c', 'd'], length: 6 } }, list), []);
    assert.deepEqual(match({ edges: { first: ['a', 'b'], last: ['c', 'd'], length: 7 } }, list), [
      { place: [], at: ['edges', 'length'], expected: '7 item(s)', actual: `6 item(s): ${JSON.stringify(list)}` },
    ]);
    // Told at the run's item, placed in the file at the item of first or last (nested places carried along).
    assert.deepEqual(match({ edges: { first: ['a', 'z'], last: ['d'] } }, list).map((m) => [m.place, m.at]), [[[1], ['edges', 'first', 1]]]);
    assert.deepEqual(match({ edges: { last: ['c', 'e'] } }, list).map((m) => [m.place, m.at]), [[[5], ['edges', 'last', 1]]]);
    assert.deepEqual(match({ mails: { edges: { last: [{ to: ['x'] }] } } }, { mails: [{ to: ['a'] }, { to: ['b'] }] }).map((m) => [m.place, m.at]), [
      [['mails', 1, 'to', 0], ['mails', 'edges', 'last', 0, 'to', 0]],
    ]);
  });

  it('a webhook mailing 300 employees stores a run row within OKTELL_RUN_RECORD_BUDGET; show prints the marker; a test made from it passes', { timeout: 180_000 }, async (t) => {
    const server = await startTestServer({ env: { OKTELL_DELIVERY_THREAD: 'off', OKTELL_MAX_EFFECTS: '2000', OKTELL_RUN_RECORD_BUDGET: '48kb' } });
    try {
      const body = taskWebhook({ name: 'Всем сотрудникам', description: 'Общая задача', responsible: Array.from({ length: 300 }, () => '2') });
      const res = await postWebhook(server.server.url, body, server.secret);
      assert.equal(res.status, 200);
      const job = await waitFor('the job to finish', async () => {
        const j = (await server.server.store.listJobs({ limit: 5 })).items.find((x) => x.scenario === 'BpiumNewTask');
        return j && j.status !== 'queued' && j.status !== 'running' ? j : undefined;
      }, 150_000);
      assert.equal(job.status, 'succeeded', JSON.stringify(job.lastError));
      assert.equal(server.smtp!.letters.length, 300, 'every letter went out');
      const runId = job.lastRunId!;
      const run = (await server.server.store.getRun(runId))!;
      const cut = recordCutOf(run.trace);
      assert.ok(cut, 'the record was cut');
      assert.ok(cut.bpiumCalls.omitted > 0 && cut.mails.omitted > 0 && cut.steps.omitted > 0, JSON.stringify(cut));
      assert.equal((run.bpiumCalls as unknown[]).length + cut.bpiumCalls.omitted, 300, 'the calls kept and left out make all 300');
      assert.equal((run.mails as unknown[]).length + cut.mails.omitted, 300);
      const rowBytes = runRowBytes(join(server.dataDir, 'oktell.sqlite'), runId);
      t.diagnostic(`run row ${rowBytes} bytes; ${JSON.stringify(cut)}`);
      assert.ok(rowBytes <= 48 * 1024, `the run row takes ${rowBytes} bytes`);

      const shown = runCli(['show', runId, '--data-dir', server.dataDir]);
      assert.equal(shown.code, 0, shown.stdout + shown.stderr);
      assert.match(shown.stdout, /… RecordCut → left out/);
      assert.match(shown.stdout, new RegExp(`note Left out of this record, which may take 49152 bytes \\(OKTELL_RUN_RECORD_BUDGET\\): steps \\d+–\\d+ \\(${cut.steps.omitted} of \\d+\\), Bpium calls \\d+–\\d+ \\(${cut.bpiumCalls.omitted} of 300\\), letters \\d+–\\d+ \\(${cut.mails.omitted} of 300\\)\\. They are not kept anywhere`));

      // The console's run page shows the marker where the middle was, with its note.
      const page = await fetch(`${server.server.url}/-/console/runs/${runId}`, { headers: { authorization: AUTH } });
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.match(html, /<span class="blk" lang="ru">…<\/span>\s*<span class="kind">RecordCut<\/span>/);
      assert.match(html, /<span class="step-note">Left out of this record, which may take 49152 bytes/);
      // Its "download as test" is the same case as --from-run's.
      const download = await fetch(`${server.server.url}/-/console/runs/${runId}/test.yaml`, { headers: { authorization: AUTH } });
      assert.equal(download.status, 200);
      assert.match(await download.text(), /path:\s*\n\s*edges:/);

      const out = join(server.scenariosDir, 'tests', 'fan-out.test.yaml');
      const made = runCli(['test', '--from-run', runId, '--name', 'fan-out', '--out', out, '--scenarios', server.scenariosDir, '--data-dir', server.dataDir], { OKTELL_MAX_EFFECTS: '2000' });
      assert.equal(made.code, 0, made.stdout + made.stderr);
      assert.match(made.stdout, /✓ .*fan-out/);
      const written = readFileSync(out, 'utf8');
      assert.match(written, /were left out of its record/);
      assert.match(written, /path:\s*\n\s*edges:/);
      assert.match(written, /bpiumCalls:\s*\n\s*edges:/);
      assert.match(written, /mails:\s*\n\s*edges:/);
      assert.match(written, /length: 300/);
      assert.doesNotMatch(written, /RecordCut/);
    } finally {
      await server.cleanup();
    }
  });
});
