// console.css hides the steps' ▸/▾ from screen readers with CSS alternative text (`content: "▸" / ""`). A browser
// without that syntax (Firefox before 128, Safari before 17.4) drops the whole declaration as invalid, and the
// triangle with it: each such declaration must follow a plain `content` in its rule, which those browsers keep.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { repoPath } from '../helpers.js';

const CSS = readFileSync(repoPath('server/console/assets/console.css'), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');

describe('console.css in browsers without CSS alternative text', () => {
  const rules = [...CSS.matchAll(/([^{}]+){([^{}]*)}/g)].filter((r) => /content\s*:[^;]*"\s*\/\s*"/.test(r[2]!));
  it('has rules whose content carries alternative text', () => assert.ok(rules.length > 0));
  for (const r of rules) {
    const selector = r[1]!.trim();
    it(`${selector}: a plain content comes first, so the triangle stays drawn`, () => {
      const contents = [...r[2]!.matchAll(/(?:^|;)\s*content\s*:\s*([^;]+)/g)].map((m) => m[1]!.trim());
      const alt = contents.findIndex((c) => /"\s*\/\s*"/.test(c));
      assert.ok(contents.slice(0, alt).some((c) => !/"\s*\/\s*"/.test(c)), `${selector} { ${r[2]!.trim()} }`);
    });
  }
});
