// What a run did, in the shape test files describe, and the subset match of an expectation against it.
//
// The match collects every difference (not only the first) with its place, e.g. `asyncStarted[0].result.mails[0].subject`,
// so a report can show all that changed at once. Objects are compared by the keys the expectation names; lists item
// by item with the same length; `{ equals }`, `{ contains }` and `{ matches }` change how one value is compared.
// Where a value dump would hide the difference, a mismatch carries `detail` lines: the items of a list of letters or
// calls whose length differs, or the lines around the first difference of two texts of several lines.
import { compilePattern } from '../../components/re2-pattern.js';
import { valueAtPath, type RunResult } from '../../engine/index.js';
import type { KeptEnds } from '../../server/run-budget.js';

/** A run as tests see it: plain JSON, the trace reduced to the path of blocks, started children nested. */
export interface Observed {
  scenario: string;
  status: 'completed' | 'failed';
  returnValues: Record<string, unknown>;
  error?: Record<string, unknown>;
  mails: Array<Record<string, unknown>>;
  bpiumCalls: Array<Record<string, unknown>>;
  /**
   * Database statements, without their durations (which vary). A test's run always has the list (empty when it made
   * none), so `dbCalls: []` can be expected; a run described from a store may leave it out.
   */
  dbCalls?: Array<Record<string, unknown>>;
  /** Web requests; as `dbCalls`, always there (maybe empty) for a test's run. */
  httpCalls?: Array<Record<string, unknown>>;
  asyncStarted: Array<{ scenario: string; params: Record<string, unknown>; result?: Observed }>;
  path: string[];
  variables: Record<string, unknown>;
  /**
   * Of a test's run whose case expects `tables`: the rows of each table (or `{ query, rows }` of each query) it names,
   * by connection, read when the run had ended.
   */
  tables?: Record<string, Record<string, unknown>>;
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
    // The engine leaves both lists out when empty; a test sees them empty, so `dbCalls: []` expects "no statement".
    dbCalls: (r.dbCalls ?? []).map(({ ms: _ms, ...c }) => json(c) as unknown as Record<string, unknown>),
    httpCalls: withBodies(json(r.httpCalls ?? []) as unknown as Array<Record<string, unknown>>, r.trace),
    asyncStarted: r.asyncStarted.map((a) => ({ scenario: a.scenario, params: json(a.params), ...(a.result ? { result: observe(a.result) } : {}) })),
    path: r.trace.map((s) => s.block),
    variables: json(r.variables),
  };
}

/**
 * Each web request with the body it sent (`body`, for `httpCalls: [ { body: { contains: … } } ]`), as its WebRequest
 * step's trace keeps it: cut at 1,000 characters, credential fields `***`. The steps of a block and its calls come in
 * the same order; a request that sent no body has none. A trace cut at its limit keeps the run's first steps and its
 * last (its step numbers jump where the middle was left out): the bodies before the jump go to the block's first
 * calls, those after it to its last calls, and the calls in between get none.
 */
export function withBodies(calls: Array<Record<string, unknown>>, trace: RunResult['trace']): Array<Record<string, unknown>> {
  if (!calls.length) return calls;
  const jump = trace.findIndex((s, i) => i > 0 && s.step !== trace[i - 1]!.step + 1);
  const bodies = new Map<string, { head: Array<string | undefined>; tail: Array<string | undefined> }>();
  trace.forEach((step, i) => {
    if (step.kind !== 'WebRequest') return;
    const request = (step.effect as { request?: { url?: unknown; body?: unknown } } | undefined)?.request;
    if (!request || typeof request.url !== 'string') return;
    const lists = bodies.get(step.block) ?? { head: [], tail: [] };
    (jump >= 0 && i >= jump ? lists.tail : lists.head).push(typeof request.body === 'string' ? request.body : undefined);
    bodies.set(step.block, lists);
  });
  const total = new Map<string, number>();
  for (const c of calls) total.set(String(c.block), (total.get(String(c.block)) ?? 0) + 1);
  const seen = new Map<string, number>();
  return calls.map((c) => {
    const block = String(c.block);
    const k = seen.get(block) ?? 0;
    seen.set(block, k + 1);
    const lists = bodies.get(block);
    if (!lists) return c;
    const fromEnd = total.get(block)! - k;
    const body = k < lists.head.length ? lists.head[k] : fromEnd <= lists.tail.length ? lists.tail[lists.tail.length - fromEnd] : undefined;
    return body === undefined ? c : { ...c, body };
  });
}

export type Place = Array<string | number>;

export interface Mismatch {
  /** Where in the expectation, e.g. ['asyncStarted', 0, 'result', 'mails', 0, 'subject']. */
  place: Place;
  /**
   * Where the test file asks for it, when that is not `place`: under `{ edges }`, `place` names the run's item
   * (`path[5]`) and `at` the expectation's (`path.edges.last[1]`, or `path.edges.length` for a list of another length).
   */
  at?: Place;
  /** What the expectation asks, in words (`"Новая задача"`, `text containing "…"`, `2 item(s)`). */
  expected: string;
  /** What the run did at that place. */
  actual: string;
  /**
   * Lines that show the difference where one value would hide it: a list of letters or calls whose length differs,
   * item by item (`+` a run's item no expected one fits, `-` an expected item no run item fits); or two texts of
   * several lines, around the first line that differs.
   */
  detail?: string[];
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
    if (actual.length !== expected.length) return [lengthMismatch(expected, actual, place)];
    return expected.flatMap((e, i) => match(e, actual[i], [...place, i]));
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return [{ place, expected: show(expected), actual: show(actual) }];
    return Object.entries(expected).flatMap(([k, v]) => {
      if (!(k in actual) && v !== null) return [{ place: [...place, k], expected: show(v), actual: 'nothing' }];
      const got = (actual as Record<string, unknown>)[k];
      if (isSingleAddress(k, v, got)) return got.length === 1 && got[0] === v ? [] : [{ place: [...place, k], expected: show([v]), actual: show(got) }];
      return match(v, got, [...place, k]);
    });
  }
  return sameValue(expected, actual) ? [] : [valueMismatch(expected, actual, place)];
}

/** The address lists of a letter, which an expectation may give as one address (`to: ivan@example.com`). */
export const ADDRESS_FIELDS: ReadonlySet<string> = new Set(['to', 'cc', 'bcc']);

/**
 * `to: ivan@example.com` against a letter's list of addresses: the list of that one address. Only a letter's records
 * hold lists under these keys (variables and return values are single values), so the key and the list tell them.
 */
export function isSingleAddress(key: string, expected: unknown, actual: unknown): actual is unknown[] {
  return ADDRESS_FIELDS.has(key) && typeof expected === 'string' && Array.isArray(actual);
}

/** Two values that differ; two texts of which one has several lines are shown by their differing lines. */
function valueMismatch(expected: unknown, actual: unknown, place: Place): Mismatch {
  if (typeof expected === 'string' && typeof actual === 'string' && (expected.includes('\n') || actual.includes('\n'))) return textMismatch(expected, actual, place);
  return { place, expected: show(expected), actual: `${show(actual)}${typeNote(expected, actual)}` };
}

/**
 * `"422"` against `422`: the same when printed, different as values (types count). Said, or the two look equal: the
 * fix is the quotes (or a scenario that returns text, `ToStr`, or a number).
 */
function typeNote(expected: unknown, actual: unknown): string {
  const kind = (v: unknown) => (typeof v === 'string' ? 'text' : typeof v === 'number' ? 'number' : undefined);
  const [e, a] = [kind(expected), kind(actual)];
  return e && a && e !== a && String(expected) === String(actual) ? ` (${e} vs ${a})` : '';
}

function matchOne(m: Matcher, actual: unknown, place: Place): Mismatch[] {
  if ('equals' in m) return deepEqual(m.equals, actual) ? [] : [valueMismatch(m.equals, actual, place)];
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
  // The run's list, as a plain list's length mismatch shows it (cut past 300 characters), so the difference shows.
  if (e.length !== undefined && actual.length !== e.length) return [{ place, at: [...place, 'edges', 'length'], expected: `${e.length} item(s)`, actual: `${actual.length} item(s): ${show(actual)}` }];
  if (actual.length < first.length + last.length) return [{ place, expected: `at least ${first.length + last.length} item(s)`, actual: `${actual.length} item(s): ${show(actual)}` }];
  const tail = actual.length - last.length;
  // Each difference is told at the run's item (`path[5]`) and placed in the file at the item of `first` or `last`.
  const item = (key: 'first' | 'last', x: unknown, i: number, k: number) =>
    match(x, actual[k], [...place, k]).map((m) => ({ ...m, at: [...place, 'edges', key, i, ...(m.at ?? m.place).slice(place.length + 1)] }));
  return [...first.flatMap((x, i) => item('first', x, i, i)), ...last.flatMap((x, i) => item('last', x, i, tail + i))];
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

/** The lists whose items a length mismatch shows one per line, and the parts of an item that identify it. */
const ITEM_PARTS: Record<string, Array<{ key: string; label?: string; before?: string; quoted?: boolean }>> = {
  mails: [{ key: 'to', label: 'to' }, { key: 'cc', label: 'cc' }, { key: 'subject', quoted: true }],
  bpiumCalls: [{ key: 'method' }, { key: 'catalogId', label: 'catalog' }, { key: 'recordId', label: 'record' }, { key: 'status', before: '→' }],
  httpCalls: [{ key: 'method' }, { key: 'url' }, { key: 'status', before: '→' }, { key: 'outcome' }],
  dbCalls: [{ key: 'connection' }, { key: 'statement', quoted: true }, { key: 'status', before: '→' }, { key: 'rowCount', label: 'rows' }],
  asyncStarted: [{ key: 'scenario' }],
};

/** Up to this many items, every one is shown under a length mismatch; a longer list shows its changes with one item of context. */
const SHOWN_ITEMS = 30;

/**
 * A list of another length than expected. For letters and calls, one short line per item, matched in order
 * (the longest run of items that fit their expectation, as a line diff does), so the extra or missing one is named
 * instead of hidden in a cut dump of the whole list.
 */
function lengthMismatch(expected: unknown[], actual: unknown[], place: Place): Mismatch {
  const list = place.at(-1);
  // A table's rows are named by the table (or `rows` of a query), which may be called `mails`: each shown whole.
  const rows = place[0] === 'tables';
  const parts = rows ? [] : typeof list === 'string' ? ITEM_PARTS[list] : undefined;
  if (!parts) return { place, expected: `${expected.length} item(s)`, actual: `${actual.length} item(s): ${show(actual)}` };
  const summary = (item: unknown) => (rows ? show(item) : itemSummary(item, parts));
  const line = (step: Aligned) =>
    step.kind === 'both'
      ? `  [${step.actual}] ${summary(actual[step.actual])}`
      : step.kind === 'extra'
        ? `+ [${step.actual}] ${summary(actual[step.actual])} (extra)`
        : `- ${summary(expected[step.expected])} (missing: item [${step.expected}] of the expectation)`;
  const steps = alignItems(expected, actual);
  const detail = steps.length <= SHOWN_ITEMS ? steps.map(line) : aroundChanges(steps, line);
  const unit = rows ? 'row(s)' : 'item(s)';
  return { place, expected: `${expected.length} ${unit}`, actual: `${actual.length} ${unit}`, detail };
}

/** The extra and missing items of a long list, each with the matched item before and after it; other matched ones counted. */
function aroundChanges(steps: Aligned[], line: (step: Aligned) => string): string[] {
  const changed = (k: number) => k >= 0 && k < steps.length && steps[k]!.kind !== 'both';
  const near = (k: number) => changed(k - 1) || changed(k) || changed(k + 1);
  const out: string[] = [];
  let skipped = 0;
  steps.forEach((step, k) => {
    if (!near(k)) return void skipped++;
    if (skipped) out.push(`  … ${skipped} item(s) as expected`);
    skipped = 0;
    out.push(line(step));
  });
  if (skipped) out.push(`  … ${skipped} item(s) as expected`);
  return out;
}

type Aligned = { kind: 'both'; expected: number; actual: number } | { kind: 'extra'; actual: number } | { kind: 'missing'; expected: number };

/** Pairs expected items with the run's items they fit, keeping both orders and pairing as many as possible. */
function alignItems(expected: unknown[], actual: unknown[]): Aligned[] {
  const n = expected.length;
  const m = actual.length;
  // Too long to compare every pair (each comparison walks an item): item by item at the same position.
  if (n * m > 40_000) return byPosition(expected, actual);
  const fits = expected.map((e) => actual.map((a) => match(e, a).length === 0));
  // best[i][j]: how many pairs the items from i (expected) and j (actual) onwards can make.
  const best = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) best[i]![j] = fits[i]![j] ? best[i + 1]![j + 1]! + 1 : Math.max(best[i + 1]![j]!, best[i]![j + 1]!);
  }
  const steps: Aligned[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && fits[i]![j]) steps.push({ kind: 'both', expected: i++, actual: j++ });
    else if (j < m && (i === n || best[i]![j + 1]! >= best[i + 1]![j]!)) steps.push({ kind: 'extra', actual: j++ });
    else steps.push({ kind: 'missing', expected: i++ });
  }
  return steps;
}

/** Each expected item against the run's item at its position; what is left of the longer list is extra or missing. */
function byPosition(expected: unknown[], actual: unknown[]): Aligned[] {
  return Array.from({ length: Math.max(expected.length, actual.length) }, (_, k): Aligned[] => {
    if (k >= expected.length) return [{ kind: 'extra', actual: k }];
    if (k >= actual.length) return [{ kind: 'missing', expected: k }];
    return match(expected[k], actual[k]).length === 0 ? [{ kind: 'both', expected: k, actual: k }] : [{ kind: 'missing', expected: k }, { kind: 'extra', actual: k }];
  }).flat();
}

/** An item as one short line, from the parts that identify it (an expected item: those it names). */
function itemSummary(item: unknown, parts: (typeof ITEM_PARTS)[string]): string {
  if (!item || typeof item !== 'object' || Array.isArray(item) || isMatcher(item)) return brief(item);
  const o = item as Record<string, unknown>;
  const shown = parts
    .filter((p) => o[p.key] !== undefined && !(Array.isArray(o[p.key]) && p.key === 'cc' && (o[p.key] as unknown[]).length === 0))
    .map((p) => [p.before, p.label, brief(o[p.key], p.quoted)].filter(Boolean).join(' '));
  // A started run: how it ended, when the expectation or the run says.
  const result = o.result as Record<string, unknown> | undefined;
  if (parts === ITEM_PARTS.asyncStarted && result && typeof result === 'object' && result.status !== undefined) shown.push(`→ ${brief(result.status)}`);
  return shown.length ? shown.join(' ') : brief(item);
}

/** A value in a few words: text as it is (quoted when asked), lists joined, matchers in words; cut at 60 characters. */
function brief(v: unknown, quoted = false): string {
  let s: string;
  if (typeof v === 'string') s = quoted ? JSON.stringify(v.replace(/\s+/g, ' ')) : v;
  else if (Array.isArray(v)) s = v.map((x) => brief(x)).join(', ') || '(none)';
  else if (isMatcher(v)) {
    const [[how, what]] = Object.entries(v) as [[string, unknown]];
    s = how === 'equals' ? brief(what, quoted) : how === 'matches' ? `matching /${String(what)}/` : how === 'contains' ? `containing ${JSON.stringify(what)}` : 'a list (edges)';
  } else s = show(v);
  return s.length > 60 ? `${s.slice(0, 59)}…` : s;
}

/** Lines of context shown around the differing lines of two texts, and differing lines shown from each side. */
const CONTEXT_LINES = 1;
const SHOWN_CHANGED_LINES = 5;

/**
 * Two texts of several lines (a letter's text or HTML) that differ: from the first differing line to the last, with a
 * line of context either side, each line numbered and quoted (so a changed space or line end shows).
 */
function textMismatch(expected: string, actual: string, place: Place): Mismatch {
  const e = expected.split('\n');
  const a = actual.split('\n');
  let head = 0;
  while (head < e.length && head < a.length && e[head] === a[head]) head++;
  let tail = 0;
  while (tail < e.length - head && tail < a.length - head && e[e.length - 1 - tail] === a[a.length - 1 - tail]) tail++;
  const numbered = (mark: string, lines: string[], from: number) => lines.map((l, k) => `${mark} ${String(from + k + 1).padStart(4)} ${JSON.stringify(l)}`);
  const changed = (mark: string, lines: string[]) => {
    const differing = lines.slice(head, lines.length - tail);
    const shown = numbered(mark, differing.slice(0, SHOWN_CHANGED_LINES), head);
    return differing.length > SHOWN_CHANGED_LINES ? [...shown, `${mark}      … ${differing.length - SHOWN_CHANGED_LINES} more line(s)`] : shown;
  };
  const before = numbered(' ', e.slice(Math.max(0, head - CONTEXT_LINES), head), Math.max(0, head - CONTEXT_LINES));
  const after = numbered(' ', e.slice(e.length - tail, e.length - tail + CONTEXT_LINES), e.length - tail);
  return {
    place,
    expected: `a text of ${e.length} line(s)`,
    actual: `one that differs at line ${head + 1} (- expected, + got)`,
    detail: [...before, ...changed('-', e), ...changed('+', a), ...after],
  };
}

/** The lists whose items are calls with an outcome of their own: a difference in one says why the call went that way. */
const CALL_LISTS: ReadonlySet<unknown> = new Set(['dbCalls', 'httpCalls']);

/**
 * Each difference inside a database statement or a web request (`dbCalls[0].status`) with what the call's record says
 * of its outcome and the difference does not: the error it took its exit with (`no such table: tasks`, the URL no
 * fixture matched), or that no fixture matched a request the dry run answered with its default 200. Without them a
 * failure shows that a call went wrong, not why.
 */
export function withCallNotes(mismatches: Mismatch[], o: Observed): Mismatch[] {
  return mismatches.map((m) => {
    const fixture = fixtureNote(m, o);
    if (fixture) return { ...m, detail: [...(m.detail ?? []), fixture] };
    const k = m.place.findLastIndex((p, i) => typeof p === 'number' && i > 0 && CALL_LISTS.has(m.place[i - 1]));
    // A difference in the call's own error already shows it.
    if (k < 0 || m.place[k + 1] === 'error') return m;
    // The call's record in what the run did, e.g. at ['asyncStarted', 0, 'result', 'dbCalls', 1].
    const call = valueAtPath(o, m.place.slice(0, k + 1));
    const notes = call && typeof call === 'object' && !Array.isArray(call) ? callNotes(call as Record<string, unknown>) : [];
    return notes.length ? { ...m, detail: [...(m.detail ?? []), ...notes] } : m;
  });
}

/**
 * `performed: true` expected of a Bpium call or a web request that a fixture answered (the test file's `bpium:` or
 * `http:`): such a call is recorded `performed: false, fixture: true`, as nothing went out. Builds before 2026-12-04
 * recorded a Bpium read the test's fake Bpium answered as performed: true, and test files written then (the shipped
 * article.test.yaml among them) say so; the difference alone does not tell that only the record changed, not the run.
 */
function fixtureNote(m: Mismatch, o: Observed): string | undefined {
  const n = m.place.length;
  if (n < 3 || m.place[n - 1] !== 'performed' || typeof m.place[n - 2] !== 'number') return undefined;
  const list = m.place[n - 3];
  if (list !== 'bpiumCalls' && list !== 'httpCalls') return undefined;
  const call = valueAtPath(o, m.place.slice(0, n - 1));
  if (!call || typeof call !== 'object' || (call as { fixture?: unknown }).fixture !== true || (call as { performed?: unknown }).performed !== false) return undefined;
  const why = '(answered by %s: nothing went out, so the call is recorded performed: false, fixture: true%s; write performed: false, or run test --update)';
  return list === 'bpiumCalls'
    ? why.replace('%s', "the test's fake Bpium (bpium:)").replace('%s', ' since the build of 2026-12-04; a test file written before it expects performed: true here')
    : why.replace('%s', 'an HTTP fixture (http:)').replace('%s', '');
}

function callNotes(call: Record<string, unknown>): string[] {
  if (typeof call.error === 'string') {
    const code = typeof call.code === 'string' && !call.error.includes(call.code) ? ` (${call.code})` : '';
    return [`error: ${call.error}${code}`];
  }
  if (call.defaultAnswer === true) return [`(no fixture matched: the dry-run default answer, ${String(call.status ?? 200)} with an empty body)`];
  return [];
}


/** A run of the case's tree that failed, at its place in the expectation (`[]`: the case's own run). */
export interface RunErrorAt {
  place: Place;
  error: Record<string, unknown>;
}

/**
 * The failed runs of the tree whose failure the expectation does not account for: it names neither `status` nor
 * `error` of that run, or they do not match. Their errors say why the case failed where its mismatches only say
 * that it did.
 */
export function unexpectedRunErrors(expected: unknown, o: Observed, place: Place = []): RunErrorAt[] {
  const e = expected !== null && typeof expected === 'object' && !Array.isArray(expected) && !isMatcher(expected) ? (expected as Record<string, unknown>) : {};
  // A run that failed before its first block (its scenario not loaded) has no block's scenario in its error: the run's.
  const own = o.status === 'failed' && o.error && !failureExpected(e, o) ? [{ place, error: { scenario: o.scenario, ...o.error } }] : [];
  const started = Array.isArray(e.asyncStarted) ? e.asyncStarted : [];
  const children = o.asyncStarted.flatMap((a, i) => {
    if (!a.result) return [];
    const item = started[i] as { result?: unknown } | undefined;
    return unexpectedRunErrors(item && typeof item === 'object' ? item.result : undefined, a.result, [...place, 'asyncStarted', i, 'result']);
  });
  return [...own, ...children];
}

function failureExpected(e: Record<string, unknown>, o: Observed): boolean {
  const named = pick(e, ['status', 'error']);
  return Object.keys(named).length > 0 && match(named, o).length === 0;
}

/**
 * The expectation a case gets when it is written from a run (`--from-run`, or `--update` of a case without one):
 * the outcome, return values, letters (addresses and subject), Bpium calls, web requests, the path, and each started
 * child.
 */
export function expectationOf(o: Observed, opts: { bodies?: boolean } = {}): Record<string, unknown> {
  // With `bodies` (test --against-runs, which writes no file): a letter's text and HTML and a web request's body too,
  // so that an edit of a template or of what a request sends is a difference, not only one of an address or a URL.
  const mailKeys = opts.bodies ? ['text', 'html'] : [];
  const httpKeys = opts.bodies ? ['method', 'url', 'body', 'status', 'outcome'] : ['method', 'url', 'status', 'outcome'];
  return {
    status: o.status,
    returnValues: o.returnValues,
    ...(o.error ? { error: { code: o.error.code, ...(o.error.block !== undefined ? { block: o.error.block } : {}) } } : {}),
    mails: keptList(o.mails.map((m) => ({ to: m.to, ...(Array.isArray(m.cc) && m.cc.length ? { cc: m.cc } : {}), subject: m.subject, ...pick(m, mailKeys) })), o.kept?.mails),
    bpiumCalls: keptList(o.bpiumCalls.map((c) => pick(c, ['method', 'catalogId', 'recordId', 'status'])), o.kept?.bpiumCalls),
    ...(o.dbCalls?.length ? { dbCalls: o.dbCalls.map((c) => pick(c, ['connection', 'statement', 'status', 'rowCount'])) } : {}),
    ...(o.httpCalls?.length ? { httpCalls: o.httpCalls.map((c) => pick(c, httpKeys)) } : {}),
    ...(o.asyncStarted.length
      ? { asyncStarted: o.asyncStarted.map((a) => ({ scenario: a.scenario, ...(a.result ? { result: expectationOf(a.result, opts) } : {}) })) }
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
