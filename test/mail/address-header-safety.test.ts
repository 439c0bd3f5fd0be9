// What a recipient's entry can make of the letter's headers beyond what it says: a domain whose punycode holds a comma
// or parentheses (two recipients in To, or another address than RCPT TO), a display name that looks like an encoded
// word or holds U+2028 (a name the scenario never gave, or 8-bit header bytes), and inputs that took seconds to
// minutes (a long display name through the grapheme segmenter, a run of spaces through the trimming and the writer).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { simpleParser, type AddressObject } from 'mailparser';
import { buildSafeMessage } from '../../adapters/mail/message.js';
import { composeMime, encodeAddress, encodeHeaderText } from '../../adapters/mail/mime.js';
import { parseAddressList } from '../../engine/mail-address.js';

function valuesOf(field: AddressObject | AddressObject[] | undefined): { name: string; address: string }[] {
  const list = Array.isArray(field) ? field : field ? [field] : [];
  return list.flatMap((a) => a.value.map((v) => ({ name: v.name, address: v.address ?? '' })));
}

async function readBack(to: string): Promise<{ head: string; to: { name: string; address: string }[] }> {
  const safe = buildSafeMessage({ to: [to], cc: [], bcc: [], subject: 's', text: 'x' });
  const raw = composeMime(safe, 'robot@example.com', '<id@example.com>');
  const head = raw.toString('latin1').slice(0, raw.indexOf('\r\n\r\n'));
  return { head, to: valuesOf((await simpleParser(raw)).to) };
}

describe('address header safety', () => {
  it('refuses a domain whose punycode holds a comma or parentheses, naming the character', () => {
    const cases: [string, RegExp][] = [
      ['ivan@a\u{1f102}b.com', /^address "ivan@a🄂b\.com" has a domain "a🄂b\.com" that is written "a1,b\.com" in ASCII \(punycode\), as mail servers need it, which is not a domain name \("🄂" becomes "1,"\)$/],
      ['Ivan <ivan@a\u2474b.com>', /has a domain "a⑴b\.com" that is written "a\(1\)b\.com" in ASCII.*\("⑴" becomes "\(1\)"\)$/],
      ['ivan@\u3220.com', /has a domain "㈠\.com" that is written "xn--[^"]*" in ASCII.*\("㈠" becomes "\(一\)"\)$/],
    ];
    for (const [entry, reason] of cases) {
      const r = parseAddressList(entry);
      assert.equal(r.ok, false, entry);
      assert.match((r as { error: string }).error, reason);
    }
    // The mapping that gives a real domain is still taken.
    assert.deepEqual(parseAddressList('ivan@\u2460x.com'), { ok: true, addresses: ['ivan@①x.com'] });
    assert.deepEqual(parseAddressList('wang@пример.рф'), { ok: true, addresses: ['wang@пример.рф'] });
  });

  it('writes a display name that looks like an encoded word as encoded text: a reader shows it as given', async () => {
    for (const name of ['=?UTF-8?B?PGJvc3NAZXhhbXBsZS5jb20+?=', 'Ivan =?UTF-8?Q?boss?= Petrov']) {
      const quoted = `"${name}" <ivan@example.com>`;
      const back = await readBack(quoted);
      assert.deepEqual(back.to, [{ name, address: 'ivan@example.com' }]);
    }
  });

  it('writes a display name holding U+2028 encoded, the header 7-bit, the IDN in punycode as RCPT TO has it', async () => {
    const back = await readBack('"Иван\u2028Петров" <ivan@пример.рф>');
    assert.ok(!/[^\x20-\x7e\r\n]/.test(back.head), `the header is 7-bit printable: ${JSON.stringify(back.head)}`);
    assert.match(back.head.replace(/\r\n /g, ' '), /^To: =\?UTF-8\?B\?[^?]+\?= <ivan@xn--e1afmkfd\.xn--p1ai>$/m);
    assert.deepEqual(back.to, [{ name: 'Иван\u2028Петров', address: 'ivan@пример.рф' }]);
  });

  it('encodes a long display name in time linear in its length (a segmenter over the whole text is quadratic)', () => {
    const name = 'Привет мир '.repeat(8000);
    const started = performance.now();
    const encoded = encodeHeaderText(name, 4);
    const ms = performance.now() - started;
    assert.ok(ms < 3000, `${name.length} characters took ${Math.round(ms)} ms`);
    const words = [...encoded.matchAll(/=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('utf8'));
    assert.equal(words.join(''), name);
    for (const line of encoded.split('\r\n')) assert.ok(line.length <= 76);
    // Clusters across the windows the segmenter is given stay whole: a family of 25 code units, many times over.
    const family = '👨‍👩‍👧‍👦'.repeat(300);
    const parts = [...encodeHeaderText(family).matchAll(/=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('utf8'));
    assert.equal(parts.join(''), family);
    for (const p of parts) assert.equal(p.replaceAll('👨‍👩‍👧‍👦', ''), '', `a family cut: ${JSON.stringify(p)}`);
  });

  it('takes and writes an entry with a long run of spaces in its name without seconds of backtracking', () => {
    const name = `a${' '.repeat(60_000)}b`;
    let started = performance.now();
    const r = parseAddressList(`"${name}" <ivan@example.com>`);
    let ms = performance.now() - started;
    assert.ok(ms < 1500, `parsing took ${Math.round(ms)} ms`);
    assert.deepEqual(r, { ok: true, addresses: [`"${name}" <ivan@example.com>`] });
    started = performance.now();
    const written = encodeAddress(`"${name}" <ivan@example.com>`, 4);
    ms = performance.now() - started;
    assert.ok(ms < 1500, `writing took ${Math.round(ms)} ms`);
    // Letters and spaces only: an atom phrase, written unquoted.
    assert.equal(written, `${name} <ivan@example.com>`);
  });
});
