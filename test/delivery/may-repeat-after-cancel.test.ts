// A job whose attempt was cut off (given back by a stop with its letter perhaps out), then cancelled while queued
// among other jobs (`cancel --status queued`) and replayed: the replay's letter may be the cut attempt's twin and is
// marked `may repeat`; a job cancelled in the same sweep that was never cut off replays unmarked. On both stores: the
// cancel keeps `afterCut` on the cut job's error only. Real parts: the store, the worker pool, SendMail, the SMTP
// mailer and smtp-server on loopback.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createSmtpMailer } from '../../adapters/mail/smtp.adapter.js';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioLibrary, type RunResult } from '../../engine/index.js';
import { CUT_BY_STOP } from '../../server/run-record.js';
import { cancelledError } from '../../server/run-status.js';
import { tempDir } from '../helpers.js';
import { startSmtpServer } from '../mail/smtp-server.helper.js';
import { storeKinds } from '../store/store-kinds.helper.js';
import { ONE_LETTER, until } from './lease-fence.helper.js';
import { mailPool } from './pool.helper.js';

const STORES = await storeKinds('rev5cancel');

for (const kind of STORES) {
  describe(`may repeat, after a cut-off attempt, a cancel and a replay (${kind.name})`, { timeout: 60_000, ...(kind.skip ? { skip: kind.skip } : {}) }, () => {
    it('the replay of the cut job marks its letter; the job cancelled with it that was never cut does not', async () => {
      const t = tempDir();
      const server = await startSmtpServer({});
      writeFileSync(join(t.dir, 'OneLetter.yaml'), ONE_LETTER);
      const lib = await loadScenarioLibrary(t.dir, { registry: defaultRegistry });
      assert.deepEqual(lib.issues, []);
      const { store, drop } = await kind.open(t.dir);
      const mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${server.port}`, from: 'robot@example.com', retry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 10 } });
      const attempts: Array<{ jobId: string; result: RunResult }> = [];
      const pool = mailPool(store, lib, mailer, { onAttempt: (job, result) => void attempts.push({ jobId: job.id, result }) });
      try {
        const [cut, fresh] = await store.enqueueJobs([{ scenario: 'OneLetter', params: {} }, { scenario: 'OneLetter', params: {} }]);
        // The cut job's first attempt was given back by a stop while its letter was under way.
        assert.deepEqual((await store.claimJobs('stopped', 1, 60_000)).map((j) => j.id), [cut]);
        assert.deepEqual(await store.releaseJobs([cut!], 'stopped', CUT_BY_STOP), [cut]);
        const error = cancelledError('oktell-emu cancel, ops@host');
        assert.deepEqual((await store.cancelJobs({ status: 'queued' }, error)).sort(), [cut, fresh].sort());
        assert.deepEqual((await store.getJob(cut!))?.lastError, { ...error, afterCut: true });
        assert.deepEqual((await store.getJob(fresh!))?.lastError, error);
        assert.deepEqual((await store.requeue({ status: 'dead' })).sort(), [cut, fresh].sort());

        pool.start();
        await until('both replays ran', () => attempts.length === 2);
        const mayRepeat = (id: string) => attempts.find((a) => a.jobId === id)!.result.mails.map((m) => [m.status, m.mayRepeat === true]);
        assert.deepEqual(mayRepeat(cut!), [['sent', true]], 'the cut attempt may have sent it too');
        assert.deepEqual(mayRepeat(fresh!), [['sent', false]], 'never cut off: nothing to repeat');
        assert.equal(server.letters.length, 2);
      } finally {
        await pool.stop(1000);
        await mailer.close();
        await server.close();
        await store.close();
        await drop();
        t.cleanup();
      }
    });
  });
}
