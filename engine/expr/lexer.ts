// Splits an expression into tokens with their positions; every lexical problem becomes a positioned error.
import type { ExpressionSyntaxError } from './syntax-error.js';
import { quotedText, shownText, syntaxError } from './syntax-error.js';

export type Token =
  | { kind: 'number'; value: number; start: number; end: number }
  | { kind: 'string'; value: string; start: number; end: number }
  | { kind: 'variable'; name: string; start: number; end: number }
  | { kind: 'name'; text: string; start: number; end: number }
  | { kind: 'keyword'; word: 'and' | 'or' | 'not' | 'true' | 'false'; start: number; end: number }
  | { kind: 'op'; op: Operator; start: number; end: number }
  | { kind: '(' | ')' | ','; start: number; end: number }
  | { kind: 'eof'; start: number; end: number };

export type Operator = '+' | '-' | '*' | '/' | '^' | '=' | '<>' | '<' | '>' | '<=' | '>=' | 'and' | 'or' | 'not';

const QUOTES: Record<string, string> = { '"': '"', "'": "'", '«': '»' };
const KEYWORDS = new Set(['and', 'or', 'not', 'true', 'false']);
const NAME_START = /[\p{L}_]/u;
const NAME_PART = /[\p{L}\p{N}_]/u;
const DIGIT = /[0-9]/;
const SPACE = /\s/;

/** Two-character operators first, so `<=` is not read as `<` then `=`. */
const OPERATORS: Array<[string, Token]> = [
  ['<>', op('<>')], ['!=', op('<>')], ['==', op('=')], ['<=', op('<=')], ['>=', op('>=')],
  ['&&', op('and')], ['||', op('or')],
  ['+', op('+')], ['-', op('-')], ['*', op('*')], ['/', op('/')], ['^', op('^')],
  ['=', op('=')], ['<', op('<')], ['>', op('>')], ['!', op('not')],
];
function op(o: Operator): Token {
  return { kind: 'op', op: o, start: 0, end: 0 };
}

/** Hints for characters people type by habit from other languages. */
const STRAY_HINTS: Record<string, string> = {
  '&': 'to join text use +, e.g. [a] + " " + [b]; for logic use and (or &&)',
  '|': 'for logic use or (or ||)',
  ';': 'separate function arguments with a comma: SubStr([s], 0, 3)',
  '“': 'typographic quotes are not string quotes: use "…", \'…\' or «…»',
  '”': 'typographic quotes are not string quotes: use "…", \'…\' or «…»',
  '„': 'typographic quotes are not string quotes: use "…", \'…\' or «…»',
  '»': 'a «…» string starts with «',
  ']': 'a variable is written [name]; this ] has no opening [',
  '{': 'braces are not part of expressions; to build JSON, join quoted text: \'{"id": \' + [id] + \'}\'',
  '}': 'braces are not part of expressions; to build JSON, join quoted text: \'{"id": \' + [id] + \'}\'',
  '%': 'there is no % operator; Mod(a, b) gives the remainder',
  '$': 'quote text that holds $, e.g. "$.payload"',
  '\\': 'strings have no escapes: to put " inside a string, quote it with \'…\' or «…»',
};

/**
 * Tokenizes `source`. `multiWordNames` lists function names made of several words (e.g. «Входной параметр»),
 * keyed by their first word in lower case: the lexer joins such words into one name token.
 */
export function tokenize(
  source: string,
  multiWordNames: ReadonlyMap<string, readonly string[][]>,
): { ok: true; tokens: Token[] } | { ok: false; error: ExpressionSyntaxError } {
  const tokens: Token[] = [];
  let i = 0;
  const n = source.length;
  while (i < n) {
    const c = source[i]!;
    if (SPACE.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === '[') {
      let j = i + 1;
      while (j < n && source[j] !== ']') {
        const d = source[j]!;
        if (d === '[' || d === '\\') {
          const e = syntaxError(
            `a variable name cannot contain "${d}"`, j, 1,
            d === '[' ? `close the variable first: [name]; this may be a missing "]" after position ${start}` : 'variable names cannot hold [, ] or \\',
          );
          return fail(d === '[' ? { ...e, opened: start } : e);
        }
        j++;
      }
      if (j >= n) return fail(syntaxError('unclosed variable: "[" without "]"', start, n - start, 'write a variable as [name]'));
      const name = source.slice(i + 1, j).trim();
      if (name === '') return fail(syntaxError('empty variable name "[]"', start, j + 1 - start, 'write the variable name between the brackets, e.g. [phone]'));
      tokens.push({ kind: 'variable', name, start, end: j + 1 });
      i = j + 1;
      continue;
    }
    const close = QUOTES[c];
    if (close !== undefined) {
      const j = source.indexOf(close, i + 1);
      if (j < 0) {
        const other = c === '"' ? "'…' or «…»" : c === "'" ? '"…" or «…»' : '"…" or \'…\'';
        const escaped = /\\["'»]/.test(source.slice(0, start));
        return fail(syntaxError(`unclosed string: ${c} without ${close}`, start, n - start,
          escaped ? `strings have no escapes such as \\${c}; to put ${c} inside a string, quote the string with ${other}` : `close it with ${close}; to put ${c} inside a string, quote the string with ${other}`));
      }
      tokens.push({ kind: 'string', value: source.slice(i + 1, j), start, end: j + 1 });
      i = j + 1;
      continue;
    }
    if (DIGIT.test(c)) {
      let j = i;
      while (j < n && DIGIT.test(source[j]!)) j++;
      if (source[j] === '.' && DIGIT.test(source[j + 1] ?? '')) {
        j++;
        while (j < n && DIGIT.test(source[j]!)) j++;
      }
      const exponent = /^[eE][+-]?\d+/.exec(source.slice(j, j + 12));
      if (exponent) return fail(exponentLiteral(source, start, j + exponent[0].length));
      const problem = numberLiteralProblem(source, source.slice(i, j), start);
      if (problem) return fail(problem);
      tokens.push({ kind: 'number', value: Number(source.slice(i, j)), start, end: j });
      i = j;
      continue;
    }
    // `[a].5`, `[a].name`: a "." right after a value, as other languages read a part of it.
    if (c === '.' && !DIGIT.test(source[i - 1] ?? '') && NAME_PART.test(source[i + 1] ?? '')) {
      const value = valueEndingTokens(tokens);
      if (value) return fail(dotAfterValue(source, value, i));
    }
    // `.5` for 0.5; not the third group of 1.2.3 or of an unquoted date 15.03.2024, whose own errors say more.
    if (c === '.' && DIGIT.test(source[i + 1] ?? '') && !DIGIT.test(source[i - 1] ?? '')) {
      let j = i + 1;
      while (j < n && DIGIT.test(source[j]!)) j++;
      const written = source.slice(i, j);
      return fail(syntaxError(`a number starts with a digit: ${quotedText(written)}`, start, j - start, `write ${shownText(`0${written}`)}`, `${source.slice(0, start)}0${source.slice(start)}`));
    }
    if (NAME_START.test(c)) {
      let j = readWord(source, i);
      let text = source.slice(i, j);
      const lower = text.toLowerCase();
      if (KEYWORDS.has(lower)) {
        tokens.push({ kind: 'keyword', word: lower as 'and' | 'or' | 'not' | 'true' | 'false', start, end: j });
        i = j;
        continue;
      }
      const longer = joinMultiWord(source, j, multiWordNames.get(lower));
      if (longer) {
        text = source.slice(i, longer);
        j = longer;
      }
      tokens.push({ kind: 'name', text, start, end: j });
      i = j;
      continue;
    }
    const matched = OPERATORS.find(([t]) => source.startsWith(t, i));
    if (matched) {
      const [t, tok] = matched;
      tokens.push({ ...tok, start, end: i + t.length } as Token);
      i += t.length;
      continue;
    }
    if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: c, start, end: i + 1 });
      i++;
      continue;
    }
    const cp = String.fromCodePoint(source.codePointAt(i)!);
    return fail(syntaxError(`unexpected character "${cp}"`, start, cp.length, STRAY_HINTS[cp] ?? 'put text in quotes, e.g. "text"'));
  }
  tokens.push({ kind: 'eof', start: n, end: n });
  return { ok: true, tokens };
}

/**
 * A number written in exponent form (`1e3`): not part of the language (only numeric text may use it, `Num("1e3")`).
 * Said as such, with the number written out when that is short, rather than as the unquoted text "e3" after a value,
 * whose fix (`1 + "e3"`) would join text.
 */
function exponentLiteral(source: string, start: number, end: number): ExpressionSyntaxError {
  const written = source.slice(start, end);
  const value = Number(written);
  // 1e-400 is 0 to a number: the hint does not offer 0 for it.
  const underflow = value === 0 && /[1-9]/.test(written.split(/e/i)[0]!);
  const plain = Number.isFinite(value) && !underflow ? writtenOut(written) : undefined;
  const hint = plain !== undefined
    ? `write the number in full: ${plain} (or Num(${quotedText(written)}) to read the text)`
    : `the number cannot be written in plain digits here; as text read by Num: Num(${quotedText(written)})`;
  const fix = plain !== undefined ? `${source.slice(0, start)}${plain}${source.slice(end)}` : undefined;
  return syntaxError(`exponent form ${shownText(written)} is not written in expressions`, start, end - start, hint, fix);
}

/**
 * A literal in exponent form (`1.5e-7`) written out in plain digits (`0.00000015`) by moving its decimal point, so the
 * digits are the ones written: not those of the nearest binary number (the digits of 1.5e-7's double run
 * 0.000000149999999999999993212…), and not cut (3.3e-9 is 0.0000000033). Undefined when that takes more than 30
 * characters, or when the plain form would itself be refused (an integer beyond 2^53 whose last digits would change).
 */
function writtenOut(written: string): string | undefined {
  const m = /^(\d+)(?:\.(\d+))?[eE]([+-]?\d+)$/.exec(written);
  if (!m) return undefined;
  const digits = `${m[1]}${m[2] ?? ''}`;
  const exponent = Number(m[3]);
  if (!(Math.abs(exponent) <= 100)) return undefined;
  const point = m[1]!.length + exponent;
  const full = point <= 0 ? `0.${'0'.repeat(-point)}${digits}`
    : point >= digits.length ? digits + '0'.repeat(point - digits.length)
    : `${digits.slice(0, point)}.${digits.slice(point)}`;
  const plain = full.replace(/^0+(?=\d)/, '').replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
  if (plain.length > 30 || numberLiteralProblem(plain, plain, 0) || Number(plain) !== Number(written)) return undefined;
  return plain;
}

/**
 * A number read from YAML (a Condition's `right: 0.0000001`) as expression text that reads back as that number: in
 * plain digits, since expressions refuse exponent form and `String(1e-7)` is `1e-7`; the digits are JavaScript's
 * shortest ones, moved. A number whose plain digits an expression would not read as it (more than 30 characters,
 * 1e-40 or 1.5e30; an integer beyond 2^53 whose shortest digits are not its own, 123456789012345680000) is read from
 * its text by Num (`Num("1.5e+30")`), which takes exponent form and folds to the number at load time.
 */
export function numberSource(value: number): string {
  const s = String(value);
  if (!Number.isFinite(value)) return s;
  const plain = /e/i.test(s) ? writtenOut(s.replace(/^-/, '')) : s.replace(/^-/, '');
  if (plain !== undefined && !numberLiteralProblem(plain, plain, 0) && Number(plain) === Math.abs(value)) return `${value < 0 ? '-' : ''}${plain}`;
  return `Num("${s}")`;
}

/** `value` in plain digits when that takes at most 30 characters, else undefined. */
function plainNumber(value: number): string | undefined {
  let s = String(value);
  if (/e/i.test(s)) {
    const big = Math.abs(value) >= 1;
    if (big && Number.isInteger(value)) s = BigInt(value).toString();
    else if (!big) s = value.toFixed(Math.min(100, 20 - Math.floor(Math.log10(Math.abs(value))))).replace(/\.?0+$/, '');
    else return undefined;
  }
  return s.length <= 30 && Number(s) === value ? s : undefined;
}

/**
 * A number literal a number cannot hold as written: too large (more than 308 digits, Infinity), or an integer whose
 * last digits would be changed (beyond 2^53, e.g. an ID or a phone number: 12345678901234567890 would silently be
 * 12345678901234567000). Such a literal is refused at load time with the hint to write it as text.
 */
function numberLiteralProblem(source: string, written: string, start: number): ExpressionSyntaxError | undefined {
  const value = Number(written);
  const shown = written.length > 40 ? `${written.slice(0, 40)}…` : written;
  if (!Number.isFinite(value)) {
    return syntaxError(`the number ${shown} is too large (${written.length} characters)`, start, written.length,
      'numbers go up to about 1.8e308; a long code of digits is text: write it in quotes');
  }
  if (!written.includes('.') && !Number.isSafeInteger(value) && BigInt(written) !== BigInt(value)) {
    // The exact value held, not JavaScript's shortest digits, which can be the digits written (123456789012345680000).
    const held = BigInt(value).toString();
    return syntaxError(`the number ${shown} has more digits than a number holds exactly: it would be ${held.length <= 30 ? held : String(value)}`,
      start, written.length, `a long ID or phone number is text: write it in quotes, ${quotedText(written)}`, `${source.slice(0, start)}"${written}"${source.slice(start + written.length)}`);
  }
  return undefined;
}

/** The value the last token ends (a variable, text, number, true/false, a call or parentheses): its span, or undefined. */
function valueEndingTokens(tokens: readonly Token[]): { start: number; end: number } | undefined {
  const last = tokens[tokens.length - 1];
  if (!last) return undefined;
  if (last.kind === 'variable' || last.kind === 'string' || last.kind === 'number') return last;
  if (last.kind === 'keyword') return last.word === 'true' || last.word === 'false' ? last : undefined;
  if (last.kind !== ')') return undefined;
  let depth = 0;
  for (let k = tokens.length - 1; k >= 0; k--) {
    const t = tokens[k]!;
    if (t.kind === ')') depth++;
    else if (t.kind === '(' && --depth === 0) {
      const name = tokens[k - 1];
      return { start: name?.kind === 'name' && name.end === t.start ? name.start : t.start, end: last.end };
    }
  }
  return undefined;
}

/**
 * `[a].5` or `[a].name`: no part of a value is read with "." in expressions. Said with what was read and both things
 * meant: a number after it (`[a].5`) is most often a multiplication by 0.5 with the operator lost, or an item of JSON
 * text; a name (`[a].id`), a key of JSON text, read with JsonGet.
 */
function dotAfterValue(source: string, value: { start: number; end: number }, dot: number): ExpressionSyntaxError {
  // A key may hold hyphens inside it (`user-name`) when it starts with a letter; `.5-1` stays item 5.
  const path = /^\.((?:\p{L}[\p{L}\p{N}_]*(?:-[\p{L}\p{N}_]+)*|[\p{L}\p{N}_]+)(?:\.(?:\p{L}[\p{L}\p{N}_]*(?:-[\p{L}\p{N}_]+)*|[\p{L}\p{N}_]+))*)/u.exec(source.slice(dot, dot + 200))![1]!;
  const v = shownText(source.slice(value.start, value.end));
  const json = `JsonGet(${v}, "${shownText(path)}")`;
  const hint = /^\d+$/.test(path)
    ? `to multiply, write ${v} * 0.${path}; to read item ${path} of JSON text, write ${json}`
    : `to read ${quotedText(path)} of JSON text, write ${json}`;
  return syntaxError(`"${shownText(`.${path}`)}" right after the value ${v}: expressions read no part of a value with "."`, dot, path.length + 1, hint);
}

function fail(error: ExpressionSyntaxError): { ok: false; error: ExpressionSyntaxError } {
  return { ok: false, error };
}

function readWord(source: string, i: number): number {
  let j = i + 1;
  while (j < source.length && NAME_PART.test(source[j]!)) j++;
  return j;
}

/** End offset of the longest multi-word name continuing at `from` (after the first word), or 0. */
function joinMultiWord(source: string, from: number, candidates: readonly string[][] | undefined): number {
  if (!candidates) return 0;
  let best = 0;
  for (const rest of candidates) {
    let j = from;
    let ok = true;
    for (const word of rest) {
      let k = j;
      while (k < source.length && SPACE.test(source[k]!)) k++;
      if (k === j) {
        ok = false;
        break;
      }
      const end = k < source.length && NAME_START.test(source[k]!) ? readWord(source, k) : k;
      if (source.slice(k, end).toLowerCase() !== word) {
        ok = false;
        break;
      }
      j = end;
    }
    if (ok && j > best) best = j;
  }
  return best;
}
