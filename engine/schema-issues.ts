// Turns zod's validation issues for a block's properties into located scenario issues with hints.
import { SCENARIO_ERROR_CODES as C, type ScenarioErrorCode, type SourceLocation } from './errors.js';
import { closest } from './suggest.js';
import type { PathSeg } from './yaml-source.js';
import { propertyIsMapping, propertyNature } from './well-formed.js';
import { yamlSingleQuoted } from './yaml-syntax-hints.js';

/** The keys every block may have, whatever its kind (the loader reads them before the kind's own schema). */
export const BLOCK_KEYS = ['kind', 'title', 'description', 'exits'] as const;

type Report = (loc: SourceLocation, code: ScenarioErrorCode, message: string, hint?: string, block?: string) => void;

export interface ZodIssueLike {
  code: string;
  path: PropertyKey[];
  message: string;
  keys?: string[];
  errors?: ZodIssueLike[][];
  /** For an invalid record key: what the key's own schema said about it. */
  issues?: ZodIssueLike[];
  /** For a value outside a fixed set (an enum): the allowed values. */
  values?: unknown[];
  /** For a value of the wrong type: the type wanted (`number`, `boolean`, …). */
  expected?: string;
}

/** n8n's per-node retry settings (Retry On Fail, Max. Tries, Wait Between Tries), as its workflow JSON writes them. */
const N8N_RETRY_KEYS = new Set(['retryonfail', 'maxtries', 'waitbetweentries']);

/** What a block retries within one call, by kind: the setting that says how often, where one exists. */
const CALL_RETRIES: Record<string, string> = {
  WebRequest: 'an outage (5xx, 408, 429, no answer) is retried within the call first: WEB_REQUEST_ATTEMPTS (3 in all; environment only), and a WebRequest whose timeout exit is wired is not retried by the job',
  Bpium: 'a 429, 5xx or network error is retried within the call first: BPIUM_RETRY_ATTEMPTS (3 in all)',
  SendMail: 'an SMTP outage is retried within the send first (3 tries in all, no setting)',
};

/**
 * The hint for n8n's per-node retry keys on a block (`retryOnFail:`, `maxTries:`, `waitBetweenTries:`): retries are no
 * block's setting here, so the list of the block's properties would not help; it says where they are set instead.
 */
function retryKeyHint(key: string, kind: string): string | undefined {
  // Kestra's `retry: { type: constant, maxAttempt: 3, interval: PT5S }` on a task is the same habit.
  const kestra = key === 'retry';
  if (!kestra && !N8N_RETRY_KEYS.has(key.toLowerCase())) return undefined;
  const call = CALL_RETRIES[kind];
  return `retries are not a block's setting here: remove ${key}:; ${call ? `${call}; then ` : ''}the server runs the whole job again when it failed as retryable, up to OKTELL_MAX_ATTEMPTS attempts in all (workers.maxAttempts: in oktell.config.yaml; 16 by default; the waits OKTELL_RETRY_BASE_DELAY_MS, OKTELL_RETRY_MAX_DELAY_MS), then it is a dead letter; see docs/coming-from-${kestra ? 'kestra' : 'n8n'}.md`;
}

/**
 * A duration in ISO 8601 (`PT10S`, `PT1M30S`: how Kestra writes a timeout) where a number of seconds belongs: the
 * seconds it stands for, when it is a whole number of them.
 */
function isoDurationSeconds(text: string): number | undefined {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/i.exec(text.trim());
  if (!m || !(m[1] ?? m[2] ?? m[3] ?? m[4])) return undefined;
  return Number(m[1] ?? 0) * 86400 + Number(m[2] ?? 0) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
}

/** Turns zod's issues into located scenario issues; for a union, reports the branch that came closest. */
export function reportSchemaIssues(
  issues: ZodIssueLike[],
  prefix: readonly PathSeg[],
  props: Record<string, unknown>,
  def: { kind: string; example: string; schema: unknown },
  at: (path: readonly PathSeg[], key?: boolean) => SourceLocation,
  issue: Report,
) {
  for (const zi of issues) {
    const path = [...prefix, ...zi.path.filter((p): p is string | number => typeof p !== 'symbol')];
    if (zi.code === 'invalid_union' && zi.errors?.length && path.length === 0 && reportMixedForms(zi.errors, def, at, issue)) continue;
    if (zi.code === 'invalid_union' && zi.errors?.length) {
      const best = zi.errors.reduce((a, b) => (branchCost(b) < branchCost(a) ? b : a));
      reportSchemaIssues(best, path, props, def, at, issue);
      continue;
    }
    if (zi.code === 'unrecognized_keys') {
      for (const key of zi.keys ?? []) {
        const allowed = allowedKeys(def.schema, path);
        // At the block's own level the keys every block has (exits, title, …) are candidates too: `exit:` means `exits:`.
        const candidates = path.length === 0 ? [...BLOCK_KEYS, ...allowed] : allowed;
        const guess = keyMeant(key, candidates);
        const listed = path.length === 0 ? `properties of every block: ${BLOCK_KEYS.join(', ')}; of ${def.kind}: ${allowed.join(', ') || 'none'}` : `properties: ${allowed.join(', ')}`;
        const retries = path.length === 0 ? retryKeyHint(key, def.kind) : undefined;
        issue(at([...path, key], true), C.UNKNOWN_KEY, `unknown property "${key}" for ${def.kind}`, retries ?? `${guess ? `did you mean "${guess}"? ` : ''}${listed}`);
      }
      continue;
    }
    if (zi.code === 'invalid_key' && zi.issues?.[0]) {
      // The key schema's own words ("return value numbers are 1..99"), not zod's "Invalid key in record".
      issue(at(path, true), C.INVALID_PROPERTY, `"${path.join('.')}": ${zi.issues[0].message}, got "${String(path[path.length - 1])}"`, `see the ${def.kind} example:\n${indent(def.example)}`);
      continue;
    }
    const value = valueAtPath(props, path);
    if (value === null && path.length > 0) {
      // `5: null` or `5:` with nothing after it: the line is there, its value is not.
      issue(at(path, true), C.INVALID_PROPERTY, `"${path.join('.')}" has no value`, `give it a value ('""' for empty text), or remove the line`);
      continue;
    }
    if (zi.code === 'invalid_value' && typeof value === 'string' && zi.values?.every((v) => typeof v === 'string')) {
      // One of a fixed set (an operator, a method, a mode): say which, and the likely one (`=>` is `>=` reversed).
      const allowed = zi.values as string[];
      const reversed = [...value.trim()].reverse().join('');
      const word = OPERATOR_WORDS[value.trim().toLowerCase()];
      const guess = word !== undefined && allowed.includes(word) ? word : allowed.includes(reversed) ? reversed : closest(value.trim(), allowed);
      issue(at(path), C.INVALID_PROPERTY, `"${path.join('.')}": ${JSON.stringify(value)} is not one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`, guess ? `did you mean ${JSON.stringify(guess)}?` : `see the ${def.kind} example:\n${indent(def.example)}`);
      continue;
    }
    const text = zi.code === 'invalid_type' && typeof value === 'string' ? value : undefined;
    const key = String(path[path.length - 1]);
    const fix = text === undefined ? undefined : quotedLiteralFix(key, text, zi.expected);
    if (text !== undefined && fix) {
      // `timeout: "10"` or `timeout: '"10"'`: the number (or true/false) in quotes, which YAML reads as text.
      const shown = text.includes('"') ? `'${text}'` : JSON.stringify(text);
      issue(at(path), C.INVALID_PROPERTY, `"${path.join('.')}": ${shown} is text, not ${fix.what}`, fix.hint);
      continue;
    }
    const seconds = text !== undefined && zi.expected === 'number' && /timeout/i.test(key) ? isoDurationSeconds(text) : undefined;
    if (seconds !== undefined) {
      issue(at(path), C.INVALID_PROPERTY, `"${path.join('.')}": ${JSON.stringify(text)} is an ISO 8601 duration, not a number of seconds`, `write ${key}: ${seconds} (seconds, without quotes)`);
      continue;
    }
    const bound = typeof value === 'number' ? numberProblem(zi, value) : undefined;
    if (bound) {
      // `maxRedirects: 1e300`: a whole-number setting refuses it twice, past its own most (20) and past the safe
      // integers (9007199254740991); one mistake, said once, with the bound that matters.
      if (issues.some((o) => o !== zi && tighterBound(o, zi) && sameIssuePath(o, zi))) continue;
      issue(at(path), C.INVALID_PROPERTY, `"${path.join('.')}": ${value} ${bound.what}`, bound.hint);
      continue;
    }
    if (value === undefined) {
      issue(at(path.slice(0, -1)), C.MISSING_PROPERTY, `${def.kind} needs "${path.join('.')}"`, `example:\n${indent(def.example)}`);
    } else {
      issue(at(path), C.INVALID_PROPERTY, `"${path.join('.')}": ${zi.message}`, flowListHint(value, path, def.schema) ?? lineToWrite(value, path, def.example) ?? `see the ${def.kind} example:\n${indent(def.example)}`);
    }
  }
}

/** Whether `a` bounds the value on the same side as `b`, and more tightly (20 rather than the safe integers' most). */
function tighterBound(a: ZodIssueLike & { minimum?: unknown; maximum?: unknown }, b: ZodIssueLike & { minimum?: unknown; maximum?: unknown }): boolean {
  if (a.code !== b.code) return false;
  if (a.code === 'too_big') return Number(a.maximum) < Number(b.maximum);
  if (a.code === 'too_small') return Number(a.minimum) > Number(b.minimum);
  return false;
}

function sameIssuePath(a: ZodIssueLike, b: ZodIssueLike): boolean {
  return a.path.length === b.path.length && a.path.every((p, i) => p === b.path[i]);
}

/**
 * A number out of a setting's range or not whole (`timeout: 0`, `maxRedirects: 2.5`), said in words with the value
 * that would do, instead of the schema's own wording ("Too small: expected number to be >0").
 */
function numberProblem(zi: { code: string; expected?: unknown; minimum?: unknown; maximum?: unknown; inclusive?: boolean }, value: number): { what: string; hint: string } | undefined {
  if (zi.code === 'invalid_type' && zi.expected === 'int') {
    return { what: 'is not a whole number', hint: `write a whole number, e.g. ${Math.max(0, Math.trunc(value))}` };
  }
  const limit = zi.code === 'too_small' ? zi.minimum : zi.code === 'too_big' ? zi.maximum : undefined;
  if (typeof limit !== 'number' && typeof limit !== 'bigint') return undefined;
  const n = Number(limit);
  if (zi.code === 'too_small') return { what: zi.inclusive === false ? `is too small: it must be more than ${n}` : `is too small: the least it takes is ${n}`, hint: zi.inclusive === false ? `write a number above ${n}` : `write ${n} or more` };
  return { what: zi.inclusive === false ? `is too large: it must be less than ${n}` : `is too large: the most it takes is ${n}`, hint: zi.inclusive === false ? `write a number below ${n}` : `write ${n} or less` };
}

/**
 * How badly a union branch fits, for choosing the one to report. A branch of another type altogether (a string for a
 * { path, function } mapping) is the worst fit: the branch of the value's own type names the real fault, even when it
 * has as many issues. Each key a branch does not know counts on its own: a Condition's operand form with two wrong
 * operands (2 issues) fits better than the expression form refusing left, operator and right and missing expression
 * (2 issues too, as the keys come in one), which was chosen and reported neither wrong operand.
 */
export function branchCost(branch: readonly ZodIssueLike[]): number {
  const issues = branch.reduce((n, b) => n + (b.code === 'unrecognized_keys' ? Math.max(1, b.keys?.length ?? 1) : 1), 0);
  return issues + (branch.some((b) => b.code === 'invalid_type' && b.path.length === 0) ? 1000 : 0);
}

/**
 * A block with alternative forms (Condition: `expression`, or `left`/`operator`/`right`) given both: every form
 * refuses only the other form's keys. One problem saying so, not "unknown property left … did you mean left?".
 */
function reportMixedForms(
  branches: ZodIssueLike[][],
  def: { kind: string; schema: unknown },
  at: (path: readonly PathSeg[], key?: boolean) => SourceLocation,
  issue: Report,
): boolean {
  const options = (def.schema as { def?: { options?: unknown[] } }).def?.options;
  if (!options || options.length !== branches.length) return false;
  const extra = branches.map((b) => (b.every((i) => i.code === 'unrecognized_keys' && i.path.length === 0) ? b.flatMap((i) => i.keys ?? []) : undefined));
  if (extra.some((k) => !k || k.length === 0)) return false;
  const forms = options.map((o) => allowedKeys(o, []));
  if (!extra.every((keys) => keys!.every((k) => forms.some((f) => f.includes(k))))) return false;
  const named = (keys: readonly string[]) => keys.map((k) => `"${k}"`).join(', ');
  const first = extra[0]![0]!;
  issue(
    at([first], true),
    C.INVALID_PROPERTY,
    `${def.kind} takes one form: ${forms.map(named).join(' or ')}, not both`,
    `remove ${extra.map((k) => named(k!)).join(', or remove ')}`,
  );
  return true;
}

/** Property names as Oktell's editor or other tools word them, for an unknown key's "did you mean". */
const KEY_WORDS: Readonly<Record<string, readonly string[]>> = {
  transitions: ['exits'],
  transition: ['exits'],
  response: ['responseBody'],
  // A DbQuery's statement, or what a Parser takes out of its document (the queries it runs).
  query: ['sql', 'extract'],
  queries: ['extract'],
  parameters: ['params'],
  type: ['kind'],
  // A DbQuery's or DbProcedure's database (n8n, Node-RED and most SQL tools say "database" or "db").
  database: ['connection'],
  db: ['connection'],
  // The variable a DbQuery's rows go to (a WebRequest keeps its answer's body in responseBody).
  result: ['rows', 'responseBody'],
  results: ['rows'],
};

/**
 * The property among `candidates` an unknown key most likely means: a close spelling (`exit`, `exist`), else the
 * property other tools' word names (`transitions` for `exits`, `query` for `sql`).
 */
export function keyMeant(key: string, candidates: readonly string[]): string | undefined {
  // Own words only: a key such as `constructor` or `__proto__` would otherwise read Object's own, which is no list.
  const lower = key.toLowerCase();
  const words = Object.hasOwn(KEY_WORDS, lower) ? KEY_WORDS[lower] : undefined;
  return closest(key, candidates) ?? words?.find((word) => candidates.includes(word));
}

/** Comparison operators as other languages spell them in words (`lt`, `gte`), for Condition's `operator`. */
const OPERATOR_WORDS: Readonly<Record<string, string>> = { lt: '<', gt: '>', le: '<=', lte: '<=', ge: '>=', gte: '>=', eq: '=', ne: '<>', neq: '<>' };

/** What the numbers of properties of this name count, for hints (every block's `timeout` is in seconds). */
const UNITS: Readonly<Record<string, string>> = { timeout: 'seconds' };

/**
 * For a number or true/false written in quotes where `expected` (`number`, `boolean`) is wanted: what is wanted in
 * words and the line to write instead (`write timeout: 10 (a number of seconds, without quotes)`); undefined for any
 * other text. Scenarios and test files say it alike.
 */
export function quotedLiteralFix(key: string, text: string, expected: string | undefined): { what: string; hint: string } | undefined {
  const unquoted = quotedLiteral(text, expected);
  if (unquoted === undefined) return undefined;
  const what = expected === 'boolean' ? 'true or false' : `a number${Object.hasOwn(UNITS, key) ? ` of ${UNITS[key]}` : ''}`;
  if (expected === 'boolean' && !/^(true|false)$/i.test(text.trim().replace(/^["']|["']$/g, ''))) {
    return { what, hint: `write ${key}: ${unquoted} (${what}: YAML reads ${JSON.stringify(text.trim())} as text)` };
  }
  return { what, hint: `write ${key}: ${unquoted} (${what}, without quotes)` };
}

/**
 * The number or boolean a text stands for when it is one written in quotes (`"10"`, `'"10"'`, `"true"`), as it
 * should be written unquoted; undefined for any other text or wanted type.
 */
function quotedLiteral(text: string, expected: string | undefined): string | undefined {
  let t = text.trim();
  const m = /^"(.*)"$|^'(.*)'$/s.exec(t);
  if (m) t = (m[1] ?? m[2]!).trim();
  if (expected === 'number' && /^-?\d+(\.\d+)?$/.test(t)) return String(Number(t));
  if (expected === 'boolean' && /^(true|false)$/i.test(t)) return t.toLowerCase();
  // YAML 1.1's yes/no/on/off (and their Russian), which YAML 1.2 reads as text.
  if (expected === 'boolean' && /^(yes|y|on|да)$/i.test(t)) return 'true';
  if (expected === 'boolean' && /^(no|n|off|нет)$/i.test(t)) return 'false';
  return undefined;
}

/**
 * `to: [authorEmail]` unquoted is a YAML list, not the expression [authorEmail]: say so and show it quoted. Where the
 * property is not an expression (`param: [body]`, `scenario: [Notify]`, `mode: [async]`, a Parser's JSONPath), the
 * brackets are the mistake: the fix is the value without them.
 */
function flowListHint(value: unknown, path: readonly PathSeg[], schema: unknown): string | undefined {
  if (!Array.isArray(value) || value.length !== 1 || typeof value[0] !== 'string') return undefined;
  // `params: [ '[body]' ]` for a mapping: neither a plain value nor an expression; the example's line says the form.
  if (propertyIsMapping(schema, path)) return undefined;
  const nature = propertyNature(schema, path);
  const key = path[path.length - 1];
  if ((nature === 'variable' || nature === 'other') && typeof key === 'string') {
    const what = nature === 'variable' ? 'the name of a variable' : 'a plain value';
    const bare = /^[\p{L}\p{N}_$.@*-][\p{L}\p{N}_$.@* -]*$/u.test(value[0]) && !/[ ]$/.test(value[0]) ? value[0] : yamlSingleQuoted(value[0]);
    return `YAML reads an unquoted [${value[0]}] as a list; "${key}" takes ${what}, without [ ]: write ${key}: ${bare}`;
  }
  return `YAML reads an unquoted [${value[0]}] as a list; quote the expression: '[${value[0]}]'`;
}

/**
 * The one line to write for a property of the wrong type, rather than the block's whole example: a number or
 * true/false in [ ] (`2: [200]`, which YAML reads as a list) without them; a template given as a path
 * (`templates/x`) by its name; else the property's line in the example (`e.g. timeout: 10 (seconds, per attempt)`).
 */
function lineToWrite(value: unknown, path: readonly PathSeg[], example: string): string | undefined {
  const key = path[path.length - 1];
  if (key === undefined) return undefined;
  if (Array.isArray(value) && value.length === 1 && (typeof value[0] === 'number' || typeof value[0] === 'boolean')) {
    return `YAML reads [${String(value[0])}] as a list: write ${key}: ${String(value[0])}`;
  }
  if (path.length !== 1 || typeof key !== 'string') return undefined;
  if (key === 'template' && typeof value === 'string' && /[\\/]/.test(value)) {
    const file = value.split(/[\\/]/).pop()!;
    const name = /^(.+?)(?:\.(?:subject|text|html))?(?:\.njk)?$/i.exec(file)?.[1] ?? file;
    return `"template" takes the template's name, not a path (its files are looked up in the templates folder): write template: ${name}`;
  }
  const list = Array.isArray(value) ? `YAML reads [ … ] as a list, and "${key}" takes a mapping: ` : '';
  const line = new RegExp(`^([ \\t]*)${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(?:[ \\t]+([^\\s#].*?))?(?:[ \\t]+#[ \\t]*(.*))?[ \\t]*$`, 'm').exec(example);
  if (!line) return undefined;
  if (line[2] === undefined) {
    // A mapping written on the lines under the key (`params:` then `1: '[body]'`): the same on one line.
    const below = example.slice(line.index + line[0].length + 1).split('\n');
    const entries: string[] = [];
    for (const l of below) {
      const m = /^([ \t]*)(\S.*?)(?:[ \t]+#.*)?$/.exec(l);
      if (!m || m[1]!.length <= line[1]!.length) break;
      entries.push(m[2]!);
    }
    if (!entries.length) return undefined;
    return `${list}e.g. ${key}: { ${entries.join(', ')} }${line[3] ? ` (${line[3].trim()})` : ''}`;
  }
  return `${list}e.g. ${key}: ${line[2]}${line[3] ? ` (${line[3].trim()})` : ''}`;
}

/** The value at `path` in plain data (keys of objects, indexes of lists); undefined where the path leaves it. */
export function valueAtPath(obj: unknown, path: readonly PathSeg[]): unknown {
  let cur: unknown = obj;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

/**
 * The keys a (strict) zod object schema allows at `path` (through records, lists, optionals and unions), for "did
 * you mean" hints.
 */
export function allowedKeys(schema: unknown, path: readonly PathSeg[]): string[] {
  type Schema = { shape?: Record<string, unknown>; def?: { innerType?: unknown; valueType?: unknown; element?: unknown; options?: unknown[] } } | undefined;
  let s = schema as Schema;
  for (const seg of path) {
    // An object's property, a record's value (every key has the same schema), a list's element.
    s = (s?.shape ? s.shape[String(seg)] : (s?.def?.valueType ?? s?.def?.element)) as Schema;
    if (s?.def?.innerType) s = s.def.innerType as Schema;
  }
  if (s?.shape) return Object.keys(s.shape);
  const options = s?.def?.options;
  return options ? [...new Set(options.flatMap((o) => allowedKeys(o, [])))] : [];
}

function indent(text: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => `      ${l}`)
    .join('\n');
}

/** What of a block's properties fits its schema on its own, and what was left out to get it. */
export interface WellFormedPart {
  props: Record<string, unknown>;
  /** Left out as wrong: properties (`method`), entries of mapping properties (`params.c`), and meant-but-misspelt ones. */
  omitted: Set<string>;
  /** The left-out values themselves (whole properties, or a mapping with only its wrong entries). */
  rest: Record<string, unknown>;
}

/**
 * `props` without what zod found wrong, so that the block can still be compiled and its own checks (a body given
 * twice, an unknown connection, a statement's parameters) report in the same pass as the schema's: a wrong property
 * is left out, a mapping property (`extract`, `params`, `set`) keeps its good entries, unknown keys are dropped.
 * An unknown key that resembles a property not given (`subjct`) counts as that property left out, since it is most
 * likely meant. Undefined when a problem concerns the block as a whole (a union of forms that fits none).
 */
export function wellFormedPart(schema: unknown, issues: readonly ZodIssueLike[], props: Record<string, unknown>): WellFormedPart | undefined {
  type Def = { def?: { type?: string; innerType?: { def?: { type?: string } } } };
  const shape = (schema as { shape?: Record<string, Def> }).shape;
  if (!shape) return undefined;
  const isRecord = (key: string) => {
    const def = shape[key]?.def;
    return (def?.type === 'optional' ? def.innerType?.def?.type : def?.type) === 'record';
  };
  const badProps = new Set<string>();
  const badEntries = new Map<string, Set<string>>();
  const unknownKeys = new Set<string>();
  for (const zi of issues) {
    const [prop, entry] = zi.path;
    if (zi.path.length === 0) {
      if (zi.code !== 'unrecognized_keys') return undefined;
      for (const k of zi.keys ?? []) unknownKeys.add(k);
      continue;
    }
    if (typeof prop !== 'string') return undefined;
    const value = props[prop];
    if (typeof entry === 'string' && isRecord(prop) && value && typeof value === 'object' && !Array.isArray(value)) {
      if (!badEntries.has(prop)) badEntries.set(prop, new Set());
      badEntries.get(prop)!.add(entry);
    } else badProps.add(prop);
  }
  const out: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  const omitted = new Set<string>(badProps);
  for (const [k, v] of Object.entries(props)) {
    if (unknownKeys.has(k)) continue;
    if (badProps.has(k)) {
      rest[k] = v;
      continue;
    }
    const bad = badEntries.get(k);
    if (!bad) {
      out[k] = v;
      continue;
    }
    const entries = Object.entries(v as Record<string, unknown>);
    out[k] = Object.fromEntries(entries.filter(([e]) => !bad.has(e)));
    rest[k] = Object.fromEntries(entries.filter(([e]) => bad.has(e)));
    for (const e of bad) omitted.add(`${k}.${e}`);
  }
  const allowed = Object.keys(shape);
  for (const k of unknownKeys) {
    const meant = closest(k, [...BLOCK_KEYS, ...allowed]);
    if (meant !== undefined && allowed.includes(meant) && !(meant in props)) omitted.add(meant);
  }
  return { props: out, omitted, rest };
}
