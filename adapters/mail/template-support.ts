// Helpers of the template renderer: its extra filters, date printing, and finding where an unclosed tag opens.
import nunjucks from 'nunjucks';
import { numberToText, toText } from '../../engine/values.js';
import { truncateWords } from '../../engine/cut-text.js';
import { closest } from '../../engine/suggest.js';

type SafeStringCtor = new (s: string) => object;
type SuppressValue = (value: unknown, autoescape: boolean) => unknown;
const runtime = (nunjucks as unknown as { runtime: { SafeString: SafeStringCtor; markSafe(s: string): object; suppressValue: SuppressValue } }).runtime;
const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Newlines to `<br>`, escaping the text first unless it is already marked safe: safe in autoescaped HTML. */
export function nl2brFilter(value: unknown): object | string {
  if (value === null || value === undefined) return '';
  const html = value instanceof runtime.SafeString ? String(value) : escapeHtml(String(value));
  return runtime.markSafe(html.replace(/\r\n|\r|\n/g, '<br>\n'));
}

/**
 * nunjucks' `truncate` without cutting an emoji in two (its own cut a value in the steps' summaries between the halves
 * of a surrogate pair, shown as U+FFFD in the console and in letters); marked-safe text stays marked safe, as with nunjucks' own.
 * `false`, `null` and `undefined` print as empty text, as nunjucks' own prints them; a number or `true`, which
 * nunjucks' own fails on, is cut as its text (a number as the engine writes it).
 */
export function safeTruncate(input: unknown, length?: number, killwords?: boolean, end?: string): unknown {
  const text = truncateWords(filterText(input), length || 255, Boolean(killwords), end ?? '...');
  return input instanceof runtime.SafeString ? runtime.markSafe(text) : text;
}

/** A filter's input as text: nothing for `false`, `null` and `undefined` (nunjucks' `normalize`), numbers as the engine writes them. */
function filterText(input: unknown): string {
  if (input === null || input === undefined || input === false) return '';
  return typeof input === 'number' ? numberToText(input) : String(input);
}

const GRAPHEMES = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const nunjucksReverse = new nunjucks.Environment().getFilter('reverse') as (value: unknown) => unknown;

/**
 * nunjucks' `reverse`, except that text is reversed by whole characters as a reader sees them (grapheme clusters): an
 * emoji, a flag, an emoji family joined by ZWJ, a letter with its combining accent stay whole, where nunjucks' own
 * reversed UTF-16 code units and left broken halves shown as U+FFFD. Marked-safe text stays marked safe; a list and
 * anything else are nunjucks' own business.
 */
export function safeReverse(value: unknown): unknown {
  const safe = value instanceof runtime.SafeString;
  if (typeof value !== 'string' && !safe) return nunjucksReverse(value);
  const text = String(value);
  const reversed = Array.from(GRAPHEMES.segment(text), (s) => s.segment).reverse().join('');
  return safe ? runtime.markSafe(reversed) : reversed;
}

/**
 * Puts the text filters that keep emoji and accented letters whole (`truncate`, `reverse`) in place of nunjucks' own,
 * for every environment that prints scenario values: letters and the console.
 */
export function addWholeCharacterFilters(env: nunjucks.Environment): void {
  env.addFilter('truncate', safeTruncate);
  env.addFilter('reverse', safeReverse);
}

/** Keeps http(s) and mailto links, turns anything else (`javascript:`, data:) into an empty string. */
export function safeUrlFilter(value: unknown): string {
  const url = value === null || value === undefined ? '' : String(value).trim();
  return /^(https?:\/\/|mailto:)/i.test(url) && !/[\s<>"]/.test(url) ? url : '';
}

/** A date that prints the way the engine prints dates (`dd.MM.yyyy HH:mm:ss` in the renderer's time zone). */
export class TemplateDate extends Date {
  readonly #timeZone: string;
  constructor(ms: number, timeZone: string) {
    super(ms);
    this.#timeZone = timeZone;
  }
  override toString(): string {
    return toText(new Date(this.getTime()), this.#timeZone);
  }
}

// Every `{{ … }}` goes through nunjucks' runtime.suppressValue, which prints a number with String() and so shows
// float noise (0.1 * 3 → 0.30000000000000004). Mail templates must print a number as the engine's text conversion
// does (0.3), also when the number is computed in the template. nunjucks has no per-environment output hook, so the
// shared function is wrapped once and changes numbers only while a mail template renders (rendering is synchronous),
// leaving any other nunjucks user (the console) as it was. Only the value is converted, never compiled.
let engineNumbers = 0;
const suppressValue = runtime.suppressValue;
runtime.suppressValue = (value, autoescape) =>
  suppressValue(engineNumbers > 0 && typeof value === 'number' ? numberToText(value) : value, autoescape);

/** Runs a synchronous nunjucks render in which `{{ number }}` prints as the engine's text conversion does. */
export function withEngineNumbers<T>(render: () => T): T {
  engineNumbers++;
  try {
    return render();
  } finally {
    engineNumbers--;
  }
}

/** Where an unterminated `{{`, `{%` or `{#` opens, for the syntax errors nunjucks reports without a line. */
export function unclosedTagAt(src: string): { line: number; col: number } | undefined {
  const closers: Record<string, string> = { '{{': '}}', '{%': '%}', '{#': '#}' };
  let i = 0;
  for (;;) {
    const open = src.slice(i).search(/\{[{%#]/);
    if (open === -1) return undefined;
    const at = i + open;
    const close = src.indexOf(closers[src.slice(at, at + 2)]!, at + 2);
    if (close === -1) {
      const before = src.slice(0, at).split('\n');
      return { line: before.length, col: before[before.length - 1]!.length + 1 };
    }
    i = close + 2;
  }
}

const BLOCK_TAGS = new Set(['if', 'for', 'asyncEach', 'asyncAll', 'macro', 'call', 'block', 'filter', 'set', 'raw', 'verbatim', 'switch']);
const CLOSERS: Record<string, string> = { variable: '}}', block: '%}', comment: '#}' };

/** The block tags still open at `end` (an index into `src`), innermost last. */
function openBlocks(src: string, end = src.length): Array<{ tag: string; index: number }> {
  const open: Array<{ tag: string; index: number }> = [];
  for (const m of src.slice(0, end).matchAll(/\{%-?\s*(\w+)([^%]*)%\}/g)) {
    const tag = m[1]!;
    if (tag === 'set' && m[2]!.includes('=')) continue; // `{% set x = 1 %}` has no end tag
    if (BLOCK_TAGS.has(tag)) open.push({ tag, index: m.index });
    else if (tag.startsWith('end') && open.at(-1)?.tag === tag.slice(3)) open.pop();
  }
  return open;
}

function lineColOf(src: string, index: number): { line: number; col: number } {
  const before = src.slice(0, index).split('\n');
  return { line: before.length, col: before[before.length - 1]!.length + 1 };
}

function indexOf(src: string, at: { line: number; col: number }): number {
  const lines = src.split('\n');
  return lines.slice(0, at.line - 1).reduce((n, l) => n + l.length + 1, 0) + at.col - 1;
}

/** Where the last block tag (`{% if %}`, `{% for %}`...) that is never closed opens: for "got end of file" errors. */
export function unclosedBlockAt(src: string): { line: number; col: number; tag: string } | undefined {
  const last = openBlocks(src).at(-1);
  return last ? { ...lineColOf(src, last.index), tag: last.tag } : undefined;
}

/**
 * How to fix a nunjucks syntax error about a tag left open: nunjucks says "got end of file" or "unknown block tag:
 * endif" without naming the tag to close. `at` is where nunjucks puts the error, when it knows.
 */
export function syntaxErrorHint(src: string, message: string, at?: { line: number; col: number }): string | undefined {
  const unterminated = /expected (variable|block|comment) end/.exec(message);
  if (unterminated) return `close it with ${CLOSERS[unterminated[1]!]}`;
  if (/end of file/.test(message)) {
    const open = unclosedBlockAt(src);
    if (open) return `close {% ${open.tag} %} with {% end${open.tag} %}`;
  }
  // `{% for x in %}`: nunjucks says "unexpected token: %}" or 'parseFor: expected "in"', not what a for takes.
  if (at && (/^parseFor:/.test(message) || tagAround(src, indexOf(src, at)) === 'for')) return FOR_SYNTAX;
  const unknownTag = /unknown block tag: (\w+)/.exec(message);
  if (unknownTag && !/^end/.test(unknownTag[1]!)) {
    const guess = closest(unknownTag[1]!, TAG_NAMES);
    return guess ? `did you mean {% ${guess} %}?` : `tags are ${TAG_NAMES.join(', ')} (and their end tags)`;
  }
  const stray = /unknown block tag: (end\w+)/.exec(message);
  if (stray && at) {
    const open = openBlocks(src, indexOf(src, at)).at(-1);
    if (!open) return `{% ${stray[1]} %} closes nothing: remove it, or open its block before it`;
    return `{% ${open.tag} %} at line ${lineColOf(src, open.index).line} is still open here: close it with {% end${open.tag} %} before {% ${stray[1]} %}`;
  }
  return undefined;
}

/** The block tags of nunjucks a mail template may write, for "did you mean" (`elsee` → `else`). */
const TAG_NAMES = ['if', 'elif', 'elseif', 'else', 'for', 'set', 'macro', 'call', 'filter', 'raw', 'verbatim', 'include', 'import', 'from', 'extends', 'block', 'switch', 'case'];

/** How a `for` is written, for a `for` tag nunjucks cannot read. */
const FOR_SYNTAX = 'a loop is written {% for item in list %}…{% endfor %} (or {% for key, value in object %}), e.g. {% for line in lines %}{{ line }}{% endfor %}';

/** The name of the `{% … %}` tag that `index` is in (or just after, at its `%}`), if any. */
function tagAround(src: string, index: number): string | undefined {
  const open = src.lastIndexOf('{%', index);
  if (open === -1) return undefined;
  const close = src.indexOf('%}', open + 2);
  if (close !== -1 && close + 2 <= index) return undefined;
  return /^\{%-?\s*(\w+)/.exec(src.slice(open))?.[1];
}

export function stripNunjucksPrefix(message: string): string {
  return message.replace(/^(?:\([^)\n]*\)(?: \[Line \d+(?:, Column \d+)?\])?\n\s*)+/, '').trim();
}
