// The answers Node's parser makes before the Web-API's route runs — 408 for a request whose body does not arrive in
// time, 431 for a request line and headers past 16 KB (a long GET) — come in the Web-API's own form on its paths:
// Oktell's XML with startresult -1 on /execsvcscript, the reason as plain text on /execsvcscriptplain, with the
// X-Oktell-Start-Result header, so a client that parses the answer learns that nothing started. Other paths keep
// Node's bare 408; their 431, and one whose headers came in several reads (its path not known any more), says its
// reason as text, with the start result, but not the Web-API's "send long values as a POST form". Real server, raw bytes over a real socket.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { AUTH, startTestServer, type TestServer } from './server-helpers.js';

/** Writes `chunks` (a pause between them), and returns all the server answered before it closed the connection. */
function exchange(url: string, chunks: string[]): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, async () => {
      for (const c of chunks) {
        if (socket.destroyed) break;
        socket.write(c);
        await new Promise((r) => setTimeout(r, 30));
      }
    });
    let got = '';
    socket.setEncoding('utf8').on('data', (d: string) => (got += d));
    socket.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' || e.code === 'EPIPE' ? undefined : reject(e)));
    socket.on('close', () => resolve(got));
  });
}

function parts(answer: string): { status: string; headers: string; body: string } {
  const end = answer.indexOf('\r\n\r\n');
  const head = answer.slice(0, end);
  return { status: head.split('\r\n')[0]!, headers: head, body: answer.slice(end + 4) };
}

describe("Node's own 408 and 431 on the Web-API", () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ smtp: false, env: { SMTP_URL: '', OKTELL_REQUEST_TIMEOUT_MS: '300' } });
  });
  after(async () => {
    await t.cleanup();
  });

  const stalled = (path: string) => `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nname=Echo`;

  it('a body that does not arrive in time: 408 with the XML start result on execsvcscript', async () => {
    const a = parts(await exchange(t.server.url, [stalled('/execsvcscript')]));
    assert.equal(a.status, 'HTTP/1.1 408 Request Timeout');
    assert.match(a.headers, /\r\nContent-Type: application\/xml; charset=utf-8/);
    assert.match(a.headers, /\r\nX-Oktell-Start-Result: -1/);
    assert.match(a.body, /^<\?xml version="1\.0" encoding="utf-8"\?>\n<oktellxmlmapper/);
    assert.match(a.body, /<property_simple key="started" value="0" name="error" \/>/);
    assert.match(a.body, /<property_simple key="startresult" value="-1" name="notstarted" \/>/);
    assert.match(a.body, /<!\[CDATA\[the request did not arrive within the request timeout \(OKTELL_REQUEST_TIMEOUT_MS\): nothing was started; send it again\]\]>/);
  });

  it('the same in plain text on execsvcscriptplain (any spelling the route takes)', async () => {
    const a = parts(await exchange(t.server.url, [stalled('/ExecSvcScriptPlain/?async=1')]));
    assert.equal(a.status, 'HTTP/1.1 408 Request Timeout');
    assert.match(a.headers, /\r\nContent-Type: text\/plain; charset=utf-8/);
    assert.match(a.headers, /\r\nX-Oktell-Start-Result: -1/);
    assert.equal(a.body, 'the request did not arrive within the request timeout (OKTELL_REQUEST_TIMEOUT_MS): nothing was started; send it again');
  });

  it('a GET past 16 KB: 431 in the route form, XML and plain', async () => {
    const long = `startparam1=${'%D0%AF'.repeat(3000)}`;
    const xml = parts(await exchange(t.server.url, [`GET /execsvcscript?name=Echo&${long} HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}\r\n\r\n`]));
    assert.equal(xml.status, 'HTTP/1.1 431 Request Header Fields Too Large');
    assert.match(xml.headers, /\r\nX-Oktell-Start-Result: -1/);
    assert.match(xml.body, /<property_simple key="startresult" value="-1" name="notstarted" \/>/);
    assert.match(xml.body, /larger than the server reads \(16 KB\): nothing was started; send long values as a POST form/);
    const plain = parts(await exchange(t.server.url, [`GET /execsvcscriptplain?name=Echo&${long} HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}\r\n\r\n`]));
    assert.equal(plain.status, 'HTTP/1.1 431 Request Header Fields Too Large');
    assert.match(plain.headers, /\r\nContent-Type: text\/plain; charset=utf-8\r\nX-Oktell-Start-Result: -1/);
    assert.match(plain.body, /^the request line and headers are larger than the server reads \(16 KB\): nothing was started/);
  });

  /** Without the Web-API's "send long values as a POST form": a hook's sender or the console cannot do that. */
  const REASON_431 = 'the request line and headers are larger than the server reads (16 KB): nothing was started';
  /** The 431 of every path but the Web-API's, and of headers whose request line is not known any more. */
  const PLAIN_431 =
    `HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; charset=utf-8\r\nX-Oktell-Start-Result: -1\r\nContent-Length: ${Buffer.byteLength(REASON_431)}\r\nConnection: close\r\n\r\n` +
    REASON_431;

  it('other paths keep node’s bare 408, and get the 431 with its reason as text', async () => {
    assert.equal(await exchange(t.server.url, [stalled('/Bpium/NewTask')]), 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n');
    assert.equal(await exchange(t.server.url, [`GET /Bpium/x?${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`]), PLAIN_431);
    // execsvcscript is not mistaken for the start of a longer path cut at the end of what was read.
    assert.equal(await exchange(t.server.url, [`GET /execsvcscriptplainer?${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`]), PLAIN_431);
  });

  it('headers too large that come in several writes get the same 431 as those sent at once, not an empty body', async () => {
    const big = (n: number) => `X-Big-${n}: ${'y'.repeat(6000)}\r\n`;
    const pieces = (path: string) => [`GET ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}\r\n`, big(1), big(2), big(3), '\r\n'];
    const atOnce = await exchange(t.server.url, [pieces('/Bpium/x').join('')]);
    assert.equal(atOnce, PLAIN_431);
    assert.equal(await exchange(t.server.url, pieces('/Bpium/x')), atOnce);
    // On the Web-API, however the bytes were read: the reason and the start result, in the route's form or as text.
    const web = parts(await exchange(t.server.url, pieces('/execsvcscriptplain?name=Echo')));
    assert.equal(web.status, 'HTTP/1.1 431 Request Header Fields Too Large');
    assert.match(web.headers, /\r\nX-Oktell-Start-Result: -1\r\n/);
    assert.match(web.body, /^the request line and headers are larger than the server reads \(16 KB\): nothing was started/);
  });

  it('the hook route (HTTP404) and the console get the plain reason, without the Web-API\'s POST form hint', async () => {
    for (const path of ['/Bpium/NewTask', '/', '/-/console/runs', '/-/metrics']) {
      const answer = await exchange(t.server.url, [`GET ${path}?${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}\r\n\r\n`]);
      assert.equal(answer, PLAIN_431, path);
      assert.doesNotMatch(answer, /POST form/, path);
    }
    // The Web-API keeps it, in its route's form.
    assert.match(parts(await exchange(t.server.url, [`GET /execsvcscriptplain?${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`])).body, /: nothing was started; send long values as a POST form, with the parameters in the body$/);
  });
});
