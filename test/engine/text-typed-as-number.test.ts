// Values an integrator types as text but YAML or the expression language would read as numbers: phone numbers and
// dates without quotes (`8-800-555-35-35` is a subtraction) are refused at load time, at the value, with the quoted
// form to paste.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioText, type ScenarioIssue } from '../../engine/index.js';

/** Loads a scenario whose ReturnValue 1 is the YAML value written after "1:" (line 6, column 10). */
function returnValue(value: string): ScenarioIssue[] {
  const text = `variables: { phone: string }
start: r
blocks:
  r:
    kind: ReturnValue
    values:
      1: ${value}
`;
  const r = loadScenarioText('Trap.yaml', text, { registry: defaultRegistry });
  return r.ok ? [] : r.issues;
}

describe('digit groups joined by "-" (a phone number, a date) are not silently computed', () => {
  const refused: Array<{ yaml: string; col: number; hint: string | RegExp; message: RegExp }> = [
    { yaml: '8-800-555-35-35', col: 10, message: /^8-800-555-35-35 is read as a subtraction, 8 - 800 - 555 - 35 - 35 = -1417;/, hint: /^write '"8-800-555-35-35"' / },
    { yaml: '2024-03-15', col: 10, message: /2024 - 03 - 15 = 2006/, hint: /^write '"2024-03-15"' / },
    { yaml: '"2024-03-15"', col: 11, message: /read as a subtraction/, hint: /^write '"2024-03-15"' / },
    { yaml: '+7-900-123-45-67', col: 10, message: /^\+7-900-123-45-67 is read as a subtraction/, hint: /^write '"\+7-900-123-45-67"' / },
    { yaml: '12-5', col: 10, message: /12 - 5 = 7/, hint: /^write '"12-5"' / },
    { yaml: '15/03/2024', col: 10, message: /is read as a division, 15 \/ 03 \/ 2024;/, hint: /^write '"15\/03\/2024"' / },
    // In single quotes the expression's own quotes survive YAML, so the hint is the expression form, and says both ways.
    { yaml: `'8-800-555-35-35'`, col: 11, message: /read as a subtraction/, hint: 'if it is text, quote it: "8-800-555-35-35"; if you mean a subtraction, put spaces around "-": 8 - 800 - 555 - 35 - 35' },
    // Inside a longer expression: three groups or more, located at the date itself.
    { yaml: `'"Дата: " + 2024-03-15'`, col: 22, message: /^2024-03-15 is read as a subtraction/, hint: /^if it is text, quote it: "2024-03-15"/ },
  ];
  for (const c of refused) {
    it(`1: ${c.yaml} is refused at its line:col with the quoted form`, () => {
      const issues = returnValue(c.yaml);
      assert.equal(issues.length, 1, JSON.stringify(issues));
      const [i] = issues;
      assert.deepEqual([i!.code, i!.line, i!.col, i!.block], ['E_INVALID_EXPRESSION', 7, c.col, 'r']);
      assert.match(i!.message, c.message);
      if (typeof c.hint === 'string') assert.equal(i!.hint, c.hint);
      else assert.match(i!.hint!, c.hint);
    });
  }
  for (const ok of [`'10 - 5'`, `'[phone] + "-" + 1'`, `'Mod(10, 3)-1'`, `'10/2'`, `'1.5-2'`, `'"8-800-555-35-35"'`, `'Right([phone], 10)-1'`]) {
    it(`1: ${ok} still loads (arithmetic with spaces, one division, text in quotes)`, () => {
      assert.deepEqual(returnValue(ok), []);
    });
  }
  it('a Variable setting a string variable to an unquoted phone number is refused too', () => {
    const r = loadScenarioText('Trap.yaml', `variables: { phone: string }\nblocks:\n  a:\n    kind: Variable\n    set:\n      phone: 8-800-555-35-35\n`, { registry: defaultRegistry });
    assert.equal(r.ok, false);
    const [i] = r.ok ? [] : r.issues;
    assert.deepEqual([i!.code, i!.line, i!.col], ['E_INVALID_EXPRESSION', 6, 14]);
  });
});

describe('YAML numbers that lose their text where text is expected are refused at the value', () => {
  const load = (text: string) => {
    const r = loadScenarioText('Trap2.yaml', text, { registry: defaultRegistry });
    return r.ok ? [] : r.issues;
  };
  const where = (issues: ScenarioIssue[]) => issues.map((i) => [i.code, i.line, i.col, i.message, i.hint]);
  const set = (type: string, yaml: string) => load(`variables: { v: ${type} }\nblocks:\n  a:\n    kind: Variable\n    set:\n      v: ${yaml}\n`);
  const cases: Array<{ type: string; yaml: string; lost?: string; hint?: string }> = [
    { type: 'string', yaml: '+79001234567', lost: 'the "+" is lost', hint: `for text write '"+79001234567"'; for the number write 79001234567` },
    { type: 'string', yaml: '012345', lost: 'the leading zeros are lost', hint: `for text write '"012345"'; for the number write 12345` },
    { type: 'string', yaml: '1e3', lost: 'the text is not kept as written', hint: `for text write '"1e3"'; for the number write 1000` },
    { type: 'string', yaml: '1.50', lost: 'the text is not kept as written' },
    { type: 'string', yaml: '12345678901234567890', lost: 'a number keeps only 15 significant digits, so the digits after them are lost', hint: `for text write '"12345678901234567890"'` },
    { type: 'number', yaml: '12345678901234567890', lost: 'a number keeps only 15 significant digits, so the digits after them are lost', hint: `if it is an ID or a phone number, keep it as text: declare a string variable and write '"12345678901234567890"'` },
    { type: 'json', yaml: '007', lost: 'the leading zeros are lost' },
    // The same number where a number is stored loses nothing that matters; a number written as it prints is fine anywhere.
    { type: 'number', yaml: '+79001234567' },
    { type: 'number', yaml: '007' },
    { type: 'number', yaml: '1e3' },
    { type: 'string', yaml: '79001234567' },
    { type: 'string', yaml: '1234567890123456' },
    { type: 'string', yaml: '0.5' },
    { type: 'string', yaml: '-5' },
  ];
  for (const c of cases) {
    it(`${c.type} v = ${c.yaml}: ${c.lost ? 'refused' : 'loads'}`, () => {
      const issues = set(c.type, c.yaml);
      if (!c.lost) return assert.deepEqual(issues, []);
      assert.equal(issues.length, 1, JSON.stringify(issues));
      const [i] = issues;
      assert.deepEqual([i!.code, i!.line, i!.col, i!.block], ['E_INVALID_EXPRESSION', 6, 10, 'a']);
      assert.ok(i!.message.endsWith(`: ${c.lost}`), i!.message);
      assert.ok(i!.message.startsWith(`${c.yaml} is read by YAML as the number `), i!.message);
      if (c.hint) assert.equal(i!.hint, c.hint);
    });
  }
  it('in a WebRequest query and JSON body, a phone number and a code with leading zeros are refused at each value', () => {
    const issues = load(`blocks:
  w:
    kind: WebRequest
    method: POST
    url: '"https://sms.example.ru/api"'
    query: { to: +79001234567 }
    json: { to: +79001234567, code: 007, count: 5, price: 1.5, ok: '"+7"' }
`);
    assert.deepEqual(where(issues).map((w) => w.slice(0, 4)), [
      ['E_INVALID_EXPRESSION', 6, 18, '+79001234567 is read by YAML as the number 79001234567: the "+" is lost'],
      ['E_INVALID_EXPRESSION', 7, 17, '+79001234567 is read by YAML as the number 79001234567: the "+" is lost'],
      ['E_INVALID_EXPRESSION', 7, 37, '007 is read by YAML as the number 7: the leading zeros are lost'],
    ]);
  });
  it('a string variable\'s initial value is checked the same way; a number variable\'s only for lost digits', () => {
    const issues = load(`variables:
  phone: { type: string, initial: +79001234567 }
  zip: { type: string, initial: 012345 }
  id: { type: number, initial: 12345678901234567890 }
  count: { type: number, initial: 007 }
  name: { type: string, initial: 42 }
blocks:
  r: { kind: ReturnValue, values: { 1: '[count] + [name]' } }
`);
    assert.deepEqual(where(issues), [
      ['E_INVALID_VARIABLE', 2, 35, 'initial value of "phone": +79001234567 is read by YAML as the number 79001234567: the "+" is lost', `for text write '"+79001234567"'; for the number write 79001234567`],
      ['E_INVALID_VARIABLE', 3, 33, 'initial value of "zip": 012345 is read by YAML as the number 12345: the leading zeros are lost', `for text write '"012345"'; for the number write 12345`],
      ['E_INVALID_VARIABLE', 4, 32, 'initial value of "id": 12345678901234567890 is read by YAML as the number 12345678901234567000: a number keeps only 15 significant digits, so the digits after them are lost', `if it is an ID or a phone number, keep it as text: declare a string variable and write '"12345678901234567890"'`],
    ]);
  });
});
