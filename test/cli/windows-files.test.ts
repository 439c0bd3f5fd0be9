// An integrator's files as Windows editors save them, through the real CLI: an upper-case extension (HTTP404.YAML),
// a file saved in windows-1251, cp866 or as UTF-16 (Notepad's "Unicode"), mail templates with CR LF or old-Mac CR line
// ends, and a webhook body saved with a byte-order mark.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { scenarioVersion } from '../../engine/index.js';
import { scenarioFile } from '../../cli/commands/test.js';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

const HOOK = ['variables:', '  address: string', 'start: a', 'blocks:', `  a: { kind: ReturnValue, values: { 2: '200' } }`, ''].join('\r\n');

/** `text` as the bytes of windows-1251 (Cyrillic letters and the dash only, enough for these files). */
function cp1251(text: string): Buffer {
  return Buffer.from([...text].map((c) => (c === '—' ? 0x97 : c >= 'А' && c <= 'я' ? c.charCodeAt(0) - 0x410 + 0xc0 : c.charCodeAt(0))));
}

const run = (dir: string, args: string[]) => runCli(args, { cwd: dir, unset: ['OKTELL_SCENARIOS', 'OKTELL_CONFIG', 'OKTELL_DATA_DIR'] });

describe('scenario files named with an upper-case extension', () => {
  const tmp = tempDir();
  before(() => {
    mkdirSync(join(tmp.dir, 'scenarios', 'tests'), { recursive: true });
    writeFileSync(join(tmp.dir, 'scenarios', 'HTTP404.YAML'), HOOK);
    writeFileSync(join(tmp.dir, 'scenarios', 'tests', 'HOOK.TEST.YAML'), ['cases:', '  - name: answers 200', '    scenario: HTTP404', '    expect: { returnValues: { 2: 200 } }', ''].join('\r\n'));
  });
  after(() => tmp.cleanup());

  it('are scenarios of the folder: validated, run by name, tested', () => {
    const v = run(tmp.dir, ['validate']);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /1 scenario file\(s\) valid/);
    const r = run(tmp.dir, ['run', 'HTTP404', '--dry-run', '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as { returnValues: unknown }).returnValues, { 2: 200 });
    const byPath = run(tmp.dir, ['validate', join('scenarios', 'HTTP404.YAML')]);
    assert.equal(byPath.code, 0, byPath.stdout + byPath.stderr);
    const t = run(tmp.dir, ['test']);
    assert.equal(t.code, 0, t.stdout + t.stderr);
    assert.match(t.stdout, /1 passed, 0 failed/);
  });

  it('is the file test --from-run and --against-runs compare a recorded run with', () => {
    const found = scenarioFile(join(tmp.dir, 'scenarios'), 'HTTP404');
    assert.equal(found?.file, join(tmp.dir, 'scenarios', 'HTTP404.YAML'));
    assert.equal(found?.version, scenarioVersion(HOOK));
    assert.equal(scenarioFile(join(tmp.dir, 'scenarios'), 'HTTP40'), undefined);
    assert.equal(scenarioFile(join(tmp.dir, 'no-such-folder'), 'HTTP404'), undefined);
  });
});

describe('files not saved as UTF-8', () => {
  const tmp = tempDir();
  const s = join(tmp.dir, 'scenarios');
  before(() => {
    mkdirSync(join(s, 'tests'), { recursive: true });
    // `# ` then the first letter, at column 3; in Dos.yaml, `  a: { kind: Stop, title: "` is 27 characters before it.
    writeFileSync(join(s, 'Ansi.yaml'), cp1251('# Заявка — сценарий\r\nvariables: {}\r\nblocks:\r\n  a: { kind: Stop, title: "Готово" }\r\n'));
    writeFileSync(join(s, 'Dos.yaml'), Buffer.concat([Buffer.from('blocks:\r\n  a: { kind: Stop, title: "'), Buffer.from([0xa3, 0xae, 0xe2, 0xae, 0xa2, 0xae]), Buffer.from('" }\r\n')]));
    writeFileSync(join(s, 'Good.yaml'), HOOK);
    writeFileSync(join(s, 'tests', 'good.test.yaml'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('cases:\r\n  - { name: x, scenario: Good }\r\n', 'utf16le')]));
  });
  after(() => tmp.cleanup());

  it('are refused at their first byte that is not UTF-8, naming the code page, in text and --json alike', () => {
    const v = run(tmp.dir, ['validate']);
    assert.equal(v.code, 1, v.stdout + v.stderr);
    assert.match(v.stdout, /Ansi\.yaml:1:3 E_YAML_SYNTAX the file is not UTF-8: the byte 0xC7 at line 1, column 3 is not UTF-8 text; it looks saved as windows-1251/);
    assert.match(v.stdout, /Dos\.yaml:2:28 E_YAML_SYNTAX the file is not UTF-8: .* it looks saved as cp866/);
    assert.match(v.stdout, /hint: save it as UTF-8 in your editor/);
    const j = JSON.parse(run(tmp.dir, ['validate', '--json']).stdout) as { issues: Array<{ file: string; line: number; col: number; code: string }> };
    assert.deepEqual(j.issues.map((i) => [i.file.replace(/^.*[\\/]/, ''), i.line, i.col, i.code]), [['Ansi.yaml', 1, 3, 'E_YAML_SYNTAX'], ['Dos.yaml', 2, 28, 'E_YAML_SYNTAX']]);
  });

  it('a test file saved as UTF-16 is said to be one', () => {
    const t = run(tmp.dir, ['test', join('scenarios', 'tests')]);
    assert.notEqual(t.code, 0);
    assert.match(t.stdout + t.stderr, /good\.test\.yaml:1:1 E_YAML_SYNTAX the file is saved as UTF-16 LE \(Notepad's "Unicode"\), not as UTF-8/);
  });

  it('a configuration file saved in windows-1251 or as UTF-16 is said to be one', () => {
    writeFileSync(join(tmp.dir, 'oktell.config.yaml'), cp1251('# Настройки\r\nscenarios: ./Сценарии\r\n'));
    const a = run(tmp.dir, ['validate']);
    assert.equal(a.code, 2, a.stdout + a.stderr);
    assert.match(a.stderr, /oktell\.config\.yaml:1:3: the file is not UTF-8: the byte 0xCD at line 1, column 3 is not UTF-8 text; it looks saved as windows-1251/);
    writeFileSync(join(tmp.dir, 'oktell.config.yaml'), Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from('scenarios: ./scenarios\r\n', 'utf16le').swap16()]));
    const u = run(tmp.dir, ['validate']);
    assert.equal(u.code, 2, u.stdout + u.stderr);
    assert.match(u.stderr, /oktell\.config\.yaml:1:1: the file is saved as UTF-16 BE/);
  });
});

describe('mail templates and bodies saved on Windows', () => {
  const tmp = tempDir();
  const s = join(tmp.dir, 'scenarios');
  before(() => {
    mkdirSync(join(s, 'templates'), { recursive: true });
    writeFileSync(join(s, 'Note.yaml'), [
      'variables:',
      '  name: string',
      '  body: string',
      'start: a',
      'blocks:',
      `  a: { kind: Variable, set: { body: 'InputParameter(1)', name: 'JsonGet([body], "$.name")' }, exits: { next: m } }`,
      `  m: { kind: SendMail, to: '"ivan@example.com"', template: note, exits: { success: e, error: e } }`,
      '  e: { kind: Stop }',
      '',
    ].join('\r\n'));
  });
  after(() => tmp.cleanup());

  const letter = (eol: string) => {
    writeFileSync(join(s, 'templates', 'note.subject.njk'), `\uFEFFЗаявка {{ name }}${eol}`);
    writeFileSync(join(s, 'templates', 'note.text.njk'), ['\uFEFFЗдравствуйте!', '{% if name %}', 'Заявка: {{ name }}', '{% endif %}', 'Конец', ''].join(eol));
    writeFileSync(join(s, 'templates', 'note.html.njk'), ['<p>{{ name }}</p>', '<p>{{ name | nl2br }}</p>', ''].join(eol));
    writeFileSync(join(tmp.dir, 'body.json'), `\uFEFF{${eol}  "name": "<b>Счёт</b>"${eol}}${eol}`);
    const r = run(tmp.dir, ['run', 'Note', '-p', '1=@body.json', '--dry-run', '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    return (JSON.parse(r.stdout) as { mails: Array<{ subject: string; text: string; html: string }> }).mails[0]!;
  };

  it("a test file's @file parameter saved with a byte-order mark is the JSON after it", () => {
    letter('\r\n');
    mkdirSync(join(s, 'tests'), { recursive: true });
    writeFileSync(join(s, 'tests', 'note.test.yaml'), ['cases:', '  - name: the name from the body', '    scenario: Note', '    params: { 1: "@../../body.json" }', '    expect: { mails: [{ text: { contains: "Заявка: <b>Счёт</b>" } }] }', ''].join('\r\n'));
    const t = run(tmp.dir, ['test']);
    assert.equal(t.code, 0, t.stdout + t.stderr);
    assert.match(t.stdout, /1 passed, 0 failed/);
  });

  for (const [eol, what] of [['\r\n', 'CR LF (Windows)'], ['\r', 'CR alone (old Mac)']] as const) {
    it(`a letter from templates whose lines end in ${what} has lines ending in LF, and HTML is still escaped`, () => {
      const m = letter(eol);
      assert.equal(m.subject, 'Заявка <b>Счёт</b>');
      assert.equal(m.text, 'Здравствуйте!\nЗаявка: <b>Счёт</b>\nКонец\n');
      assert.equal(m.html, '<p>&lt;b&gt;Счёт&lt;/b&gt;</p>\n<p>&lt;b&gt;Счёт&lt;/b&gt;</p>\n');
    });
  }
});

describe('migrations saved on Windows or an old Mac', () => {
  const tmp = tempDir();
  const s = join(tmp.dir, 'scenarios');
  const migration = join(s, 'db', 'main', '001-CLIENTS.SQL');
  before(() => {
    mkdirSync(join(s, 'db', 'main'), { recursive: true });
    writeFileSync(join(s, 'Read.yaml'), ['variables:', '  n: number', 'blocks:', '  a: { kind: DbQuery, sql: "SELECT count(*) AS n FROM clients", into: { n: n } }', ''].join('\r\n'));
  });
  after(() => tmp.cleanup());

  it('a *.SQL file with lines ending in CR alone makes its tables (a -- comment on its first line took the whole file)', () => {
    writeFileSync(migration, ['-- clients of the CRM', 'CREATE TABLE clients (id INTEGER PRIMARY KEY, name TEXT);', ''].join('\r'));
    const v = run(tmp.dir, ['validate']);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /1 scenario file\(s\) valid/);
  });

  it('one saved in windows-1251 is said to be one, not "unrecognized token"', () => {
    writeFileSync(migration, cp1251('-- Клиенты\r\nCREATE TABLE clients (id INTEGER PRIMARY KEY, name TEXT);\r\n'));
    const v = run(tmp.dir, ['validate']);
    assert.equal(v.code, 1, v.stdout + v.stderr);
    assert.match(v.stdout, /001-CLIENTS\.SQL:1:1 E_MIGRATION .*the file is not UTF-8: the byte 0xCA at line 1, column 4 is not UTF-8 text; it looks saved as windows-1251/);
  });
});

describe('a scenario ending in Ctrl-Z', () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  it('names the character as the end-of-file mark it is, at its place', () => {
    mkdirSync(join(tmp.dir, 'scenarios'));
    writeFileSync(join(tmp.dir, 'scenarios', 'Old.yaml'), `${HOOK}\x1A`);
    const v = run(tmp.dir, ['validate']);
    assert.equal(v.code, 1, v.stdout + v.stderr);
    assert.match(v.stdout, /Old\.yaml:6:1 E_YAML_SYNTAX the file holds the control character U\+001A \(Ctrl-Z, the end-of-file mark of DOS tools\)/);
  });
});

describe('fixture and data files of tests saved in windows-1251', () => {
  const tmp = tempDir();
  const s = join(tmp.dir, 'scenarios');
  const users = cp1251(['catalogs:', '  "3":', '    name: Сотрудники', '    fields:', '      - { id: "1", name: Имя, type: text }', '    records:', '      "2": { "1": Иван }', ''].join('\r\n'));
  before(() => {
    mkdirSync(join(s, 'tests'), { recursive: true });
    writeFileSync(join(s, 'HOOK.yaml'), HOOK);
    writeFileSync(join(s, 'tests', 'users.yaml'), users);
    writeFileSync(join(s, 'tests', 'rows.sql'), cp1251("CREATE TABLE t (name TEXT); INSERT INTO t VALUES ('Иван');\r\n"));
    writeFileSync(join(s, 'tests', 'hook.test.yaml'), ['bpium: users.yaml', 'cases:', '  - name: answers 200', '    scenario: HOOK', '    db: { main: "@rows.sql" }', '    expect: { returnValues: { 2: 200 } }', ''].join('\n'));
    writeFileSync(join(tmp.dir, 'users.yaml'), users);
  });
  after(() => tmp.cleanup());

  it('a bpium: fixture and a db: @file.sql are refused where they stop being UTF-8, not tested as U+FFFD', () => {
    const t = run(tmp.dir, ['test']);
    assert.notEqual(t.code, 0, t.stdout + t.stderr);
    const out = t.stdout + t.stderr;
    assert.match(out, /users\.yaml:3:11 E_YAML_SYNTAX the file is not UTF-8: the byte 0xD1 at line 3, column 11 is not UTF-8 text; it looks saved as windows-1251/);
    assert.match(out, /db\.main: rows\.sql:1:52: the file is not UTF-8: the byte 0xC8 at line 1, column 52/);
  });

  it('run --bpium-fixtures with such a file is refused at its line and column', () => {
    const r = run(tmp.dir, ['run', 'HOOK', '--dry-run', '--bpium-fixtures', 'users.yaml']);
    assert.notEqual(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /users\.yaml:3:11 E_YAML_SYNTAX the file is not UTF-8: the byte 0xD1 at line 3, column 11/);
  });
});
