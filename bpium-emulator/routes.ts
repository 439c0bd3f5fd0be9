// HTTP surface of the Bpium emulator (express 5): catalogs, records CRUD with webhooks, users, profile, login.
import express, { type NextFunction, type Request, type Response } from 'express';
import type { JsonValue } from '../engine/values.js';
import type { LoggerPort } from '../engine/ports.js';
import { SESSION_COOKIE, type EmulatorAuth } from './auth.js';
import { resourceMethods } from './methods.js';
import { listRecords, parseNestedQuery } from './filters.js';
import type { BpiumFault, CatalogDef, EmulatorRequest, JsonObject, StoredRecord, WebhookSubscription } from './model.js';
import type { EmulatorStore } from './store.js';
import { publicSubscription, readNewSubscription, readSubscriptionChange } from './subscriptions.js';
import { BadValueError, checkWrite, publicField, recordTitle, renderValues, resolveCatalogId, USERS_CATALOG, type ValueLookup } from './values.js';
import type { WebhookDispatcher } from './webhooks.js';

export interface EmulatorContext {
  store: EmulatorStore;
  auth: EmulatorAuth;
  hooks: WebhookDispatcher;
  faults: BpiumFault[];
  requestLog: EmulatorRequest[];
  rateLimit: { requests: number; perMs: number } | false;
  logger?: LoggerPort;
}

const REQUEST_LOG_LIMIT = 1000;

function fail(res: Response, status: number, message: string): void {
  res.status(status).json({ message });
}

/** The employee behind the API login: the users-catalog record with that e-mail (else the first one). */
function currentUser(ctx: EmulatorContext): { id: string; email: string; title: string } {
  const users = ctx.store.catalog(USERS_CATALOG);
  const records = ctx.store.records(USERS_CATALOG);
  const mine = records.find((r) => String(r.values['2'] ?? '').toLowerCase() === ctx.auth.login.toLowerCase()) ?? records[0];
  if (!users || !mine) return { id: '1', email: ctx.auth.login, title: ctx.auth.login };
  return { id: mine.id, email: ctx.auth.login, title: recordTitle(users, mine) };
}

/** Emulator-only request header: the employee a write is attributed to (webhook `user.id`); default the API account. */
export const AUTHOR_HEADER = 'X-Emulator-User-Id';

/** The author of a write: the employee named by the author header, else the API account; 400 for an unknown one. */
function authorOf(ctx: EmulatorContext, req: Request): string {
  const named = req.get(AUTHOR_HEADER);
  if (named === undefined) return currentUser(ctx).id;
  const id = named.trim();
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id) || !ctx.store.record(USERS_CATALOG, id)) {
    throw new BadValueError(`${AUTHOR_HEADER}: no employee with id ${JSON.stringify(id.slice(0, 64))} in catalog ${USERS_CATALOG}`);
  }
  return id;
}

function lookupOf(store: EmulatorStore): ValueLookup {
  return { catalog: (id) => store.catalog(resolveCatalogId(id)), record: (c, r) => store.record(resolveCatalogId(c), r), newFileId: () => store.nextFileId() };
}

function recordJson(catalog: CatalogDef, record: StoredRecord, lookup: ValueLookup, only?: string[]): JsonObject {
  return { id: record.id, catalogId: catalog.id, title: recordTitle(catalog, record), values: renderValues(catalog, record, lookup, { only }) };
}

/** Reads `fields=["2","3"]` (numbers or `{fieldId}` entries allowed); undefined when absent. */
function readFieldList(raw: JsonValue | undefined): string[] | undefined {
  if (raw === undefined || raw === '') return undefined;
  let parsed: JsonValue;
  try {
    parsed = typeof raw === 'string' ? (JSON.parse(raw) as JsonValue) : raw;
  } catch {
    throw new BadValueError('fields must be a JSON array such as ["2","3"]');
  }
  if (!Array.isArray(parsed)) throw new BadValueError('fields must be a JSON array such as ["2","3"]');
  return parsed.map((f) => String(typeof f === 'object' && f !== null && !Array.isArray(f) ? f.fieldId : f));
}

function wholeNumber(raw: JsonValue | undefined, name: string, fallback: number, min: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (typeof raw !== 'string' || !Number.isInteger(n) || n < min) throw new BadValueError(`${name} must be a whole number >= ${min}`);
  return n;
}

/** Builds the express app. Control endpoints for tests and the demo live under `/api/v1/-/`. */
/**
 * A create whose body names an empty id (`{"id": "", "values": …}`, an id made from a variable that was empty) is
 * refused (400), instead of creating a record the client did not mean: no record has an empty id, and the client
 * likely meant to change one. Another id in the body is ignored, as before: the new record gets the next id.
 */
function refuseEmptyId(body: unknown): void {
  if (!body || typeof body !== 'object' || !('id' in body)) return;
  const id = (body as { id: unknown }).id;
  if ((typeof id === 'string' && id.trim() === '') || id === null) {
    throw new BadValueError(`"id" is ${JSON.stringify(id)}: a record id cannot be empty; a new record gets its id from Bpium, so leave "id" out of the body, or, to change a record, PATCH /api/v1/catalogs/<catalog id>/records/<record id>`);
  }
}

export function createEmulatorApp(ctx: EmulatorContext): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', false); // records lists parse brackets themselves (filters[0][value][at]=…)
  const stamps = new Map<string, number[]>();
  const lookup = lookupOf(ctx.store);

  app.use((req, res, next) => {
    res.locals.auth = 'none';
    res.on('finish', () => {
      ctx.requestLog.push({ method: req.method, path: req.originalUrl, auth: res.locals.auth as EmulatorRequest['auth'], status: res.statusCode });
      if (ctx.requestLog.length > REQUEST_LOG_LIMIT) ctx.requestLog.shift();
    });
    next();
  });

  // Test aid: injected faults answer before anything else (as a proxy in front of Bpium would).
  app.use(async (req, res, next) => {
    if (req.path.startsWith('/api/v1/-/')) return next();
    const fault = ctx.faults.find((f) => (!f.method || f.method.toUpperCase() === req.method) && (!f.pathPrefix || req.path.startsWith(f.pathPrefix)));
    if (!fault) return next();
    fault.times = (fault.times ?? 1) - 1;
    if (fault.times <= 0) ctx.faults.splice(ctx.faults.indexOf(fault), 1);
    if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
    if (fault.status === undefined) return next();
    if (fault.retryAfter !== undefined) res.set('Retry-After', fault.retryAfter);
    fail(res, fault.status, `injected fault ${fault.status}`);
  });

  app.use(express.json({ limit: '1mb' }));

  app.post('/auth/login', (req, res) => {
    const body = (req.body ?? {}) as { email?: unknown; password?: unknown };
    if (typeof body.email !== 'string' || typeof body.password !== 'string' || !ctx.auth.checkCredentials(body.email, body.password)) {
      return fail(res, 401, 'wrong e-mail or password');
    }
    res.cookie(SESSION_COOKIE, ctx.auth.newSession(), { httpOnly: true, path: '/' });
    res.json(currentUser(ctx));
  });

  app.use('/api/v1', (req, res, next) => {
    const outcome = ctx.auth.authenticate({ authorization: req.get('authorization'), cookie: req.get('cookie') });
    if (!outcome.ok) {
      res.locals.auth = outcome.via;
      return fail(res, 401, 'authentication required'); // no WWW-Authenticate, as Bpium
    }
    res.locals.auth = outcome.via;
    if (outcome.newSession) res.cookie(SESSION_COOKIE, outcome.newSession, { httpOnly: true, path: '/' });
    if (ctx.rateLimit) {
      const now = Date.now();
      const window = (stamps.get(outcome.login) ?? []).filter((t) => t > now - (ctx.rateLimit as { perMs: number }).perMs);
      if (window.length >= ctx.rateLimit.requests) {
        stamps.set(outcome.login, window);
        return fail(res, 429, 'Too Many Requests');
      }
      window.push(now);
      stamps.set(outcome.login, window);
    }
    next();
  });

  const catalogOr404 = (req: Request, res: Response): CatalogDef | undefined => {
    const catalog = ctx.store.catalog(resolveCatalogId(String(req.params.catalogId)));
    if (!catalog) fail(res, 404, `catalog ${String(req.params.catalogId)} not found`);
    return catalog;
  };
  const recordOr404 = (catalog: CatalogDef, req: Request, res: Response): StoredRecord | undefined => {
    const record = ctx.store.record(catalog.id, String(req.params.recordId));
    if (!record) fail(res, 404, `record ${String(req.params.recordId)} not found in catalog ${catalog.id}`);
    return record;
  };
  const query = (req: Request) => parseNestedQuery(req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?') + 1) : '');

  app.get('/api/v1/catalogs', (req, res) => {
    const sectionId = query(req).sectionId;
    res.json(ctx.store.catalogs()
      .filter((c) => sectionId === undefined || c.sectionId === sectionId)
      .map((c) => ({ id: c.id, sectionId: c.sectionId, icon: c.icon, name: c.name, privilegeCode: 'edit', fieldPrivilegeCodes: {} })));
  });

  app.get('/api/v1/catalogs/:catalogId', (req, res) => {
    const catalog = catalogOr404(req, res);
    if (catalog) res.json({ id: catalog.id, sectionId: catalog.sectionId, icon: catalog.icon, name: catalog.name, privilegeCode: 'edit', fieldPrivilegeCodes: {}, fields: catalog.fields.map(publicField) });
  });

  app.get('/api/v1/catalogs/:catalogId/records', (req, res) => {
    const catalog = catalogOr404(req, res);
    if (!catalog) return;
    const q = query(req);
    const limit = wholeNumber(q.limit, 'limit', 100, 1);
    const offset = wholeNumber(q.offset, 'offset', 0, 0);
    const only = readFieldList(q.fields);
    const ids = q.id === undefined ? undefined : (Array.isArray(q.id) ? q.id : [q.id]).map(String);
    // viewId is accepted and ignored: the emulator has no views.
    const named = ctx.store.records(catalog.id).filter((r) => ids === undefined || ids.includes(r.id));
    const sorted = listRecords(catalog, named, q, { currentUserId: currentUser(ctx).id });
    res.json(sorted.slice(offset, offset + limit).map((r) => recordJson(catalog, r, lookup, only)));
  });

  app.get('/api/v1/catalogs/:catalogId/records/:recordId', (req, res) => {
    const catalog = catalogOr404(req, res);
    const record = catalog && recordOr404(catalog, req, res);
    if (catalog && record) res.json({ ...recordJson(catalog, record, lookup, readFieldList(query(req).fields)), privilegeCode: 'edit' });
  });

  app.post('/api/v1/catalogs/:catalogId/records', (req, res) => {
    const catalog = catalogOr404(req, res);
    if (!catalog) return;
    const userId = authorOf(ctx, req);
    refuseEmptyId(req.body);
    const values = checkWrite(catalog, (req.body as { values?: unknown } | undefined)?.values, lookup);
    const id = ctx.store.insertRecord(catalog.id, values);
    const record = ctx.store.record(catalog.id, id) as StoredRecord;
    res.json({ id });
    ctx.hooks.emit({ event: 'record.created', catalogId: catalog.id, recordId: id, values: renderValues(catalog, record, lookup, { filledOnly: true }), userId });
  });

  app.patch('/api/v1/catalogs/:catalogId/records/:recordId', (req, res) => {
    const catalog = catalogOr404(req, res);
    const before = catalog && recordOr404(catalog, req, res);
    if (!catalog || !before) return;
    const userId = authorOf(ctx, req);
    const changes = checkWrite(catalog, (req.body as { values?: unknown } | undefined)?.values, lookup, before.values);
    const prevValues = renderValues(catalog, before, lookup);
    const after: StoredRecord = { ...before, values: { ...before.values, ...changes } };
    ctx.store.updateRecord(catalog.id, before.id, after.values);
    const afterValues = renderValues(catalog, after, lookup);
    const changed = Object.keys(changes).filter((f) => JSON.stringify(afterValues[f]) !== JSON.stringify(prevValues[f]));
    res.json(recordJson(catalog, after, lookup));
    if (changed.length > 0) {
      const values: JsonObject = Object.fromEntries(changed.map((f) => [f, afterValues[f] as JsonValue]));
      ctx.hooks.emit({ event: 'record.updated', catalogId: catalog.id, recordId: before.id, values, prevValues, changedFields: changed, userId });
    }
  });

  app.delete('/api/v1/catalogs/:catalogId/records/:recordId', (req, res) => {
    const catalog = catalogOr404(req, res);
    const record = catalog && recordOr404(catalog, req, res);
    if (!catalog || !record) return;
    const userId = authorOf(ctx, req);
    const values = renderValues(catalog, record, lookup);
    ctx.store.deleteRecord(catalog.id, record.id);
    res.status(200).end();
    ctx.hooks.emit({ event: 'record.deleted', catalogId: catalog.id, recordId: record.id, values, userId });
  });

  app.get('/api/v1/users', (_req, res) => {
    const users = ctx.store.catalog(USERS_CATALOG);
    res.json(users ? ctx.store.records(USERS_CATALOG).map((r) => ({ id: r.id, title: recordTitle(users, r) })) : []);
  });

  app.get('/api/v1/profile/me', (_req, res) => {
    res.json({ ...currentUser(ctx), subjects: [] });
  });

  app.get('/api/v1/-/deliveries', (req, res) => {
    const q = query(req);
    const pick = (v: JsonValue | undefined) => (typeof v === 'string' ? v : undefined);
    res.json(ctx.store.deliveries({ recordId: pick(q.recordId), catalogId: pick(q.catalogId), hookId: pick(q.hookId) }));
  });

  // Subscriptions: Bpium keeps them as records of its `$webhooks` catalog, whose field ids are undocumented, so the
  // emulator manages them under its own prefix instead.
  const hookOr404 = (req: Request, res: Response): WebhookSubscription | undefined => {
    const hook = ctx.store.hooks().find((h) => h.id === String(req.params.hookId));
    if (!hook) fail(res, 404, `webhook ${String(req.params.hookId)} not found`);
    return hook;
  };

  app.get('/api/v1/-/webhooks', (_req, res) => {
    res.json(ctx.store.hooks().map(publicSubscription));
  });

  app.post('/api/v1/-/webhooks', (req, res) => {
    const id = ctx.store.insertHook({ ...readNewSubscription(ctx.store, req.body), fromSeed: false });
    res.json({ id });
  });

  app.get('/api/v1/-/webhooks/:hookId', (req, res) => {
    const hook = hookOr404(req, res);
    if (hook) res.json(publicSubscription(hook));
  });

  app.patch('/api/v1/-/webhooks/:hookId', (req, res) => {
    const hook = hookOr404(req, res);
    if (!hook) return;
    ctx.store.updateHook(hook.id, readSubscriptionChange(ctx.store, hook, req.body));
    res.json(publicSubscription(ctx.store.hooks().find((h) => h.id === hook.id) as WebhookSubscription));
  });

  app.delete('/api/v1/-/webhooks/:hookId', (req, res) => {
    const hook = hookOr404(req, res);
    if (hook && ctx.store.deleteHook(hook.id)) res.status(200).end();
  });

  app.use('/api/v1', resourceMethods(fail)); // 405 with Allow, or 501, for a resource Bpium has
  app.use((_req: Request, res: Response) => fail(res, 404, 'no such resource'));

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof BadValueError) return fail(res, 400, err.message);
    const status = (err as { status?: number; statusCode?: number }).status ?? (err as { statusCode?: number }).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) return fail(res, status, (err as Error).message);
    ctx.logger?.error({ err }, 'bpium emulator: unexpected error');
    fail(res, 500, 'internal error');
  });

  return app;
}
