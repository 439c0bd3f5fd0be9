// Keeps the loaded scenarios of a folder, reloads them when files change, and keeps the last good version of a
// scenario whose edit is invalid. The versions seen stay available by hash for pinned replays: the running ones and
// the last `KEPT_VERSIONS` others (each edit adds one, so a server edited for weeks would otherwise keep them all).
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { watchScenarioFolders, type FolderWatch } from '../adapters/folder-watch.js';
import { defaultRegistry } from '../components/registry.js';
import { createTemplateRenderer, type TemplateRenderer } from '../adapters/mail/index.js';
import { createScenarioLoadCache, formatIssue, listScenarioFiles, loadScenarioLibrary, scenarioNameOf, type DbDialect, type LoggerPort, type Scenario, type ScenarioIssue, type ScenarioLibrary, type ScenarioLoadCache } from '../engine/index.js';
import type { Env } from '../engine/env.js';

/** Versions a host keeps for pinned replays besides the running ones (one scenario of the shipped size: about 90 KB). */
export const KEPT_VERSIONS = 64;

export interface ScenarioHost {
  /** The current library: every valid scenario, and the last good version of each one whose file became invalid. */
  library(): ScenarioLibrary;
  /** A library in which `name` is the version `version` (for pinned replays), or undefined if that version is unknown. */
  libraryWithVersion(name: string, version: string): ScenarioLibrary | undefined;
  readonly templates: TemplateRenderer;
  /** Every scenario with a file in the folder at the last load, valid or not. */
  names(): ReadonlySet<string>;
  /** Problems of the last load (invalid files keep running their last good version). */
  issues(): readonly ScenarioIssue[];
  /**
   * Reads the folder again: every file (`full`, the default), or only the files that changed since the last load
   * (`changed`, as a save seen by the watch does); the checks across files are made over all of them either way.
   */
  reload(how?: 'full' | 'changed'): Promise<void>;
  /** Calls `listener` after every reload (the delivery thread reloads its own copy then). */
  onReload(listener: () => void): void;
  close(): void;
}

/**
 * How the log names a file of a scenario problem: relative to the scenarios folder when it is inside it
 * (`HTTP404.yaml`, `templates/report.text.njk`), else absolute. The loader names files relative to the working
 * directory, which for a server is wherever it was started (`../../srv/oktell/scenarios/HTTP404.yaml`).
 */
export function fileInFolder(file: string, dir: string): string {
  const absolute = resolve(file);
  const inside = relative(resolve(dir), absolute);
  return inside && inside !== '..' && !inside.startsWith(`..${sep}`) && !isAbsolute(inside) ? inside : absolute;
}

/** The scenarios of `library` that have a Bpium block, by name: a server starts its embedded emulator for them. */
export function bpiumScenarios(library: Pick<ScenarioLibrary, 'scenarios'>): string[] {
  return [...library.scenarios.values()].filter((s) => [...s.blocks.values()].some((b) => b.kind === 'Bpium')).map((s) => s.name).sort();
}

/** The scenarios with a file in `dir`, valid or not (none when the folder cannot be read). */
export async function scenarioNamesIn(dir: string): Promise<ReadonlySet<string>> {
  return new Set((await listScenarioFiles(dir).catch(() => [])).map(scenarioNameOf));
}

/**
 * Why a scenario that has a file in the folder is not among the loaded ones: the first problem of its own file, as
 * `file:line:col CODE message` with the file named as the log names it, and how many more that file has. Undefined
 * when the folder has no file of that name (an unknown scenario, not an invalid one).
 */
export function invalidScenarioReason(host: Pick<ScenarioHost, 'names' | 'library'>, name: string): string | undefined {
  if (!host.names().has(name)) return undefined;
  const library = host.library();
  const own = library.issues.filter((i) => scenarioNameOf(i.file) === name);
  const first = own[0];
  if (!first) return 'its problems are in the files it uses (the server log names them; npx oktell-emu validate lists them)';
  const more = own.length > 1 ? ` (and ${own.length - 1} more problem${own.length > 2 ? 's' : ''}; npx oktell-emu validate lists them)` : '';
  return `${fileInFolder(first.file, library.dir)}:${first.line}:${first.col} ${first.code} ${first.message}${more}`;
}

/** What a load of the folder found: the library, and every scenario with a file there. */
interface FolderLoad {
  loaded: ScenarioLibrary;
  onDisk: ReadonlySet<string>;
}

/** The scenarios of a folder read and checked ahead of `createScenarioHost`, which logs and keeps them (see `readScenarios`). */
export interface ScenarioRead {
  readonly dir: string;
  readonly templates: TemplateRenderer;
  /** The loads of its files, kept for the host's reloads. */
  readonly cache: ScenarioLoadCache;
  readonly done: Promise<FolderLoad>;
}

interface ReadOptions {
  timeZone: string;
  databases?: Readonly<Record<string, DbDialect>>;
  /**
   * Where the scenarios' `env:` variables are read (at each load, reloads included): the server's environment, the
   * one `startServer({ env })` was given; the process's when not given.
   */
  env?: Env;
}

/**
 * Reads and checks every scenario of `dir` with `templates` (reloaded first: their files may have changed). Files
 * whose load `cache` keeps, and whose text and values read did not change, are not parsed again; what spans files
 * (the scenarios each starts, the templates each uses) is checked anew over all of them.
 */
async function loadFolder(dir: string, templates: TemplateRenderer, cache: ScenarioLoadCache, opts: ReadOptions): Promise<FolderLoad> {
  templates.reload();
  const loaded = await loadScenarioLibrary(dir, { registry: defaultRegistry, templates, cache, timeZone: opts.timeZone, ...(opts.databases ? { databases: opts.databases } : {}), ...(opts.env ? { env: opts.env } : {}) });
  return { loaded, onDisk: await scenarioNamesIn(dir) };
}

/**
 * Starts reading and checking the scenarios of `dir` (and the mail templates they use) without logging or keeping
 * anything, so that the server can do it while it waits for another start step (the store's integrity check runs in
 * a thread of its own). Given to `createScenarioHost` as `firstRead`, it is that host's first load: its problems are
 * logged then, as if the folder had been read at that moment. A read that fails fails there too, not before.
 */
export function readScenarios(dir: string, opts: ReadOptions): ScenarioRead {
  const templates = createTemplateRenderer({ dir: join(dir, 'templates'), timeZone: opts.timeZone });
  const cache = createScenarioLoadCache();
  const done = loadFolder(dir, templates, cache, opts);
  // Awaited by createScenarioHost; a start step that fails before then must not turn its failure into an unhandled one.
  done.catch(() => undefined);
  return { dir, templates, cache, done };
}

export async function createScenarioHost(dir: string, opts: ReadOptions & { logger?: LoggerPort; watch?: boolean; firstRead?: ScenarioRead }): Promise<ScenarioHost> {
  if (opts.firstRead && opts.firstRead.dir !== dir) throw new Error(`scenarios read from ${opts.firstRead.dir} given to the host of ${dir}`);
  const templates = opts.firstRead?.templates ?? createTemplateRenderer({ dir: join(dir, 'templates'), timeZone: opts.timeZone });
  const cache = opts.firstRead?.cache ?? createScenarioLoadCache();
  const versions = new Map<string, Scenario>();
  let current: ScenarioLibrary = { dir, scenarios: new Map(), issues: [] };
  const listeners: Array<() => void> = [];
  let names: ReadonlySet<string> = new Set();
  /** Scenarios whose file was invalid at the last load (their last good version kept running). */
  let kept = new Set<string>();

  /** `file:line:col code message` of every problem logged at the last load. */
  let logged = new Set<string>();
  let firstLoad = true;

  /** `changedFiles`: the files whose saves started this reload (absolute paths; empty or absent when not known). */
  async function reload(read?: Promise<FolderLoad>, changedFiles?: readonly string[]) {
    const { loaded, onDisk } = await (read ?? loadFolder(dir, templates, cache, opts));
    // A save of one file reloads the whole folder; what the files not saved had to say was logged at an earlier load
    // (see below), so it is counted rather than logged again at every save elsewhere in a folder of hundreds.
    const saved = new Set((changedFiles ?? []).map((f) => resolve(f)));
    const known = !firstLoad && saved.size > 0;
    const savedNames = new Set([...saved].map(scenarioNameOf));
    const scenarios = new Map(loaded.scenarios);
    const keptNow = new Set<string>();
    for (const [name, old] of current.scenarios) {
      // Still on disk but invalid now, through its own file or a file it uses (a mail template, a scenario it
      // starts): keep running the last good version. Only a scenario whose file is gone is dropped.
      if (!scenarios.has(name) && (onDisk.has(name) || loaded.issues.some((i) => i.file.endsWith(old.file)))) {
        scenarios.set(name, old);
        keptNow.add(name);
        if (known && kept.has(name) && !savedNames.has(name)) continue;
        opts.logger?.error({ scenario: name, version: old.version }, `scenario ${name} is invalid after an edit; still running version ${old.version}`);
      }
    }
    for (const s of scenarios.values()) {
      // Newest last: a version seen again moves to the end.
      const key = `${s.name}@${s.version}`;
      versions.delete(key);
      versions.set(key, s);
    }
    // The oldest versions no scenario runs any more go first, past the bound (as after a restart, a pinned replay of
    // one of those is refused, naming the version).
    let others = versions.size - scenarios.size;
    for (const [key, s] of versions) {
      if (others <= KEPT_VERSIONS) break;
      if (scenarios.get(s.name) === s) continue;
      versions.delete(key);
      others--;
    }
    // The problems of the files not saved, as they were at the last load, are counted on one line (a folder with a few
    // broken files would otherwise repeat the same errors at each edit elsewhere). The files saved get theirs again,
    // as does any problem that is new, and every one when the files saved are not known (an explicit reload).
    const nowLogged = new Set<string>();
    const unchanged = new Set<string>();
    let repeated = 0;
    for (const issue of loaded.issues) {
      const i = { ...issue, file: fileInFolder(issue.file, dir) };
      const key = `${i.file}:${i.line}:${i.col} ${i.code} ${i.message}`;
      nowLogged.add(key);
      if (known && logged.has(key) && !saved.has(resolve(dir, i.file))) {
        repeated++;
        unchanged.add(i.file);
        continue;
      }
      opts.logger?.error({ code: i.code, file: i.file, line: i.line, col: i.col, scenarios: dir }, formatIssue(i));
    }
    if (repeated) {
      opts.logger?.warn(
        { problems: repeated, files: unchanged.size, scenarios: dir },
        `${repeated} problem(s) in ${unchanged.size} file(s) not saved since are still there, as logged before (npx oktell-emu validate lists them)`,
      );
    }
    logged = nowLogged;
    firstLoad = false;
    const changed = [...scenarios.values()].filter((s) => current.scenarios.get(s.name)?.version !== s.version).map((s) => `${s.name}@${s.version}`);
    if (changed.length && current.scenarios.size) opts.logger?.info({ changed }, 'scenarios reloaded');
    // The last word about a scenario whose edit was invalid must not stay that ERROR once the file is good again,
    // also when it went back to the very text that runs (an undo, a `git checkout`) and so nothing was reloaded.
    for (const name of kept) {
      const s = scenarios.get(name);
      if (!s || keptNow.has(name)) continue;
      const same = current.scenarios.get(name)?.version === s.version;
      opts.logger?.info({ scenario: name, version: s.version }, `scenario ${name} is valid again; running version ${s.version}${same ? ', the one that was running' : ''}`);
    }
    kept = keptNow;
    current = { dir, scenarios, issues: loaded.issues };
    names = onDisk;
    for (const l of listeners) l();
  }

  await reload(opts.firstRead?.done);
  let watcher: FolderWatch | undefined;
  let reloading = Promise.resolve();
  /** The reload asked for that has not started yet: asks made before it starts join it (it reads the files after them). */
  let waiting: { files: Set<string> | undefined; full: boolean; done: Promise<void> } | undefined;
  /**
   * Queues a reload after the one under way: two loads at once would share the kept loads half-way, and the one that
   * ends last (not always the one asked last, since a load yields mid-way) would leave its older reading in place. A
   * burst of saves, and the delivery thread's reload message per save, make one reload, not one each.
   * `files`: the files saved (undefined: not known, as for an explicit reload, which logs every problem again).
   */
  function queueReload(ask: { files?: readonly string[]; full: boolean }): Promise<void> {
    // The watch gives no files when it cannot tell which changed (a folder moved): unknown, as for an explicit reload.
    if (!ask.files?.length) ask = { full: ask.full };
    if (waiting) {
      if (!ask.files) waiting.files = undefined;
      else for (const f of ask.files) waiting.files?.add(f);
      waiting.full ||= ask.full;
      return waiting.done;
    }
    const w: { files: Set<string> | undefined; full: boolean; done: Promise<void> } = { files: ask.files ? new Set(ask.files) : undefined, full: ask.full, done: Promise.resolve() };
    w.done = reloading.then(() => {
      waiting = undefined;
      // A full reload parses every file again, whatever was kept (what `reload` promised before reloads were partial).
      if (w.full) cache.clear();
      return reload(undefined, w.files ? [...w.files] : undefined);
    });
    waiting = w;
    reloading = w.done.catch(() => undefined);
    return w.done;
  }
  if (opts.watch !== false) {
    // Each folder on its own (see folder-watch.ts): a recursive watch misses files replaced by rename after the first.
    watcher = watchScenarioFolders([dir], {
      onChange: (files) => {
        queueReload({ files, full: false }).catch((e: unknown) => opts.logger?.error({ err: e }, 'scenario reload failed'));
      },
      onError: (d, e) => opts.logger?.warn({ err: e, dir: d }, 'cannot watch a scenarios folder; its edits are not reloaded'),
    });
  }
  return {
    library: () => current,
    libraryWithVersion(name, version) {
      const s = versions.get(`${name}@${version}`);
      if (!s) return undefined;
      if (current.scenarios.get(name) === s) return current;
      const scenarios = new Map(current.scenarios);
      scenarios.set(name, s);
      return { dir, scenarios, issues: current.issues };
    },
    templates,
    names: () => names,
    issues: () => current.issues,
    onReload: (listener) => void listeners.push(listener),
    reload: (how = 'full') => queueReload({ full: how === 'full' }),
    close() {
      watcher?.close();
    },
  };
}
