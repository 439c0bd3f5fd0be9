// The pooled SMTP client under what a real server does to it: recipients refused one by one, connections closed while
// idle, no PIPELINING, one connection reused for many letters.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { simpleParser } from 'mailparser';
import { readHeaderBlock } from '../../adapters/mail/header-reader.js';
import { createSmtpMailer } from '../../adapters/mail/smtp.adapter.js';
import { composeMime, encodeAddress, encodeHeaderText } from '../../adapters/mail/mime.js';
import { smtpError, startSmtpServer } from './smtp-server.helper.js';

const FAST_RETRY = { attempts: 3, baseDelayMs: 10, maxDelayMs: 40 };
const letter = (subject: string, to = ['ivan@example.com']) => ({ to, cc: [], bcc: [], subject, text: 'Текст письма', html: '<p>Текст</p>' });

describe('SMTP client', { timeout: 20_000 }, () => {
  it('delivers to the recipients the server accepts and reports the refused one', async () => {
    const server = await startSmtpServer({ rcpt: (address) => (address === 'nobody@example.com' ? smtpError(550, 'No such user here') : undefined) });
    const mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${server.port}`, from: 'robot@example.com', retry: FAST_RETRY });
    try {
      const receipt = await mailer.send(letter('Частично', ['ivan@example.com', 'nobody@example.com']));
      assert.deepEqual(receipt.rejected, ['nobody@example.com']);
      assert.equal(receipt.attempts, 1);
      assert.equal(server.letters.length, 1);
      assert.deepEqual(server.letters[0]!.rcptTo, ['ivan@example.com']);
    } finally {
      await mailer.close();
      await server.close();
    }
  });

  it('replaces a kept-alive connection the server closed while idle, without a retry delay or a counted attempt', async () => {
    const server = await startSmtpServer({ socketTimeoutMs: 200 });
    const mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${server.port}`, from: 'robot@example.com', retry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 10 } });
    try {
      await mailer.send(letter('первое'));
      await new Promise((r) => setTimeout(r, 600)); // the server has closed the idle connection by now
      const second = await mailer.send(letter('второе'));
      assert.equal(second.attempts, 1);
      assert.deepEqual(await Promise.all(server.letters.map(async (l) => (await simpleParser(l.raw)).subject)), ['первое', 'второе']);
    } finally {
      await mailer.close();
      await server.close();
    }
  });

  it('talks to a server without PIPELINING one command at a time, refusals included', async () => {
    const server = await startSmtpServer({ hidePipelining: true, rcpt: (a) => (a === 'gone@example.com' ? smtpError(550, 'gone') : undefined) });
    const mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${server.port}`, from: 'robot@example.com', retry: FAST_RETRY });
    try {
      await mailer.send(letter('без конвейера'));
      await assert.rejects(mailer.send(letter('никому', ['gone@example.com'])), (e: Error & { kind?: string; details?: { status?: number } }) => e.kind === 'permanent' && e.details?.status === 550);
      // The refused transaction was reset: the same connection carries the next letter.
      await mailer.send(letter('снова'));
      assert.deepEqual(await Promise.all(server.letters.map(async (l) => (await simpleParser(l.raw)).subject)), ['без конвейера', 'снова']);
      assert.equal(server.connections.max, 1);
    } finally {
      await mailer.close();
      await server.close();
    }
  });

  it('writes an internationalised domain in punycode, in the envelope and in the headers', async () => {
    const server = await startSmtpServer();
    const mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${server.port}`, from: 'robot@example.com', retry: FAST_RETRY });
    try {
      await mailer.send(letter('домен', ['Иван <ivan@пример.рф>']));
      // smtp-server shows the envelope's punycode domain decoded again.
      assert.deepEqual(server.letters[0]!.rcptTo, ['ivan@пример.рф']);
      assert.ok(!/[^\x00-\x7f]/.test(server.letters[0]!.raw.toString('latin1')), 'the message stays 7-bit');
      assert.match(server.letters[0]!.raw.toString('latin1'), /^To: .*<ivan@xn--e1afmkfd\.xn--p1ai>/m);
    } finally {
      await mailer.close();
      await server.close();
    }
  });

  it('reuses one connection for a run of letters', async () => {
    const server = await startSmtpServer();
    const mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${server.port}`, from: 'robot@example.com', retry: FAST_RETRY, maxConnections: 1 });
    try {
      for (let i = 0; i < 20; i++) await mailer.send(letter(`письмо ${i}`));
      assert.equal(server.letters.length, 20);
      assert.equal(server.connections.max, 1);
    } finally {
      await mailer.close();
      await server.close();
    }
  });
});

describe('MIME writer', () => {
  it('writes headers 7-bit clean: encoded words for non-ASCII, quoted names with specials, plain ASCII untouched', () => {
    assert.equal(encodeHeaderText('Plain subject'), 'Plain subject');
    assert.match(encodeHeaderText('Привет'), /^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=$/);
    assert.equal(encodeAddress('Ivan, Jr. <ivan@example.com>'), '"Ivan, Jr." <ivan@example.com>');
    assert.equal(encodeAddress('ivan@example.com'), 'ivan@example.com');
    assert.match(encodeAddress('Иван Петров <ivan@example.com>'), /^=\?UTF-8\?B\?.+\?= <ivan@example\.com>$/);
  });

  it('folds a long plain ASCII subject before a space: no line over 78, read back exactly, a long word kept whole', async () => {
    const cases = [
      `New task:  ${'assigned  to  the  sales  team  '.repeat(8)}(urgent)  `,
      `Short start ${'x'.repeat(120)} tail after a word longer than a line`,
      'Exactly fits'.padEnd(78 - 'Subject: '.length, '.'),
    ];
    for (const subject of cases) {
      const raw = composeMime({ to: ['a@example.com'], cc: [], bcc: [], subject, text: 'x' }, 'robot@example.com', '<id.2@example.com>').toString('latin1');
      const head = raw.slice(0, raw.indexOf('\r\n\r\n'));
      const lines = head.slice(head.indexOf('Subject: ')).split('\r\n');
      const end = lines.findIndex((l, i) => i > 0 && !/^[ \t]/.test(l));
      const subjectLines = lines.slice(0, end);
      for (const line of subjectLines) if (!line.includes('x'.repeat(120))) assert.ok(line.length <= 78, `line of ${line.length}: ${JSON.stringify(line)}`);
      assert.ok(subjectLines.slice(1).every((l) => /^ [^ ]/.test(l)), 'each continuation starts with one space and a word');
      assert.equal(subjectLines.join(''), `Subject: ${subject}`, 'unfolding gives the subject back');
      assert.equal((await simpleParser(raw)).subject, subject.trim(), 'a mail parser reads it back');
      const file = join(await mkdtemp(join(tmpdir(), 'oktell-fold-')), 'letter.eml');
      await writeFile(file, raw, 'latin1');
      assert.equal((await readHeaderBlock(file)).get('subject'), subject.trim(), 'the outbox reader unfolds it as written');
      await rm(dirname(file), { recursive: true });
    }
    assert.equal(encodeHeaderText(cases[2]!, 'Subject: '.length), cases[2], 'a subject that fits is one line');
    assert.ok(encodeHeaderText(cases[0]!, 'Subject: '.length).includes('\r\n'), 'a long one is folded');
  });

  it('writes a message that a mail parser reads back whole, long Cyrillic subjects and bodies included', async () => {
    const subject = 'Новая задача: '.repeat(20).trim();
    const text = 'строка\n'.repeat(500);
    const raw = composeMime({ to: ['Иван <ivan@example.com>'], cc: ['boss@example.com'], bcc: ['hidden@example.com'], subject, text, html: '<b>жирный</b>', reference: 'run/1' }, 'Robot <robot@example.com>', '<id.1@example.com>');
    assert.ok(!/[^\x00-\x7f]/.test(raw.toString('latin1')), 'only 7-bit bytes');
    assert.ok(raw.toString('latin1').split('\r\n').every((l) => l.length <= 998), 'no line over 998 characters');
    const parsed = await simpleParser(raw);
    assert.equal(parsed.subject, subject);
    assert.equal(parsed.text, text);
    assert.equal(parsed.html, '<b>жирный</b>');
    assert.equal(parsed.messageId, '<id.1@example.com>');
    assert.equal(parsed.headers.get('bcc'), undefined, 'Bcc stays in the envelope');
    assert.equal(parsed.headers.get('x-oktell-reference'), 'run/1');
  });
});
