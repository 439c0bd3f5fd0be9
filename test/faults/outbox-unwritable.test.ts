// An outbox the server cannot write (trial 46): before, any error but a full disk counted as a refusal of the letter,
// so the shipped BpiumNewTask took SendMail's error exit, the run completed ("notified 0 of 1") and the letter of an
// acknowledged webhook was gone, with no retry, no dead letter and no warning in the log. Now a folder the server may
// not write is a setting (the job is a dead letter at once, replayed once the folder is fixed) and a failure that may
// pass (a full disk, a disk error) is retried. Real server with its outbox, embedded Bpium emulator, the real CLI.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoPath } from '../helpers.js';
import { postWebhook, startTestServer, taskWebhook, waitFor } from '../server/server-helpers.js';

describe('an outbox the server cannot write', { timeout: 90_000 }, () => {
  it('a file where the outbox folder should be: a dead letter naming the folder, no completed run; replay writes the letter once the folder is fixed', async () => {
    const t = await startTestServer({ smtp: false, config: 'workers: { baseDelayMs: 50, maxDelayMs: 100, maxAttempts: 3 }\n' });
    const outbox = join(t.dataDir, 'outbox');
    try {
      // Stands for a folder the server may not write (chmod, chattr +i, a read-only mount), which a test cannot make
      // without root: the write fails the same way, with an error that waiting will not fix.
      rmSync(outbox, { recursive: true, force: true });
      writeFileSync(outbox, 'not a folder');
      const res = await postWebhook(t.server.url, taskWebhook({ name: 'Папка', responsible: ['2'] }), t.secret);
      assert.equal(res.status, 200);
      const dead = await waitFor('a dead letter', async () => (await t.server.store.listJobs({ status: 'dead' })).items[0], 20_000);
      assert.equal(dead.attempts, 1, 'dead at once: waiting will not fix the folder');
      const error = dead.lastError as { code?: string; message?: string };
      assert.equal(error.code, 'R_EFFECT_SETTING');
      assert.match(error.message ?? '', new RegExp(`^SendMail "notify": cannot write the letter into the outbox ${outbox.replace(/[.\\/]/g, '\\$&')}: .*; a setting: a file stands where the outbox folder \\(or a folder above it\\) should be: move it away, or give the server another data folder;`));
      assert.equal((await t.server.store.listRuns({ status: 'completed', scenario: 'BpiumNewTask' })).items.length, 0, 'the run did not complete without its letter');

      rmSync(outbox);
      const r = spawnSync(process.execPath, [repoPath('bin', 'oktell-emu.js'), 'replay', '--status', 'dead', '--data-dir', t.dataDir], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      await waitFor('the letter in the outbox', () => { try { return readdirSync(outbox).filter((f) => f.endsWith('.eml')).length === 1; } catch { return false; } }, 20_000);
      await waitFor('the job succeeded', async () => (await t.server.store.getJob(dead.id))?.status === 'succeeded');
    } finally {
      await t.cleanup();
    }
  });
});
