// The Bpium emulator answers in the shapes Bpium documents, authenticates like Bpium, and seeds only once.
import { writeFileSync } from 'node:fs';
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

test('a record reads as {id, title, values} with the user field as [{id, title, isRemoved}]', { timeout: 10_000 }, async () => {
  const { status, body } = await api('/catalogs/11/records/1');
  assert.equal(status, 200);
  assert.equal(body.id, '1');
  assert.equal(body.title, 'Подготовить отчёт за квартал');
  assert.deepEqual(body.values['4'], [{ id: '3', title: 'Мария Смирнова', isRemoved: false }]);
});

test('POST answers 200 {"id": "…"} and the record reads back; user values are written as [{id}]', { timeout: 10_000 }, async () => {
  const created = await api('/catalogs/11/records', { method: 'POST', body: JSON.stringify({ values: { '2': 'Новая', '4': [{ id: '4' }] } }) });
  assert.equal(created.status, 200);
  assert.deepEqual(Object.keys(created.body), ['id']);
  assert.equal(typeof created.body.id, 'string');
  const read = await api(`/catalogs/11/records/${created.body.id}`);
  assert.deepEqual(read.body.values, { '2': 'Новая', '3': null, '4': [{ id: '4', title: 'Олег Кузнецов', isRemoved: false }], '5': [] });
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

test('a connect.sid that is not valid percent-encoding is a 401 like any unknown cookie, with no error logged (review s30 L4)', { timeout: 10_000 }, async () => {
  const errors: unknown[] = [];
  const logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: (o: object) => void errors.push(o) };
  const own = await startTestEmulator({ logger });
  try {
    for (const cookie of ['connect.sid=%E0%A4%A', 'connect.sid=%', 'other=1; connect.sid=%zz']) {
      const res = await fetch(`${own.url}/catalogs`, { headers: { cookie } });
      assert.equal(res.status, 401, cookie);
      assert.equal(res.headers.get('www-authenticate'), null, cookie);
    }
    assert.equal((await fetch(`${own.url}/catalogs`, { headers: { cookie: 'connect.sid=%E0%A4%A', authorization: basicAuth(own.login, own.password) } })).status, 200, 'Basic still works next to it');
    assert.deepEqual(errors, []);
  } finally {
    await own.stop();
  }
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

test('a wrong method on a Bpium resource is 405 with Allow; a documented resource the emulator lacks is 501; other paths 404', { timeout: 10_000 }, async () => {
  const put = await api('/catalogs/11/records/1', { method: 'PUT', body: JSON.stringify({ values: { '2': 'x' } }) });
  assert.equal(put.status, 405);
  assert.equal(put.headers.get('allow'), 'GET, HEAD, PATCH, DELETE');
  assert.match(put.body.message, /^PUT is not allowed on \/catalogs\/11\/records\/1 .*Bpium changes with PATCH, not PUT$/);
  for (const [method, path, allow] of [['POST', '/catalogs/11/records/1', 'GET, HEAD, PATCH, DELETE'], ['PATCH', '/catalogs/11/records', 'GET, HEAD, POST'], ['DELETE', '/users', 'GET, HEAD'], ['PUT', '/catalogs/11', 'GET, HEAD, PATCH, DELETE']] as const) {
    const r = await api(path, { method });
    assert.deepEqual([method, path, r.status, r.headers.get('allow')], [method, path, 405, allow]);
  }
  for (const [method, path] of [['POST', '/catalogs'], ['PATCH', '/catalogs/11'], ['DELETE', '/catalogs/11'], ['GET', '/sections'], ['GET', '/catalogs/11/records/1/relations'], ['GET', '/histories'], ['GET', '/catalogs/11/views'], ['GET', '/files/5'], ['GET', '/boards/1']] as const) {
    const r = await api(path, { method, ...(method === 'GET' ? {} : { body: '{}' }) });
    assert.deepEqual([method, path, r.status], [method, path, 501]);
    assert.match(r.body.message, /the emulator does not implement/);
  }
  assert.equal((await api('/catalogs/11/records/1')).status, 200, 'the record exists: the 405 was about the method');
  assert.equal((await api('/nothing/here')).status, 404);
  assert.equal((await api('/catalogs/11/records/1/nothing')).status, 404);
  const anonymous = await fetch(`${emulator.url}/catalogs/11/records/1`, { method: 'PUT' });
  assert.equal(anonymous.status, 401, 'authentication comes first');
});

test('field definitions carry the keys Bpium documents; a user value carries isRemoved, true once the employee is gone', { timeout: 10_000 }, async () => {
  const { body } = await api('/catalogs/11');
  for (const field of body.fields) {
    assert.deepEqual(Object.keys(field), ['id', 'name', 'type', 'hint', 'required', 'apiOnly', 'history', 'filterable', 'comment', 'config', 'visible']);
  }
  assert.deepEqual(body.fields.find((f: { id: string }) => f.id === '4'), {
    id: '4', name: 'Ответственный', type: 'user', hint: '', required: false, apiOnly: false, history: true, filterable: true, comment: '', config: { multiselect: false }, visible: true,
  });
  const user = await api('/catalogs/3/records', { method: 'POST', body: JSON.stringify({ values: { '1': 'Уволится', '2': 'gone@example.com' } }) });
  const task = await api('/catalogs/11/records', { method: 'POST', body: JSON.stringify({ values: { '2': 'Чья задача', '4': [{ id: user.body.id }] } }) });
  assert.deepEqual((await api(`/catalogs/11/records/${task.body.id}`)).body.values['4'], [{ id: user.body.id, title: 'Уволится', isRemoved: false }]);
  assert.equal((await api(`/catalogs/3/records/${user.body.id}`, { method: 'DELETE' })).status, 200);
  assert.deepEqual((await api(`/catalogs/11/records/${task.body.id}`)).body.values['4'], [{ id: user.body.id, title: '', isRemoved: true }]);
});

test('file values read as {id, title, url, size, mimeType, metadata}; kept by id, detached when left out; stars and progress in range', { timeout: 15_000 }, async () => {
  const dir = tempDir();
  const seed = `${dir.path}/seed.yaml`;
  writeFileSync(seed, [
    'catalogs:',
    '  - id: "20"',
    '    name: Документы',
    '    fields:',
    '      - { id: "1", name: Название, type: text }',
    '      - { id: "2", name: Файлы, type: file }',
    '      - { id: "3", name: Оценка, type: stars }',
    '      - { id: "4", name: Готовность, type: progress }',
  ].join('\n'));
  const own = await startTestEmulator({ seedFile: seed });
  const call = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(own.url + path, { ...init, headers: { authorization: basicAuth(own.login, own.password), 'content-type': 'application/json' } });
    const text = await res.text();
    return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
  };
  try {
    const logo = { src: 'https://files.example.org/a/logo.png', title: 'logo.png', mimeType: 'image/png', size: 8513 };
    const created = await call('/catalogs/20/records', { method: 'POST', body: JSON.stringify({ values: { '1': 'Договор', '2': [logo, { src: 'https://files.example.org/b/%D0%B4%D0%BE%D0%B3%D0%BE%D0%B2%D0%BE%D1%80.pdf' }] } }) });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const read = await call(`/catalogs/20/records/${created.body.id}`);
    assert.deepEqual(read.body.values['2'], [
      { id: '1', title: 'logo.png', url: logo.src, size: 8513, mimeType: 'image/png', metadata: null },
      { id: '2', title: 'договор.pdf', url: 'https://files.example.org/b/%D0%B4%D0%BE%D0%B3%D0%BE%D0%B2%D0%BE%D1%80.pdf', size: 0, mimeType: '', metadata: null },
    ]);
    const kept = await call(`/catalogs/20/records/${created.body.id}`, { method: 'PATCH', body: JSON.stringify({ values: { '2': [{ id: '2' }, { src: 'https://files.example.org/c.txt', title: 'c.txt', size: '3' }] } }) });
    assert.equal(kept.status, 200, JSON.stringify(kept.body));
    assert.deepEqual(kept.body.values['2'].map((f: { id: string; title: string; size: number }) => [f.id, f.title, f.size]), [['2', 'договор.pdf', 0], ['3', 'c.txt', 3]]);
    const odd = await call(`/catalogs/20/records/${created.body.id}`, { method: 'PATCH', body: JSON.stringify({ values: { '2': [{ src: 'https://files.example.org/100%.txt' }, { src: 'http://[bad' }] } }) });
    assert.equal(odd.status, 400, 'a src that is no URL is refused, not a 500');
    const percent = await call(`/catalogs/20/records/${created.body.id}`, { method: 'PATCH', body: JSON.stringify({ values: { '2': [{ src: 'https://files.example.org/100%.txt' }] } }) });
    assert.equal(percent.body.values['2'][0].title, '100%.txt', 'a name that does not decode is kept as written');
    for (const bad of [[{ id: '1' }], [{ src: 'ftp://x/y' }], [{ title: 'no src' }], 'logo.png']) {
      const r = await call(`/catalogs/20/records/${created.body.id}`, { method: 'PATCH', body: JSON.stringify({ values: { '2': bad } }) });
      assert.equal(r.status, 400, JSON.stringify(bad));
    }
    for (const [field, value, status] of [['3', 5, 200], ['3', 0, 200], ['3', 7, 400], ['3', -1, 400], ['4', 100, 200], ['4', 101, 400], ['4', -0.5, 400]] as const) {
      const r = await call(`/catalogs/20/records/${created.body.id}`, { method: 'PATCH', body: JSON.stringify({ values: { [field]: value } }) });
      assert.deepEqual([field, value, r.status], [field, value, status], JSON.stringify(r.body));
    }
  } finally {
    await own.stop();
    dir.remove();
  }
});

test('a create naming an empty id is refused with 400 and why, and makes no record; another id is ignored', { timeout: 10_000 }, async () => {
  const before = (await api('/catalogs/11/records?limit=1000')).body.length as number;
  for (const id of ['', '  ', null]) {
    const refused = await api('/catalogs/11/records', { method: 'POST', body: JSON.stringify({ id, values: { '2': 'Пустой id' } }) });
    assert.equal(refused.status, 400, JSON.stringify(id));
    assert.equal(refused.body.message, `"id" is ${JSON.stringify(id)}: a record id cannot be empty; a new record gets its id from Bpium, so leave "id" out of the body, or, to change a record, PATCH /api/v1/catalogs/<catalog id>/records/<record id>`);
  }
  assert.equal((await api('/catalogs/11/records?limit=1000')).body.length, before, 'no record was created');
  const named = await api('/catalogs/11/records', { method: 'POST', body: JSON.stringify({ id: '777', values: { '2': 'Свой id' } }) });
  assert.equal(named.status, 200);
  assert.notEqual(named.body.id, '777', 'the new record gets the next id');
});
