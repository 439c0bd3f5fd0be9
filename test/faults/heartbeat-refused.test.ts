// The heartbeat renews the leases of the jobs a server holds every leaseMs/3 (1 s here). A store that refuses writes
// refuses every beat while the outage lasts: the log says so in one line for the spell, without the store's stack,
// not one warning with a stack per beat. The refusal is real: another connection holds the SQLite file's write lock
// (BEGIN EXCLUSIVE), taken the moment the SMTP server has a job's letter, so that the job's end waits in memory under
// its lease, which the heartbeat keeps renewing.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { capturingLogger, postWebhook, startTestServer, taskWebhook, waitFor } from '../server/server-helpers.js';

describe('heartbeats the store refuses', () => {
  it('one line per spell, without a stack, however many beats fail; a later spell gets its own line', { timeout: 90_000 }, async () => {
    const log = capturingLogger();
    let blocker: Database.Database | undefined;
    const t = await startTestServer({
      logger: log.logger,
      env: { OKTELL_LEASE_MS: '3000' },
      smtp: {
        afterData: () => {
          blocker!.exec('BEGIN EXCLUSIVE');
          return 'answer';
        },
      },
    });
    blocker = new Database(join(t.dataDir, 'oktell.sqlite'));
    const beatLines = () => log.lines.filter((l) => /heartbeat failed/.test(l.msg ?? ''));
    try {
      for (const [spell, seq] of [[1, 81_001], [2, 81_002]] as const) {
        const res = await postWebhook(t.server.url, taskWebhook({ name: `пульс ${spell}`, responsible: ['2'], sequenceId: seq }), t.secret);
        assert.equal(res.status, 200);
        await waitFor(`heartbeat line ${spell}`, () => beatLines().length === spell || undefined, 30_000);
        // Several more beats (one a second, each waiting out the store's 1 s busy timeout) fail while the lock is held.
        await new Promise((r) => setTimeout(r, 5000));
        blocker.exec('ROLLBACK');
        await waitFor(`the end of job ${spell} to be recorded`, async () => (await t.server.store.listJobs({ status: 'succeeded', limit: 10 })).items.length === spell || undefined, 30_000);
        assert.equal(beatLines().length, spell, `one line for spell ${spell}: ${JSON.stringify(beatLines())}`);
      }
      for (const line of beatLines()) {
        assert.equal(line.level, 'warn');
        assert.equal(line.obj.err, undefined, 'no error object (its stack) in the line');
        assert.doesNotMatch(JSON.stringify(line), /\n\s+at /, 'no stack');
        assert.equal(line.msg, 'heartbeat failed: the leases of the jobs this instance holds cannot be renewed; will try again (they stay its own until they expire)');
        assert.equal(line.obj.reason, 'busy');
        assert.match(String(line.obj.error), /SQLITE_BUSY|locked/);
      }
    } finally {
      try {
        blocker.exec('ROLLBACK');
      } catch {
        // not in a transaction
      }
      blocker.close();
      await t.cleanup();
    }
  });
});
