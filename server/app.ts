// The express application of the emulated Oktell web server: own routes under /-/, the Web-API, and the HTTP404
// hook for every other path.
import { parse as parseQueryString } from 'node:querystring';
import express, { type NextFunction, type Request, type Response } from 'express';
import { closest, runScenario, answerValues, type EnginePorts, type IdPort, type LoggerPort, type Value, toText } from '../engine/index.js';
import { basicAuth, type GuessThrottle, type OktellUser, type Right } from './auth.js';
import { CONSOLE_SIGN_IN_PAGE, SIGN_IN_PAGE_CSP, wantsSignInPage } from './console/sign-in-page.js';
import type { ServerConfig } from './config.js';
import { runTally, scenarioMetrics, type Metrics } from './metrics.js';
import type { SyncRuns } from './sync-runs.js';
import { noStore, refuseCrossSite, scenarioAnswer } from './cross-site.js';
import { type ExecSvcAnswer, execSvcScriptXml } from './oktell-xml.js';
import { runWrite } from './run-record.js';
import { invalidScenarioReason, type ScenarioHost } from './scenario-host.js';
import { enqueueingStarter } from './starters.js';
import { startParams, webApiKeys, type WebApiKey } from './start-params.js';
import { StoreUnavailableError } from './store/store.errors.js';
import type { Store } from './store/store.port.js';
import type { WorkerPool } from './delivery/index.js';
import type { TaskScheduler } from './tasks/scheduler.js';
import { taskRoutes } from './tasks/routes.js';
import { answerHook } from './hook.js';
import { noteStoreRefusal, noteStoreTakesWrites } from './store-refusal.js';
import { storeProbe } from './store-probe.js';
import { budgetFor, budgetRefusal, holdFor, loginOf, type BodyBudget } from './body-budget.js';
import { closeUnreadBody, declaresBody, FORM_FIELD_LIMIT, type NotText, OVER_BUDGET, type ParsedForm, parseForm, readBody, readForm, utf8Else } from './request-body.js';
import { loggedTarget, type LoggedTarget } from './log-target.js';
import { logHookTooLarge, observeRequest, refusalText, type RefusalStatus, writeAnswer } from './hook-listener.js';
import { noWebhooksHint } from './startup-warnings.js';

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
  /** Synchronous Web-API runs in flight, which a graceful stop waits for. */
  syncRuns?: SyncRuns;
  /** Service tasks, listed and started by hand under /-/tasks. */
  tasks?: TaskScheduler;
  /** How letters leave (SMTP server or outbox folder), safe to show: the console's outbox page names it. */
  mail?: { kind: 'smtp' | 'outbox' | 'none'; describe: string };
  /**
   * false when the store holds no delivery key in an old form (naming a path and no sender), so a delivery under the
   * secret of every path, or on a route without a secret, is not looked up under its old key too (see `deliveryKey`
   * in hook.ts); undefined: look it up.
   */
  pathDeliveryKeys?: boolean;
  /**
   * The secret of the console's form tokens kept in a shared store (see sharedConsoleSecret): the same on every server
   * of a PostgreSQL store. Undefined: the console keeps one in the data folder.
   */
  consoleSecret?: string;
  /** Failed logins counted by address and login: past the limit, 429 without a check (login-throttle.ts). */
  throttle?: GuessThrottle;
}

/** The header that carries the Web-API's startresult (0 completed, 1 failed, 2 still running, -1 not started). */
export const START_RESULT_HEADER = 'X-Oktell-Start-Result';

/** Paths the server answers itself; everything else goes to the HTTP404 hook. */
export const OWN_ROUTES = ['/-/', '/execsvcscript', '/execsvcscriptplain'];

/** The methods of the server's own routes that take a fixed set (`/-/console` answers its own); undefined for others. */
export function allowedMethods(path: string, tasks: boolean): string | undefined {
  if (path === '/-/health' || path === '/-/metrics') return 'GET, HEAD';
  if (tasks && /^\/-\/tasks\/?$/.test(path)) return 'GET, HEAD';
  if (tasks && /^\/-\/tasks\/[^/]+\/run\/?$/.test(path)) return 'POST';
  return undefined;
}

export function createApp(d: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', d.config.trustProxy);
  app.set('etag', false);

  app.use((req, res, next) => {
    observeRequest(d, req.method, logTarget(req), () => req.ip, res, () => res.locals.runId as string | undefined, () => res.locals.deliveryKey as string | undefined);
    next();
  });

  const probeStore = storeProbe(d.store);
  app.get('/-/health', async (_req, res) => {
    const storeProblem = d.accepting() ? await probeStore() : undefined;
    const library = d.host.library();
    const problems = healthProblems(d, library.scenarios.has(d.config.hook.scenario));
    if (storeProblem) problems.push(storeProblem);
    // `invalid` counts problems and `workers` busy workers (kept as they were: clients read them); the fields after
    // them say plainly what they count.
    res.status(problems.length ? 503 : 200).json({
      status: problems.length ? 'failing' : 'ok',
      scenarios: library.scenarios.size,
      invalid: library.issues.length,
      workers: d.workers.running,
      invalidFiles: new Set(library.issues.map((i) => i.file)).size,
      workersBusy: d.workers.running,
      workersTotal: d.config.workers.concurrency,
      bodyBytesHeld: budgetFor(d.config).inUse,
      bodyBytesBudget: budgetFor(d.config).limit,
      bodyBytesPerLogin: budgetFor(d.config).perLogin,
      ...(problems.length ? { problems } : {}),
    });
  });

  const auth = basicAuth(d.users, undefined, d.logger, undefined, d.throttle);
  app.get('/-/metrics', noStore, auth, async (_req, res, next) => {
    try {
      res.type('text/plain; version=0.0.4').send(await d.metrics.render(d.store));
    } catch (e) {
      next(e);
    }
  });
  // Each route needs its right (auth.ts, Right); metrics and unknown /-/ routes only a valid login.
  const may = (right: Right) => basicAuth(d.users, undefined, d.logger, right, d.throttle);
  // `view` lets a login in read-only; the console itself refuses its actions to a login without `console`.
  // A browser opening a console page without a login gets the 401 as a short page a phone can read.
  const signInPage = {
    wanted: wantsSignInPage,
    send: (res: Response) => res.set({ 'Content-Security-Policy': SIGN_IN_PAGE_CSP, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' }).type('html').send(CONSOLE_SIGN_IN_PAGE),
  };
  app.use('/-/console', basicAuth(d.users, undefined, d.logger, 'view', d.throttle, signInPage), lazyConsole(d));
  if (d.tasks) app.use('/-/tasks', noStore, may('api'), refuseCrossSite, taskRoutes(d.tasks));
  app.all('/-/{*rest}', auth, (req, res) => {
    // A route that exists, asked with another method (a task URL typed into a browser): 405 says which methods.
    const allow = allowedMethods(req.path, d.tasks !== undefined);
    if (allow) {
      res.status(405).set('Allow', allow).type('text/plain').send(`405 Method Not Allowed: ${req.path} takes ${allow}\n`);
      return;
    }
    res.status(404).type('text/plain').send('404 Not Found: unknown server route\n');
  });

  const budget = budgetFor(d.config);
  d.metrics.sources.push(() => bodyBudgetMetrics(budget));
  d.metrics.sources.push(() => scenarioMetrics(d.host.library()));
  // Bodies express reads (the Web-API's form, a compressed hook body) count against the same budget as the hook
  // route's, chunk by chunk as they are kept (a compressed body by its inflated bytes): see request-body.ts.
  const hookBody: express.RequestHandler = (req, res, next) => {
    if (!declaresBody(req)) {
      req.body = Buffer.alloc(0);
      next();
      return;
    }
    // A body refused for its size is a webhook lost: the error handler warns (logHookTooLarge).
    res.locals.hookBody = true;
    readBody(req, d.config.bodyLimitBytes, holdFor(budget, res, loginOf(res)).take).then((body) => {
      req.body = body;
      next();
    }, next);
  };
  app.all(['/execsvcscript', '/execsvcscriptplain'], scenarioAnswer, may('api'), refuseCrossSite, webApiBody(d, budget), (req, res, next) => {
    execSvcScript(d, req, res).catch(next);
  });

  // Requests the node:http route (hook-listener.ts) hands over: the same hook, through express's body reading.
  app.use(scenarioAnswer, may('hook'), refuseCrossSite, hookBody, (req, res, next) => {
    const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    answerHook(d, { method: req.method, url: req.originalUrl, path: req.path, rawHeaders: req.rawHeaders, header: (n) => req.get(n), ip: req.ip ?? null, login: String(res.locals.user), body, clientGone: () => req.socket.destroyed }).then((a) => {
      res.locals.runId = a.runId;
      res.locals.deliveryKey = a.deliveryKey;
      writeAnswer(res, a, req.method);
    }, next);
  });

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = err as { status?: number; type?: string; message?: string; limit?: unknown };
    // The limit that refused a body: the one the reader was given (a console form's is smaller than the body limit).
    const limit = typeof e?.limit === 'number' ? e.limit : undefined;
    // A body refused before its end was read: the connection is closed rather than read on for a body nobody uses,
    // gently (closeUnreadBody) and draining what still comes meanwhile, so that a client still sending reads the
    // answer instead of a reset (fetch failed with EPIPE on most 413s).
    if (!req.complete) {
      res.set('Connection', 'close');
      closeUnreadBody(req, res);
      req.resume();
    }
    // A body the Web-API could not read (413, 400, 415, the budget's 503) is refused in the Web-API's own answer, as
    // its other refusals are: XML or plain text by the route, the start result -1 in its header; elsewhere plain text.
    const webApi = webApiRoute(req);
    const answer = (status: number, text: string, reason: string, headers: Record<string, string> = {}) => {
      res.set(headers);
      if (webApi) answerWebApi(res, webApi, status, { started: false, startResult: -1, returnValue: reason });
      else res.status(status).type('text/plain').send(text);
    };
    // A refusal for its reason: plain text `413 Payload Too Large: <reason>\n`; the Web-API's return value is the
    // reason, or `webApiReason` where it says more.
    const refuse = (status: RefusalStatus, reason: string, webApiReason = reason) => answer(status, refusalText(status, reason), webApiReason);
    if (e?.type === OVER_BUDGET) {
      // The budget of all connections, or the share of the request's login: the answer says which.
      const refusal = budgetRefusal(res);
      d.metrics.response(503);
      d.logger.warn({ ...logTarget(req), ip: req.ip, login: loginOf(res) }, refusal.log);
      answer(503, refusal.text, refusal.reason, refusal.headers);
      return;
    }
    if (e?.type === 'parameters.too.many') {
      d.metrics.response(413);
      refuse(413, `too many form fields (at most ${limit ?? FORM_FIELD_LIMIT})`);
      return;
    }
    if (e?.type === 'entity.too.large' || e?.status === 413) {
      d.metrics.response(413);
      const reason = `the limit is ${limit ?? d.config.bodyLimitBytes} bytes`;
      if (res.locals.hookBody === true) logHookTooLarge(d, { ...logTarget(req), ip: req.ip, login: loginOf(res) });
      refuse(413, reason, `the body is too large: ${reason} (OKTELL_BODY_LIMIT)`);
      return;
    }
    const undecodable = undecodableBody(err, req);
    if (undecodable) {
      refuse(400, `the body is not valid ${undecodable} (Content-Encoding: ${undecodable})`);
      return;
    }
    if (e?.status && e.status >= 400 && e.status < 500) {
      answer(e.status, `${e.status} ${e.message ?? 'Bad Request'}\n`, e.message ?? 'Bad Request');
      return;
    }
    // How far a Web-API call had gone when the error came (set by execSvcScript): nothing started, a job being queued,
    // or a run under way. The Web-API's answer says so, with the start result that is known, as its other refusals do.
    const stage = webApi ? (res.locals.webApiStage as WebApiStage | undefined) : undefined;
    if (err instanceof StoreUnavailableError && stage === undefined) {
      noteStoreRefusal(d, err, 'request');
      res.set('Retry-After', String(err.retryAfterSeconds));
      if (webApi) answerWebApi(res, webApi, 503, { started: false, startResult: -1, returnValue: 'the store cannot take requests right now; retry later (nothing was started or queued)' });
      else res.status(503).type('text/plain').send('503 Service Unavailable: the store cannot take requests right now; retry later\n');
      return;
    }
    d.logger.error({ err, method: req.method, ...logTarget(req), ...(stage?.runId ? { runId: stage.runId } : {}) }, 'unexpected error');
    if (webApi && !res.headersSent) answerWebApi(res, webApi, 500, internalErrorAnswer(stage));
    else res.status(500).type('text/plain').send('500 Internal Server Error\n');
  });
  return app;
}

/**
 * The content coding a request's body failed to decode in, when that is the error: body-parser passes zlib's own
 * error on (an errno and a code such as Z_DATA_ERROR, "incorrect header check"), which tells a client nothing.
 */
function undecodableBody(err: unknown, req: Request): string | undefined {
  const e = err as { status?: number; type?: string; errno?: unknown; code?: unknown };
  const coding = req.get('content-encoding')?.trim().toLowerCase();
  if (e?.status !== 400 || e.type !== undefined || typeof e.errno !== 'number' || typeof e.code !== 'string') return undefined;
  return coding && coding !== 'identity' ? coding : undefined;
}

/**
 * How long a refused write keeps `/-/health` failing when no write has succeeded since: long enough for a load
 * balancer to see it, short enough that a health check that takes the instance out of rotation (so no request comes
 * to prove the store writable again) lets it back in to try.
 */
const STORE_REFUSAL_MEMORY_MS = 30_000;

/**
 * How long a write may wait for the store before `/-/health` says so: far above a commit of a working database, and
 * half of the store's lock timeout (10 s), so that a lock another session holds on the store's tables (`LOCK TABLE
 * jobs`) shows as soon as webhooks are held up by it rather than once the lock timeout refuses them.
 */
export const HEALTH_WRITE_WAIT_MS = 5_000;

/** What makes the server unable to take webhooks: no hook scenario, or a store refusing writes. */
function healthProblems(d: AppDeps, hasHookScenario: boolean): string[] {
  const problems: string[] = [];
  if (!d.accepting()) problems.push('the server is stopping: new webhooks and Web-API calls are answered 503 until it has stopped');
  if (!hasHookScenario) problems.push(`the hook scenario ${d.config.hook.scenario} is missing or invalid: every hook request fails (add ${d.config.hook.scenario}.yaml to the scenarios folder, or fix it: oktell-emu validate shows what is wrong; ${noWebhooksHint(d.config.hook.scenario)})`);
  const refused = d.metrics.storeRefused;
  const now = Date.now();
  if (refused && now - refused.at < STORE_REFUSAL_MEMORY_MS) problems.push(`the store refuses writes (${refused.reason}): webhooks are answered 503`);
  // Claims and the ends of jobs refused with nothing committed since: the queue does not move, webhooks or not.
  const { lastRefusal, lastCommitAt, oldestWriteSince } = d.store.stats();
  if (lastRefusal && now - lastRefusal.at < STORE_REFUSAL_MEMORY_MS && (lastCommitAt === undefined || lastCommitAt < lastRefusal.at)) {
    problems.push(`the store refuses every write (${lastRefusal.reason}): jobs cannot be claimed or finished, so the queue does not move`);
  }
  // A write held up now (its SELECT-1 probe answers, since it takes no lock), with nothing committed meanwhile: webhooks
  // wait behind it. One write waiting on a lock of one row (another session's `SELECT … FOR UPDATE` of a job) while the
  // other transactions commit webhooks is no reason to be taken out of a load balancer: every instance on the store
  // would see the same write, and all be drained together.
  if (oldestWriteSince !== undefined && now - oldestWriteSince > HEALTH_WRITE_WAIT_MS && (lastCommitAt === undefined || now - lastCommitAt > HEALTH_WRITE_WAIT_MS)) {
    problems.push(`a write to the store has waited ${Math.round((now - oldestWriteSince) / 1000)} s (another session holding a lock on the store's tables, or the database slow): webhooks wait behind it, and are answered 503 if it fails`);
  }
  return problems;
}

/** The methods the Web-API takes: a HEAD is refused, since answering it would run the scenario with all its effects. */
export const WEB_API_METHODS = 'GET, POST';

/**
 * The parameters of a Web-API call (`q`), or why it is refused before anything runs: a method other than GET or POST
 * (a HEAD too: a link checker or an uptime probe must not start a scenario), a JSON body (the Web-API takes query or
 * form parameters), `name` missing, `name` / `async` / `timeout` given more than once, or an `async` / `timeout` it
 * does not understand. As strict as `startparam…`: a caller that meant something else learns it instead of getting
 * another behaviour.
 */
function webApiRefusal(req: Request, query: ParsedForm, form: Record<string, unknown>, res: Response): { status: number; reason: string } | { q: Partial<Record<WebApiKey, string>> } {
  if (req.method !== 'GET' && req.method !== 'POST') return { status: 405, reason: `${req.method} is not allowed: call the Web-API with GET or POST` };
  const notForm = res.locals.notForm as string | undefined;
  if (notForm !== undefined) return { status: 415, reason: `the Web-API takes its parameters in the query or as a form (application/x-www-form-urlencoded), not as ${notForm}` };
  const notText = [
    ...query.notText.filter((v) => WEB_API_KEY.test(v.key)).map((v) => notTextReason('query', v)),
    ...((res.locals.formNotText as NotText[] | undefined) ?? []).filter((v) => WEB_API_KEY.test(v.key)).map((v) => notTextReason('form', v, res.locals.formCharset as string | undefined)),
  ];
  if (notText.length) return { status: 400, reason: notText[0]! };
  // `a=1&amp;startparam1=x`: the parameters after the first would be keys "amp;…", ignored as unknown, and the run
  // would start without them. PHP writes it when arg_separator.output is "&amp;"; so does a URL copied from HTML.
  // Escaped twice (`&amp;amp;`, an address escaped for HTML once more, or a template's escape of an escaped one), the
  // keys are "amp;amp;…": refused the same way, naming the separator that came. The numeric escapes `&#38;` and
  // `&#x26;` likewise (in a form: in a query `#` ends the address before the server sees it).
  for (const [from, keys] of [['query', Object.keys(query.fields)], ['form', Object.keys(form)]] as const) {
    for (const k of keys) {
      const amps = /^(?:amp;|#38;|#x26;)+/i.exec(k)?.[0];
      if (!amps || !WEB_API_KEY.test(k.slice(amps.length))) continue;
      const separator = `&${amps.slice(0, 40)}`;
      const times = amps.match(/amp;|#38;|#x26;/gi)!.length;
      const twice = times > 1 ? `, "&" escaped for HTML ${times} times over,` : `, HTML's escape of "&",`;
      return { status: 400, reason: `${JSON.stringify(k.slice(0, 40))} in the ${from}: the parameters are separated by ${JSON.stringify(separator)}${twice} where a bare "&" belongs (PHP's arg_separator.output set to "&amp;", or an address copied from a web page); send ${JSON.stringify(k.slice(amps.length, amps.length + 40))} after a bare "&"` };
    }
  }
  const keys = webApiKeys([
    { from: 'query', values: query.fields },
    { from: 'form', values: form },
  ]);
  if (!keys.ok) return { status: 400, reason: keys.reason };
  const q = keys.values;
  if (!q.name) return { status: 400, reason: 'the "name" parameter (the service scenario) is required' };
  if (q.async !== undefined && q.async !== '0' && q.async !== '1') return { status: 400, reason: `"async" must be 0 (wait for the result) or 1 (answer at once); got ${JSON.stringify(String(q.async)).slice(0, 40)}` };
  if (q.timeout !== undefined) {
    // Decimal seconds only: Number() would also take "0x10", "1e2" and " 5", which the docs do not promise.
    const t = /^(\d+\.?\d*|\.\d+)$/.test(q.timeout) ? Number(q.timeout) : NaN;
    if (!(t > 0 && t <= 600)) return { status: 400, reason: `"timeout" must be a number of seconds above 0 and at most 600; got ${JSON.stringify(String(q.timeout)).slice(0, 40)}` };
  }
  return { q };
}

/**
 * The Web-API's query parameters, every one of them: express's query parser keeps the first 1000 keys and drops the
 * rest silently, a repeated `name` or a `startparam1` among them. The request line's size (node's header limit,
 * 16 KiB) bounds how many there can be. Escapes are read as UTF-8; a value whose escapes are not UTF-8 (windows-1251
 * text) is read in `fallbackCharset` (OKTELL_WEBAPI_FALLBACK_CHARSET) when one is set, else listed in `notText`.
 */
export function webApiQuery(url: string, fallbackCharset?: string): ParsedForm {
  const at = url.indexOf('?');
  return at === -1 ? { fields: {}, notText: [] } : parseForm(url.slice(at + 1), utf8Else(fallbackCharset));
}

/** The keys whose values the Web-API reads: a value of another key that is not text does not matter. */
const WEB_API_KEY = /^(name|async|timeout|startparam\d*)$/i;

/**
 * Why a Web-API value that is not UTF-8 is refused: where it was, what arrived and how to send it. `labelled`: the
 * charset a form's Content-Type names (UTF-8 then): the fallback charset does not apply to such a form, so the answer
 * does not offer it, and says that the label does not match the bytes.
 */
function notTextReason(where: 'query' | 'form', v: NotText, labelled?: string): string {
  const shown = JSON.stringify(v.key.slice(0, 40));
  if (labelled !== undefined) {
    return `${shown} in the form is not UTF-8 text (${v.bytes}), though the form's Content-Type says charset=${labelled.slice(0, 40)}: percent-encode the text as UTF-8 (П is %D0%9F), or name the charset it is in (application/x-www-form-urlencoded; charset=windows-1251)`;
  }
  const how = where === 'query'
    ? 'percent-encode the text as UTF-8 (П is %D0%9F), or POST the parameters as a form with Content-Type: application/x-www-form-urlencoded; charset=windows-1251'
    : 'percent-encode the text as UTF-8 (П is %D0%9F), or name the form\'s charset in its Content-Type (application/x-www-form-urlencoded; charset=windows-1251)';
  return `${shown} in the ${where} is not UTF-8 text (${v.bytes}): text in another encoding, such as windows-1251, is not read as a guess; ${how}; or have the server read such values in one charset (OKTELL_WEBAPI_FALLBACK_CHARSET=windows-1251)`;
}

/**
 * The Web-API's body: a form (application/x-www-form-urlencoded, in the charset its Content-Type names, else UTF-8 or
 * OKTELL_WEBAPI_FALLBACK_CHARSET: readForm) parsed into `req.body`, at most
 * FORM_FIELD_LIMIT fields (more: 413 saying so) and the body limit (413); read under the body budget (503). A body of
 * any other type is not read past its first byte: the call is refused with 415 (`res.locals.notForm` names the type),
 * as a JSON body always was; its connection is closed after the answer. No body, or an empty one: no form fields.
 */
function webApiBody(d: AppDeps, budget: BodyBudget): express.RequestHandler {
  return (req, res, next) => {
    req.body = {};
    if (!declaresBody(req)) {
      next();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'POST') {
      // Answered 405 without reading the body: closed gently, draining it meanwhile (see the error handler).
      closeUnreadBody(req, res);
      req.resume();
      next();
      return;
    }
    const take = holdFor(budget, res, loginOf(res)).take;
    if (!req.is('application/x-www-form-urlencoded')) {
      // Limit 0: a declared Content-Length is refused unread, a chunked body at its first byte; an empty one passes.
      readBody(req, 0, take).then(
        () => next(),
        (e: { status?: number }) => {
          if (e.status !== 413) return next(e);
          const type = req.get('content-type')?.split(';')[0]?.trim().toLowerCase();
          res.locals.notForm = req.is('application/json') ? 'JSON' : type ? `${JSON.stringify(type.slice(0, 60))}` : 'a body without a Content-Type';
          closeUnreadBody(req, res);
          req.resume();
          next();
        },
      );
      return;
    }
    readForm(req, d.config.bodyLimitBytes, FORM_FIELD_LIMIT, take, utf8Else(d.config.webApiFallbackCharset)).then(
      (form) => {
        req.body = form.fields;
        res.locals.formNotText = form.notText;
        res.locals.formCharset = form.charset;
        next();
      },
      (e: { type?: string; message?: string; hint?: string }) => {
        if (e.type !== 'charset.unsupported') return next(e);
        // Refused before a byte is read, in the Web-API's own answer (XML for execsvcscript, the start result header).
        res.locals.notForm = `a form in an ${e.message ?? 'unsupported charset'} (${e.hint ?? 'send it in UTF-8, windows-1251 or another charset a browser knows'})`;
        closeUnreadBody(req, res);
        req.resume();
        next();
      },
    );
  };
}

/**
 * Metric lines of the body budget: bytes held now, the budget and one login's share of it, and requests refused
 * because the budget, or their login's share, was spent.
 */
function bodyBudgetMetrics(budget: BodyBudget): string[] {
  return [
    '# HELP oktell_body_bytes_held Request body bytes held in memory right now, across all connections (OKTELL_BODY_BUDGET bounds it).',
    '# TYPE oktell_body_bytes_held gauge',
    `oktell_body_bytes_held ${budget.inUse}`,
    '# HELP oktell_body_budget_bytes The budget of request body bytes held at once (OKTELL_BODY_BUDGET).',
    '# TYPE oktell_body_budget_bytes gauge',
    `oktell_body_budget_bytes ${budget.limit}`,
    '# HELP oktell_body_budget_refused_total Requests answered 503 because the budget of request bodies held at once was spent.',
    '# TYPE oktell_body_budget_refused_total counter',
    `oktell_body_budget_refused_total ${budget.refused}`,
    '# HELP oktell_body_budget_per_login_bytes The most request body bytes one login may hold at once (OKTELL_BODY_BUDGET_PER_LOGIN).',
    '# TYPE oktell_body_budget_per_login_bytes gauge',
    `oktell_body_budget_per_login_bytes ${budget.perLogin}`,
    '# HELP oktell_body_budget_login_refused_total Requests answered 503 because their login held its whole share of the body budget.',
    '# TYPE oktell_body_budget_login_refused_total counter',
    `oktell_body_budget_login_refused_total ${budget.refusedPerLogin}`,
  ];
}

/**
 * Which form of the Web-API a request was sent to, or undefined for another path: the same spellings the route takes
 * (express matches paths case-insensitively and with a trailing slash), so a client writing `/ExecSvcScriptPlain` or
 * `/execsvcscriptplain/` gets the plain text it reads, not XML.
 */
function webApiRoute(req: Request): 'xml' | 'plain' | undefined {
  return webApiForm(req.path);
}

/** webApiRoute for a path alone (no query), as Node's parser left it for an answer it makes itself (serve.ts). */
export function webApiForm(path: string): 'xml' | 'plain' | undefined {
  const p = path.toLowerCase().replace(/\/$/, '');
  return p === '/execsvcscript' ? 'xml' : p === '/execsvcscriptplain' ? 'plain' : undefined;
}

/**
 * A Web-API answer written by hand on a socket (`HTTP/1.1 <statusLine>`, connection closed), in the form of the route:
 * for the answers Node's parser makes before the route runs (408, 431), which Web-API clients could not read.
 */
export function rawWebApiAnswer(form: 'xml' | 'plain', statusLine: string, a: ExecSvcAnswer): string {
  const body = form === 'plain' ? a.returnValue : execSvcScriptXml(a);
  const type = form === 'plain' ? 'text/plain; charset=utf-8' : 'application/xml; charset=utf-8';
  return `HTTP/1.1 ${statusLine}\r\nContent-Type: ${type}\r\n${START_RESULT_HEADER}: ${a.startResult}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/**
 * How far a Web-API call has gone, for the answer to an unexpected error: `queueing` (async=1: the job is being
 * written, and whether it was is not known after an error) or `running` (a synchronous run was started).
 */
type WebApiStage = { at: 'queueing'; runId?: undefined } | { at: 'running'; runId: string };

/**
 * The Web-API's answer to an unexpected error (500), in its own form: before anything started, `started` 0 and
 * startresult -1; once a job was being queued or a run was started, what happened to it is not known, which the
 * return value says (startresult 2, as for a run whose end the answer does not wait for), with the run id when there is one.
 */
export function internalErrorAnswer(stage: WebApiStage | undefined): ExecSvcAnswer {
  if (stage === undefined) return { started: false, startResult: -1, returnValue: 'internal error before the run started: nothing was started or queued; the server log has the error (unexpected error)' };
  if (stage.at === 'queueing') {
    return { started: false, startResult: 2, returnValue: 'internal error while queueing the run (async=1): it is unknown whether it was queued, so it may still run; look for it (npx oktell-emu runs) before starting it again; the server log has the error (unexpected error)' };
  }
  return { started: true, startResult: 2, runId: stage.runId, returnValue: `internal error during run ${stage.runId}: it started, but whether it ended and what it did (its letters, writes) is unknown; npx oktell-emu show ${stage.runId} shows what was recorded; the server log has the error (unexpected error)` };
}

/** A Web-API answer: Oktell's XML (execsvcscript) or the return value as text (execsvcscriptplain), with the start result. */
function answerWebApi(res: Response, form: 'xml' | 'plain', status: number, a: ExecSvcAnswer): void {
  // startresult in a header too: in the plain form it is the only way to tell a failed run, one still running and
  // an async start from a completed run that returned nothing (all 200 with an empty body).
  res.set(START_RESULT_HEADER, String(a.startResult));
  if (a.runId) {
    res.set('X-Oktell-Run-Id', a.runId);
    res.locals.runId = a.runId;
  }
  if (form === 'plain') res.status(status).type('text/plain; charset=utf-8').send(a.returnValue);
  else res.status(status).type('application/xml; charset=utf-8').send(execSvcScriptXml(a));
}

/** Oktell's Web-API: execsvcscript (XML answer) and execsvcscriptplain (the return value as plain text). */
async function execSvcScript(d: AppDeps, req: Request, res: Response) {
  const route = webApiRoute(req) ?? 'xml';
  const form: Record<string, unknown> = typeof req.body === 'object' && req.body ? req.body : {};
  const answer = (status: number, a: ExecSvcAnswer) => answerWebApi(res, route, status, a);
  if (!d.accepting()) {
    res.set('Retry-After', '5');
    answer(503, { started: false, startResult: -1, returnValue: 'the server is shutting down' });
    return;
  }
  const query = webApiQuery(req.originalUrl, d.config.webApiFallbackCharset);
  const checked = webApiRefusal(req, query, form, res);
  if (!('q' in checked)) {
    if (checked.status === 405) res.set('Allow', WEB_API_METHODS);
    answer(checked.status, { started: false, startResult: -1, returnValue: checked.reason });
    return;
  }
  const { q } = checked;
  const name = q.name!;
  const library = d.host.library();
  if (!library.scenarios.has(name)) {
    // A file that is there but did not load is the server's problem, not a misspelt name: 500 with its first problem
    // (scenario files are the server's own configuration, and the caller has the api right).
    const invalid = invalidScenarioReason(d.host, name);
    if (invalid) {
      answer(500, { started: false, startResult: -1, returnValue: `service scenario "${name}" is invalid and cannot start: ${invalid}; the scenarios folder is watched: fixing the file is enough` });
      return;
    }
    const guess = closest(name, library.scenarios.keys());
    answer(404, { started: false, startResult: -1, returnValue: `unknown service scenario "${name}"${guess ? `; did you mean "${guess}"?` : ''}` });
    return;
  }
  const started = startParams([query.fields, form]);
  if (!started.ok) {
    answer(400, { started: false, startResult: -1, returnValue: started.reason });
    return;
  }
  const params: Record<string, Value> = started.params;
  if (q.async === '1') {
    let jobId: string | undefined;
    try {
      res.locals.webApiStage = { at: 'queueing' } satisfies WebApiStage;
      [jobId] = await d.store.enqueueJobs([{ scenario: name, params, trigger: { webapi: req.path } }]);
    } catch (err) {
      // The store quota (or an outage) refuses the start as it refuses a hook request: 503, Retry-After, nothing queued.
      if (!(err instanceof StoreUnavailableError)) throw err;
      res.locals.webApiStage = undefined;
      noteStoreRefusal(d, err, 'run');
      res.set('Retry-After', String(err.retryAfterSeconds));
      answer(503, { started: false, startResult: -1, returnValue: 'the store cannot take new runs right now; retry later' });
      return;
    }
    // Queued for good: the answer says so whatever comes next. A worker that is not woken claims the job at its
    // next look at the queue.
    res.locals.webApiStage = undefined;
    try {
      noteStoreTakesWrites(d);
      d.workers.wake();
    } catch (err) {
      d.logger.error({ err, jobId }, 'Web-API job queued, but waking the workers failed: it runs at their next look at the queue');
    }
    answer(200, { started: true, startResult: 0, returnValue: '', runId: jobId! });
    return;
  }
  // Each synchronous run holds its caller's connection and shares the thread with every webhook: past the cap the
  // caller is told to come back (a job started with async=1 waits in the queue instead).
  if (d.syncRuns && d.syncRuns.running >= d.config.maxSyncRuns) {
    res.set('Retry-After', '1');
    answer(503, { started: false, startResult: -1, returnValue: `${d.config.maxSyncRuns} synchronous Web-API runs are already running (OKTELL_SYNC_RUNS); retry, or start with async=1 to queue the run` });
    return;
  }
  const timeoutS = q.timeout === undefined ? 30 : Number(q.timeout);
  const runId = d.ports.ids.newId();
  // Named before the run ends, so that a caller who hangs up first leaves a log line naming the run (observeRequest).
  res.locals.runId = runId;
  // With syncTimeout: stop, the caller's timeout also stops the run (before its next block), as Oktell's successor does.
  const stopper = d.config.syncTimeout === 'stop' ? new AbortController() : undefined;
  res.locals.webApiStage = { at: 'running', runId } satisfies WebApiStage;
  const running = runScenario(library, name, {
    runId,
    params,
    ...(stopper ? { signal: stopper.signal } : {}),
    timeZone: d.config.timeZone,
    limits: { maxEffects: d.config.maxEffectsPerRun },
    ports: { ...d.ports, asyncStarter: enqueueingStarter(d.ports.ids, d.store, { webapi: req.path }, () => d.workers.wake()) },
  });
  const recorded = running.then((result) => {
    // Counted when the run ends, also when the answer went out before (startresult 2).
    d.metrics.run(result.status, result.durationMs / 1000, runTally(result));
    // As a job's failure is logged (also when the caller was answered startresult 2 before the end): the run and its
    // error code, not its parameters (they may carry secrets).
    if (result.status !== 'completed') d.logger.warn({ runId: result.runId, scenario: name, trigger: 'webapi', ms: result.durationMs, ...(result.error ? { code: result.error.code } : {}) }, `run ${name} failed`);
    return d.store.recordRun(runWrite(result, { trigger: 'webapi', params, timeZone: d.config.timeZone, budgetBytes: d.config.runRecordBytes, traceKept: d.config.traceKept })).catch((e: unknown) => d.logger.error({ err: e, runId: result.runId }, 'cannot record a Web-API run'));
  });
  const cutShort = d.syncRuns?.track(running, recorded);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutS * 1000)));
  // A stop whose grace period ended first answers like a timeout: the caller learns the run did not finish.
  const outcome = await Promise.race([running, timedOut, ...(cutShort ? [cutShort] : [])]);
  clearTimeout(timer);
  if (outcome === 'timeout' || outcome === 'cut') {
    if (outcome === 'timeout') stopper?.abort(`the caller's timeout of ${timeoutS} s passed (OKTELL_SYNC_TIMEOUT=stop)`);
    answer(200, { started: true, startResult: 2, returnValue: '', runId });
    return;
  }
  // The caller gets return value 1 as the scenario set it; the run recorded above has secret values masked.
  const rv1 = answerValues(outcome)['1'];
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
 * The target a request was sent to, for logs: the whole path (`req.path` inside a mounted router such as the
 * console's lacks the mount point) and the query's names without their values, which may carry secrets (loggedTarget).
 */
function logTarget(req: Request): LoggedTarget {
  return loggedTarget(req.originalUrl);
}
