// `{{ super() }}` in a block of a template that extends another renders that template's block. The variable list is
// read from the parsed (not transformed) tree, where the call is a function named `super`: every letter of such a
// template failed with 'variable "super" is not defined (the scenario has no such variable)' while check passed it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TemplateRenderError, createTemplateRenderer } from '../../adapters/mail/templates.js';
import { templateFolder as folder } from './template-folder.helper.js';

describe('super() in a block', () => {
  it('renders the extended block, and is not a scenario variable', () => {
    const f = folder({
      'note.text.njk': '{% extends "parts/base.njk" %}{% block body %}({{ super() }} {{ who }}){% endblock %}',
      'parts/base.njk': '<{% block body %}base{% endblock %}>',
    });
    try {
      const t = createTemplateRenderer({ dir: f.dir });
      assert.deepEqual(t.check('note'), []);
      assert.deepEqual(t.variablesOf('note').map((v) => v.name), ['who']);
      assert.equal(t.render('note', { who: 'Ann' }).text, '<(base Ann)>');
    } finally {
      f.cleanup();
    }
  });

  it('outside a block, super is still a variable the scenario must have', () => {
    const f = folder({ 'note.text.njk': '{% block body %}b{% endblock %}{{ super }}' });
    try {
      const t = createTemplateRenderer({ dir: f.dir });
      assert.deepEqual(t.variablesOf('note').map((v) => [v.name, v.line, v.col]), [['super', 1, 35]]);
      assert.throws(() => t.render('note', {}), (e) => e instanceof TemplateRenderError && /variable "super" is not defined/.test(e.message));
    } finally {
      f.cleanup();
    }
  });
});
