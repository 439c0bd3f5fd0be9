// What a TLS failure of the SMTP client tells the operator to do fits its cause: certificate advice only when a
// certificate was refused, never for our own refusals (no STARTTLS offered), which need no certificate at all.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EffectError } from '../../engine/errors.js';
import { createSmtpMailer } from '../../adapters/mail/smtp.adapter.js';
import { startSmtpServer } from './smtp-server.helper.js';

const FAST_RETRY = { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 };
const LETTER = { to: ['ivan@example.com'], cc: [], bcc: [], subject: 's', text: 't' };

async function failureOf(url: string): Promise<EffectError> {
  const mailer = createSmtpMailer({ url, from: 'robot@example.com', retry: FAST_RETRY });
  try {
    await mailer.send(LETTER);
  } catch (e) {
    assert.ok(e instanceof EffectError, `expected an EffectError, got ${String(e)}`);
    return e;
  } finally {
    await mailer.close();
  }
  assert.fail('expected the send to fail');
}

describe('SMTP TLS failures: the advice fits the cause', { timeout: 60_000 }, () => {
  it('?requireTLS=true against a server offering no STARTTLS: the reason, and no word about a certificate', async () => {
    const server = await startSmtpServer();
    try {
      const e = await failureOf(`smtp://127.0.0.1:${server.port}?requireTLS=true`);
      assert.equal(e.kind, 'permanent');
      assert.equal(e.details.code, 'ETLS');
      assert.match(e.message, /does not offer STARTTLS and requireTLS is set \(SMTP server 127\.0\.0\.1:\d+\); a setting of SMTP_URL or of the server$/);
      assert.doesNotMatch(e.message, /certificate|rejectUnauthorized/);
    } finally {
      await server.close();
    }
  });

  it('a self-signed certificate refused after STARTTLS: check the certificate, or ?rejectUnauthorized=false', async () => {
    const server = await startSmtpServer({ starttls: true });
    try {
      const e = await failureOf(`smtp://127.0.0.1:${server.port}`);
      assert.equal(e.details.code, 'ETLS');
      assert.match(e.message, /; a setting: check the server's certificate \(.*\), or add \?rejectUnauthorized=false for a self-signed one$/);
    } finally {
      await server.close();
    }
  });

  it('smtps:// to a port that speaks plain SMTP: the scheme is named, not the certificate', async () => {
    const server = await startSmtpServer();
    try {
      const e = await failureOf(`smtps://127.0.0.1:${server.port}`);
      assert.equal(e.details.code, 'ETLS', e.message);
      assert.match(e.message, /use smtp:\/\/ there, which upgrades with STARTTLS$/);
      assert.doesNotMatch(e.message, /certificate|rejectUnauthorized/);
    } finally {
      await server.close();
    }
  });
});
