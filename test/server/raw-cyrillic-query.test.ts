// A request line with Cyrillic sent raw in the query (curl 'http://…/Bpium/NewTask?тема=Привет' encodes the path but
// not the query) or in the path is refused by Node's parser before the server sees it: the answer says why and how to send it,
// instead of a bare "400 Bad Request". Node's other parse errors keep Node's own answers, but for the 431, which says
// its reason.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { AUTH, startTestServer, type TestServer } from './server-helpers.js';

/** Sends `request` as raw bytes and returns everything the server answered before closing. */
function exchange(url: string, request: Buffer): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(request));
    const chunks: Buffer[] = [];
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

describe('a raw Cyrillic query in the request line', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ smtp: false });
  });
  after(async () => {
    await t.cleanup();
  });

  it('is answered 400 with the reason and the encoded form', async () => {
    const answer = await exchange(t.server.url, Buffer.from(`GET /Bpium/Задача?тема=Привет HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}\r\n\r\n`, 'utf8'));
    assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(answer, /Content-Type: text\/plain; charset=utf-8\r\n/);
    const body = answer.slice(answer.indexOf('\r\n\r\n') + 4);
    assert.match(body, /^400 Bad Request: the address has a character that must be percent-encoded .*Cyrillic/);
    assert.match(body, /\?%D1%82%D0%B5%D0%BC%D0%B0=%D0%9F for \?тема=П/);
    // Raw in the path, the same (curl encodes the path, other clients may not).
    const path = await exchange(t.server.url, Buffer.from(`POST /Bpium/НоваяЗадача HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}\r\nContent-Length: 2\r\n\r\n{}`, 'utf8'));
    assert.match(path, /^HTTP\/1\.1 400 Bad Request\r\n[^]*\r\n\r\n400 Bad Request: the address has a character that must be percent-encoded/);
  });

  it('is answered too after an earlier answer on a kept-alive connection, as node answers its own parse errors', async () => {
    // Node answers a parse error unless a response on the connection has begun; an earlier, finished one does not count.
    const { hostname, port } = new URL(t.server.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => socket.write(`GET /-/health HTTP/1.1\r\nHost: x\r\n\r\n`));
      let got = '';
      let second = false;
      socket.on('data', (d) => {
        got += d.toString('utf8');
        if (!second && /\r\n\r\n[^]*\}/.test(got)) {
          second = true;
          got = '';
          socket.write(Buffer.from('GET /Bpium/x?тема=Привет HTTP/1.1\r\nHost: x\r\n\r\n', 'utf8'));
        }
      });
      socket.on('error', reject);
      socket.on('close', () => resolve(got));
    });
    assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n[^]*\r\n\r\n400 Bad Request: the address has a character that must be percent-encoded/);
  });

  it('percent-encoded, reaches HTTP404 (404: no flow for that address)', async () => {
    const answer = await exchange(t.server.url, Buffer.from(`GET /Bpium/x?%D1%82%D0%B5%D0%BC%D0%B0=%D0%9F HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}\r\nConnection: close\r\n\r\n`));
    assert.match(answer, /^HTTP\/1\.1 404 /);
  });

  it('other parse errors: 431 for headers too large with its reason (web-api-node-answers.test.ts), node\'s 400 for a bad header', async () => {
    const big = await exchange(t.server.url, Buffer.from(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`));
    assert.match(big, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n[^]*\r\n\r\nthe request line and headers are larger than the server reads \(16 KB\): nothing was started/);
    const bad = await exchange(t.server.url, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n'));
    assert.equal(bad, 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  });
});
