// Which 5xx replies refuse this letter and which refuse every letter (a setting), by the command they answer
// (RFC 5321): the SMTP mailer against a scripted server on loopback. Only a refusal of this letter (RCPT TO, DATA)
// is a plain permanent failure a SendMail block may take to its error exit; the others carry `details.setting`, so
// the run fails and its job waits as a dead letter for the fix (trial s33, finding 3).
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { createSmtpMailer } from '../../adapters/mail/smtp.adapter.js';
import { EffectError } from '../../engine/errors.js';
import { smtpError, startSmtpServer } from './smtp-server.helper.js';

/** Replies by command (upper-cased verb, `MAIL`/`RCPT` for the envelope); `GREETING` is the first line. Default 250. */
type Script = Record<string, string>;

async function scriptedServer(script: Script): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.write(`${script.GREETING ?? '220 scripted ESMTP'}\r\n`);
    let buffered = '';
    let inData = false;
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      for (let i = buffered.indexOf('\r\n'); i >= 0; i = buffered.indexOf('\r\n')) {
        const line = buffered.slice(0, i);
        buffered = buffered.slice(i + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            socket.write(`${script.END ?? '250 queued'}\r\n`);
          }
          continue;
        }
        const verb = line.split(/[ :]/)[0]!.toUpperCase();
        if (verb === 'QUIT') return void socket.end('221 bye\r\n');
        if (verb === 'EHLO' && !script.EHLO) return void socket.write('250-scripted\r\n250 8BITMIME\r\n');
        const reply = script[verb] ?? (verb === 'DATA' ? '354 go on' : '250 ok');
        if (verb === 'DATA' && reply.startsWith('354')) inData = true;
        socket.write(`${reply}\r\n`);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

async function failureOf(script: Script, query = '?ignoreTLS=true', login = ''): Promise<EffectError> {
  const server = await scriptedServer(script);
  const mailer = createSmtpMailer({ url: `smtp://${login}127.0.0.1:${server.port}${query}`, from: 'robot@example.com', retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 20 } });
  try {
    await mailer.send({ to: ['ivan@example.com'], cc: [], bcc: [], subject: 's', text: 't' });
  } catch (e) {
    assert.ok(e instanceof EffectError, String(e));
    return e;
  } finally {
    await mailer.close();
    await server.close();
  }
  assert.fail('expected the send to fail');
}

describe('SMTP 5xx replies: a refused letter or a wrong setting', { timeout: 60_000 }, () => {
  it('a 554 greeting (no service for this client) is a setting failure, not retried', async () => {
    const e = await failureOf({ GREETING: '554 5.7.1 no SMTP service for you here' });
    assert.equal(e.kind, 'permanent');
    assert.equal(e.details.setting, true);
    assert.equal(e.details.attempts, 1);
    assert.match(e.message, /^SMTP setting failure, not retried: the SMTP server 127\.0\.0\.1:\d+ refuses service to this client: "554 5\.7\.1 no SMTP service for you here" at the greeting; a setting: check that SMTP_URL names your mail server/);
  });

  it('EHLO and HELO refused (the name this host gives) is a setting failure naming ?name=', async () => {
    const e = await failureOf({ EHLO: '550 5.7.1 bad client name', HELO: '550 5.7.1 bad client name' });
    assert.equal(e.details.setting, true);
    assert.match(e.message, /refused this client's name: "550 5\.7\.1 bad client name" to EHLO and HELO; a setting: give a name it accepts with \?name= in SMTP_URL/);
  });

  it('STARTTLS offered but refused with 5xx is a setting failure; a 454 to it stays transient', async () => {
    const starttls = (reply: string) => ({ EHLO: '250-scripted\r\n250 STARTTLS', STARTTLS: reply });
    const refused = await failureOf(starttls('502 5.5.1 not now, not ever'), '');
    assert.equal(refused.details.setting, true);
    assert.match(refused.message, /offers STARTTLS but refused it: "502 5\.5\.1 not now, not ever"; a setting/);
    const later = await failureOf(starttls('454 4.7.0 TLS not available due to temporary reason'), '');
    assert.equal(later.kind, 'transient');
    assert.equal(later.details.setting, undefined);
  });

  it('?requireTLS with a server that offers no STARTTLS is a setting failure', async () => {
    const e = await failureOf({}, '?requireTLS=true');
    assert.equal(e.details.setting, true);
    assert.match(e.message, /does not offer STARTTLS and requireTLS is set \(SMTP server 127\.0\.0\.1:\d+\); a setting of SMTP_URL or of the server$/);
  });

  it('a 5xx to RCPT TO, to DATA or to the end of the message refuses this letter: permanent, no setting', async () => {
    const scripts: Script[] = [{ RCPT: '550 5.1.1 no such user' }, { DATA: '554 5.5.1 no valid recipients' }, { END: '552 5.3.4 message too big' }];
    for (const script of scripts) {
      const e = await failureOf(script);
      assert.equal(e.kind, 'permanent', JSON.stringify(script));
      assert.equal(e.details.setting, undefined, JSON.stringify(script));
      assert.match(e.message, /^SMTP permanent failure, not retried: the SMTP server answered "55\d /);
    }
  });

  it('a 5xx to RCPT TO that refuses to relay is a setting failure naming SMTP_URL\'s login, in the words of Postfix, Sendmail, Exim, Exchange and qmail', async () => {
    const relay = [
      '554 5.7.1 <ivan@example.com>: Relay access denied',
      '550 5.7.1 <ivan@example.com>... Relaying denied. Proper authentication required.',
      '550 relay not permitted',
      '550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain',
      "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)",
      '550-5.7.1 This server does not relay\r\n550 5.7.1 for unauthenticated clients',
    ];
    for (const reply of relay) {
      const e = await failureOf({ RCPT: reply });
      assert.equal(e.kind, 'permanent', reply);
      assert.equal(e.details.setting, true, reply);
      assert.equal(e.details.attempts, 1, reply);
      const quoted = reply.replaceAll('\r\n', '\n');
      assert.ok(
        e.message.startsWith(`SMTP setting failure, not retried: the SMTP server 127.0.0.1:`) &&
          e.message.endsWith(` refuses to relay for this client: "${quoted}" to RCPT TO; a setting: SMTP_URL has no login: add the user and password of an account the server relays for (smtp://user:password@host:port), or name the server that relays this host's mail`),
        e.message,
      );
    }
  });

  it('a relay refusal after a login speaks of the login in SMTP_URL, naming neither the user nor the password', async () => {
    const e = await failureOf({ EHLO: '250-scripted\r\n250 AUTH PLAIN LOGIN', AUTH: '235 2.7.0 accepted', RCPT: '554 5.7.1 <ivan@example.com>: Relay access denied' }, '?ignoreTLS=true', 'robot.sender:relay-secret@');
    assert.equal(e.details.setting, true);
    assert.match(e.message, /refuses to relay for this client: "554 5\.7\.1 <ivan@example\.com>: Relay access denied" to RCPT TO; a setting: check that the login in SMTP_URL is one this server relays for, and that SMTP_URL names the server that relays this host's mail$/);
    assert.ok(!e.message.includes('robot.sender'), e.message);
    assert.ok(!e.message.includes('relay-secret'), e.message);
  });

  it('a 5.7.1 about something else, a 5.1.1 that names a relay table, and a 4xx relay refusal are not a setting', async () => {
    const letter = [
      '550 5.7.1 <ivan@example.com>: Recipient address rejected: Access denied',
      '550 5.1.1 <ivan@example.com>: Recipient address rejected: User unknown in relay recipient table',
      '554 5.7.1 <ivan@example.com>: Recipient address rejected: relay is for our customers in Tomsk only', // no denial
    ];
    for (const reply of letter) {
      const e = await failureOf({ RCPT: reply });
      assert.equal(e.kind, 'permanent', reply);
      assert.equal(e.details.setting, undefined, reply);
      assert.equal(e.message, `SMTP permanent failure, not retried: the SMTP server answered "${reply}" to RCPT TO`);
    }
    // Postfix with soft_bounce: the server asks to be asked again, and the adapter does, as for any 4xx.
    const later = await failureOf({ RCPT: '454 4.7.1 <ivan@example.com>: Relay access denied' });
    assert.equal(later.kind, 'transient');
    assert.equal(later.details.setting, undefined);
    assert.equal(later.details.attempts, 3);
  });

  it('every recipient refused, one of them for relaying: the relay refusal is told, as a setting', async () => {
    const server = await startSmtpServer({
      rcpt: (address) => (address === 'nobody@example.com' ? smtpError(550, '5.1.1 No such user here') : smtpError(554, `5.7.1 <${address}>: Relay access denied`)),
    });
    const mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${server.port}`, from: 'robot@example.com', retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 20 } });
    try {
      const e = await mailer.send({ to: ['nobody@example.com', 'maria@example.org'], cc: [], bcc: [], subject: 's', text: 't' }).then(
        () => assert.fail('expected the send to fail'),
        (err: unknown) => err as EffectError,
      );
      assert.equal(e.details.setting, true);
      assert.match(e.message, /refuses to relay for this client: "554 5\.7\.1 <maria@example\.org>: Relay access denied" to RCPT TO; a setting/);
      assert.equal(server.letters.length, 0);
    } finally {
      await mailer.close();
      await server.close();
    }
  });
});
