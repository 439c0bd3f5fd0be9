// When a block's properties do not fit its schema the block cannot be compiled, yet the properties that are well
// formed on their own still hold expressions and variable names worth checking: a user fixing `text: [body]` should
// not discover only afterwards that `to` and `subject` were wrong too. This walks a block kind's zod schema next to
// the block's properties and hands every well-formed expression and variable name to the loader's usual checks,
// skipping whatever zod already reported, so nothing is reported twice.
import { branchCost, type ZodIssueLike } from './schema-issues.js';
import type { PathSeg } from './yaml-source.js';

/** Schemas that hold an Oktell expression; block kinds mark them through `expressionSchema`. */
const EXPRESSIONS = new WeakSet<object>();
/** Schemas that hold the name of a declared variable; marked through `variableNameSchema`. */
const VARIABLE_NAMES = new WeakSet<object>();

/** Marks a property schema as an expression, so a block that fails its schema still has this property checked. */
export function expressionSchema<T extends object>(schema: T): T {
  EXPRESSIONS.add(schema);
  return schema;
}

/** Marks a property schema as a variable name (declared under `variables:`), checked the same way. */
export function variableNameSchema<T extends object>(schema: T): T {
  VARIABLE_NAMES.add(schema);
  return schema;
}

export interface PropertyChecks {
  expression(path: readonly PathSeg[], value: unknown): void;
  variable(path: readonly PathSeg[], name: string): void;
}

/** The parts of a zod (v4) schema this walk reads; anything else is left alone. */
interface SchemaLike {
  def?: {
    type?: string;
    innerType?: SchemaLike;
    shape?: Record<string, SchemaLike>;
    keyType?: SchemaLike;
    valueType?: SchemaLike;
    options?: SchemaLike[];
  };
  safeParse?(value: unknown): { success: boolean };
}

/**
 * Checks the expressions and variable names of `props` that are well formed, given the issues zod reported for them
 * (issue paths relative to `props`). A property, map entry or union branch with an issue of its own is skipped.
 */
export function checkWellFormedProperties(schema: unknown, issues: readonly ZodIssueLike[], props: Record<string, unknown>, checks: PropertyChecks): void {
  walk(schema as SchemaLike, issues, [], props, checks);
}

function walk(schema: SchemaLike | undefined, issues: readonly ZodIssueLike[], path: readonly PathSeg[], value: unknown, checks: PropertyChecks): void {
  const s = unwrap(schema);
  if (!s?.def) return;
  if (EXPRESSIONS.has(s)) {
    if (issues.length === 0) checks.expression(path, value);
    return;
  }
  if (VARIABLE_NAMES.has(s)) {
    if (issues.length === 0 && typeof value === 'string') checks.variable(path, value);
    return;
  }
  if (s.def.type === 'union') return walkUnion(s, issues, path, value, checks);
  // Unknown keys are reported already and skipped; any other issue about the whole mapping leaves nothing to trust.
  const here = issues.filter((i) => i.path.length === 0);
  if (here.some((i) => i.code !== 'unrecognized_keys')) return;
  const unknown = new Set(here.flatMap((i) => i.keys ?? []));
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
  const entries = Object.entries(value as Record<string, unknown>).filter(([k]) => !unknown.has(k));
  if (s.def.type === 'object' && s.def.shape) {
    for (const [k, v] of entries) {
      if (Object.hasOwn(s.def.shape, k)) walk(s.def.shape[k], under(issues, k), [...path, k], v, checks);
    }
  } else if (s.def.type === 'record') {
    const keyIsVariable = VARIABLE_NAMES.has(unwrap(s.def.keyType) ?? {});
    for (const [k, v] of entries) {
      const own = under(issues, k);
      // A bad key (zod says so at the entry itself) spoils the entry; a bad value only the value.
      if (own.some((i) => i.path.length === 0 && i.code === 'invalid_key')) continue;
      if (keyIsVariable) checks.variable([...path, k], k);
      walk(s.def.valueType, own, [...path, k], v, checks);
    }
  }
}

/** A union is checked along the branch its value took, or, when it fits none, the one zod found closest (fewest issues). */
function walkUnion(s: SchemaLike, issues: readonly ZodIssueLike[], path: readonly PathSeg[], value: unknown, checks: PropertyChecks): void {
  const options = s.def?.options ?? [];
  if (issues.length === 0) {
    const taken = options.find((o) => o.safeParse?.(value).success);
    if (taken) walk(taken, [], path, value, checks);
    return;
  }
  const failed = issues.length === 1 ? issues[0]! : undefined;
  if (failed?.code !== 'invalid_union' || failed.path.length !== 0 || !failed.errors?.length) return;
  // The branch the problems were reported for (reportSchemaIssues), so what is checked here is what was not reported.
  let best = 0;
  failed.errors.forEach((branch, i) => {
    if (branchCost(branch) < branchCost(failed.errors![best]!)) best = i;
  });
  walk(options[best], failed.errors[best]!, path, value, checks);
}

/** The issues about `key`, with paths made relative to it. */
function under(issues: readonly ZodIssueLike[], key: string): ZodIssueLike[] {
  return issues.filter((i) => i.path.length > 0 && String(i.path[0]) === key).map((i) => ({ ...i, path: i.path.slice(1) }));
}

/**
 * What the schema takes at `path` (an object's property, a record's value): 'expression', 'variable' (a variable's
 * name), 'other' (a name, a mode, a JSONPath, …), or undefined when the path leaves the schema or a union is met.
 */
export function propertyNature(schema: unknown, path: readonly PathSeg[]): 'expression' | 'variable' | 'other' | undefined {
  let s = unwrap(schema as SchemaLike);
  for (const seg of path) {
    if (!s?.def) return undefined;
    if (s.def.type === 'object' && s.def.shape) s = unwrap(s.def.shape[String(seg)]);
    else if (s.def.type === 'record') s = unwrap(s.def.valueType);
    else return undefined;
  }
  if (!s?.def) return undefined;
  if (EXPRESSIONS.has(s)) return 'expression';
  if (VARIABLE_NAMES.has(s)) return 'variable';
  if (s.def.type === 'union') {
    // Parser's extract: a JSONPath, or a { path, … } mapping; a list is neither, and the text form is the one meant.
    const natures = (s.def.options ?? []).map((o) => (EXPRESSIONS.has(unwrap(o) ?? {}) ? 'expression' : 'other'));
    return natures.every((n) => n === 'other') ? 'other' : undefined;
  }
  return 'other';
}

/** Whether the property at `path` takes a mapping (an object or a record: AsyncScenario's `params`, `extract`, `set`). */
export function propertyIsMapping(schema: unknown, path: readonly PathSeg[]): boolean {
  let s = unwrap(schema as SchemaLike);
  for (const seg of path) {
    if (!s?.def) return false;
    if (s.def.type === 'object' && s.def.shape) s = unwrap(s.def.shape[String(seg)]);
    else if (s.def.type === 'record') s = unwrap(s.def.valueType);
    else return false;
  }
  return s?.def?.type === 'object' || s?.def?.type === 'record';
}

/** Looks through optional / nullable / default wrappers to the schema of the value itself (or to a marked one). */
function unwrap(schema: SchemaLike | undefined): SchemaLike | undefined {
  let s = schema;
  for (let depth = 0; s?.def?.innerType && !EXPRESSIONS.has(s) && !VARIABLE_NAMES.has(s) && depth < 8; depth++) s = s.def.innerType;
  return s;
}
