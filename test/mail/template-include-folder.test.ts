// An include must stay in the templates folder. The check and the loader tested "under the folder" as a prefix of the
// path, so "../templates-old/x.njk" from a folder named templates passed as under it (/…/templates-old starts with
// /…/templates): a file of a sibling folder was read by validate, the server's load and the letter.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TemplateRenderError, createTemplateRenderer } from '../../adapters/mail/templates.js';
import { tempDir } from '../helpers.js';

describe('an include naming a folder beside the templates folder whose name starts the same', () => {
  it('is refused as leading out of the folder, by the check and by a render, and the file is not read', () => {
    const tmp = tempDir();
    try {
      const dir = join(tmp.dir, 'templates');
      mkdirSync(dir);
      mkdirSync(join(tmp.dir, 'templates-old'));
      writeFileSync(join(tmp.dir, 'templates-old', 'x.njk'), 'OUTSIDE {{ v | nosuchfilter }}');
      writeFileSync(join(dir, 'note.text.njk'), 'Hi {% include "../templates-old/x.njk" %}');
      // A cycle of parts (a includes b includes a) is checked without end: each file once.
      mkdirSync(join(dir, 'parts'));
      writeFileSync(join(dir, 'parts', 'a.njk'), '{% if deep %}{% include "parts/b.njk" %}{% endif %}A');
      writeFileSync(join(dir, 'parts', 'b.njk'), '{% include "./a.njk" %}B');
      writeFileSync(join(dir, 'loop.text.njk'), '{% include "parts/a.njk" %}');
      const t = createTemplateRenderer({ dir });
      const issues = t.check('note');
      assert.equal(issues.length, 1, JSON.stringify(issues));
      assert.deepEqual([issues[0]!.line, issues[0]!.col], [1, 15]);
      assert.match(issues[0]!.message, /^\{% include "\.\.\/templates-old\/x\.njk" %\}: there is no such file in the templates folder .*\(the name leads out of it\)$/);
      assert.doesNotMatch(issues[0]!.message, /nosuchfilter/);
      let err: unknown;
      try {
        const letter = t.render('note', { v: 1 });
        assert.fail(`rendered: ${JSON.stringify(letter)}`);
      } catch (e) {
        err = e;
      }
      assert.ok(err instanceof TemplateRenderError, String(err));
      assert.doesNotMatch(err.message, /nosuchfilter|OUTSIDE/);
      assert.match(err.message, /template not found/);
      assert.deepEqual(t.check('loop'), []);
      assert.equal(t.render('loop', { deep: false }).text, 'A');
    } finally {
      tmp.cleanup();
    }
  });
});
