// `validate` of a folder whose templates share parts compiled and checked every part again for each template that
// reached it: 40 templates over a chain of 60 parts of 200 lines took a minute. Each file's own problems (what nunjucks
// refuses to compile, unknown filters, forbidden lookups) are now worked out once until the folder changes; what
// depends on the way a part is reached (the tag that pulls it in, a circle of parts) is still said for each template,
// exactly as before.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { createTemplateRenderer, templateFilesCompiledCount, type TemplateIssue } from '../../adapters/mail/templates.js';
import { templateFolder as folder } from './template-folder.helper.js';

/** `file:line:col message | hint`, the folder's path left out, as the problems of one template are compared. */
const shown = (dir: string, issues: TemplateIssue[]): string[] =>
  issues.map((i) => `${i.file ? relative(dir, i.file) : '-'}:${i.line}:${i.col} ${i.message}${i.hint ? ` | ${i.hint}` : ''}`.split(`${dir}/`).join('').split(dir).join('<dir>'));

/** Shared parts with problems of their own, a part reached by two ways, a missing part, a circle. */
const FILES = {
  'parts/shared.njk': 'S {{ who | uppr }}\n{% include "parts/deep.njk" %}\n',
  'parts/deep.njk': 'D {{ x.constructor }}\n{% include "parts/bad.njk" %}\n{% include "parts/gone.njk" %}\n',
  'parts/bad.njk': 'B {% if who %}\n',
  'parts/c.njk': '{% include "parts/d.njk" %}',
  'parts/d.njk': '{% include "./c.njk" %}{% include "parts/shared.njk" %}',
  'one.text.njk': 'Hi {{ who }}\n{% include "parts/shared.njk" %}\n',
  'two.text.njk': '{% include "parts/c.njk" %}\n{% include "parts/deep.njk" %}\n',
  'two.html.njk': '<p>{% include "parts/shared.njk" %}</p>\n',
  'three.subject.njk': '{{ who | nope }} {% include "parts/d.njk" %}\n',
  'three.text.njk': '{% include "parts/shared.njk" %}',
};

/** What check said of FILES before each file's problems were kept (taken from the code before this change). */
const EXPECTED: Record<string, string[]> = {
  one: [
    'one.text.njk:2:12 {% include "parts/shared.njk" %}: parts/shared.njk:1:12: unknown filter "uppr" (did you mean "upper"?)',
    'parts/shared.njk:2:12 {% include "parts/deep.njk" %}: parts/deep.njk:1:8: property "constructor" may not be read in a mail template',
    'parts/deep.njk:2:12 {% include "parts/bad.njk" %}: parts/bad.njk:1:3: template syntax error: parseIf: expected elif, else, or endif, got end of file | close {% if %} with {% endif %}',
    'parts/deep.njk:3:12 {% include "parts/gone.njk" %}: there is no such file in the templates folder <dir> | create parts/gone.njk, or write the name of a part that is there (relative to the templates folder, or to this file\'s folder when it starts with ./)',
  ],
  two: [
    'parts/d.njk:1:35 {% include "parts/shared.njk" %}: parts/shared.njk:1:12: unknown filter "uppr" (did you mean "upper"?)',
    'parts/shared.njk:2:12 {% include "parts/deep.njk" %}: parts/deep.njk:1:8: property "constructor" may not be read in a mail template',
    'parts/deep.njk:2:12 {% include "parts/bad.njk" %}: parts/bad.njk:1:3: template syntax error: parseIf: expected elif, else, or endif, got end of file | close {% if %} with {% endif %}',
    'parts/deep.njk:3:12 {% include "parts/gone.njk" %}: there is no such file in the templates folder <dir> | create parts/gone.njk, or write the name of a part that is there (relative to the templates folder, or to this file\'s folder when it starts with ./)',
    'parts/d.njk:1:12 {% include "./c.njk" %}: the parts pull each other in without end (parts/c.njk:1:12 includes "parts/d.njk", then parts/d.njk:1:12 includes "./c.njk"); every letter of this template would fail | put one of these tags inside an {% if %} that becomes false, or take it out',
    'two.html.njk:1:15 {% include "parts/shared.njk" %}: parts/shared.njk:1:12: unknown filter "uppr" (did you mean "upper"?)',
    'parts/shared.njk:2:12 {% include "parts/deep.njk" %}: parts/deep.njk:1:8: property "constructor" may not be read in a mail template',
    'parts/deep.njk:2:12 {% include "parts/bad.njk" %}: parts/bad.njk:1:3: template syntax error: parseIf: expected elif, else, or endif, got end of file | close {% if %} with {% endif %}',
    'parts/deep.njk:3:12 {% include "parts/gone.njk" %}: there is no such file in the templates folder <dir> | create parts/gone.njk, or write the name of a part that is there (relative to the templates folder, or to this file\'s folder when it starts with ./)',
  ],
  three: [
    'three.subject.njk:1:10 unknown filter "nope" (neither a nunjucks built-in filter nor one of ours: nl2br, safeUrl)',
    'parts/d.njk:1:35 {% include "parts/shared.njk" %}: parts/shared.njk:1:12: unknown filter "uppr" (did you mean "upper"?)',
    'parts/shared.njk:2:12 {% include "parts/deep.njk" %}: parts/deep.njk:1:8: property "constructor" may not be read in a mail template',
    'parts/deep.njk:2:12 {% include "parts/bad.njk" %}: parts/bad.njk:1:3: template syntax error: parseIf: expected elif, else, or endif, got end of file | close {% if %} with {% endif %}',
    'parts/deep.njk:3:12 {% include "parts/gone.njk" %}: there is no such file in the templates folder <dir> | create parts/gone.njk, or write the name of a part that is there (relative to the templates folder, or to this file\'s folder when it starts with ./)',
    'parts/c.njk:1:12 {% include "parts/d.njk" %}: the parts pull each other in without end (parts/d.njk:1:12 includes "./c.njk", then parts/c.njk:1:12 includes "parts/d.njk"); every letter of this template would fail | put one of these tags inside an {% if %} that becomes false, or take it out',
    'three.text.njk:1:12 {% include "parts/shared.njk" %}: parts/shared.njk:1:12: unknown filter "uppr" (did you mean "upper"?)',
    'parts/shared.njk:2:12 {% include "parts/deep.njk" %}: parts/deep.njk:1:8: property "constructor" may not be read in a mail template',
    'parts/deep.njk:2:12 {% include "parts/bad.njk" %}: parts/bad.njk:1:3: template syntax error: parseIf: expected elif, else, or endif, got end of file | close {% if %} with {% endif %}',
    'parts/deep.njk:3:12 {% include "parts/gone.njk" %}: there is no such file in the templates folder <dir> | create parts/gone.njk, or write the name of a part that is there (relative to the templates folder, or to this file\'s folder when it starts with ./)',
  ],
};

describe('check works out each file once', () => {
  it('says the same problems, at the same places, of templates sharing parts with problems and circles', () => {
    const f = folder(FILES);
    try {
      const t = createTemplateRenderer({ dir: f.dir });
      for (const name of ['one', 'two', 'three']) assert.deepEqual(shown(f.dir, t.check(name)), EXPECTED[name], name);
      // In another order (parts first reached from another template) and by a renderer of its own: the same.
      const again = createTemplateRenderer({ dir: f.dir });
      for (const name of ['three', 'two', 'one']) assert.deepEqual(shown(f.dir, again.check(name)), EXPECTED[name], name);
    } finally {
      f.cleanup();
    }
  });

  it('compiles each file once for text and once for HTML, however many templates include it', () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 5; i++) files[`parts/p${i}.njk`] = `part ${i} {{ who | upper }}\n${i < 4 ? `{% include "parts/p${i + 1}.njk" %}\n` : ''}`;
    for (let i = 0; i < 10; i++) {
      files[`t${i}.text.njk`] = `Hi {{ who }}\n{% include "parts/p0.njk" %}\n`;
      files[`t${i}.html.njk`] = `<p>{{ who }}</p>{% include "parts/p0.njk" %}\n`;
    }
    const f = folder(files);
    try {
      const t = createTemplateRenderer({ dir: f.dir });
      t.reload(); // as the server's first load does: the folder's files are known from here on
      const before = templateFilesCompiledCount();
      for (let i = 0; i < 10; i++) assert.deepEqual(t.check(`t${i}`), []);
      // 20 template files, and the 5 parts once in each environment (it was 20 + 10 × 2 × 5 = 120).
      assert.equal(templateFilesCompiledCount() - before, 20 + 5 * 2);
      // A reload that finds nothing changed compiles nothing again.
      t.reload();
      const kept = templateFilesCompiledCount();
      for (let i = 0; i < 10; i++) assert.deepEqual(t.check(`t${i}`), []);
      assert.equal(templateFilesCompiledCount(), kept);
    } finally {
      f.cleanup();
    }
  });

  it('forgets what it knew of a part when a reload finds it edited', () => {
    const f = folder(FILES);
    try {
      const t = createTemplateRenderer({ dir: f.dir });
      t.reload();
      assert.deepEqual(shown(f.dir, t.check('one')), EXPECTED.one);
      // deep.njk was checked for "one"; "two" reaches it too, and is checked only after the edit and the reload.
      writeFileSync(join(f.dir, 'parts/deep.njk'), 'D\n{{ who | lowr }}\n');
      t.reload();
      assert.deepEqual(shown(f.dir, t.check('one')), [
        'one.text.njk:2:12 {% include "parts/shared.njk" %}: parts/shared.njk:1:12: unknown filter "uppr" (did you mean "upper"?)',
        'parts/shared.njk:2:12 {% include "parts/deep.njk" %}: parts/deep.njk:2:10: unknown filter "lowr" (did you mean "lower"?)',
      ]);
      assert.deepEqual(shown(f.dir, t.check('two')).filter((s) => s.includes('deep.njk')), [
        // from two.text.njk by c, d and shared (its own include of deep.njk is then not followed again, as before)
        'parts/shared.njk:2:12 {% include "parts/deep.njk" %}: parts/deep.njk:2:10: unknown filter "lowr" (did you mean "lower"?)',
        // from two.html.njk by shared
        'parts/shared.njk:2:12 {% include "parts/deep.njk" %}: parts/deep.njk:2:10: unknown filter "lowr" (did you mean "lower"?)',
      ]);
    } finally {
      f.cleanup();
    }
  });
});
