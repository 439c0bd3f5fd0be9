// Webhook emitter of the emulator: signed JSON POSTs per subscription, persisted sequenceId, no retries, 410 unsubscribes.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { signBpiumBody } from '../adapters/bpium/signature.js';
import { maskAddress, maskUserinfo } from '../adapters/web/redact.js';
import type { LoggerPort } from '../engine/ports.js';
import type { HookEvent, JsonObject, WebhookSubscription } from './model.js';
import type { EmulatorStore } from './store.js';

export interface HookEventData {
  event: HookEvent;
  catalogId: string;
  recordId: string;
  values?: JsonObject;
  prevValues?: JsonObject;
  /** Employee id of the API account that made the change. */
  userId: string;
  /** Changed field ids, for subscriptions that track only some fields (record.updated). */
  changedFields?: string[];
}

/** Splits `http://user:pass@host/path` into a credential-free URL and a Basic Authorization header. */
export function splitCredentials(raw: string): { url: string; authorization?: string } {
  const url = new URL(raw);
  if (url.username === '' && url.password === '') return { url: url.toString() };
  const user = decodeURIComponent(url.username);
  const pass = decodeURIComponent(url.password);
  url.username = '';
  url.password = '';
  return { url: url.toString(), authorization: `Basic ${Buffer.from(`${user}:${pass}`, 'utf8').toString('base64')}` };
}

/**
 * The User-Agent of the emulator's webhooks. Bpium documents only `Content-Type` and `X-Hook-Signature` for its
 * webhooks; a receiver that logs or filters by User-Agent sees who is calling instead of a generic HTTP library.
 */
export const WEBHOOK_USER_AGENT = 'Bpium-Emulator/1.0 (oktell-emulator)';

/**
 * A subscription's URL as a log may show it: origin and path, without credentials or query (a token may be there). A
 * password with a `/` left unencoded (`http://u:1234/pw@host/hook`, which a URL parser reads as host `u`, port 1234
 * and a path holding the rest) is masked by the server's rule too (maskUserinfo): `http://***@host/hook`.
 */
function shownTarget(raw: string): string {
  try {
    const url = new URL(raw);
    return maskUserinfo(`${url.origin}${url.pathname}`);
  } catch {
    return '(invalid URL)';
  }
}

/** A webhook POST that got no complete answer in time. */
class WebhookTimeout extends Error {
  override name = 'WebhookTimeout';
}

/**
 * POSTs one webhook with exactly the given headers (plus Host, Content-Length and Connection, which HTTP needs) and
 * resolves with the status. node:http rather than fetch: fetch adds a browser's headers (`Sec-Fetch-Mode: cors`,
 * `Accept-Language: *`, `User-Agent: node`, …) that a server-to-server sender such as Bpium does not send. Redirects
 * are not followed; the reply body is read and dropped (Bpium ignores it for notifications).
 */
function postOnce(url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<{ status: number; duplicateOf?: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const bytes = Buffer.from(body, 'utf8');
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(target, { method: 'POST', agent: false, headers: { ...headers, 'content-length': String(bytes.length) } }, (res: IncomingMessage) => {
      res.on('error', fail);
      res.on('end', () => {
        clearTimeout(timer);
        const dup = res.headers['x-oktell-duplicate-of'];
        resolve({ status: res.statusCode ?? 0, ...(typeof dup === 'string' ? { duplicateOf: dup } : {}) });
      });
      res.resume();
    });
    const timer = setTimeout(() => req.destroy(new WebhookTimeout(`timeout after ${timeoutMs} ms`)), timeoutMs);
    function fail(err: Error): void {
      clearTimeout(timer);
      reject(err);
    }
    req.on('error', fail);
    req.end(bytes);
  });
}

/** Fires matching subscriptions in parallel and records each outcome; Bpium neither queues nor retries. */
export class WebhookDispatcher {
  private readonly pending = new Set<Promise<void>>();
  /** Where each delivery in flight posts: its URL's origin and path (no credentials, no query, which may hold a token). */
  private readonly targets = new Map<Promise<void>, string>();

  constructor(
    private readonly store: EmulatorStore,
    private readonly opts: { timeoutMs: number; logger?: LoggerPort },
  ) {}

  /** Starts the deliveries for one change and returns at once (notifications do not block the API answer). */
  emit(data: HookEventData): void {
    const hooks = this.store.hooks().filter((hook) => this.wants(hook, data));
    for (const hook of hooks) {
      const sequenceId = this.store.nextSequence(hook.id);
      const job = this.deliver(hook, sequenceId, data).finally(() => {
        this.pending.delete(job);
        this.targets.delete(job);
      });
      this.pending.add(job);
      this.targets.set(job, shownTarget(hook.url));
    }
  }

  /** Where the deliveries still waiting for an answer post (origin and path), for a stop that gives up on them. */
  inFlight(): string[] {
    return [...this.targets.values()];
  }

  /** Resolves when every delivery started so far has finished (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private wants(hook: WebhookSubscription, data: HookEventData): boolean {
    if (hook.catalogId !== data.catalogId || !hook.events.includes(data.event)) return false;
    if (data.event !== 'record.updated' || hook.trackFields.length === 0) return true;
    return (data.changedFields ?? []).some((f) => hook.trackFields.includes(f));
  }

  private async deliver(hook: WebhookSubscription, sequenceId: number, data: HookEventData): Promise<void> {
    const payload: JsonObject = { catalogId: data.catalogId, recordId: data.recordId };
    if (data.values) payload.values = data.values;
    if (data.prevValues) payload.prevValues = data.prevValues;
    const body = JSON.stringify({
      timestamp: String(Math.floor(Date.now() / 1000)),
      hook: { id: hook.id, event: data.event, sequenceId },
      payload,
      user: { id: data.userId },
    });
    const started = Date.now();
    let target = '(invalid URL)';
    const outcome: { status?: number; error?: string; duplicateOf?: string } = {};
    try {
      const { url, authorization } = splitCredentials(hook.url);
      // As recorded and logged: what a URL parser left of a login:password (a `/` in the password ends it for the
      // parser, not for maskAddress) and the values of query parameters named like secrets (`?token=`) as `***`.
      target = maskAddress(url);
      const headers: Record<string, string> = { 'Content-Type': 'application/json', 'User-Agent': WEBHOOK_USER_AGENT };
      if (hook.secret !== '') headers['X-Hook-Signature'] = signBpiumBody(hook.secret, body);
      if (authorization) headers.Authorization = authorization;
      Object.assign(outcome, await postOnce(url, headers, body, this.opts.timeoutMs));
      if (outcome.status === 410) this.store.deleteHook(hook.id);
    } catch (err) {
      // A system error names its code (ECONNREFUSED, ENOTFOUND, …); a timeout or a bad URL its message.
      outcome.error = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    }
    const ms = Date.now() - started;
    this.store.addDelivery({
      hookId: hook.id,
      event: data.event,
      sequenceId,
      catalogId: data.catalogId,
      recordId: data.recordId,
      url: target,
      ...outcome,
      ms,
      at: new Date().toISOString(),
    });
    const ok = outcome.status !== undefined && outcome.status < 400 || outcome.status === 410;
    const log = { hookId: hook.id, event: data.event, sequenceId, recordId: data.recordId, url: target, ...outcome, ms };
    if (ok) this.opts.logger?.info(log, outcome.status === 410 ? 'webhook answered 410: subscription deleted' : 'webhook delivered');
    else this.opts.logger?.warn(log, 'webhook delivery failed (Bpium does not retry)');
  }
}
