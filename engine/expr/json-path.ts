// Our small path language for JsonGet/JsonCount: dot-separated keys and [n] / ["key"] steps. Not JSONPath.
import { oneLine } from './runtime-error.js';
import { quotedText } from './syntax-error.js';
import type { JsonValue } from '../values.js';

/**
 * Grammar: an optional `$` root, then steps. `.name` is a key of an object, or an index when the current value is
 * an array and the name is an integer (`payload.values.2`). `[n]` is an index (negative counts from the end; on an
 * object it is the key "n"). `["key"]` / `['key']` is a key with any characters (`values["4"]`). No filters,
 * wildcards or recursion. The empty path is the whole document.
 */
export type PathStep = { key: string; index: number | undefined };
export type PathParse = { ok: true; steps: PathStep[] } | { ok: false; offset: number; message: string; hint: string };

const INTEGER = /^-?\d+$/;
const NAME_STOP = new Set(['.', '[', ']', '"', "'"]);
const cache = new Map<string, PathParse>();

export const JSON_PATH_HINT = 'a path is keys separated by dots with [n] indexes, e.g. payload.values.2 or payload.values["4"][0].id';

export function parseJsonPath(path: string): PathParse {
  const hit = cache.get(path);
  if (hit) return hit;
  const result = parse(path);
  if (cache.size > 1000) cache.clear();
  cache.set(path, result);
  return result;
}

function parse(path: string): PathParse {
  const steps: PathStep[] = [];
  const fail = (offset: number, message: string, hint = JSON_PATH_HINT): PathParse => ({ ok: false, offset, message, hint });
  let i = 0;
  if (path[0] === '$' && (path.length === 1 || path[1] === '.' || path[1] === '[')) i = path[1] === '.' ? 2 : 1;
  let expectName = i === 2 || i === 0;
  if (i === 0 && path.length > 0 && path[0] === '.') return fail(0, 'a path cannot start with "."', 'start with the first key, e.g. payload.id');
  if (path.length === 0 || (i > 0 && i === path.length)) return { ok: true, steps };
  while (i < path.length) {
    const c = path[i]!;
    if (c === '[') {
      const close = path.indexOf(']', i);
      const q = path[i + 1];
      if (q === '"' || q === "'") {
        const end = path.indexOf(q, i + 2);
        if (end < 0 || path[end + 1] !== ']') return fail(i, `unclosed [${q}…${q}] step`, `write a key with any characters as [${q}key${q}]`);
        const key = path.slice(i + 2, end);
        steps.push({ key, index: INTEGER.test(key) ? Number(key) : undefined });
        i = end + 2;
      } else {
        if (close < 0) return fail(i, 'unclosed "[" in path', 'write an index as [0] or a key as ["key"]');
        const inner = path.slice(i + 1, close).trim();
        if (!INTEGER.test(inner)) return fail(i, `${quotedText(`[${inner}]`)} is not an index`, 'inside [] write an integer index, e.g. [0], or a quoted key, e.g. ["4"]');
        steps.push({ key: String(Number(inner)), index: Number(inner) });
        i = close + 1;
      }
      expectName = false;
      if (i < path.length && path[i] !== '.' && path[i] !== '[') return fail(i, `unexpected "${path[i]}" after "]"`, 'after ] comes ".", "[" or the end of the path');
      if (path[i] === '.') {
        i++;
        expectName = true;
        if (i === path.length) return fail(i - 1, 'the path ends with "."');
      }
      continue;
    }
    if (!expectName) return fail(i, `unexpected "${c}" in path`);
    let j = i;
    while (j < path.length && !NAME_STOP.has(path[j]!)) j++;
    const name = path.slice(i, j);
    if (name === '') return fail(i, c === '.' ? 'empty key between dots' : `unexpected "${c}" in path`);
    // A line break in the key is shown escaped (oneLine), in the message and in the key the hint writes: a message or
    // hint is one line in the log, the console and `validate`'s output.
    if (/\s/.test(name)) return fail(i, `key "${oneLine(name)}" holds spaces`, `write such a key in brackets: ["${oneLine(name.trim())}"]`);
    steps.push({ key: name, index: INTEGER.test(name) ? Number(name) : undefined });
    i = j;
    expectName = false;
    if (path[i] === '.') {
      i++;
      expectName = true;
      if (i === path.length) return fail(i - 1, 'the path ends with "."');
    } else if (i < path.length && path[i] !== '[') {
      return fail(i, `unexpected "${path[i]}" in path`);
    }
  }
  return { ok: true, steps };
}

/** Follows `steps` from `doc`; undefined when a step is missing or the value there cannot have children. */
export function followPath(doc: JsonValue, steps: readonly PathStep[]): JsonValue | undefined {
  let cur: JsonValue | undefined = doc;
  for (const s of steps) {
    if (cur === null || typeof cur !== 'object') return undefined;
    if (Array.isArray(cur)) {
      if (s.index === undefined) return undefined;
      cur = cur[s.index < 0 ? cur.length + s.index : s.index];
    } else {
      cur = Object.hasOwn(cur, s.key) ? cur[s.key] : undefined;
    }
  }
  return cur;
}
