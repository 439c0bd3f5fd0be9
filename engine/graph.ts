// Graph checks on a scenario's blocks: unreachable blocks and loops that have no way out.
import { SCENARIO_ERROR_CODES as C, type ScenarioErrorCode } from './errors.js';

/**
 * What the graph checks need of a block: where its exits lead, and what can end a run in it. Built from the file's
 * text, so a block whose properties have mistakes (and so did not compile) still takes part in the checks.
 */
export interface GraphNode {
  kind: string;
  /** Where each exit leads (only targets that are blocks of the scenario). */
  exits: Readonly<Record<string, string>>;
  /** Blocks that exits to unknown targets likely mean (by spelling): they count as reached, but make no loop. */
  guessed: readonly string[];
  /** The kind's exits; undefined for an unknown kind, whose way out cannot be told (so it is assumed to have one). */
  exitNames?: readonly string[];
  /** An AsyncScenario in jump mode: the run goes on in another scenario, so it leaves any loop. */
  jump: boolean;
  /** An exit leads to a block that does not exist and resembles none: the block it was meant to reach is unknown. */
  lostExit: boolean;
}

export interface GraphIssue {
  block: string;
  code: ScenarioErrorCode;
  message: string;
  hint: string;
}

/** Kinds whose run can end the scenario by themselves (besides an unwired exit). */
const ENDING_KINDS = new Set(['Stop']);

export function checkGraph(start: string, blocks: ReadonlyMap<string, GraphNode>): GraphIssue[] {
  const issues: GraphIssue[] = [];
  const reachable = new Set<string>();
  const stack = [start];
  while (stack.length) {
    const id = stack.pop()!;
    if (reachable.has(id)) continue;
    reachable.add(id);
    const b = blocks.get(id);
    if (b) stack.push(...Object.values(b.exits), ...b.guessed);
  }
  // Any block not reached may be the one a reachable block's lost exit was meant for: reporting them would report
  // that exit's mistake again (it is reported as an unknown target, with the known blocks).
  const unknownReach = [...reachable].some((id) => blocks.get(id)?.lostExit);
  for (const id of blocks.keys()) {
    if (!reachable.has(id) && !unknownReach) {
      issues.push({
        block: id,
        code: C.UNREACHABLE_BLOCK,
        message: `block "${id}" can never run: no exit leads to it from the start block "${start}"`,
        hint: 'wire an exit to it, or delete it',
      });
    }
  }
  for (const scc of stronglyConnected(blocks.keys(), (id) => Object.values(blocks.get(id)?.exits ?? {}).filter((t) => blocks.has(t)))) {
    if (!isCycle(scc, blocks)) continue;
    if (!reachable.has(scc[0]!)) continue;
    const inside = new Set(scc);
    const wayOut = scc.some((id) => {
      const b = blocks.get(id)!;
      if (ENDING_KINDS.has(b.kind) || b.jump || !b.exitNames) return true;
      return b.exitNames.some((exit) => {
        const target = b.exits[exit];
        return target === undefined || !inside.has(target);
      });
    });
    if (!wayOut) {
      const first = scc.slice().sort()[0]!;
      issues.push({
        block: first,
        code: C.ENDLESS_LOOP,
        message: `the loop ${scc.join(' → ')} has no way out: every exit of its blocks leads back into it`,
        hint: 'give one block of the loop an exit that leaves it (e.g. a Condition whose "false" exit goes on), or leave an exit unwired to end the scenario',
      });
    }
  }
  return issues;
}

function isCycle(scc: string[], blocks: ReadonlyMap<string, GraphNode>): boolean {
  if (scc.length > 1) return true;
  return Object.values(blocks.get(scc[0]!)!.exits).includes(scc[0]!);
}

/**
 * Tarjan's algorithm over the nodes `ids` and the arrows `next` gives of each (only to nodes among `ids`), iterative so
 * that long chains (of blocks, of scenarios starting each other) cannot overflow the stack. Each component's nodes in
 * the order they were met.
 */
export function stronglyConnected(ids: Iterable<string>, next: (id: string) => readonly string[]): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const result: string[][] = [];
  for (const root of ids) {
    if (idx.has(root)) continue;
    const work: Array<{ id: string; targets: string[]; i: number }> = [];
    const enter = (id: string) => {
      idx.set(id, index);
      low.set(id, index);
      index++;
      stack.push(id);
      onStack.add(id);
      work.push({ id, targets: [...next(id)], i: 0 });
    };
    enter(root);
    while (work.length) {
      const frame = work[work.length - 1]!;
      if (frame.i < frame.targets.length) {
        const t = frame.targets[frame.i++]!;
        if (!idx.has(t)) enter(t);
        else if (onStack.has(t)) low.set(frame.id, Math.min(low.get(frame.id)!, idx.get(t)!));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.id, Math.min(low.get(parent.id)!, low.get(frame.id)!));
      if (low.get(frame.id) === idx.get(frame.id)) {
        const scc: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          scc.push(w);
        } while (w !== frame.id);
        result.push(scc.reverse());
      }
    }
  }
  return result;
}
