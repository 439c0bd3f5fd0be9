// A value in YAML's "…" holding a \n escape (`x: "[a] Итого\nруб"`): the expression sees a line break, and the hint's
// value to paste, the expression's fix in '…', held that break, so the line to write came out in two lines. The
// value is now given in YAML's "…" with the escape as written, on one line, and pasted it loads as the fix meant.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioText } from '../../engine/index.js';

const scenario = (value: string) => `variables:
  x: { type: string }
  a: { type: string }
blocks:
  s: { kind: Start, exits: { next: v } }
  v:
    kind: Variable
    set:
      x: ${value}
    exits: { next: e }
  e: { kind: Stop }
`;

/** The hint for the value `x:` is given, and the value it says to write. */
function hintFor(value: string): { hint: string; pasted: string } {
  const r = loadScenarioText('T.yaml', scenario(value), { registry: defaultRegistry });
  assert.equal(r.ok, false, 'the file must be refused');
  const issue = (r.ok ? [] : r.issues).find((i) => i.code === 'E_INVALID_EXPRESSION' && i.line === 9);
  assert.ok(issue?.hint, JSON.stringify(r));
  const pasted = /^write ("(?:[^"\\]|\\.)*") — /.exec(issue.hint)?.[1];
  assert.ok(pasted, issue.hint);
  return { hint: issue.hint, pasted };
}

describe('a \\n escape in a "…" value: the hint\'s value stays on one line', () => {
  for (const [value, meant] of [
    ['"[a] Итого\\nруб"', '[a] + "Итого\nруб"'],
    ['"\\"Line1\\nLine2\\"-minute"', '"Line1\nLine2-minute"'],
    ['"reports@example.com\\nfoo"', '"reports@example.com\nfoo"'],
  ] as const) {
    it(`x: ${value}`, () => {
      const { hint, pasted } = hintFor(value);
      assert.doesNotMatch(hint, /[\n\r]/);
      assert.match(hint, / — in YAML's "…" a \\n is the line break, as you wrote it, and a \\" is a quote the expression keeps$/);
      // Pasted, it loads, and the expression is the fix meant (its line break YAML's \n).
      const r = loadScenarioText('T.yaml', scenario(pasted), { registry: defaultRegistry });
      assert.equal(r.ok, true, JSON.stringify(r.ok ? '' : r.issues));
      const config = (r.ok ? r.scenario.blocks.get('v')!.config : {}) as { exprs?: Array<{ source: string }> };
      assert.equal(config.exprs?.[0]?.source, meant);
    });
  }

  it('a fix with no line break is still given in \'…\'', () => {
    const r = loadScenarioText('T.yaml', scenario('"[a] Итого"'), { registry: defaultRegistry });
    const issue = (r.ok ? [] : r.issues).find((i) => i.code === 'E_INVALID_EXPRESSION');
    assert.match(issue?.hint ?? '', /^write '\[a\] \+ "Итого"'/);
  });
});
