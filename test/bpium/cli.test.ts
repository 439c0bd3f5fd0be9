// The bpium-emulator and demo commands: settings precedence, a real emulator run, the demo end to end, clear errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoPath } from '../helpers.js';
import { bpiumEmulatorCommand } from '../../cli/commands/bpium-emulator.command.js';
import { resolveEmulatorSettings } from '../../cli/commands/bpium-emulator.js';
import { demoCommand } from '../../cli/commands/demo.command.js';
import { DemoError, runDemo } from '../../cli/commands/demo.js';
import { basicAuth, closedPort, startReceiver, startTestEmulator, tempDir } from './helpers.js';

test('the emulator port comes from the flag, else BPIUM_EMULATOR_PORT, else 4056', () => {
  assert.equal(resolveEmulatorSettings({ port: 5000 }, { BPIUM_EMULATOR_PORT: '6000' }).port, 5000);
  assert.equal(resolveEmulatorSettings({}, { BPIUM_EMULATOR_PORT: '6000' }).port, 6000);
  assert.equal(resolveEmulatorSettings({}, {}).port, 4056);
  assert.throws(() => resolveEmulatorSettings({}, { BPIUM_EMULATOR_PORT: 'http' }));
});

test('the account is BPIUM_LOGIN/BPIUM_PASSWORD, else the demo one; the data dir is the flag, else OKTELL_DATA_DIR', () => {
  const demo = resolveEmulatorSettings({}, { OKTELL_DATA_DIR: '/tmp/oktell-data' });
  assert.deepEqual([demo.login, demo.password, demo.dataDir], ['demo@example.com', 'demo', '/tmp/oktell-data']);
  const own = resolveEmulatorSettings({ dataDir: '/tmp/flag-dir' }, { BPIUM_LOGIN: 'api@example.org', BPIUM_PASSWORD: 's3cret', OKTELL_DATA_DIR: '/tmp/x' });
  assert.deepEqual([own.login, own.password, own.dataDir], ['api@example.org', 's3cret', '/tmp/flag-dir']);
});

test('a webhook URL without a secret is refused', () => {
  assert.throws(() => resolveEmulatorSettings({ webhookUrl: 'http://127.0.0.1:4055/Bpium/NewTask' }, {}));
  const ok = resolveEmulatorSettings({ webhookUrl: 'http://u:p@127.0.0.1:4055/Bpium/NewTask' }, { BPIUM_WEBHOOK_SECRET: 'x' });
  assert.deepEqual(ok.webhookTarget, { url: 'http://u:p@127.0.0.1:4055/Bpium/NewTask', secret: 'x' });
});

test('bpium-emulator listens, prints its address and credentials, and stops on the stop signal', { timeout: 10_000 }, async () => {
  const dir = tempDir();
  let out = '';
  let stop!: () => void;
  const stopped = new Promise<void>((r) => { stop = r; });
  const command = bpiumEmulatorCommand({ env: {}, write: (t) => { out += t; }, stopSignal: () => stopped });
  const running = command.parseAsync(['node', 'bpium-emulator', '--port', '0', '--data-dir', dir.path, '--webhook-url', `http://127.0.0.1:${await closedPort()}/x`, '--webhook-secret', 's']);
  try {
    for (let i = 0; i < 100 && !/listening on/.test(out); i++) await new Promise((r) => setTimeout(r, 20));
    const url = /listening on \S*?(http:\/\/\S+)/.exec(out.replace(/\x1b\[[0-9;]*m/g, ''))?.[1];
    assert.ok(url, out);
    assert.match(out, /demo@example\.com \/ demo/);
    const res = await fetch(`${url}/catalogs/11`, { headers: { authorization: basicAuth('demo@example.com', 'demo') } });
    assert.equal(res.status, 200);
  } finally {
    stop();
    await running;
    dir.remove();
  }
  assert.match(out, /stopped/);
});

test('the demo creates a task with a responsible employee and reports the webhook delivery', { timeout: 20_000 }, async () => {
  const receiver = await startReceiver();
  const emulator = await startTestEmulator({ webhookTarget: { url: receiver.url, secret: 'demo' } });
  try {
    const result = await runDemo({ url: emulator.url, login: emulator.login, password: emulator.password, title: 'Демо', description: 'Проверка' });
    assert.deepEqual(result.responsible, { id: '2', name: 'Иван Петров', email: 'ivan.petrov@example.com' });
    assert.equal(result.delivery?.status, 200);
    assert.equal(receiver.received[0]?.body.payload.recordId, result.recordId);
    assert.deepEqual(receiver.received[0]?.body.payload.values['4'], [{ id: '2', title: 'Иван Петров', isRemoved: false }]);

    let out = '';
    const origin = emulator.url.replace(/\/api\/v1$/, '');
    await demoCommand({ env: { BPIUM_URL: origin }, write: (t) => { out += t; } }).parseAsync(['node', 'demo', '--responsible', '4', '--title', 'Вторая']);
    const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
    assert.match(plain, /Created task \d+ in Задачи/);
    assert.match(plain, /Олег Кузнецов <oleg\.kuznetsov@example\.com>/);
    assert.match(plain, /record\.created #2 .*HTTP 200/);
    assert.match(plain, /npx oktell-emu outbox/);
  } finally {
    await emulator.stop();
    await receiver.close();
  }
});

test('the demo says how to start things when nothing listens', { timeout: 10_000 }, async () => {
  const port = await closedPort();
  await assert.rejects(
    runDemo({ url: `http://127.0.0.1:${port}`, login: 'demo@example.com', password: 'demo', title: 't', description: 'd' }),
    (err: unknown) => err instanceof DemoError && /nothing answers at http:\/\/127\.0\.0\.1:\d+\/api\/v1/.test(err.message) && /npm start/.test(err.message),
  );
  let errors = '';
  const saved = process.exitCode;
  await demoCommand({ env: { BPIUM_EMULATOR_PORT: String(port) }, write: () => undefined, writeError: (t) => { errors += t; } }).parseAsync(['node', 'demo']);
  assert.equal(process.exitCode, 1);
  process.exitCode = saved;
  assert.match(errors, /npm start/);
});

/** What `bpium-emulator` prints at its start with the seed's webhook sent to `url`, colours taken out. */
async function startListing(url: string): Promise<string> {
  const dir = tempDir();
  const seed = join(dir.path, 'seed.yaml');
  writeFileSync(seed, readFileSync(repoPath('bpium-emulator', 'seed.yaml'), 'utf8').replace('url: /Bpium/NewTask', `url: "${url}"`));
  let out = '';
  let stop!: () => void;
  const stopped = new Promise<void>((r) => { stop = r; });
  const command = bpiumEmulatorCommand({ env: {}, write: (t) => { out += t; }, stopSignal: () => stopped });
  const running = command.parseAsync(['node', 'bpium-emulator', '--port', '0', '--data-dir', join(dir.path, 'var'), '--seed', seed]);
  try {
    for (let i = 0; i < 100 && !/Ctrl\+C/.test(out); i++) await new Promise((r) => setTimeout(r, 20));
    return out.replace(/\x1b\[[0-9;]*m/g, '');
  } finally {
    stop();
    await running;
    dir.remove();
  }
}

test('bpium-emulator prints a webhook URL whose password holds an unencoded "/" without any of it', { timeout: 10_000 }, async () => {
  // A URL parser reads "localhost:4999" as the host and port, and the rest of the password as the path.
  const plain = await startListing('http://localhost:4999/pw-SECRET9@127.0.0.1:4055/Bpium/NewTask');
  assert.match(plain, /webhook 1: catalog 11 record\.created → http:\/\/\*\*\*@127\.0\.0\.1:4055\/Bpium\/NewTask\n/);
  assert.doesNotMatch(plain, /SECRET9|localhost/);
});

test('bpium-emulator prints a webhook URL with a token in its query with the token masked, the rest as written', { timeout: 10_000 }, async () => {
  // Before, the start-up listing printed "?token=SECRET9" as the seed gives it.
  const plain = await startListing('http://127.0.0.1:4055/Bpium/NewTask?token=SECRET9&mail=a@b.example');
  assert.match(plain, /webhook 1: catalog 11 record\.created → http:\/\/127\.0\.0\.1:4055\/Bpium\/NewTask\?token=\*\*\*&mail=a@b\.example\n/);
  assert.doesNotMatch(plain, /SECRET9/);
});
