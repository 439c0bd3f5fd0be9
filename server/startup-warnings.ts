// What the start-up output warns about: settings that let the server start but make part of it fail on every request.
import { closest, scenarioNameOf, type CompiledExpression, type ScenarioLibrary } from '../engine/index.js';
import { fileInFolder } from './scenario-host.js';

/**
 * Why the hook scenario cannot run, when it cannot: its file is invalid, or no loaded scenario has its name (with the
 * closest loaded name, when one is close enough to be a typo). Undefined when it is loaded. The server still starts
 * (see docs/server.md, "A missing hook scenario"): the folder is watched, so the file may be added or fixed while it
 * runs, and the other routes and the queue do not need it.
 */
export function hookScenarioWarning(scenario: string, library: ScenarioLibrary): string | undefined {
  if (library.scenarios.has(scenario)) return undefined;
  const consequence = 'every webhook is answered 500 and /-/health fails until it is there (the folder is watched: fixing or adding the file is enough)';
  const invalid = library.issues.find((i) => scenarioNameOf(i.file) === scenario);
  if (invalid) {
    // The file as the log names scenario problems: relative to the scenarios folder, not to the server's working directory.
    return `the hook scenario ${scenario} is invalid (${fileInFolder(invalid.file, library.dir)}:${invalid.line}:${invalid.col} ${invalid.message}; npx oktell-emu validate shows every problem): ${consequence}`;
  }
  const guess = closest(scenario, library.scenarios.keys());
  const loaded = [...library.scenarios.keys()].sort();
  return (
    `the hook scenario ${scenario} (OKTELL_HOOK_SCENARIO or hook.scenario) is not among the scenarios loaded from ${library.dir}` +
    `${guess ? ` — did you mean ${guess}?` : loaded.length ? ` (loaded: ${loaded.join(', ')})` : ' (none loaded)'}: ${consequence}`
  );
}

/**
 * Literal statuses the hook scenario's ReturnValue blocks (or Variable blocks, by the return value's Oktell name) give the status return value (2 by default) that no answer
 * may have: outside 200–599 (1xx are interim answers: 101 would tell a proxy the connection was upgraded). Each
 * such answer is replaced by a 500 at run time; this says so at load, with the place in the file.
 */
export function hookStatusWarnings(scenario: string, library: ScenarioLibrary, statusSlot: number): string[] {
  const s = library.scenarios.get(scenario);
  if (!s) return [];
  const out: string[] = [];
  for (const block of s.blocks.values()) {
    // A ReturnValue block's slots, or a Variable block's assignments to a return value by its Oktell name.
    let slots: ReadonlyArray<number | undefined> | undefined;
    let exprs: readonly CompiledExpression[] | undefined;
    if (block.kind === 'ReturnValue') {
      ({ slots, exprs } = block.config as { slots?: readonly number[]; exprs?: readonly CompiledExpression[] });
    } else if (block.kind === 'Variable') {
      const config = block.config as { targets?: ReadonlyArray<{ returnValue?: number }>; exprs?: readonly CompiledExpression[] };
      slots = config.targets?.map((t) => t.returnValue);
      exprs = config.exprs;
    } else continue;
    slots?.forEach((slot, i) => {
      const e = exprs?.[i];
      const literal = e && /^\s*(?:"\s*(-?\d+)\s*"|(-?\d+))\s*$/.exec(e.source);
      if (slot !== statusSlot || !literal) return;
      const n = Number(literal[1] ?? literal[2]);
      if (n >= 200 && n <= 599) return;
      const at = e.at ? `${e.at.file}:${e.at.line}:${e.at.col}` : `${s.file}:${block.loc.line}:${block.loc.col}`;
      out.push(`${at}: block ${block.id} of the hook scenario ${scenario} sets return value ${statusSlot} (the answer's status) to ${n}; an answer's status must be 200–599, so every such answer is replaced by 500`);
    });
  }
  return out;
}
