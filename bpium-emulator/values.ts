// Field values of the emulator: checks writes per field type, renders reads (user titles, object links), titles.
import type { JsonValue } from '../engine/values.js';
import type { CatalogDef, FieldDef, JsonObject, StoredRecord } from './model.js';

/** A write that Bpium would refuse with 400; the message says which field and why. */
export class BadValueError extends Error {
  override name = 'BadValueError';
}

export const USERS_CATALOG = '3';

/** Accepts the v2 text ids of system catalogs as aliases, as Bpium 2.0 does. */
export function resolveCatalogId(id: string): string {
  return id === '$users' ? USERS_CATALOG : id;
}

/** Reads what the renderer needs from other records: catalogs and records by id; numbers newly attached files. */
export interface ValueLookup {
  catalog(id: string): CatalogDef | undefined;
  record(catalogId: string, id: string): StoredRecord | undefined;
  /** The id of a file attached now (writes only). */
  newFileId(): string;
}

/** The values a stars or progress field takes: Bpium documents 0–5 and 0–100. */
const RANGES: Record<string, [number, number]> = { stars: [0, 5], progress: [0, 100] };

const ARRAY_TYPES = new Set(['dropdown', 'checkboxes', 'user', 'object', 'contact', 'file']);

function isObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function configOf(field: FieldDef): JsonObject {
  return isObject(field.config) ? field.config : {};
}

function idOf(v: JsonValue | undefined): string | undefined {
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

/** The empty value of a field type: `[]` for list-like types, `null` otherwise. */
export function emptyValue(field: FieldDef): JsonValue {
  return ARRAY_TYPES.has(field.type) ? [] : null;
}

export function isFilled(value: JsonValue | undefined): boolean {
  return !(value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0));
}

function checkOne(field: FieldDef, raw: JsonValue, lookup: ValueLookup, previous: JsonValue | undefined): JsonValue {
  const bad = (why: string) => new BadValueError(`field "${field.id}" (${field.name}, ${field.type}): ${why}`);
  if (raw === null) return emptyValue(field);
  const multiselect = configOf(field).multiselect !== false;
  switch (field.type) {
    case 'group':
      throw bad('a section has no value');
    case 'text':
      if (typeof raw !== 'string') throw bad('expected a string');
      return raw;
    case 'number': case 'progress': case 'stars': {
      const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
      if (typeof n !== 'number' || !Number.isFinite(n)) throw bad('expected a number');
      const range = RANGES[field.type];
      if (range && (n < range[0] || n > range[1])) throw bad(`expected a number from ${range[0]} to ${range[1]}`);
      return n;
    }
    case 'date': {
      if (typeof raw !== 'string' || Number.isNaN(Date.parse(raw))) throw bad('expected an ISO date string');
      return new Date(raw).toISOString();
    }
    case 'dropdown': case 'checkboxes': case 'radiobutton': {
      const list = Array.isArray(raw) ? raw : [raw];
      const ids = list.map((item) => {
        const id = idOf(item);
        if (id === undefined) throw bad('expected item ids');
        return id;
      });
      const items = configOf(field).items;
      if (Array.isArray(items)) {
        const known = new Set(items.map((it) => (isObject(it) ? idOf(it.id) : undefined)));
        for (const id of ids) if (!known.has(id)) throw bad(`unknown item "${id}"`);
      }
      if (field.type === 'radiobutton') {
        if (ids.length > 1) throw bad('only one item can be chosen');
        return ids[0] ?? null;
      }
      return ids;
    }
    case 'user': {
      if (!Array.isArray(raw)) throw bad('expected an array like [{"id":"1"}]');
      const users = raw.map((item) => {
        const id = isObject(item) ? idOf(item.id) : undefined;
        if (id === undefined) throw bad('each entry needs an "id"');
        if (!lookup.record(USERS_CATALOG, id)) throw bad(`no employee with id "${id}"`);
        return { id };
      });
      if (!multiselect && users.length > 1) throw bad('only one employee can be chosen');
      return users;
    }
    case 'object': {
      if (!Array.isArray(raw)) throw bad('expected an array like [{"catalogId":"5","recordId":"35"}]');
      const links = raw.map((item) => {
        const catalogId = isObject(item) ? idOf(item.catalogId) : undefined;
        const recordId = isObject(item) ? idOf(item.recordId) : undefined;
        if (catalogId === undefined || recordId === undefined) throw bad('each entry needs "catalogId" and "recordId"');
        if (!lookup.record(resolveCatalogId(catalogId), recordId)) throw bad(`no record ${catalogId}/${recordId}`);
        return { catalogId: resolveCatalogId(catalogId), recordId };
      });
      if (!multiselect && links.length > 1) throw bad('only one record can be linked');
      return links;
    }
    case 'contact': {
      if (!Array.isArray(raw)) throw bad('expected an array like [{"contact":"…","comment":"…"}]');
      return raw.map((item) => {
        if (!isObject(item) || typeof item.contact !== 'string') throw bad('each entry needs a "contact" string');
        return { contact: item.contact, comment: typeof item.comment === 'string' ? item.comment : '' };
      });
    }
    case 'file':
      return checkFiles(raw, previous, lookup, bad);
    default:
      return raw; // address and newer types are kept as given
  }
}

/**
 * A file field's write: `{src, title, mimeType, size}` attaches an external file (it gets a new id, and `src` becomes
 * its `url`), `{id}` keeps a file the field already has; files left out are detached. Stored in read form.
 */
function checkFiles(raw: JsonValue, previous: JsonValue | undefined, lookup: ValueLookup, bad: (why: string) => BadValueError): JsonValue {
  if (!Array.isArray(raw)) throw bad('expected an array like [{"src":"https://…","title":"…"}] or [{"id":"5"}]');
  const kept = Array.isArray(previous) ? previous.filter(isObject) : [];
  return raw.map((item): JsonValue => {
    if (!isObject(item)) throw bad('each entry needs "src" (a file to attach) or "id" (a file the field has)');
    if (item.src !== undefined) {
      const url = typeof item.src === 'string' ? parsedUrl(item.src) : undefined;
      if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw bad('"src" must be an http(s) URL');
      const size = typeof item.size === 'string' && item.size.trim() !== '' ? Number(item.size) : item.size ?? 0;
      if (typeof size !== 'number' || !Number.isFinite(size) || size < 0) throw bad('"size" must be a number of bytes');
      const title = typeof item.title === 'string' && item.title !== '' ? item.title : lastPathSegment(url);
      return { id: lookup.newFileId(), title, url: item.src as string, size, mimeType: typeof item.mimeType === 'string' ? item.mimeType : '', metadata: null };
    }
    const id = idOf(item.id);
    const same = kept.find((f) => idOf(f.id) === id);
    if (id === undefined || !same) throw bad(`no file with id ${JSON.stringify(id ?? item.id ?? null)} in this field (attach a new one with "src")`);
    return same;
  });
}

function parsedUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** The file name a URL ends with, decoded when it can be. */
function lastPathSegment(url: URL): string {
  const segment = url.pathname.split('/').pop() ?? '';
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment; // malformed percent-encoding: the name as written
  }
}

/**
 * Checks a `values` object of a POST/PATCH against the catalog; returns the stored form or throws BadValueError.
 * `previous` is the record's stored values before a PATCH (the files a file field may keep).
 */
export function checkWrite(catalog: CatalogDef, values: unknown, lookup: ValueLookup, previous: JsonObject = {}): JsonObject {
  if (!isObject(values as JsonValue)) throw new BadValueError('the body must be {"values": {"<fieldId>": value, …}}');
  const out: JsonObject = {};
  for (const [fieldId, raw] of Object.entries(values as JsonObject)) {
    const field = catalog.fields.find((f) => f.id === fieldId);
    if (!field) throw new BadValueError(`catalog ${catalog.id} has no field "${fieldId}"`);
    out[fieldId] = checkOne(field, raw, lookup, previous[fieldId]);
  }
  return out;
}

/**
 * A field definition as `GET /catalogs/{id}` shows it: Bpium documents the keys id, name, type, hint, required,
 * apiOnly, history, filterable, comment, config, visible. Keys the seed leaves out get neutral defaults (our choice:
 * the values of a plain optional field); keys the seed gives win.
 */
export function publicField(field: FieldDef): FieldDef {
  const { id, name, type, ...given } = field;
  return { id, name, type, hint: '', required: false, apiOnly: false, history: true, filterable: true, comment: '', config: {}, visible: true, ...given };
}

/** The record's title: the first text field's value (our choice; Bpium's rule is not documented). */
export function recordTitle(catalog: CatalogDef, record: StoredRecord): string {
  const field = catalog.fields.find((f) => f.type === 'text');
  const value = field ? record.values[field.id] : undefined;
  return typeof value === 'string' ? value : '';
}

/** One value in read form: users get titles, object links get catalog and record details. */
function renderOne(field: FieldDef, stored: JsonValue, lookup: ValueLookup): JsonValue {
  if (field.type === 'user' && Array.isArray(stored)) {
    const users = lookup.catalog(USERS_CATALOG);
    return stored.map((entry) => {
      const id = isObject(entry) ? idOf(entry.id) ?? '' : '';
      const user = lookup.record(USERS_CATALOG, id);
      // isRemoved as the vendor client and the scenario docs show it: true once the employee's record is gone.
      return { id, title: users && user ? recordTitle(users, user) : '', isRemoved: user === undefined };
    });
  }
  if (field.type === 'file' && Array.isArray(stored)) {
    // Stored in read form; a database written before files got ids holds the write form: shown with src as url.
    return stored.filter(isObject).map((f) => ({
      id: idOf(f.id) ?? '',
      title: typeof f.title === 'string' ? f.title : '',
      url: typeof f.url === 'string' ? f.url : typeof f.src === 'string' ? f.src : '',
      size: f.size ?? 0,
      mimeType: typeof f.mimeType === 'string' ? f.mimeType : '',
      metadata: f.metadata ?? null,
    }));
  }
  if (field.type === 'object' && Array.isArray(stored)) {
    return stored.map((entry) => {
      const catalogId = isObject(entry) ? idOf(entry.catalogId) ?? '' : '';
      const recordId = isObject(entry) ? idOf(entry.recordId) ?? '' : '';
      const catalog = lookup.catalog(catalogId);
      const record = lookup.record(catalogId, recordId);
      return {
        sectionId: catalog?.sectionId ?? '',
        catalogId,
        catalogTitle: catalog?.name ?? '',
        catalogIcon: catalog?.icon ?? '',
        recordId,
        recordTitle: catalog && record ? recordTitle(catalog, record) : '',
        isRemoved: record === undefined,
      };
    });
  }
  return stored;
}

/**
 * All non-section fields in read form (empty ones as `null`/`[]`), optionally only `only`.
 * `filledOnly` drops empty ones (webhook `values` of record.created).
 */
export function renderValues(
  catalog: CatalogDef,
  record: StoredRecord,
  lookup: ValueLookup,
  opts: { only?: string[]; filledOnly?: boolean } = {},
): JsonObject {
  const out: JsonObject = {};
  for (const field of catalog.fields) {
    if (field.type === 'group') continue;
    if (opts.only && !opts.only.includes(field.id)) continue;
    const stored = record.values[field.id];
    if (opts.filledOnly && !isFilled(stored)) continue;
    out[field.id] = stored === undefined ? emptyValue(field) : renderOne(field, stored, lookup);
  }
  return out;
}
