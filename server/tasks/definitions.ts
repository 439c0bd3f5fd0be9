// Service tasks («служебные задачи») as configured under `serviceTasks:` in oktell.config.yaml: which scenario to
// start, on what schedule, in which zone, with which input parameters. Checked as a whole at load time; every
// problem is reported with the file, line and column of the bad field.
import { parseExpression, type CompiledExpression, type EvalContext } from '../../engine/expr/index.js';
import { coerceToType, toText } from '../../engine/values.js';
import { yamlHint } from '../../engine/loader.js';
import { closest, closestScenario, suggestedZone } from '../../engine/suggest.js';
import { YamlSource, type PathSeg } from '../../engine/yaml-source.js';
import type { Scenario, ScenarioLibrary } from '../../engine/index.js';
import { checkTimeZone, cronSchedule, intervalSchedule, isoInZone, nextDueTimes, ScheduleError, type Schedule } from './schedule.js';

export interface ServiceTask {
  name: string;
  scenario: string;
  schedule: Schedule;
  timeZone: string;
  /**
   * Input parameters by number ('1'…'99'): expressions evaluated at each due time (`Now()` is the due time,
   * `InputParameter(1)` the due time as text). Parameter 1 is the due time unless set here.
   */
  params: Record<string, CompiledExpression>;
  enabled: boolean;
  /** Due times missed while no instance was running: one catch-up run (`once`) or none (`skip`). */
  missed: 'once' | 'skip';
  /** `skip`: a due time whose previous run is still queued or running starts nothing. */
  overlap: 'run' | 'skip';
  /** Where the task's `scenario:` is (`file:line:col`), to point at it when that scenario is missing. */
  scenarioAt?: string;
  /** Where each of its `params:` is (`file:line:col` of the number), to point at one its scenario never reads. */
  paramsAt?: Record<string, string>;
}

/**
 * The problems of the file's service tasks. Besides the message (every problem, then the good tasks' due times), it
 * keeps what a listing needs to go on: the problems alone (`problems`, file order), the tasks that are good
 * (`tasks`), and each task left out with its problems (`rejected`: its name, or `task N` when it has none).
 */
export class ServiceTaskError extends Error {
  override name = 'ServiceTaskError';
  constructor(
    message: string,
    readonly problems: readonly string[] = [],
    readonly tasks: readonly ServiceTask[] = [],
    readonly rejected: ReadonlyArray<{ name: string; problems: readonly string[] }> = [],
  ) {
    super(message);
  }
}

const KEYS = ['name', 'scenario', 'cron', 'every', 'timeZone', 'params', 'enabled', 'missed', 'overlap'];

/**
 * Reads `serviceTasks` from the configuration file's text. Throws ServiceTaskError listing every problem as
 * `file:line:col: message`, followed by the next three due times of the tasks that are good (so a fix can be checked
 * against them; a disabled one is said to be disabled). `now` is only used for that hint.
 *
 * `known`, the scenarios folder's names when it can be read: a task naming another scenario is listed among the
 * problems when there are others, so one round of fixes is enough (a bad cron must not hide a misspelt scenario).
 * Alone it throws nothing: whether it stops the start or only warns (a hot reload, a disabled task) is the caller's
 * call (scenarioProblems, TaskDefinitions.checkScenarios).
 */
export function parseServiceTasks(file: string, text: string, defaultZone: string, now = Date.now(), known?: ReadonlySet<string>): ServiceTask[] {
  const src = new YamlSource(file, text);
  const root = src.doc.toJS() as Record<string, unknown> | null;
  const list = root?.serviceTasks;
  if (list === undefined || list === null) return [];
  /** The problems with where they are, so they are listed in file order whichever check found them first. */
  const problems: Array<{ line: number; col: number; text: string; task?: number }> = [];
  /** The task (its index in the list) whose problems are being found; undefined outside a task. */
  let current: number | undefined;
  const located = (text: string, at: { line: number; col: number }) => problems.push({ line: at.line, col: at.col, text, ...(current !== undefined ? { task: current } : {}) });
  // Sorting is stable: two problems at one place keep the order they were found in.
  const inFileOrder = () => [...problems].sort((a, b) => a.line - b.line || a.col - b.col).map((p) => p.text);
  /** How many of the problems are unknown scenarios, which alone refuse nothing here. */
  let missing = 0;
  const problem = (path: PathSeg[], message: string, key = false) => {
    const at = src.locate(path, { key });
    located(`${at.file}:${at.line}:${at.col}: ${message}`, at);
  };
  if (!Array.isArray(list)) {
    problem(['serviceTasks'], 'serviceTasks must be a list of tasks (- name: ...)');
    throw new ServiceTaskError(inFileOrder().join('\n'), inFileOrder());
  }
  const tasks: ServiceTask[] = [];
  const names = new Set<string>();
  /** The tasks left out for their problems, by index, with the name to call them by. */
  const left: Array<{ index: number; name: string }> = [];
  list.forEach((raw: unknown, i) => {
    current = i;
    const at = (...p: PathSeg[]) => ['serviceTasks', i, ...p];
    const named = (raw as { name?: unknown } | null)?.name;
    const label = typeof named === 'string' && named.trim() ? named.trim() : `task ${i + 1}`;
    const leftOut = () => left.push({ index: i, name: label });
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      leftOut();
      return problem(at(), 'a task is a mapping with name, scenario and cron or every');
    }
    const t = raw as Record<string, unknown>;
    const before = problems.length - missing;
    for (const k of Object.keys(t)) {
      if (KEYS.includes(k)) continue;
      const guess = closest(k, KEYS);
      problem(at(k), `unknown key "${k}" (${guess ? `did you mean ${guess}? ` : ''}known: ${KEYS.join(', ')})`, true);
    }
    const name = text_(t.name);
    if (!name) problem(at('name'), 'name: a task needs a name (letters, digits, - _ .)');
    else if (!/^[\w.-]{1,64}$/.test(name)) problem(at('name'), `name "${name}": use letters, digits, - _ . (at most 64)`);
    else if (names.has(name)) problem(at('name'), `name "${name}" is used by an earlier task`);
    else names.add(name);
    const scenario = text_(t.scenario);
    if (!scenario) problem(at('scenario'), 'scenario: the name of the service scenario to start');
    else if (known && !known.has(scenario)) {
      const where = src.locate(at('scenario'));
      located(`${where.file}:${where.line}:${where.col}: ${missingScenario(scenario, known)}${t.enabled === false ? ' (the task is disabled)' : ''}`, where);
      missing++;
    }
    let timeZone = t.timeZone === undefined ? defaultZone : text_(t.timeZone);
    try {
      if (!timeZone) throw new ScheduleError('timeZone must be a zone name');
      if (typeof t.timeZone === 'number') throw new ScheduleError(numberZone(src.sourceOf(at('timeZone')) ?? timeZone, t.timeZone));
      checkTimeZone(timeZone);
    } catch (e) {
      if (!(e instanceof ScheduleError)) throw e;
      problem(at('timeZone'), `timeZone: ${e.message}`);
      timeZone = undefined;
    }
    let schedule: Schedule | undefined;
    if ((t.cron === undefined) === (t.every === undefined)) problem(at(t.cron !== undefined ? 'every' : ''), 'give exactly one of cron (e.g. "0 9 * * *") or every (e.g. 5m)');
    else {
      // Neither needs a good zone to be checked: a bad cron is reported beside a bad zone, not after it is fixed
      // (read in UTC then, only to find its mistakes; the task is not kept).
      const which = t.cron !== undefined ? 'cron' : 'every';
      try {
        const checked = which === 'cron' ? cronSchedule(String(t.cron), timeZone ?? 'UTC') : intervalSchedule(String(t.every));
        if (timeZone || which === 'every') schedule = checked;
      } catch (e) {
        if (!(e instanceof ScheduleError)) throw e;
        problem(at(which), `${which}: ${e.message}`);
      }
    }
    const params: Record<string, CompiledExpression> = {};
    if (t.params !== undefined) {
      if (typeof t.params !== 'object' || t.params === null || Array.isArray(t.params)) problem(at('params'), 'params: a mapping from parameter number (1-99) to an expression');
      else
        for (const [k, v] of Object.entries(t.params)) {
          if (!/^\d{1,2}$/.test(k) || Number(k) < 1) problem(at('params', k), `params: "${k}" is not a parameter number (1-99)`, true);
          else if (v === null || typeof v === 'object') problem(at('params', k), `params.${k}: an expression, e.g. '"text"' or 'FormatDate(AddDays(Now(), -1), "yyyy-MM-dd")'`);
          else {
            const r = parseExpression(String(v));
            if (!r.ok) {
              const where = src.locateInScalar(at('params', k), r.error.offset);
              // The scenario validator's hint, written for YAML: `2: "text"` lost its quotes to YAML, so the fix is '"text"'.
              const hint = yamlHint(src, at('params', k), String(v), r.error, new Map());
              located(`${where.file}:${where.line}:${where.col}: params.${k}: ${r.error.message}${hint ? ` (${hint})` : ''}`, where);
            } else if (r.expr.variables.length > 0) problem(at('params', k), `params.${k}: a task has no variables ([${r.expr.variables[0]}]); use Now(), the due time`);
            else params[String(Number(k))] = r.expr;
          }
        }
    }
    const enabled = t.enabled ?? true;
    if (typeof enabled !== 'boolean') problem(at('enabled'), 'enabled: true or false');
    const missed = t.missed ?? 'once';
    if (missed !== 'once' && missed !== 'skip') problem(at('missed'), 'missed: once (one catch-up run after a stop) or skip');
    const overlap = t.overlap ?? 'run';
    if (overlap !== 'run' && overlap !== 'skip') problem(at('overlap'), 'overlap: run (the default) or skip (no new run while the last one is queued or running)');
    if (problems.length - missing === before && name && scenario && schedule && timeZone) {
      const where = src.locate(at('scenario'));
      const scenarioAt = `${where.file}:${where.line}:${where.col}`;
      const paramsAt: Record<string, string> = {};
      for (const k of Object.keys(t.params ?? {})) {
        const p = src.locate(at('params', k), { key: true });
        paramsAt[String(Number(k))] = `${p.file}:${p.line}:${p.col}`;
      }
      tasks.push({ name, scenario, schedule, timeZone, params, enabled: enabled as boolean, missed: missed as 'once' | 'skip', overlap: overlap as 'run' | 'skip', scenarioAt, paramsAt });
    } else leftOut();
  });
  current = undefined;
  if (problems.length > missing) {
    // A disabled task is never due: said so, as `tasks` lists it, rather than given due times it will not run at.
    const good = tasks.map((t) => `  ${t.name} (${t.schedule.text}): ${t.enabled ? `next ${nextDueTimes(t.schedule, now, 3).map((d) => isoInZone(d, t.timeZone)).join(', ')}` : 'disabled'}`);
    const sorted = [...problems].sort((a, b) => a.line - b.line || a.col - b.col);
    const rejected = left.map((l) => ({ name: l.name, problems: sorted.filter((p) => p.task === l.index).map((p) => p.text) }));
    throw new ServiceTaskError([...inFileOrder(), ...(good.length ? ['the other tasks are due:', ...good] : [])].join('\n'), inFileOrder(), tasks, rejected);
  }
  return tasks;
}

/**
 * The tasks whose scenario has no file among `known` (the scenarios folder's names), one `file:line:col: …` line
 * each, with the closest name when it looks like a typo. Checked apart from parsing: the scenarios are loaded later.
 */
export function unknownScenarios(tasks: readonly ServiceTask[], known: ReadonlySet<string>): string[] {
  return missingScenarioFindings(tasks, known).map((f) => `${f.at}: ${f.what}`);
}

/**
 * `unknownScenarios`, each finding with its place (`file:line:col`, or the task's name) apart from what it says
 * (`scenario: "DailyReprt" is not in the scenarios folder (did you mean DailyReport?)`), as `unreadParameterFindings`.
 */
export function missingScenarioFindings(tasks: readonly ServiceTask[], known: ReadonlySet<string>): TaskFinding[] {
  return tasks
    .filter((t) => !known.has(t.scenario))
    .map((t) => ({ at: t.scenarioAt ?? t.name, what: missingScenario(t.scenario, known) }));
}

/** `scenario: "DailyReprt" is not in the scenarios folder (did you mean DailyReport?)`, said after its place. */
function missingScenario(scenario: string, known: ReadonlySet<string>): string {
  // `Tick.yaml`, `scenarios/Tick.yaml` or `Tick.json` names a file; the task takes the scenario's name.
  const guess = closestScenario(scenario, known);
  return `scenario: "${scenario}" is not in the scenarios folder${guess ? ` (did you mean ${guess}?)` : ''}`;
}

/**
 * The start's check of the tasks' scenarios, shared by the server and `oktell-emu tasks`: an enabled task naming a
 * scenario with no file among `known` is an error (the server refuses to start); a disabled one cannot fail a run,
 * so it is only a warning.
 */
export function scenarioProblems(tasks: readonly ServiceTask[], known: ReadonlySet<string>): { errors: string[]; warnings: string[] } {
  return {
    errors: unknownScenarios(tasks.filter((t) => t.enabled), known),
    warnings: unknownScenarios(tasks.filter((t) => !t.enabled), known).map((w) => `${w} (the task is disabled)`),
  };
}

/**
 * The parameters enabled tasks give that their scenario never reads, one `file:line:col: …` line each (at the number in
 * `params:`): computed at every due time for nothing, they most often mean a wrong number (`params: { 3: … }` for a
 * scenario that reads InputParameter(2)). Only said when it is sure: a scenario (or one it calls, jumps to or starts)
 * that computes a parameter's number, or is not loaded, reads any of them as far as this knows.
 */
export function unreadParameters(tasks: readonly ServiceTask[], library: Pick<ScenarioLibrary, 'scenarios' | 'calls'>, substrBase: 0 | 1 = 0): string[] {
  return unreadParameterFindings(tasks, library, substrBase).map((f) => `${f.at}: ${f.what}`);
}

/** A finding about a task (an unread parameter, a missing scenario): where (`file:line:col`, or the task's name) and what is wrong, apart. */
export interface TaskFinding {
  at: string;
  /** The warning without its place: the same finding after an edit that only moves the task's lines. */
  what: string;
}

/**
 * `unreadParameters`, each finding with its place apart from what it says; then the constant parameters the
 * scenario's typed variable cannot hold ({@link mistypedParameterFindings}), which warn the same way. `substrBase`:
 * the server's (`substrBase`), which the runs evaluate the parameters with.
 */
export function unreadParameterFindings(tasks: readonly ServiceTask[], library: Pick<ScenarioLibrary, 'scenarios' | 'calls'>, substrBase: 0 | 1 = 0): TaskFinding[] {
  return [...unreadOnly(tasks, library), ...mistypedParameterFindings(tasks, library, substrBase)];
}

/**
 * A parameter whose value is the same at every due time (`3: '"ten"'`) that the task's scenario reads into a
 * variable of a type that cannot hold it (an InputParameter block's `limit: 3`, limit a number; Start's `param` for
 * 1): every run would fail there, `R_EXPRESSION` at the scenario's line, never naming the task's. Said at the number
 * in `params:`, with the value to give. The value is computed as a run computes it (`taskJob`), with the server's
 * `substrBase`: `Substr("10x", 1, 2)` is "10" with 1 and "0x" with 0.
 */
/** A due time to show what parameter 1 holds when params: sets none (a fixed one, so the finding reads the same each time). */
const SAMPLE_DUE = Date.UTC(2026, 0, 31, 9, 0, 0);

export function mistypedParameterFindings(tasks: readonly ServiceTask[], library: Pick<ScenarioLibrary, 'scenarios'>, substrBase: 0 | 1 = 0): TaskFinding[] {
  const out: TaskFinding[] = [];
  for (const t of tasks) {
    const s = library.scenarios.get(t.scenario);
    if (!t.enabled || !s) continue;
    const ctx: EvalContext = { getVariable: () => '', inputParameter: () => '', now: () => new Date(0), timeZone: t.timeZone, substrBase };
    const given: Array<{ k: string; value: string; due?: true }> = [];
    for (const [k, e] of Object.entries(t.params)) {
      if (!e.constant) continue;
      try {
        given.push({ k, value: toText(e.evaluate(ctx), t.timeZone) });
      } catch {
        continue;
      }
    }
    // Without `1:` in params:, parameter 1 is the due time (ISO 8601 in the task's zone), which a number or JSON
    // variable cannot hold either: every run fails there as well.
    if (t.params['1'] === undefined) given.push({ k: '1', value: isoInZone(SAMPLE_DUE, t.timeZone), due: true });
    for (const { k, value, due } of given) {
      const targets: Array<{ variable: string; block: string }> = [];
      for (const [id, b] of s.blocks) {
        if (b.kind === 'Start' && k === '1' && (b.config as { param?: string }).param) targets.push({ variable: (b.config as { param: string }).param, block: id });
        if (b.kind === 'InputParameter') for (const [name, n] of (b.config as { pairs: Array<[string, number]> }).pairs) if (String(n) === k) targets.push({ variable: name, block: id });
      }
      for (const target of targets) {
        const type = s.variables.get(target.variable)?.type;
        if (!type || type === 'string') continue;
        try {
          coerceToType(value, type, t.timeZone);
        } catch (err) {
          const want = type === 'number' ? `a number (${k}: '10')` : type === 'datetime' ? `a date (${k}: '"2026-01-31"', or ${k}: 'AddDays(Now(), -1)' for the day before the due time)` : `JSON text (${k}: '"{}"')`;
          if (due) {
            out.push({ at: t.scenarioAt ?? t.name, what: `scenario ${t.scenario} reads input parameter 1, the due time (e.g. ${JSON.stringify(value)}: params: sets no 1), into ${target.variable} (${type}, block ${target.block}), which cannot hold it (${(err as Error).message.replace(/^: /, '')}): every run of task ${t.name} would fail there; declare ${target.variable} a string or datetime, or give params: 1` });
            break;
          }
          out.push({ at: t.paramsAt?.[k] ?? t.name, what: `params.${k}: scenario ${t.scenario} reads input parameter ${k} into ${target.variable} (${type}, block ${target.block}), which cannot hold ${JSON.stringify(value)} (${(err as Error).message.replace(/^: /, '')}): every run of task ${t.name} would fail there; give ${want}` });
          break;
        }
      }
    }
  }
  return out;
}

function unreadOnly(tasks: readonly ServiceTask[], library: Pick<ScenarioLibrary, 'scenarios' | 'calls'>): TaskFinding[] {
  const out: TaskFinding[] = [];
  for (const t of tasks) {
    if (!t.enabled || !library.scenarios.has(t.scenario)) continue;
    const read = new Set<number>();
    let any = false;
    for (const name of reachedFrom(library.calls ?? new Map(), t.scenario)) {
      const s = library.scenarios.get(name);
      if (!s || !parametersRead(s, read)) any = true;
    }
    if (any) continue;
    const numbers = [...read].sort((a, b) => a - b);
    for (const k of Object.keys(t.params)) {
      if (read.has(Number(k))) continue;
      const reads = numbers.length ? `it reads ${numbers.join(', ')}` : 'it reads none';
      out.push({ at: t.paramsAt?.[k] ?? t.name, what: `params.${k}: scenario ${t.scenario} never reads input parameter ${k} (${reads}): task ${t.name} computes it at every due time for nothing; give the number the scenario reads, or leave it out` });
    }
  }
  return out;
}

/** The scenario and those it calls, jumps to or starts, and theirs (library.calls). */
function reachedFrom(calls: ReadonlyMap<string, readonly string[]>, name: string): Set<string> {
  const seen = new Set([name]);
  for (const n of seen) for (const next of calls.get(n) ?? []) seen.add(next);
  return seen;
}

/** `InputParameter(…)` in any of its spellings, with what is written between its parentheses. */
const INPUT_PARAMETER_CALL = /(?:InputParameter|ВходнойПараметр|Входной\s+параметр)\s*\(([^()]*)\)/giu;

/**
 * Adds to `read` the input parameters the scenario reads: 1 for a Start block's `param`, an InputParameter block's
 * numbers, and `InputParameter(n)` with n written as a number in any expression. False when it cannot tell (a number
 * that is computed).
 */
function parametersRead(s: Scenario, read: Set<number>): boolean {
  let sure = true;
  const seen = new Set<unknown>();
  const visit = (v: unknown): void => {
    if (!sure || v === null || typeof v !== 'object' || seen.has(v)) return;
    seen.add(v);
    const e = v as Partial<CompiledExpression>;
    if (typeof e.source === 'string' && typeof e.evaluate === 'function') {
      if (!e.functions?.includes('InputParameter')) return;
      const calls = [...e.source.matchAll(INPUT_PARAMETER_CALL)];
      if (!calls.length) sure = false;
      for (const m of calls) {
        const n = m[1]!.trim();
        if (/^\d+$/.test(n)) read.add(Number(n));
        else sure = false;
      }
      return;
    }
    for (const x of v instanceof Map ? v.values() : Object.values(v)) visit(x);
  };
  for (const b of s.blocks.values()) {
    if (b.kind === 'Start' && (b.config as { param?: string }).param) read.add(1);
    if (b.kind === 'InputParameter') for (const [, n] of (b.config as { pairs: Array<[string, number]> }).pairs) read.add(n);
    visit(b.config);
  }
  return sure;
}

/**
 * Why `timeZone: +3` (unquoted: YAML reads the number 3, its sign lost) is refused: what YAML made of it, and the zone
 * of that offset when it has a sign (`Etc/GMT-3`, explained as `UTC+3` gets it); without one (`3`), a zone name to give.
 */
export function numberZone(written: string, value: number): string {
  const read = `${written.trim()} is read by YAML as the number ${value}, not a zone name`;
  const guess = /^[+-]/.test(written.trim()) ? suggestedZone(written.trim()) : undefined;
  return guess !== undefined ? `${read} (did you mean ${guess}?)` : `${read}: write a zone name (e.g. Europe/Moscow, UTC)`;
}

function text_(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : typeof v === 'number' ? String(v) : undefined;
}
