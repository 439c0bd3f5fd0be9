// What a run did, in the shape test files describe, and the subset match of an expectation against it.
//
// The match collects every difference (not only the first) with its place, e.g. `asyncStarted[0].result.mails[0].subject`,
// so a report can show all that changed at once. Objects are compared by the keys the expectation names; lists item
// by item with the same length; `{ equals }`, `{ contains }` and `{ matches }` change how one value is compared.
import { compilePattern } from '../../components/re2-pattern.js';
import type { RunResult } from '../../engine/index.js';
import type { KeptEnds } from '../../server/run-budget.js';

/** A run as tests see it: plain JSON, the trace reduced to the path of blocks, started children nested. */
export interface Observed {
  scenario: string;
  status: 'completed' | 'failed';
  returnValues: Record<string, unknown>;
  error?: Record<string, unknown>;
  mails: Array<Record<string, unknown>>;
  bpiumCalls: Array<Record<string, unknown>>;
  /** Database statements, without their durations (which vary); absent when the run made none. */
  dbCalls?: Array<Record<string, unknown>>;
  /** Present when the run made web requests. */
  httpCalls?: Array<Record<string, unknown>>;
  asyncStarted: Array<{ scenario: string; params: Record<string, unknown>; result?: Observed }>;
  path: string[];
  variables: Record<string, unknown>;
  /** Of a stored run whose record was cut at its budget: where its path, Bpium calls and letters lost their middle. */
  kept?: { path: KeptEnds; bpiumCalls: KeptEnds; mails: KeptEnds };
}

export function observe(r: RunResult): Observed {
  const json = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
  return {
    scenario: r.scenario,
    status: r.status,
    returnValues: json(r.returnValues),
    ...(r.error ? { error: json(r.error) as unknown as Record<string, unknown> } : {}),
    mails: json(r.mails) as unknown as Array<Record<string, unknown>>,
    bpiumCalls: json(r.bpiumCalls) as unknown as Array<Record<string, unknown>>,
    ...(r.dbCalls ? { dbCalls: r.dbCalls.map(({ ms: _ms, ...c }) => json(c) as unknown as Record<string, unknown>) } : {}),
    ...(r.httpCalls ? { httpCalls: json(r.httpCalls) as unknown as Array<Record<string, unknown>> } : {}),
    asyncStarted: r.asyncStarted.map((a) => ({ scenario: a.scenario, params: json(a.params), ...(a.result ? { result: observe(a.result) } : {}) })),
    path: r.trace.map((s) => s.block),
    variables: json(r.variables),
  };
}

export type Place = Array<string | number>;

export interface Mismatch {
  /** Where in the expectation, e.g. ['asyncStarted', 0, 'result', 'mails', 0, 'subject']. */
  place: Place;
  /** What the expectation asks, in words (`"Новая задача"`, `text containing "…"`, `2 item(s)`). */
  expected: string;
  /** What the run did at that place. */
  actual: string;
}

const MATCHERS = ['equals', 'contains', 'matches', 'edges'] as const;
/** `edges`: a list's first and last items (and its length), the items between not checked: see `matchEdges`. */
export type Edges = { first?: unknown[]; last?: unknown[]; length?: number };
type Matcher = { equals: unknown } | { contains: unknown } | { matches: string } | { edges: Edges };

export function isMatcher(v: unknown): v is Matcher {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  if (keys.length !== 1 || !(MATCHERS as readonly string[]).includes(keys[0]!)) return false;
  // A variable may be called `edges`: only an object of first/last/length is the matcher.
  const edges = (v as { edges?: unknown }).edges;
  return keys[0] !== 'edges' || (!!edges && typeof edges === 'object' && !Array.isArray(edges));
}

/** Every difference between what `expected` names and `actual`; empty when it matches. */
export function match(expected: unknown, actual: unknown, place: Place = []): Mismatch[] {
  if (expected === undefined) return [];
  if (isMatcher(expected)) return matchOne(expected, actual, place);
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [{ place, expected: `a list of ${expected.length} item(s)`, actual: show(actual) }];
    if (actual.length !== expected.length) return [{ place, expected: `${expected.length} item(s)`, actual: `${actual.length} item(s): ${show(actual)}` }];
    return expected.flatMap((e, i) => match(e, actual[i], [...place, i]));
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return [{ place, expected: show(expected), actual: show(actual) }];
    return Object.entries(expected).flatMap(([k, v]) => {
      if (!(k in actual) && v !== null) return [{ place: [...place, k], expected: show(v), actual: 'nothing' }];
      return match(v, (actual as Record<string, unknown>)[k], [...place, k]);
    });
  }
  return sameValue(expected, actual) ? [] : [{ place, expected: show(expected), actual: show(actual) }];
}

function matchOne(m: Matcher, actual: unknown, place: Place): Mismatch[] {
  if ('equals' in m) return deepEqual(m.equals, actual) ? [] : [{ place, expected: show(m.equals), actual: show(actual) }];
  if ('edges' in m) return matchEdges(m.edges, actual, place);
  if ('matches' in m) {
    // The Parser's dialect and engine (RE2, see re2-pattern.ts): a pattern means in a test what it means in a scenario.
    // The test file's check refuses a pattern that does not compile, with its place; one that reaches here anyway
    // (an expectation built in code) matches nothing.
    const compiled = compilePattern(m.matches, '');
    const ok = compiled.ok && typeof actual === 'string' && compiled.re.test(actual);
    return ok ? [] : [{ place, expected: `text matching /${m.matches}/`, actual: show(actual) }];
  }
  if (Array.isArray(actual)) {
    return actual.some((item) => match(m.contains, item).length === 0) ? [] : [{ place, expected: `a list with an item like ${show(m.contains)}`, actual: show(actual) }];
  }
  const ok = typeof actual === 'string' && actual.includes(String(m.contains));
  return ok ? [] : [{ place, expected: `text containing ${show(m.contains)}`, actual: show(actual) }];
}

/**
 * A list that begins with the items `first` names and ends with those `last` names, each matched like a list's item,
 * with `length` items in all when given; the items between are not checked. A test made from a stored run whose
 * record was cut at its budget expects this of its path, Bpium calls and letters (only what the record kept).
 */
function matchEdges(e: Edges, actual: unknown, place: Place): Mismatch[] {
  const first = e.first ?? [];
  const last = e.last ?? [];
  if (!Array.isArray(actual)) return [{ place, expected: `a list of ${e.length ?? `at least ${first.length + last.length}`} item(s)`, actual: show(actual) }];
  if (e.length !== undefined && actual.length !== e.length) return [{ place, expected: `${e.length} item(s)`, actual: `${actual.length} item(s)` }];
  if (actual.length < first.length + last.length) return [{ place, expected: `at least ${first.length + last.length} item(s)`, actual: `${actual.length} item(s): ${show(actual)}` }];
  const tail = actual.length - last.length;
  return [...first.flatMap((x, i) => match(x, actual[i], [...place, i])), ...last.flatMap((x, i) => match(x, actual[tail + i], [...place, tail + i]))];
}

/** Scalars compare strictly (200 is not "200"); `null` in an expectation also stands for "not set". */
function sameValue(expected: unknown, actual: unknown): boolean {
  return Object.is(expected, actual) || (expected === null && actual === undefined);
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s.length > 300 ? `${s.slice(0, 297)}…` : s;
}

export function formatPlace(place: Place): string {
  return place.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : s ? `${s}.${p}` : p), '');
}

/**
 * The expectation a case gets when it is written from a run (`--from-run`, or `--update` of a case without one):
 * the outcome, return values, letters (addresses and subject), Bpium calls, web requests, the path, and each started
 * child.
 */
export function expectationOf(o: Observed): Record<string, unknown> {
  return {
    status: o.status,
    returnValues: o.returnValues,
    ...(o.error ? { error: { code: o.error.code, ...(o.error.block !== undefined ? { block: o.error.block } : {}) } } : {}),
    mails: keptList(o.mails.map((m) => ({ to: m.to, ...(Array.isArray(m.cc) && m.cc.length ? { cc: m.cc } : {}), subject: m.subject })), o.kept?.mails),
    bpiumCalls: keptList(o.bpiumCalls.map((c) => pick(c, ['method', 'catalogId', 'recordId', 'status'])), o.kept?.bpiumCalls),
    ...(o.dbCalls ? { dbCalls: o.dbCalls.map((c) => pick(c, ['connection', 'statement', 'status', 'rowCount'])) } : {}),
    ...(o.httpCalls?.length ? { httpCalls: o.httpCalls.map((c) => pick(c, ['method', 'url', 'status', 'outcome'])) } : {}),
    ...(o.asyncStarted.length
      ? { asyncStarted: o.asyncStarted.map((a) => ({ scenario: a.scenario, ...(a.result ? { result: expectationOf(a.result) } : {}) })) }
      : {}),
    path: keptList(o.path, o.kept?.path),
  };
}

/** A list as expected: whole, or by its kept ends (`{ edges }`) when the record it comes from left out its middle. */
function keptList<T>(items: T[], kept: KeptEnds | undefined): T[] | { edges: Edges } {
  if (!kept?.omitted) return items;
  return { edges: { first: items.slice(0, kept.first), last: items.slice(kept.first), length: items.length + kept.omitted } };
}

function pick(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
}
