// Headers in other scripts: CJK, right-to-left text with numbers, emoji (astral, skin tones, ZWJ families, flags),
// letters with combining accents (NFD) and Hangul written as jamo. Each subject and display name must come back from
// a mail parser exactly as written, every header line holding an encoded word stays within RFC 2047's 76 characters,
// and no encoded word ends inside a character as a reader sees it (a grapheme cluster).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { buildSafeMessage } from '../../adapters/mail/message.js';
import { composeMime, encodeHeaderText, MAY_JOIN } from '../../adapters/mail/mime.js';

const graphemes = new Intl.Segmenter('und', { granularity: 'grapheme' });
const clusters = (s: string) => [...graphemes.segment(s)].map((g) => g.segment);

const FAMILY = '👨‍👩‍👧‍👦';
const CASES: Record<string, string> = {
  'CJK': '任务：审核合同第三版（紧急）'.repeat(4),
  'Japanese and Korean': 'タスクを確認してください。한국어 제목입니다 '.repeat(3),
  'Arabic and Hebrew with numbers': 'مهمة جديدة 2024/12/07 رقم 15 — משימה חדשה 123 עולם '.repeat(2),
  'ZWJ families': `${FAMILY} ${FAMILY}${FAMILY}👩🏽‍💻`.repeat(5),
  'flags and skin tones': '🇷🇺🇨🇳🇮🇱🇸🇦👍🏽👍🏿'.repeat(6),
  'combining marks (NFD)': 'Cafe\u0301 Ё\u0308 n\u0303 a\u0308\u0304 '.repeat(8),
  'Hangul as jamo (NFD)': '한국어 제목'.normalize('NFD').repeat(10),
  'stacked accents longer than a word': `x${'\u0301'.repeat(40)} tail`,
  'astral ideographs': '𠀋𡈽𡌛𡑮𡢽𠮟'.repeat(8),
  'quotes, commas and encoded-word look-alikes': '"Иванов, Иван" =?UTF-8?B?AA==?= <x> (y); z '.repeat(2),
};

/** The encoded words of a header line block, decoded one by one. */
function words(head: string, header: string): string[] {
  const lines = head.split('\r\n');
  const start = lines.findIndex((l) => l.startsWith(`${header}: `));
  const block = [lines[start]!];
  for (let i = start + 1; i < lines.length && /^[ \t]/.test(lines[i]!); i++) block.push(lines[i]!);
  for (const line of block) if (line.includes('=?')) assert.ok(line.length <= 76, `${header} line of ${line.length} characters: ${line}`);
  return [...block.join('').matchAll(/=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('utf8'));
}

describe('headers in other scripts', () => {
  for (const [name, text] of Object.entries(CASES)) {
    it(`${name}: subject and display names read back exactly, no encoded word ending inside a character`, async () => {
      const quoted = `"${text.trim().replace(/["\\]/g, (c) => `\\${c}`)}"`;
      const safe = buildSafeMessage({ to: [`${quoted} <ivan@example.com>`], cc: [], bcc: [], subject: text, text: text, from: `${quoted} <robot@example.com>` });
      const raw = composeMime(safe, 'robot@example.com', '<id@example.com>');
      const head = raw.toString('latin1').slice(0, raw.indexOf('\r\n\r\n'));
      assert.ok(!/[^\x20-\x7e\r\n]/.test(head), 'the header is 7-bit printable');
      for (const header of ['Subject', 'To', 'From']) {
        const decoded = words(head, header);
        const whole = decoded.join('');
        assert.ok(!whole.includes('\ufffd'), `${header}: no word ends inside a UTF-8 sequence`);
        // Each word's clusters, put end to end, are the text's clusters: no cluster is cut between two words, unless
        // one is longer than any word can hold.
        const cut = decoded.flatMap(clusters);
        const long = clusters(whole).filter((g) => Buffer.byteLength(g) > 45);
        if (long.length === 0) assert.deepEqual(cut, clusters(whole), `${header}: a character split between two encoded words`);
      }
      const parsed = await simpleParser(raw);
      assert.equal(parsed.subject, text.trim());
      const to = Array.isArray(parsed.to) ? parsed.to[0]! : parsed.to!;
      assert.deepEqual(to.value.map((v) => [v.name, v.address]), [[text.trim(), 'ivan@example.com']]);
      assert.deepEqual(parsed.from!.value.map((v) => [v.name, v.address]), [[text.trim(), 'robot@example.com']]);
      assert.equal(parsed.text, text);
    });
  }

  it('keeps a ZWJ family, a flag and an accented letter whole where a word would otherwise end in them', () => {
    // Padding moves the end of the first word through every byte of the cluster that follows it.
    for (const cluster of [FAMILY, '🇷🇺', 'e\u0301\u0323', '한'.normalize('NFD'), '👩🏽‍💻']) {
      for (let pad = 0; pad < 30; pad++) {
        const text = `${'ж'.repeat(pad)}${cluster}${cluster}${cluster}`;
        const encoded = encodeHeaderText(text, 'Subject: '.length);
        const decoded = [...encoded.matchAll(/=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('utf8'));
        assert.equal(decoded.join(''), text);
        assert.deepEqual(decoded.flatMap(clusters), clusters(text), `pad ${pad}: ${JSON.stringify(decoded)}`);
      }
    }
  });

  it('leaves out of MAY_JOIN (split by code point, no segmenter) only characters that stand alone as clusters', () => {
    // Every third assigned code point across Unicode that MAY_JOIN leaves out: between two letters, before itself and
    // after a Hangul syllable, it must be a cluster of its own, or a word could end inside a cluster again.
    const segmenter = new Intl.Segmenter('und', { granularity: 'grapheme' });
    const count = (s: string) => [...segmenter.segment(s)].length;
    const joined: string[] = [];
    let checked = 0;
    for (let cp = 0x20; cp <= 0x10ffff; cp += 3) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const ch = String.fromCodePoint(cp);
      if (/\p{Cn}|\p{Co}/u.test(ch) || MAY_JOIN.test(ch)) continue;
      checked++;
      if (count(`a${ch}a`) !== 3 || count(ch + ch) !== 2 || count(`한${ch}`) !== 2) joined.push(`U+${cp.toString(16)}`);
    }
    assert.ok(checked > 40_000, `${checked} code points checked`);
    assert.deepEqual(joined.slice(0, 20), []);
    // And what it takes in is what the segmenter joins: an accent, a ZWJ, a flag's half, a jamo, a prepended mark.
    for (const ch of ['\u0301', '\u200d', '🇷', '\u1161', '\u0600', '\u{111c2}', '\u0e33']) assert.ok(MAY_JOIN.test(ch), JSON.stringify(ch));
  });

  it('splits a text without joining characters as before, by code point', () => {
    for (const text of ['Новая задача: Перезвонить клиенту по договору №1523', '新任务：给客户回电话'.repeat(4), 'משימה חדשה 42 לקוח'.repeat(3)]) {
      const encoded = encodeHeaderText(text, 'Subject: '.length);
      const decoded = [...encoded.matchAll(/=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('utf8'));
      assert.equal(decoded.join(''), text);
      assert.ok(decoded.every((w) => Buffer.byteLength(w) <= 45), JSON.stringify(decoded));
      assert.ok(encoded.split('\r\n').every((line, i) => line.length + (i === 0 ? 'Subject: '.length : 0) <= 76));
    }
  });
});
