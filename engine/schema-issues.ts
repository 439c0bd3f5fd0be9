// Turns zod's validation issues for a block's properties into located scenario issues with hints.
import { SCENARIO_ERROR_CODES as C, type ScenarioErrorCode, type SourceLocation } from './errors.js';
import { closest } from './suggest.js';
import type { PathSeg } from './yaml-source.js';

/** The keys every block may have, whatever its kind (the loader reads them before the kind's own schema). */
export const BLOCK_KEYS = ['kind', 'title', 'description', 'exits'] as const;

type Report = (loc: SourceLocation, code: ScenarioErrorCode, message: string, hint?: string, block?: string) => void;

export interface ZodIssueLike {
  code: string;
  path: PropertyKey[];
  message: string;
  keys?: string[];
  errors?: ZodIssueLike[][];
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
    if (zi.code === 'invalid_union' && zi.errors?.length) {
      const best = zi.errors.reduce((a, b) => (b.length < a.length ? b : a));
      reportSchemaIssues(best, path, props, def, at, issue);
      continue;
    }
    if (zi.code === 'unrecognized_keys') {
      for (const key of zi.keys ?? []) {
        const allowed = allowedKeys(def.schema, path);
        // At the block's own level the keys every block has (exits, title, …) are candidates too: `exit:` means `exits:`.
        const candidates = path.length === 0 ? [...BLOCK_KEYS, ...allowed] : allowed;
        const guess = closest(key, candidates);
        const listed = path.length === 0 ? `properties of every block: ${BLOCK_KEYS.join(', ')}; of ${def.kind}: ${allowed.join(', ') || 'none'}` : `properties: ${allowed.join(', ')}`;
        issue(at([...path, key], true), C.UNKNOWN_KEY, `unknown property "${key}" for ${def.kind}`, `${guess ? `did you mean "${guess}"? ` : ''}${listed}`);
      }
      continue;
    }
    const value = getPath(props, path);
    if (value === undefined) {
      issue(at(path.slice(0, -1)), C.MISSING_PROPERTY, `${def.kind} needs "${path.join('.')}"`, `example:\n${indent(def.example)}`);
    } else {
      issue(at(path), C.INVALID_PROPERTY, `"${path.join('.')}": ${zi.message}`, flowListHint(value) ?? `see the ${def.kind} example:\n${indent(def.example)}`);
    }
  }
}

/** `to: [authorEmail]` unquoted is a YAML list, not the expression [authorEmail]: say so and show it quoted. */
function flowListHint(value: unknown): string | undefined {
  if (!Array.isArray(value) || value.length !== 1 || typeof value[0] !== 'string') return undefined;
  return `YAML reads an unquoted [${value[0]}] as a list; quote the expression: '[${value[0]}]'`;
}

function getPath(obj: unknown, path: readonly PathSeg[]): unknown {
  let cur: unknown = obj;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

/** Keys a (strict) zod object schema accepts at `path`, for "did you mean" hints. */
/** The keys a zod object schema allows at `path` (through records, lists, optionals and unions). */
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
