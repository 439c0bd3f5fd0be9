// One HTTP exchange over node:http/https with kept-alive connections: the transport of the Bpium client and of the
// WebRequest block. Lighter per call than fetch (no Request/Response/Headers objects, no AbortSignal per attempt),
// which matters at a request per letter; one attempt, a deadline, an optional cap on the answer's size. Retries,
// redirects and what a status means are the callers' business.
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';

/** The exchange took longer than its deadline. */
export class ExchangeTimeout extends Error {
  override name = 'ExchangeTimeout';
}

/** The answer was longer than the cap; it was cut off as it arrived. Its status and headers had come: they are kept. */
export class AnswerTooLarge extends Error {
  override name = 'AnswerTooLarge';
  constructor(
    message: string,
    readonly status: number,
    readonly headers: IncomingHttpHeaders,
  ) {
    super(message);
  }
}

export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface ExchangeRequest {
  method: string;
  headers: Record<string, string>;
  body?: Buffer | string;
  /** Connecting, sending and reading the whole answer. */
  timeoutMs: number;
  /** Bytes of answer at most (default: no cap). */
  maxBytes?: number;
}

/** Sends requests over kept-alive connections; `close` ends them and fails the exchanges in flight. */
export class HttpExchanger {
  private readonly httpAgent: HttpAgent;
  private readonly httpsAgent: HttpsAgent;
  private readonly active = new Set<{ destroy(e: Error): void }>();
  private closedWith: Error | undefined;

  /** `lookup` resolves host names for new connections (default: the system's); it may refuse an address. */
  constructor(maxSockets = 16, o: { lookup?: LookupFunction } = {}) {
    const lookup = o.lookup ? { lookup: o.lookup } : {};
    this.httpAgent = new HttpAgent({ keepAlive: true, maxSockets, ...lookup });
    this.httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets, ...lookup });
  }

  exchange(url: URL | string, o: ExchangeRequest): Promise<RawAnswer> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const maxBytes = o.maxBytes ?? Infinity;
    return new Promise<RawAnswer>((resolve, reject) => {
      const https = (typeof url === 'string' ? url : url.protocol).startsWith('https:');
      const send = https ? (httpsRequest as typeof httpRequest) : httpRequest;
      const headers = o.body === undefined ? o.headers : { ...o.headers, 'content-length': String(Buffer.byteLength(o.body)) };
      const req = send(url, { method: o.method, headers, agent: https ? this.httpsAgent : this.httpAgent });
      // Why we cut the exchange, if we did: the errors that follow on the request or the answer stream say less.
      let cut: Error | undefined;
      let answer: IncomingMessage | undefined;
      let settled = false;
      const done = () => {
        settled = true;
        clearTimeout(timer);
        this.active.delete(handle);
      };
      const fail = (e: Error) => {
        if (settled) return;
        done();
        reject(cut ?? e);
      };
      const abort = (e: Error) => {
        cut ??= e;
        if (answer) {
          // The answer is being read, and may already be complete, its socket back with the agent: destroying the
          // request with an error then raises it on a socket nobody listens to (a crash). Close the connection
          // without an error event, and settle here.
          answer.destroy();
          fail(e);
        } else req.destroy(e);
      };
      const handle = { destroy: abort };
      this.active.add(handle);
      const timer = setTimeout(() => abort(new ExchangeTimeout(`no answer within ${o.timeoutMs} ms`)), o.timeoutMs);
      // on, not once: a second error (after the first settled the exchange) must still have a listener.
      req.on('error', fail);
      req.once('response', (res: IncomingMessage) => {
        answer = res;
        // A HEAD answer, a 204 and a 304 have no body whatever their Content-Length says (it names the resource's size).
        const bodiless = o.method === 'HEAD' || res.statusCode === 204 || res.statusCode === 304;
        const declared = bodiless ? NaN : Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > maxBytes) {
          abort(new AnswerTooLarge(`the body has ${declared} bytes, more than the cap of ${maxBytes}`, res.statusCode ?? 0, res.headers));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (settled) return;
          size += c.length;
          // Cut as soon as the cap is passed, so a huge or endless body never fills the memory.
          if (size > maxBytes) abort(new AnswerTooLarge(`the body is longer than the cap of ${maxBytes} bytes`, res.statusCode ?? 0, res.headers));
          else chunks.push(c);
        });
        res.on('error', fail);
        // A stream cut short (by us or by the server) may close without an error event on either side.
        res.once('close', () => {
          if (!res.complete) fail(new Error('the answer was cut short'));
        });
        res.once('end', () => {
          if (settled) return;
          done();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
      });
      req.end(o.body);
    });
  }

  close(reason: Error): void {
    this.closedWith = reason;
    for (const a of this.active) a.destroy(reason);
    this.active.clear();
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
