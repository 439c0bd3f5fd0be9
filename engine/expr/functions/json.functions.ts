// JSON and web helpers: read values out of JSON text, count items, build JSON strings, escape for URLs and HTML.
import { quotedText } from '../syntax-error.js';
import { JsonTooDeepError, parseJsonWithinDepth } from '../../json-depth.js';
import { jsonText } from '../../json-text.js';
import type { JsonValue, Value } from '../../values.js';
import type { EvalContext } from '../context.js';
import { followPath, JSON_PATH_HINT, parseJsonPath } from '../json-path.js';
import { ExpressionRuntimeError, oneLine, quoteForMessage } from '../runtime-error.js';
import { defineFunction, literal, text, type ArgProblem, type FunctionDef } from './function-def.js';
import type { Node } from '../ast.js';

// Several JsonGet calls in a row usually read the same body: keep the last parse (parsed values are never mutated).
let lastText: string | undefined;
let lastDoc: JsonValue = null;
// And the last text that is not JSON, with why: a body of megabytes that is not JSON, read again by the next call
// (JsonGet, then JsonCount, then another block), is not parsed again to fail the same way.
let lastBadText: string | undefined;
let lastBadReason: { reason: string; fix?: string } = { reason: '' };

/** For an answer that is not JSON (an HTML error page of a proxy): the two ways to take it without failing the run. */
const NOT_JSON_FIX =
  'to take an answer that may not be JSON (an HTML error page), read it with a Parser block (mode: json), whose error exit takes a body that is not JSON, or check the answer\'s status (the WebRequest\'s status variable) before reading it';

function jsonArg(v: Value, fn: string): JsonValue {
  if (typeof v === 'string') {
    if (v === lastText) return lastDoc;
    if (v === lastBadText) throw new ExpressionRuntimeError(fn, lastBadReason.reason, lastBadReason.fix);
    if (v.trim() === '') return null;
    let doc: JsonValue;
    try {
      doc = parseJsonWithinDepth(v) as JsonValue;
    } catch (e) {
      lastBadReason =
        e instanceof JsonTooDeepError
          ? { reason: `text ${quoteForMessage(v)} ${e.message}` }
          : { reason: `text ${quoteForMessage(v)} is not valid JSON (${(e as Error).message})`, fix: NOT_JSON_FIX };
      lastBadText = v;
      throw new ExpressionRuntimeError(fn, lastBadReason.reason, lastBadReason.fix);
    }
    lastText = v;
    lastDoc = doc;
    return doc;
  }
  if (v instanceof Date) throw new ExpressionRuntimeError(fn, 'expected JSON text, got a date');
  return v;
}

function at(ctx: EvalContext, json: Value, path: Value | undefined, fn: string): JsonValue | undefined {
  const doc = jsonArg(json, fn);
  if (path === undefined) return doc;
  const p = text(path, ctx);
  const parsed = parseJsonPath(p);
  if (!parsed.ok) throw new ExpressionRuntimeError(fn, `bad path ${quoteForMessage(p)} at position ${parsed.offset}: ${parsed.message}`);
  return followPath(doc, parsed.steps);
}

function pathProblem(args: readonly Node[], fn: string): ArgProblem | undefined {
  const p = literal(args[1]);
  if (typeof p !== 'string') return undefined;
  const parsed = parseJsonPath(p);
  return parsed.ok ? undefined : { arg: 1, message: `${fn}: bad path ${quotedText(oneLine(p))}: ${parsed.message} (at position ${parsed.offset})`, hint: parsed.hint };
}

const HTML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export const JSON_FUNCTIONS: FunctionDef[] = [
  defineFunction({
    name: 'JsonGet', signature: 'JsonGet(json, path)', minArgs: 2, maxArgs: 2,
    description: `The value at path in JSON text: a number, text, true/false or null; objects and arrays as JSON text; null when missing. ${JSON_PATH_HINT}.`,
    check: (args) => pathProblem(args, 'JsonGet'),
    call: (ctx, json, path) => {
      const v = at(ctx, json!, path, 'JsonGet');
      if (v === undefined) return null;
      return v !== null && typeof v === 'object' ? jsonText(v) : v;
    },
  }),
  defineFunction({
    name: 'JsonCount', signature: 'JsonCount(json, path?)', minArgs: 1, maxArgs: 2,
    description: 'Items in the array (or keys in the object) at path; 0 for null or a missing path, 1 for a single value.',
    check: (args) => pathProblem(args, 'JsonCount'),
    call: (ctx, json, path) => {
      const v = at(ctx, json!, path, 'JsonCount');
      if (v === undefined || v === null) return 0;
      if (Array.isArray(v)) return v.length;
      return typeof v === 'object' ? Object.keys(v).length : 1;
    },
  }),
  defineFunction({
    name: 'JsonString', signature: 'JsonString(text)', minArgs: 1, maxArgs: 1,
    description: 'The text as a JSON string literal with quotes and escapes, to build JSON bodies safely.',
    call: (ctx, v) => JSON.stringify(text(v!, ctx)),
  }),
  defineFunction({
    name: 'UrlEncode', signature: 'UrlEncode(text)', minArgs: 1, maxArgs: 1,
    description: 'The text percent-encoded for a URL query value (UTF-8).',
    call: (ctx, v) => {
      try {
        return encodeURIComponent(text(v!, ctx));
      } catch {
        throw new ExpressionRuntimeError('UrlEncode', 'the text holds a broken (unpaired) UTF-16 character');
      }
    },
  }),
  defineFunction({
    name: 'UrlDecode', signature: 'UrlDecode(text)', minArgs: 1, maxArgs: 1,
    description: 'Percent-encoding (%D0%B4, %20) decoded as UTF-8 text: the opposite of UrlEncode; "+" stays "+".',
    call: (ctx, v) => urlDecode(text(v!, ctx)),
  }),
  defineFunction({
    name: 'HtmlEscape', signature: 'HtmlEscape(text)', minArgs: 1, maxArgs: 1,
    description: 'The text with & < > " \' escaped for HTML.',
    call: (ctx, v) => text(v!, ctx).replace(/[&<>"']/g, (c) => HTML[c]!),
  }),
];

/** decodeURIComponent with an error that says which escape is wrong, instead of "URI malformed". */
function urlDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    const lone = /%(?![0-9a-fA-F]{2})/.exec(s);
    if (lone) {
      const escape = s.slice(lone.index, lone.index + 3);
      throw new ExpressionRuntimeError(
        'UrlDecode',
        `${quoteForMessage(escape)} at character ${lone.index + 1} is not a percent escape: % must be followed by two hex digits (a % itself is written %25)`,
      );
    }
    // Every % has its two hex digits, so a run of escapes holds bytes that are not UTF-8 (cut short, or another encoding).
    for (const run of s.matchAll(/(?:%[0-9a-fA-F]{2})+/g)) {
      try {
        decodeURIComponent(run[0]);
      } catch {
        throw new ExpressionRuntimeError('UrlDecode', `the bytes ${quoteForMessage(run[0])} at character ${run.index + 1} are not UTF-8 text`);
      }
    }
    throw new ExpressionRuntimeError('UrlDecode', `${quoteForMessage(s)} is not valid percent-encoding`);
  }
}
