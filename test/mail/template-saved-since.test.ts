// A template saved after the folder was first listed, before the next reload, is found by a render: parts are looked
// up in a listing of the folder (to find NOTE.TEXT.NJK as note.text.njk), and a listing read earlier left a new
// template "not found" until a reload (the hot-reload test met it: its render came before the watcher's reload).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createTemplateRenderer } from '../../adapters/mail/templates.js';
import { tempDir } from '../helpers.js';

describe('a template saved since the folder was listed', () => {
  it('is found by a render before any reload, in either case of its extension', () => {
    const tmp = tempDir();
    try {
      writeFileSync(join(tmp.dir, 'first.text.njk'), 'first {{ v }}');
      const t = createTemplateRenderer({ dir: tmp.dir });
      assert.equal(t.render('first', { v: 1 }).text, 'first 1');
      writeFileSync(join(tmp.dir, 'later.text.njk'), 'later {{ v }}');
      assert.equal(t.render('later', { v: 2 }).text, 'later 2');
      writeFileSync(join(tmp.dir, 'LOUD.TEXT.NJK'), 'loud {{ v }}');
      assert.equal(t.render('LOUD', { v: 3 }).text, 'loud 3');
      assert.equal(t.has('later'), true);
    } finally {
      tmp.cleanup();
    }
  });
});
