// The SMTP mailer against a real smtp-server on loopback: delivery, header safety, retries and failure kinds.
import assert from 'node:assert/strict';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { simpleParser, type AddressObject } from 'mailparser';
import { EffectError } from '../../engine/errors.js';
import type { LoggerPort } from '../../engine/ports.js';
import { createSmtpMailer } from '../../adapters/mail/smtp.adapter.js';
import { freePort, smtpError, startScriptedSmtpServer, startSilentServer, startSmtpServer, type TestSmtpServer } from './smtp-server.helper.js';

const FAST_RETRY = { attempts: 3, baseDelayMs: 10, maxDelayMs: 40 };

function recordingLogger(): LoggerPort & { lines: string[] } {
  const lines: string[] = [];
  const put = (level: string) => (obj: object, msg?: string) => void lines.push(`${level} ${msg ?? ''} ${JSON.stringify(obj)}`);
  return { lines, debug: put('debug'), info: put('info'), warn: put('warn'), error: put('error') };
}

function addressesOf(field: AddressObject | AddressObject[] | undefined): string[] {
  const list = Array.isArray(field) ? field : field ? [field] : [];
  return list.flatMap((a) => a.value.map((v) => v.address ?? ''));
}

async function expectEffectError(p: Promise<unknown>): Promise<EffectError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof EffectError, `expected an EffectError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected the send to fail');
}

describe('SMTP mailer', { timeout: 120_000 }, () => {
  let server: TestSmtpServer;
  before(async () => {
    server = await startSmtpServer();
  });
  after(async () => {
    await server.close();
  });

  it('delivers a letter whose headers, text, HTML and Cyrillic arrive intact', async () => {
    const mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${server.port}`, from: 'Оktell робот <robot@example.com>', retry: FAST_RETRY });
    try {
      const receipt = await mailer.send({
        to: ['Иван Петров <ivan@example.com>'],
        cc: ['petr@example.org'],
        bcc: [],
        subject: 'Новая задача: Позвонить клиенту',
        text: 'Здравствуйте!\nОписание задачи.',
        html: '<p>Здравствуйте, &lt;b&gt;Иван&lt;/b&gt;!</p>',
        reference: 'run-1/notify',
      });
      assert.equal(receipt.transport, 'smtp');
      const letter = server.letters.at(-1)!;
      assert.deepEqual(letter.rcptTo.sort(), ['ivan@example.com', 'petr@example.org']);
      assert.equal(letter.mailFrom, 'robot@example.com');
      const parsed = await simpleParser(letter.raw);
      assert.equal(parsed.subject, 'Новая задача: Позвонить клиенту');
      assert.equal(parsed.from?.value[0]?.address, 'robot@example.com');
      assert.equal(parsed.from?.value[0]?.name, 'Оktell робот');
      assert.deepEqual(addressesOf(parsed.to), ['ivan@example.com']);
      assert.equal((Array.isArray(parsed.to) ? parsed.to[0] : parsed.to)?.value[0]?.name, 'Иван Петров');
      assert.deepEqual(addressesOf(parsed.cc), ['petr@example.org']);
      assert.equal(parsed.text?.trim(), 'Здравствуйте!\nОписание задачи.');
      assert.equal(parsed.html, '<p>Здравствуйте, &lt;b&gt;Иван&lt;/b&gt;!</p>');
      assert.equal(parsed.messageId, receipt.messageId);
      assert.equal(parsed.headers.get('x-oktell-reference'), 'run-1/notify');
    } finally {
      await mailer.close();
    }
  });

  it('keeps a CR/LF + "Bcc:" smuggled into the subject inside the subject: no new header, no extra recipient', async () => {
    const mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${server.port}`, from: 'robot@example.com', retry: FAST_RETRY });
    try {
      await mailer.send({
        to: ['ivan@example.com'],
        cc: [],
        bcc: [],
        subject: 'Задача\r\nBcc: x@evil.example\r\nX-Injected: yes',
        text: 'тело',
      });
      const letter = server.letters.at(-1)!;
      assert.deepEqual(letter.rcptTo, ['ivan@example.com']);
      const parsed = await simpleParser(letter.raw);
      assert.equal(parsed.subject, 'Задача Bcc: x@evil.example X-Injected: yes');
      assert.equal(parsed.headers.has('bcc'), false);
      assert.equal(parsed.headers.has('x-injected'), false);
      assert.ok(!letter.raw.toString('latin1').includes('\r\nBcc:'));
    } finally {
      await mailer.close();
    }
  });

  it('sends Bcc recipients in the envelope only, never in the headers', async () => {
    const mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${server.port}`, from: 'robot@example.com', retry: FAST_RETRY });
    try {
      await mailer.send({ to: ['ivan@example.com'], cc: [], bcc: ['boss@example.com'], subject: 's', text: 't' });
      const letter = server.letters.at(-1)!;
      assert.deepEqual(letter.rcptTo.sort(), ['boss@example.com', 'ivan@example.com']);
      assert.ok(!letter.raw.toString('latin1').includes('boss@example.com'));
    } finally {
      await mailer.close();
    }
  });

  it('refuses an address carrying a line break before connecting, as a permanent failure', async () => {
    const mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${server.port}`, from: 'robot@example.com', retry: FAST_RETRY });
    const before = server.counts.rcpt;
    try {
      const e = await expectEffectError(mailer.send({ to: ['ivan@example.com\r\nRCPT TO:<x@evil.example>'], cc: [], bcc: [], subject: 's', text: 't' }));
      assert.equal(e.kind, 'permanent');
      assert.equal(e.details.code, 'MAIL_INVALID_ADDRESS');
      assert.equal(server.counts.rcpt, before);
    } finally {
      await mailer.close();
    }
  });
});

describe('SMTP mailer failures', { timeout: 120_000 }, () => {
  it('retries a 451 reply twice and delivers on the third attempt, reporting the attempts', async () => {
    const server = await startSmtpServer({ rcpt: (_a, n) => (n <= 2 ? smtpError(451, 'Temporary local problem, try later') : undefined) });
    const logger = recordingLogger();
    const mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${server.port}`, from: 'robot@example.com', retry: FAST_RETRY, logger });
    try {
      const receipt = await mailer.send({ to: ['ivan@example.com'], cc: [], bcc: [], subject: 'повтор', text: 't' });
      assert.equal(receipt.attempts, 3);
      assert.equal(server.counts.rcpt, 3);
      assert.equal(server.letters.length, 1);
      // Each retry at debug: the letter's own line says how many attempts it took, and an outage would otherwise
      // write a warning for every try of every letter (soak trial 47).
      assert.equal(logger.lines.filter((l) => l.startsWith('debug SMTP attempt failed')).length, 2);
      assert.equal(logger.lines.filter((l) => l.startsWith('warn')).length, 0);
    } finally {
      await mailer.close();
      await server.close();
    }
  });

  // An ERROR line is one a person must act on: an outage the job retries is logged as a WARN (its dead letter is the
  // ERROR), a refusal as an ERROR (user trial of 2026-12-05: 200 ERROR lines for 50 webhooks during an SMTP outage).
  for (const c of [
    { name: 'an outage the job retries (451 to every RCPT TO)', rcpt: smtpError(451, 'Try again later'), level: 'warn' },
    { name: 'a refused recipient (550)', rcpt: smtpError(550, 'No such user'), level: 'error' },
  ]) {
    it(`logs "letter not sent" at ${c.level} for ${c.name}`, async () => {
      const server = await startSmtpServer({ rcpt: () => c.rcpt });
      const logger = recordingLogger();
      const mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${server.port}`, from: 'robot@example.com', retry: FAST_RETRY, logger });
      try {
        await assert.rejects(mailer.send({ to: ['ivan@example.com'], cc: [], bcc: [], subject: 's', text: 't' }));
        const ends = logger.lines.filter((l) => /^\w+ letter not sent: /.test(l));
        assert.equal(ends.length, 1, logger.lines.join('\n'));
        assert.ok(ends[0]!.startsWith(`${c.level} letter not sent: `), ends[0]);
      } finally {
        await mailer.close();
        await server.close();
      }
    });
  }

  it('waits for a slow reply to the end of the message (a content filter) instead of sending the letter again', async () => {
    // The server has the letter once the message is sent; a client that times out on the 250 and retries delivers it
    // twice. The idle timeout (socketTimeoutMs) is short here; the wait for that reply is not cut by it.
    const server = await startSmtpServer({ dataReplyDelayMs: (n) => (n === 1 ? 800 : 0) });
    const logger = recordingLogger();
    const mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${server.port}`, from: 'robot@example.com', retry: FAST_RETRY, socketTimeoutMs: 200, logger });
    try {
      const receipt = await mailer.send({ to: ['ivan@example.com'], cc: [], bcc: [], subject: 'медленный фильтр', text: 't' });
      assert.equal(receipt.attempts, 1);
      assert.equal(server.letters.length, 1, 'the letter reached the server once');
      assert.equal(logger.lines.filter((l) => l.startsWith('warn SMTP attempt failed')).length, 0);
    } finally {
      await mailer.close();
      await server.close();
    }
  });

  for (const after of ['silent', 'hang-up'] as const) {
    it(`a server ${after === 'silent' ? 'silent after' : 'hanging up at'} the end of the message: the outcome is unknown, and the letter is not sent again`, async () => {
      // The server holds the letter and may deliver it: another try would be a second copy (review D5).
      const server = await startSmtpServer({ afterData: () => after });
      const logger = recordingLogger();
      const mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${server.port}`, from: 'robot@example.com', retry: FAST_RETRY, socketTimeoutMs: 100, dataTimeoutMs: 300, logger });
      try {
        const err = await expectEffectError(mailer.send({ to: ['ivan@example.com'], cc: [], bcc: [], subject: 'молчит', text: 't' }));
        assert.equal(server.counts.data, 1, 'one DATA transfer reached the server');
        assert.equal(server.letters.length, 1);
        assert.equal(err.kind, 'unknown');
        assert.equal(err.retryable, false);
        assert.equal(err.details.code, 'EOUTCOME');
        assert.equal(err.details.attempts, 1);
        assert.match(err.message, after === 'silent' ? /ETIMEDOUT/ : /ECONNECTION/);
        assert.match(err.message, /may have been delivered; it is not sent again: check the mailbox before replaying/);
        assert.match(err.message, /\(Message-ID <[^<>\s]+@example\.com>\)$/, 'the letter to look for is named');
        assert.equal(logger.lines.filter((l) => l.startsWith('warn SMTP attempt failed')).length, 0);
      } finally {
        await mailer.close();
        await server.close();
      }
    });
  }

  it('SMTP_UNKNOWN_OUTCOME=retry: the same failure is transient for the job to retry, but still not sent again within the send', async () => {
    const server = await startSmtpServer({ afterData: () => 'silent' });
    const mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${server.port}`, from: 'robot@example.com', retry: FAST_RETRY, socketTimeoutMs: 100, dataTimeoutMs: 300, unknownOutcome: 'retry' });
    try {
      const err = await expectEffectError(mailer.send({ to: ['ivan@example.com'], cc: [], bcc: [], subject: 'молчит', text: 't' }));
      assert.equal(server.counts.data, 1);
      assert.equal(err.kind, 'transient');
      assert.equal(err.details.code, 'EOUTCOME');
      assert.match(err.message, /may have been delivered; the job sends it again later \(SMTP_UNKNOWN_OUTCOME=retry\)/);
    } finally {
      await mailer.close();
      await server.close();
    }
  });

  // A message big enough that the kernel's buffers cannot take it whole while the server is not reading.
  const bigText = ('x'.repeat(70) + '\n').repeat(16 * 1024 * 1024 / 71);
  const bigLetter = { to: ['ivan@example.com'], cc: [], bcc: [], subject: 'большое', text: bigText };
  const bigLimits = { maxBodyBytes: 32 * 1024 * 1024 };

  it('a transfer of the message that stalls fails after the idle timeout, not the long wait for the reply, and is sent again', { timeout: 60_000 }, async () => {
    // The end of the message has not left: the server cannot have the letter, so another try is safe. The wait for the
    // reply to the end (10 minutes here, the default) only starts once the message is written.
    const server = await startScriptedSmtpServer((n) => (n === 1 ? 'stall' : 'accept'));
    const mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${server.port}`, from: 'robot@example.com', retry: FAST_RETRY, socketTimeoutMs: 300, limits: bigLimits });
    try {
      const receipt = await mailer.send(bigLetter);
      assert.equal(receipt.attempts, 2);
      assert.deepEqual(server.counts, { started: 2, ended: 1 }, 'the stalled transfer was given up and the second one read whole');
    } finally {
      await mailer.close();
      await server.close();
    }
  });

  it('a message that moves slowly but steadily is not cut by the idle timeout meant for a stalled transfer', { timeout: 120_000 }, async () => {
    // The idle timeout is far shorter than the whole transfer, but longer than any pause in it: each piece of the message
    // that leaves shows the transfer is alive. Written in one piece, it timed out while it was still moving.
    const server = await startScriptedSmtpServer(() => 'slow');
    const mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${server.port}`, from: 'robot@example.com', retry: { ...FAST_RETRY, attempts: 1 }, socketTimeoutMs: 400, limits: bigLimits });
    try {
      const receipt = await mailer.send(bigLetter);
      assert.equal(receipt.attempts, 1);
      assert.deepEqual(server.counts, { started: 1, ended: 1 });
    } finally {
      await mailer.close();
      await server.close();
    }
  });

  it('a connection dropped before the end of the message is still retried within the send (the failure is not "unknown")', { timeout: 60_000 }, async () => {
    const server = await startScriptedSmtpServer((n) => (n === 1 ? 'drop' : 'accept'));
    const mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${server.port}`, from: 'robot@example.com', retry: FAST_RETRY, socketTimeoutMs: 300, limits: bigLimits });
    try {
      const receipt = await mailer.send(bigLetter);
      assert.equal(receipt.attempts, 2);
      assert.deepEqual(server.counts, { started: 2, ended: 1 });
    } finally {
      await mailer.close();
      await server.close();
    }
  });

  it('drops a server whose reply never ends (one endless line, or endless continuation lines) instead of buffering it', async () => {
    for (const endless of ['x'.repeat(64 * 1024), '250-x\r\n'.repeat(5000)]) {
      let sent = 0;
      const sockets = new Set<Socket>();
      const server = createNetServer((socket) => {
        sockets.add(socket);
        socket.on('error', () => undefined);
        socket.write('220 hello\r\n');
        socket.once('data', () => {
          // Answer EHLO with far more than any reply holds, in chunks, as long as the client reads.
          const more = () => {
            while (sent < 4 * 1024 * 1024 && socket.write(endless)) sent += endless.length;
          };
          socket.on('drain', more);
          more();
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${(server.address() as AddressInfo).port}?ignoreTLS=true`, from: 'robot@example.com', retry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 10 } });
      try {
        const e = await expectEffectError(mailer.send({ to: ['ivan@example.com'], cc: [], bcc: [], subject: 's', text: 't' }));
        assert.match(e.message, /reply is longer than 100 lines of 4096 characters/);
        assert.ok(e.message.length < 2000, `the error quotes no endless reply (${e.message.length} characters)`);
      } finally {
        await mailer.close();
        for (const so of sockets) so.destroy();
        await new Promise((r) => server.close(r));
      }
    }
  });

  it('gives up on a lasting 4xx with a transient EffectError that names the reply', async () => {
    const server = await startSmtpServer({ data: () => smtpError(450, 'Mailbox busy') });
    const mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${server.port}`, from: 'robot@example.com', retry: FAST_RETRY });
    try {
      const e = await expectEffectError(mailer.send({ to: ['ivan@example.com'], cc: [], bcc: [], subject: 's', text: 't' }));
      assert.equal(e.kind, 'transient');
      assert.equal(e.details.status, 450);
      assert.equal(e.details.attempts, 3);
      assert.equal(server.counts.data, 3);
      assert.match(e.message, /450/);
      assert.match(e.message, /Mailbox busy/);
    } finally {
      await mailer.close();
      await server.close();
    }
  });

  it('does not retry a 550 unknown recipient: permanent EffectError after one attempt', async () => {
    const server = await startSmtpServer({ rcpt: () => smtpError(550, 'No such user here') });
    const mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${server.port}`, from: 'robot@example.com', retry: FAST_RETRY });
    try {
      const e = await expectEffectError(mailer.send({ to: ['nobody@example.com'], cc: [], bcc: [], subject: 's', text: 't' }));
      assert.equal(e.kind, 'permanent');
      assert.equal(e.retryable, false);
      assert.equal(e.details.status, 550);
      assert.equal(e.details.attempts, 1);
      assert.equal(server.counts.rcpt, 1);
      assert.match(e.message, /550/);
      assert.match(e.message, /No such user here/);
      assert.match(e.message, /not retried/);
    } finally {
      await mailer.close();
      await server.close();
    }
  });

  it('reports a refused connection as a transient EffectError with the reason, after its retries', async () => {
    const port = await freePort();
    const mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${port}`, from: 'robot@example.com', retry: FAST_RETRY, connectionTimeoutMs: 2000 });
    try {
      const e = await expectEffectError(mailer.send({ to: ['ivan@example.com'], cc: [], bcc: [], subject: 's', text: 't' }));
      assert.equal(e.kind, 'transient');
      assert.equal(e.details.attempts, 3);
      assert.equal(e.details.status, undefined);
      assert.match(e.message, /ECONNREFUSED/);
      assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
    } finally {
      await mailer.close();
    }
  });

  it('reports a server that never greets as a transient timeout', async () => {
    const silent = await startSilentServer();
    const mailer = createSmtpMailer({
      url: `smtp://127.0.0.1:${silent.port}`,
      from: 'robot@example.com',
      retry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 10 },
      connectionTimeoutMs: 300,
    });
    try {
      const e = await expectEffectError(mailer.send({ to: ['ivan@example.com'], cc: [], bcc: [], subject: 's', text: 't' }));
      assert.equal(e.kind, 'transient');
      assert.equal(e.details.code, 'ETIMEDOUT');
    } finally {
      await mailer.close();
      await silent.close();
    }
  });

  // The machine's own address that is not loopback, to reach a server "over the network" without leaving it.
  const outward = Object.values(networkInterfaces()).flat().find((a) => a && !a.internal && a.family === 'IPv4')?.address;
  it('refuses to send the password in clear to a host that is not loopback and offers no STARTTLS, unless ?plainAuth=true', { skip: outward ? false : 'no non-loopback IPv4 address' }, async () => {
    const server = await startSmtpServer({ auth: { user: 'robot', pass: 'S3cret-pa$$' }, host: '0.0.0.0' });
    const url = `smtp://robot:${encodeURIComponent('S3cret-pa$$')}@${outward}:${server.port}`;
    const refused = createSmtpMailer({ url, from: 'robot@example.com', retry: FAST_RETRY });
    const allowed = createSmtpMailer({ url: `${url}?plainAuth=true`, from: 'robot@example.com', retry: FAST_RETRY });
    try {
      const e = await expectEffectError(refused.send({ to: ['ivan@example.com'], cc: [], bcc: [], subject: 's', text: 't' }));
      assert.equal(e.kind, 'permanent');
      assert.match(e.message, /offers no STARTTLS, so the password would cross the network in clear: not sent.*plainAuth=true/);
      assert.equal(server.letters.length, 0);
      await allowed.send({ to: ['ivan@example.com'], cc: [], bcc: [], subject: 's', text: 't' });
      assert.equal(server.letters.at(-1)?.user, 'robot');
    } finally {
      await refused.close();
      await allowed.close();
      await server.close();
    }
  });

  it('authenticates with the URL credentials and never puts the password in errors or logs', async () => {
    const server = await startSmtpServer({ auth: { user: 'robot', pass: 'S3cret-pa$$' } });
    const logger = recordingLogger();
    const good = createSmtpMailer({ url: `smtp://robot:${encodeURIComponent('S3cret-pa$$')}@127.0.0.1:${server.port}`, from: 'robot@example.com', retry: FAST_RETRY, logger });
    const bad = createSmtpMailer({ url: `smtp://robot:wrong-password-1@127.0.0.1:${server.port}`, from: 'robot@example.com', retry: FAST_RETRY, logger });
    try {
      assert.ok(!good.describe.includes('S3cret'));
      await good.send({ to: ['ivan@example.com'], cc: [], bcc: [], subject: 's', text: 't' });
      assert.equal(server.letters.at(-1)?.user, 'robot');
      const e = await expectEffectError(bad.send({ to: ['ivan@example.com'], cc: [], bcc: [], subject: 's', text: 't' }));
      // A refused login is the server's configuration, not the letter: transient (the job retries), not retried here.
      assert.equal(e.kind, 'transient');
      assert.equal(e.details.status, 535);
      assert.equal(e.details.code, 'EAUTH');
      assert.equal(e.details.attempts, 1);
      assert.match(e.message, /refused the login/);
      assert.ok(!e.message.includes('wrong-password-1'));
      assert.ok(!JSON.stringify(e.details).includes('wrong-password-1'));
      for (const line of logger.lines) {
        assert.ok(!line.includes('S3cret') && !line.includes('wrong-password-1'), `password leaked into log: ${line}`);
      }
    } finally {
      await good.close();
      await bad.close();
      await server.close();
    }
  });

  it('a refusal that echoes the AUTH argument (PLAIN or LOGIN, whole or cut) never carries the password in any form', async () => {
    const pass = 'SmtpPw321';
    const b64 = (t: string) => Buffer.from(t, 'utf8').toString('base64');
    const plain = b64(`\0robot\0${pass}`);
    const cases: Array<{ methods: string[]; echo: (a: { method: string; username: string; password: string }) => string; leaks: string[] }> = [
      { methods: ['PLAIN', 'LOGIN'], echo: (a) => `5.7.8 bad credentials ${b64(`\0${a.username}\0${a.password}`)}`, leaks: [plain, plain.replace(/=+$/, '')] },
      { methods: ['LOGIN'], echo: (a) => `5.7.8 bad credentials for ${a.username}: ${b64(a.password)}`, leaks: [b64(pass)] },
      { methods: ['PLAIN'], echo: (a) => `5.7.8 no such user/password ${a.password} (${b64(`x\0${a.username}\0${a.password}`).slice(0, 24)}...)`, leaks: [pass, b64(`x\0robot\0${pass}`).slice(0, 24)] },
    ];
    for (const c of cases) {
      const server = await startSmtpServer({ auth: { user: 'robot', pass: 'the-right-one' }, authMethods: c.methods, authRefusal: c.echo });
      const logger = recordingLogger();
      const mailer = createSmtpMailer({ url: `smtp://robot:${pass}@127.0.0.1:${server.port}`, from: 'robot@example.com', retry: FAST_RETRY, logger });
      try {
        const e = await expectEffectError(mailer.send({ to: ['ivan@example.com'], cc: [], bcc: [], subject: 's', text: 't' }));
        assert.equal(e.details.status, 535);
        assert.match(e.message, /refused the login: "535 5\.7\.8 .*\*\*\*/, 'the reply is quoted with the secret masked');
        for (const text of [e.message, JSON.stringify(e.details), ...logger.lines]) {
          for (const leak of c.leaks) assert.ok(!text.includes(leak), `${c.methods.join('+')}: ${leak} in ${text}`);
        }
      } finally {
        await mailer.close();
        await server.close();
      }
    }
  });

  it('upgrades smtp:// with STARTTLS when the server offers it, and refuses an unverified certificate by default', async () => {
    const server = await startSmtpServer({ starttls: true });
    const trusting = createSmtpMailer({ url: `smtp://127.0.0.1:${server.port}?rejectUnauthorized=false`, from: 'robot@example.com', retry: FAST_RETRY });
    const strict = createSmtpMailer({ url: `smtp://127.0.0.1:${server.port}`, from: 'robot@example.com', retry: FAST_RETRY });
    try {
      await trusting.send({ to: ['ivan@example.com'], cc: [], bcc: [], subject: 'tls', text: 't' });
      assert.equal(server.letters.at(-1)?.secure, true);
      const e = await expectEffectError(strict.send({ to: ['ivan@example.com'], cc: [], bcc: [], subject: 'tls', text: 't' }));
      assert.equal(e.kind, 'permanent');
      assert.equal(e.details.code, 'ETLS');
      assert.equal(e.details.attempts, 1);
    } finally {
      await trusting.close();
      await strict.close();
      await server.close();
    }
  });
});
