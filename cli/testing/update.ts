// `--update`: rewrites a case's expectation from what its scenario does now, for when a change was intended.
//
// The new expectation keeps the shape of the old one — the same keys, the same matchers where they still hold — and
// only the values that no longer match change. The file is edited through the yaml package's Document, node by node,
// so comments, key order and flow/block style survive everywhere the values did not change.
import { isMap, isScalar, isSeq, parseDocument, type Document, type Node } from 'yaml';
import { keyOf } from '../../engine/index.js';
import { expectationOf, isMatcher, isSingleAddress, match, type Edges, type Observed } from './expectations.js';

/** The expectation `expected` would be if it described `actual`. */
export function refreshed(expected: unknown, actual: unknown, listName?: string): unknown {
  // One address written for a letter's `to` (cc, bcc): it stays one while the letter has one, else becomes the list.
  if (listName !== undefined && isSingleAddress(listName, expected, actual)) return actual.length === 1 && typeof actual[0] === 'string' ? actual[0] : actual;
  if (match(expected, actual).length === 0) return expected;
  if (isMatcher(expected) && 'edges' in expected && Array.isArray(actual)) return refreshedEdges(expected.edges, actual, listName);
  if (isMatcher(expected)) return 'equals' in expected ? { equals: actual } : actual;
  if (Array.isArray(expected) && Array.isArray(actual)) {
    const template = expected.find((e) => e !== null && typeof e === 'object' && !isMatcher(e));
    return actual.map((a, i) => {
      const shape = expected[i] ?? template;
      return shape !== undefined ? refreshed(shape, a) : defaultItem(listName, a);
    });
  }
  if (expected !== null && typeof expected === 'object' && !Array.isArray(expected) && actual !== null && typeof actual === 'object' && !Array.isArray(actual)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(expected)) {
      const a = (actual as Record<string, unknown>)[k];
      // A case's `tables` (connection → table → rows): a table's name is no list of the run's (`mails`), its new rows
      // are written whole.
      if (a !== undefined) out[k] = k === 'tables' && listName === undefined ? refreshedTables(v, a) : refreshed(v, a, k);
    }
    return out;
  }
  return actual;
}

/** `tables` refreshed table by table, each table's (or query's) rows as an unnamed list. */
function refreshedTables(expected: unknown, actual: unknown): unknown {
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isObject(expected) || !isObject(actual)) return refreshed(expected, actual);
  return Object.fromEntries(
    Object.entries(expected).map(([connection, tables]) => {
      const got = actual[connection];
      if (!isObject(tables) || !isObject(got)) return [connection, tables];
      return [connection, Object.fromEntries(Object.entries(tables).map(([name, rows]) => [name, got[name] !== undefined ? refreshed(rows, got[name]) : rows]))];
    }),
  );
}

/**
 * `{ edges }` stays `{ edges }`, with the keys it had: as many `first` and `last` items as before (fewer when the list
 * is shorter than both together: `first` takes what there is, `last` the rest), each refreshed from the old item at its
 * place, and `length` the list's new length. The middle stays unchecked, as a cut record's test wants.
 */
function refreshedEdges(e: Edges, actual: unknown[], listName?: string): { edges: Edges } {
  const first = e.first ?? [];
  const last = e.last ?? [];
  const nFirst = Math.min(first.length, actual.length);
  const nLast = Math.min(last.length, actual.length - nFirst);
  const template = [...first, ...last].find((x) => x !== null && typeof x === 'object' && !isMatcher(x));
  const item = (shape: unknown, a: unknown) => (shape !== undefined ? refreshed(shape, a) : template !== undefined ? refreshed(template, a) : defaultItem(listName, a));
  const next: Edges = {};
  // In the order the file has its keys, so the rewrite edits values in place.
  for (const key of Object.keys(e) as Array<keyof Edges>) {
    if (key === 'first') next.first = actual.slice(0, nFirst).map((a, i) => item(first[i], a));
    if (key === 'last') next.last = actual.slice(actual.length - nLast).map((a, i) => item(last[last.length - nLast + i], a));
    if (key === 'length') next.length = actual.length;
  }
  return { edges: next };
}

/** An item of a list the old expectation had empty: the parts of it that a written expectation names. */
function defaultItem(listName: string | undefined, item: unknown): unknown {
  const probe: Observed = { scenario: '', status: 'completed', returnValues: {}, mails: [], bpiumCalls: [], asyncStarted: [], path: [], variables: {} };
  if (listName === 'mails') return (expectationOf({ ...probe, mails: [item as Record<string, unknown>] }).mails as unknown[])[0];
  if (listName === 'bpiumCalls') return (expectationOf({ ...probe, bpiumCalls: [item as Record<string, unknown>] }).bpiumCalls as unknown[])[0];
  if (listName === 'dbCalls') return (expectationOf({ ...probe, dbCalls: [item as Record<string, unknown>] }).dbCalls as unknown[])[0];
  if (listName === 'httpCalls') return (expectationOf({ ...probe, httpCalls: [item as Record<string, unknown>] }).httpCalls as unknown[])[0];
  if (listName === 'asyncStarted') return (expectationOf({ ...probe, asyncStarted: [item as Observed['asyncStarted'][number]] }).asyncStarted as unknown[])[0];
  return item;
}

/**
 * Rewrites `cases[i].expect` of the given cases in a test file's text; returns the new text. `updates` maps a case
 * index to its new expectation (as made by `refreshed`). When only values changed, they are replaced in the text
 * itself, so the layout stays exactly as written; otherwise the Document is written out (comments kept).
 */
export function rewriteExpectations(text: string, updates: Map<number, unknown>): string {
  const doc = parseDocument(text);
  const edits: Edit[] = [];
  let structural = false;
  for (const [index, next] of updates) {
    const cases = isMap(doc.contents) ? doc.contents.items.find((p) => keyOf(p) === 'cases')?.value : undefined;
    const c = isSeq(cases) ? cases.items[index] : undefined;
    const pair = isMap(c) ? c.items.find((p) => keyOf(p) === 'expect') : undefined;
    if (!pair) continue;
    const changes = { edits, structural: false };
    (pair as { value: unknown }).value = patch(doc, pair.value as Node, next, changes);
    structural ||= changes.structural;
  }
  if (!structural) {
    // An empty value written right after its colon (`subject:`) has no width: the new one needs its space.
    const put = (t: string, e: Edit) => (e.from === e.to && t[e.from - 1] === ':' ? ` ${e.text}` : e.text);
    return edits.sort((a, b) => b.from - a.from).reduce((t, e) => t.slice(0, e.from) + put(t, e) + t.slice(e.to), text);
  }
  return writeKeepingLines(doc, text);
}

/**
 * The Document as text, with every line that did not change kept as it was written. The yaml writer has one style for
 * the whole file: one space before a line comment, one padding inside every flow collection, one indentation of
 * block lists. So the writer is set to the file's style where it can be (unpadded flow lists `[a, b]`, block lists
 * indented or not as the file has them), then each written line that differs from a line of the original only in
 * those spaces is replaced by the original line. If that would change what the file says (a value differing only in
 * such spaces), the writer's text is kept as it is.
 */
function writeKeepingLines(doc: Document, original: string): string {
  // A key at the start of a line followed by a list item at the same indentation: the file does not indent its lists.
  const indentSeq = !/^( *)[^\s#-][^\n]*:[ \t]*\r?\n\1- /m.test(original);
  const written = doc.toString({ lineWidth: 0, flowCollectionPadding: false, indentSeq });
  const originalByShape = new Map<string, string>();
  for (const line of original.split('\n')) if (!originalByShape.has(lineShape(line))) originalByShape.set(lineShape(line), line);
  const kept = written
    .split('\n')
    .map((line) => originalByShape.get(lineShape(line)) ?? line)
    .join('\n');
  const meaning = (t: string) => JSON.stringify(parseDocument(t).toJS());
  return meaning(kept) === meaning(written) ? kept : written;
}

/** A line without the spaces the writer chooses itself: padding inside brackets and braces, spacing before a comment. */
function lineShape(line: string): string {
  return line.replace(/([[{]) +/g, '$1').replace(/ +([\]}])/g, '$1').replace(/ +#/g, ' #').trimEnd();
}

interface Edit {
  from: number;
  to: number;
  text: string;
}

/** The node for `next`, reusing `node` (and its comments) wherever it still says the same. */
function patch(doc: Document, node: Node, next: unknown, changes: { edits: Edit[]; structural: boolean }): Node {
  if (isMap(node) && next !== null && typeof next === 'object' && !Array.isArray(next)) {
    const want = next as Record<string, unknown>;
    const kept = node.items.filter((p) => keyOf(p) in want);
    if (kept.length !== node.items.length) changes.structural = true;
    node.items = kept;
    for (const [k, v] of Object.entries(want)) {
      const pair = node.items.find((p) => keyOf(p) === k);
      if (pair) pair.value = patch(doc, pair.value as Node, v, changes);
      else {
        node.items.push(doc.createPair(k, v));
        changes.structural = true;
      }
    }
    return node;
  }
  if (isSeq(node) && Array.isArray(next)) {
    if (next.length !== node.items.length) changes.structural = true;
    node.items = next.map((v, i) => (node.items[i] ? patch(doc, node.items[i] as Node, v, changes) : doc.createNode(v)));
    return node;
  }
  if (isScalar(node) && (next === null || typeof next !== 'object')) {
    if (node.value !== next) {
      // A plain word replaced by a plain word stays plain (`path: [begin, parse, badInput]`, not `"badInput"`).
      const plain = node.type === 'PLAIN' && typeof next === 'string' && plainWord(next);
      node.value = next;
      // A new value may need quotes the old one did not; let the writer choose again.
      if (node.type === 'PLAIN' || typeof next !== 'string') node.type = undefined;
      // JSON is valid YAML in block and flow context alike, so the value can be put in place as JSON.
      if (node.range) changes.edits.push({ from: node.range[0], to: node.range[1], text: plain ? next : (JSON.stringify(next) ?? 'null') });
      else changes.structural = true;
    }
    return node;
  }
  changes.structural = true;
  const fresh = doc.createNode(next) as Node;
  // Inside a flow collection ({ … } or [ … ]) a new block would not parse: keep the new node in flow style too.
  if ((isMap(fresh) || isSeq(fresh)) && (isMap(node) || isSeq(node)) && node.flow) fresh.flow = true;
  return fresh;
}

/**
 * Whether text reads back as the same text when written without quotes, in a block and inside `[ … ]` or `{ … }`
 * alike: a word of letters, digits, `_`, `-` and `.` that starts with a letter or `_` and is none of YAML's words for
 * true, false or null (in either YAML version), which would read back as something else.
 */
function plainWord(text: string): boolean {
  return /^[\p{L}_][\p{L}\p{N}_.-]*$/u.test(text) && !/^(true|false|null|yes|no|on|off|y|n)$/i.test(text);
}
