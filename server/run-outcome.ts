// What a run did, in one line, for the lists (`oktell-emu runs`, the console's runs and jobs): a completed run that
// sent a letter, one that ignored its webhook and one that got a malformed body all read `completed`; their outcome
// is what tells them apart. Read from two parts of the run record, at list time only (the webhook's path pays
// nothing): its letters (recipients and status, the letter's effect) and its return values (how scenarios such as
// BpiumNewTask say what they did: "notified 1 of 1", "ignored a record of catalog 42: …", "malformed webhook: …").

import { toText } from '../engine/values.js';

/** What the store reads of a run for its outcome: the return values, and of each letter only its recipients and status. */
export interface RunOutcomeSource {
  returnValues: unknown;
  letters: ReadonlyArray<{ to?: unknown; status?: unknown }>;
}

/** The recipients shown per kind of letter; the others are counted. */
const SHOWN_RECIPIENTS = 3;

/**
 * A letter refused before it was written (an empty or invalid `to`, `cc` or `bcc`): SendMail records it as failed
 * with no recipient and no subject, its error saying why (and quoting the address text it refused). It went to
 * nobody and was never sent, so it is named as refused, not as failed to someone.
 */
export function refusedBeforeSending(letter: { to?: unknown; status?: unknown }): boolean {
  return letter.status === 'failed' && !(Array.isArray(letter.to) && letter.to.length > 0);
}

/** What `show` and `run` print for such a letter, before its reason. */
export const REFUSED_BEFORE_SENDING = 'refused before sending';

/** Letters by what became of them, in the order the outcome names them (`to`: followed by the recipients). */
const LETTER_KINDS: ReadonlyArray<{ is: (l: { to?: unknown; status?: unknown }) => boolean; one: string; many: (n: number) => string; to: boolean }> = [
  { is: (l) => l.status === 'sent', one: 'letter sent to', many: (n) => `${n} letters sent to`, to: true },
  // A retry that took the letter from its job's journal: an earlier attempt sent it, this one did not. Named apart, so
  // that adding up the letters of a job's attempts in a list counts each letter once.
  { is: (l) => l.status === 'replayed', one: 'letter sent earlier to', many: (n) => `${n} letters sent earlier to`, to: true },
  { is: (l) => l.status === 'unknown', one: 'letter of unknown outcome to', many: (n) => `${n} letters of unknown outcome to`, to: true },
  { is: (l) => l.status === 'failed' && !refusedBeforeSending(l), one: 'letter failed to', many: (n) => `${n} letters failed to`, to: true },
  { is: refusedBeforeSending, one: `letter ${REFUSED_BEFORE_SENDING}`, many: (n) => `${n} letters ${REFUSED_BEFORE_SENDING}`, to: false },
];

/**
 * The outcome of a run as one line of text: its letters (`letter sent to a@b`, `2 letters sent to a@b, c@d`, `letter
 * sent earlier to e@f` for one a retry replayed from its job's journal), then
 * its non-empty return values in their order (return value 1 as it is, the others as `value 2: 200`), joined by `; `.
 * Empty when the run sent no letter and returned nothing. Not escaped, not cut: the list that shows it does that.
 * `leaveOut`: a return value the list shows in a column of its own (the console's Answer: a hook run's status).
 */
export function runOutcomeText(src: RunOutcomeSource, leaveOut?: string): string {
  return runOutcomeParts(src, leaveOut).map((p) => p.text).join('');
}

/**
 * A piece of an outcome: its own words (`letter sent to `, `; `, `value 2: `) or a value from the run's data (`value`:
 * a recipient, a return value), which the console isolates so that its right-to-left letters cannot reorder the rest.
 */
export interface OutcomePart {
  text: string;
  value?: true;
}

/** runOutcomeText in pieces: joined, the pieces' texts are that line. */
export function runOutcomeParts(src: RunOutcomeSource, leaveOut?: string): OutcomePart[] {
  const parts: OutcomePart[][] = [];
  const value = (text: string): OutcomePart => ({ text, value: true });
  for (const kind of LETTER_KINDS) {
    const letters = src.letters.filter(kind.is);
    if (!letters.length) continue;
    const named = letters.length === 1 ? kind.one : kind.many(letters.length);
    if (!kind.to) {
      parts.push([{ text: named }]);
      continue;
    }
    const to = [...new Set(letters.flatMap((l) => (Array.isArray(l.to) ? l.to.map(String) : [])))];
    const who: OutcomePart[] = to.length ? to.slice(0, SHOWN_RECIPIENTS).flatMap((t, i) => (i ? [{ text: ', ' }, value(t)] : [value(t)])) : [{ text: '(nobody)' }];
    if (to.length > SHOWN_RECIPIENTS) who.push({ text: ` and ${to.length - SHOWN_RECIPIENTS} more` });
    parts.push([{ text: `${named} ` }, ...who]);
  }
  const rv = src.returnValues;
  if (rv && typeof rv === 'object' && !Array.isArray(rv)) {
    const entries = Object.entries(rv as Record<string, unknown>)
      .filter(([k, v]) => v !== null && v !== undefined && v !== '' && k !== leaveOut)
      .sort(([a], [b]) => Number(a) - Number(b) || (a < b ? -1 : a > b ? 1 : 0));
    for (const [k, v] of entries) {
      // A number as runs show prints it (15 significant digits: 0.1 + 0.2 is 0.3), not JavaScript's 0.30000000000000004.
      const text = typeof v === 'string' ? v : typeof v === 'number' ? toText(v, 'UTC') : typeof v === 'object' ? JSON.stringify(v) : String(v);
      parts.push(k === '1' ? [value(text)] : [{ text: `value ${k}: ` }, value(text)]);
    }
  }
  return parts.flatMap((p, i) => (i ? [{ text: '; ' }, ...p] : p));
}

/** The letters of a run's `mails` as the store keeps them (JSON), reduced to what the outcome reads. */
export function outcomeLetters(mails: unknown): RunOutcomeSource['letters'] {
  return Array.isArray(mails) ? mails.filter((m): m is Record<string, unknown> => m !== null && typeof m === 'object').map((m) => ({ to: m.to, status: m.status })) : [];
}
