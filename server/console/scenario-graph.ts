// Lays a scenario out as a flowchart with dagre (blocks with title, kind and detail, labelled exits, where unwired
// exits end the run), cached per version, and marks the path a run took on it. The console and `oktell-emu graph
// --format svg` draw this same layout.
import dagre from '@dagrejs/dagre';
import { clipText, EXIT_END_LABELS, outlineOfScenario, type ExitEnd, type Scenario, type ScenarioOutline } from '../../engine/index.js';

/** `end`: where an unwired exit (or one leading to a missing block) takes the run. */
export type NodeShape = 'pill' | 'hex' | 'box' | 'dot' | 'end';
/** Colour group of a block kind in the diagram. */
export type KindGroup = 'control' | 'data' | 'effect' | 'other';

export interface DiagramNode {
  id: string;
  kind: string;
  /** The title wrapped into lines (the block id when there is no title). */
  titleLines: string[];
  /** Second line: the kind, and the id when a title is shown. */
  sub: string;
  /** A Condition's expression or an AsyncScenario's target, wrapped; empty for other blocks. */
  detailLines: string[];
  /** Baselines of the detail lines. */
  detailY: number[];
  /** For `end` nodes: how the run ends there, or `missing` for an exit to a block that does not exist. */
  end?: ExitEnd | 'missing';
  /** The scenario's problems name this block (an invalid scenario drawn as far as it can be). */
  problem?: boolean;
  shape: NodeShape;
  group: KindGroup;
  /** Top-left corner and size. */
  x: number;
  y: number;
  w: number;
  h: number;
  /** Line of the block in the YAML file. */
  line: number;
  /** Centre, baselines of the title lines and of the kind line, left edge of the step badge. */
  cx: number;
  cy: number;
  titleY: number[];
  subY: number;
  badgeX: number;
  /** Hexagon outline for conditions. */
  points?: string;
}

export interface DiagramEdge {
  from: string;
  to: string;
  exit: string;
  /** Shown on the arrow unless the exit is the plain `next` (an exit the block's kind lacks is marked `✗`). */
  label?: string;
  /** An exit the block's kind does not have (an invalid file): what `validate` says of it. Drawn dashed, in red. */
  problem?: string;
  path: string;
  /** Box of the label, its centre and text baseline. */
  labelBox?: { x: number; y: number; w: number; h: number; cx: number; ty: number };
}

export interface Diagram {
  width: number;
  height: number;
  nodes: DiagramNode[];
  edges: DiagramEdge[];
  /**
   * Set, with no nodes or edges, when the scenario is too large to lay out on the server's thread (`DRAW_LIMIT`): its
   * number of blocks and the size of the layout it would need.
   */
  tooLarge?: { blocks: number; size: number };
}

/**
 * The largest layout the console draws (`layoutSize`). dagre's time grows with it, about 2 ms a unit on a busy
 * 2-core machine (1.5 s at 660, 40 s at 23,400: an HTTP404 routing 70 customers' paths to one answer block; the
 * shipped scenarios are 16 to 46), and the server answers webhooks on the same thread, so a larger scenario is shown
 * with its YAML and no diagram (`oktell-emu graph --format svg` still draws it, in a process of its own).
 */
export const DRAW_LIMIT = 1000;

/**
 * The size of the layout dagre would make of `o`: its nodes plus, for each arrow, the layers it spans (dagre puts a
 * node of its own on every layer a long arrow crosses). Layers are the longest path from the start, loops broken where
 * a depth-first walk meets a block it is still inside, as dagre breaks them.
 */
export function layoutSize(o: ScenarioOutline): number {
  const next = new Map<string, string[]>();
  let ends = 0;
  for (const b of o.blocks) {
    const targets: string[] = [];
    for (const x of b.exits) {
      if (x.target !== undefined && !x.missing) targets.push(x.target);
      else ends++;
    }
    next.set(b.id, targets);
  }
  // Depth-first order without recursion (a chain of hundreds of blocks), keeping the arrows that do not close a loop.
  const state = new Map<string, 1 | 2>();
  const order: string[] = [];
  const forward: Array<[string, string]> = [];
  const back: Array<[string, string]> = [];
  const roots = [...(o.start !== undefined ? [o.start] : []), ...o.blocks.map((b) => b.id)];
  for (const root of roots) {
    if (state.has(root) || !next.has(root)) continue;
    const stack: Array<[string, number]> = [[root, 0]];
    state.set(root, 1);
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const targets = next.get(top[0]) ?? [];
      if (top[1] < targets.length) {
        const to = targets[top[1]++]!;
        if (!next.has(to)) continue;
        if (state.get(to) === 1) back.push([top[0], to]);
        else {
          forward.push([top[0], to]);
          if (!state.has(to)) {
            state.set(to, 1);
            stack.push([to, 0]);
          }
        }
      } else {
        state.set(top[0], 2);
        order.push(top[0]);
        stack.pop();
      }
    }
  }
  const rank = new Map<string, number>();
  const incoming = new Map<string, string[]>();
  for (const [from, to] of forward) incoming.set(to, [...(incoming.get(to) ?? []), from]);
  for (const id of order.reverse()) rank.set(id, Math.max(0, ...(incoming.get(id) ?? []).map((f) => (rank.get(f) ?? 0) + 1)));
  // The blocks, the start dot, each unwired exit's end node and its arrow, and the layers every other arrow spans.
  let size = o.blocks.length + 1 + 2 * ends;
  for (const [from, to] of [...forward, ...back]) size += Math.max(1, Math.abs((rank.get(to) ?? 0) - (rank.get(from) ?? 0)));
  return size;
}

/** The pseudo node drawn before the start block. */
export const START_NODE = '__start';
/** Ids of the terminal nodes of unwired exits (`__end:0`, …) and of exits to blocks that do not exist. */
export const END_PREFIX = '__end:';
export const MISSING_PREFIX = '__missing:';

const GROUPS: Record<string, KindGroup> = {
  Start: 'control',
  Stop: 'control',
  Condition: 'control',
  Variable: 'data',
  Parser: 'data',
  InputParameter: 'data',
  ReturnValue: 'data',
  Bpium: 'effect',
  SendMail: 'effect',
  AsyncScenario: 'effect',
};

const TITLE_CHARS = 24;
const TITLE_LINES = 3;
const DETAIL_CHARS = 34;
const DETAIL_LINES = 3;
const CHAR_W = 7.3;
const SUB_CHAR_W = 6.1;
const DETAIL_CHAR_W = 6.6;
const LINE_H = 17;
const DETAIL_H = 14;
const END_H = 26;

/** Wraps text on spaces into lines of at most `width` characters, at most `max` lines (the last one ellipsised). */
export function wrapText(text: string, width = TITLE_CHARS, max = TITLE_LINES): string[] {
  const lines: string[] = [];
  let cur = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const piece = word.length > width ? `${clipText(word, width - 1)}…` : word;
    if (cur && cur.length + 1 + piece.length > width) {
      lines.push(cur);
      cur = piece;
    } else cur = cur ? `${cur} ${piece}` : piece;
  }
  if (cur) lines.push(cur);
  if (lines.length > max) {
    const kept = lines.slice(0, max);
    kept[max - 1] = `${clipText(kept[max - 1]!, width - 1)}…`;
    return kept;
  }
  return lines.length ? lines : [''];
}

function shapeOf(kind: string): NodeShape {
  if (kind === 'Start' || kind === 'Stop') return 'pill';
  if (kind === 'Condition') return 'hex';
  return 'box';
}

const round = (n: number) => Math.round(n * 10) / 10;

/** A smooth path through dagre's points: straight ends, quadratic bends at the inner points. */
function pathThrough(points: ReadonlyArray<{ x: number; y: number }>): string {
  if (points.length === 0) return '';
  const p = points.map((q) => ({ x: round(q.x), y: round(q.y) }));
  if (p.length < 3) return `M${p[0]!.x},${p[0]!.y}${p[1] ? ` L${p[1].x},${p[1].y}` : ''}`;
  let d = `M${p[0]!.x},${p[0]!.y}`;
  for (let i = 1; i < p.length - 1; i++) {
    const a = p[i]!;
    const b = p[i + 1]!;
    const mid = i === p.length - 2 ? b : { x: round((a.x + b.x) / 2), y: round((a.y + b.y) / 2) };
    d += ` Q${a.x},${a.y} ${mid.x},${mid.y}`;
  }
  return d;
}

/** Computes the flowchart of a scenario (no caching; see `diagramOf`). */
export function layoutScenario(s: Scenario, limit = Infinity): Diagram {
  return layoutOutline(outlineOfScenario(s), limit);
}

type NodeMeta = Omit<DiagramNode, 'x' | 'y' | 'cx' | 'cy' | 'titleY' | 'subY' | 'badgeX' | 'detailY'>;

/** The box of a block: title, kind line and detail decide its size. */
function blockMeta(b: ScenarioOutline['blocks'][number]): NodeMeta {
  const titleLines = wrapText(b.title ?? b.id);
  const sub = b.title ? `${b.kind} · ${b.id}` : b.kind;
  const detailLines = b.detail ? wrapText(b.detail, DETAIL_CHARS, DETAIL_LINES) : [];
  const shape = shapeOf(b.kind);
  const textW = Math.max(...titleLines.map((l) => l.length * CHAR_W), sub.length * SUB_CHAR_W, ...detailLines.map((l) => l.length * DETAIL_CHAR_W));
  const w = Math.ceil(Math.max(132, textW + (shape === 'hex' ? 52 : 30)));
  const h = titleLines.length * LINE_H + detailLines.length * DETAIL_H + (detailLines.length ? 4 : 0) + 32;
  return { id: b.id, kind: b.kind, titleLines, sub, detailLines, shape, group: GROUPS[b.kind] ?? (b.effect ? 'effect' : 'other'), w, h, line: b.line, ...(b.problem ? { problem: true } : {}) };
}

/** A small terminal box: where an exit ends the run, or the block it names that does not exist. */
function endMeta(id: string, label: string, end: ExitEnd | 'missing', line: number): NodeMeta {
  return { id, kind: 'end', titleLines: [label], sub: '', detailLines: [], shape: 'end', group: 'other', w: Math.ceil(label.length * SUB_CHAR_W + 24), h: END_H, line, end };
}

/** Computes the flowchart of a scenario outline: a valid scenario, or an invalid one as far as it could be read. */
export function layoutOutline(o: ScenarioOutline, limit = Infinity): Diagram {
  if (limit !== Infinity) {
    const size = layoutSize(o);
    if (size > limit) return { width: 0, height: 0, nodes: [], edges: [], tooLarge: { blocks: o.blocks.length, size } };
  }
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: 'TB', nodesep: 36, ranksep: 44, edgesep: 16, marginx: 16, marginy: 16 });
  g.setDefaultEdgeLabel(() => ({}));
  const meta = new Map<string, NodeMeta>();
  if (o.start !== undefined) {
    meta.set(START_NODE, { id: START_NODE, kind: 'start', titleLines: [], sub: '', detailLines: [], shape: 'dot', group: 'control', w: 16, h: 16, line: 1 });
  }
  for (const b of o.blocks) meta.set(b.id, blockMeta(b));
  const edges: Array<{ from: string; to: string; exit: string }> = [];
  /** `${block}\u0000${exit}` → the problem of an exit the block's kind does not have. */
  const unknownExits = new Map<string, string>();
  let ends = 0;
  for (const b of o.blocks) {
    for (const x of b.exits) {
      let to: string;
      if (x.end) {
        to = `${END_PREFIX}${ends++}`;
        meta.set(to, endMeta(to, EXIT_END_LABELS[x.end], x.end, b.line));
      } else if (x.missing) {
        to = `${MISSING_PREFIX}${x.target}`;
        if (!meta.has(to)) meta.set(to, endMeta(to, `no block "${x.target}"`, 'missing', b.line));
      } else to = x.target!;
      if (x.unknown) unknownExits.set(`${b.id}\u0000${x.exit}`, x.unknown.message);
      edges.push({ from: b.id, to, exit: x.exit });
    }
  }
  for (const m of meta.values()) g.setNode(m.id, { width: m.w, height: m.h });
  if (o.start !== undefined) g.setEdge(START_NODE, o.start, { minlen: 1 }, 'start');
  const labelOf = (from: string, exit: string) => (unknownExits.has(`${from}\u0000${exit}`) ? `✗ ${exit}` : exit === 'next' ? undefined : exit);
  for (const e of edges) {
    const label = labelOf(e.from, e.exit);
    g.setEdge(e.from, e.to, label ? { width: label.length * SUB_CHAR_W + 12, height: 18, labelpos: 'c' } : {}, e.exit);
  }
  dagre.layout(g);
  const nodes: DiagramNode[] = [];
  for (const id of g.nodes()) {
    const n = g.node(id);
    const m = meta.get(id);
    if (!m || n.x === undefined || n.y === undefined) continue;
    const x = round(n.x - m.w / 2);
    const y = round(n.y - m.h / 2);
    const titleBottom = y + 21 + (m.titleLines.length - 1) * LINE_H;
    const node: DiagramNode = {
      ...m,
      x,
      y,
      cx: round(n.x),
      cy: round(n.y),
      titleY: m.shape === 'end' ? [round(n.y + 4)] : m.titleLines.map((_, i) => round(y + 21 + i * LINE_H)),
      detailY: m.detailLines.map((_, i) => round(titleBottom + 4 + (i + 1) * DETAIL_H)),
      subY: round(y + m.h - 10),
      badgeX: round(x + m.w - 18),
    };
    if (m.shape === 'hex') {
      const k = 14;
      node.points = [
        [x + k, y],
        [x + m.w - k, y],
        [x + m.w, y + m.h / 2],
        [x + m.w - k, y + m.h],
        [x + k, y + m.h],
        [x, y + m.h / 2],
      ]
        .map(([px, py]) => `${round(px!)},${round(py!)}`)
        .join(' ');
    }
    nodes.push(node);
  }
  const drawn: DiagramEdge[] = [];
  for (const e of g.edges()) {
    const label = g.edge(e);
    const exit = e.name ?? 'next';
    const edge: DiagramEdge = { from: e.v, to: e.w, exit, path: pathThrough(label.points ?? []) };
    const problem = unknownExits.get(`${e.v}\u0000${exit}`);
    if (problem) edge.problem = problem;
    const text = e.v === START_NODE ? undefined : labelOf(e.v, exit);
    if (text !== undefined) {
      edge.label = text;
      if (label.x !== undefined && label.y !== undefined && label.width && label.height) {
        edge.labelBox = { x: round(label.x - label.width / 2), y: round(label.y - label.height / 2), w: round(label.width), h: round(label.height), cx: round(label.x), ty: round(label.y + 4) };
      }
    }
    drawn.push(edge);
  }
  const graph = g.graph();
  return { width: Math.ceil(graph.width ?? 0), height: Math.ceil(graph.height ?? 0), nodes, edges: drawn };
}

const cache = new Map<string, Diagram>();
const CACHE_LIMIT = 256;

/**
 * The flowchart of a scenario version, laid out once and then served from a cache keyed by name and version; one
 * larger than `DRAW_LIMIT` is not laid out (`tooLarge`).
 */
export function diagramOf(s: Scenario): Diagram {
  const key = `${s.name}@${s.version}`;
  let d = cache.get(key);
  if (!d) {
    d = layoutScenario(s, DRAW_LIMIT);
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
    cache.set(key, d);
  }
  return d;
}

/** Which blocks and exits of the diagram a run went through (steps of the diagram's own scenario only). */
export interface PathMarks {
  /** Block id → step numbers at which it ran. */
  visits: Record<string, number[]>;
  /** `${block}\u0000${exit}` for every exit taken. */
  taken: string[];
  /** The block where the run failed, if it did. */
  failedBlock?: string;
}

export function pathMarks(scenario: string, trace: ReadonlyArray<{ step: number; scenario: string; block: string; exit: string }>, failedBlock?: string): PathMarks {
  const visits: Record<string, number[]> = {};
  const taken = new Set<string>();
  let first = true;
  for (const s of trace) {
    if (s.scenario !== scenario) continue;
    if (first) taken.add(`${START_NODE}\u0000start`);
    first = false;
    (visits[s.block] ??= []).push(s.step);
    taken.add(`${s.block}\u0000${s.exit}`);
  }
  return { visits, taken: [...taken], ...(failedBlock ? { failedBlock } : {}) };
}

/** A diagram ready for the template: each node and edge says whether the run went there. */
export interface MarkedDiagram extends Diagram {
  /** true when a run's path is shown (unvisited parts are dimmed). */
  marked: boolean;
  nodes: Array<DiagramNode & { state: 'plain' | 'visited' | 'failed' | 'idle'; steps?: string; firstStep?: number }>;
  edges: Array<DiagramEdge & { taken: boolean }>;
}

export function markDiagram(d: Diagram, marks?: PathMarks): MarkedDiagram {
  if (!marks) return { ...d, marked: false, nodes: d.nodes.map((n) => ({ ...n, state: 'plain' })), edges: d.edges.map((e) => ({ ...e, taken: false })) };
  const taken = new Set(marks.taken);
  // A terminal node is reached when the exit leading to it was taken.
  const reached = new Set(d.edges.filter((e) => taken.has(`${e.from}\u0000${e.exit}`)).map((e) => e.to));
  return {
    ...d,
    marked: true,
    nodes: d.nodes.map((n) => {
      const steps = marks.visits[n.id];
      if (n.id === START_NODE) return { ...n, state: taken.has(`${START_NODE}\u0000start`) ? 'visited' : 'idle' };
      if (n.shape === 'end') return { ...n, state: reached.has(n.id) ? 'visited' : 'idle' };
      if (!steps?.length) return { ...n, state: 'idle' };
      const shown = steps.length > 3 ? `${steps.slice(0, 2).join(', ')} … ×${steps.length}` : steps.join(', ');
      return { ...n, state: marks.failedBlock === n.id ? 'failed' : 'visited', steps: shown, firstStep: steps[0]! };
    }),
    edges: d.edges.map((e) => ({ ...e, taken: taken.has(`${e.from}\u0000${e.exit}`) })),
  };
}
