// A graceful stop and the connections of clients that keep them alive (a load balancer, Bpium's HTTP client): a
// request that reached the server before its port closed is answered — 200 once stored, or 503 with Retry-After
// while the server stops — never cut with an empty reply (trial s33-ops, finding 5).
import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import { signBpiumBody } from '../../adapters/bpium/signature.js';
import { AUTH, BPIUM_READ_SCENARIO, startTestServer, taskWebhook, waitFor, type TestServer } from './server-helpers.js';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** Whether the request went on a connection kept alive from an earlier one. */
  reused: boolean;
}

interface Sending {
  body: string;
  /** The request whose body the caller sends (write, end). */
  req: http.ClientRequest;
  /** Its answer, or the error that ended it without one. */
  answer: Promise<Answer | Error>;
}

/** A signed /Bpium/NewTask webhook on `agent`; its body is left to the caller to send. */
function webhook(t: TestServer, agent: http.Agent, body: string): Sending {
  const url = new URL(`${t.server.url}/Bpium/NewTask`);
  const headers = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), authorization: AUTH, 'x-hook-signature': signBpiumBody(t.secret, body) };
  const req = http.request(url, { method: 'POST', agent, headers });
  const answer = new Promise<Answer | Error>((resolve) => {
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text, reused: req.reusedSocket }));
    });
    req.on('error', resolve);
  });
  return { body, req, answer };
}

function describeAnswer(a: Answer | Error): string {
  return a instanceof Error ? `${(a as NodeJS.ErrnoException).code ?? ''} ${a.message}` : `${a.status} ${a.headers.connection ?? ''}`;
}

/** Whether a new connection to the server's port is refused (the port has closed). */
function portClosed(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.request(`${url}/-/health`, { agent: false }, (res) => {
      res.resume();
      resolve(false);
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
    req.end();
  });
}

describe('a graceful stop and kept-alive connections', () => {
  it('a webhook sent on a kept-alive connection as the stop begins is answered 503 with Connection: close, not cut', { timeout: 30_000 }, async () => {
    const t = await startTestServer({ smtp: false });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    let closing: Promise<unknown> | undefined;
    try {
      const first = webhook(t, agent, taskWebhook({ name: 'first', responsible: ['2'], recordId: '1' }));
      first.req.end(first.body);
      const one = await first.answer;
      assert.ok(!(one instanceof Error), describeAnswer(one));
      assert.deepEqual([one.status, one.headers.connection], [200, 'keep-alive']);
      // The agent takes the connection back once the answer has been read.
      await new Promise((r) => setImmediate(r));
      // The next webhook goes on that connection; its bytes are with the server when the stop begins, before the
      // server has read them (its event loop is busy here, as under load).
      const second = webhook(t, agent, taskWebhook({ name: 'second', responsible: ['2'], recordId: '2' }));
      second.req.on('finish', () => (closing = t.server.close(5000)));
      second.req.end(second.body);
      const two = await second.answer;
      assert.ok(!(two instanceof Error), `the webhook is answered, not cut: ${describeAnswer(two)}`);
      assert.ok(closing, 'the stop began once the webhook was sent');
      assert.deepEqual([two.status, two.headers['retry-after'], two.headers.connection, two.reused], [503, '5', 'close', true]);
      assert.match(two.text, /shutting down/);
      await closing;
    } finally {
      agent.destroy();
      await t.cleanup();
    }
  });

  it('a webhook whose body is still coming when nothing runs any more is waited for and answered 503, after the port has closed', { timeout: 30_000 }, async () => {
    const t = await startTestServer({ smtp: false, extraScenarios: { 'Slow.yaml': BPIUM_READ_SCENARIO } });
    const agent = new http.Agent({ keepAlive: true });
    try {
      // A synchronous run of 1.5 s holds the stop open.
      t.server.emulator!.injectFaults({ delayMs: 1500, times: 1, pathPrefix: '/api/v1/catalogs/3/records/2' });
      const run = new Promise<number | Error>((resolve) => {
        const req = http.request(`${t.server.url}/execsvcscriptplain?name=Slow&timeout=20`, { agent, headers: { authorization: AUTH } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        });
        req.on('error', resolve);
        req.end();
      });
      await waitFor('the slow run to start', () => t.server.metrics.inFlight > 0);
      const closing = t.server.close(10_000);
      // Meanwhile a webhook comes: its headers and half its body, the rest only once the port has closed.
      const body = taskWebhook({ name: 'late', responsible: ['2'], recordId: '3' });
      const late = webhook(t, agent, body);
      late.req.write(body.slice(0, 40));
      assert.equal(await run, 200, 'the run in flight gets its answer');
      await waitFor('the port to close', async () => await portClosed(t.server.url));
      late.req.end(body.slice(40));
      const answer = await late.answer;
      assert.ok(!(answer instanceof Error), `the webhook is answered, not cut: ${describeAnswer(answer)}`);
      assert.deepEqual([answer.status, answer.headers['retry-after'], answer.headers.connection], [503, '5', 'close']);
      await closing;
    } finally {
      agent.destroy();
      await t.cleanup();
    }
  });

  it('webhooks posted by 16 senders over kept-alive connections are all answered when sent before the stop began', { timeout: 60_000 }, async () => {
    const t = await startTestServer({ smtp: false });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    let stopBegun = false;
    let n = 0;
    const cut: string[] = [];
    const statuses = new Set<number>();
    // Each sender posts until the stop answers it 503 or its connection fails; a webhook sent after the stop began may
    // also find the port closed.
    const sender = async () => {
      for (;;) {
        const sending = webhook(t, agent, taskWebhook({ name: `burst ${n}`, responsible: ['2'], recordId: String(++n) }));
        let sentBeforeStop = false;
        sending.req.on('finish', () => (sentBeforeStop = !stopBegun));
        sending.req.end(sending.body);
        const answer = await sending.answer;
        if (answer instanceof Error) {
          if (sentBeforeStop) cut.push(describeAnswer(answer));
          if (stopBegun) return;
          continue;
        }
        statuses.add(answer.status);
        if (stopBegun && answer.status === 503) return;
      }
    };
    try {
      const senders = Array.from({ length: 16 }, sender);
      await waitFor('webhooks to be stored', () => t.server.metrics.received >= 100, 30_000);
      stopBegun = true;
      const closing = t.server.close(5000);
      await Promise.all(senders);
      await closing;
      assert.deepEqual(cut, [], 'no webhook sent before the stop began is left without an answer');
      assert.deepEqual([...statuses].filter((s) => s !== 200 && s !== 503), [], 'the answers are 200 (stored) or 503 (stopping)');
    } finally {
      agent.destroy();
      await t.cleanup();
    }
  });
});
