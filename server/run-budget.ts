// The size budget of one stored run record. Each value in a record is already cut (run-record.ts), but a run that
// loops over Bpium calls or letters adds a trace step, a call record or a letter for each one, so a fan-out webhook
// would grow the store without bound. Past the budget the record keeps the head and the tail of its trace, of its
// Bpium calls and of its letters (as the engine's trace keeps the first and the last steps of a runaway loop) and one
// marker step in the place of the middle, which says what was left out. What is left out is not kept anywhere.
import type { BpiumCallRecord, JsonValue, MailRecord, TraceStep } from '../engine/index.js';
import { stringifyOnce } from './store/json-memo.js';

/** Bytes (UTF-8, as the store holds them) of a stored run record when nothing else is configured. */
export const DEFAULT_RUN_RECORD_BYTES = 64 * 1024;
/** The smallest budget allowed: a hook run's four parameters alone may take 16 KiB once cut. */
export const MIN_RUN_RECORD_BYTES = 16 * 1024;
/** The setting that sets it, named in the marker step. */
export const RUN_RECORD_BUDGET_SETTING = 'OKTELL_RUN_RECORD_BUDGET';

/** The marker step's `kind` and `block`: no scenario block has either. */
export const RECORD_CUT_KIND = 'RecordCut';
export const RECORD_CUT_BLOCK = '…';

/** Bytes set aside for the marker step and the row's other columns (ids, times, names). */
const MARKER_BYTES = 1024;
const ROW_BYTES = 512;

/** Of one list: how many items are kept before the gap (`first`), and how many were left out there. */
export interface KeptEnds {
  first: number;
  omitted: number;
}

/** What the marker step's `effect` holds: where each list was cut, for programs (`test --from-run`). */
export interface RecordCut {
  budgetBytes: number;
  steps: KeptEnds;
  bpiumCalls: KeptEnds;
  mails: KeptEnds;
}

export interface RecordLists<S extends TraceStep> {
  trace: S[];
  bpiumCalls: BpiumCallRecord[];
  mails: MailRecord[];
}

function jsonBytes(v: unknown): number {
  return Buffer.byteLength(JSON.stringify(v) ?? '', 'utf8');
}

/** Bytes of a value the store will write as it is: its text is kept for the store (json-memo.ts). */
function storedBytes(v: unknown): number {
  return v === undefined ? 0 : Buffer.byteLength(stringifyOnce(v), 'utf8');
}

/**
 * The lists of a run record fitted to `budgetBytes` together with the record's other values (`fixed`: parameters,
 * return values, error). Returned as they are when they fit; else each list gets a share of the room in proportion
 * to its size and keeps its head and its tail in it, and the trace gets a marker step (see `markerStep`).
 */
export function fitRunRecord<S extends TraceStep>(lists: RecordLists<S>, fixed: unknown[], budgetBytes: number, runId: string, scenario: string): RecordLists<S | TraceStep> {
  const texts = [stringifyOnce(lists.trace), stringifyOnce(lists.bpiumCalls), stringifyOnce(lists.mails)];
  const fixedBytes = ROW_BYTES + fixed.reduce<number>((n, v) => n + storedBytes(v), 0);
  // A UTF-16 unit is at most 3 bytes in UTF-8: most records are known to fit without counting their bytes.
  if (fixedBytes + 3 * texts.reduce((n, t) => n + t.length, 0) <= budgetBytes) return lists;
  const sizes = texts.map((t) => Buffer.byteLength(t, 'utf8'));
  const listBytes = sizes.reduce((a, b) => a + b, 0);
  if (fixedBytes + listBytes <= budgetBytes) return lists;
  const room = Math.max(0, budgetBytes - fixedBytes - MARKER_BYTES);
  const share = (i: number) => Math.floor((room * sizes[i]!) / listBytes);
  const trace = keepEnds(lists.trace, share(0));
  const calls = keepEnds(lists.bpiumCalls, share(1));
  const mails = keepEnds(lists.mails, share(2));
  const cut: RecordCut = { budgetBytes, steps: trace.ends, bpiumCalls: calls.ends, mails: mails.ends };
  const steps = trace.items as Array<S | TraceStep>;
  const at = trace.ends.omitted ? trace.ends.first : steps.length;
  // Step numbers, not places: the engine's own trace may already lack the middle of a runaway loop.
  const gap = trace.ends.omitted ? [lists.trace[at]!.step, lists.trace[at + trace.ends.omitted - 1]!.step] : undefined;
  const stepRange = gap ? `steps ${gap[0]}–${gap[1]} (${trace.ends.omitted} of ${lists.trace.length})` : undefined;
  const marker = markerStep(cut, lists, stepRange, runId, scenario, gap ? gap[0]! : (steps.at(-1)?.step ?? 0) + 1);
  return { trace: [...steps.slice(0, at), marker, ...steps.slice(at)], bpiumCalls: calls.items, mails: mails.items };
}

/** The first and the last items of `list` that fit in `bytes` (half each; what the head leaves goes to the tail). */
function keepEnds<T>(list: T[], bytes: number): { items: T[]; ends: KeptEnds } {
  const sizes = list.map((x) => jsonBytes(x) + 1);
  if (sizes.reduce((a, b) => a + b, 0) <= bytes) return { items: list, ends: { first: list.length, omitted: 0 } };
  let used = 0;
  let head = 0;
  while (head < list.length && used + sizes[head]! <= bytes / 2) used += sizes[head++]!;
  let tail = list.length;
  while (tail > head && used + sizes[tail - 1]! <= bytes) used += sizes[--tail]!;
  return { items: [...list.slice(0, head), ...list.slice(tail)], ends: { first: head, omitted: tail - head } };
}

/** The step in the place of the middle of the trace: what was left out, in words (`notes`) and as data (`effect`). */
function markerStep(cut: RecordCut, whole: RecordLists<TraceStep>, stepRange: string | undefined, runId: string, scenario: string, step: number): TraceStep {
  const part = (what: string, ends: KeptEnds, all: number): string | undefined =>
    ends.omitted ? `${what} ${ends.first + 1}–${ends.first + ends.omitted} (${ends.omitted} of ${all})` : undefined;
  const left = [
    stepRange,
    part('Bpium calls', cut.bpiumCalls, whole.bpiumCalls.length),
    part('letters', cut.mails, whole.mails.length),
  ].filter((s): s is string => s !== undefined);
  const what = left.length ? left.join(', ') : 'nothing but room for this note';
  return {
    step,
    scenario,
    block: RECORD_CUT_BLOCK,
    kind: RECORD_CUT_KIND,
    exit: 'left out',
    ms: 0,
    notes: [
      `Left out of this record, which may take ${cut.budgetBytes} bytes (${RUN_RECORD_BUDGET_SETTING}): ${what}. ` +
        `They are not kept anywhere. To see every step, run it again dry: \`oktell-emu test --from-run ${runId}\` writes ` +
        `it as a test case (which checks only what was kept); a larger ${RUN_RECORD_BUDGET_SETTING} keeps more of later runs.`,
    ],
    effect: { recordCut: cut as unknown as JsonValue },
  };
}

/** The cut a stored trace's marker step describes, if the record was cut. */
export function recordCutOf(trace: unknown): RecordCut | undefined {
  if (!Array.isArray(trace)) return undefined;
  for (const s of trace as Array<Record<string, unknown> | null>) {
    if (!s || s.kind !== RECORD_CUT_KIND || s.block !== RECORD_CUT_BLOCK) continue;
    const cut = (s.effect as { recordCut?: RecordCut } | undefined)?.recordCut;
    if (cut && typeof cut === 'object') return cut;
  }
  return undefined;
}

/** Whether a stored trace step is the marker of a cut record. */
export function isRecordCutStep(s: unknown): boolean {
  return !!s && typeof s === 'object' && (s as { kind?: unknown }).kind === RECORD_CUT_KIND && (s as { block?: unknown }).block === RECORD_CUT_BLOCK;
}
