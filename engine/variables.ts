// Declared scenario variables: names, types and initial values, checked with their positions.
import { SCENARIO_ERROR_CODES as C, type SourceLocation, type ScenarioErrorCode } from './errors.js';
import { readFileSync } from 'node:fs';
import type { VariableDecl, VariableSource } from './model.js';
import { coerceToType, VAR_TYPES, type Value, type VarType } from './values.js';
import { closest } from './suggest.js';
import { envSetting, unsetOrBlank, type Env } from './env.js';
import { lostNumber } from './yaml-numbers.js';
import type { YamlSource } from './yaml-source.js';

const VAR_NAME_FORBIDDEN = /[[\]\\]/;

type Report = (loc: SourceLocation, code: ScenarioErrorCode, message: string, hint?: string, block?: string) => void;

/** Other languages' and Oktell's names of the types, for the fix of a declaration that uses one (`due: date`). */
const TYPE_WORDS: Readonly<Record<string, string>> = {
  text: 'string', str: 'string', char: 'string', varchar: 'string', строка: 'string', 'строковый': 'string',
  int: 'number', integer: 'number', float: 'number', double: 'number', decimal: 'number', numeric: 'number', число: 'number', 'числовой': 'number',
  date: 'datetime', time: 'datetime', timestamp: 'datetime', дата: 'datetime', 'дата/время': 'datetime', 'датавремя': 'datetime',
  object: 'json', array: 'json', list: 'json',
};

/**
 * The declared variables, each with its type and initial value. A variable whose declaration has a problem (reported
 * here) is still declared: one with a bad `initial` keeps its type and the type's empty value, and the name of one
 * without a valid type goes into `untyped`, so that reading it is not reported again as an unknown variable.
 */
export function loadVariables(src: YamlSource, raw: unknown, opts: { timeZone?: string; env?: Env; onValueRead?(from: { env?: string; file?: string }, value: string | undefined): void }, report: Report, untyped = new Set<string>()): Map<string, VariableDecl> {
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
    let secret: boolean | undefined;
    let from: { env?: string; file?: string } | undefined;
    if (typeof spec === 'string') type = spec;
    else if (spec && typeof spec === 'object' && !Array.isArray(spec)) {
      const s = spec as Record<string, unknown>;
      type = s.type;
      initial = s.initial;
      if (typeof s.description === 'string') description = s.description;
      for (const k of Object.keys(s)) {
        if (!VARIABLE_KEYS.includes(k)) {
          const guess = closest(k, VARIABLE_KEYS);
          report(src.locate(['variables', name, k], { key: true }), C.UNKNOWN_KEY, `unknown key "${k}" in variable "${name}"`, `${guess ? `did you mean "${guess}"? ` : ''}a variable has ${VARIABLE_KEYS.join(', ')}`);
        }
      }
      secret = secretFlag(src, name, s.secret, report);
      from = valueSource(src, name, s, report);
    }
    if (typeof type !== 'string' || !(VAR_TYPES as readonly string[]).includes(type)) {
      const guess = typeof type === 'string' ? ((Object.hasOwn(TYPE_WORDS, type.trim().toLowerCase()) ? TYPE_WORDS[type.trim().toLowerCase()] : undefined) ?? closest(type, VAR_TYPES)) : undefined;
      report(src.locate(['variables', name]), C.INVALID_VARIABLE, `variable "${name}" has no valid type`, `${guess ? `did you mean ${name}: ${guess}? ` : ''}types: ${VAR_TYPES.join(', ')}${guess ? '' : `; e.g. ${name}: string`}`);
      untyped.add(name);
      continue;
    }
    let value: Value = defaultOf(type as VarType);
    let initialAt: SourceLocation | undefined;
    let source: VariableSource | undefined;
    if (from) {
      const env = opts.env ?? process.env;
      const read = readVariableSource(from, env);
      opts.onValueRead?.(from, read);
      const blank = read === undefined && from.env !== undefined && unsetOrBlank(env, from.env) === 'is blank';
      source = { ...from, ...(read === undefined ? { missing: true, ...(blank ? { blank: true } : {}), fallback: initial === undefined || initial === null ? 'empty' : 'initial' } : {}) };
      if (read !== undefined) {
        // The value itself is never put in a message: it is a secret, and a problem report is shown and logged.
        initial = undefined;
        try {
          value = coerceToType(read, type as VarType, opts.timeZone ?? 'UTC');
        } catch {
          const key = from.env !== undefined ? 'env' : 'file';
          report(src.locate(['variables', name, key]), C.INVALID_VARIABLE, `the value of ${describeSource(from)} does not fit variable "${name}" (${type as string})`, `give it a value of type ${type as string}, or declare ${name} as a string`);
        }
      }
    }
    if (initial !== undefined && initial !== null) {
      if (typeof initial !== 'string' && typeof initial !== 'number' && typeof initial !== 'boolean') {
        report(src.locate(['variables', name, 'initial']), C.INVALID_VARIABLE, `initial value of "${name}" must be a number or text`, 'structured data goes in as JSON text in a json variable');
      } else {
        const lost = typeof initial === 'number' ? lostNumber(src.sourceOf(['variables', name, 'initial']) ?? String(initial), initial, type as VarType) : undefined;
        if (lost) report(src.locate(['variables', name, 'initial']), C.INVALID_VARIABLE, `initial value of "${name}": ${lost.message}`, lost.hint);
        else {
          try {
            value = coerceToType(initial, type as VarType, opts.timeZone ?? 'UTC');
            initialAt = src.locate(['variables', name, 'initial']);
          } catch (e) {
            report(src.locate(['variables', name, 'initial']), C.INVALID_VARIABLE, `initial value of "${name}": ${(e as Error).message}`, `give a value of type ${type}`);
          }
        }
      }
    }
    // A value taken from outside the file is secret unless the declaration says otherwise (secret: false).
    const isSecret = secret ?? from !== undefined;
    vars.set(name, { name, type: type as VarType, initial: value, ...(description ? { description } : {}), ...(isSecret ? { secret: true } : {}), ...(source ? { source } : {}), loc, ...(initialAt ? { initialAt } : {}) });
  }
  return vars;
}

/** The keys of a variable's mapping form. */
const VARIABLE_KEYS = ['type', 'initial', 'description', 'env', 'file', 'secret'];

/** A name the environment can hold, as shells write them (letters, digits, underscores; not starting with a digit). */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `secret:` of a declaration: true, false, or undefined when absent (reported when it is not a boolean). */
function secretFlag(src: YamlSource, name: string, raw: unknown, report: Report): boolean | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw === 'boolean') return raw;
  report(src.locate(['variables', name, 'secret']), C.INVALID_VARIABLE, `"secret" of variable "${name}" must be true or false`, `e.g. ${name}: { type: string, env: MY_TOKEN, secret: true }`);
  return undefined;
}

/** `env:` or `file:` of a declaration, checked; undefined when it has neither (or a problem, reported). */
function valueSource(src: YamlSource, name: string, s: Record<string, unknown>, report: Report): { env?: string; file?: string } | undefined {
  if (s.env === undefined && s.file === undefined) return undefined;
  if (s.env !== undefined && s.file !== undefined) {
    report(src.locate(['variables', name, 'file'], { key: true }), C.INVALID_VARIABLE, `variable "${name}" has both "env" and "file"`, 'keep one: the value is read from one place');
    return undefined;
  }
  if (s.env !== undefined) {
    if (typeof s.env === 'string' && ENV_NAME.test(s.env)) return { env: s.env };
    report(src.locate(['variables', name, 'env']), C.INVALID_VARIABLE, `"env" of variable "${name}" must be the name of an environment variable`, `letters, digits and "_", e.g. ${name}: { type: string, env: OKTELL_${name.replace(/[^A-Za-z0-9]+/g, '_').toUpperCase()} }`);
    return undefined;
  }
  if (typeof s.file === 'string' && s.file.trim() !== '') return { file: s.file };
  report(src.locate(['variables', name, 'file']), C.INVALID_VARIABLE, `"file" of variable "${name}" must be the path of a file`, `e.g. ${name}: { type: string, file: /run/secrets/${name} }`);
  return undefined;
}

/**
 * The text of an environment variable or a file; undefined when the variable is not set or the file cannot be read.
 * A file's one final line break is not part of the value (`echo token > file` writes one). A relative path is taken
 * from the server's working directory, as the other paths of its configuration are.
 */
export function readVariableSource(from: { env?: string; file?: string }, env: Env): string | undefined {
  if (from.env !== undefined) return envSetting(env, from.env);
  try {
    return readFileSync(from.file!, 'utf8').replace(/\r?\n$/, '');
  } catch {
    return undefined;
  }
}

/** "environment variable X" or "file F", for messages. */
export function describeSource(from: { env?: string; file?: string }): string {
  return from.env !== undefined ? `environment variable ${from.env}` : `file ${from.file}`;
}

/**
 * The warnings about a scenario's variables whose environment variable was not set or whose file could not be read,
 * and which start empty for it (a declaration with `initial:` chose its fallback, and is not warned about).
 */
export function variableSourceWarnings(s: { file: string; variables: ReadonlyMap<string, VariableDecl> }, fileName: (file: string) => string = (f) => f): string[] {
  const out: string[] = [];
  // Named only for a warning: the server asks this of every scenario at each reload, and naming a file costs path work.
  for (const v of s.variables.values()) {
    const at = () => `${fileName(s.file)}:${v.loc.line}:${v.loc.col}`;
    if (v.source?.missing && v.source.fallback === 'empty') {
      const why = v.source.env === undefined ? 'cannot be read' : v.source.blank ? 'is blank' : 'is not set';
      out.push(`${at()}: variable ${v.name} takes its value from ${describeSource(v.source)}, which ${why}: it starts empty (set it, or give the declaration an initial: to make that the intended fallback)`);
    } else if (v.secret && !v.source && v.initial !== defaultOf(v.type)) {
      // secret: true masks the runs, but the console shows the file itself to every login with the view right.
      out.push(`${at()}: secret variable ${v.name} has its value written in the scenario file, which the console shows to every login with the view right: take it from the environment (env: NAME) or a file (file: PATH)`);
    }
  }
  return out;
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
  if (typeof o.name === 'string' && entries.length > 1 && entries.every(([k]) => k === 'name' || VARIABLE_KEYS.includes(k))) {
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
