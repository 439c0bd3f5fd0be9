// Parts that pull each other in with nothing to stop them (a includes b, b includes a, no `if` or loop around either
// tag) made every letter of the template fail with "Maximum call stack size exceeded", and `validate` passed them.
// nunjucks' message repeats the whole chain at every level: 20 MB for one letter, kept as the job's error. The check
// now finds such a circle at the tag that closes it, and a letter whose parts still recurse without end (behind a
// condition that stays true, or by a name made at render) fails with a short message naming the files.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TemplateRenderError, createTemplateRenderer } from '../../adapters/mail/templates.js';
import { templateFolder as folder } from './template-folder.helper.js';

function renderError(fn: () => unknown): TemplateRenderError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof TemplateRenderError, String(e));
    return e;
  }
  assert.fail('the letter was made');
}

describe('parts that pull each other in', () => {
  it('without a condition: one problem at the tag that closes the circle, naming each step', () => {
    const f = folder({
      'note.text.njk': 'Hi {{ who }}\n{% include "parts/a.njk" %}',
      'parts/a.njk': 'A\n  {% include "parts/b.njk" %}',
      'parts/b.njk': '{% include "./a.njk" %}B',
    });
    try {
      const issues = createTemplateRenderer({ dir: f.dir }).check('note');
      assert.equal(issues.length, 1, JSON.stringify(issues));
      const [issue] = issues;
      assert.equal(issue!.file, join(f.dir, 'parts', 'b.njk'));
      assert.deepEqual([issue!.line, issue!.col], [1, 12]);
      assert.match(issue!.message, /^\{% include "\.\/a\.njk" %\}: the parts pull each other in without end \(/);
      assert.match(issue!.message, /parts\/a\.njk:2:14 includes "parts\/b\.njk", then .*parts\/b\.njk:1:12 includes "\.\/a\.njk"\)/);
      assert.doesNotMatch(issue!.message, /note\.text\.njk:/, 'the circle starts at a.njk, not at the template');
      assert.match(issue!.hint ?? '', /inside an \{% if %\}/);
    } finally {
      f.cleanup();
    }
  });

  it('a template that includes its own file, and an import or extends circle, are found too', () => {
    const f = folder({
      'self.text.njk': 'x {% include "self.text.njk" %}',
      'imp.text.njk': '{% import "parts/m.njk" as m %}{{ m.x() }}',
      'parts/m.njk': '{% from "parts/n.njk" import y %}{% macro x() %}x{% endmacro %}',
      'parts/n.njk': '{% import "parts/m.njk" as m %}{% macro y() %}y{% endmacro %}',
      'ext.text.njk': '{% extends "parts/base.njk" %}',
      'parts/base.njk': '{% extends "../ext.text.njk" %}',
    });
    try {
      const t = createTemplateRenderer({ dir: f.dir });
      const self = t.check('self');
      assert.equal(self.length, 1, JSON.stringify(self));
      assert.match(self[0]!.message, /^\{% include "self\.text\.njk" %\}: .*self\.text\.njk:1:14 includes "self\.text\.njk"\)/);
      const imp = t.check('imp');
      assert.equal(imp.length, 1, JSON.stringify(imp));
      assert.match(imp[0]!.message, /parts\/m\.njk:1:\d+ imports "parts\/n\.njk", then .*parts\/n\.njk:1:\d+ imports "parts\/m\.njk"/);
      const ext = t.check('ext');
      assert.equal(ext.length, 1, JSON.stringify(ext));
      assert.match(ext[0]!.message, /extends "parts\/base\.njk", then .*extends "\.\.\/ext\.text\.njk"/);
    } finally {
      f.cleanup();
    }
  });

  for (const [how, a] of [
    ['an if', '{% if deep %}{% include "parts/b.njk" %}{% endif %}A'],
    ['a loop', '{% for c in children %}{% include "parts/b.njk" %}{% endfor %}A'],
    ['a macro', '{% macro more() %}{% include "parts/b.njk" %}{% endmacro %}A'],
    ['an inline if', '{{ "x" if deep }}{% if deep %}{% include "parts/b.njk" %}{% endif %}A'],
  ] as const) {
    it(`behind ${how}: no problem, it may end`, () => {
      const f = folder({ 'note.text.njk': '{% include "parts/a.njk" %}', 'parts/a.njk': a, 'parts/b.njk': '{% include "parts/a.njk" %}B' });
      try {
        assert.deepEqual(createTemplateRenderer({ dir: f.dir }).check('note'), []);
      } finally {
        f.cleanup();
      }
    });
  }

  it('inside a block of a part that extends nothing and is not extended: found, as the block is rendered in place', () => {
    const f = folder({
      'note.text.njk': 'Hi\n{% include "parts/a.njk" %}',
      'parts/a.njk': '{% block body %}\n  {% include "parts/b.njk" %}\n{% endblock %}A',
      'parts/b.njk': '{% include "parts/a.njk" %}B',
    });
    try {
      const t = createTemplateRenderer({ dir: f.dir });
      const issues = t.check('note');
      assert.equal(issues.length, 1, JSON.stringify(issues));
      assert.equal(issues[0]!.file, join(f.dir, 'parts', 'b.njk'));
      assert.deepEqual([issues[0]!.line, issues[0]!.col], [1, 12]);
      assert.match(issues[0]!.message, /parts\/a\.njk:2:14 includes "parts\/b\.njk", then .*parts\/b\.njk:1:12 includes "parts\/a\.njk"\)/);
      // What the check says is what a letter does: the block is rendered where it stands, again and again.
      assert.match(renderError(() => t.render('note', {})).message, /without end/);
    } finally {
      f.cleanup();
    }
  });

  it('inside a block of a part that is extended: no problem, the template extending it puts its own block there', () => {
    const f = folder({
      'note.text.njk': '{% extends "parts/base.njk" %}{% block body %}done{% endblock %}',
      'parts/base.njk': '<{% block body %}{% include "note.text.njk" %}{% endblock %}>',
    });
    try {
      const t = createTemplateRenderer({ dir: f.dir });
      assert.deepEqual(t.check('note'), []);
      assert.equal(t.render('note', {}).text, '<done>');
    } finally {
      f.cleanup();
    }
  });

  // What the check says of a tag in a block is what a letter does: a circle it finds fails every letter, and one it
  // leaves alone renders.
  const blockCases: Array<[string, Record<string, string>, boolean]> = [
    ['a block inside an if that is false', { 'note.text.njk': '{% include "parts/a.njk" %}', 'parts/a.njk': '{% if deep %}{% block b %}{% include "parts/a.njk" %}{% endblock %}{% endif %}A' }, false],
    ['an if inside a block', { 'note.text.njk': '{% include "parts/a.njk" %}', 'parts/a.njk': '{% block b %}{% if deep %}{% include "parts/a.njk" %}{% endif %}{% endblock %}A' }, false],
    ['nested blocks', { 'note.text.njk': '{% include "parts/a.njk" %}', 'parts/a.njk': '{% block o %}{% block i %}{% include "parts/a.njk" %}{% endblock %}{% endblock %}A' }, true],
    ['a block of an imported macro file', { 'note.text.njk': '{% import "parts/m.njk" as m %}{{ m.x() }}', 'parts/m.njk': '{% macro x() %}x{% endmacro %}{% block b %}{% include "parts/n.njk" %}{% endblock %}', 'parts/n.njk': '{% import "parts/m.njk" as m %}n' }, true],
    ['a block of a macro file imported by from', { 'note.text.njk': '{% from "parts/m.njk" import x %}{{ x() }}', 'parts/m.njk': '{% macro x() %}x{% endmacro %}{% block b %}{% include "parts/m.njk" %}{% endblock %}' }, true],
    ['a part both included and extended, the extending file replacing the block', { 'note.text.njk': '{% include "parts/base.njk" %}', 'parts/base.njk': '[{% block body %}{% include "parts/child.njk" %}{% endblock %}]', 'parts/child.njk': '{% extends "parts/base.njk" %}{% block body %}child{% endblock %}' }, false],
    ['a part included in place by a file that is extended', { 'note.text.njk': '{% extends "parts/base.njk" %}{% block body %}n{% endblock %}', 'parts/base.njk': '<{% block body %}{% endblock %}{% include "parts/p.njk" %}>', 'parts/p.njk': '{% block q %}{% include "parts/p.njk" %}{% endblock %}' }, true],
  ];
  for (const [what, files, endless] of blockCases) {
    it(`a tag in a block: ${what}: ${endless ? 'found, and the letter fails' : 'left alone, and the letter is made'}`, () => {
      const f = folder(files);
      try {
        const t = createTemplateRenderer({ dir: f.dir });
        const issues = t.check('note');
        if (endless) {
          assert.equal(issues.length, 1, JSON.stringify(issues));
          assert.match(issues[0]!.message, /the parts pull each other in without end/);
          assert.match(renderError(() => t.render('note', { deep: false })).message, /without end/);
        } else {
          assert.deepEqual(issues, []);
          assert.ok(t.render('note', { deep: false }).text);
        }
      } finally {
        f.cleanup();
      }
    });
  }

  it('recursing without end when the letter is made: a short error naming the files, not megabytes', () => {
    const f = folder({
      'note.text.njk': 'Hi\n{% include "parts/a.njk" %}',
      'parts/a.njk': '{% if deep %}{% include "parts/b.njk" %}{% endif %}A',
      'parts/b.njk': '{% include "parts/a.njk" %}B',
      'dyn.text.njk': '{% include "parts/" + which %}',
    });
    try {
      const t = createTemplateRenderer({ dir: f.dir });
      assert.deepEqual(t.check('note'), []);
      assert.equal(t.render('note', { deep: false }).text, 'Hi\nA');
      const err = renderError(() => t.render('note', { deep: true }));
      assert.ok(err.message.length < 600, `${err.message.length} characters: ${err.message.slice(0, 300)}`);
      assert.match(err.message, /pull each other in without end, until the call stack ran out \(note\.text\.njk → parts\/a\.njk → parts\/b\.njk → …\)/);
      assert.equal(err.template, 'note');
      assert.notEqual(err.transient, true, 'not retryable: the next attempt would recurse again');
      const dyn = renderError(() => t.render('dyn', { which: 'a.njk', deep: true }));
      assert.ok(dyn.message.length < 600, `${dyn.message.length} characters`);
      assert.match(dyn.message, /without end/);
    } finally {
      f.cleanup();
    }
  });
});
