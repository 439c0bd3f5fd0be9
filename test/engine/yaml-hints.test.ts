// Hints written for the YAML file an expression sits in: quotes YAML would strip, bare variable names, flow lists,
// and errors inside multi-line (|, >-) expressions located at the offending character.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioText, type ScenarioIssue } from '../../engine/index.js';

/** Loads a one-block scenario whose Variable block sets `note` to the YAML value written after "note:". */
function issuesOf(noteValue: string): ScenarioIssue[] {
  const text = `variables: { note: string, authorEmail: string }
start: a
blocks:
  a:
    kind: Variable
    set:
      note: ${noteValue}
`;
  const r = loadScenarioText('Hints.yaml', text, { registry: defaultRegistry });
  assert.equal(r.ok, false, 'the scenario must be invalid');
  return r.ok ? [] : r.issues;
}

describe('expression hints that fit YAML', () => {
  it('unquoted text suggests the YAML-safe form with both quotes', () => {
    const [i] = issuesOf('Письмо отправлено');
    assert.equal(i!.code, 'E_INVALID_EXPRESSION');
    assert.match(i!.hint!, /'"Письмо отправлено"'/);
  });
  it('text in double quotes, which YAML strips, gets the same suggestion', () => {
    const [i] = issuesOf('"Письмо отправлено"');
    assert.match(i!.hint!, /'"Письмо отправлено"'/);
  });
  it('the suggestion is the whole corrected expression, with a single quote doubled for YAML', () => {
    const [i] = issuesOf(`Готово + 'x'`);
    assert.match(i!.hint!, /'"Готово" \+ ''x'''/);
  });
  it('text with a character no expression has (an e-mail address), in double quotes or bare, gets the quoted text as its fix', () => {
    const [quoted] = issuesOf('"reports@example.com"');
    assert.equal(quoted!.hint, `write '"reports@example.com"' — YAML drops the "…" around a whole value; the outer '…' keep them for the expression`);
    const [bare] = issuesOf('reports@example.com');
    assert.equal(bare!.hint, `write '"reports@example.com"' — text needs its own quotes; the outer '…' keep them for the expression`);
    // With a variable in it, the whole value is not text: no such fix.
    assert.equal(issuesOf('"[note] @"')[0]!.hint, 'put text in quotes, e.g. "text"');
  });
  it('a correction that would still be wrong is not offered whole; the YAML quoting is still said', () => {
    const [i] = issuesOf('"Задача [note]"');
    assert.equal(i!.hint, `put text in quotes: "Задача", and wrap the whole value in '…' so YAML keeps those quotes`);
  });
  it('inside single quotes the expression quotes survive, so the hint stays the expression form', () => {
    const [i] = issuesOf(`'Письмо отправлено'`);
    assert.match(i!.hint!, /put text in quotes: "Письмо отправлено"$/);
  });
  it('a bare word naming a declared variable suggests [name]', () => {
    const [i] = issuesOf('authorEmail');
    assert.match(i!.hint!, /variable/);
    assert.match(i!.hint!, /'\[authorEmail\]'/);
  });
  it('an unquoted [name] followed by more of the expression breaks the YAML list: quote the expression', () => {
    const r = loadScenarioText('C.yaml', "variables: { total: number }\nblocks:\n  c:\n    kind: Condition\n    expression: [total] > 0  # positive\n    exits: { true: s, false: s }\n  s: { kind: Stop }\n", { registry: defaultRegistry });
    const [i] = r.ok ? [] : r.issues;
    assert.equal(i!.code, 'E_YAML_SYNTAX');
    assert.match(i!.hint!, /^YAML reads a value starting with \[ as a list; quote the expression: expression: '\[total\] > 0'/);
  });
  it('an unquoted [name] is a YAML list: the hint says so and quotes it', () => {
    const [i] = issuesOf('[authorEmail]');
    assert.equal(i!.code, 'E_INVALID_PROPERTY');
    assert.match(i!.hint!, /list/);
    assert.match(i!.hint!, /'\[authorEmail\]'/);
  });
  it('a folded (>-) expression points at the offending character, not the start of the value', () => {
    const [i] = issuesOf('>-\n        If([authorEmail] = "",\n           "пусто",\n           [note] Готово)');
    // line 10 is `           [note] Готово)`; "Готово" starts at column 19.
    assert.deepEqual([i!.line, i!.col], [10, 19]);
  });
  it('a literal (|) expression too', () => {
    const [i] = issuesOf('|\n        [note] +\n        +');
    assert.deepEqual([i!.line, i!.col], [9, 9]);
  });
  it('a plain scalar continued on the next line too', () => {
    const [i] = issuesOf('1 +\n        ) + 1');
    assert.deepEqual([i!.line, i!.col], [8, 9]);
  });
});

describe('a hyphenated unquoted text is quoted whole, so that following the hint gives no second error', () => {
  const drops = `— YAML drops the "…" around a whole value; the outer '…' keep them for the expression`;
  /** [what is set (the YAML after "set:"), line, col, message, hint] */
  const cases: Array<[string, number, number, string, string]> = [
    ['{ g: every-minute }', 5, 15, 'unquoted text "every-minute" in expression "every-minute"', `write '"every-minute"' ${drops}`],
    ['\n      g: every-minute', 6, 10, 'unquoted text "every-minute" in expression "every-minute"', `write '"every-minute"' ${drops}`],
    ['\n      g: a-b-c', 6, 10, 'unquoted text "a-b-c" in expression "a-b-c"', `write '"a-b-c"' ${drops}`],
    ['\n      g: every minute-of-day', 6, 10, 'unquoted text "every minute-of-day" in expression "every minute-of-day"', `write '"every minute-of-day"' ${drops}`],
    // In single quotes the expression's quotes survive YAML: the expression's own hint, the whole word quoted.
    [`\n      g: '[g] + every-minute'`, 6, 17, 'unquoted text "every-minute" in expression "[g] + every-minute"', 'put text in quotes: "every-minute"'],
    // A "-" with spaces around it is a subtraction: only the word before it is text.
    [`\n      g: 'every - 1'`, 6, 11, 'unquoted text "every" in expression "every - 1"', 'put text in quotes: "every"'],
    // The old hint followed ("every" quoted, -minute left out): the text quoted whole; spaced, "-" is still a minus.
    [`{ g: '"every"-minute' }`, 5, 16, 'text quoted only up to the "-": "every"-minute in expression "\\"every\\"-minute"', 'quote it whole: "every-minute"'],
    [`{ g: '"every" - minute' }`, 5, 26, 'unquoted text "minute" in expression "\\"every\\" - minute"', 'put text in quotes: "minute"'],
    // A content type (ReturnValue 3 of the hook) is one text too: quoting only "application" left "application"/json.
    ['\n      g: application/json', 6, 10, 'unquoted text "application/json" in expression "application/json"', `write '"application/json"' ${drops}`],
    [`\n      g: 'text/plain'`, 6, 11, 'unquoted text "text/plain" in expression "text/plain"', 'put text in quotes: "text/plain"'],
    [`{ g: '"application"/json' }`, 5, 16, 'text quoted only up to the "/": "application"/json in expression "\\"application\\"/json"', 'quote it whole: "application/json"'],
  ];
  for (const [set, line, col, message, hint] of cases) {
    it(`set: ${set.trim()}`, () => {
      const r = loadScenarioText('Dash.yaml', `variables: { g: string }\nblocks:\n  a:\n    kind: Variable\n    set: ${set}\n`, { registry: defaultRegistry });
      assert.deepEqual(r.ok ? [] : r.issues.map((i) => [i.code, i.line, i.col, i.message, i.hint]), [['E_INVALID_EXPRESSION', line, col, message, hint]]);
    });
  }
  // Written without the outer '…', "every"-minute is a YAML slip first: the line the YAML hint gives has the text
  // quoted whole, so that following it gives no second error.
  for (const [set, line, col, fixed] of [
    ['{ g: "every"-minute }', 5, 22, `set: { g: '"every-minute"' }`],
    ['\n      g: "every"-minute', 6, 17, `g: '"every-minute"'`],
    ['\n      g: "application"/json', 6, 23, `g: '"application/json"'`],
  ] as const) {
    it(`set: ${set.trim()} (a YAML slip)`, () => {
      const r = loadScenarioText('Dash.yaml', `variables: { g: string }\nblocks:\n  a:\n    kind: Variable\n    set: ${set}\n`, { registry: defaultRegistry });
      const [op, reads] = fixed.includes('/') ? ['/', 'a division'] : ['-', 'a minus'];
      const hint = `YAML ends a value that starts with " at its closing quote; wrap the whole expression in single quotes: ${fixed} (the text quoted whole, not only up to its "${op}", which the expression reads as ${reads})`;
      assert.deepEqual(r.ok ? [] : r.issues.map((i) => [i.code, i.line, i.col, i.hint]), [['E_YAML_SYNTAX', line, col, hint]]);
    });
  }
  it('the value the hint proposes loads', () => {
    const r = loadScenarioText('Dash.yaml', `variables: { g: string }\nblocks:\n  a:\n    kind: Variable\n    set: { g: '"every-minute"' }\n`, { registry: defaultRegistry });
    assert.equal(r.ok, true, JSON.stringify(!r.ok && r.issues));
  });
});

describe('a value outside a fixed set names the set and the likely one', () => {
  const first = (operator: string) => {
    const r = loadScenarioText('Op.yaml', `variables: { n: number }\nstart: c\nblocks:\n  c:\n    kind: Condition\n    left: '[n]'\n    operator: '${operator}'\n    right: 5\n    exits: { true: s, false: s }\n  s: { kind: Stop }\n`, { registry: defaultRegistry });
    assert.equal(r.ok, false);
    return r.ok ? undefined : r.issues[0]!;
  };
  for (const [written, meant] of [['=>', '>='], ['=<', '<='], ['===', '=='], ['contain', 'contains'], ['STARTSWITH', 'startsWith']] as const) {
    it(`operator ${written} → did you mean ${meant}`, () => {
      const i = first(written)!;
      assert.deepEqual([i.code, i.line, i.col], ['E_INVALID_PROPERTY', 7, 15]);
      assert.match(i.message, new RegExp(`^"operator": ${JSON.stringify(written)} is not one of "=", "<>", `));
      assert.equal(i.hint, `did you mean "${meant}"?`);
    });
  }
  it('nothing close: the kind\'s example', () => {
    assert.match(first('xyz')!.hint!, /^see the Condition example/);
  });
});

describe('mistakes in the YAML structure name what is wrong and where', () => {
  const load = (text: string) => {
    const r = loadScenarioText('Keys.yaml', text, { registry: defaultRegistry });
    assert.equal(r.ok, false, 'the scenario must be invalid');
    return r.ok ? [] : r.issues;
  };
  it('a duplicate key names the key and the line and column of its first occurrence', () => {
    const [i] = load('start: a\nblocks:\n  a:\n    kind: Stop\n  b:\n    kind: Stop\n  a:\n    kind: Stop\n');
    assert.equal(i!.code, 'E_DUPLICATE_KEY');
    assert.deepEqual([i!.line, i!.col], [7, 3]);
    assert.equal(i!.message, 'duplicate key "a" (first at line 3, column 3)');
  });
  it('a duplicate key does not hide the file\'s other problems; in a Variable\'s set: the hint says how to set it twice', () => {
    const issues = load(`variables: { num: number, dt: datetime, s: string }
blocks:
  a:
    kind: Variable
    set:
      num: '"zero"'
      dt: '5'
      s: '[nope]'
      num: 3
`);
    assert.deepEqual(issues.map((i) => [i.code, i.line, i.col]), [
      ['E_DUPLICATE_KEY', 9, 7],
      ['E_INVALID_PROPERTY', 7, 11],
      ['E_UNKNOWN_VARIABLE', 8, 12],
    ]);
    assert.equal(issues[0]!.hint, 'a Variable block sets each variable once: nest the two expressions in one (the later one with the earlier in place of [num]), or set it again in a second Variable block; the rest of the file is checked with the later line');
  });
  it('a duplicate block id is reported once, and the later block is checked once', () => {
    const issues = load(`variables: { x: number }\nblocks:\n  a:\n    kind: Stop\n  a:\n    kind: Variable\n    set: { x: '[y]' }\n`);
    assert.deepEqual(issues.map((i) => [i.code, i.line, i.col]), [['E_DUPLICATE_KEY', 5, 3], ['E_UNKNOWN_VARIABLE', 7, 17]]);
    assert.match(issues[0]!.hint!, /^each key may appear once; rename or merge the two entries/);
  });
  it('one indentation mistake is one error, the first the parser found, and the hint says more followed', () => {
    const issues = load('variables: { x: string }\nstart: a\nblocks:\n  a:\n    kind: Variable\n   set: { x: \'"1"\' }\n    exits: { next: b }\n  b:\n    kind: Stop\n');
    assert.deepEqual(issues.map((i) => [i.code, i.line]), [['E_YAML_SYNTAX', 6]]);
    assert.match(issues[0]!.hint!, /^indent "set" like "kind" on line 5 \(column 5\), with spaces; the parser reports \d+ more errors? after this one/);
  });
  it('"varibles:" for "variables:" is one error with a did-you-mean, not one more per variable read', () => {
    const issues = load('varibles: { x: string, y: number }\nstart: a\nblocks:\n  a:\n    kind: Variable\n    set: { x: \'"1"\', y: \'[y] + 1\' }\n');
    assert.deepEqual(issues.map((i) => [i.code, i.line, i.col]), [['E_UNKNOWN_KEY', 1, 1]]);
    assert.match(issues[0]!.hint!, /^did you mean "variables"\?/);
  });
  it('"exit:" written for "exits:" gets a did-you-mean from the keys every block has', () => {
    const issues = load('start: a\nblocks:\n  a:\n    kind: Stop\n    exit: { next: a }\n');
    const i = issues.find((x) => x.code === 'E_UNKNOWN_KEY');
    assert.ok(i, JSON.stringify(issues));
    assert.deepEqual([i.line, i.col], [5, 5]);
    assert.match(i.hint!, /^did you mean "exits"\? properties of every block: kind, title, description, exits; of Stop: /);
  });
  it('an unknown key inside a property lists only that property\'s keys', () => {
    const issues = load('variables: { x: string }\nstart: a\nblocks:\n  a:\n    kind: Parser\n    mode: json\n    document: \'[x]\'\n    extract: { x: { path: $.a, requred: true } }\n');
    const i = issues.find((x) => x.code === 'E_UNKNOWN_KEY');
    assert.ok(i, JSON.stringify(issues));
    assert.match(i.hint!, /^did you mean "required"\? properties: /);
    assert.doesNotMatch(i.hint!, /every block/);
  });
});

describe('a Variable block assigning a constant its variable can never hold is refused at load time, at the assignment', () => {
  const cases: Array<{ type: string; value: string; refused?: RegExp }> = [
    { type: 'number', value: `'"zero"'`, refused: /^i \(number\) is set to "zero", which fails on every run: cannot convert text "zero" to a number$/ },
    { type: 'number', value: `'"x" + 1'`, refused: /cannot convert text "x1" to a number/ },
    { type: 'number', value: `'1 / 0'`, refused: /division by zero/ },
    { type: 'datetime', value: `'"not a date"'`, refused: /i \(datetime\) is set to "not a date"/ },
    { type: 'json', value: `'"{oops"'`, refused: /is not valid JSON/ },
    { type: 'number', value: `'"12"'` },
    { type: 'number', value: '5' },
    { type: 'string', value: '5' },
    { type: 'datetime', value: `'"2026-12-01 10:00"'` },
    { type: 'number', value: `'Len("abc")'` },
  ];
  for (const c of cases) {
    it(`${c.type} i = ${c.value}: ${c.refused ? 'refused' : 'loads'}`, () => {
      const r = loadScenarioText('Const.yaml', `variables: { i: ${c.type} }\nstart: a\nblocks:\n  a:\n    kind: Variable\n    set:\n      i: ${c.value}\n`, { registry: defaultRegistry });
      if (!c.refused) return assert.equal(r.ok, true, JSON.stringify(!r.ok && r.issues));
      assert.equal(r.ok, false);
      const [i] = r.ok ? [] : r.issues;
      assert.deepEqual([i!.code, i!.line, i!.col, i!.block], ['E_INVALID_PROPERTY', 7, 10, 'a']);
      assert.match(i!.message, c.refused);
    });
  }
});

describe('a constant expression that fails by itself is not blamed on the variable\'s type', () => {
  it('s (string) = 1 / 0: the hint is about the expression', () => {
    const r = loadScenarioText('Const.yaml', `variables: { s: string, n: number }\nblocks:\n  a:\n    kind: Variable\n    set:\n      s: '1 / 0'\n      n: '"x"'\n`, { registry: defaultRegistry });
    assert.deepEqual(r.ok ? [] : r.issues.map((i) => [i.line, i.message, i.hint]), [
      [6, 's (string) is set to 1 / 0, which fails on every run: operator /: division by zero (in expression "1 / 0")', 'the expression fails whatever it is assigned to: correct the expression'],
      [7, 'n (number) is set to "x", which fails on every run: cannot convert text "x" to a number', 'assign a number value, or declare n with the type of this value'],
    ]);
  });
});

describe('the hint to declare an unknown variable suggests the type its use implies', () => {
  const cases: Array<[string, string]> = [
    [`'[count] + 1'`, 'number'],
    [`'[count] * 2'`, 'number'],
    [`'10 - [count]'`, 'number'],
    [`'[count] > 3'`, 'number'],
    [`'"Задача " + [count]'`, 'string'],
    [`'[count]'`, 'string'],
  ];
  for (const [expression, type] of cases) {
    it(`${expression} → e.g. count: ${type}`, () => {
      const r = loadScenarioText('Hint.yaml', `variables: { note: string }\nstart: a\nblocks:\n  a:\n    kind: Variable\n    set:\n      note: ${expression}\n`, { registry: defaultRegistry });
      const i = r.ok ? undefined : r.issues.find((x) => x.code === 'E_UNKNOWN_VARIABLE');
      assert.equal(i?.hint, `declare it under "variables:", e.g. count: ${type}`);
    });
  }
});

describe('the YAML parser\'s own errors for the usual slips get the line to paste', () => {
  const load = (text: string) => {
    const r = loadScenarioText('Slip.yaml', text, { registry: defaultRegistry });
    assert.equal(r.ok, false, 'the scenario must be invalid');
    return r.ok ? [] : r.issues;
  };
  const cases: Array<{ what: string; yaml: string; at: [number, number]; hint: string }> = [
    {
      what: 'an expression starting with a double-quoted text followed by more (a comment after it is left out)',
      yaml: 'variables: { who: string, greeting: string }\nblocks:\n  greet:\n    kind: Variable\n    set:\n      greeting: "Здравствуйте, " + Trim([who]) + "!"   # привет\n',
      at: [6, 34],
      hint: `YAML ends a value that starts with " at its closing quote; wrap the whole expression in single quotes: greeting: '"Здравствуйте, " + Trim([who]) + "!"'`,
    },
    {
      what: 'a list item in the same shape, with a single quote inside doubled for YAML',
      yaml: `variables: { who: string }\nblocks:\n  r:\n    kind: ReturnValue\n    values:\n      1: "It's " + [who]\n`,
      at: [6, 18],
      hint: `YAML ends a value that starts with " at its closing quote; wrap the whole expression in single quotes: 1: '"It''s " + [who]'`,
    },
    {
      what: 'a double-quoted text never closed, pointed at its opening quote, not at the end of the file',
      yaml: `variables: { who: string }\nblocks:\n  r:\n    kind: ReturnValue\n    values:\n      1: "Здравствуйте, [who]\n      2: 200\n`,
      at: [6, 10],
      hint: `the " on line 6 (column 10) starts a quoted text that is never closed: end it with " (a " inside it is written \\")`,
    },
    {
      what: 'a single-quoted text never closed, after a line whose quoted texts close',
      yaml: `blocks:\n  r:\n    kind: ReturnValue\n    values: { 1: '"a"', 2: 200 }\n    description: 'Ответ на вебхук\n`,
      at: [5, 18],
      hint: `the ' on line 5 (column 18) starts a quoted text that is never closed: end it with ' (a ' inside it is written '')`,
    },
    {
      what: "a ' inside a single-quoted value, in a { } map",
      yaml: `blocks:\n  r:\n    kind: ReturnValue\n    values: { 1: '"it's"', 2: 200 }\n`,
      at: [4, 23],
      hint: `inside '…' YAML reads a ' as the end of the text; write a ' inside it twice: values: { 1: '"it''s"', 2: 200 }`,
    },
    {
      what: "a ' inside a single-quoted value of a key, with a comment after it",
      yaml: `blocks:\n  m:\n    kind: SendMail\n    to: '"a@example.com"'\n    subject: 'Задача 'Поставка'' # тема\n`,
      at: [5, 23],
      hint: `inside '…' YAML reads a ' as the end of the text; write a ' inside it twice: subject: 'Задача ''Поставка''' # тема`,
    },
    {
      what: 'a list item among the keys of a block, pointed at its dash',
      yaml: `blocks:\n  r:\n    kind: ReturnValue\n    values: { 1: '"x"' }\n    - next\n`,
      at: [5, 5],
      hint: `line 5 ("- next") is a list item among the "key: value" lines of "r" (line 2): a list needs a key of its own, written alone on the line above the items (\`items:\`) with the items indented under it; or write the item as "key: value"; the parser reports 2 more errors after this one, most often caused by it`,
    },
    {
      what: 'a list item among the exits of a block: the mapping named is exits, not the exit on the line above',
      yaml: `blocks:\n  r:\n    kind: ReturnValue\n    exits:\n      success: b\n      - next\n  b:\n    kind: ReturnValue\n`,
      at: [6, 7],
      hint: `line 6 ("- next") is a list item among the "key: value" lines of "exits" (line 4): a list needs a key of its own, written alone on the line above the items (\`items:\`) with the items indented under it; or write the item as "key: value"; the parser reports 2 more errors after this one, most often caused by it`,
    },
    {
      what: 'operator: >= unquoted',
      yaml: `variables: { n: number }\nblocks:\n  a:\n    kind: Condition\n    left: '[n]'\n    operator: >=\n    right: 5\n`,
      at: [6, 16],
      hint: `YAML reads a value starting with > as a block of text; quote it: operator: '>='`,
    },
    {
      what: 'a tab in the indentation',
      yaml: 'blocks:\n  a:\n    kind: Start\n\texits: {}\n',
      at: [4, 1],
      hint: 'replace the tab at 4:1 with spaces: YAML indents with spaces only',
    },
    {
      what: 'a key indented one space less than the one above, pointed at the key',
      yaml: `blocks:\n  a:\n    kind: ReturnValue\n   values: { 1: '"x"' }\n`,
      at: [4, 4],
      hint: 'indent "values" like "kind" on line 3 (column 5), with spaces',
    },
    {
      what: 'a key indented one space more than the one above, pointed at the key, not at the value above it',
      yaml: `blocks:\n  a:\n    kind: ReturnValue\n     values: { 1: '"x"' }\n`,
      at: [4, 6],
      hint: 'indent "values" like "kind" on line 3 (column 5), with spaces; the parser reports 1 more error after this one, most often caused by it',
    },
    {
      what: 'a key indented more than the one above, with its own mapping under it',
      yaml: `variables: { n: number }\nblocks:\n  a:\n    kind: Variable\n      set:\n        n: 1\n`,
      at: [5, 7],
      hint: 'indent "set" like "kind" on line 4 (column 5), with spaces; the parser reports 1 more error after this one, most often caused by it',
    },
    {
      what: 'a variable declared one space more to the right than the one above',
      yaml: `variables:\n  n: number\n   s: string\nblocks:\n  a: { kind: Stop }\n`,
      at: [3, 4],
      hint: 'indent "s" like "n" on line 2 (column 3), with spaces; the parser reports 1 more error after this one, most often caused by it',
    },
    {
      what: 'an expression starting with [ inside a { … } map: the line with that value quoted',
      yaml: `variables: { g: number }\nblocks:\n  r:\n    kind: ReturnValue\n    values: { 1: [g] + 1 }\n`,
      at: [5, 22],
      hint: `YAML reads a value starting with [ as a list; quote the expression: values: { 1: '[g] + 1' }`,
    },
    {
      what: 'an expression starting with a double-quoted text inside a { … } map',
      yaml: `variables: { g: string }\nblocks:\n  r:\n    kind: ReturnValue\n    values: { 1: "ok " + [g] }\n`,
      at: [5, 24],
      hint: `YAML ends a value that starts with " at its closing quote; wrap the whole expression in single quotes: values: { 1: '"ok " + [g]' }; the parser reports 4 more errors after this one, most often caused by it`,
    },
    {
      what: 'every such value of the map is quoted (a comma inside a text is no separator, a comment is left out)',
      yaml: `variables: { g: number }\nblocks:\n  r:\n    kind: ReturnValue\n    values: { 1: [g] + 1, 2: '"x"', 3: "a, b" + [g] }  # два\n`,
      at: [5, 22],
      hint: `YAML reads a value starting with [ as a list; quote the expression: values: { 1: '[g] + 1', 2: '"x"', 3: '"a, b" + [g]' }; the parser reports 5 more errors after this one, most often caused by it`,
    },
    {
      what: 'a single quote inside is doubled for YAML, in a map of a Variable block',
      yaml: `variables: { g: string }\nblocks:\n  a:\n    kind: Variable\n    set: { g: "It's " + [g] }\n`,
      at: [5, 23],
      hint: `YAML ends a value that starts with " at its closing quote; wrap the whole expression in single quotes: set: { g: '"It''s " + [g]' }; the parser reports 4 more errors after this one, most often caused by it`,
    },
  ];
  for (const c of cases) {
    it(c.what, () => {
      const issues = load(c.yaml);
      assert.deepEqual(issues.map((i) => [i.code, i.line, i.col, i.hint]), [['E_YAML_SYNTAX', ...c.at, c.hint]]);
    });
  }
  // A plain value with [ ] inside (a function's argument, a variable after an operator): the same quoted line, and
  // that line, pasted in place of the broken one, loads.
  const BRACKETS = 'inside { … } YAML reads [ and ] as the start and end of a list, also within a value; quote the expression: ';
  const inside: Array<{ what: string; line: string; at: [number, number]; fixed: string; more: number }> = [
    { what: 'a function of a variable inside a { … } map', line: 'values: { 1: Trim([g]) + 1 }', at: [5, 23], fixed: `values: { 1: 'Trim([g]) + 1' }`, more: 4 },
    { what: 'a variable after an operator, a comma inside ( )', line: 'values: { 1: Left([g], 2) + "x" }', at: [5, 23], fixed: `values: { 1: 'Left([g], 2) + "x"' }`, more: 5 },
    { what: 'a [ inside the value\'s "…" too, beside a value starting with [ (every broken value quoted)', line: 'values: { 1: Trim("[") + [g], 2: [g] + 1, 3: \'"x"\' }  # два', at: [5, 24], fixed: `values: { 1: 'Trim("[") + [g]', 2: '[g] + 1', 3: '"x"' }`, more: 3 },
  ];
  for (const c of inside) {
    it(`${c.what}: ${c.line}`, () => {
      const yaml = (line: string) => `variables: { g: string }\nblocks:\n  r:\n    kind: ReturnValue\n    ${line}\n`;
      const issues = load(yaml(c.line));
      const hint = `${BRACKETS}${c.fixed}; the parser reports ${c.more} more errors after this one, most often caused by it`;
      assert.deepEqual(issues.map((i) => [i.code, i.line, i.col, i.hint]), [['E_YAML_SYNTAX', ...c.at, hint]]);
      const fixed = loadScenarioText('Slip.yaml', yaml(c.fixed), { registry: defaultRegistry });
      assert.equal(fixed.ok, true, JSON.stringify(!fixed.ok && fixed.issues));
    });
  }
  it('a key indented too far gets the same message as one indented too little, not the parser\'s words about the line above', () => {
    const issues = load(`blocks:\n  a:\n    kind: ReturnValue\n     values: { 1: '"x"' }\n`);
    assert.deepEqual(issues.map((i) => i.message), ['YAML syntax: All mapping items must start at the same column']);
  });
  it('a number written with a thousands space is offered as a number or as text', () => {
    const [i] = issuesOf('1 000');
    assert.equal(i!.hint, `a number has no spaces: write 1000, or '"1 000"' for text`);
  });
  it('unquoted dates, times and a content type get the quoted form', () => {
    for (const v of ['15.03.2024', '09:30', 'text/html; charset=utf-8']) {
      const [i] = issuesOf(v);
      assert.equal(i!.hint, `write '"${v}"' — text needs its own quotes; the outer '…' keep them for the expression`, v);
    }
  });
});

describe('operators from other languages get the one meant', () => {
  const cases: Array<[string, string, string]> = [
    [`'[note] =< 5'`, '"=<" is not an operator', 'did you mean <=? [note] <= 5'],
    [`'[note] => 5'`, '"=>" is not an operator', 'did you mean >=? [note] >= 5'],
    [`'[note] === 5'`, '"===" is not an operator', 'did you mean =? [note] = 5'],
    [`'[note] >< 5'`, '"><" is not an operator', 'did you mean <>? [note] <> 5'],
    ['5 mod 2', 'there is no mod operator', `write 'Mod(5, 2)'`],
    [`'[note] div 2 + 1'`, 'there is no div operator', 'write Floor([note] / 2)'],
  ];
  for (const [yaml, message, hint] of cases) {
    it(`${yaml}: ${hint}`, () => {
      const [i] = issuesOf(yaml);
      assert.equal(i!.message, `${message} in expression ${JSON.stringify(yaml.replace(/^'|'$/g, ''))}`);
      assert.equal(i!.hint, hint);
    });
  }
});

describe('positions in values with escapes and in files with a byte-order mark', () => {
  const first = (text: string) => {
    const r = loadScenarioText('Pos.yaml', text, { registry: defaultRegistry });
    assert.equal(r.ok, false);
    const [i] = r.ok ? [] : r.issues;
    return [i!.code, i!.line, i!.col];
  };
  it('a backslash inside a single-quoted value is located at the backslash (it is no escape there)', () => {
    // The string "x[\" closes at the quote after the backslash; the next backslash, at column 48, is the stray one.
    assert.deepEqual(first(`variables: { body: string }\nblocks:\n  r:\n    kind: ReturnValue\n    values:\n      1: '"a" + [body] + JsonGet([body], "x[\\"y\\"]")'\n`), ['E_INVALID_EXPRESSION', 6, 48]);
  });
  it('a double-quoted value with \\" escapes is located at the character, escapes walked', () => {
    assert.deepEqual(first(`variables: { body: string }\nblocks:\n  r:\n    kind: ReturnValue\n    values:\n      2: "[body] + \\"x\\" + [nop]"\n`), ['E_UNKNOWN_VARIABLE', 6, 29]);
  });
  it('a double-quoted value over several lines with \\" escapes is located on the offending line', () => {
    // Line 7 is `        [nte2]"`: the unknown variable's name starts at column 10.
    assert.deepEqual(first(`variables: { note: string }\nblocks:\n  b:\n    kind: Variable\n    set:\n      note: "\\"Привет\\" +\n        [nte2]"\n`), ['E_UNKNOWN_VARIABLE', 7, 10]);
    // An escaped line break (a backslash at the end of the line) and a \\t escape take no place in the count.
    assert.deepEqual(first(`variables: { note: string }\nblocks:\n  b:\n    kind: Variable\n    set:\n      note: "\\"a\\tb\\" + \\\n        \\"c\\" + [nte2]"\n`), ['E_UNKNOWN_VARIABLE', 7, 18]);
  });
  it("'' in a single-quoted value over several lines counts as one character", () => {
    assert.deepEqual(first(`variables: { note: string }\nblocks:\n  b:\n    kind: Variable\n    set:\n      note: '"it''s" +\n        [nte2]'\n`), ['E_UNKNOWN_VARIABLE', 7, 10]);
  });
  it("'' in a single-quoted value counts as one character", () => {
    assert.deepEqual(first(`variables: { body: string }\nblocks:\n  r:\n    kind: ReturnValue\n    values:\n      1: '"it''s " + [nop]'\n`), ['E_UNKNOWN_VARIABLE', 6, 23]);
  });
  it('a byte-order mark is not a column on line 1', () => {
    assert.deepEqual(first('\uFEFFvaribles:\n  i: number\nblocks:\n  a:\n    kind: ReturnValue\n    values: { 1: "[i]" }\n'), ['E_UNKNOWN_KEY', 1, 1]);
  });
});

describe('a flow mapping or list left open', () => {
  const first = (text: string) => {
    const r = loadScenarioText('Open.yaml', text, { registry: defaultRegistry });
    assert.equal(r.ok, false);
    const [i] = r.ok ? [] : r.issues;
    return i!;
  };
  it('exits: { next: b without its }: at the {, which the parser only notices on the next line', () => {
    const i = first('start: a\nblocks:\n  a:\n    kind: Start\n    exits: { next: b\n  b: { kind: Stop }\n');
    assert.deepEqual([i.code, i.line, i.col, i.message], ['E_YAML_SYNTAX', 5, 12, 'YAML syntax: { without its }']);
    assert.equal(i.hint, 'the { on line 5 (column 12) is not closed: end it with } on that line (a { … } written on one line closes on it)');
  });
  it('a list of one line without its ], a } inside quotes before it not counted', () => {
    const i = first('start: a\nblocks:\n  a:\n    kind: Variable\n    set: { x: \'"}"\' }\n    path: [a, "]", b\n    exits: { next: s }\n  s: { kind: Stop }\n');
    assert.deepEqual([i.line, i.col, i.message], [6, 11, 'YAML syntax: [ without its ]']);
  });
});
