// The effects of a run (letters, Bpium calls, database statements, web requests) in the order its steps made them,
// for `show` (a stored run) and `run` (the run just made): each kind is kept in a list of its own, the trace says
// which step came when.
import { cutTextParts, type BpiumCallRecord, type DbCallRecord, type HttpCallRecord, type MailRecord } from '../../engine/index.js';
import { DB_KINDS, dbCallsOf } from './db-calls.js';
import { httpCallsOf, WEB_KINDS } from './http-calls.js';
import { isObject, type StoredStep } from './trace-calls.js';

export type OrderedEffect =
  | { kind: 'mail'; record: MailRecord }
  | { kind: 'bpium'; record: BpiumCallRecord }
  | { kind: 'db'; record: DbCallRecord }
  | { kind: 'http'; record: HttpCallRecord };

/**
 * The run's effects in the order its steps made them. A step that carries an effect is paired with the first record
 * of its block not yet listed, in the list of its kind; a stored run keeps no list of statements and requests, which
 * are then read from the step itself (as `--json` reads them from the whole trace). A SendMail step that failed
 * before its letter was made (no recipient, an invalid address) has no letter: it takes one only when that letter
 * failed with the step's own error, so the block's later letters stay at their own steps. A step whose effect is a
 * failure while its first record worked (a Bpium read that got its record, then failed on a field name) made two:
 * it takes the next one too when that one failed with the step's error; so does a Bpium read that worked whose
 * catalog structure read then failed (the effect's `structureRead`), with that read's error. Records no step pairs with (no trace, or one
 * cut short) follow at the end, by kind: letters, Bpium calls, statements, requests.
 *
 * Records name their block, not their scenario, while a called scenario may have a block of its caller's id; but the
 * records of one block id are made in the order its steps ran, in whichever scenario, so a step that takes exactly
 * the records it made leaves the next ones to the next step of that id, in its own scenario.
 */
export function effectsInOrder(run: { mails?: unknown; bpiumCalls?: unknown; dbCalls?: unknown; httpCalls?: unknown }, trace: readonly unknown[]): OrderedEffect[] {
  const list = <T>(v: unknown): T[] | undefined => (Array.isArray(v) ? (v as T[]) : undefined);
  const mails = list<MailRecord>(run.mails) ?? [];
  const calls = list<BpiumCallRecord>(run.bpiumCalls) ?? [];
  const db = list<DbCallRecord>(run.dbCalls);
  const http = list<HttpCallRecord>(run.httpCalls);
  const shown = new Set<object>();
  // Each list's records by block, in order, and how many of each block's are listed: a run of many letters is paired
  // in one pass, not by searching the list again at every step.
  const queues = new Map<readonly object[], { byBlock: Map<unknown, object[]>; next: Map<unknown, number> }>();
  // The first record of the block not yet listed, when it is this step's; records of a block are in its steps' order.
  // When that one does not end the step (`ends`: it worked, the step failed), the next one does if it failed so.
  const take = <T extends { block?: unknown }>(records: readonly T[], block: unknown, fits: (x: T) => boolean = () => true, ends?: (x: T) => boolean): T[] => {
    let q = queues.get(records);
    if (!q) {
      const byBlock = new Map<unknown, object[]>();
      for (const r of records) (byBlock.get(r.block) ?? byBlock.set(r.block, []).get(r.block)!).push(r);
      queues.set(records, (q = { byBlock, next: new Map() }));
    }
    const at = q.next.get(block) ?? 0;
    const own = (q.byBlock.get(block) ?? []) as T[];
    const next = own[at];
    if (!next || !fits(next)) return [];
    const taken = [next];
    const then = own[at + 1];
    if (ends && !ends(next) && then && ends(then)) taken.push(then);
    q.next.set(block, at + taken.length);
    for (const r of taken) shown.add(r);
    return taken;
  };
  const out: OrderedEffect[] = [];
  for (const step of trace) {
    const s = (step ?? {}) as StoredStep;
    if (typeof s.kind !== 'string' || !isObject(s.effect)) continue;
    const effect = s.effect as { failure?: unknown; error?: unknown; structureRead?: unknown };
    // Whether a record is the one the step's failure tells of; undefined for a step that did not fail (one record).
    // A Bpium read that got its answer and then failed to read the catalog structure tells that failure beside it.
    const structureRead = isObject(effect.structureRead) ? (effect.structureRead as typeof effect) : undefined;
    const failed = typeof structureRead?.failure === 'string' ? structureRead : effect;
    const ends = typeof failed.failure === 'string' ? (x: { error?: unknown }) => failedAsStep(x.error, failed) : undefined;
    if (s.kind === 'SendMail') out.push(...take(mails, s.block, (m) => failedAsStep(m.error, effect)).map((record) => ({ kind: 'mail' as const, record })));
    else if (s.kind === 'Bpium') out.push(...take(calls, s.block, undefined, ends).map((record) => ({ kind: 'bpium' as const, record })));
    else if (DB_KINDS.has(s.kind)) out.push(...(db ? take(db, s.block, undefined, ends) : dbCallsOf({}, [step])).map((record) => ({ kind: 'db' as const, record })));
    else if (WEB_KINDS.has(s.kind)) out.push(...(http ? take(http, s.block, undefined, ends) : httpCallsOf({}, [step])).map((record) => ({ kind: 'http' as const, record })));
  }
  const rest = <T extends object>(records: readonly T[] | undefined) => (records ?? []).filter((x) => !shown.has(x));
  return [
    ...out,
    ...rest(mails).map((record) => ({ kind: 'mail' as const, record })),
    ...rest(calls).map((record) => ({ kind: 'bpium' as const, record })),
    ...rest(db).map((record) => ({ kind: 'db' as const, record })),
    ...rest(http).map((record) => ({ kind: 'http' as const, record })),
  ];
}

/**
 * Whether a record with this error ends the step, as the step's effect tells it: a step that succeeded (sent,
 * replayed, dry run) made a record without an error; a failed step ended with one that carries the step's error.
 * For a SendMail step it says whether the step made the letter at all: a failure before the letter was made leaves
 * the step's error in its trace but no letter, so the block's next letter (sent, or failed otherwise) is not this
 * step's. A stored letter's error is cut at its length limit; the step's is not.
 */
function failedAsStep(error: unknown, effect: { failure?: unknown; error?: unknown }): boolean {
  if (typeof effect.failure !== 'string') return error === undefined;
  if (typeof error !== 'string' || typeof effect.error !== 'string') return false;
  if (error === effect.error) return true;
  const cut = cutTextParts(error);
  return cut !== undefined && cut.length === effect.error.length && effect.error.startsWith(cut.start);
}
