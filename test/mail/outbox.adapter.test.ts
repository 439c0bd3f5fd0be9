// The outbox mailer: real .eml files a mail parser can read, time-sorted names, and listOutbox reading them back.
import assert from 'node:assert/strict';
import { startSmtpServer } from './smtp-server.helper.js';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { simpleParser, type AddressObject } from 'mailparser';
import { createOutboxMailer, listOutbox, pruneOutbox } from '../../adapters/mail/outbox.adapter.js';
import { decodeHeaderWords } from '../../adapters/mail/header-reader.js';
import { checkMailSettings, createMailerFromEnv } from '../../adapters/mail/index.js';
import { MailConfigError } from '../../adapters/mail/smtp-url.js';
import { EffectError } from '../../engine/errors.js';

function addressesOf(field: AddressObject | AddressObject[] | undefined): string[] {
  const list = Array.isArray(field) ? field : field ? [field] : [];
  return list.flatMap((a) => a.value.map((v) => v.address ?? ''));
}

/** A clock that starts at a fixed time and moves one second per reading. */
function steppingClock(startIso: string) {
  let t = Date.parse(startIso);
  return { now: () => new Date((t += 1000)) };
}

describe('outbox mailer', { timeout: 20_000 }, () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'oktell-outbox-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a multipart/alternative .eml that a mail parser reads back with Cyrillic intact', async () => {
    const outbox = join(dir, 'one');
    const mailer = createOutboxMailer({ dir: outbox, from: 'Оktell <robot@example.com>', clock: steppingClock('2025-03-01T09:00:00Z') });
    const longSubject = 'Новая задача: ' + 'очень длинное название задачи '.repeat(6).trim();
    const receipt = await mailer.send({
      to: ['Иван <ivan@example.com>'],
      cc: ['petr@example.org'],
      bcc: ['boss@example.com'],
      subject: longSubject,
      text: 'Здравствуйте!\nСтрока два.',
      html: '<p>Здравствуйте!</p>',
      reference: 'run-7/notify',
    });
    assert.equal(receipt.transport, 'outbox');
    assert.ok(receipt.file?.startsWith(outbox));
    const names = await readdir(outbox);
    assert.deepEqual(names, [basename(receipt.file!)], 'exactly one file and no temporary left over');
    const raw = await readFile(receipt.file!);
    assert.match(raw.toString('latin1'), /Content-Type: multipart\/alternative/);
    const parsed = await simpleParser(raw);
    assert.equal(parsed.subject, longSubject);
    assert.equal(parsed.text?.trim(), 'Здравствуйте!\nСтрока два.');
    assert.equal(parsed.html, '<p>Здравствуйте!</p>');
    assert.deepEqual(addressesOf(parsed.to), ['ivan@example.com']);
    assert.deepEqual(addressesOf(parsed.cc), ['petr@example.org']);
    assert.deepEqual(addressesOf(parsed.bcc), ['boss@example.com'], 'the outbox copy keeps Bcc, like a Sent folder');
    assert.equal(parsed.messageId, receipt.messageId);
    assert.equal(parsed.date?.toISOString(), '2025-03-01T09:00:01.000Z');
  });

  it('lists letters oldest first with decoded subjects and bare addresses', async () => {
    const outbox = join(dir, 'two');
    const mailer = createOutboxMailer({ dir: outbox, from: 'robot@example.com', clock: steppingClock('2025-03-01T10:00:00Z') });
    // The last is long enough to be folded; its double spaces must come back as written.
    const subjects = ['Первое письмо', 'Второе: «кавычки» и = знак ?=', 'Third, plain ASCII', `Fourth,  long: ${'word '.repeat(30)}end`];
    for (const subject of subjects) {
      await mailer.send({ to: ['Иван Петров <ivan@example.com>', 'b@example.com'], cc: ['c@example.com'], bcc: [], subject, text: 'x' });
    }
    const entries = await listOutbox(outbox);
    assert.deepEqual(entries.map((e) => e.subject), subjects);
    assert.deepEqual(entries.map((e) => e.time), ['2025-03-01T10:00:01.000Z', '2025-03-01T10:00:02.000Z', '2025-03-01T10:00:03.000Z', '2025-03-01T10:00:04.000Z']);
    assert.deepEqual(entries[0]!.to, ['ivan@example.com', 'b@example.com']);
    assert.deepEqual(entries[0]!.cc, ['c@example.com']);
    assert.match(entries[0]!.messageId, /^<.+@example\.com>$/);
    assert.ok(entries.every((e) => e.file.startsWith(outbox) && e.file.endsWith('.eml')));
  });

  it('gives letters written in the same millisecond distinct names that still sort in order', async () => {
    const outbox = join(dir, 'same-ms');
    const fixed = { now: () => new Date('2025-03-01T11:00:00.000Z') };
    const mailer = createOutboxMailer({ dir: outbox, from: 'robot@example.com', clock: fixed });
    const files: string[] = [];
    for (let i = 0; i < 5; i++) files.push((await mailer.send({ to: ['a@example.com'], cc: [], bcc: [], subject: `n${i}`, text: 'x' })).file!);
    assert.equal(new Set(files).size, 5);
    assert.deepEqual((await listOutbox(outbox)).map((e) => e.subject), ['n0', 'n1', 'n2', 'n3', 'n4']);
  });

  it('prunes the letters written before a time, by their names, and keeps the rest and other files', async () => {
    const outbox = join(dir, 'prune');
    let now = Date.parse('2025-03-01T09:00:00.000Z');
    const mailer = createOutboxMailer({ dir: outbox, from: 'robot@example.com', clock: { now: () => new Date(now) } });
    for (const subject of ['old 1', 'old 2', 'new']) {
      await mailer.send({ to: ['a@example.com'], cc: [], bcc: [], subject, text: 'x' });
      now += subject === 'old 2' ? 86_400_000 : 1000;
    }
    await writeFile(join(outbox, 'report.eml'), 'Subject: kept\r\n\r\nnot named by the outbox');
    assert.equal(await pruneOutbox(outbox, Date.parse('2025-03-02T00:00:00.000Z')), 2);
    assert.deepEqual((await listOutbox(outbox)).map((e) => e.subject).sort(), ['kept', 'new']);
    assert.equal(await pruneOutbox(join(dir, 'no-such-folder'), Date.now()), 0);
  });

  it('ignores temporary files and treats a missing folder as an empty outbox', async () => {
    const outbox = join(dir, 'temp');
    const mailer = createOutboxMailer({ dir: outbox, from: 'robot@example.com' });
    await mailer.send({ to: ['a@example.com'], cc: [], bcc: [], subject: 'done', text: 'x' });
    await writeFile(join(outbox, '.20250101-000000-000-000001-deadbeef.eml.tmp'), 'From: half');
    assert.deepEqual((await listOutbox(outbox)).map((e) => e.subject), ['done']);
    assert.deepEqual(await listOutbox(join(dir, 'no-such-folder')), []);
  });

  it('lists a thousand letters by reading headers only (the time it took is reported)', async (t) => {
    const outbox = join(dir, 'many');
    const mailer = createOutboxMailer({ dir: outbox, from: 'robot@example.com' });
    const body = 'Строка текста письма. '.repeat(2000);
    const first = await mailer.send({ to: ['a@example.com'], cc: [], bcc: [], subject: 'Письмо 0', text: body });
    const raw = await readFile(first.file!);
    // Copies of one letter under time-sorted names: writing a thousand through the mailer would only test fsync.
    await Promise.all(
      Array.from({ length: 999 }, (_, i) => writeFile(join(outbox, `20990101-000000-000-${String(i + 1).padStart(6, '0')}-0000abcd.eml`), raw)),
    );
    const started = performance.now();
    const entries = await listOutbox(outbox);
    const ms = performance.now() - started;
    assert.equal(entries.length, 1000);
    assert.ok(entries.every((e) => e.subject === 'Письмо 0'));
    // Measured, not asserted: a timing bound would fail on a loaded machine.
    t.diagnostic(`listing 1000 letters took ${Math.round(ms)} ms`);
  });

  it('refuses an invalid letter without writing anything', async () => {
    const outbox = join(dir, 'refused');
    const mailer = createOutboxMailer({ dir: outbox, from: 'robot@example.com' });
    await assert.rejects(mailer.send({ to: ['x@example.com\r\nBcc: y@evil.example'], cc: [], bcc: [], subject: 's', text: 't' }), { name: 'EffectError', kind: 'permanent' });
    assert.deepEqual(await listOutbox(outbox), []);
  });
});

describe('decodeHeaderWords', () => {
  it('joins adjacent encoded words, so a character split between them comes out whole', () => {
    const bytes = Buffer.from('Привет', 'utf8');
    const a = bytes.subarray(0, 3).toString('base64');
    const b = bytes.subarray(3).toString('base64');
    assert.equal(decodeHeaderWords(`=?UTF-8?B?${a}?= =?UTF-8?B?${b}?=`), 'Привет');
  });

  it('decodes Q words with underscores and keeps plain text around them', () => {
    assert.equal(decodeHeaderWords('Re: =?utf-8?Q?=D0=97=D0=B0=D0=B4=D0=B0=D1=87=D0=B0_1?= (copy)'), 'Re: Задача 1 (copy)');
  });

  it('decodes legacy Russian charsets', () => {
    assert.equal(decodeHeaderWords('=?windows-1251?B?z/Do4uXy?='), 'Привет');
  });
});

describe('createMailerFromEnv', () => {
  it('uses the outbox under the data dir when SMTP_URL is unset', () => {
    const { kind, describe: text } = createMailerFromEnv({}, { dataDir: '/tmp/oktell-data' });
    assert.equal(kind, 'outbox');
    assert.match(text, /\/tmp\/oktell-data\/outbox/);
    assert.match(text, /Oktell emulator <oktell@localhost>/);
  });

  it('uses SMTP when SMTP_URL is set, and describes it without the password', async () => {
    const { kind, describe: text, mailer } = createMailerFromEnv(
      { SMTP_URL: 'smtps://robot:p%40ssw0rd-42@smtp.example.com', MAIL_FROM: 'Robot <robot@example.com>' },
      { dataDir: '/tmp/x' },
    );
    try {
      assert.equal(kind, 'smtp');
      assert.match(text, /smtps:\/\/robot:\*\*\*@smtp\.example\.com:465/);
      assert.ok(!text.includes('p@ssw0rd-42') && !text.includes('p%40ssw0rd-42'));
    } finally {
      await mailer.close();
    }
  });

  for (const c of [
    { max: '2', atMost: 2, atLeast: 1 },
    { max: undefined, atMost: 5, atLeast: 3 },
  ]) {
    it(`keeps at most ${c.atMost} SMTP connections open with SMTP_MAX_CONNECTIONS=${c.max ?? '(unset)'}, and every letter arrives`, { timeout: 20_000 }, async () => {
      const smtp = await startSmtpServer();
      const { mailer } = createMailerFromEnv({ SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, ...(c.max ? { SMTP_MAX_CONNECTIONS: c.max } : {}) }, { dataDir: '.' });
      try {
        await Promise.all(Array.from({ length: 12 }, (_, i) => mailer.send({ to: [`user${i}@example.com`], cc: [], bcc: [], subject: `letter ${i}`, text: 'x' })));
        assert.equal(smtp.letters.length, 12);
        assert.ok(smtp.connections.max <= c.atMost && smtp.connections.max >= c.atLeast, `${smtp.connections.max} connections at once`);
      } finally {
        await mailer.close();
        await smtp.close();
      }
    });
  }

  it('refuses an SMTP_MAX_CONNECTIONS that is not a whole number from 1 to 100', () => {
    for (const v of ['0', '101', 'many', '2.5']) {
      assert.throws(() => createMailerFromEnv({ SMTP_URL: 'smtp://127.0.0.1:2525', SMTP_MAX_CONNECTIONS: v }, { dataDir: '.' }), (e: unknown) => e instanceof MailConfigError && e.message.includes(`got "${v}"`), v);
    }
  });

  it('SMTP_UNKNOWN_OUTCOME picks what a letter the server hung up on after its end becomes: a dead letter (default) or a retry', { timeout: 20_000 }, async () => {
    const smtp = await startSmtpServer({ afterData: () => 'hang-up' });
    try {
      for (const [setting, kind] of [[undefined, 'unknown'], ['dead-letter', 'unknown'], ['retry', 'transient']] as const) {
        const { mailer } = createMailerFromEnv({ SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, ...(setting ? { SMTP_UNKNOWN_OUTCOME: setting } : {}) }, { dataDir: '.' });
        try {
          await assert.rejects(mailer.send({ to: ['ivan@example.com'], cc: [], bcc: [], subject: 's', text: 'x' }), (e: unknown) => e instanceof EffectError && e.kind === kind, String(setting));
        } finally {
          await mailer.close();
        }
      }
      assert.equal(smtp.counts.data, 3, 'each letter was sent once');
    } finally {
      await smtp.close();
    }
    assert.throws(() => createMailerFromEnv({ SMTP_URL: 'smtp://127.0.0.1:2525', SMTP_UNKNOWN_OUTCOME: 'resend' }, { dataDir: '.' }), (e: unknown) => e instanceof MailConfigError && e.message.includes('SMTP_UNKNOWN_OUTCOME must be dead-letter or retry, got "resend"'));
  });

  it('SMTP_PENDING_MARK_MS is how long the reply to the end of a letter may take before the letter is reported pending', { timeout: 20_000 }, async () => {
    // The first letter is answered at once, the second after 500 ms: only that one is reported, past 100 ms.
    const smtp = await startSmtpServer({ dataReplyDelayMs: (n) => (n === 2 ? 500 : 0) });
    const { mailer } = createMailerFromEnv({ SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, SMTP_PENDING_MARK_MS: '100' }, { dataDir: '.' });
    const reported: string[] = [];
    try {
      for (const subject of ['fast', 'slow']) {
        const receipt = await mailer.send({ to: ['ivan@example.com'], cc: [], bcc: [], subject, text: 'x' }, { onOutcomePending: (p) => reported.push(`${subject} ${p.messageId}`) });
        if (subject === 'slow') assert.deepEqual(reported, [`slow ${receipt.messageId}`]);
      }
    } finally {
      await mailer.close();
      await smtp.close();
    }
    for (const v of ['0', '600001', 'soon', '1.5', '-5']) {
      assert.throws(
        () => createMailerFromEnv({ SMTP_URL: 'smtp://127.0.0.1:2525', SMTP_PENDING_MARK_MS: v }, { dataDir: '.' }),
        (e: unknown) => e instanceof MailConfigError && e.message.includes(`SMTP_PENDING_MARK_MS must be a whole number of milliseconds from 1 to 600000, got "${v}"`),
        v,
      );
    }
  });

  // configuration.md: a malformed value stops the start. Without SMTP_URL the outbox is used, but a wrong value in an
  // env file would otherwise go unnoticed until SMTP is switched on, and then stop that start instead.
  it('refuses a wrong SMTP_MAX_CONNECTIONS, SMTP_UNKNOWN_OUTCOME or SMTP_PENDING_MARK_MS with SMTP_URL unset too', () => {
    for (const [name, value, said] of [
      ['SMTP_MAX_CONNECTIONS', '0', 'SMTP_MAX_CONNECTIONS must be a whole number from 1 to 100, got "0"'],
      ['SMTP_UNKNOWN_OUTCOME', 'maybe', 'SMTP_UNKNOWN_OUTCOME must be dead-letter or retry, got "maybe"'],
      ['SMTP_PENDING_MARK_MS', '0', 'SMTP_PENDING_MARK_MS must be a whole number of milliseconds from 1 to 600000, got "0"'],
    ] as const) {
      const refused = (e: unknown) => e instanceof MailConfigError && e.message === said;
      assert.throws(() => createMailerFromEnv({ [name]: value }, { dataDir: '/tmp/oktell-data' }), refused, name);
      assert.throws(() => checkMailSettings({ [name]: value }), refused, `${name} (the start's check)`);
    }
    assert.equal(createMailerFromEnv({ SMTP_MAX_CONNECTIONS: '3', SMTP_UNKNOWN_OUTCOME: 'retry', SMTP_PENDING_MARK_MS: '500' }, { dataDir: '/tmp/oktell-data' }).kind, 'outbox');
  });

  it('rejects a malformed SMTP_URL or MAIL_FROM at start-up without echoing secrets', () => {
    assert.throws(() => createMailerFromEnv({ SMTP_URL: 'http://u:topsecret@host' }, { dataDir: '.' }), (e: unknown) => e instanceof MailConfigError && !e.message.includes('topsecret'));
    assert.throws(() => createMailerFromEnv({ SMTP_URL: 'smtp://u:topsecret@host?tls=yes' }, { dataDir: '.' }), (e: unknown) => e instanceof MailConfigError && /unknown option "tls"/.test(e.message));
    assert.throws(() => createMailerFromEnv({ SMTP_URL: 'not a url topsecret' }, { dataDir: '.' }), (e: unknown) => e instanceof MailConfigError && !e.message.includes('topsecret'));
    assert.throws(() => createMailerFromEnv({ MAIL_FROM: 'robot at example' }, { dataDir: '.' }), MailConfigError);
  });
});
