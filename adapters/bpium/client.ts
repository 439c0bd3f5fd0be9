// BpiumPort over Bpium's REST API: records, catalogs, paging, an optional users cache; HTTP details in transport.ts.
import { EffectError } from '../../engine/errors.js';
import type { BpiumCallOptions, BpiumCatalog, BpiumFindQuery, BpiumPort, BpiumRecord, LoggerPort, OutageLogPort } from '../../engine/ports.js';
import type { JsonValue } from '../../engine/values.js';
import { assertBpiumId, buildFindParams, checkPaging } from './query.js';
import { SlidingWindowLimiter } from './rate-limiter.js';
import { DEFAULT_RETRY, type RetryOptions } from './retry.js';
import { BpiumTransport, type BpiumCallRecord } from './transport.js';
import { normalizeBpiumUrl } from './url.js';

export { normalizeBpiumUrl, BpiumConfigError } from './url.js';
export { bpiumClientOptionsFromEnv } from './env.js';
export type { BpiumCallRecord } from './transport.js';

export interface BpiumClientOptions {
  /** BPIUM_URL: bare domain `company.bpium.ru`, or a full URL with scheme/port, with or without `/api/v1`. */
  url: string;
  /** BPIUM_LOGIN (the employee's e-mail) and BPIUM_PASSWORD. */
  login: string;
  password: string;
  /** Default deadline of one call in ms (all attempts and backoff waits); a call's `opts.timeoutMs` wins. */
  timeoutMs?: number;
  /** Bytes of one answer at most (default 16 MiB): a larger one is BPIUM_TOO_LARGE, not the server's memory. */
  maxResponseBytes?: number;
  /** Retries on 429, 5xx and network errors, with jittered exponential backoff; Retry-After wins when present. */
  retry?: RetryOptions;
  /** Client-side limiter; default 100 requests per 30 000 ms (Bpium cloud); `false` turns it off. */
  rateLimit?: { requests: number; perMs: number } | false;
  /** Short-lived cache of reads from the users catalog ("3", "$users"); default off. */
  usersCache?: { catalogIds: string[]; ttlMs: number } | false;
  /** Page size and safety cap for `findRecords` without a limit; default 500 and 5000 records. */
  paging?: { pageSize: number; maxRecords: number };
  logger?: LoggerPort;
  /** Told of Bpium answering again after an outage (transport.ts). */
  outages?: OutageLogPort;
  /** Called after each HTTP attempt. */
  onCall?: (call: BpiumCallRecord) => void;
}

export interface BpiumClientStats {
  /** Times a request waited for the client-side rate limiter. */
  limiterWaits: number;
  cacheHits: number;
  /** Answers held in the users cache now (at most `USERS_CACHE_ENTRIES`). */
  cacheEntries: number;
}

export type BpiumClient = BpiumPort & { close(): void; stats(): BpiumClientStats; readonly baseUrl: string };

const DEFAULT_TIMEOUT_MS = 10_000;
/** A page of 500 records with long texts stays far below it; a runaway answer (a wrong URL, a broken proxy) does not. */
export const DEFAULT_BPIUM_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
const DEFAULT_PAGING = { pageSize: 500, maxRecords: 5000 };
/** Answers the users cache holds at most. */
export const USERS_CACHE_ENTRIES = 500;

function invalidResponse(what: string): EffectError {
  return new EffectError('permanent', `Bpium answered with an unexpected shape for ${what}`, {
    code: 'BPIUM_INVALID_RESPONSE',
  });
}

/**
 * A create Bpium answered 2xx without the new record's id (an empty body, JSON without `id`): it took the POST, so the
 * record was most likely made, but under an id the run does not know. Of unknown outcome, not refused: the block's
 * `timeout` exit, else the run fails R_EFFECT_UNKNOWN and no later attempt or plain replay makes a second record.
 */
function noNewRecordId(catalogId: string, status: number, body: JsonValue | undefined): EffectError {
  const what = body === undefined ? 'an empty body' : 'no record id';
  return new EffectError('unknown', `Bpium answered the new record in catalog ${catalogId} with ${what} (HTTP ${status}): the record may have been created, but its id is not known; it is not created again: look for it in Bpium before replaying the job`, {
    code: 'BPIUM_NO_RECORD_ID',
  });
}

function isObject(value: JsonValue | undefined): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks a record-shaped answer and coerces its id to a string (ids sometimes arrive as numbers). */
function toRecord(value: JsonValue | undefined, what: string): BpiumRecord {
  if (!isObject(value) || (typeof value.id !== 'string' && typeof value.id !== 'number')) throw invalidResponse(what);
  const values = isObject(value.values) ? value.values : {};
  return { ...value, id: String(value.id), values } as BpiumRecord;
}

/**
 * Creates a Bpium REST client.
 * @example
 * const bpium = createBpiumClient({ url: 'company.bpium.ru', login: 'api@company.ru', password: '…' });
 * const user = await bpium.getRecord('3', '7', { fields: ['2'] }); // user.values['2'] is the e-mail
 */
export function createBpiumClient(opts: BpiumClientOptions): BpiumClient {
  const baseUrl = normalizeBpiumUrl(opts.url);
  const rate = opts.rateLimit === undefined ? { requests: 100, perMs: 30_000 } : opts.rateLimit;
  const limiter = rate === false ? undefined : new SlidingWindowLimiter(rate);
  const transport = new BpiumTransport({
    baseUrl,
    login: opts.login,
    password: opts.password,
    timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    maxResponseBytes: opts.maxResponseBytes ?? DEFAULT_BPIUM_MAX_RESPONSE_BYTES,
    retry: opts.retry ?? DEFAULT_RETRY,
    limiter,
    logger: opts.logger,
    ...(opts.outages ? { outages: opts.outages } : {}),
    onCall: opts.onCall,
  });
  const paging = opts.paging ?? DEFAULT_PAGING;
  const cacheConfig = opts.usersCache || undefined;
  const cache = new Map<string, { expires: number; body: JsonValue | undefined }>();
  let cacheHits = 0;

  const cached = (catalogId: string) => cacheConfig !== undefined && cacheConfig.catalogIds.includes(catalogId);

  async function get(catalogId: string, path: string, callOpts?: BpiumCallOptions): Promise<JsonValue | undefined> {
    if (cached(catalogId)) {
      const hit = cache.get(path);
      if (hit && hit.expires > Date.now()) {
        cacheHits++;
        return structuredClone(hit.body);
      }
    }
    const res = await transport.call({ method: 'GET', path, ...callOptions(callOpts), retryMode: 'always' });
    if (cacheConfig && cached(catalogId)) {
      const now = Date.now();
      // Newest last, so the first entries are the oldest; when full, the expired go first, then the oldest.
      cache.delete(path);
      if (cache.size >= USERS_CACHE_ENTRIES) for (const [key, entry] of cache) if (entry.expires <= now) cache.delete(key);
      while (cache.size >= USERS_CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
      cache.set(path, { expires: now + cacheConfig.ttlMs, body: structuredClone(res.body) });
    }
    return res.body;
  }

  /** A write to a cached catalog empties the whole cache ("3" and "$users" are the same catalog under two keys). */
  function invalidate(catalogId: string): void {
    if (cached(catalogId)) cache.clear();
  }

  /** Catalogs a 404 was checked against and found: a later 404 under them is about the record (bounded, as the cache). */
  const knownCatalogs = new Set<string>();
  const rememberCatalog = (catalogId: string) => {
    if (knownCatalogs.size >= USERS_CACHE_ENTRIES) knownCatalogs.clear();
    knownCatalogs.add(catalogId);
  };

  /** The error for a catalog Bpium does not have (or does not show the API's user): a setting, not "no such record". */
  function unknownCatalog(catalogId: string, cause: unknown): EffectError {
    const hint = /^(\d+|\$\w+)$/.test(catalogId) ? '' : ' (a catalog is given by its id, the number in its address in Bpium, not by its name)';
    return new EffectError('permanent', `Bpium has no catalog ${JSON.stringify(catalogId)}${hint}; a setting: the scenario's catalog must be the id of a catalog the user of BPIUM_LOGIN may read`, {
      code: 'BPIUM_UNKNOWN_CATALOG',
      status: 404,
      attempts: cause instanceof EffectError ? cause.details.attempts : undefined,
      setting: true,
      cause,
    });
  }

  /**
   * Runs a call under a catalog; its 404 is checked once against the catalog itself (GET /catalogs/{id}): a catalog
   * that is not there makes every call under it fail alike (a catalog's name or a v2 id on a v1 tenant), which the
   * 404 of a missing record must not hide.
   */
  async function underCatalog<T>(catalogId: string, call: () => Promise<T>, callOpts?: BpiumCallOptions): Promise<T> {
    const started = Date.now();
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof EffectError) || err.details.code !== 'BPIUM_NOT_FOUND' || knownCatalogs.has(catalogId)) throw err;
      // The check is part of the call: it gets what is left of the call's deadline, and its attempts are numbered on
      // from the call's in the trace (a block's `timeout` bounds both).
      const left = (callOpts?.timeoutMs ?? opts.timeoutMs ?? DEFAULT_TIMEOUT_MS) - (Date.now() - started);
      if (left <= 0) throw err;
      const before = typeof err.details.attempts === 'number' ? err.details.attempts : 0;
      const onAttempt = callOpts?.onAttempt;
      try {
        await transport.call({
          method: 'GET',
          path: `/catalogs/${encodeURIComponent(catalogId)}`,
          timeoutMs: left,
          ...(onAttempt ? { onAttempt: (a: Parameters<typeof onAttempt>[0]) => onAttempt({ ...a, attempt: before + a.attempt }) } : {}),
          retryMode: 'always',
        });
      } catch (check) {
        if (check instanceof EffectError && check.details.code === 'BPIUM_NOT_FOUND') throw unknownCatalog(catalogId, err);
        throw err; // the check could not tell: the call's own answer stands
      }
      rememberCatalog(catalogId);
      throw err;
    }
  }

  const recordsPath = (catalogId: string) => `/catalogs/${encodeURIComponent(assertBpiumId('catalog', catalogId))}/records`;
  const recordPath = (catalogId: string, recordId: string) =>
    `${recordsPath(catalogId)}/${encodeURIComponent(assertBpiumId('record', recordId))}`;

  async function findPage(query: BpiumFindQuery, limit: number, offset: number, callOpts?: BpiumCallOptions): Promise<BpiumRecord[]> {
    const path = `${recordsPath(query.catalogId)}?${buildFindParams(query, { limit, offset }).toString()}`;
    const body = await get(query.catalogId, path, callOpts);
    if (!Array.isArray(body)) throw invalidResponse(`records of catalog ${query.catalogId}`);
    return body.map((item) => toRecord(item, `records of catalog ${query.catalogId}`));
  }

  async function findAll(query: BpiumFindQuery, callOpts?: BpiumCallOptions): Promise<BpiumRecord[]> {
    checkPaging(query);
    buildFindParams(query, { limit: 1, offset: 0 }); // validates ids before the first request
    if (query.limit !== undefined) return findPage(query, query.limit, query.offset ?? 0, callOpts);
    const all: BpiumRecord[] = [];
    let offset = query.offset ?? 0;
    // A server may give fewer records per page than asked (its own maximum limit; Bpium documents none), so the
    // first short page is not taken for the end: the next page is asked for, and if it brings records the short
    // page's size is that server's page. A page shorter than that, or an empty one, ends the list.
    let serverPage: number | undefined;
    // A server that ignores `offset` gives the same page again: a page that brings no record not read already ends the
    // list (else it would be paged up to the record cap, each page a request counted against the rate limit). A page
    // that repeats only some (a record added to the catalog while it was paged shifts the next page by one) is read
    // on: its repeats are dropped, and the list goes on, with the offset counted in the server's records.
    const seen = new Set<string>();
    for (;;) {
      const got = await findPage(query, paging.pageSize, offset, callOpts);
      const page = got.filter((r) => !seen.has(r.id));
      for (const r of page) seen.add(r.id);
      all.push(...page);
      if (got.length === 0) return all;
      if (page.length === 0) {
        opts.logger?.warn({ catalogId: query.catalogId, offset }, 'bpium findRecords: a page repeated records already read (the server ignores offset?); the list ends there');
        return all.slice(0, paging.maxRecords);
      }
      if (got.length < paging.pageSize) {
        if (serverPage !== undefined && got.length < serverPage) return all;
        serverPage ??= got.length;
      }
      if (all.length >= paging.maxRecords) {
        opts.logger?.warn(
          { catalogId: query.catalogId, maxRecords: paging.maxRecords },
          'bpium findRecords stopped at the record cap; pass a limit or narrower filters',
        );
        return all.slice(0, paging.maxRecords);
      }
      offset += got.length;
    }
  }

  return {
    baseUrl,

    // Each id is checked (white space around it dropped: assertBpiumId) as the call begins, and the checked id is the
    // one used from then on: the catalog check after a 404, the users cache and its clearing on a write, the messages.
    async findRecords(rawQuery, callOpts) {
      const query = { ...rawQuery, catalogId: assertBpiumId('catalog', rawQuery.catalogId) };
      return underCatalog(query.catalogId, () => findAll(query, callOpts), callOpts);
    },

    async getRecord(rawCatalog, rawRecord, callOpts) {
      const catalogId = assertBpiumId('catalog', rawCatalog);
      const recordId = assertBpiumId('record', rawRecord);
      let path = recordPath(catalogId, recordId);
      if (callOpts?.fields) {
        const fields = callOpts.fields.map((f) => assertBpiumId('field', f));
        path += `?${new URLSearchParams({ fields: JSON.stringify(fields) }).toString()}`;
      }
      return toRecord(await underCatalog(catalogId, () => get(catalogId, path, callOpts), callOpts), `record ${catalogId}/${recordId}`);
    },

    async getCatalog(rawCatalog, callOpts) {
      const catalogId = assertBpiumId('catalog', rawCatalog);
      const path = `/catalogs/${encodeURIComponent(catalogId)}`;
      let res;
      try {
        res = await transport.call({ method: 'GET', path, ...callOptions(callOpts), retryMode: 'always' });
      } catch (err) {
        throw err instanceof EffectError && err.details.code === 'BPIUM_NOT_FOUND' ? unknownCatalog(catalogId, err) : err;
      }
      const body = res.body;
      if (!isObject(body) || !Array.isArray(body.fields)) throw invalidResponse(`catalog ${catalogId}`);
      rememberCatalog(catalogId);
      return { ...body, id: String(body.id ?? catalogId) } as BpiumCatalog;
    },

    async createRecord(rawCatalog, values, callOpts) {
      const catalogId = assertBpiumId('catalog', rawCatalog);
      const path = recordsPath(catalogId);
      const res = await underCatalog(catalogId, () => transport.call({ method: 'POST', path, body: { values }, ...callOptions(callOpts), retryMode: 'not-processed' }), callOpts);
      invalidate(catalogId);
      const body = res.body;
      if (!isObject(body) || (typeof body.id !== 'string' && typeof body.id !== 'number')) throw noNewRecordId(catalogId, res.status, body);
      return { id: String(body.id) };
    },

    async updateRecord(rawCatalog, rawRecord, values, callOpts) {
      const catalogId = assertBpiumId('catalog', rawCatalog);
      const recordId = assertBpiumId('record', rawRecord);
      const path = recordPath(catalogId, recordId);
      const res = await underCatalog(catalogId, () => transport.call({ method: 'PATCH', path, body: { values }, ...callOptions(callOpts), retryMode: 'always' }), callOpts);
      invalidate(catalogId);
      // Docs promise only "200 OK"; the vendor client says the record comes back. Use it when it does.
      return isObject(res.body) && res.body.id !== undefined ? toRecord(res.body, 'the updated record') : null;
    },

    async deleteRecord(rawCatalog, rawRecord, callOpts) {
      const catalogId = assertBpiumId('catalog', rawCatalog);
      const recordId = assertBpiumId('record', rawRecord);
      const path = recordPath(catalogId, recordId);
      try {
        await underCatalog(catalogId, () => transport.call({ method: 'DELETE', path, ...callOptions(callOpts), retryMode: 'always', notFoundAfterRetryOk: true }), callOpts);
      } finally {
        invalidate(catalogId);
      }
    },

    close() {
      transport.close();
      cache.clear();
    },

    stats() {
      return { limiterWaits: limiter?.waits ?? 0, cacheHits, cacheEntries: cache.size };
    },
  };
}

/** The per-call options a transport call takes from a port call's options. */
function callOptions(o: BpiumCallOptions | undefined): { timeoutMs?: number; onAttempt?: BpiumCallOptions['onAttempt'] } {
  return { ...(o?.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}), ...(o?.onAttempt ? { onAttempt: o.onAttempt } : {}) };
}
