// A server that stops answering the ends of letters must not hold every other letter of the process behind its
// connections for the 10 minutes each end may be waited for (trial 68: a 20 s SMTP hang wedged an instance's mail,
// and the jobs it had claimed, for minutes after the server answered again). A letter waiting for a free connection
// gives up after the idle timeout, as a network failure that is retried: nothing of it was sent.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EffectError } from '../../engine/errors.js';
import { createSmtpMailer } from '../../adapters/mail/smtp.adapter.js';
import { startSmtpServer } from './smtp-server.helper.js';

/** A mailer of one pooled connection to the test's server, no retry: the waits under test are the pool's own. */
function oneConnectionMailer(port: number, socketTimeoutMs: number, dataTimeoutMs: number) {
  return createSmtpMailer({
    url: `smtp://127.0.0.1:${port}`,
    from: 'robot@example.com',
    maxConnections: 1,
    socketTimeoutMs,
    dataTimeoutMs,
    retry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 10 },
  });
}

describe('SMTP pool: the wait for a free connection is bounded', () => {
  it('a letter queued behind a connection whose end is never answered fails as transient, not sent', { timeout: 20_000 }, async () => {
    // The first letter is recorded and never answered; the second would be answered at once on a connection of its own.
    const server = await startSmtpServer({ afterData: (n) => (n === 1 ? 'silent' : 'answer') });
    const mailer = oneConnectionMailer(server.port, 300, 2_000);
    const first = mailer.send({ to: ['ivan@example.com'], cc: [], bcc: [], subject: 'first', text: 'one' }).then(
      () => 'sent',
      (e: unknown) => e,
    );
    try {
      while (server.letters.length < 1) await new Promise((r) => setTimeout(r, 20));
      const second = await mailer.send({ to: ['petr@example.com'], cc: [], bcc: [], subject: 'second', text: 'two' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(second instanceof EffectError, `the second letter should fail, got ${String(second)}`);
      assert.equal(second.kind, 'transient');
      assert.match(second.message, /no SMTP connection came free within 300 ms: all 1 are busy/);
      assert.match(second.message, /nothing of this letter was sent/);
      assert.equal(server.letters.length, 1, 'the second letter never reached the server');
      assert.equal(server.counts.data, 1);
    } finally {
      // The first letter ends when its own wait runs out (unknown outcome); then nothing holds the server open.
      await first;
      await mailer.close();
      await server.close();
    }
  });

  it('a long queue behind one slow but working connection is served in turn, none failed', { timeout: 30_000 }, async () => {
    // poolSize 1, each end answered after 150 ms, bound 1 s: the twelfth letter waits about 1.7 s in all, well past the
    // bound, but a letter ends every 150 ms. Counted from the start of the wait, the last letters failed needlessly.
    const server = await startSmtpServer({ dataReplyDelayMs: () => 150 });
    const mailer = oneConnectionMailer(server.port, 1_000, 5_000);
    try {
      const outcomes = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          mailer.send({ to: [`user${i}@example.com`], cc: [], bcc: [], subject: `letter ${i}`, text: String(i) }).then(
            () => 'sent',
            (e: unknown) => String(e),
          ),
        ),
      );
      assert.deepEqual(outcomes, Array(12).fill('sent'));
      assert.equal(server.letters.length, 12);
    } finally {
      await mailer.close();
      await server.close();
    }
  });
});
