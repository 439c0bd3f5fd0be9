// What the start-up output warns about: settings that let the server start but make part of it fail on every request.
import { closest, scenarioNameOf, type ScenarioLibrary } from '../engine/index.js';
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
