// Hot reload of the service tasks: edits of `serviceTasks:` in the configuration file take effect without a restart,
// and so does a configuration file created after the start. A bad edit keeps the last good tasks and logs why, with
// the file:line:col of every problem (as for scenarios).
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { parse } from 'yaml';
import { watchFolders, type FolderWatch } from '../../adapters/folder-watch.js';
import type { LoggerPort } from '../../engine/ports.js';
import type { ScenarioLibrary } from '../../engine/index.js';
import { serviceTasks } from '../config.js';
import { decodeTextFile } from '../../engine/text-file.js';
import { missingScenarioFindings, ServiceTaskError, unreadParameterFindings, type ServiceTask, type TaskFinding } from './definitions.js';
import { isoInZone, nextDueTimes } from './schedule.js';

export interface TaskDefinitions {
  /** The tasks in force: the last good version of the file. */
  current(): readonly ServiceTask[];
  /**
   * Warns about tasks naming a scenario that is not in the folder, or giving a parameter their scenario never reads
   * (after the scenarios or the tasks were reloaded), each once until it is fixed.
   */
  checkScenarios(): void;
  close(): void;
}

/**
 * The configured tasks, reloaded when the configuration file at `configFile` changes or appears (when `watch`). Only
 * the tasks are reloaded: other settings still need a restart.
 */
export function taskDefinitions(o: { configFile: string | undefined; timeZone: string; initial: ServiceTask[]; logger: LoggerPort; watch: boolean; scenarios?: () => ReadonlySet<string>; library?: () => Pick<ScenarioLibrary, 'scenarios' | 'calls'>; unreadSaid?: readonly TaskFinding[]; substrBase?: 0 | 1 }): TaskDefinitions {
  let tasks: readonly ServiceTask[] = o.initial;
  let lastText: string | undefined;
  /** The top-level settings of the last text of the file that parsed, which the settings in force came from. */
  let lastSettings: Record<string, unknown> | undefined;
  const file = o.configFile;
  // While running, a missing scenario is a warning, not a refusal: the scenario may be saved next. Each one is
  // reported once, until it is fixed.
  let warned = new Set<string>();
  // Those said at the start (createServiceTasks, which found them in the same tasks and library) count as said.
  // Both kinds are known by what they say, not where: an edit that moves a task's lines neither says one again nor
  // says it no longer holds.
  let unread = new Set((o.unreadSaid ?? []).map((f) => f.what));
  // A warning that stops holding (the scenario saved after the tasks that use it, or fixed) is said so once, so a
  // log read later does not leave it standing: the tasks and the scenarios are reloaded apart, the tasks often first.
  const noLongerHolds = (what: string) => o.logger.info({}, `service tasks: an earlier warning no longer holds (the tasks or the scenarios changed since): ${what}`);
  const checkScenarios = () => {
    if (o.library) {
      const { fresh, gone, now } = compareFindings(unread, unreadParameterFindings(tasks, o.library(), o.substrBase));
      unread = now;
      for (const f of fresh) o.logger.warn({}, `${f.at}: ${f.what}`);
      for (const what of gone) noLongerHolds(what);
    }
    if (!o.scenarios) return;
    const { fresh, gone, now } = compareFindings(warned, missingScenarioFindings(tasks, o.scenarios()));
    warned = now;
    const lines = fresh.map((f) => `${f.at}: ${f.what}`);
    if (lines.length) o.logger.warn({ problems: lines }, `service tasks: a task names a scenario that is not in the scenarios folder; its runs fail until the file is there\n${lines.join('\n')}`);
    for (const what of gone) noLongerHolds(what);
  };
  const reload = () => {
    if (!file) return;
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (e) {
      o.logger.warn({ err: e }, `service tasks: cannot read ${file}; keeping the tasks in force`);
      return;
    }
    // Saved in windows-1251 or as UTF-16, as at a start, it is refused where it stops being UTF-8: read as UTF-8, a
    // task's Cyrillic parameters would run as U+FFFD.
    const read = decodeTextFile(bytes);
    if (!read.ok) {
      const at = `${basename(file)}:${read.line}:${read.col}`;
      o.logger.warn({ problems: `${at}: ${read.message}` }, `service tasks: the edit of ${basename(file)} has problems; keeping the tasks in force\n${at}: ${read.message}; ${read.hint}`);
      return;
    }
    const text = read.text;
    if (text === lastText) return;
    lastText = text;
    // Compared with the last text that parsed: an editor's unparseable intermediate save must not hide the change.
    const settings = settingsOf(text);
    if (settings) {
      const changed = changedSettings(lastSettings ?? {}, settings);
      if (changed.length) o.logger.warn({ settings: changed }, `${basename(file)}: ${changed.join(', ')} changed; restart the server to apply (only serviceTasks are reloaded while it runs)`);
      lastSettings = settings;
    }
    try {
      const next = serviceTasks(file, text, o.timeZone, o.scenarios?.(), (e) => {
        throw e;
      });
      const changes = taskChanges(tasks, next);
      tasks = next;
      o.logger.info({ tasks: next.map((t) => t.name), changes }, `service tasks reloaded from ${basename(file)}: ${changes.length ? changes.join('; ') : 'no change to the tasks'}`);
      checkScenarios();
    } catch (e) {
      // Not the good tasks of the edit ("the other tasks are due", as at a start): none of the edit applies, so what
      // runs is the tasks in force, with their own schedules, a task the edit broke among them.
      const problems = e instanceof ServiceTaskError ? e.problems.join('\n') : (e as Error).message;
      const now = Date.now();
      const inForce = tasks.map((t) => `  ${t.name} (${t.schedule.text}): ${t.enabled ? `next ${nextDueTimes(t.schedule, now, 3).map((d) => isoInZone(d, t.timeZone)).join(', ')}` : 'disabled'}`);
      const said = `${problems}\nnone of this edit applies until it is fixed; ${inForce.length ? `the tasks in force (the last good version of the file) are due:\n${inForce.join('\n')}` : 'no task is in force'}`;
      o.logger.warn({ problems }, `service tasks: the edit of ${basename(file)} has problems; keeping the tasks in force\n${said}`);
    }
  };
  let watcher: FolderWatch | undefined;
  if (file && o.watch) {
    // What the server started with; a file that did not exist yet is read whole when it appears.
    if (existsSync(file)) {
      lastText = readFileSync(file, 'utf8');
      lastSettings = settingsOf(lastText);
    }
    // The folder, not the file: editors save by writing a new file and renaming it over the old one, and a file
    // created after the start has nothing to watch yet.
    watcher = watchFolders({
      roots: [dirname(file)],
      relevant: (changed) => changed === file,
      onChange: reload,
      onError: (_dir, e) => o.logger.warn({ err: e }, 'cannot watch the configuration file; service tasks reload only at restart'),
    });
  }
  return {
    current: () => tasks,
    checkScenarios,
    close() {
      watcher?.close();
    },
  };
}

/** The file's top-level settings, or undefined when the text is not YAML of a mapping (or nothing). */
function settingsOf(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = parse(text);
    return v == null ? {} : typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The top-level settings other than `serviceTasks` that differ between two versions of the file, sorted. */
function changedSettings(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => k !== 'serviceTasks' && JSON.stringify(a[k]) !== JSON.stringify(b[k])).sort();
}

/** The top-level settings other than `serviceTasks` that differ between two texts of the file (none when unreadable). */
export function otherSettingsChanged(before: string | undefined, after: string): string[] {
  const a = before === undefined ? {} : settingsOf(before);
  const b = settingsOf(after);
  return a && b ? changedSettings(a, b) : [];
}

/** Against the findings said before (by what they say): the new ones, those no longer found, and what is said now. */
function compareFindings(said: ReadonlySet<string>, found: readonly TaskFinding[]): { fresh: TaskFinding[]; gone: string[]; now: Set<string> } {
  const now = new Set(found.map((f) => f.what));
  return { fresh: found.filter((f) => !said.has(f.what)), gone: [...said].filter((what) => !now.has(what)), now };
}

/**
 * What a reload changed, one phrase a task (`added poll (every 5m)`, `removed report`, `http: every 3s (was 0 9 * * *)`,
 * `tick: disabled`), so the log says which schedule is now in force without the file at hand.
 */
function taskChanges(before: readonly ServiceTask[], after: readonly ServiceTask[]): string[] {
  const out: string[] = [];
  const old = new Map(before.map((t) => [t.name, t]));
  for (const t of after) {
    const was = old.get(t.name);
    old.delete(t.name);
    if (!was) {
      out.push(`added ${t.name} (${t.schedule.text}${t.enabled ? '' : ', disabled'})`);
      continue;
    }
    const what: string[] = [];
    if (was.schedule.text !== t.schedule.text) what.push(`${t.schedule.text} (was ${was.schedule.text})`);
    if (was.timeZone !== t.timeZone) what.push(`timeZone ${t.timeZone} (was ${was.timeZone})`);
    if (was.scenario !== t.scenario) what.push(`scenario ${t.scenario} (was ${was.scenario})`);
    if (was.enabled !== t.enabled) what.push(t.enabled ? 'enabled' : 'disabled');
    if (was.overlap !== t.overlap) what.push(`overlap: ${t.overlap}`);
    if (was.missed !== t.missed) what.push(`missed: ${t.missed}`);
    if (paramsText(was) !== paramsText(t)) what.push('params changed');
    if (what.length) out.push(`${t.name}: ${what.join(', ')}`);
  }
  for (const name of old.keys()) out.push(`removed ${name}`);
  return out;
}

function paramsText(t: ServiceTask): string {
  return JSON.stringify(Object.entries(t.params).map(([k, e]) => [k, e.source]));
}
