// `runs --grep` / `--where` and the console's Find box: which recorded runs carried a text or a field value. What is
// searched is what a run recorded of its input parameters and its return values, as the store keeps them and `show`
// prints them: parameters that carry a secret are kept masked (and a hook run's headers too), so a secret's text is
// never found. A webhook's body is searched as its hook run recorded it (input parameter 4, its text); the inbox's copy
// of the request (kept as received, headers aside) is not read. The scan is bounded: the newest `scan`
// runs the other filters select are read, and the answer says when more were left unread.
import { checkJsonPath, queryJsonPath } from '../engine/jsonpath.js';
import type { JsonValue } from '../engine/values.js';
import type { ListRunsQuery, RunSummary, Store } from './store/store.port.js';

/** How many runs a search reads when not told (`--scan`), and at most. */
export const DEFAULT_SCAN = 10_000;
export const MAX_SCAN = 200_000;
/**
 * How many runs a search reads from the store at once. A run's parameters and return values can be large (a hook
 * run's body), so the scan holds one page, never the whole `--scan` window: 200 000 runs read at once took gigabytes.
 */
export const SCAN_PAGE = 500;

/** A run as a search reads it: its summary and its stored parameters and return values (JSON text, secrets masked). */
export type ScannedRun = RunSummary & { paramsText: string | null; returnText: string | null };

/** `path=value`: a field of the parameters (`data.id`, `$.data.id`), or of the return values (`return.ok`). */
export interface FieldMatch {
  path: string;
  value: string;
}

/** Parses `--where path=value`; the first `=` splits the two. Throws a message that says the form. */
export function parseWhere(text: string): FieldMatch {
  const at = text.indexOf('=');
  const path = at > 0 ? text.slice(0, at).trim() : '';
  if (!path) throw new Error(`--where ${text}: expected path=value, e.g. --where data.id=4711 (a field of the run's input parameters; return.<name> for a return value)`);
  return { path, value: text.slice(at + 1) };
}

/** Case-insensitive in every script (Иван = иван), without locale rules: the Unicode default case folding of JS. */
function folded(s: string): string {
  return s.toLowerCase();
}

/** Every scalar (string, number, boolean) of a JSON value, as text: what a text search looks in (not the keys). */
function scalars(v: JsonValue | undefined, out: string[]): string[] {
  if (v === null || v === undefined) return out;
  if (Array.isArray(v)) for (const x of v) scalars(x, out);
  else if (typeof v === 'object') for (const x of Object.values(v)) scalars(x as JsonValue, out);
  else out.push(String(v));
  return out;
}

function parsed(text: string | null): JsonValue | undefined {
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}

/** The text `needle` (case-insensitive, taken literally: `%`, `_`, `*` are characters) in a value of the run. */
export function textMatches(run: ScannedRun, needle: string): boolean {
  const n = folded(needle);
  const values = scalars(parsed(run.returnText), scalars(parsed(run.paramsText), []));
  return values.some((v) => folded(v).includes(n));
}

/**
 * The JSONPath of a `--where` path: `data.id` is `$.data.id`; one that begins with `$` is taken as written. The path
 * is the operator's own (a command-line argument or the console's box), never request data, and it is the Parser
 * block's dialect (engine/jsonpath.ts), checked first: filters and script expressions are refused, not run.
 */
function jsonPath(path: string): { root: 'params' | 'return'; path: string } {
  const m = /^return(?:ed)?(?:\.|$)/.exec(path);
  const rest = m ? path.slice(m[0].length) : path;
  return { root: m ? 'return' : 'params', path: rest.startsWith('$') ? rest : `$${rest ? `.${rest}` : ''}` };
}

/** A field at the path whose value, as text, equals `value` (4711 matches the number and the string; case-sensitive). */
export function fieldMatches(run: ScannedRun, f: FieldMatch): boolean {
  const { root, path } = jsonPath(f.path);
  const json = parsed(root === 'return' ? run.returnText : run.paramsText);
  if (json === undefined || json === null || typeof json !== 'object') return false;
  // The values themselves, and each value whose text is a JSON object or array: a hook run's body (its input
  // parameter 4) is kept as the text it came as, so `data.id` is looked for inside it too.
  const docs: JsonValue[] = [json];
  for (const v of Object.values(json)) {
    if (typeof v === 'string' && /^\s*[[{]/.test(v)) {
      const inner = parsed(v);
      if (inner !== null && typeof inner === 'object') docs.push(inner);
    }
  }
  const found = docs.flatMap((d) => queryJsonPath(path, d));
  return found.some((v) => (v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v)) === f.value);
}

/** Checks a `--where` path before a scan (a syntax error said once, not a silent "no match"). */
export function checkWherePath(f: FieldMatch): void {
  const { path } = jsonPath(f.path);
  const c = checkJsonPath(path);
  if (!c.ok) throw new Error(`--where ${f.path}=…: ${c.message} (at ${c.offset + 1} of ${path}); ${c.hint}; e.g. data.id, items[0].email, $.data.id`);
}

export interface RunSearch {
  text?: string;
  field?: FieldMatch;
}

/** What a paged search found, and how far it read. */
export interface RunScan {
  /** The matching runs, newest first, `limit` at most. */
  found: RunSummary[];
  /** How many runs were read, and when the oldest of them started (ms). */
  read: number;
  oldestReadAt?: number;
  /** More runs the filters select were left unread: `scan` was reached, or `limit` matches were found first. */
  unread: boolean;
  /** Why the search stopped reading while runs were left: enough matches (`limit`), or the bound (`scan`). */
  stoppedBy?: 'limit' | 'scan';
}

/**
 * Reads the newest runs the filters select a page at a time (SCAN_PAGE), `scan` at most, and keeps those matching
 * `s`; stops as soon as `limit` are found. Only one page of parameters is held at a time.
 */
export async function scanForRuns(
  store: Pick<Store, 'scanRuns'>,
  filters: Omit<ListRunsQuery, 'cursor' | 'limit'>,
  s: RunSearch,
  bound: { scan: number; limit: number; pageSize?: number },
): Promise<RunScan> {
  const pageSize = Math.max(1, bound.pageSize ?? SCAN_PAGE);
  const found: RunSummary[] = [];
  let read = 0;
  let oldestReadAt: number | undefined;
  let cursor: string | undefined;
  for (;;) {
    const page = await store.scanRuns({ ...filters, scan: Math.min(pageSize, bound.scan - read), ...(cursor ? { cursor } : {}) });
    for (let i = 0; i < page.runs.length; i++) {
      const r = page.runs[i]!;
      read++;
      oldestReadAt = r.startedAt;
      if (!runMatches(r, s)) continue;
      found.push(withoutTexts(r));
      if (found.length >= bound.limit) {
        const unread = i < page.runs.length - 1 || page.cut;
        return { found, read, ...(oldestReadAt !== undefined ? { oldestReadAt } : {}), unread, ...(unread ? { stoppedBy: 'limit' as const } : {}) };
      }
    }
    if (!page.cut || !page.next || read >= bound.scan) {
      return { found, read, ...(oldestReadAt !== undefined ? { oldestReadAt } : {}), unread: page.cut, ...(page.cut ? { stoppedBy: 'scan' as const } : {}) };
    }
    cursor = page.next;
  }
}

function runMatches(r: ScannedRun, s: RunSearch): boolean {
  if (s.text !== undefined && !textMatches(r, s.text)) return false;
  if (s.field && !fieldMatches(r, s.field)) return false;
  return true;
}

function withoutTexts(r: ScannedRun): RunSummary {
  const { paramsText: _p, returnText: _r, ...summary } = r;
  return summary;
}
