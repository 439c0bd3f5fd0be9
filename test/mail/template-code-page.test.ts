// A mail template's included part (templates/parts/…) saved in windows-1251: nunjucks reads it itself at render, not
// through the checked load of the template's own files, so its Cyrillic reached the letter as U+FFFD with nothing said.
// Now check (validate, the server's load) refuses it at the include tag, and a render refuses it too.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TemplateRenderError, createTemplateRenderer } from '../../adapters/mail/templates.js';
import { tempDir } from '../helpers.js';

/** `text` as the bytes of windows-1251 (Cyrillic letters only). */
const cp1251 = (text: string) => Buffer.from([...text].map((c) => (c >= 'А' && c <= 'я' ? c.charCodeAt(0) - 0x410 + 0xc0 : c.charCodeAt(0))));

describe('an included template part saved in windows-1251', () => {
  it('is refused at its first byte that is not UTF-8, naming the part, not rendered as U+FFFD', () => {
    const tmp = tempDir();
    try {
      mkdirSync(join(tmp.dir, 'parts'));
      writeFileSync(join(tmp.dir, 'note.text.njk'), 'Здравствуйте, {{ name }}\r\n{% include "parts/sig.njk" %}\r\n');
      writeFileSync(join(tmp.dir, 'parts', 'sig.njk'), Buffer.concat([Buffer.from('--\r\nOK '), cp1251('Подпись'), Buffer.from('\r\n')]));
      const t = createTemplateRenderer({ dir: tmp.dir });
      // Checked at load, at the include tag, with the part's own place; and refused again if a letter is made all the same.
      const issues = t.check('note');
      assert.deepEqual(issues.map((i) => [i.file, i.line, i.col]), [[join(tmp.dir, 'note.text.njk'), 2, 12]]);
      assert.match(issues[0]!.message, /^\{% include "parts\/sig\.njk" %\}: .*sig\.njk:2:4: the file is not UTF-8: the byte 0xCF at line 2, column 4/);
      let err: unknown;
      try {
        const letter = t.render('note', { name: 'Иван' });
        assert.fail(`rendered: ${JSON.stringify(letter)}`);
      } catch (e) {
        err = e;
      }
      assert.ok(err instanceof TemplateRenderError, String(err));
      assert.match(err.message, /sig\.njk:2:4: the file is not UTF-8: the byte 0xCF at line 2, column 4/);
      assert.match(err.message, /windows-1251/);
      // Saved again as UTF-8, it renders, with LF line ends (the include's CR LF too).
      writeFileSync(join(tmp.dir, 'parts', 'sig.njk'), '--\r\nOK Подпись\r\n');
      t.reload();
      assert.equal(t.render('note', { name: 'Иван' }).text, 'Здравствуйте, Иван\n--\nOK Подпись\n');
    } finally {
      tmp.cleanup();
    }
  });
});
