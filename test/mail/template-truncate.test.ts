// A letter template's truncate cuts before an emoji or a character of several code points, never inside it (nunjucks'
// own did, and the letter showed U+FFFD or a broken family); marked-safe HTML stays safe. Real template files in a temporary folder.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createTemplateRenderer } from '../../adapters/mail/templates.js';

describe('truncate in a letter template', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oktell-truncate-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'короткая.subject.njk'), '{{ название | truncate(7, true, "…") }}');
  writeFileSync(join(dir, 'короткая.text.njk'), '{{ название | truncate(7) }}|{{ название | truncate(100) }}');
  writeFileSync(join(dir, 'короткая.html.njk'), '{{ "<b>Ёж</b> 😀😀 и так далее" | safe | truncate(13, true) }}');
  const t = createTemplateRenderer({ dir });

  it('keeps the emoji whole or leaves it out', () => {
    const out = t.render('короткая', { название: 'Задача😀😀 про ежа' });
    assert.equal(out.subject, 'Задача…');
    assert.equal(out.text, 'Задача...|Задача😀😀 про ежа');
    assert.equal(out.html, '<b>Ёж</b> 😀...');
  });

  it('a text with only spaces before its first space-free stretch is cut at the length, not to nothing', () => {
    const d = mkdtempSync(join(tmpdir(), 'oktell-truncate-s-'));
    try {
      writeFileSync(join(d, 's.subject.njk'), '{{ t | truncate(5) }}|{{ u | truncate(5) }}');
      writeFileSync(join(d, 's.text.njk'), '-');
      // nunjucks' own cut both at the leading space: '...|...'. A space after a word is still where it cuts.
      assert.equal(createTemplateRenderer({ dir: d }).render('s', { t: ' Длинноеслово', u: 'ab cdefgh' }).subject, 'Длин...|ab...'); // (a subject's own spaces around are trimmed)
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  // Each cut falls inside a character made of several code points: it is kept whole or left out, never split (nunjucks'
  // own, and this filter before, left a lone family member, a lone regional letter or an unaccented e).
  for (const [what, text, length, want] of [
    ['an emoji family joined by ZWJ', 'ab👨‍👩‍👧cd', 5, 'ab…'],
    ['a flag', 'ab🇷🇺cd', 4, 'ab…'],
    ['a keycap', 'ab1️⃣cd', 3, 'ab…'],
    ['a letter with a combining accent', 'cafe\u0301s', 4, 'caf…'],
    ['the cut after the whole character', 'ab👨‍👩‍👧cd', 10, 'ab👨‍👩‍👧…'],
  ] as const) {
    it(`keeps ${what} whole`, () => {
      const d = mkdtempSync(join(tmpdir(), 'oktell-truncate-g-'));
      try {
        writeFileSync(join(d, 'g.subject.njk'), `{{ t | truncate(${length}, true, "…") }}`);
        writeFileSync(join(d, 'g.text.njk'), '-');
        assert.equal(createTemplateRenderer({ dir: d }).render('g', { t: text }).subject, want);
      } finally {
        rmSync(d, { recursive: true, force: true });
      }
    });
  }
});

describe('reverse in a letter template, and truncate of what is not text', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oktell-reverse-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'наоборот.subject.njk'), '{{ название | reverse }}');
  writeFileSync(join(dir, 'наоборот.text.njk'), '{{ название | reverse }}|{{ семья | reverse }}|{{ флаг | truncate(3) }}|{{ число | truncate(3) }}|{{ пусто | truncate(3) }}');
  writeFileSync(join(dir, 'наоборот.html.njk'), '{{ "<i>😀ё</i>" | safe | reverse }} {{ "Ёж😀" | reverse }}');
  const t = createTemplateRenderer({ dir });

  it('reverses text by whole characters and prints false and null as nothing, as nunjucks does', () => {
    const out = t.render('наоборот', { название: 'Задача 🚀 «Ёж»', семья: 'a👨‍👩‍👧🇷🇺e\u0301', флаг: false, число: 12345, пусто: null });
    assert.equal(out.subject, '»жЁ« 🚀 ачадаЗ');
    assert.equal(out.text, '»жЁ« 🚀 ачадаЗ|e\u0301🇷🇺👨‍👩‍👧a||123...|');
    assert.equal(out.html, '>i/<ё😀>i< 😀жЁ');
    assert.ok(!/\uFFFD/.test(`${out.subject}${out.text}${out.html}`));
  });
});
