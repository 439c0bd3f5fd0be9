// One scenario given as YAML text, loaded as a library of its own (asserting it loads), and a run printed as
// `oktell-emu run` prints it, without colours: what the tests of one block's behaviour need around the engine.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { printRun } from '../cli/format.js';
import { defaultRegistry } from '../components/registry.js';
import { loadScenarioText, type RunResult, type Scenario, type ScenarioLibrary } from '../engine/index.js';

/** The scenario of `yaml` (as if read from `file`) alone in a library, and its name; fails the test if it does not load. */
export function libraryOfText(file: string, yaml: string): { library: ScenarioLibrary; name: string } {
  const loaded = loadScenarioText(file, yaml, { registry: defaultRegistry });
  assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.issues));
  const scenario = (loaded as { scenario: Scenario }).scenario;
  return { library: { dir: '.', scenarios: new Map([[scenario.name, scenario]]), issues: [] }, name: scenario.name };
}

/** What `printRun` writes for `run`, its colour codes taken out. */
export function printedRun(run: RunResult): string {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  printRun(run, out);
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, '');
}
