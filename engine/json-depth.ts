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

/**
 * JSON.parse for text that may come from a request: refuses nesting deeper than MAX_JSON_DEPTH before parsing, and
 * reads an integer a number cannot hold exactly (beyond 2^53: a 19-digit ID sent unquoted) as its text, all its digits
 * kept, instead of a number whose last digits changed (longIntegersAsText).
 */
export function parseJsonWithinDepth(text: string): unknown {
  const at = jsonTooDeepAt(text);
  if (at >= 0) throw new JsonTooDeepError(at);
  // Sixteen digits in a row somewhere (in a string too) is the only case that needs the second look: most texts pass.
  if (SIXTEEN_DIGITS.test(text)) {
    const kept = longIntegersAsText(text);
    if (kept !== text) {
      try {
        return JSON.parse(kept) as unknown;
      } catch {
        // Malformed: the error JSON.parse gives for the text as it came, its offsets unshifted.
      }
    }
  }
  return JSON.parse(text) as unknown;
}

const SIXTEEN_DIGITS = /\d{16}/;

/**
 * The text with each integer outside strings that is not a safe integer (`12345678901234567890`, `-9007199254740993`)
 * put in quotes; numbers with a fraction or an exponent are left as they are (a number is what they mean). Not a
 * validator: what is not JSON stays as it is, for JSON.parse to refuse.
 */
export function longIntegersAsText(text: string): string {
  let out = '';
  let from = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === QUOTE) {
      inString = true;
      continue;
    }
    if (c !== MINUS && (c < DIGIT_0 || c > DIGIT_9)) continue;
    let end = i + 1;
    while (end < text.length && isNumberChar(text.charCodeAt(end))) end++;
    const token = text.slice(i, end);
    if (/^-?\d{16,}$/.test(token) && !Number.isSafeInteger(Number(token))) {
      out += `${text.slice(from, i)}"${token}"`;
      from = end;
    }
    i = end - 1;
  }
  return from === 0 ? text : out + text.slice(from);
}

const MINUS = 0x2d;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
/** Digits, sign, dot and exponent: the characters a JSON number token is made of. */
const isNumberChar = (c: number) => (c >= DIGIT_0 && c <= DIGIT_9) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === MINUS;
