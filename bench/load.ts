// Load generation for the benchmarks: autocannon posting signed, unique Bpium webhooks; the SMTP sink's counters.
import type { ChildProcess } from 'node:child_process';
import autocannon, { type AutocannonRequest } from 'autocannon';
import { BENCH_AUTH, sign, webhookBody } from './bench-support.js';

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  ok: number;
  non2xx: number;
  errors: number;
  /** Sequence numbers sent (unique across the whole benchmark), for the dedup keys. */
  sent: number;
}

let nextSeq = 1;

/**
 * Posts unique signed task webhooks to `url` + /Bpium/NewTask over `connections` connections, for `seconds`, or
 * `amount` of them in all.
 */
export async function fireWebhooks(url: string, o: ({ seconds: number } | { amount: number }) & { connections: number; overallRate?: number }): Promise<LoadResult> {
  const first = nextSeq;
  const request: AutocannonRequest = {
    method: 'POST',
    path: '/Bpium/NewTask',
    setupRequest(req) {
      const body = webhookBody(nextSeq++, Date.now());
      req.body = body;
      req.headers = { 'content-type': 'application/json', authorization: BENCH_AUTH, 'x-hook-signature': sign(body) };
      return req;
    },
  };
  const r = await autocannon({
    url,
    connections: o.connections,
    ...('amount' in o ? { amount: o.amount } : { duration: o.seconds }),
    timeout: 30,
    requests: [request],
    ...(o.overallRate ? { overallRate: o.overallRate } : {}),
  });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, ok: r['2xx'], non2xx: r.non2xx, errors: r.errors + r.timeouts, sent: nextSeq - first };
}

export interface SinkStats {
  letters: number;
  unparsed: number;
  firstAt: number;
  lastAt: number;
  delays: number[];
  /** Letters for a task that already had one, since the sink started. */
  duplicates: number;
}

function ask<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise<T>((resolve) => {
    const on = (m: { type: string }) => {
      if (m.type !== type) return;
      child.off('message', on);
      resolve(m as T);
    };
    child.on('message', on);
    child.send({ type });
  });
}

export const sinkStats = (sink: ChildProcess) => ask<SinkStats>(sink, 'stats');
export const sinkReset = (sink: ChildProcess) => ask<unknown>(sink, 'reset');

/** Waits until the sink has at least `letters` letters, or `ms` pass; returns the last stats. */
export async function waitForLetters(sink: ChildProcess, letters: number, ms: number): Promise<SinkStats> {
  const end = Date.now() + ms;
  for (;;) {
    const s = await sinkStats(sink);
    if (s.letters >= letters || Date.now() > end) return s;
    await new Promise((r) => setTimeout(r, 200));
  }
}
