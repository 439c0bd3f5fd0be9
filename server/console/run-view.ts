// Turns a run (stored record or dry-run result) into what the run pages show: steps with the variables after each
// one, the path on the diagram, letters, Bpium calls and started scenarios.
import { runErrorLocation, SECRET_MASK, type Scenario } from '../../engine/index.js';
import { fileInFolder } from '../scenario-host.js';
import { diagramOf, markDiagram, pathMarks, type MarkedDiagram } from './scenario-graph.js';
import { readBack, storedChanged } from '../stored-values.js';
import { isTraceNotKeptStep, traceNotKeptNotes, traceNotKeptOf, traceNotKeptText } from '../trace-setting.js';

/** The trace of a run as stored (JSON) or as returned by the engine. */
export interface TraceLike {
  step: number;
  scenario: string;
  block: string;
  kind: string;
  exit: string;
  ms: number;
  changed?: Record<string, unknown>;
  /** In a stored trace: the keys of `changed` that were dates. */
  dates?: string[];
  effect?: unknown;
  notes?: string[];
  error?: string;
}

export interface StepView extends TraceLike {
  title: string;
  /** Variables changed by this step, `Return value N` entries excluded. */
  changedVars: Array<[string, unknown]>;
  returnsSet: Array<[string, unknown]>;
  /** All variables after this step (left out past `FULL_STATE_STEPS` steps to keep the page light). */
  state?: Array<[string, unknown]>;
}

export interface RunView {
  steps: StepView[];
  /** Steps recorded but not shown (very long traces). */
  hiddenSteps: number;
  diagram?: MarkedDiagram;
  /** Set when the diagram is of another version than the one that ran. */
  diagramNote?: string;
  finalVariables: Array<[string, unknown]>;
  /** Set when the record was stored without its steps (OKTELL_TRACE=failed): what the page says in their place. */
  traceNotKept?: string;
  /** Notes the server put on such a record's first step (it is the marker): shown with those words. */
  traceNotKeptNotes?: string[];
}

/** Traces longer than this show only the first steps. */
export const SHOWN_STEPS = 1000;
/** Steps that carry the full variable state after them. */
export const FULL_STATE_STEPS = 300;

const RETURN_KEY = /^Return value \d+$/;

function asTrace(trace: unknown): TraceLike[] {
  if (!Array.isArray(trace)) return [];
  return trace.filter((s): s is TraceLike => !!s && typeof s === 'object' && typeof (s as TraceLike).block === 'string' && typeof (s as TraceLike).step === 'number');
}

/**
 * Builds the run view. `scenario` is the version to draw (the one that ran when it is still known); `initial`
 * presets variables (a job's copied variables) over the declared initial values.
 */
export function runView(input: { scenarioName: string; trace: unknown; scenario: Scenario | undefined; versionRan: string; failedBlock?: string; initial?: unknown }): RunView {
  // A run stored without its steps (OKTELL_TRACE=failed) says so; the steps it kept (web requests, statements) are shown.
  const notKept = traceNotKeptOf(input.trace);
  const trace = asTrace(input.trace).filter((t) => !isTraceNotKeptStep(t));
  const s = input.scenario;
  const state = new Map<string, unknown>();
  // A secret variable's value (from the environment, a file or the YAML) is not for the readers of run pages.
  if (s) for (const v of s.variables.values()) state.set(v.name, v.secret ? SECRET_MASK : v.initial);
  if (input.initial && typeof input.initial === 'object' && !Array.isArray(input.initial)) {
    // A job keeps the variables it copied as JSON; the run converted each to its declared type, so a datetime one
    // was a date there (and is shown as one).
    for (const [k, v] of Object.entries(input.initial)) {
      const decl = s?.variables.get(k);
      if (state.has(k) && !decl?.secret) state.set(k, readBack(v, decl?.type === 'datetime'));
    }
  }
  const steps: StepView[] = [];
  for (const t of trace) {
    // A stored step's dates come back as dates (stored-values.ts), to be shown as the run showed them.
    const changed = Object.entries(storedChanged(t) ?? {});
    const changedVars = changed.filter(([k]) => !RETURN_KEY.test(k));
    for (const [k, v] of changedVars) state.set(k, v);
    if (steps.length >= SHOWN_STEPS) continue;
    const block = t.scenario === input.scenarioName ? s?.blocks.get(t.block) : undefined;
    steps.push({
      ...t,
      title: block?.title ?? t.block,
      changedVars,
      returnsSet: changed.filter(([k]) => RETURN_KEY.test(k)),
      ...(steps.length < FULL_STATE_STEPS ? { state: [...state] } : {}),
    });
  }
  const view: RunView = { steps, hiddenSteps: trace.length - steps.length, finalVariables: [...state], ...(notKept ? { traceNotKept: traceNotKeptText(notKept), traceNotKeptNotes: traceNotKeptNotes(input.trace) } : {}) };
  if (s) {
    // Without its steps the run's path is not known: the diagram is drawn unmarked, not marked by the few steps kept.
    view.diagram = markDiagram(diagramOf(s), pathMarks(input.scenarioName, notKept ? [] : trace, input.failedBlock));
    if (s.version !== input.versionRan) view.diagramNote = `The run used version ${input.versionRan}, which this process has not loaded; the diagram shows the current version ${s.version}.`;
  }
  return view;
}

/** Ids of runs and jobs go into URLs and queries only when they look like ids. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,80}$/;

/**
 * `file:line:col` of a run error's block with the file named inside the scenarios folder (`ReadUser.yaml:12:3`), as
 * the scenario pages name it: the engine names it from the server's working directory, which may be anywhere.
 */
export function errorLocation(error: { file?: unknown; line?: unknown; col?: unknown }, scenariosDir: string): string | undefined {
  const where = runErrorLocation(error);
  return where && typeof error.file === 'string' ? `${fileInFolder(error.file, scenariosDir)}:${String(error.line)}:${String(error.col)}` : undefined;
}
