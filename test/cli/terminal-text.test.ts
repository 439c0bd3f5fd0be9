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
