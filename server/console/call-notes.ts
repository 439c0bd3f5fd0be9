// The short note beside a web request's or a Bpium call's outcome, shared by the console and the CLI so both say the
// same. "Not sent" / "not performed" only where that is known: a call that was made and answered with an error was
// performed, and one that got no answer may still have reached the service.
import type { BpiumCallRecord, HttpCallRecord } from '../../engine/index.js';
import { WRITES } from '../../components/bpium.block.js';

/**
 * `not sent, fixture` (a fixture gave the answer or the failure), `not sent` (a dry run, refused before any attempt, or
 * no connection to the host came free for any attempt), `no answer`, or '' (answered, or taken from the journal).
 */
export function httpCallNote(c: Pick<HttpCallRecord, 'performed' | 'outcome' | 'attempts' | 'fixture' | 'notSent'>): string {
  if (c.fixture) return 'not sent, fixture';
  if (c.performed || c.outcome === 'replayed') return '';
  return c.outcome === 'dry-run' || !c.attempts || c.notSent ? 'not sent' : 'no answer';
}

/**
 * `not sent, fixture` (a fake Bpium gave the answer or the failure), `not performed` (a write a dry run skipped, a
 * call refused before it was sent), `no effect` (a write Bpium refused with a 4xx), `not sent` (no connection to Bpium
 * came free for any attempt: its message says so), `no answer`, or '' (made and
 * answered: a read that found nothing, or answered with a web page, was still performed; or taken from the job's
 * journal by a retry, status `replayed`).
 */
export function bpiumCallNote(c: Pick<BpiumCallRecord, 'performed' | 'status' | 'method' | 'httpStatus' | 'attempts' | 'fixture' | 'notSent'>): string {
  if (c.fixture) return 'not sent, fixture';
  if (c.performed || c.status === 'replayed') return '';
  if (c.status === 'dry-run') return 'not performed';
  if (c.notSent) return 'not sent';
  if (typeof c.httpStatus === 'number') return WRITES.has(c.method) && c.httpStatus >= 400 && c.httpStatus < 500 ? 'no effect' : '';
  if (c.status === 'timeout' || c.status === 'transient') return 'no answer';
  // Sent and answered with something that is not an API answer (a web page, one past the size cap): made all the same.
  return c.attempts ? '' : 'not performed';
}
