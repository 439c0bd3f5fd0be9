// Reads one member of a JSON document as its source text, without building the document: the hook needs a few small
// fields (Bpium's hook id, sequenceId, timestamp) of bodies up to the body limit, and needs big numbers as the digits
// that were sent (JSON.parse turns 9007199254740993 into …992). Iterative, so deep nesting cannot overflow the stack.

const WS = new Set([' ', '\t', '\n', '\r']);

/**
 * The source text of the value at `path` (a chain of object keys from the top-level object), or undefined when the
 * text does not have it or is not well-formed up to it. As with JSON.parse, the last of repeated keys wins.
 *
 * @example
 * peekJson('{"hook":{"sequenceId":9007199254740993}}', ['hook', 'sequenceId']) // '9007199254740993'
 * peekJson('{"a":"x"}', ['a']) // '"x"' (strings keep their quotes: see peekJsonText)
 */
export function peekJson(text: string, path: readonly string[]): string | undefined {
  let i = skipWs(text, 0);
  for (const key of path) {
    if (text[i] !== '{') return undefined;
    let found: number | undefined;
    i = skipWs(text, i + 1);
    if (text[i] === '}') return undefined;
    for (;;) {
      const keyEnd = stringEnd(text, i);
      if (keyEnd === undefined) return undefined;
      const name = decodeString(text.slice(i, keyEnd));
      if (name === undefined) return undefined;
      i = skipWs(text, keyEnd);
      if (text[i] !== ':') return undefined;
      const valueStart = skipWs(text, i + 1);
      const valueEnd = valueEndAt(text, valueStart);
      if (valueEnd === undefined) return undefined;
      if (name === key) found = valueStart;
      i = skipWs(text, valueEnd);
      if (text[i] === ',') {
        i = skipWs(text, i + 1);
        continue;
      }
      if (text[i] === '}') break;
      return undefined;
    }
    if (found === undefined) return undefined;
    i = found;
  }
  const end = valueEndAt(text, i);
  return end === undefined ? undefined : text.slice(i, end);
}

/** A member that is a string or a number, as text (a string's decoded value, a number's digits as sent). */
export function peekJsonText(text: string, path: readonly string[]): string | undefined {
  const raw = peekJson(text, path);
  if (raw === undefined) return undefined;
  if (raw.startsWith('"')) return decodeString(raw);
  return /^-?\d/.test(raw) ? raw : undefined;
}

function skipWs(text: string, i: number): number {
  while (i < text.length && WS.has(text[i]!)) i++;
  return i;
}

/** The index after the closing quote of the string starting at `i`. */
function stringEnd(text: string, i: number): number | undefined {
  if (text[i] !== '"') return undefined;
  for (let j = i + 1; j < text.length; j++) {
    const c = text[j];
    if (c === '\\') j++;
    else if (c === '"') return j + 1;
  }
  return undefined;
}

function decodeString(token: string): string | undefined {
  try {
    const v: unknown = JSON.parse(token);
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The index after the value starting at `i` (objects and arrays by counting brackets outside strings). */
function valueEndAt(text: string, i: number): number | undefined {
  const c = text[i];
  if (c === undefined) return undefined;
  if (c === '"') return stringEnd(text, i);
  if (c === '{' || c === '[') {
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const d = text[j];
      if (d === '"') {
        const end = stringEnd(text, j);
        if (end === undefined) return undefined;
        j = end - 1;
      } else if (d === '{' || d === '[') depth++;
      else if (d === '}' || d === ']') {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return undefined;
  }
  const m = /^(?:-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 400));
  return m ? i + m[0].length : undefined;
}
