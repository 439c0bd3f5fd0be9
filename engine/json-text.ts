// JSON text of a parsed value at any depth. JSON.parse is iterative in V8 and reads a document nested 100,000 levels
// deep, but JSON.stringify recurses and overflows the stack on it; a webhook is free to contain such a part. So a part
// that is too deep for JSON.stringify is written out by an explicit stack instead, and a scenario can still read
// (and pass on) any part of the document, deep or not.
import { oneLine } from './expr/runtime-error.js';
import type { JsonValue } from './values.js';

/** `JSON.stringify(v)` for a parsed JSON value, also when it nests deeper than the call stack allows. */
export function jsonText(v: JsonValue): string {
  try {
    return JSON.stringify(v);
  } catch (e) {
    if (!isStackOverflow(e)) throw e;
    return deepJsonText(v);
  }
}

/** True for the RangeError V8 throws when the call stack is exhausted. */
export function isStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && /call stack size/i.test(e.message);
}

/** Pending work of the serializer: a value to write, or literal text (separators and closing brackets). */
type Task = { value: JsonValue } | { text: string };

function deepJsonText(root: JsonValue): string {
  const out: string[] = [];
  const stack: Task[] = [{ value: root }];
  while (stack.length) {
    const task = stack.pop()!;
    if ('text' in task) {
      out.push(task.text);
      continue;
    }
    const v = task.value;
    if (v === null || typeof v !== 'object') {
      // Scalars never recurse; JSON.stringify gives exact escapes and number forms (NaN → null cannot occur in parsed JSON).
      out.push(JSON.stringify(v) ?? 'null');
      continue;
    }
    // Pushed in reverse, so they pop in order.
    const parts: Task[] = [];
    if (Array.isArray(v)) {
      parts.push({ text: '[' });
      v.forEach((item, i) => {
        if (i) parts.push({ text: ',' });
        parts.push({ value: item === undefined ? null : item });
      });
      parts.push({ text: ']' });
    } else {
      parts.push({ text: '{' });
      let first = true;
      for (const [k, item] of Object.entries(v)) {
        if (item === undefined) continue;
        parts.push({ text: `${first ? '' : ','}${JSON.stringify(k)}:` }, { value: item });
        first = false;
      }
      parts.push({ text: '}' });
    }
    for (let i = parts.length - 1; i >= 0; i--) stack.push(parts[i]!);
  }
  return out.join('');
}

/**
 * What a parsed JSON value is, in words, for a message that wanted an object: `a JSON array of 2 items (objects)`,
 * `an empty JSON array`, `the JSON text "abc"`, `the number 5`, `null`, `true`; `a JSON object` for an object.
 */
export function jsonKind(v: JsonValue): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) {
    if (v.length === 0) return 'an empty JSON array';
    const objects = v.every((x) => x !== null && typeof x === 'object' && !Array.isArray(x));
    return `a JSON array of ${v.length === 1 ? 'one item' : `${v.length} items`}${objects ? (v.length === 1 ? ', an object' : ', objects') : ''}`;
  }
  if (typeof v === 'object') return 'a JSON object';
  if (typeof v === 'string') return `the JSON text ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'number') return `the number ${v}`;
  return String(v);
}

/**
 * Why JSON.parse refused a text, on one line: V8's message quotes the stretch of the text around the mistake
 * (`Unexpected token 'a', "ab<line break>cd" is not valid JSON`) with its line breaks, which a block's error variable,
 * the trace and the log would show broken in two; they are written as escapes (oneLine), as JsonGet's error shows them.
 */
export function notJsonReason(e: unknown): string {
  return oneLine(e instanceof Error ? e.message : String(e));
}
