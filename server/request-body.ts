// Reading the bodies the express routes take (a compressed hook body, a hook request with an absolute-form address,
// the Web-API's form) under the server's body budget. Each chunk is charged as it is kept: for a compressed body that
// is the inflated chunk, so a connection that has sent nothing holds nothing, and the bodies held at once never pass
// OKTELL_BODY_BUDGET whatever their sizes were declared to be. The inflated size is capped by the body limit (a small
// gzip bomb is refused with 413 once its inflated bytes pass it).
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

/** An error the app's error handler answers: `status` and `type` as body-parser gives them (413 is `entity.too.large`). */
export interface BodyError extends Error {
  status: number;
  type: string;
}

/** The type of the error a body over the server's budget of bodies held at once gets (answered 503). */
export const OVER_BUDGET = 'body.budget';

function bodyError(status: number, type: string, message: string): BodyError {
  return Object.assign(new Error(message), { status, type });
}

/** Whether the request declares a body: a Content-Length other than 0, or a chunked body (as type-is counts one). */
export function declaresBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const declared = req.headers['content-length'];
  return declared !== undefined && Number(declared) !== 0;
}

/** The decoder of a content coding the server takes, undefined for identity; throws 415 for any other coding. */
function decoderFor(req: IncomingMessage): ReturnType<typeof createGunzip> | undefined {
  const coding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  switch (coding) {
    case 'identity':
      return undefined;
    case 'gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'br':
      return createBrotliDecompress();
    default:
      throw bodyError(415, 'encoding.unsupported', `unsupported content encoding "${coding}"`);
  }
}

/**
 * The body, decoded from its content coding, at most `limit` bytes after decoding. `take(n)` charges `n` more bytes
 * to the budget as each chunk is kept (false: the budget is spent, and the body is dropped). Rejects with a BodyError:
 * 413 past the limit (a declared Content-Length of an uncompressed body over it before a byte is read), 503
 * (`OVER_BUDGET`), 415 for an unknown coding, 400 for a body that does not decode (zlib's error, with its errno and
 * code) or a request cut off. On a refusal the rest of the body is not read: the answer closes the connection.
 */
export function readBody(req: IncomingMessage, limit: number, take: (n: number) => boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let decoder: ReturnType<typeof createGunzip> | undefined;
    try {
      decoder = decoderFor(req);
    } catch (e) {
      reject(e);
      return;
    }
    const declared = req.headers['content-length'];
    if (!decoder && declared !== undefined && Number(declared) > limit) {
      reject(bodyError(413, 'entity.too.large', 'request entity too large'));
      return;
    }
    const stream: Readable = decoder ?? req;
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const stop = () => {
      if (decoder) {
        req.unpipe(decoder);
        decoder.removeAllListeners('data');
        decoder.on('error', () => {});
        decoder.destroy();
      } else {
        req.removeListener('data', onData);
      }
      // Paused, not drained: the answer closes the connection rather than read a body nobody will use.
      req.pause();
    };
    const fail = (e: BodyError | Error) => {
      if (settled) return;
      settled = true;
      chunks.length = 0;
      stop();
      reject(e);
    };
    const onData = (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > limit) return fail(bodyError(413, 'entity.too.large', 'request entity too large'));
      if (!take(chunk.length)) return fail(bodyError(503, OVER_BUDGET, 'the budget of request bodies held at once is spent'));
      chunks.push(chunk);
    };
    stream.on('data', onData);
    stream.on('end', () => {
      if (settled) return;
      settled = true;
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    if (decoder) {
      // zlib's own error (errno, code such as Z_DATA_ERROR): the app answers it "not valid gzip".
      decoder.on('error', (e) => fail(Object.assign(e, { status: 400 })));
      req.pipe(decoder);
    }
    req.on('aborted', () => fail(bodyError(400, 'request.aborted', 'request aborted')));
    req.on('error', (e) => fail(Object.assign(e, { status: 400, type: 'request.aborted' })));
  });
}

/** Form fields kept at most (as body-parser's `parameterLimit`): more is refused, not cut short. */
export const FORM_FIELD_LIMIT = 1000;

/** The number of `&`-separated fields of a form or query, counted up to `limit + 1`. */
export function fieldCount(text: string, limit: number): number {
  if (text === '') return 0;
  let count = 1;
  for (let i = text.indexOf('&'); i !== -1 && count <= limit; i = text.indexOf('&', i + 1)) count++;
  return count;
}
