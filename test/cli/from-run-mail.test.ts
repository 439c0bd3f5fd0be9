// test --from-run and letters that failed: an SMTP refusal or outage becomes the case's mail fixture under the bare
// address (the fixture matches addresses, not display names); a failure without the SMTP server is only named.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { caseFromRun } from '../../cli/testing/from-run.js';
import { tempDir } from '../helpers.js';

describe('test --from-run: failed letters', () => {
  it('550, 451 and no-reply (an unknown outcome) by the bare address; an outbox failure named as unrecorded', async () => {
    const tmp = tempDir();
    const store = await openSqliteStore({ file: join(tmp.dir, 's.sqlite') });
    try {
      const at = Date.UTC(2026, 0, 1);
      const mail = (to: string, error: string, status = 'failed') => ({ block: 'send', to: [to], cc: [], bcc: [], subject: 's', performed: false, status, error });
      await store.recordRun({
        id: 'r1', scenario: 'Notify', version: 'v', trigger: 'cli', status: 'completed', startedAt: at, finishedAt: at + 1, durationMs: 1,
        mails: [
          mail('"Анна Иванова" <Ann@Example.com>', 'SMTP permanent failure, not retried: 550 no such mailbox'),
          mail('bob@example.com', 'SMTP transient failure, gave up after 3 attempts: 451 try later'),
          mail('eve@example.com', 'cannot write the outbox: ENOSPC'),
          // SendMail records a letter of unknown outcome with that status (send-mail.block.ts).
          mail('joe@example.com', 'SMTP outcome unknown, not retried: the SMTP server 127.0.0.1:2525 gave no reply to the end of the message', 'unknown'),
        ],
      });
      const recorded = await caseFromRun(store, 'r1', { timeZone: 'UTC' });
      assert.deepEqual(recorded.case.mail, { failures: { 'ann@example.com': '550', 'bob@example.com': '451', 'joe@example.com': 'no-reply' } });
      assert.equal(recorded.unrecorded.length, 1);
      assert.match(recorded.unrecorded[0]!, /the letter to eve@example\.com failed without the SMTP server \(cannot write the outbox: ENOSPC\)/);
    } finally {
      await store.close();
      tmp.cleanup();
    }
  });
});
