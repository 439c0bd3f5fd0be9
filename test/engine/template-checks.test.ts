// Mail templates are checked when scenarios load: a missing template, a syntax error, or a variable the scenario
// does not declare is reported at its file, line and column.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createTemplateRenderer } from '../../adapters/mail/templates.js';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioLibrary } from '../../engine/index.js';
import { tempDir } from '../helpers.js';

const scenario = (template: string) => `variables: { to: string, name: string }
start: send
blocks:
  send:
    kind: SendMail
    to: '[to]'
    template: ${template}
`;

describe('template checks at load time', () => {
  const load = async (files: Record<string, string>, template: string) => {
    const tmp = tempDir();
    try {
      mkdirSync(join(tmp.dir, 'templates'));
      for (const [name, text] of Object.entries(files)) writeFileSync(join(tmp.dir, 'templates', name), text);
      writeFileSync(join(tmp.dir, 'Mail.yaml'), scenario(template));
      return await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry, templates: createTemplateRenderer({ dir: join(tmp.dir, 'templates') }), displayBase: tmp.dir });
    } finally {
      tmp.cleanup();
    }
  };
  it('a variable the scenario does not declare is E_UNKNOWN_TEMPLATE_VARIABLE at the template line', async () => {
    const lib = await load({ 'hello.subject.njk': 'Привет', 'hello.text.njk': 'Здравствуйте, {{ name }}!\nЗадача: {{ taskName }}\n' }, 'hello');
    assert.equal(lib.issues.length, 1);
    const i = lib.issues[0]!;
    assert.equal(i.code, 'E_UNKNOWN_TEMPLATE_VARIABLE');
    assert.match(i.file, /hello\.text\.njk$/);
    assert.equal(i.line, 2);
    assert.match(i.message, /taskName/);
  });
  it('a missing template is E_INVALID_TEMPLATE at the template property', async () => {
    const lib = await load({}, 'nothere');
    assert.equal(lib.issues[0]!.code, 'E_INVALID_TEMPLATE');
    assert.equal(lib.issues[0]!.line, 7);
  });
  it('a template syntax error is E_INVALID_TEMPLATE with its line', async () => {
    const lib = await load({ 'bad.text.njk': 'line one\n{% if name %}unclosed\n' }, 'bad');
    assert.equal(lib.issues[0]!.code, 'E_INVALID_TEMPLATE');
    assert.match(lib.issues[0]!.file, /bad\.text\.njk$/);
  });
  it('a misspelt template name suggests the existing one', async () => {
    const lib = await load({ 'hello.html.njk': '<p>Привет</p>' }, 'helo');
    assert.deepEqual(
      lib.issues.map((i) => [i.code, i.line, i.message, i.hint]),
      [['E_INVALID_TEMPLATE', 7, 'mail template "helo" not found', 'did you mean "hello"?']],
    );
  });
  it('a template with only a subject file is one problem at the template property, not at a file that does not exist', async () => {
    const lib = await load({ 'subj-only.subject.njk': 'Тема' }, 'subj-only');
    assert.deepEqual(
      lib.issues.map((i) => [i.file, i.line, i.col, i.message]),
      [['Mail.yaml', 7, 15, 'template "subj-only" needs subj-only.text.njk or subj-only.html.njk']],
    );
  });
  it('a template name that is not valid is reported at the template property', async () => {
    const lib = await load({}, "'a/b'");
    assert.deepEqual(lib.issues.map((i) => [i.file, i.line]), [['Mail.yaml', 7]]);
  });
  it('a block tag left open gets a hint naming its end tag', async () => {
    const cases: Array<[string, string]> = [
      ['Привет\n{% if note %}\n{{ note }}\n', 'close {% if %} with {% endif %}'],
      ['{% for x in [1, 2] %}{{ x }}\n', 'close {% for %} with {% endfor %}'],
      ['{% block body %}x\n', 'close {% block %} with {% endblock %}'],
      ['{% macro m() %}x\n', 'close {% macro %} with {% endmacro %}'],
      ['{% if name %}\n{% for x in [1] %}{{ x }}\n{% endif %}\n', '{% for %} at line 2 is still open here: close it with {% endfor %} before {% endif %}'],
      ['x {% endif %}\n', '{% endif %} closes nothing: remove it, or open its block before it'],
    ];
    for (const [text, hint] of cases) {
      const lib = await load({ 'open.text.njk': text }, 'open');
      assert.deepEqual(lib.issues.map((i) => [i.code, i.hint]), [['E_INVALID_TEMPLATE', hint]], text);
    }
  });
});
