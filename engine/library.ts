// Loads every scenario of a folder and checks what spans files: async-start targets and mail templates.
import { existsSync, readdirSync, type Dirent } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { SCENARIO_ERROR_CODES as C, type ScenarioIssue } from './errors.js';
import { scenarioNameOf, type CompiledBlock, type DeferredCheck, type LoadOptions, type ScenarioReferences } from './loader.js';
import type { Block, Scenario } from './model.js';
import { closest, bareScenarioName, closestScenario, someOf } from './suggest.js';
import { createScenarioLoadCache, type ScenarioLoadCache } from './load-cache.js';
import { decodeTextFile } from './text-file.js';

/** A block, with the name of the scenario it is written in. */
export interface ScenarioBlock {
  scenario: string;
  block: Pick<Block, 'kind' | 'config'>;
}

/** The blocks of `scenarios`, each with its scenario's name. */
export function blocksOfScenarios(scenarios: Iterable<Scenario>): ScenarioBlock[] {
  return [...scenarios].flatMap((s) => [...s.blocks.values()].map((block) => ({ scenario: s.name, block })));
}

/**
 * Each database connection the DbQuery and DbProcedure blocks among `blocks` name (`connection:`), with the scenarios
 * those blocks are in, once each: connections and scenarios in the order first met. A block whose file has problems
 * may have no config: it names none.
 */
export function connectionsOfBlocks(blocks: Iterable<ScenarioBlock>): Map<string, string[]> {
  const used = new Map<string, Set<string>>();
  for (const { scenario, block } of blocks) {
    if (block.kind !== 'DbQuery' && block.kind !== 'DbProcedure') continue;
    const connection = (block.config as { connection?: unknown } | undefined)?.connection;
    if (typeof connection !== 'string') continue;
    if (!used.has(connection)) used.set(connection, new Set());
    used.get(connection)!.add(scenario);
  }
  return new Map([...used].map(([c, names]) => [c, [...names]]));
}

/** What the library needs to know about mail templates to check them at load time. */
export interface TemplateChecker {
  /** The folder the templates are looked up in, named by the hint for a missing one. */
  readonly dir?: string;
  has(name: string): boolean;
  /** The templates that exist, to suggest one for a misspelt name. */
  names?(): string[];
  variablesOf(name: string): Array<{ file: string; name: string; line: number; col: number }>;
  /** A problem without `file` concerns the template as a whole and is reported where the scenario names it. */
  check(name: string): Array<{ file?: string; line: number; col: number; message: string; hint?: string }>;
}

export interface ScenarioLibrary {
  readonly dir: string;
  readonly scenarios: ReadonlyMap<string, Scenario>;
  /** Problems found; scenarios with problems are absent from `scenarios`. */
  readonly issues: readonly ScenarioIssue[];
  /**
   * The scenarios each loaded file starts (call, jump or async), by name, kept for files with problems too, so that a
   * run can tell which problems stand in its way. A file whose YAML cannot be read has no entry.
   */
  readonly calls?: ReadonlyMap<string, readonly string[]>;
  /**
   * The blocks of the files with problems that could still be compiled, so that checks made beside the loader (a
   * DbQuery statement prepared on its database) cover them in the same pass; `faulty` says which have problems.
   */
  readonly compiled?: readonly CompiledBlock[];
  /** Checks that wait for problems reported with their block to be fixed. */
  readonly deferred?: readonly DeferredCheck[];
}

export interface LibraryOptions extends LoadOptions {
  templates?: TemplateChecker;
  /** Shown instead of absolute paths in error locations (default: relative to the working directory). */
  displayBase?: string;
  /**
   * The loads of files kept from earlier loads of the folder: a file whose text (and whatever else it read) did not
   * change is not parsed again. Without it, every file is loaded afresh.
   */
  cache?: ScenarioLoadCache;
}

/** How long a load works on files before it lets the event loop serve what waits (requests, timers). */
const WORK_SLICE_MS = 20;

/** Lets the event loop run when the work since `since` took more than a slice; returns when the next slice began. */
async function yieldAfterSlice(since: number): Promise<number> {
  if (performance.now() - since < WORK_SLICE_MS) return since;
  await new Promise((resolve) => setImmediate(resolve));
  return performance.now();
}

export const SCENARIO_EXTENSIONS = ['.yaml', '.yml'];

/**
 * Whether a file name ends in a scenario extension, in any letter case: Windows keeps `HTTP404.YAML` as an editor or
 * an export wrote it, and it is the scenario `HTTP404` there; left out here, it would be missing without a word.
 */
export function isScenarioFileName(name: string): boolean {
  return SCENARIO_EXTENSIONS.includes(extname(name).toLowerCase());
}

/** Lists scenario files of a folder (not its subfolders: templates and fixtures live there). */
export async function listScenarioFiles(dir: string): Promise<string[]> {
  return scenarioFilesOf(dir, await readdir(dir, { withFileTypes: true }));
}

/** `listScenarioFiles` for a caller that cannot wait (the server's configuration is read synchronously). */
export function listScenarioFilesSync(dir: string): string[] {
  return scenarioFilesOf(dir, readdirSync(dir, { withFileTypes: true }));
}

/**
 * The file of the scenario `name` in `dir`, its extension in any letter case (`HTTP404.YAML` too; `.yaml` sorts before
 * `.yml`), or undefined, also when `dir` does not exist.
 */
export function scenarioFileNamed(dir: string, name: string): string | undefined {
  return existsSync(dir) ? listScenarioFilesSync(dir).find((f) => scenarioNameOf(f) === name) : undefined;
}

function scenarioFilesOf(dir: string, entries: Dirent[]): string[] {
  return entries
    .filter((e) => e.isFile() && isScenarioFileName(e.name))
    .map((e) => join(dir, e.name))
    .sort();
}

/** Loads the given files (or every scenario file of `dir`) and checks the references between them. */
export async function loadScenarioLibrary(dir: string, opts: LibraryOptions, files?: string[]): Promise<ScenarioLibrary> {
  const paths = files ?? (await listScenarioFiles(dir));
  const base = opts.displayBase ?? process.cwd();
  const texts = await Promise.all(
    paths.map(async (p) => {
      try {
        const read = decodeTextFile(await readFile(p));
        return read.ok ? { p, text: read.text } : { p, notText: read };
      } catch (e) {
        return { p, error: e as Error };
      }
    }),
  );
  const issues: ScenarioIssue[] = [];
  const scenarios = new Map<string, Scenario>();
  // References of files with problems of their own are checked too: every problem is reported in one pass.
  const invalidRefs: ScenarioReferences[] = [];
  const calls = new Map<string, string[]>();
  const compiled: CompiledBlock[] = [];
  const deferred: DeferredCheck[] = [];
  // Fixture, test and configuration files among the scenarios: reported as such, and not offered as scenario names.
  const notScenarios = new Set<string>();
  // Two files that give one scenario name (X.yaml and X.yml): which one would run depends on the order they are read,
  // so neither is loaded, and each is reported with the other (a server that ran X keeps its last good version).
  // A file given from outside the folder (`validate -s DIR /tmp/X.yaml`) is checked as if saved there in place of
  // the folder's own file of its name: that one is no namesake of it.
  // The folder's own files, when only some files are loaded: read once, for the namesakes here and the names known below.
  const inFolder = files ? await listScenarioFiles(dir).catch(() => [] as string[]) : paths;
  const sameName = namesakes(files ? [...standIns(inFolder, paths, dir), ...paths] : paths);
  const loads = opts.cache ?? createScenarioLoadCache();
  loads.keepOnly(paths);
  // Parsing files one after another can take seconds in a large folder (a first load, a `git checkout`): the server
  // answers requests between slices of that work rather than after it.
  let slice = performance.now();
  for (const t of texts) {
    slice = await yieldAfterSlice(slice);
    const shown = relative(base, t.p) || t.p;
    if ('error' in t) {
      issues.push({ file: shown, line: 1, col: 1, code: C.READ_FAILED, message: `cannot read the file: ${t.error!.message}` });
      continue;
    }
    if ('notText' in t) {
      // Saved as UTF-16 or in a Cyrillic code page: read as UTF-8, its Cyrillic texts would be U+FFFD, and its letters
      // and answers would say "�����" with nothing refused.
      const { line, col, message, hint } = t.notText!;
      issues.push({ file: shown, line, col, code: C.YAML_SYNTAX, message, hint });
      continue;
    }
    const load = loads.load(t.p, shown, t.text!, opts);
    const r = load.result;
    const others = sameName.get(resolve(t.p));
    if (others && !load.notAScenario()) {
      const name = scenarioNameOf(t.p);
      issues.push({
        file: shown,
        line: 1,
        col: 1,
        code: C.DUPLICATE_SCENARIO,
        message: `scenario "${name}" is also defined by ${others.map((o) => basename(o)).join(' and ')}: neither is loaded, since only one file may give a scenario its name`,
        hint: `keep one of them: remove or rename the other (a scenario is named by its file name without .yaml or .yml)`,
      });
    }
    if (r.ok && others) {
      calls.set(r.scenario.name, r.scenario.calls.map((c) => c.scenario));
    } else if (r.ok) {
      scenarios.set(r.scenario.name, r.scenario);
      calls.set(r.scenario.name, r.scenario.calls.map((c) => c.scenario));
    } else {
      const other = load.notAScenario();
      if (other) {
        issues.push(other);
        notScenarios.add(scenarioNameOf(t.p));
        continue;
      }
      issues.push(...r.issues);
      compiled.push(...(r.compiled ?? []));
      deferred.push(...(r.deferred ?? []));
      if (r.references) {
        invalidRefs.push(r.references);
        calls.set(r.references.name, r.references.calls.map((c) => c.scenario));
      }
    }
  }
  // Names that exist on disk count as known even when their file has errors (their own errors are reported).
  const known = new Set([...inFolder, ...paths].map(scenarioNameOf).filter((n) => !notScenarios.has(n)));
  const shownPath = (file: string) => (isAbsolute(file) ? relative(base, file) || file : file);
  const check = (refs: ScenarioReferences) => crossCheck(refs, known, opts.templates, shownPath).map((i) => ({ ...i, file: shownPath(i.file) }));
  // The checks across files run over the whole folder at every load (a template or a scenario started may have
  // changed): sliced like the parsing, since the first check of each template compiles it.
  for (const s of [...scenarios.values()]) {
    slice = await yieldAfterSlice(slice);
    const own = check({ name: s.name, declared: new Set(s.variables.keys()), calls: s.calls, templates: s.templates });
    if (own.length) {
      issues.push(...own);
      scenarios.delete(s.name);
      for (const block of s.blocks.values()) compiled.push({ block, faulty: new Set() });
    }
  }
  for (const refs of invalidRefs) {
    slice = await yieldAfterSlice(slice);
    issues.push(...check(refs));
  }
  issues.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col);
  return { dir, scenarios, issues: dedupe(issues), calls, compiled, deferred };
}

/** The folder's files `listed`, but for those whose scenario name a file of `given` from outside `dir` stands in for. */
function standIns(listed: readonly string[], given: readonly string[], dir: string): string[] {
  const replaced = new Set(given.filter((p) => resolve(dirname(p)) !== resolve(dir)).map(scenarioNameOf));
  return listed.filter((f) => !replaced.has(scenarioNameOf(f)));
}

/** Each file whose scenario name another file of the list gives too, with those other files. */
function namesakes(files: readonly string[]): Map<string, string[]> {
  const byName = new Map<string, string[]>();
  for (const f of new Set(files.map((p) => resolve(p)))) {
    const name = scenarioNameOf(f);
    byName.set(name, [...(byName.get(name) ?? []), f]);
  }
  const out = new Map<string, string[]>();
  for (const group of byName.values()) {
    if (group.length < 2) continue;
    for (const f of group) out.set(f, group.filter((o) => o !== f));
  }
  return out;
}

/** Where to create a missing template: in the folder searched, named, so a file checked from elsewhere shows which one. */
function missingTemplateHint(name: string, folder: string | undefined): string {
  const files = `${name}.subject.njk and ${name}.text.njk and/or ${name}.html.njk`;
  return folder === undefined ? `create templates/${files} beside the scenarios` : `create ${files} in ${folder}/ (the templates folder searched)`;
}

/**
 * Kestra's names a template reads (`{{ inputs.orderId }}`, `{{ outputs.fetch.body }}`): a template here reads the
 * scenario's variables by their own names, so declaring `inputs` would be the wrong fix.
 */
const KESTRA_TEMPLATE_ROOTS: Readonly<Record<string, string>> = {
  inputs: "Kestra's inputs are the scenario's variables here: a template reads a declared variable by its own name, {{ orderId }} where Kestra wrote {{ inputs.orderId }} (docs/coming-from-kestra.md)",
  vars: "Kestra's vars are the scenario's variables here: a template reads a declared variable by its own name, {{ name }} where Kestra wrote {{ vars.name }} (docs/coming-from-kestra.md)",
  outputs: "another task's outputs do not exist here: a template reads the scenario's variables, e.g. {{ answer }} for the variable a WebRequest's responseBody: fills (docs/coming-from-kestra.md)",
};

/** Two scenarios using one broken template report its problem once. */
function dedupe(issues: ScenarioIssue[]): ScenarioIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.file}:${i.line}:${i.col}:${i.code}:${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function crossCheck(s: ScenarioReferences, known: ReadonlySet<string>, templates: TemplateChecker | undefined, shownPath: (file: string) => string): ScenarioIssue[] {
  const issues: ScenarioIssue[] = [];
  for (const call of s.calls) {
    if (!known.has(call.scenario)) {
      // `Order.yaml` or `Order.json` names a file: the bare name when that scenario exists.
      const guess = closestScenario(call.scenario, known);
      // A file's name for a scenario that does not exist either: the name to write, and the file to create for it.
      const bare = bareScenarioName(call.scenario);
      const create = bare !== call.scenario && bare !== ''
        ? `write "${bare}" (a scenario is named without folder or extension) and create ${bare}.yaml next to ${s.name}.yaml`
        : `create ${call.scenario}.yaml next to ${s.name}.yaml`;
      issues.push({
        ...call.loc,
        block: call.block,
        code: C.UNKNOWN_SCENARIO,
        message: `scenario "${call.scenario}" does not exist in the scenarios folder`,
        hint: guess ? `did you mean "${guess}"?` : `${create}; known: ${someOf([...known], 10)}`,
      });
    }
  }
  for (const use of s.templates) {
    if (!templates) continue;
    if (!templates.has(use.name)) {
      // `bpium-new-task.text.njk`: a file of the template named in place of the template; the name is what comes before.
      const part = /^(.+)\.(subject|text|html)(\.njk)?$|^(.+)\.njk$/i.exec(use.name);
      const stem = part ? (part[1] ?? part[4])! : undefined;
      const known = templates.names?.() ?? [];
      if (stem !== undefined && known.includes(stem)) {
        issues.push({
          ...use.loc,
          block: use.block,
          code: C.INVALID_TEMPLATE,
          message: `mail template "${use.name}" not found: "template" takes the template's name, not one of its files`,
          hint: `write template: ${stem} (its files ${stem}.subject.njk, ${stem}.text.njk, ${stem}.html.njk are found by that name)`,
        });
        continue;
      }
      const guess = closest(use.name, known);
      issues.push({
        ...use.loc,
        block: use.block,
        code: C.INVALID_TEMPLATE,
        message: `mail template "${use.name}" not found`,
        hint: guess
          ? `did you mean "${guess}"?`
          : missingTemplateHint(use.name, templates.dir === undefined ? undefined : shownPath(templates.dir)),
      });
      continue;
    }
    for (const e of templates.check(use.name)) {
      const at = e.file === undefined ? use.loc : { file: e.file, line: e.line, col: e.col };
      issues.push({ ...at, block: use.block, code: C.INVALID_TEMPLATE, message: e.message, ...(e.hint ? { hint: e.hint } : {}) });
    }
    for (const v of templates.variablesOf(use.name)) {
      if (!s.declared.has(v.name)) {
        const guess = closest(v.name, s.declared);
        issues.push({
          file: v.file,
          line: v.line,
          col: v.col,
          block: use.block,
          code: C.UNKNOWN_TEMPLATE_VARIABLE,
          message: `template "${use.name}" uses "${v.name}", which scenario ${s.name} does not declare`,
          hint: guess ? `did you mean "${guess}"?` : ((Object.hasOwn(KESTRA_TEMPLATE_ROOTS, v.name) ? KESTRA_TEMPLATE_ROOTS[v.name] : undefined) ?? `declare ${v.name} in ${s.name}.yaml under "variables:"`),
        });
      }
    }
  }
  return issues;
}
