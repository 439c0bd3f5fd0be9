// The Bpium client over real HTTP against the emulator: reads, both filter forms, paging, writes, errors, cache.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { EffectError } from '../../engine/errors.js';
import { USERS_CACHE_ENTRIES, type BpiumCallRecord } from '../../adapters/bpium/client.js';
import { clientFor, startTestEmulator } from './helpers.js';

type Emulator = Awaited<ReturnType<typeof startTestEmulator>>;
let emulator: Emulator;

before(async () => {
  emulator = await startTestEmulator();
});
after(async () => {
  await emulator.stop();
});

test('getRecord reads a task with its responsible employee as [{id, title}]', { timeout: 10_000 }, async () => {
  const bpium = clientFor(emulator);
  const task = await bpium.getRecord('11', '1');
  assert.equal(task.id, '1');
  assert.equal(task.title, 'Подготовить отчёт за квартал');
  assert.deepEqual(task.values['4'], [{ id: '3', title: 'Мария Смирнова', isRemoved: false }]);
  bpium.close();
});

test('getRecord with fields returns only those fields, and $users reads the users catalog', { timeout: 10_000 }, async () => {
  const bpium = clientFor(emulator);
  const user = await bpium.getRecord('$users', '2', { fields: ['2'] });
  assert.deepEqual(user.values, { '2': 'ivan.petrov@example.com' });
  bpium.close();
});

test('getCatalog returns the field definitions', { timeout: 10_000 }, async () => {
  const bpium = clientFor(emulator);
  const catalog = await bpium.getCatalog('11');
  assert.equal(catalog.name, 'Задачи');
  assert.deepEqual(catalog.fields.map((f) => [f.id, f.type]), [['2', 'text'], ['3', 'text'], ['4', 'user'], ['5', 'dropdown']]);
  bpium.close();
});

test('createRecord answers the new id, updateRecord changes only the given fields, deleteRecord removes it', { timeout: 10_000 }, async () => {
  const bpium = clientFor(emulator);
  const { id } = await bpium.createRecord('11', { '2': 'Обзвонить клиентов', '3': 'Список в общей папке', '4': [{ id: '2' }] });
  assert.match(id, /^\d+$/);
  const updated = await bpium.updateRecord('11', id, { '3': 'Список обновлён' });
  assert.equal(updated?.values['3'], 'Список обновлён');
  const reread = await bpium.getRecord('11', id);
  assert.equal(reread.values['2'], 'Обзвонить клиентов');
  assert.deepEqual(reread.values['4'], [{ id: '2', title: 'Иван Петров', isRemoved: false }]);
  await bpium.deleteRecord('11', id);
  await assert.rejects(bpium.getRecord('11', id), (err: unknown) => err instanceof EffectError && err.details.status === 404);
  bpium.close();
});

test('an unknown record is a permanent EffectError BPIUM_NOT_FOUND with status 404', { timeout: 10_000 }, async () => {
  const bpium = clientFor(emulator);
  await assert.rejects(bpium.getRecord('11', '99999'), (err: unknown) => {
    assert.ok(err instanceof EffectError);
    assert.equal(err.kind, 'permanent');
    assert.equal(err.details.code, 'BPIUM_NOT_FOUND');
    assert.equal(err.details.status, 404);
    assert.equal(err.details.attempts, 1);
    return true;
  });
  bpium.close();
});

test('a catalog Bpium does not have is a setting error BPIUM_UNKNOWN_CATALOG, not "no such record"; a missing record under a known catalog stays BPIUM_NOT_FOUND', { timeout: 10_000 }, async () => {
  const calls: BpiumCallRecord[] = [];
  const bpium = clientFor(emulator, { onCall: (c) => calls.push(c) });
  // A catalog's name in Latin letters passes the id check; Bpium's 404 for it is checked against GET /catalogs/Tasks.
  await assert.rejects(bpium.getRecord('Tasks', '1'), (err: unknown) =>
    err instanceof EffectError && err.kind === 'permanent' && err.details.code === 'BPIUM_UNKNOWN_CATALOG' && err.details.status === 404 && err.details.setting === true &&
    /^Bpium has no catalog "Tasks" \(a catalog is given by its id, the number in its address in Bpium, not by its name\); a setting:/.test(err.message));
  await assert.rejects(bpium.createRecord('777', { '2': 'x' }), (err: unknown) => err instanceof EffectError && err.details.code === 'BPIUM_UNKNOWN_CATALOG' && /^Bpium has no catalog "777"; a setting/.test(err.message));
  await assert.rejects(bpium.findRecords({ catalogId: '777' }), (err: unknown) => err instanceof EffectError && err.details.code === 'BPIUM_UNKNOWN_CATALOG');
  await assert.rejects(bpium.getCatalog('777'), (err: unknown) => err instanceof EffectError && err.details.code === 'BPIUM_UNKNOWN_CATALOG');
  calls.length = 0;
  for (let i = 0; i < 2; i++) {
    await assert.rejects(bpium.getRecord('11', '99998'), (err: unknown) => err instanceof EffectError && err.details.code === 'BPIUM_NOT_FOUND' && err.details.setting === undefined);
  }
  // The catalog is checked once: the second missing record costs one request.
  assert.deepEqual(calls.map((c) => c.path), ['/catalogs/11/records/99998', '/catalogs/11', '/catalogs/11/records/99998']);
  bpium.close();
});

test('a value Bpium would refuse is a permanent 400 EffectError', { timeout: 10_000 }, async () => {
  const bpium = clientFor(emulator);
  await assert.rejects(bpium.createRecord('11', { '4': [{ id: '777' }] }), (err: unknown) =>
    err instanceof EffectError && err.kind === 'permanent' && err.details.code === 'BPIUM_BAD_REQUEST' && /777/.test(err.message));
  bpium.close();
});

test('an id that is not a plain token is rejected before any request is sent', { timeout: 10_000 }, async () => {
  const calls: BpiumCallRecord[] = [];
  const bpium = clientFor(emulator, { onCall: (c) => calls.push(c) });
  for (const bad of ['../1', '1/records', '', 'a b', '1?x=1', 'x'.repeat(65)]) {
    await assert.rejects(bpium.getRecord('11', bad), (err: unknown) =>
      err instanceof EffectError && err.kind === 'permanent' && err.details.code === 'BPIUM_INVALID_ID');
  }
  await assert.rejects(bpium.findRecords({ catalogId: '11', fields: ['2"]'] }), (err: unknown) =>
    err instanceof EffectError && err.details.code === 'BPIUM_INVALID_ID');
  assert.equal(calls.length, 0);
  bpium.close();
});

test('white space around an id is dropped before it is checked and sent', { timeout: 10_000 }, async () => {
  const calls: BpiumCallRecord[] = [];
  const bpium = clientFor(emulator, { onCall: (c) => calls.push(c) });
  const made = await bpium.createRecord(' 11\t', { '2': 'Запись с id в пробелах' });
  const got = await bpium.getRecord('\n11 ', ` ${made.id}\r\n`);
  assert.equal(got.id, made.id);
  assert.equal(got.values['2'], 'Запись с id в пробелах');
  assert.deepEqual(calls.map((c) => c.path), ['/catalogs/11/records', `/catalogs/11/records/${made.id}`]);
  bpium.close();
});

test('an id given with white space around it is the checked id throughout: a missing record is not a missing catalog', { timeout: 10_000 }, async () => {
  // The 404 of the record was checked against GET /catalogs/%2011%09 (the id as given), which 404s too: the run
  // failed as a setting (BPIUM_UNKNOWN_CATALOG, no error exit) for a record that is simply not there.
  const calls: BpiumCallRecord[] = [];
  const bpium = clientFor(emulator, { onCall: (c) => calls.push(c) });
  await assert.rejects(bpium.getRecord(' 11\t', '999999'), (e: unknown) => {
    assert.ok(e instanceof EffectError);
    assert.equal(e.details.code, 'BPIUM_NOT_FOUND', e.message);
    return true;
  });
  assert.deepEqual(calls.map((c) => c.path), ['/catalogs/11/records/999999', '/catalogs/11']);
  bpium.close();
});

test('a write under a cached catalog id given with white space around it clears the users cache', { timeout: 10_000 }, async () => {
  // invalidate(' 3\n') did not know ' 3\n' for the cached catalog 3: the next read got the answer from before the write.
  const bpium = clientFor(emulator, { usersCache: { catalogIds: ['3', '$users'], ttlMs: 60_000 } });
  const name = String((await bpium.getRecord('3', '4')).values['1']);
  try {
    await bpium.updateRecord(' 3\n', '4', { '1': 'Олег Кузнецов (переименован)' });
    assert.equal((await bpium.getRecord('3', '4')).values['1'], 'Олег Кузнецов (переименован)');
  } finally {
    await bpium.updateRecord('3', '4', { '1': name });
    bpium.close();
  }
});

test('findRecords filters by a user field in array form and by text in JSON form', { timeout: 10_000 }, async () => {
  const bpium = clientFor(emulator);
  const a = await bpium.createRecord('11', { '2': 'Фильтр: задача Олега', '4': [{ id: '4' }] });
  const b = await bpium.createRecord('11', { '2': 'Фильтр: задача Ивана', '4': [{ id: '2' }] });
  const byUser = await bpium.findRecords({ catalogId: '11', filters: [{ fieldId: '4', value: ['4'] }] });
  assert.deepEqual(byUser.map((r) => r.id), [a.id]);
  const byText = await bpium.findRecords({ catalogId: '11', filters: { '2': 'задача ивана' } });
  assert.deepEqual(byText.map((r) => r.id), [b.id]);
  const either = await bpium.findRecords({ catalogId: '11', filters: { $or: [{ '4': ['4'] }, { '4': ['2'] }] }, sortField: '2', sortType: 1 });
  assert.deepEqual(either.map((r) => r.id), [b.id, a.id]);
  const searched = await bpium.findRecords({ catalogId: '11', searchText: 'ФИЛЬТР', sortType: -1 });
  assert.deepEqual(searched.map((r) => r.id), [b.id, a.id]);
  bpium.close();
});

test('findRecords without a limit pages through with the page size; a short page is confirmed by one more, empty page', { timeout: 10_000 }, async () => {
  const calls: BpiumCallRecord[] = [];
  const bpium = clientFor(emulator, { paging: { pageSize: 3, maxRecords: 100 }, onCall: (c) => calls.push(c) });
  const created: string[] = [];
  for (let i = 1; i <= 7; i++) created.push((await bpium.createRecord('11', { '2': `Страница ${i}` })).id);
  calls.length = 0;
  const all = await bpium.findRecords({ catalogId: '11', searchText: 'Страница' });
  assert.deepEqual(all.map((r) => r.id), created);
  // The page at 6 brings 1 of 3: a server's own page size, or the end? The page at 7 is empty: the end.
  assert.deepEqual(calls.map((c) => new URLSearchParams(c.path.split('?')[1]).get('offset')), ['0', '3', '6', '7']);
  bpium.close();
});

test('findRecords with a limit makes one request for that page', { timeout: 10_000 }, async () => {
  const calls: BpiumCallRecord[] = [];
  const bpium = clientFor(emulator, { paging: { pageSize: 2, maxRecords: 100 }, onCall: (c) => calls.push(c) });
  const page = await bpium.findRecords({ catalogId: '$users', limit: 2, offset: 1 });
  assert.deepEqual(page.map((r) => r.id), ['2', '3']);
  assert.equal(calls.length, 1);
  bpium.close();
});

test('findRecords stops at the record cap', { timeout: 10_000 }, async () => {
  const bpium = clientFor(emulator, { paging: { pageSize: 1, maxRecords: 2 } });
  const users = await bpium.findRecords({ catalogId: '3' });
  assert.deepEqual(users.map((r) => r.id), ['1', '2']);
  bpium.close();
});

test('a JSON-form text filter finds employees by their e-mail domain', { timeout: 10_000 }, async () => {
  const bpium = clientFor(emulator);
  const users = await bpium.findRecords({ catalogId: '3', filters: { '2': 'example.org' } });
  assert.deepEqual(users.map((u) => u.values['1']), ['Мария Смирнова']);
  bpium.close();
});

test('the users cache answers repeated reads of catalog 3 without a request, and a write clears it', { timeout: 10_000 }, async () => {
  const calls: BpiumCallRecord[] = [];
  const bpium = clientFor(emulator, { usersCache: { catalogIds: ['3', '$users'], ttlMs: 60_000 }, onCall: (c) => calls.push(c) });
  const first = await bpium.getRecord('3', '4');
  first.values['2'] = 'mutated@example.com';
  const second = await bpium.getRecord('3', '4');
  assert.equal(second.values['2'], 'oleg.kuznetsov@example.com');
  assert.equal(calls.length, 1);
  assert.equal(bpium.stats().cacheHits, 1);
  await bpium.updateRecord('3', '4', { '1': 'Олег Кузнецов' });
  await bpium.getRecord('3', '4');
  assert.equal(calls.filter((c) => c.method === 'GET').length, 2);
  await bpium.getRecord('11', '1');
  await bpium.getRecord('11', '1');
  assert.equal(calls.filter((c) => c.path === '/catalogs/11/records/1').length, 2);
  bpium.close();
});

test('the users cache holds a bounded number of answers, however many different reads a long-running server makes', { timeout: 60_000 }, async () => {
  // A scenario that looks people up by what a webhook says (a filter or an offset from its data) reads a new address
  // each time: each answer was kept until a write to the users catalog through this client, which may never come.
  const calls: BpiumCallRecord[] = [];
  const bpium = clientFor(emulator, { usersCache: { catalogIds: ['3', '$users'], ttlMs: 3_600_000 }, onCall: (c) => calls.push(c) });
  const reads = USERS_CACHE_ENTRIES + 200;
  for (let i = 0; i < reads; i++) await bpium.findRecords({ catalogId: '3', limit: 1, offset: i });
  assert.equal(calls.length, reads);
  assert.ok(bpium.stats().cacheEntries <= USERS_CACHE_ENTRIES, `${bpium.stats().cacheEntries} answers held, more than ${USERS_CACHE_ENTRIES}`);
  // The newest answers are still served from the cache.
  await bpium.findRecords({ catalogId: '3', limit: 1, offset: reads - 1 });
  assert.equal(calls.length, reads);
  assert.equal(bpium.stats().cacheHits, 1);
  bpium.close();
});
