// Shapes shared inside the Bpium emulator: catalogs, stored records, webhook subscriptions, deliveries, faults.
import type { JsonValue } from '../engine/values.js';

export type JsonObject = { [key: string]: JsonValue };

/** A field definition as `GET /catalogs/{id}` returns it. */
export interface FieldDef {
  id: string;
  name: string;
  type: string;
  config?: JsonValue;
  [extra: string]: JsonValue | undefined;
}

export interface CatalogDef {
  id: string;
  sectionId: string;
  name: string;
  icon: string;
  fields: FieldDef[];
}

/** A record as stored: write forms (`user` → `[{id}]`, `object` → `[{catalogId, recordId}]`); a file with its id and url. */
export interface StoredRecord {
  catalogId: string;
  id: string;
  values: JsonObject;
}

export type HookEvent = 'record.created' | 'record.updated' | 'record.deleted';
export const HOOK_EVENTS: readonly HookEvent[] = ['record.created', 'record.updated', 'record.deleted'];

export interface WebhookSubscription {
  id: string;
  catalogId: string;
  events: HookEvent[];
  /** May carry `user:password@`, sent as a Basic Authorization header. */
  url: string;
  secret: string;
  /** Field ids whose change fires `record.updated`; empty = any field. */
  trackFields: string[];
  /** How many times the hook has fired (the last `sequenceId` sent). */
  sequenceId: number;
  /**
   * Follows the Oktell server: a seed subscription written as a path (`/Bpium/NewTask`). At every start the server's
   * address, credentials and secret (`webhookTarget`) replace those of `url`; the path stays.
   */
  fromSeed: boolean;
}

/** What happened to one webhook POST. Exactly one of `status` / `error` is set. */
export interface WebhookDelivery {
  id: number;
  hookId: string;
  event: HookEvent;
  sequenceId: number;
  catalogId: string;
  recordId: string;
  /** Target URL without credentials. */
  url: string;
  status?: number;
  error?: string;
  /** The server's X-Oktell-Duplicate-Of: it took the webhook as a repeat of that earlier delivery (its inbox id) and ran nothing. */
  duplicateOf?: string;
  ms: number;
  at: string;
}

/**
 * Test aid: makes the next matching requests misbehave. A fault with `status` answers that status instead of
 * handling the request (with `Retry-After` when given); `delayMs` holds the answer back first.
 */
export interface BpiumFault {
  status?: number;
  /** How many matching requests it applies to; default 1. */
  times?: number;
  retryAfter?: string;
  delayMs?: number;
  /** Only requests with this method and/or whose path starts with this prefix (e.g. `/api/v1/catalogs/11`). */
  method?: string;
  pathPrefix?: string;
}

/** One request the emulator answered, for tests that check how a client talks to it. */
export interface EmulatorRequest {
  method: string;
  path: string;
  auth: 'basic' | 'cookie' | 'none';
  status: number;
}
