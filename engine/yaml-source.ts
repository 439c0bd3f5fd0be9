// A parsed YAML file with source positions: finds the node at a path and turns offsets into line:col.
import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument, type Document, type Node, type Pair } from 'yaml';
import type { SourceLocation } from './errors.js';

export type PathSeg = string | number;

export class YamlSource {
  readonly lineCounter = new LineCounter();
  readonly doc: Document.Parsed;

  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lineCounter, uniqueKeys: true, prettyErrors: false, keepSourceTokens: false });
  }

  /** Location of a character offset in the file. */
  at(offset: number): SourceLocation {
    const pos = this.lineCounter.linePos(Math.max(0, Math.min(offset, this.text.length)));
    return { file: this.file, line: pos.line, col: pos.col };
  }

  /** The pair and value node at `path` (keys of mappings, indexes of sequences). */
  find(path: readonly PathSeg[]): { node?: Node; pair?: Pair } {
    let node: unknown = this.doc.contents;
    let pair: Pair | undefined;
    for (const seg of path) {
      if (isMap(node)) {
        pair = node.items.find((p) => keyOf(p) === String(seg));
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
   * Location of character `offset` inside the scalar at `path` (for errors inside expressions). Exact for plain and
   * quoted one-line scalars without escapes; otherwise the scalar's start.
   */
  locateInScalar(path: readonly PathSeg[], offset: number): SourceLocation {
    const { node } = this.find(path);
    if (!isScalar(node) || !node.range) return this.locate(path);
    const start = node.range[0];
    const raw = this.text.slice(start, node.range[1]);
    if (raw.includes('\n') || raw.includes('\\') || raw.includes("''")) return this.at(start);
    switch (node.type) {
      case 'PLAIN':
        return this.at(start + offset);
      case 'QUOTE_DOUBLE':
      case 'QUOTE_SINGLE':
        return this.at(start + 1 + offset);
      default:
        return this.at(start);
    }
  }
}

export function keyOf(pair: Pair): string {
  const k = pair.key as unknown;
  if (isScalar(k)) return String(k.value);
  return String(k);
}
