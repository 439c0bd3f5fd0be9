// What one webhook costs in the store: its body once in the inbox and once in its job, plus a few KB of records — not
// a copy in every trace step, parameter, variable and letter (a 5 MB body once cost 52 MB).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { cutText, STORED_TEXT_CHARS } from '../../server/run-record.js';
import { postWebhook, startTestServer, taskWebhook, waitFor } from './server-helpers.js';

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
});
