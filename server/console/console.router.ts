// The web console under /-/console/: scenarios as diagrams, runs with their path, jobs and dead letters with replay,
// the outbox and dry runs. Server-rendered nunjucks pages; mounted behind the server's Basic auth.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type nunjucks from 'nunjucks';
import type { AppDeps } from '../app.js';
import { hasRight, logForbidden, printable, rightsOf, type OktellUser } from '../auth.js';
import { loggedTarget } from '../log-target.js';
import { CONSOLE_SECRET_NAME, persistentSecret } from '../credentials.js';
import { budgetFor, holdFor, loginOf } from '../body-budget.js';
import { crossSiteReason } from '../cross-site.js';
import { closeUnreadBody, declaresBody, OVER_BUDGET, readForm } from '../request-body.js';
import { InvalidCursorError, StoreUnavailableError } from '../store/store.errors.js';
import { consoleHeaders, createCsrf, requireSameOrigin, type Csrf } from './console-security.js';
import { showBidiControls } from './bidi-text.js';
import { CONSOLE_BASE, consoleBase, consoleSourceDir, createViews, forwardedPrefix, graphCommand } from './console-views.js';
import { createDryRunResults, type DryRunResults } from './dry-run.js';
import { dryRunRoutes } from './dry-run.routes.js';
import { outboxRoutes } from './outbox.routes.js';
import { runRoutes } from './run.routes.js';
import { scenarioRoutes } from './scenario.routes.js';
import { taskRoutes } from './tasks.routes.js';

export { CONSOLE_BASE };

export interface ConsoleContext {
  d: AppDeps;
  views: nunjucks.Environment;
  csrf: Csrf;
  dryRuns: DryRunResults;
  /** Refuses cross-site POSTs and POSTs without the form token; put after the body parser. */
  sameOrigin: ReturnType<typeof requireSameOrigin>;
  /** Reads and parses the form body of a console POST into `req.body` (see consoleForm). */
  form: express.RequestHandler;
  render(res: Response, view: string, model: Record<string, unknown>, status?: number): void;
  notFound(res: Response, what: string): void;
}

/**
 * Whether the request's login may act in the console (replay, run now, dry run): it has the `console` right, not only
 * `view`. Basic auth (app.ts) puts the login in `res.locals.oktellUser`; without one (a router mounted some other way)
 * nothing is allowed.
 */
function mayAct(res: Response): boolean {
  const user = res.locals.oktellUser as OktellUser | undefined;
  return !!user && hasRight(user, 'console');
}

/** The most bytes of one console form (or OKTELL_BODY_LIMIT when that is less): a dry run's webhook body is the largest. */
const CONSOLE_FORM_LIMIT = 2 * 1024 * 1024;

/** Fields of one console form at most: the dry-run form, the largest, has about a dozen. */
const CONSOLE_FORM_FIELDS = 100;

/**
 * The console's form reader: a form body (application/x-www-form-urlencoded) read by the server's one reader
 * (readForm, request-body.ts) under the body budget shared with the hook and the Web-API, charged chunk by chunk as it
 * arrives and given back when the answer is sent, so slow console forms cannot hold memory outside OKTELL_BODY_BUDGET.
 * Past CONSOLE_FORM_LIMIT: 413; past the budget: 503 with Retry-After (the app's error handler answers both). A body
 * of another type, or of a cross-site POST, is not read: the POST is refused (403) and its connection closed.
 */
function consoleForm(d: AppDeps): express.RequestHandler {
  const budget = budgetFor(d.config);
  const limit = Math.min(d.config.bodyLimitBytes, CONSOLE_FORM_LIMIT);
  return (req, res, next) => {
    req.body = {};
    if (!declaresBody(req)) return next();
    // A cross-site POST is refused (sameOrigin) whatever its body holds: not read, nor charged to the budget.
    if (!req.is('application/x-www-form-urlencoded') || crossSiteReason(req)) {
      closeUnreadBody(req, res);
      return next();
    }
    readForm(req, limit, CONSOLE_FORM_FIELDS, holdFor(budget, res, loginOf(res)).take).then((form) => {
      req.body = form.fields;
      next();
    }, next);
  };
}

const ASSETS: Record<string, string> = { 'console.css': 'text/css; charset=utf-8', 'diagram.css': 'text/css; charset=utf-8', 'console.js': 'text/javascript; charset=utf-8' };

/**
 * The console's router. Mount it behind Basic auth (which sets `res.locals.user`):
 *
 * @example
 * app.use('/-/console', auth, consoleRouter(d));
 */
export function consoleRouter(d: AppDeps): Router {
  const router = express.Router({ strict: false });
  const views = createViews(d.config.timeZone);
  // For the pages of a scenario too large to draw here: the command that draws it, with this server's folder.
  views.addGlobal('graphCommand', (name: string) => graphCommand(name, d.host.library().dir));
  // The server reads the secret as it starts (shared by every instance of a PostgreSQL store); an app built without it
  // (tests) uses the data folder's.
  const csrf = createCsrf(d.consoleSecret ?? persistentSecret(d.config.dataDir, CONSOLE_SECRET_NAME));
  const assetDir = join(consoleSourceDir(), 'assets');
  const assets = new Map(Object.keys(ASSETS).map((name) => [name, readFileSync(join(assetDir, name))]));

  const ctx: ConsoleContext = {
    d,
    views,
    csrf,
    dryRuns: createDryRunResults(),
    sameOrigin: requireSameOrigin(csrf),
    form: consoleForm(d),
    render(res, view, model, status = 200) {
      const login = typeof res.locals.user === 'string' ? res.locals.user : '';
      const user = res.locals.oktellUser as OktellUser | undefined;
      // A bidirectional override in the data is drawn as a token, not obeyed (bidi-text.ts).
      const html = showBidiControls(views.render(view, { base: consoleBase(res), user: login, csrf: user ? csrf.tokenFor(user) : '', readOnly: !mayAct(res), ...model }));
      res.status(status).type('text/html; charset=utf-8').send(html);
    },
    notFound(res, what) {
      ctx.render(res, 'error.njk', { title: 'Not found', message: what, nav: '' }, 404);
    },
  };

  router.use(consoleHeaders);
  // Behind a reverse proxy that serves the console under a path prefix, that proxy (when trusted, OKTELL_TRUST_PROXY)
  // names the prefix in X-Forwarded-Prefix, and links and redirects carry it; from anyone else the header is ignored.
  // A prefix that is no plain path is ignored (links go to the root) and said once: the proxy's setting is to change.
  let badPrefixSaid = false;
  router.use((req, res, next) => {
    const sent = req.get('x-forwarded-prefix');
    // None, or the root itself (`/`): no prefix.
    if (sent === undefined || /^[\s/]*$/.test(sent)) return next();
    const trust = req.app.get('trust proxy fn') as (address: string, hop: number) => boolean;
    if (!trust(req.socket.remoteAddress ?? '', 0)) return next();
    const prefix = forwardedPrefix(sent);
    if (prefix !== undefined) res.locals.consolePrefix = prefix;
    else if (!badPrefixSaid) {
      badPrefixSaid = true;
      d.logger.warn(
        { prefix: printable(sent.slice(0, 200)) },
        `X-Forwarded-Prefix from the proxy is not a plain path (/name segments of ASCII letters, digits and -._~), so it is ignored and the console's links and redirects go to ${CONSOLE_BASE} from the root: set the proxy's prefix to such a path (said once)`,
      );
    }
    next();
  });
  // A read-only login (right `view` without `console`) may look at everything and change nothing: every request that
  // is not a GET or HEAD is refused here, before any route or body parser, so a route added later is covered too.
  router.use((req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD' || mayAct(res)) return next();
    const user = res.locals.oktellUser as OktellUser | undefined;
    // Refused before any body parser: a body the request declares is not read on.
    closeUnreadBody(req, res);
    if (!user) return void res.status(403).type('text/plain').send('403 Forbidden: no login\n');
    logForbidden(d.logger, user, 'console', { ...loggedTarget(req.originalUrl), ip: req.ip });
    ctx.render(res, 'error.njk', { title: 'Read-only login', message: `The login ${printable(user.login)} may look at the console but not change anything (its rights: ${rightsOf(user).join(', ')}); the console right is needed to replay, cancel a job, pause or resume a scenario, run a task now or dry-run.`, nav: '' }, 403);
  });
  router.get('/assets/:name', (req, res) => {
    const body = assets.get(req.params.name);
    if (!body) return ctx.notFound(res, 'No such asset.');
    // Assets change only with the code; the browser may keep them for a while.
    res.set('Cache-Control', 'private, max-age=300').type(ASSETS[req.params.name]!).send(body);
  });
  router.get('/', (_req, res) => res.redirect(303, `${consoleBase(res)}/runs`));
  // Basic authentication has no session to end: the page says so and how to sign out for real.
  router.get('/sign-out', (_req, res) => ctx.render(res, 'sign-out.njk', { title: 'Signing out', nav: 'sign-out' }));
  scenarioRoutes(router, ctx);
  runRoutes(router, ctx);
  outboxRoutes(router, ctx);
  dryRunRoutes(router, ctx);
  taskRoutes(router, ctx);
  router.use((_req, res) => ctx.notFound(res, 'The console has no such page.'));
  router.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    const e = err as { status?: number; type?: string };
    // A hand-edited page cursor on a list page: the console's own error page (with the way back), not bare text.
    if (err instanceof InvalidCursorError && !req.path.endsWith('.json') && !res.headersSent) {
      return ctx.render(res, 'error.njk', { title: 'Bad page link', message: `${err.message}.`, nav: '' }, 400);
    }
    // A form refused by its size, its fields or the body budget: the app's answer (413 / 503 with Retry-After, logged
    // and counted), a sentence a browser shows as it is.
    if (err instanceof StoreUnavailableError || e?.type === 'entity.too.large' || e?.type === OVER_BUDGET || (e?.status && e.status < 500)) return next(err);
    d.logger.error({ err, ...loggedTarget(req.originalUrl) }, 'console page failed');
    if (res.headersSent) return next(err);
    ctx.render(res, 'error.njk', { title: 'Something went wrong', message: 'The page could not be built; the server log has the details.', nav: '' }, 500);
  });
  return router;
}
