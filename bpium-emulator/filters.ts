// Records-list queries of the emulator: bracket query parsing, both filter forms, search and sort.
import type { JsonValue } from '../engine/values.js';
import type { CatalogDef, FieldDef, JsonObject, StoredRecord } from './model.js';
import { BadValueError, isFilled, resolveCatalogId } from './values.js';

type Nested = { [key: string]: Nested | string | string[] };
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_DEPTH = 6;
const MAX_INDEX = 1000;

/** Turns objects whose keys are exactly 0..n-1 into arrays, recursively. */
function arrayify(node: Nested | string | string[]): JsonValue {
  if (typeof node === 'string') return node;
  if (Array.isArray(node)) return node;
  const keys = Object.keys(node);
  const converted: JsonObject = {};
  for (const key of keys) converted[key] = arrayify(node[key] as Nested);
  const isList = keys.length > 0 && keys.every((k, i) => k === String(i));
  return isList ? keys.map((k) => converted[k] as JsonValue) : converted;
}

/**
 * Parses a query string like `qs.parse`: `filters[0][value][at]=…` → nested values; repeated plain keys → arrays.
 * Depth, indices and dangerous keys are bounded. Throws BadValueError for malformed keys.
 */
export function parseNestedQuery(search: string): JsonObject {
  const root: Nested = Object.create(null) as Nested;
  for (const [key, value] of new URLSearchParams(search)) {
    const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(key);
    if (!match) throw new BadValueError(`malformed query parameter ${JSON.stringify(key)}`);
    const path = [match[1] as string, ...[...(match[2] ?? '').matchAll(/\[([^[\]]*)\]/g)].map((m) => m[1] as string)];
    if (path.length > MAX_DEPTH || path.some((p) => FORBIDDEN_KEYS.has(p))) {
      throw new BadValueError(`query parameter ${JSON.stringify(key)} is too deep or not allowed`);
    }
    let node = root;
    path.forEach((part, i) => {
      const last = i === path.length - 1;
      let name = part;
      if (name === '') name = String(Object.keys(node).length);
      if (/^\d+$/.test(name) && Number(name) > MAX_INDEX) throw new BadValueError(`index in ${JSON.stringify(key)} is too large`);
      const existing = node[name];
      if (last) {
        if (existing === undefined) node[name] = value;
        else if (typeof existing === 'string') node[name] = [existing, value];
        else if (Array.isArray(existing)) existing.push(value);
        else throw new BadValueError(`query parameter ${JSON.stringify(key)} mixes a value and an object`);
        return;
      }
      if (existing === undefined) node[name] = Object.create(null) as Nested;
      else if (typeof existing === 'string' || Array.isArray(existing)) {
        throw new BadValueError(`query parameter ${JSON.stringify(key)} mixes a value and an object`);
      }
      node = node[name] as Nested;
    });
  }
  return arrayify(root) as JsonObject;
}

export interface FilterContext {
  currentUserId: string;
  /**
   * The field of an id the catalog does not list, for a catalog whose structure is not known (a catalog of the fake
   * Bpium's fixture given without `fields:`, adapters/fixtures): without it, such an id is refused with 400 as the
   * emulator refuses it (its catalogs always list their fields).
   */
  unlistedField?: (fieldId: string) => FieldDef;
}

type Predicate = (record: StoredRecord) => boolean;

function asList(value: JsonValue): JsonValue[] {
  return Array.isArray(value) ? value : [value];
}

function idText(v: JsonValue | undefined): string | undefined {
  return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
}

function isObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function rangeMatch(cond: JsonObject, value: number | undefined, parse: (v: JsonValue) => number): boolean {
  if (value === undefined) return false;
  if (cond.at !== undefined && cond.at !== '' && value < parse(cond.at)) return false;
  if (cond.to !== undefined && cond.to !== '' && value > parse(cond.to)) return false;
  return true;
}

/** Does the stored value of `field` satisfy the condition `cond` (one field's filter value)? */
function fieldMatches(field: FieldDef, cond: JsonValue, stored: JsonValue | undefined, ctx: FilterContext): boolean {
  if (isObject(cond) && Array.isArray(cond.$or)) return cond.$or.some((c) => fieldMatches(field, c, stored, ctx));
  if (isObject(cond) && Array.isArray(cond.$and)) return cond.$and.every((c) => fieldMatches(field, c, stored, ctx));
  const bad = (why: string) => new BadValueError(`filter on field "${field.id}" (${field.type}): ${why}`);
  switch (field.type) {
    case 'text': case 'contact': {
      const needle = idText(cond as JsonValue)?.toLowerCase();
      if (needle === undefined) throw bad('expected a text to search for');
      const haystacks = field.type === 'text'
        ? [typeof stored === 'string' ? stored : '']
        : (Array.isArray(stored) ? stored : []).map((c) => (isObject(c) && typeof c.contact === 'string' ? c.contact : ''));
      return haystacks.some((h) => h.toLowerCase().includes(needle));
    }
    case 'number': case 'progress': case 'stars': case 'date': {
      const isDate = field.type === 'date';
      const parse = (v: JsonValue) => {
        const n = isDate ? Date.parse(String(v)) : Number(v);
        if (Number.isNaN(n)) throw bad(`cannot read ${JSON.stringify(v)}`);
        return n;
      };
      const current = stored === null || stored === undefined ? undefined : isDate ? Date.parse(String(stored)) : Number(stored);
      if (cond === 'NULL_DATE' || (Array.isArray(cond) && cond.includes('NULL_DATE'))) return current === undefined;
      if (isObject(cond)) return rangeMatch(cond, current, parse);
      if (field.type === 'stars' && Array.isArray(cond)) return current !== undefined && cond.some((c) => parse(c) === current);
      return current !== undefined && current === parse(cond);
    }
    case 'dropdown': case 'checkboxes': case 'radiobutton': {
      const wanted = asList(cond).map(idText);
      const have = asList(stored ?? []).map(idText);
      return have.some((id) => id !== undefined && wanted.includes(id));
    }
    case 'user': {
      const wanted = asList(cond).map((c) => (c === 'CURRENT_USER' ? ctx.currentUserId : idText(isObject(c) ? c.id : c)));
      const have = (Array.isArray(stored) ? stored : []).map((u) => (isObject(u) ? idText(u.id) : undefined));
      return have.some((id) => id !== undefined && wanted.includes(id));
    }
    case 'object': {
      const wanted = asList(cond).map((c) => {
        if (!isObject(c) || idText(c.catalogId) === undefined || idText(c.recordId) === undefined) {
          throw bad('expected [{catalogId, recordId}] (nested filters on linked records are not emulated)');
        }
        return `${resolveCatalogId(idText(c.catalogId) as string)}/${idText(c.recordId)}`;
      });
      const have = (Array.isArray(stored) ? stored : []).map((l) => (isObject(l) ? `${idText(l.catalogId)}/${idText(l.recordId)}` : ''));
      return have.some((key) => wanted.includes(key));
    }
    default:
      return JSON.stringify(stored ?? null) === JSON.stringify(cond);
  }
}

function fieldPredicate(catalog: CatalogDef, fieldId: string, cond: JsonValue, ctx: FilterContext): Predicate {
  const field = catalog.fields.find((f) => f.id === fieldId) ?? ctx.unlistedField?.(fieldId);
  if (!field || field.type === 'group') throw new BadValueError(`filter on unknown field "${fieldId}"`);
  return (record) => fieldMatches(field, cond, record.values[field.id], ctx);
}

/** JSON form: `{ "<fieldId>": cond, "$or": [ {...}, ... ], "$and": [ ... ] }`, nested freely. */
function objectPredicate(catalog: CatalogDef, spec: JsonValue, ctx: FilterContext): Predicate {
  if (!isObject(spec)) throw new BadValueError('filters in JSON form must be an object');
  const parts: Predicate[] = Object.entries(spec).map(([key, cond]) => {
    if (key === '$or' || key === '$and') {
      if (!Array.isArray(cond)) throw new BadValueError(`${key} needs an array of conditions`);
      const subs = cond.map((c) => objectPredicate(catalog, c, ctx));
      return key === '$or' ? (r) => subs.some((p) => p(r)) : (r) => subs.every((p) => p(r));
    }
    return fieldPredicate(catalog, key, cond, ctx);
  });
  return (record) => parts.every((p) => p(record));
}

/**
 * Compiles the `filters` query value in either form into a predicate. The array form arrives already parsed from
 * brackets (`[{fieldId, value}]`); the JSON form arrives as a string. Throws BadValueError (→ 400) when unreadable.
 */
export function compileFilters(catalog: CatalogDef, raw: JsonValue | undefined, ctx: FilterContext): Predicate {
  if (raw === undefined || raw === '') return () => true;
  if (typeof raw === 'string') {
    let parsed: JsonValue;
    try {
      parsed = JSON.parse(raw) as JsonValue;
    } catch {
      throw new BadValueError('filters is neither bracket parameters nor valid JSON');
    }
    if (Array.isArray(parsed)) return compileFilters(catalog, parsed, ctx);
    return objectPredicate(catalog, parsed, ctx);
  }
  if (Array.isArray(raw)) {
    const parts = raw.map((item) => {
      const fieldId = isObject(item) ? idText(item.fieldId) : undefined;
      if (!isObject(item) || fieldId === undefined || item.value === undefined) {
        throw new BadValueError('each filter needs fieldId and value');
      }
      return fieldPredicate(catalog, fieldId, item.value, ctx);
    });
    return (record) => parts.every((p) => p(record));
  }
  return objectPredicate(catalog, raw, ctx);
}

/** Quick search: a case-insensitive substring of any text or contact field. */
export function searchPredicate(catalog: CatalogDef, text: string): Predicate {
  const needle = text.toLowerCase();
  const fields = catalog.fields.filter((f) => f.type === 'text' || f.type === 'contact');
  return (record) =>
    fields.some((f) => {
      const v = record.values[f.id];
      if (typeof v === 'string') return v.toLowerCase().includes(needle);
      return Array.isArray(v) && v.some((c) => isObject(c) && typeof c.contact === 'string' && c.contact.toLowerCase().includes(needle));
    });
}

/** A sort key for one stored value: numbers and dates as numbers, lists by their first entry, text as text. */
function sortKey(field: FieldDef, value: JsonValue | undefined): number | string | undefined {
  if (!isFilled(value)) return undefined;
  if (field.type === 'date') return Date.parse(String(value));
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return value.toLowerCase();
  if (Array.isArray(value)) {
    const first = value[0];
    return isObject(first) ? idText(first.id ?? first.recordId ?? first.contact) : idText(first);
  }
  return JSON.stringify(value);
}

/** Sorts by a field (empty values last), or by numeric id when no field is given. `sortType` -1 reverses. */
export function sortRecords(
  catalog: CatalogDef,
  records: StoredRecord[],
  sortField: string | undefined,
  sortType: 1 | -1,
  unlistedField?: FilterContext['unlistedField'],
): StoredRecord[] {
  const byId = (a: StoredRecord, b: StoredRecord) => Number(a.id) - Number(b.id) || a.id.localeCompare(b.id);
  if (sortField === undefined) return [...records].sort((a, b) => sortType * byId(a, b));
  const field = catalog.fields.find((f) => f.id === sortField) ?? unlistedField?.(sortField);
  if (!field) throw new BadValueError(`sortField "${sortField}" is not a field of catalog ${catalog.id}`);
  return [...records].sort((a, b) => {
    const ka = sortKey(field, a.values[field.id]);
    const kb = sortKey(field, b.values[field.id]);
    if (ka === undefined || kb === undefined) return ka === kb ? byId(a, b) : ka === undefined ? 1 : -1;
    const cmp = typeof ka === 'number' && typeof kb === 'number' ? ka - kb : String(ka).localeCompare(String(kb), 'ru');
    return cmp === 0 ? byId(a, b) : sortType * cmp;
  });
}

/**
 * The records of a records-list query `q` (its parameters as parseNestedQuery reads them) that match its `filters`
 * and `searchText`, in the order of its `sortField`/`sortType`; paging (`limit`, `offset`) is the caller's. The
 * emulator's `GET /catalogs/:id/records` and the fake Bpium of scenario tests and dry runs (which reads the query the
 * real client builds, adapters/fixtures) both select records with it. Throws BadValueError (→ 400) when unreadable.
 */
export function listRecords(catalog: CatalogDef, records: StoredRecord[], q: JsonObject, ctx: FilterContext): StoredRecord[] {
  const matches = compileFilters(catalog, q.filters, ctx);
  const search = typeof q.searchText === 'string' && q.searchText !== '' ? searchPredicate(catalog, q.searchText) : () => true;
  const sortType = q.sortType === undefined ? 1 : Number(q.sortType) === -1 ? -1 : 1;
  const sortField = typeof q.sortField === 'string' && q.sortField !== '' ? q.sortField : undefined;
  return sortRecords(catalog, records.filter((r) => matches(r) && search(r)), sortField, sortType, ctx.unlistedField);
}
