// The JSONPath dialect the Parser block accepts, checked at load time (jsonpath-plus silently accepts nonsense).
import { createRequire } from 'node:module';
import type { JSONPath as JSONPathFn } from 'jsonpath-plus';
import type { JsonValue } from './values.js';

/** jsonpath-plus, loaded at the first query (a run), not when scenarios load: its CommonJS build, the same code. */
let jsonPath: typeof JSONPathFn | undefined;
function jsonPathPlus(): typeof JSONPathFn {
  return (jsonPath ??= (createRequire(import.meta.url)('jsonpath-plus') as { JSONPath: typeof JSONPathFn }).JSONPath);
}

/**
 * Our dialect (a strict subset of what jsonpath-plus evaluates):
 * - starts with `$` (the document root);
 * - `.name` child by name (letters of any alphabet, digits, `_`, `-`, `$`): `$.payload.values.2`;
 * - `['name']` or `["name"]` child by any name, `[n]` index (negative counts from the end), `[*]` / `.*` every child;
 * - `..name` / `..*` recursive descent; `[a,b]` unions of indexes or quoted names; `[start:end]` / `[start:end:step]`.
 * Filters (`[?(...)]`) and script expressions (`[(...)]`) are not supported: they would evaluate code.
 */
export type JsonPathCheck = { ok: true } | { ok: false; offset: number; message: string; hint: string };

const NAME = /[\p{L}\p{N}_$-]/u;

export function checkJsonPath(path: string): JsonPathCheck {
  const fail = (offset: number, message: string, hint: string): JsonPathCheck => ({ ok: false, offset, message, hint });
  if (!path.startsWith('$')) {
    return fail(0, 'a JSONPath must start with "$"', `write it from the document root, e.g. "$.${path.replace(/^\.+/, '')}"`);
  }
  let i = 1;
  const readName = (): number => {
    const start = i;
    while (i < path.length && NAME.test(path[i]!)) i++;
    return i - start;
  };
  while (i < path.length) {
    const c = path[i]!;
    if (c === '.') {
      i++;
      if (path[i] === '.') i++;
      if (path[i] === '*') {
        i++;
        continue;
      }
      if (readName() === 0) {
        return fail(i, `expected a property name after "." at position ${i + 1}`, 'use .name, .* or ["any name"]');
      }
      continue;
    }
    if (c === '[') {
      const close = findBracketEnd(path, i);
      if (close < 0) return fail(i, 'unclosed "["', 'close the bracket: [0], [*] or ["name"]');
      const inner = path.slice(i + 1, close).trim();
      const problem = checkBracket(inner);
      if (problem) return fail(i, problem.message, problem.hint);
      i = close + 1;
      continue;
    }
    // `$orderNo`: the "." after the root left out.
    if (i === 1 && NAME.test(c)) return fail(i, `unexpected "${c}" at position ${i + 1}`, `a "." goes between "$" and a name: write $.${path.slice(1)}`);
    return fail(i, `unexpected "${c}" at position ${i + 1}`, 'segments are .name, [n], [*], ["name"], ..name');
  }
  return { ok: true };
}

function findBracketEnd(path: string, open: number): number {
  let quote: string | undefined;
  for (let j = open + 1; j < path.length; j++) {
    const ch = path[j]!;
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
    } else if (ch === ']') {
      return j;
    }
  }
  return -1;
}

const INDEX = /^-?\d+$/;
const QUOTED = /^(?:'[^']*'|"[^"]*")$/;
const SLICE = /^(-?\d+)?:(-?\d+)?(?::(-?\d+))?$/;

function checkBracket(inner: string): { message: string; hint: string } | undefined {
  if (inner === '*' || INDEX.test(inner) || QUOTED.test(inner) || SLICE.test(inner)) return undefined;
  if (inner.startsWith('?') || inner.startsWith('(')) {
    return {
      message: 'filter and script expressions ([?(...)], [(...)]) are not supported',
      hint: 'select with indexes and names, then compare in a Condition block',
    };
  }
  if (inner === '') return { message: 'empty brackets "[]"', hint: 'write an index [0], [*] or a name ["name"]' };
  const parts = inner.split(',').map((p) => p.trim());
  if (parts.length > 1 && parts.every((p) => INDEX.test(p) || QUOTED.test(p))) return undefined;
  return {
    message: `"[${inner}]" is not an index, a quoted name, a slice or a union`,
    hint: /^[\p{L}_$][\p{L}\p{N}_$-]*$/u.test(inner) ? `quote the name: ["${inner}"]` : 'write [0], [*], ["name"], [0,2] or [1:3]',
  };
}

/** Evaluates a checked path; always returns the list of matches (possibly empty). Never evaluates code. */
export function queryJsonPath(path: string, json: JsonValue): JsonValue[] {
  const result = jsonPathPlus()({ path, json: json as object, wrap: true, eval: false }) as JsonValue[] | undefined;
  return result ?? [];
}
