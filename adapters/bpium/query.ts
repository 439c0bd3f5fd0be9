// Serialises a BpiumFindQuery into the query string of Bpium's records list (GET …/records): both filter forms,
// sort, fields; see docs/bpium.md, "The client".
import type { JsonValue } from '../../engine/values.js';
import type { BpiumFindQuery } from '../../engine/ports.js';
import { EffectError } from '../../engine/errors.js';

/** Ids that may go into a URL path or a query parameter: opaque, short, no separators. */
const ID_PATTERN = /^[A-Za-z0-9_$-]{1,64}$/;

/**
 * Throws a permanent `BPIUM_INVALID_ID` EffectError unless `id` is a safe Bpium id (before any request is sent). White
 * space around it (a value parsed out of text with its line end, say) is dropped first: no id has any, and what is
 * left is checked as strictly.
 */
export function assertBpiumId(what: string, raw: unknown): string {
  if (typeof raw === 'number' && Number.isInteger(raw) && raw >= 0) return String(raw);
  const id = typeof raw === 'string' ? raw.trim() : raw;
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    const shown = typeof id === 'string' ? JSON.stringify(id.slice(0, 80)) : typeof id;
    // A catalog's name (Задачи) where its id belongs is the likely mistake: the API takes ids only.
    const hint = what === 'catalog' && typeof id === 'string' && /\p{L}/u.test(id) ? `; a catalog is given by its id (the number in its address in Bpium, e.g. "11", or "$users"), not by its name` : '';
    throw new EffectError('permanent', `invalid Bpium ${what} id ${shown}: expected 1-64 of A-Z a-z 0-9 _ $ -${hint}`, {
      code: 'BPIUM_INVALID_ID',
      attempts: 0,
    });
  }
  return id;
}

/**
 * Appends `value` under `prefix` the way `qs.stringify` does by default: `a[0][b]=1`, nested objects as `a[k]`,
 * `null` as an empty value, empty arrays and objects as nothing.
 */
export function appendBracketParams(params: URLSearchParams, prefix: string, value: JsonValue): void {
  if (value === null) {
    params.append(prefix, '');
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => appendBracketParams(params, `${prefix}[${i}]`, item));
  } else if (typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) appendBracketParams(params, `${prefix}[${key}]`, item);
  } else {
    params.append(prefix, String(value));
  }
}

function invalidQuery(message: string): EffectError {
  return new EffectError('permanent', message, { code: 'BPIUM_INVALID_QUERY', attempts: 0 });
}

/** Builds the query string of one page of `GET /catalogs/{id}/records`. `limit`/`offset` are the page's own. */
export function buildFindParams(query: BpiumFindQuery, page: { limit: number; offset: number }): URLSearchParams {
  const params = new URLSearchParams();
  const { filters } = query;
  if (Array.isArray(filters)) {
    filters.forEach((filter, i) => {
      const fieldId = assertBpiumId('field', filter.fieldId);
      params.append(`filters[${i}][fieldId]`, fieldId);
      // Without a value, appendBracketParams would write the text "undefined" and Bpium would search for it.
      if (filter.value === undefined) throw invalidQuery(`filters[${i}] (field ${fieldId}) has no value: each array-form filter is {"fieldId": …, "value": …}`);
      appendBracketParams(params, `filters[${i}][value]`, filter.value);
    });
  } else if (filters !== undefined && filters !== null) {
    if (typeof filters !== 'object') throw invalidQuery('filters must be an array of {fieldId, value} or an object');
    params.set('filters', JSON.stringify(filters));
  }
  if (query.searchText !== undefined && query.searchText !== '') params.set('searchText', query.searchText);
  if (query.sortField !== undefined) params.set('sortField', assertBpiumId('field', query.sortField));
  if (query.sortType !== undefined) {
    if (query.sortType !== 1 && query.sortType !== -1) throw invalidQuery('sortType must be 1 or -1');
    params.set('sortType', String(query.sortType));
  }
  if (query.fields !== undefined) {
    params.set('fields', JSON.stringify(query.fields.map((f) => assertBpiumId('field', f))));
  }
  if (query.viewId !== undefined) params.set('viewId', assertBpiumId('view', query.viewId));
  params.set('limit', String(page.limit));
  params.set('offset', String(page.offset));
  return params;
}

/** Checks the caller's limit/offset: whole numbers, limit >= 1, offset >= 0. */
export function checkPaging(query: BpiumFindQuery): void {
  if (query.limit !== undefined && (!Number.isInteger(query.limit) || query.limit < 1)) {
    throw invalidQuery(`limit must be a whole number >= 1, got ${String(query.limit)}`);
  }
  if (query.offset !== undefined && (!Number.isInteger(query.offset) || query.offset < 0)) {
    throw invalidQuery(`offset must be a whole number >= 0, got ${String(query.offset)}`);
  }
}
