// A parsed YAML file with source positions: finds the node at a path and turns offsets into line:col.
import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument, visit, type Document, type Node, type Pair } from 'yaml';
import type { SourceLocation } from './errors.js';

export type PathSeg = string | number;

export class YamlSource {
  readonly lineCounter = new LineCounter();
  readonly doc: Document.Parsed;
  /** Paths read as other paths: a property written at the wrong indent is located where it stands in the file. */
  private readonly aliases: Array<{ from: readonly PathSeg[]; to: readonly PathSeg[] }> = [];
  /** The text as parsed: a lone CR read as LF (same length), so a scalar over lines is walked line by line. */
  private readonly parsed: string;

  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    // A file saved with CR alone between lines (old Mac editors) is one line to the parser, all of it a comment after
    // the first #: YAML counts CR as a line break, as editors do, so it is read as LF (the same length: every offset,
    // line and column stays that of the file).
    const parsed = text.includes('\r') ? text.replace(/\r(?!\n)/g, '\n') : text;
    this.parsed = parsed;
    this.doc = parseDocument(parsed, { lineCounter: this.lineCounter, uniqueKeys: true, prettyErrors: false, keepSourceTokens: false });
  }

  /** For a duplicate key whose second occurrence starts at `offset`: the key and where it first appears in its mapping. */
  duplicateKey(offset: number): { key: string; first: SourceLocation; parentKey?: string } | undefined {
    let found: { key: string; first: SourceLocation; parentKey?: string } | undefined;
    visit(this.doc, {
      Map: (_, map, path) => {
        const keys = map.items.map((p) => ({ key: keyOf(p), start: (p.key as Node | null)?.range?.[0] }));
        const dup = keys.find((k) => k.start === offset);
        const first = dup && keys.find((k) => k.key === dup.key && k.start !== undefined && k.start < offset);
        if (!first) return undefined;
        const parent = path[path.length - 1];
        found = { key: dup.key, first: this.at(first.start!), ...(isPair(parent) ? { parentKey: keyOf(parent) } : {}) };
        return visit.BREAK;
      },
    });
    return found;
  }

  /** Location of a character offset in the file. */
  at(offset: number): SourceLocation {
    return locationIn(this.file, this.text, this.lineCounter, offset);
  }

  /**
   * Makes `from` (and every path under it) be found at `to`: the loader reads a block property written at the block
   * ids' indent as the block's own, and its problems are still placed where it stands.
   */
  alias(from: readonly PathSeg[], to: readonly PathSeg[]): void {
    this.aliases.push({ from, to });
  }

  /** The pair and value node at `path` (keys of mappings, indexes of sequences). */
  find(path: readonly PathSeg[]): { node?: Node; pair?: Pair } {
    for (const a of this.aliases) {
      if (path.length >= a.from.length && a.from.every((seg, i) => String(seg) === String(path[i]))) {
        path = [...a.to, ...path.slice(a.from.length)];
        break;
      }
    }
    let node: unknown = this.doc.contents;
    let pair: Pair | undefined;
    for (const seg of path) {
      if (isMap(node)) {
        // The last of duplicate keys (reported already), as the parsed values keep the last one.
        pair = node.items.findLast((p) => keyOf(p) === String(seg));
        if (!pair) return { pair: undefined, node: undefined };
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        node = node.items[seg];
        pair = undefined;
        if (node === undefined) return {};
      } else {
        return {};
      }
    }
    return { node: node as Node | undefined, ...(pair ? { pair } : {}) };
  }

  /**
   * Best location for `path`: the value when it exists, else the key, else the closest existing parent.
   * With `key`, the key's position (for unknown keys).
   */
  locate(path: readonly PathSeg[], opts: { key?: boolean } = {}): SourceLocation {
    for (let n = path.length; n >= 0; n--) {
      const { node, pair } = this.find(path.slice(0, n));
      const keyNode = pair && (pair.key as Node | null);
      const target = opts.key && n === path.length ? keyNode ?? node : node ?? keyNode;
      if (target?.range) return this.at(target.range[0]);
      if (n === 0) break;
    }
    return { file: this.file, line: 1, col: 1 };
  }

  /**
   * Location of character `offset` inside the scalar at `path` (for errors inside expressions). Exact for plain,
   * quoted and block (`|`, `>`) scalars, on one line or several; the scalar's start when escapes make the text
   * differ from the value.
   */
  locateInScalar(path: readonly PathSeg[], offset: number): SourceLocation {
    const { node } = this.find(path);
    if (!isScalar(node) || !node.range) return this.locate(path);
    return this.at(scalarOffset(this.parsed, node as ScalarShape, offset));
  }

  /**
   * {@link locateInScalar} for the scalar at `path`, to ask later (a run-time error inside an expression): it keeps
   * only the file's text and line starts, not the parsed document. Undefined when `path` is not a scalar.
   */
  scalarLocator(path: readonly PathSeg[]): ((offset: number) => SourceLocation) | undefined {
    const { node } = this.find(path);
    if (!isScalar(node) || !node.range) return undefined;
    const { file, text, lineCounter, parsed } = this;
    const scalar: ScalarShape = { type: node.type, range: [node.range[0], node.range[1]], value: node.value };
    return (offset) => locationIn(file, text, lineCounter, scalarOffset(parsed, scalar, offset));
  }

  /** The text of the scalar at `path` as written in the file (`+79001234567` where its value is 79001234567). */
  sourceOf(path: readonly PathSeg[]): string | undefined {
    const { node } = this.find(path);
    return isScalar(node) && node.range ? this.text.slice(node.range[0], node.range[1]) : undefined;
  }

  /** The YAML style of the scalar at `path` (PLAIN, QUOTE_SINGLE, QUOTE_DOUBLE, BLOCK_LITERAL, BLOCK_FOLDED). */
  scalarStyle(path: readonly PathSeg[]): string | undefined {
    const { node } = this.find(path);
    return isScalar(node) ? node.type : undefined;
  }
}

/** What locating a character inside a scalar needs of its node. */
interface ScalarShape {
  type?: string | undefined;
  range: readonly [number, number, ...number[]];
  value: unknown;
}

/** Location of a character offset in a file. */
function locationIn(file: string, text: string, lineCounter: LineCounter, offset: number): SourceLocation {
  const pos = lineCounter.linePos(Math.max(0, Math.min(offset, text.length)));
  // A byte-order mark (Notepad writes one) is no column in an editor.
  const bom = pos.line === 1 && text.startsWith('\uFEFF') && pos.col > 1 ? 1 : 0;
  return { file, line: pos.line, col: pos.col - bom };
}

/**
 * File offset of character `offset` of a scalar's value. Exact for plain, quoted and block (`|`, `>`) scalars, on one
 * line or several; the scalar's start when escapes make the text differ from the value.
 */
function scalarOffset(text: string, node: ScalarShape, offset: number): number {
  const start = node.range[0];
  const end = node.range[1];
  const raw = text.slice(start, end);
  let body: number;
  switch (node.type) {
    case 'PLAIN':
      body = start;
      break;
    case 'QUOTE_DOUBLE':
    case 'QUOTE_SINGLE': {
      // A backslash is an escape in "…" only; in '…' the one escape is ''. On one line the escapes are walked;
      // over several lines they are walked while folding is matched (alignNonBlank).
      const escaped = node.type === 'QUOTE_DOUBLE' ? raw.includes('\\') : raw.includes("''");
      if (escaped && !raw.includes('\n')) return start + 1 + rawOffset(raw.slice(1), offset, node.type);
      if (escaped && typeof node.value === 'string') return alignNonBlank(node.value, offset, text, start + 1, end, node.type);
      body = start + 1;
      break;
    }
    case 'BLOCK_FOLDED':
    case 'BLOCK_LITERAL': {
      // The value starts on the line after the header (`>-`, `|` and their indicators).
      const nl = raw.indexOf('\n');
      if (nl < 0) return start;
      body = start + nl + 1;
      break;
    }
    default:
      return start;
  }
  if (node.type !== 'BLOCK_FOLDED' && node.type !== 'BLOCK_LITERAL' && !raw.includes('\n')) return body + offset;
  if (typeof node.value !== 'string') return start;
  return alignNonBlank(node.value, offset, text, body, end);
}

/** Hex digits after the letter of a `\x`, `\u` or `\U` escape in "…". */
const HEX_DIGITS: Record<string, number> = { x: 2, u: 4, U: 8 };

/** Offset in a quoted scalar's source (after its opening quote) of value character `offset`, walking escapes. */
function rawOffset(raw: string, offset: number, type: 'QUOTE_DOUBLE' | 'QUOTE_SINGLE'): number {
  let i = 0;
  for (let v = 0; v < offset && i < raw.length; ) {
    if (type === 'QUOTE_SINGLE') {
      i += raw.startsWith("''", i) ? 2 : 1;
      v++;
    } else if (raw[i] === '\\') {
      // `\U0001F600` is two characters of the value (a surrogate pair), as an emoji written as it is.
      const e = escapeAt(raw, i);
      i += e.width;
      v += e.units;
    } else {
      i++;
      v++;
    }
  }
  return i;
}

/**
 * The escape of a "…" scalar starting at `text[j]` (a backslash): its width in the source, how many characters
 * (UTF-16 code units, as the expression's offsets count) it is in the value, and whether they are blank.
 */
function escapeAt(text: string, j: number): { width: number; units: number; blank: boolean } {
  const next = text[j + 1] ?? '';
  // A backslash before a line break joins the lines: nothing of the value.
  if (next === '\n' || next === '\r') return { width: 2, units: 0, blank: true };
  const hex = HEX_DIGITS[next];
  if (hex === undefined) return { width: 2, units: 1, blank: BLANK_ESCAPES.has(next) };
  const code = Number.parseInt(text.slice(j + 2, j + 2 + hex), 16);
  const char = Number.isInteger(code) && code >= 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '?';
  // `\u0020` and `\x09` are a space and a tab of the value, blank as the ones written as they are.
  return { width: 2 + hex, units: char.length, blank: char.length === 1 && isBlank(char) };
}

const isBlank = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\r';

/** Escapes of "…" whose character is blank (a line feed, a tab, a space, a carriage return). */
const BLANK_ESCAPES = new Set(['n', 't', '\t', ' ', 'r']);

/**
 * Source offset of value character `offset` for a scalar spread over lines. Folding and indentation change only
 * whitespace, so the n-th non-blank character of the value is the n-th non-blank character of the source text. In a
 * quoted scalar an escape (`\"`, `\x41`, `''`) is one character of the value, and a backslash before a line break
 * is none.
 */
function alignNonBlank(value: string, offset: number, text: string, from: number, to: number, quote?: 'QUOTE_DOUBLE' | 'QUOTE_SINGLE'): number {
  let n = 0;
  for (let i = 0; i < Math.min(offset, value.length); i++) if (!isBlank(value[i]!)) n++;
  let seen = 0;
  let after = from;
  for (let j = from; j < to; ) {
    let width = 1;
    /** Non-blank characters of the value this piece of the source is. */
    let units = isBlank(text[j]!) ? 0 : 1;
    if (quote === 'QUOTE_DOUBLE' && text[j] === '\\') {
      const e = escapeAt(text, j);
      width = e.width;
      units = e.blank ? 0 : e.units;
    } else if (quote === 'QUOTE_SINGLE' && text.startsWith("''", j)) width = 2;
    if (units > 0) {
      if (n < seen + units) return j;
      seen += units;
      after = j + width;
    }
    j += width;
  }
  return after;
}

export function keyOf(pair: Pair): string {
  const k = pair.key as unknown;
  if (isScalar(k)) return String(k.value);
  return String(k);
}
