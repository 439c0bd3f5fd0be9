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
    // A list still declares its names, untyped: the blocks reading them are not reported again.
    const items = Array.isArray(raw) ? raw.map(listedVariable) : [];
    for (const item of items) if (item) untyped.add(item.name);
    const all = items.length > 0 && items.every((i) => i !== undefined);
    let hint = 'e.g. variables: { body: string, count: number }';
    // Every item a name with its type (`- x: string`): the same declarations as a mapping, ready to paste.
    if (all && items.every((i) => i!.spec !== undefined)) hint = `write variables: { ${items.map((i) => `${i!.name}: ${i!.spec}`).join(', ')} }`;
    // Bare names (`- phone`): the types are missing too.
    else if (all) hint = `give each its type: variables: { ${items.map((i) => `${i!.name}: ${i!.spec ?? 'string'}`).join(', ')} }`;
    report(src.locate(['variables']), C.INVALID_VARIABLE, '"variables" must be a mapping of names to types', hint);
    return vars;
  }
  for (const [name, spec] of Object.entries(raw as Record<string, unknown>)) {
    const loc = src.locate(['variables', name], { key: true });
    if (VAR_NAME_FORBIDDEN.test(name) || name.trim() !== name || name === '') {
      report(loc, C.INVALID_VARIABLE, `variable name "${name}" is not allowed`, 'names may not contain "[", "]" or "\\" nor start or end with a space');
      continue;
    }
    const slot = returnValueSlot(name);
    if (slot !== undefined) {
      report(loc, C.INVALID_VARIABLE, `"${name}" is Oktell's service variable for return value ${slot}, not a variable to declare`, `remove the declaration; a Variable block's set: { "${name}": … } assigns it, as does a ReturnValue block: values: { ${slot}: … }`);
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

/**
 * One item of `variables:` written as a list: a bare name (`- phone`), a name with its declaration (`- x: string`,
 * `- x: { type: number, initial: 1 }`) or a name and a type (`- name: x` + `type: string`), with the declaration in
 * the mapping form's words (undefined for a bare name); undefined for anything else.
 */
function listedVariable(item: unknown): { name: string; spec?: string } | undefined {
  if (typeof item === 'string') return { name: item };
  if (!item || typeof item !== 'object' || Array.isArray(item)) return undefined;
  const entries = Object.entries(item as Record<string, unknown>);
  const o = item as Record<string, unknown>;
  if (typeof o.name === 'string' && entries.length > 1 && entries.every(([k]) => ['name', 'type', 'initial', 'description'].includes(k))) {
    const rest = entries.filter(([k]) => k !== 'name');
    return { name: o.name, spec: rest.length === 1 && rest[0]![0] === 'type' ? String(o.type) : flowMapping(rest) };
  }
  if (entries.length !== 1) return undefined;
  const [name, spec] = entries[0]!;
  if (typeof spec === 'string') return { name, spec };
  if (spec && typeof spec === 'object' && !Array.isArray(spec)) return { name, spec: flowMapping(Object.entries(spec)) };
  return { name };
}

/** `{ type: number, initial: 1 }`; undefined when a value is not a plain scalar (the hint then shows no paste). */
function flowMapping(entries: Array<[string, unknown]>): string | undefined {
  if (!entries.every(([, v]) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')) return undefined;
  return `{ ${entries.map(([k, v]) => `${k}: ${typeof v === 'string' && /[:#,{}[\]'"]|^\s|\s$/.test(v) ? JSON.stringify(v) : String(v)}`).join(', ')} }`;
}

/** The empty value of each type, a variable's start without `initial` (our choice; scenario-format.md says why). */
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


/**
 * Oktell's service variable «(сл) Возвращаемое значение N» under the spellings an integrator copies from Oktell
 * (`(сл) Возвращаемое значение 2`, `Возвращаемое значение 2`, `Return value 2`, any case): its number N (1..99), or
 * undefined for any other name. In Oktell the return values are assigned like variables; here a Variable block's
 * `set:` takes these names as a ReturnValue block would, and a declaration of one is refused.
 */
export function returnValueSlot(name: string): number | undefined {
  const m = RETURN_VALUE_NAME.exec(name);
  return m ? Number(m[1]) : undefined;
}

const RETURN_VALUE_NAME = /^\s*(?:\(\s*сл\.?\s*\)\s*)?(?:возвращаемое\s+значение|return\s+value)\s*([1-9]\d?)\s*$/iu;
