// Nunjucks mail templates: the article's letter, escaping, data never compiled, missing variables, load-time checks.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import nunjucks from 'nunjucks';
import { TemplateRenderError, createTemplateRenderer, templateFilesParsedCount } from '../../adapters/mail/templates.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const articleTemplates = join(root, 'scenarios', 'templates');

const sample = {
  taskName: 'Позвонить клиенту',
  taskDescription: 'Уточнить адрес доставки.\nПеред звонком <script>alert("x")</script> проверить {{ 7*7 }} & оплату.',
  taskRecordId: 42,
  recordUrl: 'https://example.bpium.ru/catalogs/12/records/42',
  userName: 'Иван Петров',
};

function renderError(fn: () => unknown): TemplateRenderError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof TemplateRenderError, `expected TemplateRenderError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a render error');
}

describe('the article letter bpium-new-task', () => {
  const t = createTemplateRenderer({ dir: articleTemplates });

  it('renders a subject, a text and an HTML part from the task values', () => {
    const out = t.render('bpium-new-task', sample);
    assert.equal(out.subject, 'Новая задача: Позвонить клиенту');
    assert.match(out.text!, /^Здравствуйте, Иван Петров!/);
    assert.match(out.text!, /Задача: Позвонить клиенту/);
    assert.match(out.text!, /Номер записи: 42/);
    assert.match(out.text!, /Открыть задачу: https:\/\/example\.bpium\.ru\/catalogs\/12\/records\/42/);
    assert.match(out.html!, /<a href="https:\/\/example\.bpium\.ru\/catalogs\/12\/records\/42"/);
  });

  it('escapes the description in HTML and keeps its line breaks as <br>', () => {
    const html = t.render('bpium-new-task', sample).html!;
    assert.ok(!html.includes('<script>'), 'no live script tag');
    assert.match(html, /&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;/);
    assert.match(html, /Уточнить адрес доставки\.<br>\nПеред звонком/);
    assert.match(html, /&amp; оплату/);
  });

  it('leaves text and subject unescaped', () => {
    const out = t.render('bpium-new-task', { ...sample, taskName: 'A & B <срочно>' });
    assert.equal(out.subject, 'Новая задача: A & B <срочно>');
    assert.match(out.text!, /<script>alert\("x"\)<\/script>/);
  });

  it('prints template syntax found in the data literally: data is never compiled', () => {
    const out = t.render('bpium-new-task', { ...sample, taskName: '{{ 7*7 }} {% if true %}x{% endif %}' });
    assert.equal(out.subject, 'Новая задача: {{ 7*7 }} {% if true %}x{% endif %}');
    assert.match(out.text!, /проверить \{\{ 7\*7 \}\}/);
    assert.ok(!out.text!.includes('49'));
  });

  it('leaves out the link and the description when they are empty, and greets without a name', () => {
    const out = t.render('bpium-new-task', { ...sample, recordUrl: '', taskDescription: '', userName: '' });
    assert.ok(!out.html!.includes('<a '));
    assert.ok(!out.text!.includes('Открыть задачу'));
    assert.ok(!out.text!.includes('Описание'));
    assert.match(out.text!, /^Здравствуйте!/);
  });

  it('refuses a javascript: link instead of putting it into href', () => {
    const out = t.render('bpium-new-task', { ...sample, recordUrl: 'javascript:alert(1)' });
    assert.ok(!out.html!.includes('javascript:'));
    assert.ok(!out.text!.includes('javascript:'));
  });

  it('keeps the subject on one line even when the task name has line breaks', () => {
    assert.equal(t.render('bpium-new-task', { ...sample, taskName: 'Строка 1\r\nBcc: x@evil.example' }).subject, 'Новая задача: Строка 1 Bcc: x@evil.example');
  });

  it('cuts a task name longer than a subject may be at a word, so the letter still goes (Bpium text fields have no limit)', () => {
    const taskName = 'Очень длинное название задачи '.repeat(200).trim();
    const { subject = '', text } = t.render('bpium-new-task', { ...sample, taskName });
    assert.ok(subject.length <= 220, `subject of ${subject.length} characters`);
    assert.match(subject, /^Новая задача: Очень длинное название задачи .* [^ ]+\.\.\.$/);
    assert.ok(text!.includes(taskName), 'the body keeps the whole name');
  });

  it('reports the five context variables it uses, with lines, and no check issues', () => {
    const names = new Set(t.variablesOf('bpium-new-task').map((v) => v.name));
    assert.deepEqual([...names].sort(), ['recordUrl', 'taskDescription', 'taskName', 'taskRecordId', 'userName']);
    const subjectUse = t.variablesOf('bpium-new-task').find((v) => v.file.endsWith('bpium-new-task.subject.njk'));
    assert.deepEqual({ name: subjectUse?.name, line: subjectUse?.line }, { name: 'taskName', line: 1 });
    assert.deepEqual(t.check('bpium-new-task'), []);
    assert.equal(t.has('bpium-new-task'), true);
    assert.equal(t.has('no-such-template'), false);
  });
});

describe('template renderer', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'oktell-templates-'));
    const files: Record<string, string> = {
      'greet.subject.njk': 'Привет, {{ name }}',
      'greet.text.njk': 'Привет, {{ name }}!\nСегодня {{ when }}.\n',
      'typo.text.njk': 'Строка 1\nЗадача: {{ taskNmae }}\n',
      'nested.text.njk': '{{ user }}\n{% set info = {} %}{{ info.missing }}\n',
      'broken.text.njk': 'Строка 1\nСтрока 2\n{% if name %}\nоткрыт и не закрыт\n',
      'unclosed.text.njk': 'Строка 1\n\n  {{ name \n',
      'scopes.text.njk': [
        '{% set greeting = "Здравствуйте" %}{{ greeting }}, {{ user }}',
        '{% for item in items %}{{ item }} {{ loop.index }} {{ total }}{% endfor %}',
        '{% macro row(label, value="-") %}{{ label }}: {{ value }} {{ caller }}{% endmacro %}',
        '{{ row("a") }} {{ {key: dictValue}.key }} {{ name | upper }} {% if maybe is defined %}{{ x }}{% endif %} {{ range(3) | join(",") }}',
      ].join('\n'),
      'unsafe.text.njk': '{{ name.constructor }}',
      'unknown-filter.text.njk': '{{ name | loudly }}',
      'typo-filter.html.njk': '<p>{{ name | uper }}</p>',
      'subject-only.subject.njk': 'только тема',
      'sum.subject.njk': 'Итого: {{ total }}',
      'sum.text.njk': 'Итого: {{ total }}, втрое: {{ price * 3 }}, {% if zero %}ноль истина{% else %}ноль ложь{% endif %}, {{ big }}',
      'sum.html.njk': '<p>{{ name }}: {{ total }}</p>',
    };
    for (const [file, text] of Object.entries(files)) await writeFile(join(dir, file), text);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('renders dates as dd.MM.yyyy HH:mm:ss in its time zone, and null as empty text', () => {
    const t = createTemplateRenderer({ dir, timeZone: 'Europe/Moscow' });
    const out = t.render('greet', { name: null, when: new Date('2025-03-01T09:05:07Z') });
    assert.equal(out.text, 'Привет, !\nСегодня 01.03.2025 12:05:07.\n');
    assert.equal(out.html, undefined);
  });

  it('prints numbers as the engine does (0.3, not 0.30000000000000004) in every part, keeping HTML escaping', () => {
    const t = createTemplateRenderer({ dir });
    const out = t.render('sum', { total: 0.1 * 3, price: 0.1, zero: 0, big: 123456789012345678, name: '<b>A & B</b>' });
    assert.equal(out.subject, 'Итого: 0.3');
    assert.equal(out.text, 'Итого: 0.3, втрое: 0.3, ноль ложь, 1.23456789012346e+17');
    assert.equal(out.html, '<p>&lt;b&gt;A &amp; B&lt;/b&gt;: 0.3</p>');
    // Only mail templates: nunjucks used elsewhere (the console) prints as it always did.
    assert.equal(nunjucks.renderString('{{ n }}', { n: 0.1 * 3 }), '0.30000000000000004');
  });

  it('names an undefined variable with its file, line and column', () => {
    const t = createTemplateRenderer({ dir });
    const e = renderError(() => t.render('typo', { taskName: 'x' }));
    assert.equal(e.variable, 'taskNmae');
    assert.equal(e.line, 2);
    assert.equal(e.col, 12);
    assert.ok(e.file?.endsWith('typo.text.njk'));
    assert.match(e.message, /typo\.text\.njk:2:12: variable "taskNmae" is not defined/);
  });

  it('names an undefined property of a defined variable', () => {
    const t = createTemplateRenderer({ dir });
    const e = renderError(() => t.render('nested', { user: 'u' }));
    assert.equal(e.variable, 'info.missing');
    assert.equal(e.line, 2);
  });

  it('gives a syntax error its line, from check() and from render()', () => {
    const t = createTemplateRenderer({ dir });
    const [issue] = t.check('broken');
    assert.ok(issue, 'an issue is reported');
    assert.ok(issue.file?.endsWith('broken.text.njk'));
    assert.deepEqual({ line: issue.line, col: issue.col }, { line: 3, col: 1 }, 'where the unclosed {% if %} opens');
    assert.match(issue.message, /syntax error/);
    assert.equal(issue.hint, 'close {% if %} with {% endif %}');
    const e = renderError(() => t.render('broken', { name: 'x' }));
    assert.equal(e.line, issue.line);
  });

  it('points an unterminated {{ at the line where it opens', () => {
    const t = createTemplateRenderer({ dir });
    const [issue] = t.check('unclosed');
    assert.deepEqual({ line: issue?.line, col: issue?.col }, { line: 3, col: 3 });
    assert.equal(issue?.hint, 'close it with }}');
  });

  it('lists only context variables: not loop, set, macro, dictionary-key, filter, test or global names', () => {
    const t = createTemplateRenderer({ dir });
    const names = t.variablesOf('scopes').map((v) => `${v.name}@${v.line}`);
    assert.deepEqual(names, ['user@1', 'items@2', 'total@2', 'dictValue@4', 'name@4', 'x@4']);
  });

  it('refuses property lookups that reach JavaScript internals', () => {
    const t = createTemplateRenderer({ dir });
    assert.match(t.check('unsafe')[0]?.message ?? '', /constructor/);
    assert.throws(() => t.render('unsafe', { name: 'x' }), TemplateRenderError);
  });

  it('reports an unknown filter at check time', () => {
    const t = createTemplateRenderer({ dir });
    assert.deepEqual(t.check('unknown-filter').map((i) => [i.line, i.col, i.message]), [[1, 11, 'unknown filter "loudly" (neither a nunjucks built-in filter nor one of ours: nl2br, safeUrl)']]);
    // A typo gets the closest filter of that part (an HTML part has nl2br as well).
    assert.deepEqual(t.check('typo-filter').map((i) => i.message), ['unknown filter "uper" (did you mean "upper"?)']);
  });

  it('requires a text or an HTML part', () => {
    const t = createTemplateRenderer({ dir });
    assert.equal(t.has('subject-only'), true);
    const [issue] = t.check('subject-only');
    assert.match(issue?.message ?? '', /needs subject-only\.text\.njk or subject-only\.html\.njk/);
    assert.equal(issue?.file, undefined, 'no file: subject-only.text.njk does not exist, the template as a whole lacks it');
    const e = renderError(() => t.render('subject-only', {}));
    assert.match(e.message, /^template "subject-only" has neither a text nor an html file/);
    assert.equal(e.file, undefined);
  });

  it('refuses a template name that could leave the folder', () => {
    const t = createTemplateRenderer({ dir });
    assert.equal(t.has('../greet'), false);
    assert.throws(() => t.render('../greet', { name: 'x', when: '' }), TemplateRenderError);
  });

  it('serves cached templates until reload()', async () => {
    const t = createTemplateRenderer({ dir });
    await writeFile(join(dir, 'hot.text.njk'), 'версия 1');
    assert.equal(t.render('hot', {}).text, 'версия 1');
    await writeFile(join(dir, 'hot.text.njk'), 'версия 2');
    assert.equal(t.render('hot', {}).text, 'версия 1');
    t.reload();
    assert.equal(t.render('hot', {}).text, 'версия 2');
  });

  it('keeps what it parsed over a reload when no file changed, and reads again after any change', async () => {
    const hot = join(dir, 'kept', 'letter.text.njk');
    await mkdir(join(dir, 'kept', 'parts'), { recursive: true });
    await writeFile(hot, 'A {% include "parts/sign.njk" %}');
    await writeFile(join(dir, 'kept', 'parts', 'sign.njk'), 'подпись 1');
    const t = createTemplateRenderer({ dir: join(dir, 'kept') });
    t.reload();
    const parses = () => templateFilesParsedCount();
    assert.deepEqual(t.check('letter'), []);
    assert.equal(t.render('letter', {}).text, 'A подпись 1');
    // A reload after a scenario file was saved (nothing in the templates folder changed): nothing parsed again.
    let before = parses();
    t.reload();
    assert.deepEqual(t.check('letter'), []);
    assert.equal(t.render('letter', {}).text, 'A подпись 1');
    assert.equal(parses() - before, 0, 'no template parsed again');
    // An included file (not a template of its own) changed: what includes it is compiled again.
    await writeFile(join(dir, 'kept', 'parts', 'sign.njk'), 'подпись 2');
    before = parses();
    t.reload();
    assert.deepEqual(t.check('letter'), []);
    assert.equal(t.render('letter', {}).text, 'A подпись 2');
    // The template, and the part it includes, which check reads to see that it is there and sound.
    assert.equal(parses() - before, 2, 'the template and its part parsed again');
    // An edit undone before the reload (same text as at the last reload): still read again, the compiled template
    // could be the edit's.
    await writeFile(hot, 'B {% include "parts/sign.njk" %}');
    assert.equal(t.render('letter', {}).text, 'A подпись 2', 'cached until a reload');
    await writeFile(hot, 'A {% include "parts/sign.njk" %}');
    before = parses();
    t.reload();
    assert.deepEqual(t.check('letter'), []);
    assert.equal(parses() - before, 2, 'the template and its part parsed again');
    // A new file in the folder counts as a change too.
    await writeFile(join(dir, 'kept', 'other.text.njk'), 'другое');
    before = parses();
    t.reload();
    t.check('letter');
    assert.equal(parses() - before, 2);
  });

  it('reads a template again after a reload when its symbolic link was re-pointed or the file it names was saved', async () => {
    // A letter linked to a shared file (a signature, a common layout) outside the folder: nunjucks follows the link.
    const shared = join(dir, 'shared-outside');
    await mkdir(shared, { recursive: true });
    await writeFile(join(shared, 'one.njk'), 'общий 1');
    await writeFile(join(shared, 'two.njk'), 'общий 2');
    await mkdir(join(dir, 'linked', 'parts'), { recursive: true });
    await symlink(join(shared, 'one.njk'), join(dir, 'linked', 'letter.text.njk'));
    await symlink(shared, join(dir, 'linked', 'parts', 'shared'));
    await writeFile(join(dir, 'linked', 'inc.text.njk'), '{% include "parts/shared/two.njk" %}');
    const t = createTemplateRenderer({ dir: join(dir, 'linked') });
    t.reload();
    assert.equal(t.render('letter', {}).text, 'общий 1');
    assert.equal(t.render('inc', {}).text, 'общий 2');
    // The link re-pointed (as `ln -sf` does): the folder's link changed.
    await rm(join(dir, 'linked', 'letter.text.njk'));
    await symlink(join(shared, 'two.njk'), join(dir, 'linked', 'letter.text.njk'));
    t.reload();
    assert.equal(t.render('letter', {}).text, 'общий 2');
    // The file a link names saved, and a file in a linked folder: both are read again at the next reload.
    await writeFile(join(shared, 'two.njk'), 'общий 3');
    t.reload();
    assert.equal(t.render('letter', {}).text, 'общий 3');
    assert.equal(t.render('inc', {}).text, 'общий 3');
  });
});
