// The emulator's webhooks reach a real receiver: the documented body, Basic credentials from the URL, a verifiable signature.
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyBpiumSignature } from '../../adapters/bpium/signature.js';
import { startBpiumEmulator } from '../../bpium-emulator/index.js';
import { WEBHOOK_USER_AGENT } from '../../bpium-emulator/webhooks.js';
import { clientFor, startReceiver, startTestEmulator, tempDir } from './helpers.js';

const SECRET = 'hook-secret-for-tests';

function withCredentials(url: string, user: string, password: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = password;
  return u.toString();
}

test('creating a task POSTs record.created with all filled values, signed, with Basic credentials from the URL', { timeout: 10_000 }, async () => {
  const receiver = await startReceiver();
  const emulator = await startTestEmulator({ webhookTarget: { url: withCredentials(receiver.url, 'oktell', 'p@ss:word'), secret: SECRET } });
  try {
    const bpium = clientFor(emulator);
    const before = Math.floor(Date.now() / 1000);
    const { id } = await bpium.createRecord('11', { '2': 'Позвонить клиенту', '4': [{ id: '2' }] });
    await emulator.settled();
    assert.equal(receiver.received.length, 1);
    const hook = receiver.received[0]!;
    assert.equal(hook.headers['content-type'], 'application/json');
    assert.equal(hook.headers.authorization, `Basic ${Buffer.from('oktell:p@ss:word').toString('base64')}`);
    assert.equal(verifyBpiumSignature(SECRET, hook.raw, hook.headers['x-hook-signature'] as string), true);
    assert.equal(verifyBpiumSignature('another-secret', hook.raw, hook.headers['x-hook-signature'] as string), false);
    assert.match(hook.body.timestamp, /^\d+$/);
    assert.ok(Number(hook.body.timestamp) >= before);
    assert.deepEqual({ ...hook.body, timestamp: 'T' }, {
      timestamp: 'T',
      hook: { id: '1', event: 'record.created', sequenceId: 1 },
      payload: { catalogId: '11', recordId: id, values: { '2': 'Позвонить клиенту', '4': [{ id: '2', title: 'Иван Петров', isRemoved: false }] } },
      user: { id: '1' },
    });
    const [delivery] = emulator.deliveries({ recordId: id });
    assert.equal(delivery?.status, 200);
    assert.equal(delivery?.url, receiver.url, 'the recorded URL carries no credentials');
    bpium.close();
  } finally {
    await emulator.stop();
    await receiver.close();
  }
});

test('a webhook carries the headers Bpium sends and a User-Agent naming the emulator, none of fetch\'s browser ones', { timeout: 10_000 }, async () => {
  const receiver = await startReceiver();
  const emulator = await startTestEmulator({ webhookTarget: { url: withCredentials(receiver.url, 'oktell', 'pw'), secret: SECRET } });
  try {
    const bpium = clientFor(emulator);
    await bpium.createRecord('11', { '2': 'Заголовки' });
    await emulator.settled();
    bpium.close();
    const headers = receiver.received[0]!.headers;
    assert.deepEqual(Object.keys(headers).sort(), ['authorization', 'connection', 'content-length', 'content-type', 'host', 'user-agent', 'x-hook-signature']);
    assert.equal(headers['user-agent'], WEBHOOK_USER_AGENT);
    assert.match(WEBHOOK_USER_AGENT, /^Bpium-Emulator\/\S+ \(oktell-emulator\)$/);
    assert.equal(headers['content-length'], String(receiver.received[0]!.raw.length));
  } finally {
    await emulator.stop();
    await receiver.close();
  }
});

test('sequenceId increments per hook and continues after a restart', { timeout: 15_000 }, async () => {
  const receiver = await startReceiver();
  const dir = tempDir();
  const target = { url: receiver.url, secret: SECRET };
  try {
    const first = await startBpiumEmulator({ dataDir: dir.path, port: 0, webhookTarget: target });
    const a = clientFor(first);
    await a.createRecord('11', { '2': 'Первая' });
    await a.createRecord('11', { '2': 'Вторая' });
    a.close();
    await first.close();
    const second = await startBpiumEmulator({ dataDir: dir.path, port: 0, webhookTarget: target });
    const b = clientFor(second);
    await b.createRecord('11', { '2': 'Третья' });
    await second.settled();
    b.close();
    await second.close();
    assert.deepEqual(receiver.received.map((h) => h.body.hook.sequenceId), [1, 2, 3]);
  } finally {
    await receiver.close();
    dir.remove();
  }
});

test('record.updated carries only the changed fields in values and every field in prevValues', { timeout: 10_000 }, async () => {
  const receiver = await startReceiver();
  const emulator = await startTestEmulator();
  try {
    emulator.addWebhook({ catalogId: '11', events: ['record.updated', 'record.deleted'], url: receiver.url, secret: SECRET });
    const bpium = clientFor(emulator);
    await bpium.updateRecord('11', '1', { '2': 'Подготовить отчёт за квартал', '4': [{ id: '4' }] });
    await bpium.updateRecord('11', '1', { '2': 'Подготовить отчёт за квартал' }); // no change, no hook
    await bpium.deleteRecord('11', '1');
    await emulator.settled();
    assert.deepEqual(receiver.received.map((h) => h.body.hook.event), ['record.updated', 'record.deleted']);
    const updated = receiver.received[0]!.body.payload;
    assert.deepEqual(updated.values, { '4': [{ id: '4', title: 'Олег Кузнецов', isRemoved: false }] });
    assert.deepEqual(updated.prevValues, {
      '2': 'Подготовить отчёт за квартал',
      '3': 'Свести продажи по отделам и отправить руководителю.',
      '4': [{ id: '3', title: 'Мария Смирнова', isRemoved: false }],
      '5': ['2'],
    });
    assert.equal(receiver.received[1]!.body.payload.recordId, '1');
    assert.equal(receiver.received[1]!.body.hook.sequenceId, 2);
    bpium.close();
  } finally {
    await emulator.stop();
    await receiver.close();
  }
});

test('a failing receiver is recorded and not retried; a 410 reply deletes the subscription', { timeout: 10_000 }, async () => {
  let status = 500;
  const receiver = await startReceiver(() => status);
  const emulator = await startTestEmulator({ webhookTarget: { url: receiver.url, secret: SECRET } });
  try {
    const bpium = clientFor(emulator);
    await bpium.createRecord('11', { '2': 'Упадёт' });
    await emulator.settled();
    status = 410;
    await bpium.createRecord('11', { '2': 'Отпишет' });
    await emulator.settled();
    await bpium.createRecord('11', { '2': 'Никто не услышит' });
    await emulator.settled();
    assert.equal(receiver.received.length, 2);
    assert.deepEqual(emulator.deliveries().map((d) => d.status), [500, 410]);
    assert.deepEqual(emulator.webhooks(), []);
    bpium.close();
  } finally {
    await emulator.stop();
    await receiver.close();
  }
});

test('a receiver that drops the connection is recorded as an error delivery, with its sequence number used up', { timeout: 10_000 }, async () => {
  const dropper = createServer((socket) => socket.destroy());
  await new Promise<void>((r) => dropper.listen(0, '127.0.0.1', r));
  const { port } = dropper.address() as AddressInfo;
  const emulator = await startTestEmulator({ webhookTarget: { url: `http://127.0.0.1:${port}/Bpium/NewTask`, secret: SECRET } });
  try {
    const bpium = clientFor(emulator);
    const { id } = await bpium.createRecord('11', { '2': 'В пустоту' });
    await emulator.settled();
    const [delivery] = emulator.deliveries({ recordId: id });
    assert.equal(delivery?.status, undefined);
    assert.equal(typeof delivery?.error, 'string');
    assert.equal(delivery?.sequenceId, 1);
    assert.equal(emulator.webhooks()[0]?.sequenceId, 1);
    bpium.close();
  } finally {
    await emulator.stop();
    await new Promise<void>((r) => dropper.close(() => r()));
  }
});

test('a receiver that never answers is recorded as a timeout after webhookTimeoutMs, and the connection is closed', { timeout: 10_000 }, async () => {
  const sockets: Array<import('node:net').Socket> = [];
  const silent = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    socket.resume(); // reads the request and never answers; reading lets the client's close reach this side
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const { port } = silent.address() as AddressInfo;
  const emulator = await startTestEmulator({ webhookTimeoutMs: 300, webhookTarget: { url: `http://127.0.0.1:${port}/Bpium/NewTask`, secret: SECRET } });
  try {
    const bpium = clientFor(emulator);
    const { id } = await bpium.createRecord('11', { '2': 'Без ответа' });
    await emulator.settled();
    bpium.close();
    const [delivery] = emulator.deliveries({ recordId: id });
    assert.equal(delivery?.status, undefined);
    assert.equal(delivery?.error, 'timeout after 300 ms');
    await new Promise<void>((r) => (sockets[0]!.closed ? r() : sockets[0]!.once('close', () => r())));
  } finally {
    await emulator.stop();
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => silent.close(() => r()));
  }
});
