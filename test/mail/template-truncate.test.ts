// A letter template's truncate cuts before an emoji, never between the two halves of its surrogate pair (nunjucks'
// own did, and the letter showed U+FFFD); marked-safe HTML stays safe. Real template files in a temporary folder.
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
});
