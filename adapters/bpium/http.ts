// One HTTP exchange over node:http/https with kept-alive connections: the Bpium client's transport. Lighter than
// fetch per call (no Request/Response/Headers objects, no AbortSignal per attempt), which matters at a Bpium call per
// letter; see docs/architecture.md.
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** A timeout of one exchange: recognisable by the transport, which turns it into a timeout error. */
export class HttpTimeout extends Error {
  override name = 'HttpTimeout';
}

/** Sends requests to one origin over kept-alive connections; `close` ends them and fails the exchanges in flight. */
export class KeepAliveHttp {
  private readonly agent: HttpAgent;
  private readonly send: typeof httpRequest;
  private readonly active = new Set<{ destroy(e: Error): void }>();
  private closedWith: Error | undefined;

  constructor(baseUrl: string, maxSockets = 32) {
    const https = baseUrl.startsWith('https:');
    this.agent = https ? new HttpsAgent({ keepAlive: true, maxSockets }) : new HttpAgent({ keepAlive: true, maxSockets });
    this.send = https ? (httpsRequest as typeof httpRequest) : httpRequest;
  }

  request(url: string, o: { method: string; headers: Record<string, string>; body?: string; timeoutMs: number }): Promise<HttpAnswer> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise<HttpAnswer>((resolve, reject) => {
      const headers = o.body === undefined ? o.headers : { ...o.headers, 'content-length': String(Buffer.byteLength(o.body)) };
      const req = this.send(url, { method: o.method, headers, agent: this.agent });
      const handle = { destroy: (e: Error) => req.destroy(e) };
      this.active.add(handle);
      const timer = setTimeout(() => req.destroy(new HttpTimeout(`no answer within ${o.timeoutMs} ms`)), o.timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.active.delete(handle);
      };
      req.once('error', (e) => {
        done();
        reject(e);
      });
      req.once('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('error', (e) => {
          done();
          reject(e);
        });
        res.once('end', () => {
          done();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') });
        });
      });
      req.end(o.body);
    });
  }

  close(reason: Error): void {
    this.closedWith = reason;
    for (const a of this.active) a.destroy(reason);
    this.active.clear();
    this.agent.destroy();
  }
}
