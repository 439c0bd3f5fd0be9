// zod's issues about the form of a test file (or a fixture file it names), said in the file's words: which forms a
// place takes, the nearest allowed key or value, and, for "this or that" places, the problem inside the form the value
// has rather than the first form zod tried. The schema itself is walked for the keys and forms of a place, so the
// words cannot drift from what is checked.
import type { z } from 'zod';
import { closest, quotedLiteralFix, valueAtPath } from '../../engine/index.js';

export type FormPath = Array<string | number>;

/** One problem of a file's form, at `path` in it. */
export type FormProblem =
  | { kind: 'unknown-key'; path: FormPath; key: string; message: string; hint: string }
  | { kind: 'missing'; path: FormPath; message: string; hint: string }
  | { kind: 'invalid'; path: FormPath; message: string; hint: string }
  | { kind: 'bad-key'; path: FormPath; message: string; hint: string };

interface ZodIssue {
  code: string;
  path: PropertyKey[];
  message: string;
  keys?: string[];
  values?: unknown[];
  errors?: ZodIssue[][];
  /** For a key of a mapping its key schema refused: what that schema said (`an input parameter number, 1 to 99`). */
  issues?: ZodIssue[];
  /** For a value below its minimum: the kind of value (`array`, `string`, `number`) and the minimum. */
  origin?: string;
  minimum?: number | bigint;
}

/** Words for a form, where the kind alone ("text") would not say what is meant ("a fixture file name"). */
const FORM_WORDS = new WeakMap<object, string>();

/** Gives `schema` the words a problem uses for it; returns it, to be used in place. */
export function saidAs<T extends z.ZodType>(schema: T, words: string): T {
  FORM_WORDS.set(schema, words);
  return schema;
}

const DOCS = 'see docs/testing-scenarios.md';

/** The problems `issues` (from `schema.safeParse(value)`) stand for; `docs`: where the form is described. */
export function formProblems(issues: readonly unknown[], value: unknown, schema: z.ZodType, docs = DOCS): FormProblem[] {
  const out: FormProblem[] = [];
  for (const zi of resolveUnions(issues as ZodIssue[], value)) {
    const path = zi.path.filter((p): p is string | number => typeof p !== 'symbol');
    const at = valueAtPath(value, path);
    const shown = path.join('.');
    if (zi.code === 'unrecognized_keys') {
      const known = keysAt(schema, path);
      for (const key of zi.keys ?? []) out.push(unknownKey(path, key, known, valueAtPath(value, path), docs));
    } else if (at === undefined) {
      out.push({ kind: 'missing', path, message: `"${shown}" is required`, hint: docs });
    } else if (zi.code === 'no_form' || zi.code === 'invalid_type' || zi.code === 'invalid_value') {
      out.push(wrongForm(schema, path, at, docs));
    } else if (zi.code === 'invalid_key' && zi.issues?.[0]) {
      // The key schema's own words, not zod's "Invalid key in record".
      const key = String(path[path.length - 1]);
      out.push({ kind: 'bad-key', path, message: `"${shown}": the key "${key}" is not ${zi.issues[0].message}`, hint: KEY_HINTS[String(path[path.length - 2])] ?? docs });
    } else if (zi.code === 'too_small' && zi.minimum !== undefined) {
      out.push({ kind: 'invalid', path, message: `"${shown}" is ${kindOf(at)}: ${tooSmall(zi.origin, Number(zi.minimum))}`, hint: path.length === 1 && path[0] === 'cases' ? `${CASE_EXAMPLE}; ${docs}` : docs });
    } else {
      out.push({ kind: 'invalid', path, message: `"${shown}": ${zi.message}`, hint: docs });
    }
  }
  return out;
}

/**
 * For each "this or that" (a union), the issues of the form the value has. A form of another kind than the value (the
 * file name of "a file name or a list", given a list) is never the one meant, so a list with one bad field is told
 * about that field. Of forms told apart by their keys (the matchers), the one whose keys the value has; when the value
 * has none of them, its keys are the mistake (`{ matchs: … }`). When no form fits the value's kind, one issue says so.
 */
function resolveUnions(issues: readonly ZodIssue[], value: unknown, prefix: PropertyKey[] = []): ZodIssue[] {
  return issues.flatMap((zi) => {
    const path = [...prefix, ...zi.path];
    if (zi.code !== 'invalid_union' || !zi.errors?.length) return [{ ...zi, path }];
    const fitting = zi.errors.filter((branch) => !wrongKind(branch));
    if (!fitting.length) return [{ code: 'no_form', path, message: zi.message }];
    const here = valueAtPath(value, path.filter((p): p is string | number => typeof p !== 'symbol'));
    const whole = fitting.filter((branch) => !missesKeys(branch, here));
    if (!whole.length && fitting.every((branch) => branch.some((b) => b.code === 'unrecognized_keys' && b.path.length === 0))) {
      const everywhere = fitting
        .map((branch) => branch.filter((b) => b.code === 'unrecognized_keys' && b.path.length === 0).flatMap((b) => b.keys ?? []))
        .reduce((a, b) => a.filter((k) => b.includes(k)));
      if (everywhere.length) return [{ code: 'unrecognized_keys', path, message: zi.message, keys: everywhere }];
    }
    const best = (whole.length ? whole : fitting).reduce((a, b) => (b.length < a.length ? b : a));
    return resolveUnions(best, value, path);
  });
}

/** Whether a form wants keys the value lacks (in each of its own forms, for a union): it is not the form meant. */
function missesKeys(branch: readonly ZodIssue[], here: unknown): boolean {
  return branch.some(
    (b) =>
      (b.path.length === 1 && valueAtPath(here, b.path as FormPath) === undefined) ||
      (b.code === 'invalid_union' && b.path.length === 0 && (b.errors ?? []).every((sub) => missesKeys(sub, here))),
  );
}

/** Whether a form of a union failed on the value as a whole (its kind, or a fixed value), not on a part of it. */
function wrongKind(branch: readonly ZodIssue[]): boolean {
  return branch.every(
    (b) => b.path.length === 0 && (b.code === 'invalid_type' || b.code === 'invalid_value' || (b.code === 'invalid_union' && (b.errors ?? []).every(wrongKind))),
  );
}

function unknownKey(path: FormPath, key: string, known: string[], here: unknown, docs: string): FormProblem {
  const others = here && typeof here === 'object' ? Object.keys(here).filter((k) => k !== key && known.includes(k)) : [];
  // `{ contains: …, matches: … }`: both are keys of the place, of two of its forms; one is to go.
  if (known.includes(key) && others.length) {
    return {
      kind: 'unknown-key',
      path,
      key,
      message: `"${key}" does not go with "${others.join('", "')}" here`,
      hint: `one of ${known.join(', ')}; ${docs}`,
    };
  }
  // `timeout: true` in an HTTP fixture: a failure is said with `fail:`.
  const failure = known.includes('fail') && !known.includes(key) ? /^(?:time[-_]?out|timed[-_]?out|network|refused|unreachable)$/i.exec(key)?.[0] : undefined;
  if (failure) {
    const as = /net|refus|unreach/i.test(failure) ? 'network' : 'timeout';
    return { kind: 'unknown-key', path, key, message: `unknown key "${key}"`, hint: `a fixture that fails is written fail: ${as} (fail: timeout or fail: network), in place of "${key}: …"; ${docs}` };
  }
  const guess = closest(key, known);
  return {
    kind: 'unknown-key',
    path,
    key,
    message: `unknown key "${key}"`,
    hint: guess ? `did you mean "${guess}"? ${docs}` : known.length ? `known keys: ${known.join(', ')}; ${docs}` : docs,
  };
}

/** The value at `path` has a kind (or is a value) none of the place's forms takes. */
function wrongForm(schema: z.ZodType, path: FormPath, value: unknown, docs: string): FormProblem {
  const forms = schemasAt(schema, path);
  const words = [...new Set(forms.flatMap(formWords))];
  const fixed = forms.flatMap(fixedValues).filter((v): v is string => typeof v === 'string');
  const guess = typeof value === 'string' ? closest(value, fixed) : undefined;
  // A single item where a list is wanted: the list of that one item is the likely fix.
  const list = forms.find((f) => def(f).type === 'array');
  const asList = list && !Array.isArray(value) && def(list).element!.safeParse(value).success;
  // `retryable: "true"`, `status: "200"`: the true/false or number in quotes, which YAML reads as text; said as a
  // scenario's check says it.
  const key = path.at(-1);
  const kinds = forms.map((f) => def(f).type).filter((t) => t === 'boolean' || t === 'number');
  const unquote = typeof value === 'string' && typeof key === 'string' ? kinds.map((k) => quotedLiteralFix(key, value, k)).find(Boolean) : undefined;
  const hint = guess
    ? `did you mean "${guess}"? ${docs}`
    : unquote
      ? `${unquote.hint}; ${docs}`
      : asList
        ? `write a list, even of one: [${JSON.stringify(value)}]; ${docs}`
        : (inlineBody(path, value) ?? docs);
  // Both callers check a whole file: at its root, the file is what has the wrong kind.
  const place = path.length ? `"${path.join('.')}"` : 'the file';
  return { kind: 'invalid', path, message: `${place} is ${kindOf(value)}: expected ${orList(words)}`, hint };
}

/**
 * A case's input parameter written as a YAML mapping or list (most often a webhook's JSON body pasted inline): the
 * parameter is text, so the same JSON in single quotes, or a file, is the fix.
 */
function inlineBody(path: FormPath, value: unknown): string | undefined {
  if (!(path.length === 4 && path[0] === 'cases' && path[2] === 'params') || value === null || typeof value !== 'object') return undefined;
  const json = JSON.stringify(value).replace(/'/g, "''");
  const quoted = json.length <= 120 ? `'${json}'` : `'{ … }' (the whole JSON on one line)`;
  return `a parameter is text, as the web server passes a body: write the JSON in single quotes, ${String(path[3])}: ${quoted}, or keep it in a file next to the test file: ${String(path[3])}: "@order.json"; ${DOCS}`;
}

/** Hints for a refused key of a mapping, by the mapping's own key. */
const KEY_HINTS: Readonly<Record<string, string>> = {
  params: `number the parameters from 1, as Oktell's «Входной параметр N»: params: { 1: /Bpium/NewTask, 4: "@webhooks/one-responsible.json" }; ${DOCS}`,
};

const CASE_EXAMPLE = 'a case is at least: cases: [ { name: …, scenario: …, expect: { status: completed } } ]';

/** What a value below its schema's minimum should have been, in words. */
function tooSmall(origin: string | undefined, minimum: number): string {
  if (origin === 'array') return `expected at least ${minimum} item${minimum === 1 ? '' : 's'}`;
  if (origin === 'string') return minimum === 1 ? 'expected some text' : `expected at least ${minimum} characters`;
  return `expected ${minimum} or more`;
}

function orList(words: string[]): string {
  return words.length <= 1 ? (words[0] ?? 'something else') : `${words.slice(0, -1).join(', ')} or ${words.at(-1)}`;
}

function kindOf(v: unknown): string {
  if (v === null) return 'empty (null)';
  if (Array.isArray(v)) return v.length ? 'a list' : 'an empty list';
  if (v === '') return 'empty text';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `text (${JSON.stringify(v.length > 40 ? `${v.slice(0, 39)}…` : v)})`;
  if (typeof v === 'number') return `the number ${v}`;
  return String(v);
}

// ── The schema at a place ──────────────────────────────────────────────────────────────────────────────────────

interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  getter?: () => z.ZodType;
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
  values?: unknown[];
  entries?: Record<string, unknown>;
  checks?: Array<{ _zod: { def: { check: string; format?: string } } }>;
}

function def(s: z.ZodType): Def {
  return (s as unknown as { _zod: { def: Def } })._zod.def;
}

/** The schema itself, through the wrappers that do not change its form (optional, default, lazy, …). */
function unwrap(s: z.ZodType): z.ZodType {
  for (;;) {
    const d = def(s);
    if (d.innerType && ['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional'].includes(d.type)) s = d.innerType;
    else if (d.type === 'pipe' && d.in) s = d.in;
    else if (d.type === 'lazy' && d.getter) s = d.getter();
    else return s;
  }
}

/** The forms a place takes: a union's options, each unwrapped. */
function forms(s: z.ZodType): z.ZodType[] {
  const u = unwrap(s);
  const d = def(u);
  return d.type === 'union' && d.options ? d.options.flatMap(forms) : [u];
}

/** Every form the schema gives the value at `path`. */
function schemasAt(schema: z.ZodType, path: FormPath): z.ZodType[] {
  let here = forms(schema);
  for (const seg of path) {
    here = here.flatMap((s) => {
      const d = def(s);
      if (d.type === 'object') {
        const child = d.shape?.[String(seg)] ?? (d.catchall && def(d.catchall).type !== 'never' ? d.catchall : undefined);
        return child ? forms(child) : [];
      }
      if (d.type === 'array' && typeof seg === 'number' && d.element) return forms(d.element);
      if (d.type === 'record' && d.valueType) return forms(d.valueType);
      return [];
    });
  }
  return here;
}

/** The keys the place at `path` knows (of every form it takes), for "did you mean". */
export function keysAt(schema: z.ZodType, path: FormPath): string[] {
  return [...new Set(schemasAt(schema, path).flatMap((s) => (def(s).type === 'object' ? Object.keys(def(s).shape ?? {}) : [])))];
}

function fixedValues(s: z.ZodType): unknown[] {
  const d = def(s);
  if (d.type === 'literal') return d.values ?? [];
  if (d.type === 'enum') return Object.values(d.entries ?? {});
  return [];
}

/** A form in words: its own words when given, else by its kind. */
function formWords(s: z.ZodType): string[] {
  const own = FORM_WORDS.get(s);
  if (own) return [own];
  const d = def(s);
  switch (d.type) {
    case 'string':
      return ['text'];
    case 'number':
      return [d.checks?.some((c) => c._zod.def.format === 'safeint' || c._zod.def.check === 'number_format') ? 'a whole number' : 'a number'];
    case 'boolean':
      return ['true or false'];
    case 'null':
      return ['null'];
    case 'array':
      return ['a list'];
    case 'record':
      return ['a mapping'];
    case 'object': {
      const keys = Object.keys(d.shape ?? {});
      return [keys.length === 1 ? `{ ${keys[0]}: … }` : 'a mapping'];
    }
    case 'literal':
    case 'enum':
      return fixedValues(s).map(String);
    default:
      return ['anything'];
  }
}
