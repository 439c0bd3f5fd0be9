// The client's pure parts: BPIUM_URL normalisation, options from the environment, Retry-After, query serialisation.
import { test } from 'node:test';
import type { JsonValue } from '../../engine/values.js';
import assert from 'node:assert/strict';
import { BpiumConfigError, bpiumClientOptionsFromEnv, normalizeBpiumUrl } from '../../adapters/bpium/client.js';
import { buildFindParams } from '../../adapters/bpium/query.js';
import { backoffDelay, parseRetryAfter } from '../../adapters/bpium/retry.js';
import { parseNestedQuery } from '../../bpium-emulator/filters.js';

test('a bare domain becomes an https API base', () => {
  assert.equal(normalizeBpiumUrl('company.bpium.ru'), 'https://company.bpium.ru/api/v1');
  assert.equal(normalizeBpiumUrl('  company.bpium.ru/ '), 'https://company.bpium.ru/api/v1');
});

test('a full URL keeps its scheme and port and gains /api/v1 once', () => {
  assert.equal(normalizeBpiumUrl('http://127.0.0.1:4056'), 'http://127.0.0.1:4056/api/v1');
  assert.equal(normalizeBpiumUrl('http://127.0.0.1:4056/api/v1/'), 'http://127.0.0.1:4056/api/v1');
  assert.equal(normalizeBpiumUrl('https://bpium.example.org/crm'), 'https://bpium.example.org/crm/api/v1');
  assert.equal(normalizeBpiumUrl('HTTPS://Company.Bpium.RU/API/V1'), 'https://company.bpium.ru/API/V1');
});

test('addresses with credentials, a query, another scheme or nothing at all are refused', () => {
  for (const bad of ['', 'https://user:pw@company.bpium.ru', 'https://company.bpium.ru/?a=1', 'ftp://company.bpium.ru', 'http://']) {
    assert.throws(() => normalizeBpiumUrl(bad), BpiumConfigError, bad);
  }
});

test('without BPIUM_URL there is no Bpium configuration', () => {
  assert.equal(bpiumClientOptionsFromEnv({}), undefined);
});

test('options come from BPIUM_* variables, with tuning knobs parsed', () => {
  const opts = bpiumClientOptionsFromEnv({
    BPIUM_URL: 'company.bpium.ru',
    BPIUM_LOGIN: 'api@example.com',
    BPIUM_PASSWORD: 'pw',
    BPIUM_TIMEOUT_MS: '2500',
    BPIUM_RETRY_ATTEMPTS: '5',
    BPIUM_RATE_LIMIT: '10/1000',
    BPIUM_USERS_CACHE_TTL_MS: '30000',
  });
  assert.deepEqual(opts, {
    url: 'company.bpium.ru',
    login: 'api@example.com',
    password: 'pw',
    timeoutMs: 2500,
    retry: { attempts: 5, baseDelayMs: 250, maxDelayMs: 4000 },
    rateLimit: { requests: 10, perMs: 1000 },
    usersCache: { catalogIds: ['3', '$users'], ttlMs: 30000 },
  });
  assert.equal(bpiumClientOptionsFromEnv({ BPIUM_URL: 'x.bpium.ru', BPIUM_LOGIN: 'a@b.c', BPIUM_PASSWORD: 'p', BPIUM_RATE_LIMIT: 'off' })?.rateLimit, false);
});

test('BPIUM_URL without a login or password is a configuration error', () => {
  assert.throws(() => bpiumClientOptionsFromEnv({ BPIUM_URL: 'company.bpium.ru' }), BpiumConfigError);
  assert.throws(() => bpiumClientOptionsFromEnv({ BPIUM_URL: 'x.bpium.ru', BPIUM_LOGIN: 'a', BPIUM_PASSWORD: 'p', BPIUM_RATE_LIMIT: 'lots' }), BpiumConfigError);
});

test('Retry-After is read as seconds or as an HTTP date', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('2', now), 2000);
  assert.equal(parseRetryAfter('0', now), 0);
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:03 GMT', now), 3000);
  assert.equal(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', now), 0);
  assert.equal(parseRetryAfter('soon', now), undefined);
  assert.equal(parseRetryAfter('-1', now), undefined);
  assert.equal(parseRetryAfter(null, now), undefined);
});

test('backoff grows exponentially, is capped, and keeps at least half of its step', () => {
  const retry = { attempts: 5, baseDelayMs: 100, maxDelayMs: 300 };
  assert.equal(backoffDelay(1, retry, () => 0), 50);
  assert.equal(backoffDelay(1, retry, () => 1), 100);
  assert.equal(backoffDelay(2, retry, () => 1), 200);
  assert.equal(backoffDelay(5, retry, () => 1), 300);
});

test('array-form filters are sent as bracket parameters the emulator reads back to the same structure', () => {
  const filters = [
    { fieldId: '4', value: { at: '2015-10-27T00:00:00+03:00', to: '2015-11-19T23:59:59+03:00' } },
    { fieldId: '15', value: [{ catalogId: '18', recordId: '9' }] },
    { fieldId: '14', value: [21, 22, 'CURRENT_USER'] },
  ];
  const params = buildFindParams({ catalogId: '11', filters, searchText: 'отчёт', sortField: '2', sortType: -1, fields: ['2', '4'] }, { limit: 50, offset: 100 });
  assert.equal(params.get('filters[0][fieldId]'), '4');
  assert.equal(params.get('filters[0][value][at]'), '2015-10-27T00:00:00+03:00');
  assert.equal(params.get('filters[1][value][0][recordId]'), '9');
  assert.equal(params.get('fields'), '["2","4"]');
  assert.deepEqual(parseNestedQuery(params.toString()), {
    filters: [
      { fieldId: '4', value: { at: '2015-10-27T00:00:00+03:00', to: '2015-11-19T23:59:59+03:00' } },
      { fieldId: '15', value: [{ catalogId: '18', recordId: '9' }] },
      { fieldId: '14', value: ['21', '22', 'CURRENT_USER'] },
    ],
    searchText: 'отчёт',
    sortField: '2',
    sortType: '-1',
    fields: '["2","4"]',
    limit: '50',
    offset: '100',
  });
});

test('JSON-form filters are sent as one JSON parameter', () => {
  const filters: Record<string, JsonValue> = { $or: [{ '2': 'отчёт' }, { '4': ['3'] }] };
  const params = buildFindParams({ catalogId: '11', filters }, { limit: 10, offset: 0 });
  assert.deepEqual(JSON.parse(params.get('filters') ?? ''), filters);
});

test('repeated query keys become lists and prototype keys are refused', () => {
  assert.deepEqual(parseNestedQuery('id=1&id=2'), { id: ['1', '2'] });
  assert.throws(() => parseNestedQuery('filters[__proto__][x]=1'));
});

test('BPIUM_MAX_RESPONSE_BYTES sets the cap on one answer; a word is refused naming it', () => {
  assert.equal(bpiumClientOptionsFromEnv({ BPIUM_URL: 'x.bpium.ru', BPIUM_LOGIN: 'a', BPIUM_PASSWORD: 'b', BPIUM_MAX_RESPONSE_BYTES: '1048576' })?.maxResponseBytes, 1_048_576);
  assert.throws(() => bpiumClientOptionsFromEnv({ BPIUM_URL: 'x.bpium.ru', BPIUM_LOGIN: 'a', BPIUM_PASSWORD: 'b', BPIUM_MAX_RESPONSE_BYTES: 'big' }), (e: unknown) => e instanceof BpiumConfigError && /^BPIUM_MAX_RESPONSE_BYTES must be a whole number/.test((e as Error).message));
});
