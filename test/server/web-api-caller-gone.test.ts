// A Web-API caller that hangs up during a synchronous run (its own HTTP timeout, a 1C client closed): the run goes on
// to its end and is recorded, and the log has a line for the request, naming the run, where before there was none
// (the request line is written when an answer is sent). The service the run calls holds its answer until the caller
// has gone, so the order of events does not depend on the machine's speed. A request the server itself cuts (a body
// that does not arrive within the request timeout) is not logged as ended by the client. Real server, real HTTP.
import assert from 'node:assert/strict';
import { createServer, request, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { AUTH, capturingLogger, startTestServer, waitFor } from './server-helpers.js';

const SLOW = `variables: { url: string, answer: string }
blocks:
  begin: { kind: Start, param: url, exits: { next: ask } }
  ask: { kind: WebRequest, url: '[url]', responseBody: answer, exits: { success: after } }
  after: { kind: ReturnValue, values: { 1: '"after " + [answer]' } }
`;

describe('a Web-API caller that hangs up during a synchronous run', () => {
  it('the run goes on to its end, and the log names the request and its run', { timeout: 60_000 }, async () => {
    const held: ServerResponse[] = [];
    let asked!: () => void;
    const askedOnce = new Promise<void>((r) => (asked = r));
    const service = createServer((_req, res) => {
      held.push(res);
      asked();
    });
    await new Promise<void>((r) => service.listen(0, '127.0.0.1', r));
    const serviceUrl = `http://127.0.0.1:${(service.address() as AddressInfo).port}/slow`;
    const log = capturingLogger();
    const t = await startTestServer({ smtp: false, logger: log.logger, env: { SMTP_URL: '', OKTELL_SYNC_TIMEOUT: '' }, extraScenarios: { 'Slow.yaml': SLOW } });
    try {
      const url = new URL(`${t.server.url}/execsvcscriptplain?name=Slow&startparam1=${encodeURIComponent(serviceUrl)}`);
      const req = request(url, { headers: { authorization: AUTH } });
      req.on('error', () => {});
      req.end();
      await askedOnce;
      req.destroy();
      const gone = await waitFor('the log line of the request whose caller left', () => log.lines.find((l) => l.obj.clientGone === true));
      assert.equal(gone.level, 'info');
      assert.equal(gone.msg, 'request ended by the client before its answer was sent');
      assert.equal(gone.obj.path, '/execsvcscriptplain');
      const runId = gone.obj.runId as string;
      assert.match(runId, /^\w+$/);
      held.splice(0).forEach((res) => res.end('ok'));
      const run = await waitFor('the run to be recorded', async () => {
        const r = await t.server.store.getRun(runId);
        return r && r.status !== 'running' ? r : undefined;
      });
      assert.equal(run.status, 'completed');
      assert.equal((run.returnValues as Record<string, unknown>)['1'], 'after ok');
    } finally {
      held.splice(0).forEach((res) => res.end('ok'));
      await t.cleanup();
      await new Promise<void>((r) => { service.closeAllConnections(); service.close(() => r()); });
    }
  });
});

describe('a request whose body does not arrive within the request timeout', () => {
  it('is logged as cut off by the server, not as ended by the client, on the Web-API and on the hook', { timeout: 60_000 }, async () => {
    const log = capturingLogger();
    const t = await startTestServer({ smtp: false, logger: log.logger, env: { SMTP_URL: '', OKTELL_REQUEST_TIMEOUT_MS: '300' } });
    try {
      const { port } = new URL(t.server.url);
      for (const path of ['/execsvcscriptplain?name=Echo', '/Bpium/NewTask']) {
        // Headers and 10 of the 100 bytes declared, then nothing: the server answers 408 and closes the connection.
        const socket = connect(Number(port), '127.0.0.1');
        let answer = '';
        socket.setEncoding('latin1').on('data', (c: string) => (answer += c));
        const closed = new Promise<void>((r) => socket.on('close', () => r()));
        socket.on('error', () => {});
        socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nstartparam`);
        await closed;
        assert.match(answer, /^HTTP\/1\.1 408 /, path);
        const bare = path.split('?')[0]!;
        const line = await waitFor(`the log line of ${bare}`, () => log.lines.find((l) => l.obj.path === bare && l.level === 'info'));
        assert.equal(line.obj.clientGone, undefined, `${bare}: ${line.msg}`);
        assert.equal(line.msg, 'request cut off by the server before its answer was sent (its body did not arrive within the request timeout, OKTELL_REQUEST_TIMEOUT_MS; answered 408)');
        assert.match(String(line.obj.cutByServer), /request timeout/);
      }
    } finally {
      await t.cleanup();
    }
  });
});

describe('a caller that hangs up in the middle of its body', () => {
  it('is logged as ended by the client, not as cut off by the server, on the Web-API and on the hook', { timeout: 60_000 }, async () => {
    const log = capturingLogger();
    const t = await startTestServer({ smtp: false, logger: log.logger, env: { SMTP_URL: '' } });
    try {
      const { port } = new URL(t.server.url);
      for (const path of ['/execsvcscriptplain?name=Echo', '/Bpium/NewTask']) {
        // Headers and 10 of the 100 bytes declared, then the caller closes its side (its own timeout, a closed 1C
        // client): Node reports the body's end as a parse error (HPE_INVALID_EOF_STATE), which is the caller's doing.
        const socket = connect(Number(port), '127.0.0.1');
        const closed = new Promise<void>((r) => socket.on('close', () => r()));
        socket.on('error', () => {});
        socket.resume();
        socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nstartparam`);
        await new Promise((r) => setTimeout(r, 200));
        socket.end();
        await closed;
        const bare = path.split('?')[0]!;
        const line = await waitFor(`the log line of ${bare}`, () => log.lines.find((l) => l.obj.path === bare && l.level === 'info'));
        assert.equal(line.obj.cutByServer, undefined, `${bare}: ${line.msg}`);
        assert.equal(line.msg, 'request ended by the client before its answer was sent');
        assert.equal(line.obj.clientGone, true);
      }
    } finally {
      await t.cleanup();
    }
  });
});
