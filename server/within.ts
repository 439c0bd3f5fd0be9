// A bound on a wait: for a stop that must end even when what it waits for (a store behind a network partition) never answers.
import { valueWithin } from '../adapters/within.js';

/**
 * Whether `p` settled within `ms`: true once it resolves, false when the time ran out first; a rejection before then is
 * passed on, one after it is ignored.
 */
export async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  return (await valueWithin(p, ms)) !== undefined;
}

/**
 * How long after the grace period a stop waits for the scenarios' connections (their databases, mail, Bpium) and the
 * embedded emulator to close: one of the scenarios' databases that does not answer (behind a network partition) is
 * left, its connections ending with the process, so that the store's last steps still come.
 */
export const CONNECTIONS_AFTER_GRACE_MS = 1000;

/**
 * The warning of a stop about closes left unfinished (`undone`: what, never with a password), e.g.
 * `not closed cleanly: the database connection(s) "crm" (postgres://oktell@db:5432/crm) did not finish closing …`.
 */
export function notClosedText(undone: readonly string[]): string {
  const them = undone.length > 1 ? 'them' : 'it';
  return `not closed cleanly: ${undone.join(' and ')} did not finish closing within ${CONNECTIONS_AFTER_GRACE_MS / 1000} s after the grace period; the stop went on without waiting for ${them} (${them === 'it' ? 'its' : 'their'} connections end with the process); nothing acknowledged is lost by this`;
}

/** What of the scenarios' connections a close left unfinished: the database connections named, or the ports as a whole. */
export function unclosedPorts(databases: readonly string[]): string {
  return databases.length ? `the database connection(s) ${databases.join(', ')}` : "the scenarios' connections";
}
