// The express application of the emulated Oktell web server: own routes under /-/, the Web-API, and the HTTP404
// hook for every other path.
import express, { type NextFunction, type Request, type Response } from 'express';
import { verifyBpiumSignature } from '../adapters/bpium/signature.js';
import { runScenario, type EnginePorts, type IdPort, type LoggerPort, type RunResult, type Value, toText } from '../engine/index.js';
import { basicAuth, type OktellUser } from './auth.js';
import { hookSecret, type ServerConfig } from './config.js';
import { bpiumDeliveryKey, bpiumTimestamp, headersText, hookParams, hookResponse, type HookResponse } from './hook-request.js';
import type { Metrics } from './metrics.js';
import { noStore, refuseCrossSite } from './cross-site.js';
import { execSvcScriptXml } from './oktell-xml.js';
import { runWrite } from './run-record.js';
import type { ScenarioHost } from './scenario-host.js';
import { collectingStarter, enqueueingStarter } from './starters.js';
import { startParams } from './start-params.js';
import { StoreUnavailableError } from './store/store.errors.js';
import type { Store } from './store/store.port.js';
import type { WorkerPool } from './delivery/index.js';
import type { TaskScheduler } from './tasks/scheduler.js';
import { taskRoutes } from './tasks/routes.js';

export interface AppDeps {
  config: ServerConfig;
  store: Store;
  host: ScenarioHost;
  ports: Omit<EnginePorts, 'asyncStarter' | 'journal'> & { ids: IdPort };
  workers: WorkerPool;
  metrics: Metrics;
  logger: LoggerPort;
  users: () => readonly OktellUser[];
  /** false while shutting down: new hook requests get 503. */
  accepting: () => boolean;
  /** Service tasks, listed and started by hand under /-/tasks. */
  tasks?: TaskScheduler;
}

/** Paths the server answers itself; everything else goes to the HTTP404 hook. */
export const OWN_ROUTES = ['/-/', '/execsvcscript', '/execsvcscriptplain'];

export function createApp(d: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', d.config.trustProxy);
  app.set('etag', false);

  app.use((req, res, next) => {
    const t0 = performance.now();
    d.metrics.inFlight++;
    let counted = true;
    const settled = () => {
      if (counted) d.metrics.inFlight--;
      counted = false;
    };
    res.on('close', settled);
    res.on('finish', () => {
      settled();
      d.logger.info(
        { method: req.method, path: pathOf(req), status: res.statusCode, ms: Math.round((performance.now() - t0) * 100) / 100, ip: req.ip, ...(res.locals.runId ? { runId: res.locals.runId } : {}) },
        'request',
      );
    });
    next();
  });

  app.get('/-/health', async (_req, res) => {
    const library = d.host.library();
    const problems = healthProblems(d, library.scenarios.has(d.config.hook.scenario));
    res.status(problems.length ? 503 : 200).json({
      status: problems.length ? 'failing' : 'ok',
      scenarios: library.scenarios.size,
      invalid: library.issues.length,
      workers: d.workers.running,
      ...(problems.length ? { problems } : {}),
    });
  });

  const auth = basicAuth(d.users);
  app.get('/-/metrics', noStore, auth, async (_req, res, next) => {
    try {
      res.type('text/plain; version=0.0.4').send(await d.metrics.render(d.store));
    } catch (e) {
      next(e);
    }
  });
  app.use('/-/console', auth, lazyConsole(d));
  if (d.tasks) app.use('/-/tasks', noStore, auth, refuseCrossSite, taskRoutes(d.tasks));
  app.all('/-/{*rest}', auth, (_req, res) => {
    res.status(404).type('text/plain').send('404 Not Found: unknown server route\n');
  });

  const urlencoded = express.urlencoded({ extended: false, limit: d.config.bodyLimitBytes });
  app.all(['/execsvcscript', '/execsvcscriptplain'], noStore, auth, refuseCrossSite, urlencoded, (req, res, next) => {
    execSvcScript(d, req, res).catch(next);
  });

  const raw = express.raw({ type: () => true, limit: d.config.bodyLimitBytes });
  app.use(noStore, auth, refuseCrossSite, raw, (req, res, next) => {
    handleHook(d, req, res).catch(next);
  });

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = err as { status?: number; type?: string; message?: string };
    if (e?.type === 'entity.too.large' || e?.status === 413) {
      d.metrics.response(413);
      res.status(413).type('text/plain').send(`413 Payload Too Large: the limit is ${d.config.bodyLimitBytes} bytes\n`);
      return;
    }
    if (e?.status && e.status >= 400 && e.status < 500) {
      res.status(e.status).type('text/plain').send(`${e.status} ${e.message ?? 'Bad Request'}\n`);
      return;
    }
    if (err instanceof StoreUnavailableError) {
      d.metrics.unavailable++;
      d.metrics.storeRefused = { at: Date.now(), reason: err.reason };
      res.status(503).set('Retry-After', String(err.retryAfterSeconds)).type('text/plain').send('503 Service Unavailable: the store cannot take requests right now; retry later\n');
      return;
    }
    d.logger.error({ err, method: req.method, path: pathOf(req) }, 'unexpected error');
    res.status(500).type('text/plain').send('500 Internal Server Error\n');
  });
  return app;
}

async function handleHook(d: AppDeps, req: Request, res: Response) {
  d.metrics.received++;
  if (!d.accepting()) {
    res.status(503).set('Retry-After', '5').type('text/plain').send('503 Service Unavailable: the server is shutting down\n');
    return;
  }
  const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  const receivedAt = Date.now();
  const storedHeaders = headersText(req.rawHeaders);
  const guard = hookSecret(d.config.webhookSecrets, req.path, req.originalUrl);
  const inboxBase = { receivedAt, method: req.method, path: req.originalUrl, headers: storedHeaders, body, remoteAddress: req.ip ?? null };
  if (guard !== undefined) {
    const refusal = !verifyBpiumSignature(guard.secret, body, req.get('x-hook-signature'))
      ? { signature: 'invalid' as const, why: 'X-Hook-Signature is missing or does not match', stored: 'invalid signature' }
      : staleness(d.config.webhookMaxAgeMs, body, receivedAt);
    if (refusal) {
      await d.store.recordRequest({ inbox: { ...inboxBase, signature: refusal.signature, dedupKey: null, response: { status: 401, body: refusal.stored } } });
      const sent = refusal.signature === 'valid' ? 'valid' : req.get('x-hook-signature') ? 'wrong' : 'missing';
      d.logger.warn({ path: req.path, ip: req.ip, signature: sent }, `webhook refused: ${refusal.why}`);
      d.metrics.response(401);
      res.status(401).type('text/plain').send(`401 Unauthorized: ${refusal.why}\n`);
      return;
    }
  }
  const signature = guard !== undefined ? 'valid' : 'absent';
  // Only a verified request reaches this line, and its key names its route: a request to another path (signed or
  // not) can neither claim nor be answered from this route's deliveries.
  const dedupKey = bpiumDeliveryKey(body, guard?.route ?? req.path);
  const params = hookParams(d.config.hook.params, { url: req.originalUrl, rawHeaders: req.rawHeaders, method: req.method, body, contentType: req.get('content-type') }, signature);
  const library = d.host.library();
  const starter = collectingStarter(d.ports.ids, { hook: req.path });
  const result = await runScenario(library, d.config.hook.scenario, { params, timeZone: d.config.timeZone, limits: { maxEffects: d.config.maxEffectsPerRun }, ports: { ...d.ports, asyncStarter: starter } });
  d.metrics.run(result.status, result.durationMs / 1000);
  const response = hookResponse(result, d.config.hook.returns, d.config.timeZone);
  // A worker with room takes the jobs as they are stored, already claimed: no claim, no wait for the next poll.
  const reservation = starter.jobs.length ? d.workers.reserve?.(starter.jobs.length) : undefined;
  let stored: Awaited<ReturnType<Store['recordRequest']>> | undefined;
  try {
    stored = await d.store.recordRequest({
      inbox: { ...inboxBase, signature, dedupKey, response: { status: response.status, body: response.body.slice(0, 4096) } },
      run: runWrite(result, { trigger: 'http', params }),
      jobs: starter.jobs,
      ...(reservation ? { lease: reservation.lease } : {}),
    });
  } finally {
    reservation?.take(stored && !stored.duplicate ? (stored.leased ?? []) : []);
  }
  d.metrics.storeRefused = undefined;
  res.locals.runId = result.runId;
  if (stored.duplicate) {
    d.metrics.duplicates++;
    res.set('X-Oktell-Duplicate-Of', String(stored.inboxId));
    d.logger.info({ dedupKey, original: stored.inboxId }, 'duplicate delivery: answered as before, nothing started again');
    send(d, res, { status: stored.original.responseStatus ?? response.status, body: stored.original.responseBody ?? response.body, contentType: response.contentType }, result);
    return;
  }
  if (stored.jobIds.length > (stored.leased?.length ?? 0)) d.workers.wake();
  send(d, res, response, result);
}

/**
 * Why a signed webhook is refused as too old or too new for the freshness window (a replay of a captured delivery),
 * or undefined when the window is off or the timestamp is inside it.
 */
function staleness(maxAgeMs: number | undefined, body: Buffer, now: number): { signature: 'valid'; why: string; stored: string } | undefined {
  if (maxAgeMs === undefined) return undefined;
  const ts = bpiumTimestamp(body);
  const limit = `the limit is ${maxAgeMs / 60_000} minute(s)`;
  if (ts === undefined) return { signature: 'valid', why: `the webhook has no readable "timestamp" and ${limit}`, stored: 'no timestamp' };
  const skewMs = now - ts * 1000;
  if (Math.abs(skewMs) <= maxAgeMs) return undefined;
  const minutes = Math.round(Math.abs(skewMs) / 60_000);
  const when = skewMs > 0 ? `${minutes} minute(s) old` : `${minutes} minute(s) in the future`;
  return { signature: 'valid', why: `the webhook's timestamp is ${when}; ${limit}`, stored: 'stale timestamp' };
}

/**
 * How long a refused write keeps `/-/health` failing when no write has succeeded since: long enough for a load
 * balancer to see it, short enough that a health check that takes the instance out of rotation (so no request comes
 * to prove the store writable again) lets it back in to try.
 */
const STORE_REFUSAL_MEMORY_MS = 30_000;

/** What makes the server unable to take webhooks: no hook scenario, or a store refusing writes. */
function healthProblems(d: AppDeps, hasHookScenario: boolean): string[] {
  const problems: string[] = [];
  if (!hasHookScenario) problems.push(`the hook scenario ${d.config.hook.scenario} is missing or invalid: every hook request fails (put ${d.config.hook.scenario}.yaml back in the scenarios folder; oktell-emu validate shows what is wrong)`);
  const refused = d.metrics.storeRefused;
  if (refused && Date.now() - refused.at < STORE_REFUSAL_MEMORY_MS) problems.push(`the store refuses writes (${refused.reason}): webhooks are answered 503`);
  return problems;
}

function send(d: AppDeps, res: Response, r: HookResponse, result: RunResult) {
  d.metrics.response(r.status);
  res.set('X-Oktell-Run-Id', result.runId);
  res.status(r.status).type(r.contentType).send(r.body);
}

/** Oktell's Web-API: execsvcscript (XML answer) and execsvcscriptplain (the return value as plain text). */
async function execSvcScript(d: AppDeps, req: Request, res: Response) {
  const plain = req.path === '/execsvcscriptplain';
  const form: Record<string, unknown> = typeof req.body === 'object' && req.body ? req.body : {};
  const q: Record<string, unknown> = { ...form, ...req.query };
  const name = typeof q.name === 'string' ? q.name : '';
  const answer = (status: number, a: Parameters<typeof execSvcScriptXml>[0]) => {
    if (a.runId) {
      res.set('X-Oktell-Run-Id', a.runId);
      res.locals.runId = a.runId;
    }
    if (plain) res.status(status).type('text/plain; charset=utf-8').send(a.returnValue);
    else res.status(status).type('application/xml; charset=utf-8').send(execSvcScriptXml(a));
  };
  if (!name) {
    answer(400, { started: false, startResult: -1, returnValue: 'the "name" parameter (the service scenario) is required' });
    return;
  }
  const library = d.host.library();
  if (!library.scenarios.has(name)) {
    answer(404, { started: false, startResult: -1, returnValue: `unknown service scenario "${name}"` });
    return;
  }
  const started = startParams([req.query as Record<string, unknown>, form]);
  if (!started.ok) {
    answer(400, { started: false, startResult: -1, returnValue: started.reason });
    return;
  }
  const params: Record<string, Value> = started.params;
  if (String(q.async ?? '0') === '1') {
    const [jobId] = await d.store.enqueueJobs([{ scenario: name, params, trigger: { webapi: req.path } }]);
    d.workers.wake();
    answer(200, { started: true, startResult: 0, returnValue: '', runId: jobId! });
    return;
  }
  const timeoutS = Math.min(Math.max(Number(q.timeout ?? 30) || 30, 0.1), 600);
  const runId = d.ports.ids.newId();
  const running = runScenario(library, name, {
    runId,
    params,
    timeZone: d.config.timeZone,
    limits: { maxEffects: d.config.maxEffectsPerRun },
    ports: { ...d.ports, asyncStarter: enqueueingStarter(d.ports.ids, d.store, { webapi: req.path }, () => d.workers.wake()) },
  });
  void running.then((result) =>
    d.store.recordRun(runWrite(result, { trigger: 'webapi', params })).catch((e: unknown) => d.logger.error({ err: e, runId: result.runId }, 'cannot record a Web-API run')),
  );
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutS * 1000)));
  const outcome = await Promise.race([running, timedOut]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    answer(200, { started: true, startResult: 2, returnValue: '', runId });
    return;
  }
  d.metrics.run(outcome.status, outcome.durationMs / 1000);
  const rv1 = outcome.returnValues['1'];
  answer(200, {
    started: true,
    startResult: outcome.status === 'completed' ? 0 : 1,
    returnValue: rv1 === undefined || rv1 === null ? '' : toText(rv1, d.config.timeZone),
    runId: outcome.runId,
  });
}

/** The console (layout library, views) is loaded on its first request, so it costs nothing at start-up. */
function lazyConsole(d: AppDeps): express.RequestHandler {
  let router: Promise<express.Router> | undefined;
  return (req, res, next) => {
    router ??= import('./console/console.router.js').then((m) => m.consoleRouter(d));
    router.then((r) => r(req, res, next), next);
  };
}

/**
 * The path a request was sent to, for logs: whole (`req.path` inside a mounted router such as the console's lacks the
 * mount point) and without the query, which may carry secrets.
 */
function pathOf(req: Request): string {
  const url = req.originalUrl;
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
