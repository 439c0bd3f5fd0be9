// What one webhook costs in the store: its body once in the inbox and once in its job, plus a few KB of records — not
// a copy in every trace step, parameter, variable and letter (a 5 MB body once cost 52 MB).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { DEFAULT_RUN_RECORD_BYTES, recordCutOf } from '../../server/run-budget.js';
import { cutText, STORED_TEXT_CHARS } from '../../server/run-record.js';
import { AUTH, postWebhook, startTestServer, taskWebhook, waitFor } from './server-helpers.js';

/** Bytes of every value in every table of the store (text as UTF-8, blobs as they are). */
function storedBytes(file: string): { total: number; byTable: Record<string, number> } {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const byTable: Record<string, number> = {};
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).pluck().all() as string[];
    for (const t of tables) {
      const cols = (db.prepare(`SELECT name FROM pragma_table_info(?)`).pluck().all(t) as string[]).map((c) => `coalesce(sum(length(CAST("${c}" AS BLOB))), 0)`);
      byTable[t] = cols.length ? Number(db.prepare(`SELECT ${cols.join(' + ')} FROM "${t}"`).pluck().get()) : 0;
    }
    return { total: Object.values(byTable).reduce((a, b) => a + b, 0), byTable };
  } finally {
    db.close();
  }
}

describe('storage per webhook', () => {
  it('cuts long texts in run records and says how long they were', () => {
    assert.equal(cutText('short'), 'short');
    const cut = cutText('я'.repeat(1000));
    assert.equal(cut, `${'я'.repeat(STORED_TEXT_CHARS)}… [cut: 1000 characters in all]`);
  });

  it('a 1 MB webhook, mailed to one employee and missed for an unknown one, costs at most twice its body plus 64 KB', { timeout: 60_000 }, async (t) => {
    const server = await startTestServer({ env: { OKTELL_DELIVERY_THREAD: 'off' } });
    try {
      const file = join(server.dataDir, 'oktell.sqlite');
      const before = storedBytes(file);
      // A long description (mailed, so within the letter's 1 MiB) and a field the scenario never reads.
      const hook = JSON.parse(taskWebhook({ name: 'Большая задача', description: 'описание '.repeat(20_000), responsible: ['2', '999'] })) as { payload: { values: Record<string, unknown> } };
      hook.payload.values['9'] = 'x'.repeat(700_000);
      const body = JSON.stringify(hook);
      const bodyBytes = Buffer.byteLength(body);
      assert.ok(bodyBytes > 1_000_000);
      const res = await postWebhook(server.server.url, body, server.secret);
      assert.equal(res.status, 200);
      await waitFor('the letter', () => server.smtp!.letters.length === 1, 30_000);
      const job = await waitFor('the job to finish', async () => {
        const page = await server.server.store.listJobs({ limit: 5 });
        const j = page.items.find((x) => x.scenario === 'BpiumNewTask');
        return j?.status === 'succeeded' ? j : undefined;
      }, 30_000);
      // The child run still received the whole body: its letter carries the whole description.
      assert.ok(server.smtp!.letters[0]!.raw.length > 2 * Buffer.byteLength('описание '.repeat(20_000)), 'the letter holds the full description');
      const run = (await server.server.store.getRun(job.lastRunId!))!;
      assert.match(JSON.stringify(run.trace), /\[cut: \d+ characters in all\]/);
      const after = storedBytes(file);
      const grown = after.total - before.total;
      const byTable = Object.fromEntries(Object.entries(after.byTable).map(([k, v]) => [k, v - (before.byTable[k] ?? 0)]));
      t.diagnostic(`body ${bodyBytes} bytes; store grew by ${grown} bytes: ${JSON.stringify(byTable)}`);
      assert.ok(grown <= 2 * bodyBytes + 64 * 1024, `store grew by ${grown} bytes for a ${bodyBytes}-byte webhook: ${JSON.stringify(byTable)}`);
    } finally {
      await server.cleanup();
    }
  });

  it('a 17 KB webhook mailed 50 times costs twice its body and at most 64 KiB per run record (was 58 times its body)', { timeout: 60_000 }, async (t) => {
    const server = await startTestServer({ env: { OKTELL_DELIVERY_THREAD: 'off' } });
    try {
      const file = join(server.dataDir, 'oktell.sqlite');
      const before = storedBytes(file);
      // One long description, and the same responsible 50 times: 50 letters, each carrying the whole description.
      const body = taskWebhook({ name: 'Задача', description: 'C'.repeat(16_000), responsible: Array.from({ length: 50 }, () => '2') });
      const bodyBytes = Buffer.byteLength(body);
      const res = await postWebhook(server.server.url, body, server.secret);
      assert.equal(res.status, 200);
      const job = await waitFor('the job to finish', async () => {
        const page = await server.server.store.listJobs({ limit: 5 });
        const j = page.items.find((x) => x.scenario === 'BpiumNewTask');
        return j?.status === 'succeeded' ? j : undefined;
      }, 30_000);
      assert.equal(server.smtp!.letters.length, 50);
      const run = (await server.server.store.getRun(job.lastRunId!))!;
      const mails = run.mails as Array<{ text?: string; status: string }>;
      // Past the record's budget the middle letters are left out, and counted by the marker step.
      assert.equal(mails.length + (recordCutOf(run.trace)?.mails.omitted ?? 0), 50, 'every letter is listed or counted');
      assert.match(mails.at(-1)!.text ?? '', /\[cut: \d+ characters in all\]$/);
      const after = storedBytes(file);
      const grown = after.total - before.total;
      const byTable = Object.fromEntries(Object.entries(after.byTable).map(([k, v]) => [k, v - (before.byTable[k] ?? 0)]));
      t.diagnostic(`body ${bodyBytes} bytes; store grew by ${grown} bytes: ${JSON.stringify(byTable)}`);
      // The bound docs/store.md states: each letter's own steps (reading the employee, sending) and entries take about
      // 2 KB; the letters' text and HTML share one budget per run instead of 16 KB each.
      // The bound docs/store.md states: twice the body, and at most one record budget (64 KiB) for each of the two
      // runs (the hook run and the job's), whatever the letters and Bpium calls of the run.
      const bound = 2 * bodyBytes + 2 * DEFAULT_RUN_RECORD_BYTES + 8 * 1024;
      assert.ok(grown <= bound, `store grew by ${grown} bytes for a ${bodyBytes}-byte webhook (bound ${bound}): ${JSON.stringify(byTable)}`);
      assert.ok((byTable.runs ?? 0) <= 2 * DEFAULT_RUN_RECORD_BYTES, `the run records take ${byTable.runs} bytes`);
    } finally {
      await server.cleanup();
    }
  });

  it('a return value of 300 KB is stored cut to 4 KB', { timeout: 60_000 }, async () => {
    const echo = `variables: { a: string }
start: s
blocks:
  s:
    kind: InputParameter
    params: { a: 1 }
    exits: { next: r }
  r:
    kind: ReturnValue
    values: { 1: '[a]' }
`;
    const server = await startTestServer({ smtp: false, env: { OKTELL_DELIVERY_THREAD: 'off' }, extraScenarios: { 'Echo.yaml': echo } });
    try {
      const file = join(server.dataDir, 'oktell.sqlite');
      const before = storedBytes(file);
      const res = await fetch(`${server.server.url}/execsvcscriptplain`, {
        method: 'POST',
        headers: { authorization: AUTH, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ name: 'Echo', startparam1: 'x'.repeat(300_000) }),
      });
      assert.equal(res.status, 200);
      assert.equal((await res.text()).length, 300_000, 'the caller gets the whole value');
      const runs = await waitFor('the run record', async () => {
        const page = await server.server.store.listRuns({ limit: 5 });
        return page.items.length ? page.items : undefined;
      });
      const run = (await server.server.store.getRun(runs[0]!.id))!;
      assert.match(String((run.returnValues as Record<string, unknown>)['1']), /^x{4096}… \[cut: 300000 characters in all\]$/);
      const grown = storedBytes(file).byTable.runs! - (before.byTable.runs ?? 0);
      assert.ok(grown <= 16 * 1024, `the run record takes ${grown} bytes`);
    } finally {
      await server.cleanup();
    }
  });
});
