// The values of a run record (the variables each step changed, the return values) are stored as JSON, which has no
// dates: a date becomes its ISO text and would be shown back as text. So a stored trace step names the values that
// were dates (`dates`), and `show` and the console read them back as dates, to print them the way `run` prints the
// live result (the scenario's text conversion in the server's zone). Numbers survive JSON as they are; their float
// noise is a matter of printing (`toText`), not of storing.
import type { Value } from '../engine/index.js';

/** The tag a stored trace step carries: the keys of its `changed` that held dates. */
export interface DateTags {
  dates?: string[];
}

/** The keys of `values` that hold dates, for a stored step's `dates`; undefined when there is none. */
export function dateKeys(values: Readonly<Record<string, unknown>>): string[] | undefined {
  let keys: string[] | undefined;
  for (const k in values) if (values[k] instanceof Date) (keys ??= []).push(k);
  return keys;
}

/** A stored value read back: a value tagged as a date that still reads as one becomes a Date; the rest as stored. */
export function readBack(v: unknown, isDate: boolean): unknown {
  if (!isDate || typeof v !== 'string') return v;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? v : d;
}

/** A stored step's changed values, its tagged dates as dates (a record written before the tags: as stored). */
export function storedChanged(step: { changed?: Record<string, unknown> } & DateTags): Record<string, unknown> | undefined {
  if (!step.changed || !step.dates?.length) return step.changed;
  const out: Record<string, unknown> = { ...step.changed };
  for (const k of step.dates) if (k in out) out[k] = readBack(out[k], true);
  return out;
}

/**
 * A stored run's return values, a date where the trace step that last set it (`Return value N`) tagged it as one.
 * A return value set in the middle of a cut trace (a runaway loop) has no step left to say so: it is shown as stored.
 */
export function storedReturnValues(returnValues: unknown, trace: unknown): Record<string, unknown> {
  if (!returnValues || typeof returnValues !== 'object' || Array.isArray(returnValues)) return {};
  const dates = new Map<string, boolean>();
  for (const step of Array.isArray(trace) ? (trace as Array<{ changed?: Record<string, unknown>; effect?: { traceNotKept?: { returnDates?: unknown } } } & DateTags>) : []) {
    // A record stored without its steps (OKTELL_TRACE=failed, trace-setting.ts): its marker names the dates.
    const notKept = step?.effect?.traceNotKept?.returnDates;
    if (Array.isArray(notKept)) for (const n of notKept) dates.set(String(n), true);
    for (const k of Object.keys(step?.changed ?? {})) {
      const n = RETURN_KEY.exec(k)?.[1];
      if (n !== undefined) dates.set(n, step.dates?.includes(k) ?? false);
    }
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(returnValues)) out[k] = readBack(v, dates.get(k) ?? false);
  return out;
}

const RETURN_KEY = /^Return value (\d+)$/;

/** Whether a stored value is one a scenario value can be (what `toText` prints); objects and arrays are not. */
export function isValue(v: unknown): v is Value {
  return v === null || v instanceof Date || ['string', 'number', 'boolean'].includes(typeof v);
}
