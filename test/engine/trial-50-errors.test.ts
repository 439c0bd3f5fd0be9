// Findings of a user trial of the scenario error messages (one mutation of a shipped scenario per case): each row is
// a file text, the problem it must give (code, line, column) and words the hint must (or must not) hold.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createTemplateRenderer } from '../../adapters/mail/templates.js';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioText } from '../../engine/index.js';
import { tempDir } from '../helpers.js';
import { itGivesIssues, type IssueCase } from './issue-cases.helper.js';


/** A scenario with one SendMail block whose lines after `kind:` are `props`. */
const mail = (props: string) => `variables: { email: string }
blocks:
  send:
    kind: SendMail
${props}
    subject: '"Отчёт"'
    text: '"Готово"'
`;

/** A scenario with one Variable block setting `v` to the YAML value written after "v:". */
const setV = (value: string) => `variables: { v: string, n: number }
blocks:
  a:
    kind: Variable
    set:
      v: ${value}
`;

const CASES: IssueCase[] = [
  // A constant recipient the mailer refuses would fail every letter at run time: said at load, at the line.
  { name: 'to: a constant that is not an address', text: mail(`    to: '"reports-at-example.com"'`), code: 'E_INVALID_PROPERTY', line: 5, col: 9, message: /"to" is refused on every run \(MAIL_BAD_ADDRESS\)/, hint: /name@domain/ },
  { name: 'to: the second of two constant addresses bad', text: mail(`    to: '"a@b.ru, c@@d.ru"'`), code: 'E_INVALID_PROPERTY', line: 5, col: 9, message: /c@@d\.ru/ },
  { name: 'to: a display name with its < left open', text: mail(`    to: '"Иван <ivan@example.com"'`), code: 'E_INVALID_PROPERTY', line: 5, col: 9, message: /is not an e-mail address/ },
  { name: 'to: empty text', text: mail(`    to: '""'`), code: 'E_INVALID_PROPERTY', line: 5, col: 9, message: /"to" is empty on every run/, hint: /to: '\[email\]'/ },
  { name: 'cc: a constant that is not an address', text: mail(`    to: '[email]'\n    cc: '"boss@@example.com"'`), code: 'E_INVALID_PROPERTY', line: 6, col: 9, message: /"cc" is refused on every run/ },
  // A mistake in a function call is not text left unquoted: the hint is the call's, not '"InputParameter(0)"'.
  { name: 'InputParameter(0) unquoted', text: setV('InputParameter(0)'), code: 'E_INVALID_EXPRESSION', line: 6, col: 25, hint: /InputParameter\(2\)/, notHint: /text needs its own quotes/ },
  { name: 'InputParameter() unquoted', text: setV('InputParameter()'), code: 'E_INVALID_EXPRESSION', line: 6, col: 10, hint: /signature: InputParameter/, notHint: /text needs/ },
  { name: 'Now without parentheses', text: setV('Now'), code: 'E_INVALID_EXPRESSION', line: 6, col: 10, hint: /call it as Now\(\)/, notHint: /text needs/ },
  { name: 'a function name cut short (InputParam)', text: setV('InputParam(4)'), code: 'E_INVALID_EXPRESSION', line: 6, col: 10, hint: /did you mean InputParameter\?/, notHint: /text needs/ },
  { name: 'text that only looks like a call keeps the quoting hint', text: setV('Отчёт(за день)'), code: 'E_INVALID_EXPRESSION', line: 6, col: 10, hint: /'"Отчёт\(за день\)"'/ },
  // A property name cut short gets the whole name.
  {
    name: 'errorVar for errorVariable',
    text: `variables: { b: string, e: string, x: string }\nblocks:\n  p:\n    kind: Parser\n    mode: json\n    document: '[b]'\n    extract: { x: $.a }\n    errorVar: e\n`,
    code: 'E_UNKNOWN_KEY', line: 8, col: 5, hint: /did you mean "errorVariable"\?/,
  },
  // `[x]` where the property is a name, not an expression: the fix is the name without brackets.
  { name: 'param: [body]', text: `variables: { body: string }\nblocks:\n  b:\n    kind: Start\n    param: [body]\n`, code: 'E_INVALID_PROPERTY', line: 5, col: 12, hint: /write param: body/, notHint: /'\[body\]'/ },
  { name: 'mode: [async]', text: `blocks:\n  b:\n    kind: AsyncScenario\n    scenario: Other\n    mode: [async]\n`, code: 'E_INVALID_PROPERTY', line: 5, col: 11, hint: /write mode: async/ },
  { name: 'scenario: [Other]', text: `blocks:\n  b:\n    kind: AsyncScenario\n    scenario: [Other]\n`, code: 'E_INVALID_PROPERTY', line: 4, col: 15, hint: /write scenario: Other/ },
  { name: 'a JSONPath in [ ]', text: `variables: { b: string, x: string }\nblocks:\n  p:\n    kind: Parser\n    mode: json\n    document: '[b]'\n    extract:\n      x: [$.a.b]\n`, code: 'E_INVALID_PROPERTY', line: 8, col: 10, hint: /write x: \$\.a\.b/ },
  { name: 'an expression in [ ] keeps the quoting hint', text: setV('[n]'), code: 'E_INVALID_PROPERTY', line: 6, col: 10, hint: /quote the expression: '\[n\]'/ },
  // Indentation: a block id a space off is pointed at (not at the blank line above it) and lined up with its siblings.
  {
    name: 'a block id one space right of the others',
    text: `blocks:\n  a:\n    kind: Variable\n    set: { v: '"x"' }\n    exits: { next: b }\n\n   b:\n    kind: Stop\n`.replace('blocks:', 'variables: { v: string }\nblocks:'),
    code: 'E_YAML_SYNTAX', line: 8, col: 4, hint: /indent "b" like "a" on line 3 \(column 3\)/,
  },
  {
    name: 'a block id one space left of the others',
    text: `variables: { v: string }\nblocks:\n  a:\n    kind: Variable\n    set: { v: '"x"' }\n    exits: { next: b }\n\n b:\n    kind: Stop\n`,
    code: 'E_YAML_SYNTAX', line: 8, col: 2, hint: /indent "b" like "a" on line 3 \(column 3\)/,
  },
  {
    name: 'the first entry of set: left at its column',
    text: `variables: { v: string, w: string }\nblocks:\n  a:\n    kind: Variable\n    set:\n    v: '"x"'\n      w: '"y"'\n`,
    code: 'E_YAML_SYNTAX', line: 6, col: 5, hint: /indent "v" on line 6 like "w" \(column 7\), with spaces: it belongs under "set" on line 5/,
  },
  {
    name: 'the first variable a space right of the rest',
    text: `variables:\n   a: string\n  b: string\n  c: string\nblocks:\n  r:\n    kind: ReturnValue\n    values: { 1: '[a]' }\n`,
    code: 'E_YAML_SYNTAX', line: 2, col: 4, hint: /indent "a" on line 2 like "b" and the keys after it \(column 3\)/,
  },
  // A kind written under another key, or as a list: the line to write.
  { name: 'knd: Variable', text: `variables: { v: string }\nblocks:\n  a:\n    knd: Variable\n    set: { v: '"x"' }\n`, code: 'E_MISSING_PROPERTY', line: 4, col: 5, hint: /^write kind: Variable$/ },
  { name: 'type: Variable (the word of other tools)', text: `variables: { v: string }\nblocks:\n  a:\n    type: variable\n    set: { v: '"x"' }\n`, code: 'E_MISSING_PROPERTY', line: 4, col: 5, hint: /^write kind: Variable$/ },
  { name: 'kind: [Variable]', text: `variables: { v: string }\nblocks:\n  a:\n    kind: [Variable]\n    set: { v: '"x"' }\n`, code: 'E_INVALID_PROPERTY', line: 4, col: 11, hint: /write kind: Variable/ },
  // A type named as other languages name it: the type to write.
  { name: 'due: date', text: `variables:\n  due: date\nblocks:\n  r: { kind: Stop }\n`, code: 'E_INVALID_VARIABLE', line: 2, col: 8, hint: /did you mean due: datetime\?/, notHint: /e\.g\. due: string/ },
  { name: 'n: int', text: `variables:\n  n: int\nblocks:\n  r: { kind: Stop }\n`, code: 'E_INVALID_VARIABLE', line: 2, col: 6, hint: /did you mean n: number\?/ },
  // YAML 1.1's yes/no, which YAML 1.2 reads as text.
  { name: 'copyVariables: no', text: `blocks:\n  b:\n    kind: AsyncScenario\n    scenario: Other\n    copyVariables: no\n`, code: 'E_INVALID_PROPERTY', line: 5, col: 20, hint: /write copyVariables: false/ },
  // A file with CR alone between its lines (old Mac editors) is read line by line, as editors show it.
  { name: 'CR line endings', text: setV('Contain("x", "y")').replace(/\n/g, '\r'), code: 'E_INVALID_EXPRESSION', line: 6, col: 10, hint: /did you mean Contains\?/ },
  // `{ next b }`: the ":" left out; said so, and no block after it reported unreachable for it.
  { name: 'exits: { next b }', text: `variables: { v: string }\nblocks:\n  a:\n    kind: Variable\n    set: { v: '"x"' }\n    exits: { next b }\n  b:\n    kind: Stop\n`, code: 'E_UNKNOWN_EXIT', line: 6, col: 14, message: /the ":" after "next" is missing/, hint: /write next: b/ },
  // An operator in words (lt) is told its sign, not the closest spelling ("=").
  { name: 'operator: lt', text: `variables: { n: number }\nblocks:\n  c:\n    kind: Condition\n    left: '[n]'\n    operator: lt\n    right: 1\n`, code: 'E_INVALID_PROPERTY', line: 6, col: 15, hint: /did you mean "<"\?/ },
  // A stray closing bracket: said so, with the fix, not "check indentation, colons and quotes".
  { name: 'exits: { next: b }}', text: `variables: { v: string }\nblocks:\n  a:\n    kind: Variable\n    set: { v: '"x"' }\n    exits: { next: b }}\n  b:\n    kind: Stop\n`, code: 'E_YAML_SYNTAX', line: 6, col: 23, message: /\} without a \{ before it/, hint: /^this \} closes no \{: remove it/ },
  // Other tools' words for a property get its name here.
  { name: 'transitions: for exits', text: `variables: { v: string }\nblocks:\n  a:\n    kind: Variable\n    set: { v: '"x"' }\n    transitions: { next: a }\n`, code: 'E_UNKNOWN_KEY', line: 6, col: 5, hint: /did you mean "exits"\?/ },
  { name: 'query: for sql', text: `variables: { n: number }\nblocks:\n  q:\n    kind: DbQuery\n    query: SELECT 1 AS n\n`, code: 'E_UNKNOWN_KEY', line: 5, col: 5, hint: /did you mean "sql"\?/ },
  // 146: another tool's name for a function gets ours, which no spelling distance finds (Count is close to Round).
  { name: 'JsonLength for JsonCount', text: setV(`'JsonLength([v])'`), code: 'E_INVALID_EXPRESSION', line: 6, col: 11, hint: /^did you mean JsonCount\?$/ },
  { name: 'Count for JsonCount, not Round', text: setV(`'Count([v], "$.items")'`), code: 'E_INVALID_EXPRESSION', line: 6, col: 11, hint: /^did you mean JsonCount\?$/ },
  // 157: the "[" left open is named by its line and column in the file, not by an offset in the expression.
  {
    name: 'an unclosed [ in a long expression',
    text: setV(`'"Номер: " + [n + " из " + [n]'`),
    code: 'E_INVALID_EXPRESSION', line: 6, col: 37, hint: /^the "\[" at line 6, column 23 is not closed: put "\]" after the variable's name: write \[n\]$/, notHint: /position/,
  },
  // 202–205: a file that is not a mapping says what it is.
  { name: 'an empty file', text: '', code: 'E_NOT_A_MAPPING', line: 1, col: 1, message: /: the file is empty$/ },
  { name: 'a file of comments only', text: '# a scenario, some day\n', code: 'E_NOT_A_MAPPING', line: 1, col: 1, message: /: the file holds only comments$/ },
  { name: 'a file holding a list', text: '- variables: { v: string }\n- blocks: { a: { kind: Stop } }\n', code: 'E_NOT_A_MAPPING', line: 1, col: 1, message: /the file holds a list of 2 items/, hint: /without "- "/ },
  { name: 'a file holding a scalar', text: 'BpiumNewTask\n', code: 'E_NOT_A_MAPPING', line: 1, col: 1, message: /the file holds only the text "BpiumNewTask"/ },
  // 220, 221: characters no editor shows, named with their code and place.
  { name: 'two byte-order marks', text: `\uFEFF\uFEFF${setV(`'"x"'`)}`, code: 'E_YAML_SYNTAX', line: 1, col: 1, message: /starts with 2 byte-order marks \(U\+FEFF/ },
  { name: 'a byte-order mark at the start of a line', text: setV(`'"x"'`).replace('blocks:', '\uFEFFblocks:'), code: 'E_YAML_SYNTAX', line: 2, col: 1, message: /^line 2 starts with a byte-order mark \(U\+FEFF/ },
  // 41: another kind's word for an exit (next on a Parser) gets this kind's.
  {
    name: 'Parser exits: { next: … }',
    text: `variables: { b: string, x: string }\nblocks:\n  p:\n    kind: Parser\n    mode: json\n    document: '[b]'\n    extract: { x: $.a }\n    exits: { next: r }\n  r: { kind: Stop }\n`,
    code: 'E_UNKNOWN_EXIT', line: 8, col: 14, hint: /^did you mean "success"\?/,
  },
  { name: 'Condition exits: { yes, no }', text: `variables: { n: number }\nblocks:\n  c:\n    kind: Condition\n    expression: '[n] > 1'\n    exits: { yes: r, no: s }\n  r: { kind: Stop }\n  s: { kind: Stop }\n`, code: 'E_UNKNOWN_EXIT', line: 6, col: 22, hint: /^did you mean "false"\?/ },
  // 49: an exit to a list of blocks: one block per exit, and how to run the others.
  {
    name: 'exits: { next: [b, c] }',
    text: `variables: { v: string }\nblocks:\n  a:\n    kind: Variable\n    set: { v: '"x"' }\n    exits: { next: [b, c] }\n  b: { kind: Stop }\n  c: { kind: Stop }\n`,
    code: 'E_UNKNOWN_TARGET', line: 6, col: 20, message: /leads to a list \(b, c\): an exit leads to one block/, hint: /^write next: b, and run c after it/,
  },
  // 51, 55, 75, 164: the line to write, not the block's whole example.
  { name: 'scenario: 42', text: `blocks:\n  b:\n    kind: AsyncScenario\n    scenario: 42\n`, code: 'E_INVALID_PROPERTY', line: 4, col: 15, hint: /^e\.g\. scenario: BpiumNewTask$/ },
  { name: 'timeout: ten', text: `blocks:\n  w:\n    kind: WebRequest\n    method: GET\n    url: '"http://x.ru"'\n    timeout: ten\n`, code: 'E_INVALID_PROPERTY', line: 6, col: 14, hint: /^e\.g\. timeout: 10 \(seconds, per attempt\)$/ },
  { name: 'values: { 2: [200] }', text: `blocks:\n  r:\n    kind: ReturnValue\n    values: { 2: [200] }\n`, code: 'E_INVALID_PROPERTY', line: 4, col: 18, hint: /^YAML reads \[200\] as a list: write 2: 200$/ },
  { name: 'template: templates/x', text: `variables: { e: string }\nblocks:\n  m:\n    kind: SendMail\n    to: '[e]'\n    template: templates/daily-report.text.njk\n`, code: 'E_INVALID_PROPERTY', line: 6, col: 15, hint: /not a path .*: write template: daily-report$/ },
];

describe('trial 50: scenario error messages name the place and the fix', () => {
  itGivesIssues(CASES);
  it('a file with no blocks says that once, not also that its start block does not exist', () => {
    const r = loadScenarioText('T.yaml', `start: a\nblocks: {}\n`, { registry: defaultRegistry });
    assert.deepEqual(r.ok ? [] : r.issues.map((i) => i.code), ['E_MISSING_PROPERTY']);
  });
  it('a ":" left out in exits is the only problem (the block it leads to is not unreachable)', () => {
    const r = loadScenarioText('T.yaml', `variables: { v: string }\nblocks:\n  a:\n    kind: Variable\n    set: { v: '"x"' }\n    exits: { next b }\n  b:\n    kind: Stop\n`, { registry: defaultRegistry });
    assert.deepEqual(r.ok ? [] : r.issues.map((i) => i.code), ['E_UNKNOWN_EXIT']);
  });
  it('transitions: for exits is the only problem (the blocks it leads to are not unreachable)', () => {
    const r = loadScenarioText('T.yaml', `variables: { v: string }\nblocks:\n  a:\n    kind: Variable\n    set: { v: '"x"' }\n    transitions: { next: b }\n  b:\n    kind: Variable\n    set: { v: '"y"' }\n    exits: { next: c }\n  c:\n    kind: Stop\n`, { registry: defaultRegistry });
    assert.deepEqual(r.ok ? [] : r.issues.map((i) => `${i.line}:${i.col} ${i.code}`), ['6:5 E_UNKNOWN_KEY']);
  });
  it('next: on a Parser is read as its success exit: the block it leads to is not also unreachable', () => {
    const r = loadScenarioText('T.yaml', `variables: { b: string, x: string }\nblocks:\n  p:\n    kind: Parser\n    mode: json\n    document: '[b]'\n    extract: { x: $.a }\n    exits: { next: r }\n  r: { kind: Stop }\n`, { registry: defaultRegistry });
    assert.deepEqual(r.ok ? [] : r.issues.map((i) => `${i.line}:${i.col} ${i.code}`), ['8:14 E_UNKNOWN_EXIT']);
  });
  it('two byte-order marks are the only problem (the first key is not also unknown)', () => {
    const r = loadScenarioText('T.yaml', `\uFEFF\uFEFF${setV(`'"x"'`)}`, { registry: defaultRegistry });
    assert.deepEqual(r.ok ? [] : r.issues.map((i) => `${i.line}:${i.col} ${i.code}`), ['1:1 E_YAML_SYNTAX']);
  });
  // A file that loads all the same keeps loading (it did before these characters were looked for, and refusing it
  // after an upgrade would answer its webhooks with 500): the characters are warnings on the scenario, at their place.
  it('a NUL in a title, a form feed or a colour code in a comment: the file loads, with a warning at each', () => {
    const cases: Array<[string, string, string[]]> = [
      ['a NUL in a title', setV(`'"x"'`).replace('kind: Variable', 'kind: Variable\n    title: При\u0000мер'), ['5:15 a NUL character (U+0000)']],
      ['a form feed and a colour code in comments', `# раздел\u000c\n# \u001b[31mкрасный\u001b[0m\n${setV(`'"x"'`)}`, ['1:9 the control character U+000C', '2:3 the control character U+001B']],
    ];
    for (const [what, text, want] of cases) {
      const r = loadScenarioText('T.yaml', text, { registry: defaultRegistry });
      assert.ok(r.ok, `${what}: ${r.ok ? '' : r.issues.map((i) => i.message).join('; ')}`);
      assert.deepEqual((r.scenario.textWarnings ?? []).map((w) => `${w.line}:${w.col} ${/^the file holds (.+?), which/.exec(w.message)?.[1]}`), want, what);
    }
  });
  it('a file saved as UTF-16 is refused as such, with one problem', () => {
    const utf16 = Buffer.from(setV(`'"x"'`), 'utf16le').toString('utf8');
    const r = loadScenarioText('T.yaml', utf16, { registry: defaultRegistry });
    assert.deepEqual(r.ok ? [] : r.issues.map((i) => `${i.line}:${i.col} ${i.message}`), ['1:2 the file is saved as UTF-16 (a NUL character beside every letter), not as UTF-8']);
  });
  it('a description that is empty, a number or a yes/no loads (as it always did); a list or a mapping is refused', () => {
    for (const d of ['', '2024', 'yes']) {
      const r = loadScenarioText('T.yaml', `description: ${d}\n${setV(`'"x"'`)}`, { registry: defaultRegistry });
      assert.ok(r.ok, `description: ${d}: ${r.ok ? '' : r.issues.map((i) => i.message).join('; ')}`);
      if (d === '2024') assert.equal(r.scenario.description, '2024');
    }
    for (const [d, word] of [['[a, b]', 'a list'], ['{ a: b }', 'a mapping']]) {
      const r = loadScenarioText('T.yaml', `description: ${d}\n${setV(`'"x"'`)}`, { registry: defaultRegistry });
      assert.deepEqual(r.ok ? [] : r.issues.map((i) => `${i.line}:${i.col} ${i.message}`), [`1:14 "description" must be text, not ${word}`]);
    }
  });
  it('one byte-order mark at the start of the file is no problem', () => {
    const r = loadScenarioText('T.yaml', `\uFEFF${setV(`'"x"'`)}`, { registry: defaultRegistry });
    assert.ok(r.ok, r.ok ? '' : r.issues.map((i) => i.message).join('; '));
  });
  it('a recipient from a variable, or a valid constant list, is left to the run', () => {
    for (const to of [`'[email]'`, `'"a@b.ru; Иван <ivan@example.com>"'`]) {
      const r = loadScenarioText('T.yaml', mail(`    to: ${to}`), { registry: defaultRegistry });
      assert.ok(r.ok, r.ok ? '' : r.issues.map((i) => i.message).join('; '));
    }
  });
});

/** Mail templates (172, 174): a misspelt tag gets the tag meant, a `for` nunjucks cannot read gets how it is written. */
const TEMPLATE_CASES: Array<{ name: string; text: string; line: number; col: number; message: RegExp; hint: RegExp }> = [
  { name: '{% elsee %}', text: 'Отчёт\n{% if sentCount > 0 %}есть{% elsee %}нет{% endif %}\n', line: 2, col: 30, message: /unknown block tag: elsee/, hint: /^did you mean \{% else %\}\?$/ },
  { name: '{% fi %}', text: '{% fi sentCount %}есть{% endif %}\n', line: 1, col: 4, message: /unknown block tag: fi/, hint: /^did you mean \{% if %\}\?$/ },
  { name: '{% for x in %}', text: 'Строки:\n{% for line in %}{{ line }}{% endfor %}\n', line: 2, col: 16, message: /unexpected token: %\}/, hint: /\{% for item in list %\}…\{% endfor %\}/ },
  { name: '{% for x %}', text: '{% for line %}{{ line }}{% endfor %}\n', line: 1, col: 4, message: /expected "in"/, hint: /\{% for item in list %\}…\{% endfor %\}/ },
];

describe('trial 50: mail template syntax errors say the fix', () => {
  for (const c of TEMPLATE_CASES) {
    it(c.name, () => {
      const tmp = tempDir();
      try {
        writeFileSync(join(tmp.dir, 't.text.njk'), c.text);
        const issues = createTemplateRenderer({ dir: tmp.dir }).check('t');
        assert.equal(issues.length, 1, JSON.stringify(issues));
        const i = issues[0]!;
        assert.deepEqual([i.line, i.col], [c.line, c.col]);
        assert.match(i.message, c.message);
        assert.match(i.hint ?? '', c.hint);
      } finally {
        tmp.cleanup();
      }
    });
  }
});
