// Declared scenario variables: names, types and initial values, checked with their positions.
import { SCENARIO_ERROR_CODES as C, type SourceLocation, type ScenarioErrorCode } from './errors.js';
import type { VariableDecl } from './model.js';
import { coerceToType, VAR_TYPES, type Value, type VarType } from './values.js';
import { closest } from './suggest.js';
import { lostNumber } from './yaml-numbers.js';
import type { YamlSource } from './yaml-source.js';

const VAR_NAME_FORBIDDEN = /[[\]\\]/;

type Report = (loc: SourceLocation, code: ScenarioErrorCode, message: string, hint?: string, block?: string) => void;

/**
 * The declared variables, each with its type and initial value. A variable whose declaration has a problem (reported
 * here) is still declared: one with a bad `initial` keeps its type and the type's empty value, and the name of one
 * without a valid type goes into `untyped`, so that reading it is not reported again as an unknown variable.
 */
export function loadVariables(src: YamlSource, raw: unknown, opts: { timeZone?: string }, report: Report, untyped = new Set<string>()): Map<string, VariableDecl> {
  const vars = new Map<string, VariableDecl>();
  if (raw === undefined || raw === null) return vars;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    // A list of names (`- phone`) still declares them, untyped: the blocks reading them are not reported again.
    const names = Array.isArray(raw) ? raw.filter((n): n is string => typeof n === 'string') : [];
    for (const n of names) untyped.add(n);
    const example = names.length ? names.map((n) => `${n}: string`).join(', ') : 'body: string, count: number';
    report(src.locate(['variables']), C.INVALID_VARIABLE, '"variables" must be a mapping of names to types', `${names.length ? 'give each its type: ' : 'e.g. '}variables: { ${example} }`);
    return vars;
  }
  for (const [name, spec] of Object.entries(raw as Record<string, unknown>)) {
    const loc = src.locate(['variables', name], { key: true });
    if (VAR_NAME_FORBIDDEN.test(name) || name.trim() !== name || name === '') {
      report(loc, C.INVALID_VARIABLE, `variable name "${name}" is not allowed`, 'names may not contain "[", "]" or "\\" nor start or end with a space');
      continue;
    }
    let type: unknown;
    let initial: unknown;
    let description: string | undefined;
    if (typeof spec === 'string') type = spec;
    else if (spec && typeof spec === 'object' && !Array.isArray(spec)) {
      const s = spec as Record<string, unknown>;
      type = s.type;
      initial = s.initial;
      if (typeof s.description === 'string') description = s.description;
      for (const k of Object.keys(s)) {
        if (!['type', 'initial', 'description'].includes(k)) {
          report(src.locate(['variables', name, k], { key: true }), C.UNKNOWN_KEY, `unknown key "${k}" in variable "${name}"`, 'a variable has type, initial and description');
        }
      }
    }
    if (typeof type !== 'string' || !(VAR_TYPES as readonly string[]).includes(type)) {
      const guess = typeof type === 'string' ? closest(type, VAR_TYPES) : undefined;
      report(src.locate(['variables', name]), C.INVALID_VARIABLE, `variable "${name}" has no valid type`, `${guess ? `did you mean ${name}: ${guess}? ` : ''}types: ${VAR_TYPES.join(', ')}; e.g. ${name}: string`);
      untyped.add(name);
      continue;
    }
    let value: Value = defaultOf(type as VarType);
    if (initial !== undefined && initial !== null) {
      if (typeof initial !== 'string' && typeof initial !== 'number' && typeof initial !== 'boolean') {
        report(src.locate(['variables', name, 'initial']), C.INVALID_VARIABLE, `initial value of "${name}" must be a number or text`, 'structured data goes in as JSON text in a json variable');
      } else {
        const lost = typeof initial === 'number' ? lostNumber(src.sourceOf(['variables', name, 'initial']) ?? String(initial), initial, type as VarType) : undefined;
        if (lost) report(src.locate(['variables', name, 'initial']), C.INVALID_VARIABLE, `initial value of "${name}": ${lost.message}`, lost.hint);
        else {
          try {
            value = coerceToType(initial, type as VarType, opts.timeZone ?? 'UTC');
          } catch (e) {
            report(src.locate(['variables', name, 'initial']), C.INVALID_VARIABLE, `initial value of "${name}": ${(e as Error).message}`, `give a value of type ${type}`);
          }
        }
      }
    }
    vars.set(name, { name, type: type as VarType, initial: value, ...(description ? { description } : {}), loc });
  }
  return vars;
}

/** The empty value of each type, as Oktell initialises variables (number 0, empty text, no date). */
export function defaultOf(type: VarType): Value {
  switch (type) {
    case 'number':
      return 0;
    case 'string':
      return '';
    case 'json':
      return 'null';
    case 'datetime':
      return null;
  }
}

