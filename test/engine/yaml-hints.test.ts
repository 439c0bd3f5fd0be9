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
