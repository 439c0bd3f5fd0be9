// A letter's Message-ID derived from its step's key: the same letter sent again (a retry, a replay, a newer version of
// the server) must carry the same id, so the bytes hashed and the hash must not change.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { MailMessage } from '../../engine/ports.js';
import { makeMessageId } from '../../adapters/mail/compose.js';

const FROM = 'Oktell <oktell@example.com>';
const letter: MailMessage = {
  to: ['Иван <ivan@example.com>', 'b@example.com'],
  cc: ['c@example.com'],
  bcc: [],
  subject: 'Новая задача: bench 1',
  text: 'Здравствуйте!\n',
  html: '<p>Привет</p>',
  messageKey: 'job-42:notify',
};

/** The id as it was first made: each part, then a NUL, fed to the hash one by one. */
function byParts(safe: MailMessage, defaultFrom: string): string {
  const from = safe.from ?? defaultFrom;
  const hash = createHash('sha256');
  for (const part of [safe.messageKey ?? safe.reference!, from, ...safe.to, '|', ...safe.cc, '|', ...safe.bcc, '|', safe.subject, safe.text ?? '', safe.html ?? '']) hash.update(part).update('\0');
  return hash.digest('hex').slice(0, 32);
}

describe('makeMessageId with a step key', () => {
  it('gives the ids it gave before (the same letter keeps its id across versions)', () => {
    assert.equal(makeMessageId(letter, FROM), '<8312080fdf26d6b3cbccc8e7908a2476.oktell@example.com>');
    // The reference stands in for a missing key; a lone surrogate in the subject; no text part; the sender's domain lower-cased.
    const other: MailMessage = { ...letter, text: undefined, messageKey: undefined, reference: 'run-1:7', subject: 'x\ud800', from: 'robot@Example.ORG' };
    assert.equal(makeMessageId(other, FROM), '<ec5eafac18691601f322f15a96ddc4c0.oktell@example.org>');
  });

  it('hashes the same bytes as each part fed to the hash in turn, whatever the texts', () => {
    const text = fc.string({ unit: 'binary', maxLength: 40 });
    fc.assert(
      fc.property(text, fc.array(text, { maxLength: 3 }), fc.array(text, { maxLength: 2 }), text, fc.option(text, { nil: undefined }), fc.option(text, { nil: undefined }), (key, to, cc, subject, body, html) => {
        const safe: MailMessage = { to, cc, bcc: cc, subject, text: body, html, messageKey: `k${key}` };
        assert.equal(makeMessageId(safe, FROM), `<${byParts(safe, FROM)}.oktell@example.com>`);
      }),
      { numRuns: 300 },
    );
  });

  it('is random without a key or a reference', () => {
    const bare: MailMessage = { ...letter, messageKey: undefined };
    assert.notEqual(makeMessageId(bare, FROM), makeMessageId(bare, FROM));
    assert.match(makeMessageId(bare, FROM), /^<[0-9a-f-]{36}\.oktell@example\.com>$/);
  });
});
