// The hourly prune of a SQLite store whose WAL checkpoint thread fails (docs/store.md, Retention): the prune goes on
// with the store's own connection checkpointing, and the server's log says so once, as a warning, in the JSON lines
// its pino logger writes; a later prune whose thread fails again is not logged again, and a thread that works is not
// logged at all. A real store file and the test's thread that breaks at its first request.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { createLogger, retentionPrune } from '../../server/serve.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { tempDir } from '../helpers.js';
import { DAY, fill } from '../store/prune-fill.helper.js';

/** A store file with `n` webhooks 40 days old, from row id `from` on. */
function addOld(file: string, from: number, n: number): void {
  const raw = new Database(file);
  try {
    fill(raw, from, n, Date.now() - 40 * DAY, 'succeeded');
  } finally {
    raw.close();
  }
}

async function pruneTwice(worker: URL | undefined): Promise<Array<Record<string, unknown>>> {
  const t = tempDir('oktell-retention-ckpt-');
  const file = join(t.dir, 'oktell.sqlite');
  await (await openSqliteStore({ file })).close();
  const store = await openSqliteStore({ file, walCheckpointPages: 50, pruneMaxWindow: 50, ...(worker ? { checkpointWorker: worker } : {}) });
  const out = new PassThrough();
  let text = '';
  out.on('data', (b: Buffer) => (text += b.toString('utf8')));
  try {
    const logger = createLogger({ OKTELL_LOG_FORMAT: 'json' }, 'UTC', out);
    const prune = retentionPrune(store, { retentionMs: 7 * DAY, deadLetterRetentionMs: undefined, dataDir: t.dir }, logger);
    for (const from of [1, 1001]) {
      addOld(file, from, 400);
      await prune();
      assert.equal(store.settings().walAutocheckpoint, 50, 'the automatic checkpoint is back after the prune');
    }
    logger.flush?.();
    await new Promise((r) => setImmediate(r));
  } finally {
    await store.close();
    t.cleanup();
  }
  return text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('the retention logs a failed WAL checkpoint thread', () => {
  it('warns once, naming why, while both prunes remove their entries', { timeout: 60_000 }, async () => {
    const lines = await pruneTwice(new URL('../store/checkpoint-fails.worker.js', import.meta.url));
    const pruned = lines.filter((l) => l.msg === 'retention: old entries removed');
    assert.deepEqual(pruned.map((l) => (l.pruned as { inbox: number }).inbox), [400, 400], 'both prunes went on');
    assert.ok(pruned.every((l) => !('checkpointFailure' in (l.pruned as object))), 'the info line counts rows only');
    const warnings = lines.filter((l) => l.level === 40 && String(l.msg).includes('checkpoint thread'));
    assert.equal(warnings.length, 1, `one warning for two failed threads: ${JSON.stringify(lines)}`);
    assert.equal(warnings[0]!.checkpointFailure, 'the checkpoint thread failed: the checkpoint thread broke on purpose');
    assert.match(String(warnings[0]!.msg), /^retention: the prune's WAL checkpoint thread stopped \(the checkpoint thread failed: the checkpoint thread broke on purpose\); the store's own connection checkpointed instead, so nothing is lost/);
    assert.match(String(warnings[0]!.msg), /prune-checkpoints\.worker\.js/);
  });

  it('says nothing of a thread that worked', { timeout: 60_000 }, async () => {
    const lines = await pruneTwice(undefined);
    assert.equal(lines.filter((l) => l.msg === 'retention: old entries removed').length, 2);
    assert.deepEqual(lines.filter((l) => l.level === 40), []);
  });
});
