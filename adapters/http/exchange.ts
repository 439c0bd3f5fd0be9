// One HTTP exchange over node:http/https with kept-alive connections: the transport of the Bpium client and of the
// WebRequest block. Lighter per call than fetch (no Request/Response/Headers objects, no AbortSignal per attempt),
// which matters at a request per letter; one attempt, a deadline, an optional cap on the answer's size. Retries,
// redirects and what a status means are the callers' business.
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { crc32, createBrotliDecompress, createGunzip, createInflate, createInflateRaw, inflateRawSync, type Gunzip } from 'node:zlib';

/** The exchange took longer than its deadline. */
export class ExchangeTimeout extends Error {
  override name = 'ExchangeTimeout';
}

/**
 * With `queueWaitMs`: no connection of the pool to the host came free in that time (all busy with other requests), so
 * the request was never sent. A caller may send it again, a POST too: the server has seen nothing of it.
 */
export class NoFreeConnection extends ExchangeTimeout {
  override name = 'NoFreeConnection';
  /**
   * `what` names the request that was not sent (`the request`; a redirect's hop may say which). `waitMs` is how long
   * it waited, the whole `queueWaitMs`.
   */
  constructor(
    readonly host: string,
    readonly waitMs: number,
    readonly maxSockets: number,
    what = 'the request',
  ) {
    super(`no connection to ${host} came free within ${waitMs} ms (all ${maxSockets} this server keeps to it were busy with other requests): ${what} was not sent`);
  }
}

/** How long a failed exchange had waited for a connection of the pool (with `queueWaitMs`) before it was sent. */
const WAITED = new WeakMap<object, number>();

/**
 * With `queueWaitMs`: how long an exchange that failed once it had a connection (a reset, a hung answer) had waited for
 * it first, 0 when it did not wait or got none (NoFreeConnection says its own wait). A caller that keeps the wait out of
 * its deadline on success does so on failure too, so a retry is not refused for time the attempt never had.
 */
export function waitedBeforeFailing(err: unknown): number {
  return typeof err === 'object' && err !== null ? (WAITED.get(err) ?? 0) : 0;
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

/** The decoders of the content codings an answer may come in (RFC 9110 8.4.1), by name, given the body's first bytes. */
const DECODERS: Record<string, (first: Buffer) => Gunzip> = {
  gzip: () => createGunzip(),
  'x-gzip': () => createGunzip(),
  // "deflate" is the zlib format (RFC 1950), as the RFC names it; some servers (IIS, old PHP) send the bare deflate
  // data (RFC 1951) under that name, which browsers and curl read too: told apart by the zlib header's first bytes.
  deflate: (first) => (zlibHeader(first) ? createInflate() : (createInflateRaw() as unknown as Gunzip)),
  br: () => createBrotliDecompress() as unknown as Gunzip,
};

/** Whether a body begins with a zlib header (RFC 1950: method 8, and the first two bytes a multiple of 31). */
function zlibHeader(b: Buffer): boolean {
  return b.length > 0 && (b[0]! & 0x0f) === 8 && (b.length < 2 || ((b[0]! << 8) | b[1]!) % 31 === 0);
}

export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /**
   * Why the body could not be decoded (with `decode`): a Content-Encoding other than gzip, deflate and br, or bytes that
   * are not what it names. The body is then empty (its connection closed unread): the caller decides what that means.
   */
  undecodable?: string;
  /** Something of the body left unread and why (bytes after the end of its gzip data), for the trace to say. */
  note?: string;
  /** With `queueWaitMs`: how long the request waited for a free connection before it was sent. */
  waitedMs?: number;
}

export interface ExchangeRequest {
  method: string;
  headers: Record<string, string>;
  body?: Buffer | string;
  /** Connecting, sending and reading the whole answer. */
  timeoutMs: number;
  /**
   * How long the request may wait for a connection of the pool (`maxSockets` per host, all busy with other requests)
   * before `timeoutMs` starts; past it the exchange fails with NoFreeConnection (an ExchangeTimeout) and nothing was sent. Without it the
   * wait counts against `timeoutMs`, so a request that waited most of it is sent, acted on, and cut off unanswered.
   */
  queueWaitMs?: number;
  /** Bytes of answer at most (default: no cap); with `decode`, bytes once decoded, so a small bomb is cut as it inflates. */
  maxBytes?: number;
  /**
   * Decode a body sent with a Content-Encoding (gzip, deflate, br) into the bytes it stands for. Without it the body is
   * returned as it came.
   */
  decode?: boolean;
}

/** Sends requests over kept-alive connections; `close` ends them and fails the exchanges in flight. */
export class HttpExchanger {
  private readonly httpAgent: HttpAgent;
  private readonly httpsAgent: HttpsAgent;
  private readonly active = new Set<{ destroy(e: Error): void }>();
  private closedWith: Error | undefined;

  /** `lookup` resolves host names for new connections (default: the system's); it may refuse an address. */
  constructor(
    private readonly maxSockets = 16,
    o: { lookup?: LookupFunction } = {},
  ) {
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
      // Set while a decoder inflates the answer: a cut answer stops it too, so nothing more is inflated.
      let stopDecoding: (() => void) | undefined;
      const done = () => {
        settled = true;
        clearTimeout(timer);
        this.active.delete(handle);
      };
      const fail = (e: Error) => {
        if (settled) return;
        // An answer cut short while a decoder inflates it: the decoder is not ended by the pipe, so it is destroyed here.
        stopDecoding?.();
        done();
        const error = cut ?? e;
        if (waitedMs !== undefined && typeof error === 'object' && error !== null) WAITED.set(error, waitedMs);
        reject(error);
      };
      const abort = (e: Error) => {
        cut ??= e;
        stopDecoding?.();
        if (answer) {
          // The answer is being read, and may already be complete, its socket back with the agent: destroying the
          // request with an error then raises it on a socket nobody listens to (a crash). Close the connection
          // without an error event, and settle here.
          answer.destroy();
          fail(e);
        } else {
          req.destroy(e);
          // Settled here: a request still waiting for a connection of the pool (all busy) hears its error only once
          // one comes free and is handed to it (it then goes back to the pool unused), so the bound would not hold.
          fail(e);
        }
      };
      const handle = { destroy: abort };
      this.active.add(handle);
      // A service that sent its status and then drips (or never ends) the body is not silent: said so, status included.
      const late = () => (answer ? `the answer (HTTP ${answer.statusCode}) did not end within ${o.timeoutMs} ms: its body was still arriving` : `no answer within ${o.timeoutMs} ms`);
      const onTheWire = () => setTimeout(() => abort(new ExchangeTimeout(late())), o.timeoutMs);
      let waitedMs: number | undefined;
      let timer: ReturnType<typeof setTimeout>;
      if (o.queueWaitMs === undefined) timer = onTheWire();
      else {
        // The deadline starts once the request has a connection: waiting for one of the pool sends nothing.
        const asked = Date.now();
        const host = typeof url === 'string' ? new URL(url).host : url.host;
        const waitMs = o.queueWaitMs;
        timer = setTimeout(() => abort(new NoFreeConnection(host, waitMs, this.maxSockets)), waitMs);
        req.once('socket', () => {
          if (settled) return;
          clearTimeout(timer);
          waitedMs = Date.now() - asked;
          timer = onTheWire();
        });
      }
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
        const status = res.statusCode ?? 0;
        const keep = (c: Buffer) => {
          if (settled) return;
          size += c.length;
          // Cut as soon as the cap is passed, so a huge or endless body (or a small one that inflates) never fills the memory.
          if (size > maxBytes) abort(new AnswerTooLarge(`the body is longer than the cap of ${maxBytes} bytes${decoder ? ' once decoded' : ''}`, status, res.headers));
          else chunks.push(c);
        };
        const finish = () => {
          if (settled) return;
          done();
          resolve({ status, headers: res.headers, body: Buffer.concat(chunks), ...(waitedMs !== undefined ? { waitedMs } : {}) });
        };
        // An answer whose body cannot be decoded is an answer all the same (its status may be a 503 to retry): it
        // settles with an empty body and the reason, and its connection is closed with the rest of the body unread.
        const undecodable = (why: string) => {
          if (settled) return;
          stopDecoding?.();
          res.destroy();
          done();
          resolve({ status, headers: res.headers, body: Buffer.alloc(0), undecodable: why, ...(waitedMs !== undefined ? { waitedMs } : {}) });
        };
        const found = o.decode && !bodiless ? decoderFor(res.headers['content-encoding']) : undefined;
        if (typeof found === 'string') return undecodable(found);
        const decoder = found;
        res.on('error', fail);
        // A stream cut short (by us or by the server) may close without an error event on either side.
        res.once('close', () => {
          if (!res.complete) fail(new Error('the answer was cut short'));
        });
        if (!decoder) {
          res.on('data', keep);
          res.once('end', finish);
        } else {
          // The decoder is made at the body's first bytes (deflate is told by them), and the rest piped to it.
          let started = false;
          res.once('data', (first: Buffer) => {
            if (settled) return;
            started = true;
            const stream = decoder.make(first);
            stream.on('data', keep);
            stream.once('end', finish);
            // A gzip body is kept as it came too (within the cap), in case bytes follow its gzip data (below).
            let compressed: Buffer[] | undefined = decoder.name.endsWith('gzip') ? [first] : undefined;
            let compressedSize = first.length;
            if (compressed) {
              res.on('data', (c: Buffer) => {
                compressedSize += c.length;
                if (compressedSize > Math.min(maxBytes, MAX_KEPT_GZIP)) compressed = undefined;
                else compressed?.push(c);
              });
            }
            stream.on('error', (e: Error) => {
              if (settled) return;
              // A gzip body followed by bytes that are not another gzip member (a stray newline, padding, a second
              // answer): Node's gunzip fails there, curl reads the data before them. So do we, member by
              // member, checked by their CRC and length, and the trace says what was left.
              let whole: ReturnType<typeof wholeGzipMembers>;
              try {
                whole = compressed ? wholeGzipMembers(Buffer.concat(compressed), maxBytes) : undefined;
              } catch {
                whole = undefined;
              }
              if (!whole) return undecodable(`the body is not valid ${decoder.name} (Content-Encoding: ${decoder.name}): ${e.message}`);
              stopDecoding?.();
              res.destroy();
              done();
              resolve({ status, headers: res.headers, body: whole.body, note: `the body has bytes after its gzip data (from byte ${whole.end + 1} of the compressed body) that are not gzip: ignored`, ...(waitedMs !== undefined ? { waitedMs } : {}) });
            });
            stopDecoding = () => {
              res.unpipe(stream);
              stream.destroy();
            };
            stream.write(first);
            res.pipe(stream);
          });
          // No body at all under a Content-Encoding (a 200 with nothing in it) is an empty body, not a broken one.
          res.once('end', () => {
            if (!started) finish();
          });
        }
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

/** The most compressed bytes of a gzip body kept to read it again when bytes follow its gzip data. */
const MAX_KEPT_GZIP = 16 * 1024 * 1024;

/**
 * The whole gzip members at the start of `data` (RFC 1952), decoded, and the offset where they end; undefined when
 * not even the first is whole and sound (its CRC-32 and length checked). At most `maxBytes` decoded: more throws.
 */
export function wholeGzipMembers(data: Buffer, maxBytes: number): { body: Buffer; end: number } | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  let size = 0;
  for (;;) {
    const member = gzipMember(data, at, maxBytes - size);
    if (!member) break;
    parts.push(member.body);
    size += member.body.length;
    at = member.end;
  }
  return parts.length ? { body: Buffer.concat(parts), end: at } : undefined;
}

/** The gzip member at `at`, decoded, and where it ends; undefined if none begins there whole. */
function gzipMember(data: Buffer, at: number, maxBytes: number): { body: Buffer; end: number } | undefined {
  // ID1 ID2 CM(8: deflate) FLG MTIME(4) XFL OS, then the optional fields FLG names.
  if (data.length < at + 18 || data[at] !== 0x1f || data[at + 1] !== 0x8b || data[at + 2] !== 8) return undefined;
  const flags = data[at + 3]!;
  let p = at + 10;
  if (flags & 4) p = p + 2 > data.length ? data.length + 1 : p + 2 + data.readUInt16LE(p);
  for (const flag of [8, 16]) {
    if (!(flags & flag) || p > data.length) continue;
    const zero = data.indexOf(0, p);
    p = zero < 0 ? data.length + 1 : zero + 1;
  }
  if (flags & 2) p += 2;
  if (p >= data.length) return undefined;
  let inflated: { buffer: Buffer; engine: { bytesWritten: number } };
  try {
    // Inflating bare deflate data stops at its end, whatever follows; `bytesWritten` says where that was.
    inflated = inflateRawSync(data.subarray(p), { info: true, ...(Number.isFinite(maxBytes) ? { maxOutputLength: Math.max(1, maxBytes) } : {}) }) as unknown as typeof inflated;
  } catch (e) {
    if (e instanceof RangeError) throw e;
    return undefined;
  }
  const trailer = p + inflated.engine.bytesWritten;
  if (trailer + 8 > data.length) return undefined;
  if (data.readUInt32LE(trailer) !== crc32(inflated.buffer) || data.readUInt32LE(trailer + 4) !== inflated.buffer.length % 2 ** 32) return undefined;
  return { body: inflated.buffer, end: trailer + 8 };
}

/**
 * The decoder for an answer's Content-Encoding, or why none can read it. `identity` (or no header) needs none; one
 * coding is decoded, several (`gzip, br`, applied in that order) are not: that is rare enough to refuse with its name.
 */
function decoderFor(header: string | string[] | undefined): { name: string; make: (first: Buffer) => Gunzip } | string | undefined {
  const codings = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
  if (codings.length === 0) return undefined;
  if (codings.length > 1) return `the body is encoded several times (Content-Encoding: ${codings.join(', ')}), which is not read: only one of gzip, deflate, br`;
  const name = codings[0]!;
  const make = DECODERS[name];
  if (!make) return `the body is encoded as ${JSON.stringify(name.slice(0, 40))} (Content-Encoding), which is not read: only gzip, deflate and br are`;
  return { name, make };
}
