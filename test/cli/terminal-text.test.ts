// terminalText: what the CLI prints of webhook data cannot drive the terminal nor reorder the line it is on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { terminalText } from '../../cli/format.js';

describe('terminalText', () => {
  const cases: Array<[string, string, string]> = [
    ['an escape sequence', 'a\u001b[2Jb', 'a\\u001b[2Jb'],
    ['a right-to-left override, which shows the rest of the line reversed', 'invoice\u202Efdp.exe', 'invoice\\u202efdp.exe'],
    ['the bidirectional isolates', '\u2066x\u2067y\u2068z\u2069', '\\u2066x\\u2067y\\u2068z\\u2069'],
    ['the embeddings and pops', '\u202Aa\u202Bb\u202Cc\u202D', '\\u202aa\\u202bb\\u202cc\\u202d'],
    ['the Unicode line and paragraph separators', 'one\u2028two\u2029three', 'one\\u2028two\\u2029three'],
    ['Cyrillic, emoji and a tab, unchanged', 'Новая задача 🎉\tготово', 'Новая задача 🎉\tготово'],
    ['a line break, on one line', 'a\r\nb', 'a\\nb'],
  ];
  for (const [what, text, want] of cases) {
    it(what, () => assert.equal(terminalText(text), want));
  }
});

describe('terminalText over long and mixed text (escaped in one pass, not a callback per character)', () => {
  /** The rule written out character by character: what terminalText must print, whatever way it does it. */
  const escapedOne = (c: string): string => {
    const code = c.charCodeAt(0);
    const bidi = code === 0x061c || code === 0x200e || code === 0x200f || (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069);
    const control = (code <= 0x1f && code !== 0x09 && code !== 0x0a) || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029;
    return bidi || control ? `\\u${code.toString(16).padStart(4, '0')}` : c;
  };
  const byRule = (text: string): string => [...text].map((c) => (c.length === 1 ? escapedOne(c) : c)).join('');

  it('every UTF-16 code unit but the line breaks (lone surrogates too), between letters (none, Latin-1, Cyrillic, an emoji)', () => {
    const all = Array.from({ length: 0x10000 }, (_, code) => String.fromCharCode(code)).filter((c) => c !== '\n' && c !== '\r');
    for (const around of ['', 'a', 'я', '🎉']) {
      const text = all.map((c) => `${around}${c}`).join('');
      assert.equal(terminalText(text), byRule(text), `around ${JSON.stringify(around)}`);
    }
  });

  it('ten million characters that all need escaping, and half of them so', () => {
    const controls = ['\u001b', '\u0007', '\u0085', '\u202e', '\u200f', '\u2028', '\u007f', '\u0000'];
    const escapes = controls.map(escapedOne);
    const n = 10 * 1024 * 1024;
    assert.equal(terminalText(controls.join('').repeat(n / 8)), escapes.join('').repeat(n / 8));
    assert.equal(terminalText(controls.map((c) => `ж${c}`).join('').repeat(n / 16), true), escapes.map((e) => `ж${e}`).join('').repeat(n / 16));
  });

  it('line breaks: written as \\n on one line, kept with keepLines (CR LF as LF), a lone CR escaped', () => {
    assert.equal(terminalText('a\r\nb\n\u001bc\rd'), 'a\\nb\\n\\u001bc\\u000dd');
    assert.equal(terminalText('a\r\nb\n\u001bc\rd', true), 'a\nb\n\\u001bc\\u000dd');
    assert.equal(terminalText('plain text, nothing to escape'), 'plain text, nothing to escape');
  });
});
