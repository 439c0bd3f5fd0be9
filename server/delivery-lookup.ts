// A webhook found by the key of its delivery, as its sender's delivery log and the server's request log line name it
// (Bpium's `bpium:<hook id>:<sequenceId>@<route>`, a Standard Webhooks sender's `webhook:<webhook-id>@<route>`): for
// `oktell-emu show <key>` and the console's Find box.
import { onRoute } from './hook-request.js';
import { standardDeliveryKey } from './standard-webhooks.js';
import type { InboxEntry, Store } from './store/store.port.js';

/** A delivery key as asked for: the beginning of the keys it stands for, and how much of a key may follow that. */
export interface DeliveryAsked {
  /** As typed. */
  asked: string;
  prefix: string;
  /** A login was given: the key must be exactly the prefix. */
  whole: boolean;
  /** A route was given without a login: the key may go on only with one (`#<login>`). */
  withRoute: boolean;
}

/**
 * A delivery key as `show` and the console take it: Bpium's `bpium:<hook id>:<sequenceId>`, with `@<route>` and
 * `#<login>` as the request log line names them, or without (every route's entry of the delivery), or a Standard
 * Webhooks sender's `webhook:<webhook-id>` (standardKeyAsked). The sequenceId is read as the server keys it (leading
 * zeros dropped), and a long route as its hash. Undefined for any other text.
 */
export function deliveryKeyAsked(text: string): DeliveryAsked | undefined {
  const m = /^bpium:([\w$-]{1,64}):(\d{1,64})(?:@(.*))?$/s.exec(text.trim());
  if (!m) return standardKeyAsked(text.trim());
  const delivery = `bpium:${m[1]}:${m[2]!.replace(/^0+(?=\d)/, '')}@`;
  const rest = m[3] ?? '';
  if (rest === '') return { asked: text.trim(), prefix: delivery, whole: false, withRoute: false };
  const at = rest.indexOf('#');
  const key = onRoute(delivery, at < 0 ? rest : rest.slice(0, at));
  return at < 0 ? { asked: text.trim(), prefix: key, whole: false, withRoute: true } : { asked: text.trim(), prefix: `${key}${rest.slice(at)}`, whole: true, withRoute: true };
}

/**
 * A Standard Webhooks delivery key (`webhook:<webhook-id>`, with `@<route>` or without): the id as the sender's log
 * names it, or as the server's request log line does (URI-encoded there; decoded first, so either form finds it). Such
 * a route always has a secret, so its keys name no sender.
 */
function standardKeyAsked(asked: string): DeliveryAsked | undefined {
  const m = /^webhook:([^@\s]{1,4096})(?:@(.+))?$/s.exec(asked);
  if (!m) return undefined;
  let id = m[1]!;
  try {
    id = decodeURIComponent(id);
  } catch {
    // a % that starts no escape: the id as typed
  }
  if (m[2] === undefined) return { asked, prefix: standardDeliveryKey(id, ''), whole: false, withRoute: false };
  return { asked, prefix: standardDeliveryKey(id, m[2]), whole: true, withRoute: true };
}

/**
 * The original inbox entries of an asked delivery, oldest first, at most `limit` (`more` when there are others), read
 * through the index of original keys. A duplicate (a resend answered from its original) is counted in its original's
 * `duplicates`. A delivery refused or failed without starting a job keeps no key (its resend runs again): not found here.
 */
export async function findDeliveries(store: Store, asked: DeliveryAsked, limit: number): Promise<{ entries: InboxEntry[]; more: boolean }> {
  const rows = (await store.deliveriesByKeyPrefix(asked.prefix, limit + 1)).filter((r) => {
    const rest = r.dedupKey.slice(asked.prefix.length);
    return asked.whole ? rest === '' : !asked.withRoute || rest === '' || rest.startsWith('#');
  });
  const entries = await Promise.all(rows.slice(0, limit).map((r) => store.getInboxEntry(r.id)));
  return { entries: entries.filter((e) => e !== undefined), more: rows.length > limit };
}

/** Why an asked delivery may be missing, and where it is found then: said by `show` and the console. */
export function deliveryNotFoundWhy(asked: DeliveryAsked): string {
  return `only a delivery the server acknowledged (2xx) or that started jobs keeps its key; one refused or failed without starting a job does not (its resend runs again). The server's request log line names the key of every webhook and its run: grep the log for delivery=${asked.prefix}`;
}
