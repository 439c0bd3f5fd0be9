// A refusal answered before the body is read (401 without valid credentials, 403 for a login without the right)
// closes the connection instead of reading the rest of the body (review 35, M4): before, the server kept reading and
// throwing away what a client without credentials streamed, until the request timeout. The close is gentle enough
// that a client still sending its body reads the whole answer.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { USER, startTestServer, type TestServer } from './server-helpers.js';

const VIEWER = 'Basic ' + Buffer.from('viewer:viewer-password-long').toString('base64');
const FRAME = 16 * 1024;
/** Where a client that is never stopped gives up streaming (the refusal must come long before). */
const GIVE_UP = 16 * 1024 * 1024;

interface Streamed {
  answer: string;
  /** Body bytes written after the answer began to arrive, until the server ended the connection (or GIVE_UP). */
  sentAfterAnswer: number;
  serverEnded: boolean;
  closed: boolean;
  /** The connection's error, if any (ECONNRESET: the server reset it rather than ending it after the answer). */
  error: string | undefined;
}

/**
 * Sends `POST path` with a chunked body on a raw connection: the headers and a first chunk, then, once the answer
 * begins to arrive, one chunk per turn of the event loop until the server ends the connection or GIVE_UP bytes went.
 */
function streamChunked(port: number, path: string, headers: Record<string, string> = {}): Promise<Streamed> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    const chunk = Buffer.concat([Buffer.from(`${FRAME.toString(16)}\r\n`), Buffer.alloc(FRAME, 'x'), Buffer.from('\r\n')]);
    let answer = '';
    let sentAfterAnswer = 0;
    let serverEnded = false;
    let pumping = false;
    let error: string | undefined;
    const done = (closed: boolean) => {
      s.destroy();
      resolve({ answer, sentAfterAnswer, serverEnded, closed, error });
    };
    const pump = () => {
      if (serverEnded || s.destroyed) return;
      if (sentAfterAnswer >= GIVE_UP) return done(false);
      sentAfterAnswer += chunk.length;
      s.write(chunk, () => setImmediate(pump));
    };
    s.on('data', (d) => {
      answer += d.toString('latin1');
      if (!pumping) {
        pumping = true;
        pump();
      }
    });
    s.on('end', () => (serverEnded = true));
    s.on('error', (e: NodeJS.ErrnoException) => (error ??= e.code ?? e.message));
    s.on('close', () => resolve({ answer, sentAfterAnswer, serverEnded, closed: true, error }));
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    s.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n${extra}\r\n`);
    s.write(chunk);
  });
}

describe('a refusal before the body is read closes the connection (review 35, M4)', () => {
  let t: TestServer;
  let port: number;
  before(async () => {
    t = await startTestServer({
      smtp: false,
      // A request timeout short enough that the test without the fix ends (the stream is given up long before it).
      env: { SMTP_URL: '', OKTELL_USERS: `${USER.login}:${USER.password},viewer[view]:viewer-password-long`, OKTELL_REQUEST_TIMEOUT_MS: '20000' },
    });
    port = Number(new URL(t.server.url).port);
  });
  after(async () => t.cleanup());

  const cases: Array<{ what: string; path: string; headers?: Record<string, string>; status: number }> = [
    { what: 'the hook route without credentials', path: '/some/hook', status: 401 },
    { what: 'the Web-API without credentials', path: '/execsvcscript?name=Echo', status: 401 },
    { what: 'the console without credentials', path: '/-/console/runs', status: 401 },
    { what: 'the hook route for a login without the hook right', path: '/some/hook', headers: { Authorization: VIEWER }, status: 403 },
    { what: 'the Web-API for a login without the api right', path: '/execsvcscript?name=Echo', headers: { Authorization: VIEWER }, status: 403 },
    { what: 'a console action for a read-only login', path: '/-/console/runs/x/replay', headers: { Authorization: VIEWER }, status: 403 },
  ];
  for (const c of cases) {
    it(`${c.what}: ${c.status}, Connection: close, and the server ends the connection while the client still streams`, { timeout: 60_000 }, async () => {
      const r = await streamChunked(port, c.path, c.headers);
      assert.match(r.answer, new RegExp(`^HTTP/1\\.1 ${c.status} `), r.answer.slice(0, 200));
      assert.match(r.answer, /\r\nConnection: close\r\n/i);
      assert.ok(r.serverEnded, `the server ended the connection after its answer (${r.error ? `it failed with ${r.error}` : `the client gave up after ${r.sentAfterAnswer} bytes`})`);
      assert.ok(r.sentAfterAnswer < 1024 * 1024, `at most 1 MiB streamed after the answer, not ${r.sentAfterAnswer}`);
      assert.ok(r.closed, 'and the connection closed');
    });
  }

  for (const path of ['/some/hook', '/execsvcscript?name=Echo', '/-/console/runs']) {
    it(`fetch of a refused POST to ${path.split('?')[0]} still reads the whole 401, for a small body and for one still being sent`, { timeout: 60_000 }, async () => {
      for (const size of [1000, 8_000_000]) {
        const res = await fetch(`${t.server.url}${path}`, { method: 'POST', body: Buffer.alloc(size, 'a'), headers: { 'content-type': 'text/plain' } });
        assert.equal(res.status, 401, `${size} bytes`);
        assert.equal(await res.text(), '401 Unauthorized: valid Oktell credentials are required\n');
      }
    });
  }

  it('a refusal of a request without a body keeps the connection open for the next request', async () => {
    const res = await fetch(`${t.server.url}/some/hook`);
    assert.equal(res.status, 401);
    assert.notEqual(res.headers.get('connection'), 'close');
    await res.text();
  });
});
