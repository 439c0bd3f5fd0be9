// Subscriptions beyond record.created: managed over the emulator's REST API and in its seed, record.updated and
// record.deleted with the previous values, and the author of a change (webhook user.id) chosen per request.
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { repoPath } from '../helpers.js';
import { verifyBpiumSignature } from '../../adapters/bpium/signature.js';
import { startBpiumEmulator } from '../../bpium-emulator/index.js';
import { basicAuth, closedPort, startReceiver, startTestEmulator, tempDir, type ReceivedHook } from './helpers.js';

const SECRET = 'subscriptions-secret';
type Emulator = Awaited<ReturnType<typeof startBpiumEmulator>>;

/** A JSON call to the emulator over HTTP with the API account's Basic credentials. */
async function api(emulator: Emulator, path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(emulator.url + path, {
    method: init.method ?? 'GET',
    headers: { authorization: basicAuth(emulator.login, emulator.password), 'content-type': 'application/json', ...init.headers },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
}

function assertSigned(hook: ReceivedHook, secret: string): void {
  assert.equal(verifyBpiumSignature(secret, hook.raw, hook.headers['x-hook-signature'] as string), true, 'signature verifies over the raw body');
}

test('a record.updated subscription made over REST: status change by another employee, changed values, all previous values', { timeout: 15_000 }, async () => {
  const receiver = await startReceiver();
  const emulator = await startTestEmulator();
  try {
    const created = await api(emulator, '/-/webhooks', {
      method: 'POST',
      body: { catalogId: '11', events: ['record.updated'], url: receiver.url.replace('/Bpium/NewTask', '/Bpium/TaskDone'), secret: SECRET, trackFields: ['5'] },
    });
    assert.equal(created.status, 200);
    const hookId = created.body.id as string;

    // Employee 2 (Иван Петров) closes the task; the API account only carries the request.
    const patched = await api(emulator, '/catalogs/11/records/1', { method: 'PATCH', body: { values: { '5': ['3'] } }, headers: { 'X-Emulator-User-Id': '2' } });
    assert.equal(patched.status, 200);
    // A change to an untracked field fires nothing.
    assert.equal((await api(emulator, '/catalogs/11/records/1', { method: 'PATCH', body: { values: { '3': 'Отчёт отправлен.' } } })).status, 200);
    await emulator.settled();

    assert.equal(receiver.received.length, 1);
    const hook = receiver.received[0]!;
    assert.equal(hook.path, '/Bpium/TaskDone');
    assertSigned(hook, SECRET);
    assert.deepEqual({ ...hook.body, timestamp: 'T' }, {
      timestamp: 'T',
      hook: { id: hookId, event: 'record.updated', sequenceId: 1 },
      payload: {
        catalogId: '11',
        recordId: '1',
        values: { '5': ['3'] },
        prevValues: {
          '2': 'Подготовить отчёт за квартал',
          '3': 'Свести продажи по отделам и отправить руководителю.',
          '4': [{ id: '3', title: 'Мария Смирнова', isRemoved: false }],
          '5': ['2'],
        },
      },
      user: { id: '2' },
    });
  } finally {
    await emulator.stop();
    await receiver.close();
  }
});

test('subscriptions are listed without secrets, changed and deleted over REST; record.deleted carries the last values', { timeout: 15_000 }, async () => {
  const receiver = await startReceiver();
  const emulator = await startTestEmulator();
  try {
    const url = new URL(receiver.url);
    url.username = 'oktell';
    url.password = 'hook-pass';
    const { body: { id } } = await api(emulator, '/-/webhooks', { method: 'POST', body: { catalogId: '11', events: ['record.created'], url: url.toString(), secret: SECRET } });

    const listed = await api(emulator, `/-/webhooks/${id}`);
    assert.equal(listed.status, 200);
    assert.equal(listed.body.secret, undefined);
    assert.equal(listed.body.signed, true);
    assert.equal(listed.body.url, receiver.url.replace('//', '//***@'));
    assert.ok((await api(emulator, '/-/webhooks')).body.some((h: { id: string }) => h.id === id));

    assert.equal((await api(emulator, `/-/webhooks/${id}`, { method: 'PATCH', body: { colour: 'red' } })).status, 400);
    const changed = await api(emulator, `/-/webhooks/${id}`, { method: 'PATCH', body: { events: ['record.deleted'], secret: 'rotated-secret' } });
    assert.equal(changed.status, 200);
    assert.deepEqual(changed.body.events, ['record.deleted']);
    assert.equal(changed.body.trackFields.length, 0, 'properties not named stay as they were');

    const task = await api(emulator, '/catalogs/11/records', { method: 'POST', body: { values: { '2': 'Удалить меня', '4': [{ id: '4' }], '5': ['1'] } } });
    assert.equal((await api(emulator, `/catalogs/11/records/${task.body.id}`, { method: 'DELETE', headers: { 'X-Emulator-User-Id': '3' } })).status, 200);
    await emulator.settled();
    assert.equal(receiver.received.length, 1, 'the create fired nothing: the subscription now wants deletions only');
    const deleted = receiver.received[0]!;
    assertSigned(deleted, 'rotated-secret');
    assert.equal(deleted.headers.authorization, basicAuth('oktell', 'hook-pass'));
    assert.equal(deleted.body.hook.event, 'record.deleted');
    assert.equal(deleted.body.payload.recordId, task.body.id);
    assert.deepEqual(deleted.body.payload.values, { '2': 'Удалить меня', '3': null, '4': [{ id: '4', title: 'Олег Кузнецов', isRemoved: false }], '5': ['1'] });
    assert.deepEqual(deleted.body.user, { id: '3' });

    assert.equal((await api(emulator, `/-/webhooks/${id}`, { method: 'DELETE' })).status, 200);
    assert.equal((await api(emulator, `/-/webhooks/${id}`)).status, 404);
    assert.equal((await api(emulator, `/-/webhooks/${id}`, { method: 'DELETE' })).status, 404);
    const again = await api(emulator, '/catalogs/11/records', { method: 'POST', body: { values: { '2': 'Ещё одна' } } });
    await api(emulator, `/catalogs/11/records/${again.body.id}`, { method: 'DELETE' });
    await emulator.settled();
    assert.equal(receiver.received.length, 1, 'a deleted subscription fires no more');
  } finally {
    await emulator.stop();
    await receiver.close();
  }
});

test('bad subscriptions and unknown authors are refused with 400 and change nothing; the API needs the account', { timeout: 15_000 }, async () => {
  const emulator = await startTestEmulator();
  try {
    const good = { catalogId: '11', events: ['record.updated'], url: 'http://127.0.0.1:4055/Bpium/TaskDone' };
    const refusals: Array<[unknown, RegExp]> = [
      [{ ...good, events: ['record.before.updated'] }, /^events\.0: /],
      [{ ...good, events: [] }, /^events: /],
      [{ ...good, catalogId: '999' }, /no catalog "999"/],
      [{ ...good, trackFields: ['42'] }, /catalog 11 has no field "42"/],
      [{ ...good, url: 'ftp://example.com/x' }, /^url: expected an http/],
      [{ ...good, colour: 'red' }, /colour/],
    ];
    for (const [body, message] of refusals) {
      const res = await api(emulator, '/-/webhooks', { method: 'POST', body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match(res.body.message, message);
    }
    const seedHook = emulator.webhooks()[0]!;
    const badChange = await api(emulator, `/-/webhooks/${seedHook.id}`, { method: 'PATCH', body: { trackFields: ['9'] } });
    assert.equal(badChange.status, 400);
    assert.equal((await api(emulator, '/-/webhooks/77', { method: 'PATCH', body: { events: ['record.updated'] } })).status, 404);
    assert.deepEqual(emulator.webhooks(), [seedHook]);

    const author = await api(emulator, '/catalogs/11/records/1', { method: 'PATCH', body: { values: { '5': ['3'] } }, headers: { 'X-Emulator-User-Id': '42' } });
    assert.equal(author.status, 400);
    assert.match(author.body.message, /X-Emulator-User-Id: no employee with id "42"/);
    assert.deepEqual((await api(emulator, '/catalogs/11/records/1')).body.values['5'], ['2'], 'the refused change was not made');

    const anonymous = await fetch(`${emulator.url}/-/webhooks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(good) });
    assert.equal(anonymous.status, 401);
  } finally {
    await emulator.stop();
  }
});

test('seed subscriptions: a path follows the server (its origin, credentials and secret), a full URL is kept as written', { timeout: 15_000 }, async () => {
  const server = await startReceiver();
  const elsewhere = await startReceiver();
  const dir = tempDir();
  const seedFile = join(dir.path, 'seed.yaml');
  writeFileSync(seedFile, [
    'catalogs:',
    '  - id: "11"',
    '    name: Задачи',
    '    fields:',
    '      - { id: "2", name: Название, type: text }',
    '      - { id: "5", name: Статус, type: dropdown, config: { items: [{ id: "1", name: Новая }, { id: "3", name: Выполнена }] } }',
    '    records:',
    '      - { id: "1", values: { "2": Первая, "5": ["1"] } }',
    'webhooks:',
    '  - { catalogId: "11", events: [record.updated], url: /Bpium/TaskDone, trackFields: ["5"] }',
    `  - { catalogId: "11", events: [record.updated], url: "${elsewhere.url}", secret: own-secret }`,
    '',
  ].join('\n'));
  const target = new URL(server.url);
  target.username = 'oktell';
  target.password = 'p';
  const emulator = await startBpiumEmulator({ dataDir: dir.path, port: 0, seedFile, webhookTarget: { url: target.toString(), secret: SECRET } });
  try {
    assert.equal((await api(emulator, '/catalogs/11/records/1', { method: 'PATCH', body: { values: { '5': ['3'] } } })).status, 200);
    await emulator.settled();
    const [toServer] = server.received;
    assert.equal(server.received.length, 1);
    assert.equal(toServer!.path, '/Bpium/TaskDone');
    assert.equal(toServer!.headers.authorization, basicAuth('oktell', 'p'));
    assertSigned(toServer!, SECRET);
    assert.deepEqual(toServer!.body.payload.prevValues, { '2': 'Первая', '5': ['1'] });
    assert.equal(elsewhere.received.length, 1);
    assertSigned(elsewhere.received[0]!, 'own-secret');
  } finally {
    await emulator.close();
    await server.close();
    await elsewhere.close();
    dir.remove();
  }
});

test('a seed subscription that tracks a field its catalog lacks is refused at start, naming the entry', { timeout: 10_000 }, async () => {
  const dir = tempDir();
  const seedFile = join(dir.path, 'seed.yaml');
  writeFileSync(seedFile, [
    'catalogs:',
    '  - { id: "11", name: Задачи, fields: [{ id: "2", name: Название, type: text }] }',
    'webhooks:',
    '  - { catalogId: "11", events: [record.updated], url: /Bpium/TaskDone, trackFields: ["5"] }',
    '',
  ].join('\n'));
  try {
    await assert.rejects(startBpiumEmulator({ dataDir: dir.path, port: 0, seedFile }), /invalid Bpium seed: webhooks\.0: trackFields: catalog 11 has no field "5"/);
  } finally {
    dir.remove();
  }
});

test('the seed example in docs/bpium.md loads, with its path and URL subscriptions', { timeout: 10_000 }, async () => {
  const docs = readFileSync(repoPath('docs', 'bpium.md'), 'utf8');
  const example = /```yaml\n(catalogs:[\s\S]*?)```/.exec(docs)?.[1];
  assert.ok(example, 'docs/bpium.md has a seed example');
  const dir = tempDir();
  const seedFile = join(dir.path, 'seed.yaml');
  writeFileSync(seedFile, example);
  try {
    const emulator = await startBpiumEmulator({ dataDir: dir.path, port: 0, seedFile });
    try {
      assert.deepEqual(emulator.webhooks().map((h) => [h.url, h.fromSeed, h.trackFields]), [
        ['http://127.0.0.1:4055/Bpium/NewTask', true, []],
        ['http://127.0.0.1:9000/hooks/task', false, ['5']],
      ]);
      assert.deepEqual((await api(emulator, '/catalogs/11/records/1')).body.values, { '2': 'Подготовить отчёт', '4': [], '5': ['1'] });
    } finally {
      await emulator.close();
    }
  } finally {
    dir.remove();
  }
});

test('a subscription URL whose password holds an unencoded "/" is listed, recorded and logged without any of it', { timeout: 15_000 }, async () => {
  const logged: string[] = [];
  const line = (obj: object, msg?: string) => logged.push(`${msg ?? ''} ${JSON.stringify(obj)}`);
  const emulator = await startTestEmulator({ logger: { debug: line, info: line, warn: line, error: line } });
  try {
    // A URL parser reads "localhost:<port>" as the host and port, and the rest of the password as the path: it posts to
    // localhost, where nothing listens, and its "/pw-SECRET9" is as much a part of the password as the digits.
    const closed = await closedPort();
    const url = `http://localhost:${closed}/pw-SECRET9@127.0.0.1:4055/Bpium/NewTask`;
    const created = await api(emulator, '/-/webhooks', { method: 'POST', body: { catalogId: '11', events: ['record.created'], url, secret: SECRET } });
    assert.equal(created.status, 200);
    const listed = await api(emulator, `/-/webhooks/${created.body.id}`);
    assert.equal(listed.body.url, 'http://***@127.0.0.1:4055/Bpium/NewTask');
    assert.doesNotMatch(JSON.stringify((await api(emulator, '/-/webhooks')).body), /SECRET9|localhost/);

    assert.equal((await api(emulator, '/catalogs/11/records', { method: 'POST', body: { values: { '2': 'x' } } })).status, 200);
    await emulator.settled();
    const delivery = emulator.deliveries({ hookId: created.body.id }).at(-1);
    assert.ok(delivery, 'the subscription fired');
    assert.equal(delivery.url, 'http://***@127.0.0.1:4055/Bpium/NewTask');
    assert.ok(logged.some((l) => l.includes('webhook delivery failed') && l.includes('http://***@127.0.0.1:4055/Bpium/NewTask')), logged.join('\n'));
    assert.doesNotMatch(logged.join('\n'), /SECRET9/);
  } finally {
    await emulator.stop();
  }
});

test('a subscription URL with a token in its query is listed, recorded and logged with the token masked, and posted with it', { timeout: 15_000 }, async () => {
  // Before, the REST API listed "?token=SECRET9" as given, and "http:u:SECRET8@host" (a URL parser reads a login and
  // a password there, without the "//") as given too.
  const logged: string[] = [];
  const line = (obj: object, msg?: string) => logged.push(`${msg ?? ''} ${JSON.stringify(obj)}`);
  const targets: string[] = [];
  const receiver = createServer((req, res) => {
    targets.push(`${req.url} ${req.headers.authorization ?? ''}`);
    req.resume();
    req.on('end', () => res.writeHead(503).end());
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const port = (receiver.address() as AddressInfo).port;
  const emulator = await startTestEmulator({ logger: { debug: line, info: line, warn: line, error: line } });
  try {
    // The URL given, as listed, as the delivery records it (the login and password sent as Authorization instead),
    // and the target and Authorization the receiver got.
    const rows: Array<[string, string, string, string]> = [
      [`http://127.0.0.1:${port}/Bpium/NewTask?token=SECRET9&id=7`, `http://127.0.0.1:${port}/Bpium/NewTask?token=***&id=7`, `http://127.0.0.1:${port}/Bpium/NewTask?token=***&id=7`, '/Bpium/NewTask?token=SECRET9&id=7 '],
      [`http:u:SECRET8@127.0.0.1:${port}/hook`, `http://***@127.0.0.1:${port}/hook`, `http://127.0.0.1:${port}/hook`, `/hook ${basicAuth('u', 'SECRET8')}`],
    ];
    for (const [url, shown, recorded, sent] of rows) {
      const created = await api(emulator, '/-/webhooks', { method: 'POST', body: { catalogId: '11', events: ['record.created'], url, secret: SECRET } });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      assert.equal((await api(emulator, `/-/webhooks/${created.body.id}`)).body.url, shown);
      assert.ok((await api(emulator, '/-/webhooks')).body.some((h: { url: string }) => h.url === shown));
      targets.length = 0;
      assert.equal((await api(emulator, '/catalogs/11/records', { method: 'POST', body: { values: { '2': 'x' } } })).status, 200);
      await emulator.settled();
      // Sent as given: the masking is only in what is shown.
      assert.ok(targets.includes(sent), JSON.stringify(targets));
      assert.equal(emulator.deliveries({ hookId: created.body.id }).at(-1)?.url, recorded);
      assert.equal((await api(emulator, `/-/webhooks/${created.body.id}`, { method: 'DELETE' })).status, 200);
    }
    assert.doesNotMatch(JSON.stringify((await api(emulator, '/-/webhooks')).body), /SECRET[89]/);
    assert.ok(logged.some((l) => l.includes(`http://127.0.0.1:${port}/Bpium/NewTask?token=***&id=7`)), logged.join('\n'));
    assert.doesNotMatch(logged.join('\n'), /SECRET[89]/);
  } finally {
    await emulator.stop();
    await new Promise((r) => receiver.close(r));
  }
});
