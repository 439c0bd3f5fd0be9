// One wrong entry of a mapping property (a Parser `extract` entry with a bad option) is reported as what it is, and
// the other entries still get their own checks in the same pass.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioText } from '../../engine/index.js';

const load = (text: string) => {
  const r = loadScenarioText('Jp.yaml', text, { registry: defaultRegistry });
  // In file order, as validate prints them.
  return r.ok ? [] : r.issues.map((i) => [i.code, i.line, i.col, i.message]).sort((x, y) => (x[1] as number) - (y[1] as number));
};

describe('a Parser with one bad extract entry', () => {
  it('names the bad option, not "expected string, received object", and checks every other entry', () => {
    const issues = load(`variables: { body: string, a: string, b: string, c: string, f: string, g: string }
blocks:
  p:
    kind: Parser
    mode: json
    document: '[body]'
    extract:
      a: $.items[?(@.price > 10)].name
      b: payload.id
      c: $.items[
      f: { path: $.x, function: sum }
    exits: { success: r }
  r:
    kind: Parser
    mode: regex
    document: '[body]'
    extract:
      g: { pattern: '(?<num>\\d+)', group: num }
`);
    assert.deepEqual(issues, [
      ['E_INVALID_JSONPATH', 8, 10, 'JSONPath "$.items[?(@.price > 10)].name": filter and script expressions ([?(...)], [(...)]) are not supported'],
      ['E_INVALID_JSONPATH', 9, 10, 'JSONPath "payload.id": a JSONPath must start with "$"'],
      ['E_INVALID_JSONPATH', 10, 10, 'JSONPath "$.items[": unclosed "["'],
      ['E_INVALID_PROPERTY', 11, 33, '"extract.f.function": "sum" is not one of "value", "count", "exists", "all"'],
      ['E_INVALID_PROPERTY', 18, 43, '"extract.g.group": Invalid input: expected number, received string'],
    ]);
  });
  it('a Variable block with one entry YAML read as a list still has its other assignments checked', () => {
    const issues = load(`variables: { n: number, s: string }\nblocks:\n  a:\n    kind: Variable\n    set:\n      s: [n]\n      n: '"zero"'\n`);
    assert.deepEqual(issues.map((i) => [i[0], i[1]]), [['E_INVALID_PROPERTY', 6], ['E_INVALID_PROPERTY', 7]]);
    assert.match(issues[1]![3] as string, /^n \(number\) is set to "zero", which fails on every run/);
  });
});

describe('a Condition given both of its forms', () => {
  it('is one problem saying so, not an unknown property with a did-you-mean of its own name', () => {
    const r = loadScenarioText('C.yaml', `variables: { n: number }
blocks:
  c2:
    kind: Condition
    expression: '[n] > 1'
    left: '[n]'
    operator: '>'
    right: 1
    exits: { true: c3, false: c3 }
  c3: { kind: Stop }
`, { registry: defaultRegistry });
    assert.deepEqual(r.ok ? [] : r.issues.map((i) => [i.code, i.line, i.col, i.message, i.hint]), [
      ['E_INVALID_PROPERTY', 6, 5, 'Condition takes one form: "expression" or "left", "operator", "right", not both', 'remove "left", "operator", "right", or remove "expression"'],
    ]);
  });
});

describe('an unknown kind', () => {
  const hintFor = (kind: string) => {
    const r = loadScenarioText('K.yaml', `blocks:\n  a: { kind: ${kind} }\n`, { registry: defaultRegistry });
    const i = r.ok ? undefined : r.issues[0];
    assert.equal(i?.code, 'E_UNKNOWN_KIND');
    return i!.hint!.replace(/ known kinds: .*$/, '');
  };
  const cases: Array<[string, string]> = [
    ['Присвоение', '«Присвоение» is kind: Variable'],
    ['сравнение', '«Сравнение» is kind: Condition'],
    ['Возвращаемое значение 1', '«Возвращаемое значение» is kind: ReturnValue'],
    ['Запрос к Bpium', '«Запрос к Bpium» is kind: Bpium'],
    ['Return', 'did you mean "ReturnValue"?'],
    ['Async', 'did you mean "AsyncScenario"?'],
    ['Mail', 'did you mean "SendMail"?'],
    ['Varable', 'did you mean "Variable"?'],
    ['SQL', 'did you mean "DbQuery"? an SQL query is kind: DbQuery («Запрос в БД»);'],
    ['HTTP', 'did you mean "WebRequest"? an HTTP request is kind: WebRequest («Запрос к WEB-сервису»);'],
    ['If', 'did you mean "Condition"? a condition is kind: Condition («Сравнение»);'],
  ];
  for (const [kind, hint] of cases) it(`kind: ${kind} → ${hint}`, () => assert.equal(hintFor(kind), hint));
});

describe('lists where mappings belong: one problem each, with the mapping to paste', () => {
  const issuesOf = (text: string) => {
    const r = loadScenarioText('Sh.yaml', text, { registry: defaultRegistry });
    return r.ok ? [] : r.issues.map((i) => [i.code, i.line, i.col, i.message, i.hint]);
  };
  it('variables and exits as lists: no unknown variable, no exit leading to "[object Object]"', () => {
    assert.deepEqual(issuesOf(`variables:
  - phone
blocks:
  a:
    kind: Start
    param: phone
    exits: b
  b:
    kind: Variable
    set: { phone: '"x"' }
    exits:
      - next: c
  c: { kind: Stop }
`), [
      ['E_INVALID_VARIABLE', 2, 3, '"variables" must be a mapping of names to types', 'give each its type: variables: { phone: string }'],
      ['E_INVALID_PROPERTY', 7, 12, '"exits" must map exit names to block ids', 'write exits: { next: b }; exits of Start: next'],
      ['E_INVALID_PROPERTY', 12, 7, '"exits" must map exit names to block ids', 'write exits: { next: c }; exits of Variable: next'],
    ]);
  });
  it('variables as a list of "- name: type" items: the mapping to paste, and the names read are not unknown', () => {
    assert.deepEqual(issuesOf(`variables:
  - x: string
  - n: { type: number, initial: 1 }
blocks:
  a:
    kind: Variable
    set: { x: 1, n: '[n] + 1' }
    exits: { next: b }
  b:
    kind: Condition
    expression: "[x] = 1"
`), [['E_INVALID_VARIABLE', 2, 3, '"variables" must be a mapping of names to types', 'write variables: { x: string, n: { type: number, initial: 1 } }']]);
  });
  it('variables as a list of "- name:" and "type:" items reads the names and types from them', () => {
    assert.deepEqual(issuesOf('variables:\n  - name: x\n    type: string\n  - phone\nblocks:\n  a: { kind: Variable, set: { x: \'[phone]\' } }\n'), [
      ['E_INVALID_VARIABLE', 2, 3, '"variables" must be a mapping of names to types', 'give each its type: variables: { x: string, phone: string }'],
    ]);
  });
  it('blocks as a list is not "a scenario needs blocks"', () => {
    assert.deepEqual(issuesOf('blocks:\n  - kind: Start\n  - kind: Stop\n'), [
      ['E_NOT_A_MAPPING', 2, 3, '"blocks" must be a mapping of block ids to blocks, not a list', 'give each block an id in place of its "- ", e.g. begin: { kind: Start, exits: { next: done } } (exits lead to ids)'],
    ]);
  });
  it('an exit leading to a mapping shows it as written, not as [object Object]', () => {
    const [i] = issuesOf('blocks:\n  a:\n    kind: Start\n    exits: { next: { b: 1 } }\n  b: { kind: Stop }\n');
    assert.equal(i![3], 'exit "next" leads to {"b":1}, which is not a block of this scenario');
  });
});

describe('ReturnValue numbers and empty values', () => {
  it('a number 0 or a word as a return value number is named with the rule at the key; an empty value says to remove the line', () => {
    const r = loadScenarioText('RV.yaml', `blocks:\n  r:\n    kind: ReturnValue\n    values:\n      1: '"a"'\n      0: 1\n      x: 2\n      5: null\n      6:\n`, { registry: defaultRegistry });
    assert.deepEqual(r.ok ? [] : r.issues.map((i) => [i.line, i.col, i.message, i.hint?.split('\n')[0]]).sort((a, b) => (a[0] as number) - (b[0] as number)), [
      [6, 7, '"values.0": return value numbers are 1..99, got "0"', 'see the ReturnValue example:'],
      [7, 7, '"values.x": return value numbers are 1..99, got "x"', 'see the ReturnValue example:'],
      [8, 7, '"values.5" has no value', `give it a value ('""' for empty text), or remove the line`],
      [9, 7, '"values.6" has no value', `give it a value ('""' for empty text), or remove the line`],
    ]);
  });
});

describe('start: pointing past the Start block', () => {
  it('the unreachable Start block gets a hint about start:, not "wire an exit to it, or delete it"', () => {
    const r = loadScenarioText('Unr.yaml', `variables: { x: number }
start: a
blocks:
  z: { kind: Start, exits: { next: a } }
  a:
    kind: Variable
    set: { x: '[x] + 1' }
    exits: { next: c }
  c:
    kind: Condition
    expression: '[x] < 3'
    exits: { true: a, false: null }
`, { registry: defaultRegistry });
    assert.deepEqual(r.ok ? [] : r.issues.map((i) => [i.code, i.line, i.col, i.hint]), [
      ['E_UNREACHABLE_BLOCK', 4, 3, '"start: a" skips the Start block "z": remove "start:", or write start: z'],
    ]);
  });
});

describe('an HTTP fixture file in the scenarios folder', () => {
  it('is recognised by its "- match:" items', () => {
    const r = loadScenarioText('sms.yaml', '- match: POST https://sms.example.ru/api/*\n  status: 201\n  json: { id: m-1 }\n', { registry: defaultRegistry });
    assert.deepEqual(r.ok ? [] : r.issues.map((i) => [i.code, i.line, i.col, i.hint]), [
      ['E_NOT_A_MAPPING', 1, 1, 'this looks like an --http-fixtures file: every .yaml in the scenarios folder is read as a scenario, so keep fixtures outside it'],
    ]);
  });
});

describe('the graph checks run whatever else is wrong in the file', () => {
  const loop = (exitOfA: string, orphanExits = '') => `variables:
  i: number
blocks:
  a:
    kind: Variable
    set: { i: '[i] + [nope]' }
    exits: { ${exitOfA} }
  b:
    kind: Condition
    expression: '[i] < 3'
    exits: { true: a, false: a }
  orphan:
    kind: ReturnValue
    values: { 1: 1 }${orphanExits}
`;
  const codes = (text: string) => load(text).map((i) => `${i[0]} ${i[1]}:${i[2]}`);
  it('an unknown variable does not hide an endless loop and an unreachable block', () => {
    assert.deepEqual(codes(loop('next: b')), ['E_ENDLESS_LOOP 4:3', 'E_UNKNOWN_VARIABLE 6:23', 'E_UNREACHABLE_BLOCK 12:3']);
  });
  it('a mistyped exit name counts as the exit it resembles', () => {
    assert.deepEqual(codes(loop('nxt: b')), ['E_ENDLESS_LOOP 4:3', 'E_UNKNOWN_VARIABLE 6:23', 'E_UNKNOWN_EXIT 7:14', 'E_UNREACHABLE_BLOCK 12:3']);
  });
  it('a mistyped target does not make the block it resembles unreachable, nor makes a loop of it', () => {
    assert.deepEqual(codes(loop('next: bb')), ['E_UNKNOWN_VARIABLE 6:23', 'E_UNKNOWN_TARGET 7:20', 'E_UNREACHABLE_BLOCK 12:3']);
  });
  it('a target that resembles no block may have meant any block not reached: none is reported unreachable', () => {
    assert.deepEqual(codes(loop('next: zzz')), ['E_UNKNOWN_VARIABLE 6:23', 'E_UNKNOWN_TARGET 7:20']);
  });
  it('an unknown target on a block that cannot run does not hide that the block cannot run', () => {
    assert.deepEqual(codes(loop('next: b', '\n    exits: { next: zzz }')), ['E_ENDLESS_LOOP 4:3', 'E_UNKNOWN_VARIABLE 6:23', 'E_UNREACHABLE_BLOCK 12:3', 'E_UNKNOWN_TARGET 15:20']);
  });
  it('a mistyped start counts as the block it resembles', () => {
    assert.deepEqual(codes(`start: aa\n${loop('next: b')}`), ['E_UNKNOWN_START 1:8', 'E_ENDLESS_LOOP 5:3', 'E_UNKNOWN_VARIABLE 7:23', 'E_UNREACHABLE_BLOCK 13:3']);
  });
  it('exits under a misspelt key ("exit:") are the block\'s exits: the block they lead to is not reported unreachable', () => {
    assert.deepEqual(codes(loop('next: b').replace('exits: { next: b }', 'exit: { next: b }')), ['E_ENDLESS_LOOP 4:3', 'E_UNKNOWN_VARIABLE 6:23', 'E_UNKNOWN_KEY 7:5', 'E_UNREACHABLE_BLOCK 12:3']);
  });
  it('a block whose exits cannot be read leaves the graph unknown: no graph problem is reported', () => {
    assert.deepEqual(codes(loop('next: b').replace('exits: { true: a, false: a }', 'exits: [a]')), ['E_UNKNOWN_VARIABLE 6:23', 'E_INVALID_PROPERTY 11:12']);
  });
});

describe('keys of a Bpium block\'s values and filters are literal', () => {
  it('a key written with quotes inside is refused at the key, with the unquoted form; the other keys pass', () => {
    const r = loadScenarioText('Bq.yaml', `variables: { email: string, id: string }
blocks:
  find:
    kind: Bpium
    method: findRecord
    catalog: 3
    filters: { '"Эл. почта"': '[email]' }
    exits: { success: make }
  make:
    kind: Bpium
    method: createRecord
    catalog: 4
    values: { '"2"': '[email]', 3: '"ok"', Статус: '"new"' }
    newId: id
`, { registry: defaultRegistry });
    assert.deepEqual(r.ok ? [] : r.issues.map((i) => [i.code, i.line, i.col, i.message, i.hint]), [
      ['E_INVALID_PROPERTY', 7, 16, '"filters" key "\\"Эл. почта\\"" has quotes inside: Bpium would be asked for a field named with them', `keys of "filters" are literal field ids or names, not expressions: write the key without the inner quotes, 'Эл. почта'`],
      ['E_INVALID_PROPERTY', 13, 15, '"values" key "\\"2\\"" has quotes inside: Bpium would be asked for a field named with them', `keys of "values" are literal field ids or names, not expressions: write the key without the inner quotes, '2'`],
    ]);
  });
});

describe('JSON written in square brackets', () => {
  it('is not offered as a variable to declare: […] reads a variable, JSON is text in «…»', () => {
    const r = loadScenarioText('Js.yaml', `variables: { id: string }
blocks:
  make:
    kind: Bpium
    method: createRecord
    catalog: 4
    values: { '4': '[{"id": "2"}]', 5: '"a" + [{"id": "2"}]', 6: '[idd]' }
    newId: id
`, { registry: defaultRegistry });
    const why = '[…] reads a variable, and {"id": "2"} is not a variable name; JSON is written as text';
    assert.deepEqual(r.ok ? [] : r.issues.map((i) => [i.code, i.line, i.col, i.hint]), [
      ['E_UNKNOWN_VARIABLE', 7, 22, `${why}: write '«[{"id": "2"}]»'`],
      ['E_UNKNOWN_VARIABLE', 7, 48, `${why}: write «[{"id": "2"}]» in its place`],
      ['E_UNKNOWN_VARIABLE', 7, 68, 'did you mean [id]?'],
    ]);
  });
  it('the «…» form it proposes loads', () => {
    const r = loadScenarioText('Js.yaml', `variables: { id: string }\nblocks:\n  make:\n    kind: Bpium\n    method: createRecord\n    catalog: 4\n    values: { '4': '«[{"id": "2"}]»' }\n    newId: id\n`, { registry: defaultRegistry });
    assert.equal(r.ok, true, r.ok ? '' : JSON.stringify(r.issues));
  });
});

describe('a block with schema mistakes still has its own checks, in the same pass', () => {
  /** Every problem of one load, as `line:col code`, in file order. */
  const problems = (text: string, databases?: Record<string, 'sqlite' | 'postgres'>) => {
    const r = loadScenarioText('B.yaml', text, { registry: defaultRegistry, ...(databases ? { databases } : {}) });
    return r.ok ? [] : r.issues.map((i) => `${i.line}:${i.col} ${i.code}`).sort((a, b) => parseFloat(a.replace(':', '.')) - parseFloat(b.replace(':', '.')) || a.localeCompare(b));
  };
  const block = (lines: string) => `variables: { err: number, body: string, when: datetime, x: string }\nblocks:\n  b:\n${lines.replace(/^/gm, '    ')}\n`;
  // [what, the block's lines (line 4 on), the problems, the connections configured (default: main and crm)]
  const cases: Array<[string, string, string[], Record<string, 'sqlite' | 'postgres'>?]> = [
    [
      'WebRequest: wrong types beside two bodies, bad headers and a number errorCode',
      `kind: WebRequest\nmethod: FETCH\nurl: '"https://x.example"'\ntimeout: "ten"\nmaxRedirects: -1\njson: { a: '"1"' }\nform: { b: '"2"' }\nheaders: { "Bad Header": '"x"', Content-Length: '"1"' }\nerrorCode: err`,
      ['5:13 E_INVALID_PROPERTY', '7:14 E_INVALID_PROPERTY', '8:19 E_INVALID_PROPERTY', '10:11 E_INVALID_PROPERTY', '11:30 E_INVALID_PROPERTY', '11:53 E_INVALID_PROPERTY', '12:16 E_INVALID_PROPERTY'],
    ],
    [
      'DbQuery: a wrong maxRows beside an unknown connection, a ? placeholder, a missing and an unused parameter',
      `kind: DbQuery\nconnection: crmm\nsql: SELECT x FROM t WHERE a = ? AND b = :b\nparams: { c: '"1"' }\nmaxRows: lots`,
      ['5:17 E_UNKNOWN_CONNECTION', '6:36 E_INVALID_PROPERTY', '6:46 E_MISSING_PROPERTY', '7:18 E_INVALID_PROPERTY', '8:14 E_INVALID_PROPERTY'],
    ],
    // A left-out property is unknown, not absent nor its default: no second problem for the same mistake.
    ['a wrong method is not taken for GET (no "a GET request has no body", no idempotencyKey remark)', `kind: WebRequest\nmethod: post\nurl: '"https://x.example"'\njson: { a: '"1"' }\nidempotencyKey: true`, ['5:13 E_INVALID_PROPERTY']],
    ['a wrong body leaves contentType alone', `kind: WebRequest\nmethod: POST\nurl: '"https://x.example"'\nbody: [x]\ncontentType: text/plain`, ['7:11 E_INVALID_PROPERTY']],
    ['a parameter without a value is not also missing from params', `kind: DbQuery\nsql: SELECT 1 WHERE :c = 1\nparams: { c }`, ['6:15 E_INVALID_PROPERTY']],
    ['a wrong connection is not taken for "main" (which is not configured here)', `kind: DbQuery\nconnection: 5\nsql: SELECT 1 AS one`, ['5:17 E_INVALID_PROPERTY'], { crm: 'sqlite' }],
    ['a text given as a list does not make SendMail "need text"', `kind: SendMail\nto: '"a@example.com"'\nsubject: '"s"'\ntext: [body]`, ['7:11 E_INVALID_PROPERTY']],
    ['a misspelt subject does not make SendMail "need subject"', `kind: SendMail\nto: '"a@example.com"'\nsubjct: '"s"'\ntext: '"t"'`, ['6:5 E_UNKNOWN_KEY']],
    ['a wrong record does not make getRecord "need record"', `kind: Bpium\nmethod: getRecord\ncatalog: '"3"'\nrecord: [x]`, ['7:13 E_INVALID_PROPERTY']],
    // Output variables are checked in the same pass, at their property.
    ['responseBody into a datetime beside a wrong timeout', `kind: WebRequest\nurl: '"https://x.example"'\ntimeout: 0\nresponseBody: when`, ['6:14 E_INVALID_PROPERTY', '7:19 E_INVALID_PROPERTY']],
  ];
  const both: Record<string, 'sqlite' | 'postgres'> = { main: 'sqlite', crm: 'postgres' };
  for (const [what, lines, expected, databases = both] of cases) {
    it(what, () => assert.deepEqual(problems(block(lines), databases), expected));
  }

  it('says which blocks could not be checked further: a required property missing, or no form of a Condition fits', () => {
    const text = block(`kind: SendMail\nsubject: '"s"'\ntext: '[nobody]'\nexits: { success: c }`) + `  c:\n    kind: Condition\n    left: '[x]'\n    operator: '=>'\n    right: '""'\n`;
    const r = loadScenarioText('D.yaml', text, { registry: defaultRegistry });
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.deepEqual(r.issues.map((i) => `${i.line}:${i.col} ${i.code}`), ['4:5 E_MISSING_PROPERTY', '6:13 E_UNKNOWN_VARIABLE', '11:15 E_INVALID_PROPERTY']);
    assert.deepEqual(r.deferred, [
      { file: 'D.yaml', line: 3, col: 3, block: 'b', checks: 'its own checks' },
      { file: 'D.yaml', line: 8, col: 3, block: 'c', checks: 'its own checks' },
    ]);
  });
});
