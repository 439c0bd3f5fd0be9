// A named pipe under a letter's name in the outbox (mkfifo by whoever owns the folder), or in the place of a kept
// secret file: opened for reading, it waited for a writer forever. The outbox page never answered (each such open held
// one of libuv's four threads, and the process could not even exit), and a start reading the secret hung. Now such a
// file is opened without waiting (O_NONBLOCK) and refused as not a regular file: the page lists it with why.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { closeSync, constants, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { get, startConsoleServer, textOf, type ConsoleServer } from './console-helpers.js';

const fifos = process.platform !== 'win32';

function mkfifo(path: string): void {
  const r = spawnSync('mkfifo', [path]);
  if (r.status !== 0) throw new Error(`mkfifo ${path}: ${r.stderr}`);
}

/** Lets a reader blocked on the pipe go (what a test without the fix leaves behind), so the process can end. */
function release(path: string): void {
  try {
    closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
  } catch {
    // ENXIO: no reader waits on it.
  }
}

/** `promise`, or a failure once `ms` passed. */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

describe('a named pipe in the outbox', { skip: fifos ? false : 'no named pipes here' }, () => {
  let t: ConsoleServer;
  let outbox: string;
  const pipe = '20261201-120002-000-000002-00000002.eml';
  const good = '20261201-120001-000-000001-00000001.eml';
  // A socket: its open fails with ENXIO, said the same way, not with the /proc/self/fd/N path root opened it by.
  const socket = '20261201-120003-000-000003-00000003.eml';
  let listening: Server | undefined;

  before(async () => {
    t = await startConsoleServer();
    outbox = join(t.dataDir, 'outbox');
    mkdirSync(outbox, { recursive: true });
    writeFileSync(join(outbox, good), 'From: oktell@localhost\r\nTo: ivan@example.com\r\nSubject: Good letter\r\nMessage-ID: <m1@localhost>\r\n\r\nHello\r\n', { mode: 0o600 });
    mkfifo(join(outbox, pipe));
    listening = createServer();
    await new Promise<void>((done) => listening!.listen(join(outbox, socket), done));
  });
  after(async () => {
    await new Promise((done) => (listening ? listening.close(done) : done(undefined)));
    for (let i = 0; i < 8; i++) release(join(outbox, pipe));
    await t?.cleanup();
  });

  it('the outbox page answers, listing it (and a socket) as not a letter file; its own page says why', { timeout: 30_000 }, async () => {
    const res = await within(5000, 'the outbox page', get(`${t.base}/outbox`));
    const text = textOf(await res.text());
    assert.equal(res.status, 200, text);
    assert.match(text, /Good letter/);
    assert.match(text, new RegExp(`${pipe} not a regular file \\(a named pipe, socket or device\\), not a letter file: remove it`));
    assert.match(text, new RegExp(`${socket} not a regular file \\(a named pipe, socket or device\\)`));
    assert.doesNotMatch(text, /\/proc\/self\/fd/);
    const one = await within(5000, 'the letter page', get(`${t.base}/outbox/${pipe}`));
    assert.equal(one.status, 500);
    assert.match(textOf(await one.text()), /not a regular file/);
  });
});

describe('a named pipe in the place of a kept secret', { skip: fifos ? false : 'no named pipes here' }, () => {
  it('is refused at once, not waited on', { timeout: 30_000 }, () => {
    const tmp = tempDir('oktell-secret-fifo-');
    try {
      mkfifo(join(tmp.dir, 'bpium-webhook-secret'));
      const module = new URL('../../server/credentials.js', import.meta.url).href;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', `const { persistentSecret } = await import(${JSON.stringify(module)}); try { persistentSecret(${JSON.stringify(tmp.dir)}, 'bpium-webhook-secret'); console.log('read'); } catch (e) { console.log(e.code + ' ' + e.message); }`], { timeout: 5000, encoding: 'utf8' });
      assert.equal(r.signal, null, `the command was killed after 5 s, waiting on the pipe: ${r.stderr}`);
      assert.match(r.stdout, /^E_NOT_A_FILE .*bpium-webhook-secret is not a regular file/);
    } finally {
      tmp.cleanup();
    }
  });
});
