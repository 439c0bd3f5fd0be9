// Mail template files through the real CLI: parts named with an upper-case extension as a Windows editor or share
// names them (NOTE.TEXT.NJK), and the parts a template pulls in by a name written as text ({% include "parts/x.njk" %})
// checked by validate, at the tag, not first when a letter is made.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

const cp1251 = (text: string) => Buffer.from([...text].map((c) => (c >= 'А' && c <= 'я' ? c.charCodeAt(0) - 0x410 + 0xc0 : c.charCodeAt(0))));
const run = (dir: string, args: string[]) => runCli(args, { cwd: dir, unset: ['OKTELL_SCENARIOS', 'OKTELL_CONFIG', 'OKTELL_DATA_DIR'] });

/** A scenario sending template `note` with variable `name`. */
const NOTE = [
  'variables:',
  '  name: string',
  'start: a',
  'blocks:',
  `  a: { kind: Variable, set: { name: '"Иван"' }, exits: { next: m } }`,
  `  m: { kind: SendMail, to: '"ivan@example.com"', template: note, exits: { success: e, error: e } }`,
  '  e: { kind: Stop }',
  '',
].join('\r\n');

describe('template files named with an upper-case extension', () => {
  const tmp = tempDir();
  const t = join(tmp.dir, 'scenarios', 'templates');
  before(() => {
    mkdirSync(t, { recursive: true });
    writeFileSync(join(tmp.dir, 'scenarios', 'Note.yaml'), NOTE);
    writeFileSync(join(t, 'note.SUBJECT.NJK'), 'Заявка {{ name }}\r\n');
    writeFileSync(join(t, 'note.TEXT.NJK'), 'Здравствуйте, {{ name }}!\r\n');
    writeFileSync(join(t, 'note.Html.Njk'), '<p>{{ name }}</p>\r\n');
  });
  after(() => tmp.cleanup());

  it('are the parts of the template: validated, and the letter is made of them', () => {
    const v = run(tmp.dir, ['validate']);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.doesNotMatch(v.stdout + v.stderr, /no subject/);
    const r = run(tmp.dir, ['run', 'Note', '--dry-run', '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const mail = (JSON.parse(r.stdout) as { mails: Array<{ subject: string; text: string; html: string }> }).mails[0]!;
    assert.deepEqual([mail.subject, mail.text, mail.html], ['Заявка Иван', 'Здравствуйте, Иван!\n', '<p>Иван</p>\n']);
  });

  it('two files of one part that differ only in the case of the extension are a problem naming both', () => {
    writeFileSync(join(t, 'note.text.njk'), 'Другой текст\r\n');
    try {
      const v = run(tmp.dir, ['validate']);
      assert.equal(v.code, 1, v.stdout + v.stderr);
      assert.match(v.stdout, /Note\.yaml:6:\d+ E_INVALID_TEMPLATE template "note" has 2 text files, which differ only in the case of their extension: note\.TEXT\.NJK, note\.text\.njk/);
    } finally {
      rmSync(join(t, 'note.text.njk'));
    }
  });
});

describe('parts a template pulls in by name', () => {
  const tmp = tempDir();
  const t = join(tmp.dir, 'scenarios', 'templates');
  const text = (include: string) => writeFileSync(join(t, 'note.text.njk'), `Здравствуйте, {{ name }}!\r\n${include}\r\n`);
  before(() => {
    mkdirSync(join(t, 'parts'), { recursive: true });
    writeFileSync(join(tmp.dir, 'scenarios', 'Note.yaml'), NOTE);
    writeFileSync(join(t, 'note.subject.njk'), 'Заявка\r\n');
    writeFileSync(join(t, 'parts', 'sig.njk'), '--\r\nОтдел продаж\r\n');
  });
  after(() => tmp.cleanup());

  it('a part that is there and sound: valid, and in the letter', () => {
    text('{% include "parts/sig.njk" %}');
    const v = run(tmp.dir, ['validate']);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    const r = run(tmp.dir, ['run', 'Note', '--dry-run', '--json']);
    assert.equal((JSON.parse(r.stdout) as { mails: Array<{ text: string }> }).mails[0]!.text, 'Здравствуйте, Иван!\n--\nОтдел продаж\n');
  });

  it('a misspelt part is a problem at validate, at the include tag, with the name meant', () => {
    text('{% include "parts/sgi.njk" %}');
    const v = run(tmp.dir, ['validate']);
    assert.equal(v.code, 1, v.stdout + v.stderr);
    assert.match(v.stdout, /note\.text\.njk:2:12 E_INVALID_TEMPLATE \{% include "parts\/sgi\.njk" %\}: there is no such file in the templates folder/);
    assert.match(v.stdout, /hint: did you mean "parts\/sig\.njk"\?/);
  });

  it('a part saved in windows-1251 or with a syntax error is a problem at the tag naming the part\'s own line and column', () => {
    writeFileSync(join(t, 'parts', 'ansi.njk'), Buffer.concat([Buffer.from('--\r\nOK '), cp1251('Подпись'), Buffer.from('\r\n')]));
    writeFileSync(join(t, 'parts', 'broken.njk'), '--\r\n{% if name %}Подпись\r\n');
    text('{% include "parts/ansi.njk" %}\r\n{% import "parts/broken.njk" as b %}');
    const v = run(tmp.dir, ['validate']);
    assert.equal(v.code, 1, v.stdout + v.stderr);
    assert.match(v.stdout, /note\.text\.njk:2:12 E_INVALID_TEMPLATE \{% include "parts\/ansi\.njk" %\}: scenarios[\\/]templates[\\/]parts[\\/]ansi\.njk:2:4: the file is not UTF-8: the byte 0xCF at line 2, column 4 is not UTF-8 text; it looks saved as windows-1251/);
    assert.match(v.stdout, /note\.text\.njk:3:11 E_INVALID_TEMPLATE \{% import "parts\/broken\.njk" %\}: scenarios[\\/]templates[\\/]parts[\\/]broken\.njk:\d+:\d+: template syntax error/);
  });

  it('a part pulled in by a part is checked too; a name made at render and "ignore missing" are left to the letter', () => {
    writeFileSync(join(t, 'parts', 'outer.njk'), '{% include "./inner.njk" %}\r\n');
    writeFileSync(join(t, 'parts', 'inner.njk'), '{{ name | uppper }}\r\n');
    text('{% include "parts/outer.njk" %}\r\n{% include "parts/" + name + ".njk" ignore missing %}\r\n{% include "parts/none.njk" ignore missing %}');
    const v = run(tmp.dir, ['validate']);
    assert.equal(v.code, 1, v.stdout + v.stderr);
    assert.match(v.stdout, /parts[\\/]outer\.njk:1:12 E_INVALID_TEMPLATE \{% include "\.\/inner\.njk" %\}: scenarios[\\/]templates[\\/]parts[\\/]inner\.njk:1:11: unknown filter "uppper" \(did you mean "upper"\?\)/);
    assert.equal((v.stdout.match(/E_INVALID_TEMPLATE/g) ?? []).length, 1, v.stdout);
  });
});
