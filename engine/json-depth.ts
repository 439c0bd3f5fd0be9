// A nesting limit for JSON that a run reads from request data (a webhook body, a Web-API parameter, an answer passed
// on). The body limit caps a document's size but not its depth, and V8's JSON.parse spends about a second per million
// nested brackets: a 5 MB body of `[[[…]]]` held the server's only thread for seconds on every parse, stalling every
// other sender. Real webhooks nest a handful of levels, so anything deeper than the limit is refused before it is
// parsed, by one pass over the text that stops at the first bracket too many.

/** Levels of `[` and `{` a document may nest: `[]` is 1 level, `{"a":[]}` 2. Deeper documents are refused unread. */
export const MAX_JSON_DEPTH = 256;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/**
 * The offset of the first bracket that takes text deeper than `limit` levels, or -1 when it stays within it.
 * Brackets inside JSON strings do not count. Not a validator: JSON.parse still rejects malformed text afterwards.
 */
export function jsonTooDeepAt(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++; // the escaped character (a quote or a backslash) cannot end the string
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > limit) return i;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) depth--;
  }
  return -1;
}

/** Thrown by parseJsonWithinDepth; the message is a phrase that follows "the document" or "text …". */
export class JsonTooDeepError extends Error {
  constructor(readonly offset: number) {
    super(`nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels (at character ${offset + 1}), the limit for JSON a scenario reads`);
    this.name = 'JsonTooDeepError';
  }
}

/** JSON.parse for text that may come from a request: refuses nesting deeper than MAX_JSON_DEPTH before parsing. */
export function parseJsonWithinDepth(text: string): unknown {
  const at = jsonTooDeepAt(text);
  if (at >= 0) throw new JsonTooDeepError(at);
  return JSON.parse(text) as unknown;
}
