// Webhook emitter of the emulator: signed JSON POSTs per subscription, persisted sequenceId, no retries, 410 unsubscribes.
import { signBpiumBody } from '../adapters/bpium/signature.js';
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

/** Fires matching subscriptions in parallel and records each outcome; Bpium neither queues nor retries. */
export class WebhookDispatcher {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly store: EmulatorStore,
    private readonly opts: { timeoutMs: number; logger?: LoggerPort },
  ) {}

  /** Starts the deliveries for one change and returns at once (notifications do not block the API answer). */
  emit(data: HookEventData): void {
    const hooks = this.store.hooks().filter((hook) => this.wants(hook, data));
    for (const hook of hooks) {
      const sequenceId = this.store.nextSequence(hook.id);
      const job = this.deliver(hook, sequenceId, data).finally(() => this.pending.delete(job));
      this.pending.add(job);
    }
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
    const outcome: { status?: number; error?: string } = {};
    try {
      const { url, authorization } = splitCredentials(hook.url);
      target = url;
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (hook.secret !== '') headers['x-hook-signature'] = signBpiumBody(hook.secret, body);
      if (authorization) headers.authorization = authorization;
      const res = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(this.opts.timeoutMs) });
      await res.arrayBuffer().catch(() => undefined); // the reply body of a notification is ignored
      outcome.status = res.status;
      if (res.status === 410) this.store.deleteHook(hook.id);
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause;
      outcome.error = (err as Error).name === 'TimeoutError' ? `timeout after ${this.opts.timeoutMs} ms` : cause?.code ?? (err as Error).message;
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
