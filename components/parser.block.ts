// Parser (Парсер): takes values out of a JSON document (JSONPath) or text (regular expressions) into variables.
import type { RE2JS } from 're2js';
import { z } from 'zod';
import {
  SCENARIO_ERROR_CODES as C,
  ExpressionRuntimeError,
  checkJsonPath,
  queryJsonPath,
  toNumber,
  jsonText,
  JsonTooDeepError,
  notJsonReason,
  parseJsonWithinDepth,
  toText,
  type BlockDefinition,
  type CompiledExpression,
  type JsonValue,
  type RegexBudget,
  type SourceLocation,
  type Value,
} from '../engine/index.js';
import { checkOutputType, checkTextVariable, expr, varName } from './common.js';
import { allMatches, compilePattern, processCpuMs, type Matches } from './re2-pattern.js';

const FUNCTIONS = ['value', 'count', 'exists', 'all'] as const;
type Fn = (typeof FUNCTIONS)[number];

const query = z.union([
  z.string(),
  z.strictObject({
    path: z.string().optional(),
    pattern: z.string().optional(),
    group: z.number().int().min(0).optional(),
    index: expr.optional(),
    function: z.enum(FUNCTIONS).optional(),
    required: z.boolean().optional(),
  }),
]);

const schema = z.strictObject({
  mode: z.enum(['json', 'regex']),
  document: expr,
  extract: z.record(varName, query),
  flags: z.string().regex(/^[imsu]*$/, 'regex flags may be i, m, s, u').optional(),
  errorVariable: varName.optional(),
});

interface Extraction {
  variable: string;
  fn: Fn;
  path?: string;
  /** The pattern as written (for messages) and compiled for RE2, which matches in linear time (see re2-pattern.ts). */
  pattern?: string;
  regex?: RE2JS;
  group: number;
  index?: CompiledExpression;
  /** A query that matches nothing takes the error exit instead of leaving the variable empty. */
  required: boolean;
  /** Where the query is written: a value that does not fit the variable is reported there. */
  at: SourceLocation;
}

type Config = { mode: 'json' | 'regex'; document: CompiledExpression; extractions: Extraction[]; errorVariable?: string };

export const parserBlock: BlockDefinition<z.infer<typeof schema>, Config> = {
  kind: 'Parser',
  oktellName: 'Парсер',
  description:
    'Parses a document (JSON with JSONPath, or text with regular expressions) and saves the results into variables. A malformed document takes the "error" exit with the reason in errorVariable.',
  exits: ['success', 'error'],
  schema,
  example: `parse:
  kind: Parser
  mode: json                        # json | regex
  document: '[body]'
  extract:                          # variable: JSONPath, or { path, index, function }
    taskName: $.payload.values.2
    userCount: { path: '$.payload.values.4[*]', function: count }
    userId: { path: '$.payload.values.4[*].id', index: '[i]' }
    recordId: { path: $.payload.recordId, required: true }   # no match → the error exit
  errorVariable: parseError
  exits: { success: next, error: failed }`,
  compile(raw, cx) {
    const extractions: Extraction[] = [];
    for (const [variable, q] of Object.entries(raw.extract)) {
      cx.variable(['extract', variable], variable);
      const spec = typeof q === 'string' ? (raw.mode === 'json' ? { path: q } : { pattern: q }) : q;
      const at = typeof q === 'string' ? ['extract', variable] : ['extract', variable, raw.mode === 'json' ? 'path' : 'pattern'];
      // count and exists give a number, all a JSON array: a variable that can never hold it fails every match.
      if (spec.function === 'all') checkOutputType(cx, ['extract', variable, 'function'], `extract ${variable}`, variable, 'json');
      else if (spec.function === 'count' || spec.function === 'exists') checkOutputType(cx, ['extract', variable, 'function'], `extract ${variable}`, variable, 'number');
      const e: Extraction = { variable, fn: spec.function ?? 'value', group: spec.group ?? (raw.mode === 'regex' ? 1 : 0), required: spec.required ?? false, at: cx.locate(at) };
      if (raw.mode === 'json') {
        if (spec.pattern !== undefined || spec.group !== undefined) cx.issue(at, C.INVALID_PROPERTY, 'pattern and group belong to regex mode', 'in json mode give a JSONPath as path');
        if (spec.path === undefined) {
          cx.issue(at, C.MISSING_PROPERTY, `"${variable}" needs a JSONPath`, "e.g. $.payload.values.2");
          continue;
        }
        const check = checkJsonPath(spec.path);
        if (!check.ok) cx.issue(at, C.INVALID_JSONPATH, `JSONPath ${JSON.stringify(spec.path)}: ${check.message}`, check.hint);
        e.path = spec.path;
      } else {
        if (spec.path !== undefined) cx.issue(at, C.INVALID_PROPERTY, 'path belongs to json mode', 'in regex mode give a pattern');
        if (spec.pattern === undefined) {
          cx.issue(at, C.MISSING_PROPERTY, `"${variable}" needs a pattern`, 'e.g. "Заказ №(\\d+)"');
          continue;
        }
        const compiled = compilePattern(spec.pattern, raw.flags ?? '');
        if (!compiled.ok) {
          const { offset, message, hint } = compiled.problem;
          cx.issue(at, C.INVALID_REGEX, `invalid regular expression: ${message}`, hint, false, offset);
        } else {
          e.pattern = spec.pattern;
          e.regex = compiled.re;
          const groups = compiled.groups;
          // count and exists look at matches, not at a group: without one given, a pattern with no group is fine.
          const groupMatters = spec.group !== undefined || (e.fn !== 'count' && e.fn !== 'exists');
          if (groupMatters && e.group > groups) {
            const hint = e.group === 1 && groups === 0 ? `group 0 is the whole match: { pattern: ${JSON.stringify(spec.pattern)}, group: 0 }, or put the part you want in ( )` : 'group 0 is the whole match';
            cx.issue(at, C.INVALID_REGEX, `group ${e.group} does not exist: the pattern has ${groups} group(s)`, hint);
          }
        }
      }
      if (typeof q !== 'string' && q.index !== undefined) e.index = cx.expression(['extract', variable, 'index'], q.index);
      extractions.push(e);
    }
    if (raw.errorVariable) checkTextVariable(cx, 'errorVariable', raw.errorVariable);
    return {
      mode: raw.mode,
      document: cx.expression(['document'], raw.document),
      extractions,
      ...(raw.errorVariable ? { errorVariable: raw.errorVariable } : {}),
    };
  },
  run(config, rt) {
    const text = toText(rt.evaluate(config.document), rt.timeZone);
    let json: JsonValue | undefined;
    if (config.mode === 'json') {
      try {
        json = parseJsonWithinDepth(text) as JsonValue;
      } catch (e) {
        // Too deep is the sender's doing like bad JSON: the error exit, with the limit in the reason.
        if (e instanceof JsonTooDeepError) return fail(config, rt, `the document ${e.message}`);
        return fail(config, rt, `the document is not valid JSON: ${notJsonReason(e)}`);
      }
    }
    for (const x of config.extractions) {
      const i = x.fn === 'value' && x.index ? toNumber(rt.evaluate(x.index)) : 0;
      // A regex search stops once it has what the function needs: exists needs one match, a value at index i (from the
      // start) i + 1; count, all and an index from the end need them all.
      const enough = x.fn === 'exists' ? 1 : x.fn === 'value' && Number.isInteger(i) && i >= 0 ? i + 1 : Infinity;
      let matches: JsonValue[];
      if (config.mode === 'json') matches = queryJsonPath(x.path!, json!);
      else {
        const found = regexMatches(rt.regexBudget, x, text, enough);
        // The text is request data: an extraction that would hold the thread for seconds is the input's problem, like
        // bad JSON, so it takes the error exit instead of an answer computed however long it takes.
        if (!found.done) {
          const reason = budgetReason(rt, x, text.length);
          rt.regexBudget.exhausted ??= { scenario: rt.scenario, block: rt.blockId, reason };
          return fail(config, rt, reason);
        }
        matches = found.values;
      }
      // Zero matches is an answer for count/exists/all; for a value it means the variable stays empty — say so.
      const missing = x.fn === 'value' && matches.length === 0;
      if (missing || (x.required && matches.length === 0)) {
        const what = `no match for \`${x.path ?? x.pattern!}\``;
        if (x.required) return fail(config, rt, `${what} (required for ${x.variable})`);
        rt.traceNote(`${what}: ${x.variable} left empty`);
      }
      let result: Value;
      switch (x.fn) {
        case 'count':
          result = matches.length;
          break;
        case 'exists':
          result = matches.length > 0 ? 1 : 0;
          break;
        case 'all':
          result = jsonText(matches);
          break;
        case 'value': {
          const at = i < 0 ? matches.length + i : i;
          const m = matches[at];
          if (m === undefined && matches.length > 0) {
            const what = `no match at index ${i} of \`${x.path ?? x.pattern!}\` (${matches.length} found)`;
            if (x.required) return fail(config, rt, `${what} (required for ${x.variable})`);
            rt.traceNote(`${what}: ${x.variable} left empty`);
          }
          result = toValue(m);
          break;
        }
      }
      // A part of a secret document (a token in a secret JSON variable) is masked in the record like the document.
      if (x.fn === 'value' || x.fn === 'all') rt.takenFrom(config.document, result);
      try {
        rt.set(x.variable, result, { from: x.path ?? `/${x.pattern!}/`, at: x.at });
      } catch (err) {
        // The document comes from outside: a value that does not fit the variable is the sender's mistake, like bad
        // JSON, so it takes the error exit when there is one (the message names the path, the variable and the value).
        if (!(err instanceof ExpressionRuntimeError) || !rt.hasExit('error')) throw err;
        return fail(config, rt, err.message);
      }
    }
    if (config.errorVariable) rt.set(config.errorVariable, '');
    return 'success';
  },
};

function fail(config: Config, rt: Parameters<typeof parserBlock.run>[1], reason: string) {
  if (config.errorVariable) rt.set(config.errorVariable, reason);
  rt.traceEffect({ error: reason });
  rt.traceNote(reason);
  return 'error';
}

/**
 * The matches of a regex extraction within what is left of the run's budget, which it then charges. `exists` needs no
 * match's text: RE2's DFA answers it alone, several times faster than a search that reports where the match is.
 */
function regexMatches(budget: RegexBudget, x: Extraction, text: string, enough: number): Matches {
  const c0 = processCpuMs();
  try {
    if (x.fn === 'exists') return { done: true, values: x.regex!.test(text) ? [''] : [] };
    return allMatches(x.regex!, text, x.group, enough, budget.limitMs - budget.spentMs);
  } finally {
    budget.spentMs += processCpuMs() - c0;
  }
}

/** Why an extraction stopped at the run's time budget: the block, the pattern, the setting that raises it (no timings: a run's record stays the same). */
function budgetReason(rt: Parameters<typeof parserBlock.run>[1], x: Extraction, length: number): string {
  return `block "${rt.blockId}": the regex \`${x.pattern!}\` (${x.fn} for ${x.variable}) ran out of the run's ${rt.regexBudget.limitMs} ms regex budget over a text of ${length} characters; make each match end near where it starts (a pattern that reads on to the end of the text at every match is quadratic), or raise regexBudgetMs (OKTELL_REGEX_BUDGET_MS)`;
}

/** Scalars keep their type; objects and arrays become JSON text; nothing found becomes empty text. */
function toValue(v: JsonValue | undefined): Value {
  if (v === undefined || v === null) return '';
  if (typeof v === 'object') return jsonText(v);
  return v;
}
