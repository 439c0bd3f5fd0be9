// An outbox the hourly prune cannot go through (run as root, a symbolic link in its place) is said on its own line:
// what the store prune removed is still logged (before, the outbox's refusal threw past it, and the log said only
// 'retention: prune failed', so entries and dead letters the store had just removed were never reported).
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { capturingLogger, postWebhook, startTestServer, taskWebhook, waitFor } from './server-helpers.js';

const asRoot = process.getuid?.() === 0;

describe('retention with an outbox it cannot prune', () => {
  it('logs what the store prune removed, and the outbox refusal on its own line', { timeout: 60_000, skip: asRoot ? false : 'needs root (the outbox link is refused only as root)' }, async () => {
    const elsewhere = tempDir('oktell-outbox-elsewhere-');
    // 0.00002 days is 1.7 s.
    const t = await startTestServer({ smtp: false, env: { OKTELL_RETENTION_DAYS: '0.00002' } });
    let server = t.server;
    try {
      // A request refused for its signature: an inbox entry with no job, which the prune takes.
      assert.equal((await postWebhook(server.url, taskWebhook({ name: 'x', responsible: ['2'] }), 'wrong-secret')).status, 401);
      await server.close(2000);
      await new Promise((r) => setTimeout(r, 2000)); // past the retention
      mkdirSync(join(elsewhere.dir, 'letters'));
      symlinkSync(join(elsewhere.dir, 'letters'), join(t.dataDir, 'outbox'));

      const again = capturingLogger();
      server = await t.restart(undefined, again.logger);
      const refused = await waitFor('the outbox refusal', () => again.lines.find((l) => l.level === 'warn' && l.msg?.startsWith('retention: the outbox was not pruned')));
      assert.match(refused.msg!, /is a symbolic link .*does not follow it/);
      const pruned = again.lines.find((l) => l.msg === 'retention: old entries removed');
      assert.ok(pruned, `the store prune is logged; lines: ${JSON.stringify(again.lines.filter((l) => l.msg?.startsWith('retention')).map((l) => l.msg))}`);
      assert.deepEqual(pruned.obj.pruned, { inbox: 1, runs: 0, jobs: 0, effects: 0, outboxLetters: 0 });
      assert.ok(!again.lines.some((l) => l.msg === 'retention: prune failed'), 'not a failed prune');
    } finally {
      await server.close(2000);
      await t.cleanup();
      elsewhere.cleanup();
    }
  });
});
