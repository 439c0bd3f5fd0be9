// Address lists and letter safety: what is accepted, what is refused, and that a subject can never add a header.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { EffectError } from '../../engine/errors.js';
import type { MailMessage } from '../../engine/ports.js';
import { DEFAULT_MAIL_LIMITS, buildSafeMessage, parseAddressList, sanitizeSubject } from '../../adapters/mail/message.js';

const letter = (over: Partial<MailMessage> = {}): MailMessage => ({ to: ['ivan@example.com'], cc: [], bcc: [], subject: 'Тема', text: 'Текст', ...over });

function refusal(fn: () => unknown): EffectError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof EffectError, `expected EffectError, got ${String(e)}`);
    assert.equal(e.kind, 'permanent');
    return e;
  }
  assert.fail('expected a refusal');
}

describe('parseAddressList', () => {
  it('splits on commas and semicolons and keeps display names, Cyrillic ones included', () => {
    assert.deepEqual(parseAddressList('Иван <ivan@example.com>; petr@example.org, "Сидоров, Пётр" <sid@example.net>'), {
      ok: true,
      addresses: ['"Иван" <ivan@example.com>', 'petr@example.org', '"Сидоров, Пётр" <sid@example.net>'],
    });
  });

  it('skips empty items, so a trailing separator or empty text is fine', () => {
    assert.deepEqual(parseAddressList(' a@example.com ; '), { ok: true, addresses: ['a@example.com'] });
    assert.deepEqual(parseAddressList(''), { ok: true, addresses: [] });
  });

  it('accepts internationalised domains and plus addressing', () => {
    assert.deepEqual(parseAddressList('ivan+tasks@пример.рф'), { ok: true, addresses: ['ivan+tasks@пример.рф'] });
    assert.ok(parseAddressList('robot@localhost').ok, 'localhost is allowed for local test setups');
  });

  for (const [why, text] of [
    ['no @', 'ivan.example.com'],
    ['nothing after @', 'ivan@'],
    ['a domain without a dot', 'ivan@example'],
    ['a space inside', 'iv an@example.com'],
    ['two @', 'a@b@example.com'],
    ['a leading dot', '.ivan@example.com'],
    ['a domain label starting with a hyphen', 'ivan@-example.com'],
    ['an empty angle address', 'Иван <>'],
    ['a C1 control character (a one-character terminal escape) in the display name', 'Ivan\u009b31m <ivan@example.com>'],
    ['an escape character in the display name', 'Ivan\u001b[2J <ivan@example.com>'],
  ] as const) {
    it(`refuses an address with ${why}`, () => {
      const r = parseAddressList(text);
      assert.equal(r.ok, false);
    });
  }

  for (const bad of ['ivan@example.com\r\nBcc: x@evil.example', 'ivan@example.com\n', 'Иван\r <ivan@example.com>', 'ivan@exa\0mple.com']) {
    it(`refuses ${JSON.stringify(bad)} because it carries CR, LF or NUL`, () => {
      const r = parseAddressList(bad);
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.error, /line break or NUL/);
    });
  }
});

describe('buildSafeMessage', () => {
  it('folds a subject with CR/LF/TAB into one line', () => {
    const safe = buildSafeMessage(letter({ subject: 'Новая\r\nBcc: x@evil.example\tзадача\n' }));
    assert.equal(safe.subject, 'Новая Bcc: x@evil.example задача');
  });

  it('re-validates every recipient and splits a list given as one entry', () => {
    const safe = buildSafeMessage(letter({ to: ['a@example.com; Б <b@example.com>'], cc: ['c@example.com'] }));
    assert.deepEqual(safe.to, ['a@example.com', '"Б" <b@example.com>']);
    assert.deepEqual(safe.cc, ['c@example.com']);
  });

  it('refuses a letter without recipients', () => {
    assert.equal(refusal(() => buildSafeMessage(letter({ to: [] }))).details.code, 'MAIL_NO_RECIPIENTS');
  });

  it('refuses an invalid Cc address and names it', () => {
    const e = refusal(() => buildSafeMessage(letter({ cc: ['not an address'] })));
    assert.equal(e.details.code, 'MAIL_INVALID_ADDRESS');
    assert.match(e.message, /Cc/);
  });

  it(`refuses more than ${DEFAULT_MAIL_LIMITS.maxRecipients} recipients by default, counting To, Cc and Bcc`, () => {
    const many = Array.from({ length: 30 }, (_, i) => `u${i}@example.com`);
    const e = refusal(() => buildSafeMessage(letter({ to: many, bcc: many })));
    assert.equal(e.details.code, 'MAIL_TOO_MANY_RECIPIENTS');
    assert.doesNotThrow(() => buildSafeMessage(letter({ to: many, bcc: many }), { maxRecipients: 60 }));
  });

  it('refuses a subject longer than the limit, counted in characters, not bytes', () => {
    assert.doesNotThrow(() => buildSafeMessage(letter({ subject: 'ж'.repeat(500) })));
    assert.equal(refusal(() => buildSafeMessage(letter({ subject: 'ж'.repeat(501) }))).details.code, 'MAIL_SUBJECT_TOO_LONG');
  });

  it('refuses a body over the size limit, text and HTML together', () => {
    const half = 'x'.repeat(600 * 1024);
    assert.equal(refusal(() => buildSafeMessage(letter({ text: half, html: half }))).details.code, 'MAIL_BODY_TOO_LARGE');
  });

  it('strips control characters from the reference', () => {
    assert.equal(buildSafeMessage(letter({ reference: 'run-1/\r\nX-Evil: 1' })).reference, 'run-1/X-Evil: 1');
  });

  it('never leaves a CR, LF or other control character (C0, DEL, C1) in any subject (property)', () => {
    assert.equal(sanitizeSubject('a\u009b31mb\u0085c'), 'a 31mb c');
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const out = sanitizeSubject(s);
        return !/[\x00-\x1f\x7f-\x9f]/.test(out);
      }),
      { numRuns: 500 },
    );
  });
});
