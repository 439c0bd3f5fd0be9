// What a diagram of a scenario shows: its blocks, where each exit leads (or how the run ends when it leads nowhere),
// a Condition's expression and an AsyncScenario's target. Built from a loaded scenario, or — when the file does not
// load — from its YAML as far as it can be read, so an invalid scenario can still be drawn.
import { isMap, type YAMLMap } from 'yaml';
import { scenarioNameOf } from './loader.js';
import type { BlockDefinition, BlockRegistry, Scenario } from './model.js';
import { closest } from './suggest.js';
import { YamlSource, keyOf } from './yaml-source.js';

/** How a run ends when it takes an exit that is not wired. */
export type ExitEnd = 'ends' | 'retry' | 'fails';

/** Words shown for an unwired exit; they follow the failure rule of blocks with side effects (scenario-format.md). */
export const EXIT_END_LABELS: Readonly<Record<ExitEnd, string>> = {
  ends: 'ends the scenario',
  retry: 'retry, then dead letter',
  fails: 'the run fails',
};

export interface OutlineExit {
  exit: string;
  /** The block it leads to; absent when the exit is not wired. */
  target?: string;
  /** Set for a target that is not a block of the scenario (an invalid file). */
  missing?: boolean;
  /** Set when the exit is not wired: what then happens to the run. */
  end?: ExitEnd;
  /**
   * Set for an exit the block's kind does not have (an invalid file, `E_UNKNOWN_EXIT`): what `validate` says of it.
   * The kind's exit it likely means (`meant`) is then not drawn again as unwired, as the loader's graph checks count
   * the misspelt exit as that one.
   */
  unknown?: { message: string; meant?: string };
}

export interface OutlineBlock {
  id: string;
  /** The block's kind as written; `?` when it has none. */
  kind: string;
  title?: string;
  /** Line of the block's key in the file. */
  line: number;
  /** A Condition's expression, an AsyncScenario's target and mode, a WebRequest's method and URL. */
  detail?: string;
  exits: OutlineExit[];
  /** The block's kind has side effects (letters, Bpium, web requests, databases, async starts). */
  effect?: boolean;
  /** The file's problems name this block. */
  problem?: boolean;
}

export interface ScenarioOutline {
  name: string;
  /** The start block; absent when the file names none that exists and has no blocks. */
  start?: string;
  blocks: OutlineBlock[];
}

/**
 * What an unwired exit means. A block with side effects reaches `timeout` on an outage (retried by the server, then
 * dead-lettered) and `error` on a refusal (the run fails at once); any other unwired exit ends the scenario, as in
 * Oktell.
 */
export function unwiredEnd(def: Pick<BlockDefinition, 'effect'>, exit: string): ExitEnd {
  if (def.effect && exit === 'timeout') return 'retry';
  if (def.effect && exit === 'error') return 'fails';
  return 'ends';
}

/** The detail line of a block from its properties as written (only the kinds whose logic is worth a glance). */
export function blockDetail(kind: string, props: Record<string, unknown>): string | undefined {
  const text = (v: unknown) => (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined);
  if (kind === 'Condition') {
    const expression = text(props.expression);
    if (expression !== undefined) return expression.trim();
    const [left, operator, right] = [text(props.left), text(props.operator), text(props.right)];
    return left !== undefined && operator !== undefined && right !== undefined ? `${left} ${operator} ${right}` : undefined;
  }
  if (kind === 'AsyncScenario') {
    const scenario = text(props.scenario);
    return scenario === undefined ? undefined : `→ ${scenario} (${text(props.mode) ?? 'async'})`;
  }
  if (kind === 'WebRequest') {
    const url = text(props.url);
    return url === undefined ? undefined : `${text(props.method) ?? 'GET'} ${url.trim()}`;
  }
  return undefined;
}

/**
 * An exit written on a block whose kind has no such exit, in the loader's words (`E_UNKNOWN_EXIT`); `meant` is the
 * kind's exit it resembles when that one is not written too (the loader's graph checks count it as that one).
 */
function unknownExit(def: BlockDefinition, kind: string, exit: string, written: readonly string[]): OutlineExit['unknown'] {
  const guess = closest(exit, def.exits);
  const meant = guess !== undefined && !written.includes(guess) ? guess : undefined;
  const hint = def.exits.length ? `${guess ? `did you mean "${guess}"? ` : ''}exits of ${kind}: ${def.exits.join(', ')}` : `${kind} has no exits: remove "exits"`;
  return { message: `${kind} has no exit "${exit}": ${hint}`, ...(meant ? { meant } : {}) };
}

/**
 * Exits of a block: the wired ones in the kind's order, then any others as written (an exit the kind does not have is
 * marked `unknown`), then the unwired ones — but for one a misspelt exit stands for, which is drawn once, as written.
 */
function outlineExits(
  def: BlockDefinition | undefined,
  kind: string,
  wired: ReadonlyArray<[string, string]>,
  isBlock: (id: string) => boolean,
  jump: boolean,
  /** Every exit name written, wired or not (`false: null`). */
  written: readonly string[] = wired.map(([e]) => e),
): OutlineExit[] {
  const exits: OutlineExit[] = wired.map(([exit, target]) => {
    const unknown = def && !def.exits.includes(exit) ? unknownExit(def, kind, exit, written) : undefined;
    return { exit, target, ...(isBlock(target) ? {} : { missing: true }), ...(unknown ? { unknown } : {}) };
  });
  if (!def || jump) return exits; // a jump hands the run over: its exit is never taken
  const meant = new Set(exits.map((x) => x.unknown?.meant).filter((m) => m !== undefined));
  for (const exit of def.exits) {
    if (!wired.some(([e]) => e === exit) && !meant.has(exit)) exits.push({ exit, end: unwiredEnd(def, exit) });
  }
  return exits;
}

/** The outline of a loaded (valid) scenario. */
export function outlineOfScenario(s: Scenario): ScenarioOutline {
  const blocks = [...s.blocks.values()].map((b): OutlineBlock => {
    const config = b.config as { text?: string; condition?: { source: string }; scenario?: string; mode?: string };
    const props = b.kind === 'Condition' ? { expression: config.text ?? config.condition?.source } : b.kind === 'AsyncScenario' ? { scenario: config.scenario, mode: config.mode } : {};
    const detail = blockDetail(b.kind, props);
    const order = (exit: string) => b.def.exits.indexOf(exit);
    const wired = Object.entries(b.exits).sort(([a], [c]) => order(a) - order(c));
    return {
      id: b.id,
      kind: b.kind,
      ...(b.title ? { title: b.title } : {}),
      line: b.loc.line,
      ...(detail ? { detail } : {}),
      ...(b.def.effect ? { effect: true } : {}),
      exits: outlineExits(b.def, b.kind, wired, (id) => s.blocks.has(id), config.mode === 'jump' && b.kind === 'AsyncScenario'),
    };
  });
  return { name: s.name, start: s.start, blocks };
}

/**
 * The outline of a scenario file read leniently: every block that is a mapping is drawn, whatever else is wrong with
 * it; exits to blocks that do not exist are kept (marked `missing`). A file that is not YAML at all gives no blocks.
 */
export function outlineOfText(file: string, text: string, registry: BlockRegistry): ScenarioOutline {
  const name = scenarioNameOf(file);
  const src = new YamlSource(file, text);
  let js: Record<string, unknown>;
  try {
    const value = src.doc.toJS({ maxAliasCount: 100 }) as unknown;
    js = value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return { name, blocks: [] };
  }
  const blocksNode = src.find(['blocks']).node;
  const rawBlocks = js.blocks && typeof js.blocks === 'object' && !Array.isArray(js.blocks) ? (js.blocks as Record<string, unknown>) : {};
  const ids = isMap(blocksNode) ? (blocksNode as YAMLMap).items.map(keyOf).filter((id) => Object.hasOwn(rawBlocks, id)) : [];
  const blocks: OutlineBlock[] = [];
  for (const id of ids) {
    const raw = rawBlocks[id];
    const props = raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
    const kind = typeof props.kind === 'string' ? props.kind : '?';
    const def = registry.get(kind);
    const rawExits = props.exits && typeof props.exits === 'object' && !Array.isArray(props.exits) ? (props.exits as Record<string, unknown>) : {};
    const wired = Object.entries(rawExits).flatMap(([exit, target]): Array<[string, string]> => (typeof target === 'string' ? [[exit, target]] : []));
    const detail = blockDetail(kind, props);
    blocks.push({
      id,
      kind,
      ...(typeof props.title === 'string' && props.title !== '' ? { title: props.title } : {}),
      line: src.locate(['blocks', id], { key: true }).line,
      ...(detail ? { detail } : {}),
      ...(def?.effect ? { effect: true } : {}),
      exits: outlineExits(def, kind, wired, (target) => ids.includes(target), kind === 'AsyncScenario' && props.mode === 'jump', Object.keys(rawExits)),
    });
  }
  const start = typeof js.start === 'string' && ids.includes(js.start) ? js.start : ids[0];
  return { name, ...(start !== undefined ? { start } : {}), blocks };
}
