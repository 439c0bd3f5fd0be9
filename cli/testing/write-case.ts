// Adds a case to a test file (creating the file when needed) through the yaml Document, so the comments and the
// other cases of an existing file stay as they are.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Document, isMap, isPair, isScalar, isSeq, parseDocument, Scalar, visit, type Node } from 'yaml';
import { keyOf } from '../../engine/index.js';

/** The run cannot become a test (not stored, still running, or the target file cannot take the case). */
export class RecordedRunError extends Error {
  override name = 'RecordedRunError';
}

/**
 * A run (or one it started) stored without its trace (OKTELL_TRACE=failed, server/trace-setting.ts): no case can be
 * made of it. `test --against-runs` words it as a run it cannot replay, not as a test to make from another run.
 */
export class TraceNotKeptRunError extends RecordedRunError {
  override name = 'TraceNotKeptRunError';
  constructor(message: string, readonly which: string, readonly setting: string) {
    super(message);
  }
}

export function appendCase(file: string, testCase: Record<string, unknown>, comment?: string): void {
  let doc: Document;
  if (existsSync(file)) {
    doc = parseDocument(readFileSync(file, 'utf8'));
    if (doc.errors.length) throw new RecordedRunError(`${file}: cannot add a case to a file with YAML errors (${doc.errors[0]!.message.split('\n')[0]})`);
  } else {
    doc = newTestFile();
  }
  const cases = isMap(doc.contents) ? doc.contents.items.find((p) => keyOf(p) === 'cases')?.value : undefined;
  if (!isSeq(cases)) throw new RecordedRunError(`${file}: not a test file (no "cases:" list)`);
  const names = (cases.toJSON() as Array<{ name?: unknown }>).map((c) => c?.name);
  if (names.includes(testCase.name)) throw new RecordedRunError(`${file} already has a case named "${String(testCase.name)}"; choose another with --name`);
  const node = doc.createNode(testCase) as Node;
  compact(node);
  if (comment) node.commentBefore = comment;
  // A blank line between cases, as a person leaves one (none above the first, right under `cases:`).
  if (cases.items.length) node.spaceBefore = true;
  cases.items.push(node);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, doc.toString({ lineWidth: 0 }));
}

/** A test file holding only `testCase`, as text (the console's download of a run). */
export function testFileText(testCase: Record<string, unknown>, comment?: string, warnings: readonly string[] = []): string {
  const doc = newTestFile();
  // At the top, where one reads first: what makes the case likely to fail as written (another scenario version).
  if (warnings.length) doc.commentBefore += `\n${warnings.map((w) => ` WARNING: ${w}`).join('\n')}`;
  const node = doc.createNode(testCase) as Node;
  compact(node);
  if (comment) node.commentBefore = comment;
  (doc.get('cases') as { items: Node[] }).items.push(node);
  return doc.toString({ lineWidth: 0 });
}

function newTestFile(): Document {
  const doc = new Document({ description: 'Cases recorded from runs of the server (oktell-emu test --from-run)', cases: [] });
  doc.commentBefore = ' Cases written from recorded runs (oktell-emu test --from-run <runId>); see docs/testing-scenarios.md.';
  return doc;
}

/**
 * Written as a person would: short lists and mappings of one-line scalars in flow style (`[a, b]`, `{ id: "2" }`),
 * text of several lines as a block (`|`) rather than a quoted string with `\n`s, and the numbers of input parameters
 * and return values as numbers (`{ 1: /Bpium/NewTask }`), which read back as the same keys.
 */
function compact(node: Node): void {
  visit(node, {
    Pair: (_k, p) => {
      const key = isScalar(p.key) ? p.key.value : p.key;
      if ((key === 'params' || key === 'returnValues') && isMap(p.value)) {
        for (const item of p.value.items) {
          if (isScalar(item.key) && typeof item.key.value === 'string' && /^[1-9]\d*$/.test(item.key.value)) item.key = new Scalar(Number(item.key.value));
        }
      }
    },
    Scalar: (_k, s) => {
      if (typeof s.value === 'string' && blockable(s.value)) s.type = Scalar.BLOCK_LITERAL;
    },
  });
  visit(node, {
    Map: (_k, m) => {
      if (m.items.every((p) => isPair(p) && !isMap(p.value) && !isSeq(p.value) && !multiline(p.value)) && JSON.stringify(m.toJSON()).length <= 80) m.flow = true;
    },
    Seq: (_k, s) => {
      if (s.items.every((i) => !isMap(i) && !isSeq(i) && !multiline(i)) && JSON.stringify(s.toJSON()).length <= 80) s.flow = true;
    },
  });
}

/**
 * Text a block scalar gives back exactly: several lines, no carriage return or other control character (which a
 * block would turn into a line break or refuse), no spaces or tabs ending the last line.
 */
export function blockable(text: string): boolean {
  return text.includes('\n') && !/[\u0000-\u0008\u000b-\u001f\u007f\u0085\u2028\u2029\ufeff]/.test(text) && !/[\t ]$/.test(text.replace(/\n+$/, '')) && text.trim() !== '';
}

function multiline(node: unknown): boolean {
  return isScalar(node) && typeof node.value === 'string' && node.value.includes('\n');
}
