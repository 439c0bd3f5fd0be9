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
