// The Bpium emulator answers in the shapes Bpium documents, authenticates like Bpium, and seeds only once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBpiumEmulator } from '../../bpium-emulator/index.js';
import { basicAuth, closedPort, startTestEmulator, tempDir } from './helpers.js';

type Emulator = Awaited<ReturnType<typeof startTestEmulator>>;
let emulator: Emulator;
let auth: string;

before(async () => {
  emulator = await startTestEmulator();
  auth = basicAuth(emulator.login, emulator.password);
});
after(async () => {
  await emulator.stop();
});

async function api(path: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; body: any }> {
  const headers = { authorization: auth, 'content-type': 'application/json', ...(init.headers as Record<string, string> | undefined) };
  const res = await fetch(emulator.url + path, { ...init, headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) };
}

test('the catalog list is a bare array with the users catalog and Задачи', { timeout: 10_000 }, async () => {
  const { status, body } = await api('/catalogs');
  assert.equal(status, 200);
  assert.deepEqual(body.map((c: { id: string; name: string }) => [c.id, c.name]), [['3', 'Сотрудники'], ['11', 'Задачи']]);
});

test('the users catalog has field "1" name and "2" e-mail of config.type mail', { timeout: 10_000 }, async () => {
  const { body } = await api('/catalogs/$users');
  assert.equal(body.id, '3');
  assert.deepEqual(body.fields.map((f: { id: string; type: string }) => [f.id, f.type]), [['1', 'text'], ['2', 'text']]);
  assert.deepEqual(body.fields[1].config, { type: 'mail' });
});

test('a record reads as {id, title, values} with the user field as [{id, title}]', { timeout: 10_000 }, async () => {
  const { status, body } = await api('/catalogs/11/records/1');
  assert.equal(status, 200);
  assert.equal(body.id, '1');
  assert.equal(body.title, 'Подготовить отчёт за квартал');
  assert.deepEqual(body.values['4'], [{ id: '3', title: 'Мария Смирнова' }]);
});

test('POST answers 200 {"id": "…"} and the record reads back; user values are written as [{id}]', { timeout: 10_000 }, async () => {
  const created = await api('/catalogs/11/records', { method: 'POST', body: JSON.stringify({ values: { '2': 'Новая', '4': [{ id: '4' }] } }) });
  assert.equal(created.status, 200);
  assert.deepEqual(Object.keys(created.body), ['id']);
  assert.equal(typeof created.body.id, 'string');
  const read = await api(`/catalogs/11/records/${created.body.id}`);
  assert.deepEqual(read.body.values, { '2': 'Новая', '3': null, '4': [{ id: '4', title: 'Олег Кузнецов' }], '5': [] });
});

test('PATCH merges the given fields and answers the record; DELETE answers 200 with an empty body', { timeout: 10_000 }, async () => {
  const { body: { id } } = await api('/catalogs/11/records', { method: 'POST', body: JSON.stringify({ values: { '2': 'До', '3': 'Описание' } }) });
  const patched = await api(`/catalogs/11/records/${id}`, { method: 'PATCH', body: JSON.stringify({ values: { '2': 'После' } }) });
  assert.equal(patched.status, 200);
  assert.deepEqual(patched.body.values, { '2': 'После', '3': 'Описание', '4': [], '5': [] });
  const deleted = await api(`/catalogs/11/records/${id}`, { method: 'DELETE' });
  assert.equal(deleted.status, 200);
  assert.equal(deleted.body, undefined);
  assert.equal((await api(`/catalogs/11/records/${id}`)).status, 404);
});

test('unknown catalogs and records are 404; bad values, bad JSON and unknown fields are 400', { timeout: 10_000 }, async () => {
  assert.equal((await api('/catalogs/999')).status, 404);
  assert.equal((await api('/catalogs/999/records')).status, 404);
  assert.equal((await api('/catalogs/11/records/424242', { method: 'PATCH', body: JSON.stringify({ values: {} }) })).status, 404);
  assert.equal((await api('/catalogs/11/records', { method: 'POST', body: '{"values":' })).status, 400);
  assert.equal((await api('/catalogs/11/records', { method: 'POST', body: JSON.stringify({ values: { '99': 'x' } }) })).status, 400);
  assert.equal((await api('/catalogs/11/records', { method: 'POST', body: JSON.stringify({ values: { '4': [{ id: '2' }, { id: '3' }] } }) })).status, 400);
  assert.equal((await api('/catalogs/11/records', { method: 'POST', body: JSON.stringify({ title: 'no values' }) })).status, 400);
  assert.equal((await api('/catalogs/11/records?limit=abc')).status, 400);
  assert.equal((await api('/catalogs/11/records?filters=%7Bbroken')).status, 400);
});

test('records lists honour repeated id, limit and offset, sort, and both filter forms', { timeout: 10_000 }, async () => {
  const ids = (await api('/catalogs/3/records?id=2&id=4')).body.map((r: { id: string }) => r.id);
  assert.deepEqual(ids, ['2', '4']);
  const page = (await api('/catalogs/3/records?limit=2&offset=1')).body.map((r: { id: string }) => r.id);
  assert.deepEqual(page, ['2', '3']);
  const sorted = (await api('/catalogs/3/records?sortField=1&sortType=-1')).body.map((r: { title: string }) => r.title);
  assert.deepEqual(sorted, ['Олег Кузнецов', 'Мария Смирнова', 'Иван Петров', 'Администратор']);
  const bracket = await api('/catalogs/11/records?filters[0][fieldId]=4&filters[0][value][0]=3');
  assert.deepEqual(bracket.body.map((r: { id: string }) => r.id), ['1']);
  const json = await api(`/catalogs/3/records?filters=${encodeURIComponent(JSON.stringify({ '2': { $or: ['ivan', 'oleg'] } }))}`);
  assert.deepEqual(json.body.map((r: { id: string }) => r.id), ['2', '4']);
  const current = await api('/catalogs/11/records?filters[0][fieldId]=4&filters[0][value][0]=CURRENT_USER');
  assert.deepEqual(current.body, []);
});

test('users and profile/me give employees without and with the e-mail', { timeout: 10_000 }, async () => {
  const users = await api('/users');
  assert.deepEqual(users.body[1], { id: '2', title: 'Иван Петров' });
  const me = await api('/profile/me');
  assert.deepEqual({ id: me.body.id, email: me.body.email }, { id: '1', email: 'demo@example.com' });
});

test('no or wrong credentials get 401 without WWW-Authenticate', { timeout: 10_000 }, async () => {
  for (const authorization of [undefined, basicAuth('demo@example.com', 'nope')]) {
    const res = await fetch(`${emulator.url}/catalogs`, { headers: authorization ? { authorization } : {} });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), null);
  }
});

test('Basic sets a connect.sid cookie that alone authenticates later requests, as does /auth/login', { timeout: 10_000 }, async () => {
  const first = await fetch(`${emulator.url}/catalogs`, { headers: { authorization: auth } });
  const cookie = first.headers.getSetCookie().find((c) => c.startsWith('connect.sid='))?.split(';')[0];
  assert.ok(cookie);
  assert.equal((await fetch(`${emulator.url}/catalogs`, { headers: { cookie } })).status, 200);
  const origin = emulator.url.replace(/\/api\/v1$/, '');
  const login = await fetch(`${origin}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'DEMO@example.com', password: 'demo' }) });
  assert.equal(login.status, 200);
  const sessionCookie = login.headers.getSetCookie()[0]?.split(';')[0] ?? '';
  assert.equal((await fetch(`${emulator.url}/profile/me`, { headers: { cookie: sessionCookie } })).status, 200);
  const refused = await fetch(`${origin}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'demo@example.com', password: 'x' }) });
  assert.equal(refused.status, 401);
});

test('the seed is loaded once: a restart keeps created records and the ids carry on', { timeout: 15_000 }, async () => {
  const dir = tempDir();
  const target = { url: `http://127.0.0.1:${await closedPort()}/Bpium/NewTask`, secret: 's' };
  try {
    const first = await startBpiumEmulator({ dataDir: dir.path, port: 0, webhookTarget: target });
    const headers = { authorization: basicAuth(first.login, first.password), 'content-type': 'application/json' };
    const created = await (await fetch(`${first.url}/catalogs/11/records`, { method: 'POST', headers, body: JSON.stringify({ values: { '2': 'Переживёт рестарт' } }) })).json() as { id: string };
    await fetch(`${first.url}/catalogs/11/records/1`, { method: 'DELETE', headers });
    await first.close();

    const second = await startBpiumEmulator({ dataDir: dir.path, port: 0, webhookTarget: target });
    const records = await (await fetch(`${second.url}/catalogs/11/records`, { headers })).json() as Array<{ id: string; title: string }>;
    assert.deepEqual(records.map((r) => [r.id, r.title]), [[created.id, 'Переживёт рестарт']]);
    const next = await (await fetch(`${second.url}/catalogs/11/records`, { method: 'POST', headers, body: JSON.stringify({ values: { '2': 'Ещё' } }) })).json() as { id: string };
    assert.equal(Number(next.id), Number(created.id) + 1);
    await second.close();
  } finally {
    dir.remove();
  }
});

test('injected faults answer their status (with Retry-After) and then the emulator is healthy again', { timeout: 10_000 }, async () => {
  emulator.injectFaults({ status: 503, times: 2, retryAfter: '3' });
  const a = await api('/catalogs');
  const b = await api('/catalogs');
  const c = await api('/catalogs');
  assert.deepEqual([a.status, b.status, c.status], [503, 503, 200]);
  assert.equal(a.headers.get('retry-after'), '3');
});
