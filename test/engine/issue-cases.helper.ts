// Rows of scenario texts and the problem each must give, checked the same way by the trials' tests: the file is
// refused, one of its problems has the code at the line and column, and its message and hint hold (or do not hold)
// the words given.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioText } from '../../engine/index.js';

export interface IssueCase {
  name: string;
  text: string;
  code: string;
  line: number;
  col: number;
  /** Words the message must hold. */
  message?: RegExp;
  /** Words the hint must hold. */
  hint?: RegExp;
  /** Words the hint must not hold. */
  notHint?: RegExp;
}

/** One test per row, inside the caller's describe. */
export function itGivesIssues(cases: readonly IssueCase[]): void {
  for (const c of cases) {
    it(c.name, () => {
      const r = loadScenarioText('T.yaml', c.text, { registry: defaultRegistry });
      assert.equal(r.ok, false, 'the file must be refused');
      const issues = r.ok ? [] : r.issues;
      const found = issues.find((i) => i.code === c.code && i.line === c.line && i.col === c.col);
      assert.ok(found, `expected ${c.code} at ${c.line}:${c.col}, got ${issues.map((i) => `${i.line}:${i.col} ${i.code} ${i.message} | ${i.hint ?? ''}`).join('\n')}`);
      if (c.message) assert.match(found.message, c.message);
      if (c.hint) assert.match(found.hint ?? '', c.hint);
      if (c.notHint) assert.doesNotMatch(found.hint ?? '', c.notHint);
    });
  }
}
