// Webhook subscriptions as the emulator accepts them: one set of checks for the seed, the REST API and addWebhook.
import { z } from 'zod';
import { maskAddress } from '../adapters/web/redact.js';
import { HOOK_EVENTS, type HookEvent, type WebhookSubscription } from './model.js';
import type { EmulatorStore } from './store.js';
import { BadValueError, resolveCatalogId } from './values.js';

/** Where subscriptions that follow the server post when no `webhookTarget` is given: the default Oktell port. */
export const DEFAULT_SERVER_URL = 'http://127.0.0.1:4055/';

/** Catalog, record and field ids: strings (numbers accepted), as Bpium. */
export const idSchema = z.union([z.string().regex(/^[A-Za-z0-9_$-]{1,64}$/), z.number().int().nonnegative()]).transform(String);

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

export const httpUrlSchema = z.string().refine(isHttpUrl, 'expected an http:// or https:// URL');
export const eventsSchema = z.array(z.enum(HOOK_EVENTS as [HookEvent, ...HookEvent[]])).min(1);

/** The body of `POST /api/v1/-/webhooks`. */
const newSubscription = z.strictObject({
  catalogId: idSchema,
  events: eventsSchema,
  url: httpUrlSchema,
  secret: z.string().max(1000).default(''),
  trackFields: z.array(idSchema).default([]),
});

/** The body of `PATCH /api/v1/-/webhooks/:id`: any of the same properties. */
const subscriptionChange = newSubscription.partial().extend({ secret: z.string().max(1000).optional(), trackFields: z.array(idSchema).optional() });

export type NewSubscription = Pick<WebhookSubscription, 'catalogId' | 'events' | 'url' | 'secret' | 'trackFields'>;

/** First zod problem as one readable sentence, e.g. `events.0: Invalid option: expected one of …`. */
function firstProblem(error: z.ZodError): string {
  const issue = error.issues[0];
  const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
  return `${where}${issue?.message ?? 'invalid subscription'}`;
}

/** The watched catalog must exist and every tracked field must be one of its fields. */
export function checkSubscriptionTargets(store: EmulatorStore, sub: Pick<NewSubscription, 'catalogId' | 'trackFields'>): void {
  const catalog = store.catalog(sub.catalogId);
  if (!catalog) throw new BadValueError(`catalogId: no catalog "${sub.catalogId}"`);
  for (const field of sub.trackFields) {
    if (!catalog.fields.some((f) => f.id === field)) throw new BadValueError(`trackFields: catalog ${catalog.id} has no field "${field}"`);
  }
}

/** Checks a new subscription (REST body or addWebhook argument); throws BadValueError with the reason. */
export function readNewSubscription(store: EmulatorStore, body: unknown): NewSubscription {
  const parsed = newSubscription.safeParse(body);
  if (!parsed.success) throw new BadValueError(firstProblem(parsed.error));
  const sub = { ...parsed.data, catalogId: resolveCatalogId(parsed.data.catalogId) };
  checkSubscriptionTargets(store, sub);
  return sub;
}

/** Checks a change to an existing subscription against the result it would give. */
export function readSubscriptionChange(store: EmulatorStore, current: WebhookSubscription, body: unknown): Partial<NewSubscription> {
  const parsed = subscriptionChange.safeParse(body);
  if (!parsed.success) throw new BadValueError(firstProblem(parsed.error));
  const change: Partial<NewSubscription> = { ...parsed.data };
  if (change.catalogId !== undefined) change.catalogId = resolveCatalogId(change.catalogId);
  checkSubscriptionTargets(store, { catalogId: change.catalogId ?? current.catalogId, trackFields: change.trackFields ?? current.trackFields });
  return change;
}

/**
 * A subscription as the REST API shows it: no secret (only whether there is one), the URL's login:password and the
 * values of its query parameters named like secrets (`?token=`) masked by the server's rule (maskAddress: a `/` or `?`
 * left unencoded in the password is masked whole; the rest as written).
 */
export function publicSubscription(hook: WebhookSubscription): Omit<WebhookSubscription, 'secret'> & { signed: boolean } {
  const { secret, url, ...rest } = hook;
  return { ...rest, url: maskAddress(url), signed: secret !== '' };
}
