// What loading each scenario file gave, kept between loads of a folder, so that a reload after one save parses and
// checks only the files that changed. Parsing YAML is most of a load's work: in a folder of hundreds of scenarios a
// full reload held the server's event loop for seconds at every save.
//
// A file's result depends on more than its text, and each of those is part of what makes a kept result reusable:
// - its text, and the name it is shown by in problems (relative to the working directory);
// - the block registry, the time zone (initial datetime values) and the configured database connections (DbQuery
//   and DbProcedure check `connection:` against them): when any of these differs, every kept result is dropped;
// - the values its variables read through `env:` and `file:`: each is read again at every load (an environment
//   variable or a small file), and a file whose values differ is loaded afresh.
// What spans files is not kept here: the library checks it again over all files at every load (the scenarios a file
// starts, the mail templates it uses and the variables those read, two files giving one scenario name).
import { loadScenarioText, type LoadOptions, type LoadResult, type ValueSourceRef } from './loader.js';
import type { ScenarioIssue } from './errors.js';
import type { BlockRegistry } from './model.js';
import { notAScenario } from './other-files.js';
import { readVariableSource } from './variables.js';

/** A file's load, and what it read from outside its text. */
interface KeptLoad {
  shown: string;
  text: string;
  result: LoadResult;
  reads: ReadonlyArray<{ from: ValueSourceRef; value: string | undefined }>;
  /** `notAScenario` of the text, once asked (it parses the text again). */
  other?: { issue: ScenarioIssue | undefined };
}

/** One file's load as the library uses it; `notAScenario` is worked out once per text. */
export interface FileLoad {
  result: LoadResult;
  notAScenario(): ScenarioIssue | undefined;
}

export interface ScenarioLoadCache {
  /** The load of the file at `path` (absolute or as listed), shown as `shown`: the kept one when nothing it depends on changed. */
  load(path: string, shown: string, text: string, opts: LoadOptions): FileLoad;
  /** Forgets the files not among `paths` (deleted or renamed ones). */
  keepOnly(paths: Iterable<string>): void;
  /** Forgets everything: the next load is a full one. */
  clear(): void;
}

/** The options every kept result was loaded with; a change in any of them makes them all stale. */
interface Context {
  registry: BlockRegistry;
  settings: string;
}

function contextOf(opts: LoadOptions): Context {
  return { registry: opts.registry, settings: JSON.stringify({ timeZone: opts.timeZone ?? null, databases: opts.databases ?? null }) };
}

/** Whether every value `kept` read from the environment or a file reads the same now. */
function sameValues(kept: KeptLoad, opts: LoadOptions): boolean {
  return kept.reads.every((r) => readVariableSource(r.from, opts.env ?? process.env) === r.value);
}

export function createScenarioLoadCache(): ScenarioLoadCache {
  const kept = new Map<string, KeptLoad>();
  let context: Context | undefined;

  const fileLoad = (k: KeptLoad): FileLoad => ({
    result: k.result,
    notAScenario: () => (k.other ??= { issue: notAScenario(k.shown, k.text) }).issue,
  });

  return {
    load(path, shown, text, opts) {
      const now = contextOf(opts);
      if (!context || context.registry !== now.registry || context.settings !== now.settings) kept.clear();
      context = now;
      const before = kept.get(path);
      if (before && before.shown === shown && before.text === text && sameValues(before, opts)) return fileLoad(before);
      const reads: Array<{ from: ValueSourceRef; value: string | undefined }> = [];
      const result = loadScenarioText(shown, text, {
        ...opts,
        onValueRead(from, value) {
          reads.push({ from: { ...from }, value });
          opts.onValueRead?.(from, value);
        },
      });
      const k: KeptLoad = { shown, text, result, reads };
      kept.set(path, k);
      return fileLoad(k);
    },
    keepOnly(paths) {
      const wanted = new Set(paths);
      for (const path of [...kept.keys()]) if (!wanted.has(path)) kept.delete(path);
    },
    clear() {
      kept.clear();
      context = undefined;
    },
  };
}
