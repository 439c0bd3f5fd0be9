// Text colours of the console's stylesheet meet WCAG AA (4.5:1) on the backgrounds they are drawn on (review U13):
// step durations, muted text (also inside the red error box) and the green status badges; its focus rings 3:1. The
// contrast is computed from the colours in console.css, as a checker would compute it from the rendered page.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { repoPath } from '../helpers.js';

const CSS = readFileSync(repoPath('server/console/assets/console.css'), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
const ROOT = Object.fromEntries([...(/:root\s*{([^}]*)}/.exec(CSS)?.[1] ?? '').matchAll(/(--[\w-]+)\s*:\s*([^;]+);/g)].map((m) => [m[1], m[2]!.trim()]));

/** The value of `property` in the first top-level rule whose selector list has `selector`, variables resolved. */
function declared(selector: string, property: string): string {
  for (const rule of CSS.matchAll(/([^{}]+){([^{}]*)}/g)) {
    if (!rule[1]!.split(',').map((s) => s.trim()).includes(selector)) continue;
    const m = new RegExp(`(?:^|;)\\s*${property}\\s*:\\s*([^;]+)`).exec(rule[2]!);
    if (m) return resolve(m[1]!.trim());
  }
  throw new Error(`no ${property} for ${selector} in console.css`);
}

function resolve(value: string): string {
  const v = /^var\((--[\w-]+)\)$/.exec(value);
  return v ? resolve(ROOT[v[1]!] ?? '') : value;
}

/** WCAG 2 relative luminance of a #rgb or #rrggbb colour. */
function luminance(color: string): number {
  assert.match(color, /^#([0-9a-f]{3}|[0-9a-f]{6})$/i);
  const hex = color.length === 4 ? `#${[...color.slice(1)].map((c) => c + c).join('')}` : color;
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

describe('console colours', () => {
  it('computes contrast as WCAG does', () => {
    assert.equal(contrast('#000000', '#ffffff').toFixed(1), '21.0');
    assert.equal(contrast('#a4adbb', '#ffffff').toFixed(2), '2.26'); // the review's step duration colour
  });

  const pairs: Array<[string, string, string]> = [
    ['step durations on a panel', declared('.step .ms', 'color'), resolve('var(--surface)')],
    ['step durations on a jumped-to step', declared('.step .ms', 'color'), declared('.step:target', 'background')],
    ['muted text on a panel', declared('.muted', 'color'), resolve('var(--surface)')],
    ['muted text on the page background', declared('.muted', 'color'), resolve('var(--bg)')],
    ['muted text in the red error box', declared('.muted', 'color'), declared('.notice.bad', 'background')],
    ['green badges (completed, succeeded, sent, valid)', declared('.st-completed', 'color'), declared('.st-completed', 'background')],
    ['the live badge', declared('.live', 'color'), declared('.live', 'background')],
    ['2xx answer badges', declared('.http-2xx', 'color'), declared('.http-2xx', 'background')],
    ['4xx answer badges', declared('.http-4xx', 'color'), declared('.http-4xx', 'background')],
    ['5xx answer badges', declared('.http-5xx', 'color'), declared('.http-5xx', 'background')],
    ['3xx answer badges (the plain badge)', declared('.badge', 'color'), declared('.badge', 'background')],
  ];
  for (const [what, fg, bg] of pairs) {
    it(`${what}: ${fg} on ${bg} is at least 4.5:1`, () => {
      const ratio = contrast(fg, bg);
      assert.ok(ratio >= 4.5, `${what}: ${fg} on ${bg} is ${ratio.toFixed(2)}:1`);
    });
  }

  // A focus ring is a part of the page, not text: WCAG 1.4.11 asks 3:1 against what is beside it (accessibility trial
  // 48: the fields' and buttons' light blue ring was 1.9:1 on a panel).
  const ring = (selector: string) => resolve(declared(selector, 'outline').split(/\s+/).pop()!);
  const rings: Array<[string, string, string]> = [
    ['the focus ring of a button on a panel', ring('button:focus-visible'), resolve('var(--surface)')],
    ['the focus ring of a field on the page background', ring('input:focus'), resolve('var(--bg)')],
    ['the focus ring of a field in the red error box', ring('select:focus'), declared('.notice.bad', 'background')],
    ['the focus ring of a header link on the header', ring('.top a:focus-visible'), declared('.top', 'background')],
    ['the focus ring of the current menu item', ring('.top a:focus-visible'), declared('.top nav a.active', 'background')],
  ];
  for (const [what, fg, bg] of rings) {
    it(`${what}: ${fg} on ${bg} is at least 3:1`, () => {
      const ratio = contrast(fg, bg);
      assert.ok(ratio >= 3, `${what}: ${fg} on ${bg} is ${ratio.toFixed(2)}:1`);
    });
  }
});
