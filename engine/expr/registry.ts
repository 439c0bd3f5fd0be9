// The one explicit map of expression functions, looked up case-insensitively by name or alias.
import { CONTROL_FUNCTIONS } from './functions/control.functions.js';
import { DATE_FUNCTIONS } from './functions/date.functions.js';
import type { FunctionDef } from './functions/function-def.js';
import { JSON_FUNCTIONS } from './functions/json.functions.js';
import { MATH_FUNCTIONS } from './functions/math.functions.js';
import { TEXT_FUNCTIONS } from './functions/text.functions.js';

export const ALL_FUNCTIONS: readonly FunctionDef[] = [
  ...CONTROL_FUNCTIONS,
  ...TEXT_FUNCTIONS,
  ...MATH_FUNCTIONS,
  ...DATE_FUNCTIONS,
  ...JSON_FUNCTIONS,
];

/** Lower-cased name or alias (inner spaces collapsed to one) → definition. */
export const FUNCTIONS_BY_NAME: ReadonlyMap<string, FunctionDef> = new Map(
  ALL_FUNCTIONS.flatMap((f) => [f.name, ...f.aliases].map((n) => [normalizeName(n), f] as const)),
);

/** Names of several words, keyed by their first word: the lexer joins them into one token. */
export const MULTI_WORD_NAMES: ReadonlyMap<string, readonly string[][]> = (() => {
  const m = new Map<string, string[][]>();
  for (const f of ALL_FUNCTIONS) {
    for (const n of [f.name, ...f.aliases]) {
      const words = normalizeName(n).split(' ');
      if (words.length < 2) continue;
      const [first, ...rest] = words as [string, ...string[]];
      m.set(first, [...(m.get(first) ?? []), rest]);
    }
  }
  return m;
})();

export function normalizeName(name: string): string {
  return name.trim().replace(/\s+/g, ' ').toLowerCase();
}

export function findFunction(name: string): FunctionDef | undefined {
  return FUNCTIONS_BY_NAME.get(normalizeName(name));
}

/**
 * Other tools' names for functions here (SQL, JavaScript, Excel and VBA, JSON libraries), lower-cased: the one meant,
 * which no spelling distance finds (`JsonLength` is far from `JsonCount`, and `Count` is close to `Round`).
 */
const FUNCTION_WORDS: Readonly<Record<string, string>> = {
  jsonlength: 'JsonCount', json_length: 'JsonCount', jsonarraylength: 'JsonCount', json_array_length: 'JsonCount', jsonsize: 'JsonCount', arraylength: 'JsonCount', count: 'JsonCount',
  jsonextract: 'JsonGet', json_extract: 'JsonGet', jsonvalue: 'JsonGet', json_value: 'JsonGet', jsonpath: 'JsonGet', jsonquery: 'JsonGet',
  strlen: 'Length', mid: 'SubStr', instr: 'IndexOf', ucase: 'Upper', lcase: 'Lower',
  iif: 'If', coalesce: 'IfEmpty', ifnull: 'IfEmpty', nvl: 'IfEmpty', isnull: 'IsEmpty',
  encodeuricomponent: 'UrlEncode', decodeuricomponent: 'UrlDecode', getdate: 'Now', current_timestamp: 'Now',
};

/** Known names close to `name` (edit distance), best first, for "did you mean" hints; another tool's name for one first. */
export function closeFunctionNames(name: string, max = 3): string[] {
  const a = normalizeName(name);
  // Own keys only: a function named `constructor` would find Object's own and end as an internal error.
  const word = Object.hasOwn(FUNCTION_WORDS, a) ? FUNCTION_WORDS[a] : undefined;
  if (word !== undefined && findFunction(word)) return [word];
  const scored: Array<[string, number]> = [];
  for (const f of ALL_FUNCTIONS) {
    let best = Infinity;
    for (const n of [f.name, ...f.aliases]) best = Math.min(best, editDistance(a, normalizeName(n)));
    const limit = Math.max(2, Math.floor(a.length / 3));
    if (best <= limit) scored.push([f.name, best]);
  }
  if (scored.length === 0 && a.length >= 2) {
    // InputParam for InputParameter: a name cut short, too far by edit distance, that begins one function's name only.
    const begun = new Set(ALL_FUNCTIONS.filter((f) => [f.name, ...f.aliases].some((n) => normalizeName(n).length > a.length && normalizeName(n).startsWith(a))).map((f) => f.name));
    if (begun.size === 1) return [...begun];
  }
  return scored.sort((x, y) => x[1] - y[1]).slice(0, max).map(([n]) => n);
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = Math.min(up + 1, row[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length]!;
}
