// `oktell-emu test`: a case's fake Bpium finds with the filters the scenario gives in either form, sorts, and refuses
// what the real client (a filter's field id that cannot go into a URL) or the emulator (a field the catalog lacks)
// refuses, with the same code. It used to take any array-form filter as "every record" and ignore the sort.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testCases } from './cli.helper.js';

const SCENARIOS: Record<string, string> = {
  'Find.yaml': `description: finds an employee by the filter given in parameter 1, sorted by name descending
variables: { answer: json, code: string }
start: find
blocks:
  find:
    kind: Bpium
    method: findRecord
    catalog: '"3"'
    filtersJson: InputParameter(1)
    sortField: 1
    sortOrder: desc
    answer: answer
    errorCode: code
    exits: { success: found, error: none }
  found: { kind: ReturnValue, values: { 1: 'JsonGet([answer], "values.1")' } }
  none: { kind: ReturnValue, values: { 1: '"none " + [code]' } }
`,
};

const BPIUM = `    bpium:
      catalogs:
        "3":
          fields: [{ id: "1", name: Имя, type: text }, { id: "2", name: Эл. почта, type: text }]
          records:
            "1": { "1": Администратор, "2": admin@example.com }
            "2": { "1": Иван Петров, "2": ivan.petrov@example.com }
            "3": { "1": Мария Смирнова, "2": maria.smirnova@example.org }
`;

const oneCase = (name: string, filter: string, outcome: string) => `  - name: ${name}
    scenario: Find
    params: { 1: '${filter}' }
${BPIUM}    expect:
      returnValues: { 1: "${outcome}" }
`;

describe('oktell-emu test: the fake Bpium applies filters and the sort as the emulator, and refuses what it and the client refuse', () => {
  it('array and object form, the sort, an unknown field (400) and an id the client refuses (BPIUM_INVALID_ID)', () => {
    const r = testCases(
      SCENARIOS,
      oneCase('array form', '[{"fieldId":"2","value":"EXAMPLE.COM"}]', 'Иван Петров') +
        oneCase('object form with $or', '{"$or":[{"2":"admin"},{"2":"maria"}]}', 'Мария Смирнова') +
        oneCase('no filter, sorted by name descending', '[]', 'Мария Смирнова') +
        oneCase('a field the catalog lacks', '[{"fieldId":"9","value":"x"}]', 'none 400') +
        oneCase('a field id that cannot go into a URL', '[{"fieldId":"2&x=1","value":"x"}]', 'none BPIUM_INVALID_ID'),
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /5 passed, 0 failed/);
  });
});
