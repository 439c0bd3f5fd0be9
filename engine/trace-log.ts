// A run's trace while the run goes on: steps kept in columns, made into `TraceStep` objects only when the run ends.
//
// Why columns: a trace keeps up to 10,000 steps for the whole run, and every object a step kept alive (the step, its
// `changed` record, its time as a boxed number) survived the young generation's collections during the run and was
// copied into the old generation, which then had to be marked and swept: a traced run was several times slower than
// the same run without a trace (bench/engine.bench.ts). Here a step is numbers in typed arrays, whose memory the
// collector never copies, and names are kept once each in a table; only the values a step set are kept as they are.
// The step objects are made once, at the end, and die young once the record has been stored.
//
// Which steps are kept: the first `head` steps, then the last `limit - head` in a ring; the steps dropped from the
// ring (or, with no ring, every step past the head) are counted in `truncated`.

import type { TraceStep } from './model.js';
import type { JsonValue, Value } from './values.js';

/** What a step has that most steps have not: kept per step only when present. */
interface StepExtra {
  effect?: JsonValue;
  notes?: string[];
  clock?: string[];
  error?: string;
}

/** The step being recorded: what the block did before `end` is called. */
export interface StepDetails {
  effect: JsonValue | undefined;
  notes: string[] | undefined;
  clock: string[] | undefined;
  error?: string;
}

export class TraceLog {
  private readonly head: number;
  private readonly ringSize: number;
  /** Where the ring's oldest step is (the next one to be overwritten). */
  private ringNext = 0;
  /** Steps kept so far (at most head + ringSize). */
  private kept = 0;
  /** Steps dropped: the ones between the head and the ring's oldest. */
  truncated = 0;

  /** Every name the trace uses (scenarios, blocks, kinds, exits, variables), once, and its number. */
  private readonly text: string[] = [];
  private readonly textIds = new Map<string, number>();

  // One entry per kept slot: 0..head-1 for the head, head..head+ringSize-1 for the ring. Names are numbers in `text`;
  // a slot's variable changes are the flat arrays' entries from[slot] .. to[slot].
  private slots = new Int32Array(0);
  private ms = new Float64Array(0);
  private static readonly STEP = 0;
  private static readonly SCENARIO = 1;
  private static readonly BLOCK = 2;
  private static readonly KIND = 3;
  private static readonly EXIT = 4;
  private static readonly FROM = 5;
  private static readonly TO = 6;
  private static readonly WIDTH = 7;
  /**
   * By slot, what a step has beyond its exit and changes: nothing, a single note (a Condition's comparison, the
   * most common), or an object with its effect, notes, clock reads and error.
   */
  private readonly extra: (StepExtra | string | undefined)[] = [];

  // Every change of every kept step, in order; a step overwritten in the ring leaves its changes here until
  // `compact` drops them, so these stay within a small multiple of what the kept steps changed.
  private names = new Int32Array(0);
  private values: Value[] = [];
  private changes = 0;
  /** Where the current step's changes begin. */
  private stepFrom = 0;
  /** Changes belonging to kept steps (the rest are overwritten steps'). */
  private live = 0;

  constructor(limit: number) {
    this.head = Math.ceil(limit / 2);
    this.ringSize = limit - this.head;
  }

  /** The current step set `name` to `value` (already cut or masked for the trace). */
  change(name: string, value: Value): void {
    if (this.changes === this.names.length) this.names = grown(this.names, this.changes * 2 || 16);
    this.names[this.changes] = this.id(name);
    this.values[this.changes++] = value;
  }

  /** Ends the current step; its changes are those made since the previous `end`. */
  end(step: number, scenario: string, block: string, kind: string, exit: string, ms: number, d: StepDetails): void {
    this.endStep(step, scenario, block, kind, exit, ms, extraOf(d));
  }

  /**
   * `end` for the usual step, with no effect, clock read or error and at most one note: no details object to make
   * (the same entry as `end` with `notes: [note]`, or none).
   */
  endWithNote(step: number, scenario: string, block: string, kind: string, exit: string, ms: number, note: string | undefined): void {
    this.endStep(step, scenario, block, kind, exit, ms, note);
  }

  private endStep(step: number, scenario: string, block: string, kind: string, exit: string, ms: number, extra: StepExtra | string | undefined): void {
    const from = this.stepFrom;
    const to = this.changes;
    let slot: number;
    if (this.kept >= this.head + this.ringSize) {
      // Full: the ring's oldest step is dropped (or, with no ring, this step itself).
      this.truncated++;
      if (this.ringSize === 0) {
        this.changes = from;
        this.values.length = from;
        return;
      }
      slot = this.head + this.ringNext;
      this.ringNext = (this.ringNext + 1) % this.ringSize;
      const at = slot * TraceLog.WIDTH;
      this.live -= this.slots[at + TraceLog.TO]! - this.slots[at + TraceLog.FROM]!;
    } else {
      slot = this.kept++;
      if (slot * TraceLog.WIDTH === this.slots.length) {
        const room = Math.min(Math.max(slot * 2, 16), this.head + this.ringSize);
        this.slots = grown(this.slots, room * TraceLog.WIDTH);
        this.ms = grown(this.ms, room);
      }
    }
    const at = slot * TraceLog.WIDTH;
    const s = this.slots;
    s[at + TraceLog.STEP] = step;
    s[at + TraceLog.SCENARIO] = this.id(scenario);
    s[at + TraceLog.BLOCK] = this.id(block);
    s[at + TraceLog.KIND] = this.id(kind);
    s[at + TraceLog.EXIT] = this.id(exit);
    s[at + TraceLog.FROM] = from;
    s[at + TraceLog.TO] = to;
    this.ms[slot] = ms;
    this.extra[slot] = extra;
    this.live += to - from;
    this.stepFrom = to;
    if (this.changes > 4096 && this.changes > 2 * this.live) this.compact();
  }

  private id(name: string): number {
    let n = this.textIds.get(name);
    if (n === undefined) {
      n = this.text.length;
      this.text.push(name);
      this.textIds.set(name, n);
    }
    return n;
  }

  /** Rewrites the flat arrays with only the kept steps' changes. */
  private compact(): void {
    const names = new Int32Array(Math.max(this.live * 2, 16));
    const values: Value[] = [];
    let n = 0;
    for (let slot = 0; slot < this.kept; slot++) {
      const at = slot * TraceLog.WIDTH;
      const from = this.slots[at + TraceLog.FROM]!;
      const to = this.slots[at + TraceLog.TO]!;
      this.slots[at + TraceLog.FROM] = n;
      for (let i = from; i < to; i++) {
        names[n] = this.names[i]!;
        values[n++] = this.values[i]!;
      }
      this.slots[at + TraceLog.TO] = n;
    }
    this.names = names;
    this.values = values;
    this.changes = n;
    this.stepFrom = n;
  }

  /** The kept steps in the order they ran, as the run record holds them. */
  steps(): TraceStep[] {
    // Made at its length: growing it would copy it, and every copy is garbage while the steps are being made.
    // (Past 64 Ki entries, V8 would make a sparse array of it: one that long is grown instead.)
    const out: TraceStep[] = this.kept <= 65_536 ? new Array<TraceStep>(this.kept) : [];
    const headEnd = Math.min(this.kept, this.head);
    for (let slot = 0; slot < headEnd; slot++) out[slot] = this.entry(slot);
    const inRing = this.kept - headEnd;
    // Once the ring has gone round, its oldest step is at ringNext; before that, the ring is in order from its start.
    const first = inRing === this.ringSize ? this.ringNext : 0;
    for (let i = 0; i < inRing; i++) out[headEnd + i] = this.entry(this.head + ((first + i) % inRing));
    return out;
  }

  private entry(slot: number): TraceStep {
    const s = this.slots;
    const t = this.text;
    const at = slot * TraceLog.WIDTH;
    const step = s[at + TraceLog.STEP]!;
    const scenario = t[s[at + TraceLog.SCENARIO]!]!;
    const block = t[s[at + TraceLog.BLOCK]!]!;
    const kind = t[s[at + TraceLog.KIND]!]!;
    const exit = t[s[at + TraceLog.EXIT]!]!;
    const ms = this.ms[slot]!;
    const from = s[at + TraceLog.FROM]!;
    const to = s[at + TraceLog.TO]!;
    let changed: Record<string, Value> | undefined;
    if (to > from) {
      changed = {};
      for (let i = from; i < to; i++) changed[t[this.names[i]!]!] = this.values[i]!;
    }
    const x = this.extra[slot];
    // The usual steps are made whole by one literal each (the same keys in the same order as added one by one
    // below): an object given a key after it was made needs a second store for it, and that is garbage too.
    if (x === undefined) return changed ? { step, scenario, block, kind, exit, ms, changed } : { step, scenario, block, kind, exit, ms };
    if (typeof x === 'string') return changed ? { step, scenario, block, kind, exit, ms, changed, notes: [x] } : { step, scenario, block, kind, exit, ms, notes: [x] };
    const e: TraceStep = { step, scenario, block, kind, exit, ms };
    if (changed) e.changed = changed;
    if (x.effect !== undefined) e.effect = x.effect;
    if (x.notes) e.notes = x.notes;
    if (x.clock) e.clock = x.clock;
    if (x.error) e.error = x.error;
    return e;
  }
}

/** A copy of `a` with room for `length` entries. */
function grown<T extends Int32Array | Float64Array>(a: T, length: number): T {
  const b = new (a.constructor as new (n: number) => T)(length);
  b.set(a);
  return b;
}

function extraOf(d: StepDetails): StepExtra | string | undefined {
  if (d.effect === undefined && !d.clock && !d.error) {
    if (!d.notes) return undefined;
    if (d.notes.length === 1) return d.notes[0];
  }
  const x: StepExtra = {};
  if (d.effect !== undefined) x.effect = d.effect;
  if (d.notes) x.notes = d.notes;
  if (d.clock) x.clock = d.clock;
  if (d.error) x.error = d.error;
  return x;
}
