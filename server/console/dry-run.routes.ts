// Console pages of dry runs: the form (a scenario and its input parameters, or a webhook body), and the result with
// the path on the diagram, the trace, and the letters that would have been sent.
import type { Router } from 'express';
import type { RunResult } from '../../engine/index.js';
import type { ConsoleContext } from './console.router.js';
import { consoleBase } from './console-views.js';
import { DRY_RUN_PARAMS, dryRunInput, dryRunParams, performDryRun, type DryRunInput } from './dry-run.js';
import { errorLocation, runView } from './run-view.js';
import { sendLetterHtml } from './run.routes.js';

/** A Bpium "record created" webhook for the seeded task of the embedded emulator, offered as a starting point. */
const EXAMPLE_WEBHOOK = JSON.stringify(
  {
    hook: { id: '1', event: 'record.created', sequenceId: 1 },
    payload: { catalogId: '11', recordId: '1', values: { '2': 'Подготовить отчёт за квартал', '3': 'Свести продажи по отделам.', '4': [{ id: '3', title: 'Мария Смирнова' }] } },
    user: { id: '1' },
  },
  null,
  2,
);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function dryRunRoutes(router: Router, ctx: ConsoleContext): void {
  const formModel = (input: DryRunInput) => {
    const library = ctx.d.host.library();
    return {
      nav: 'dry-run',
      scenarios: [...library.scenarios.keys()].sort(),
      input,
      paramNumbers: Array.from({ length: DRY_RUN_PARAMS }, (_, i) => String(i + 1)),
      hookScenario: ctx.d.config.hook.scenario,
      hookParams: ctx.d.config.hook.params,
      exampleBody: EXAMPLE_WEBHOOK,
    };
  };

  router.get('/dry-run', (req, res) => {
    const scenario = typeof req.query.scenario === 'string' ? req.query.scenario.slice(0, 200) : ctx.d.config.hook.scenario;
    const mode = req.query.mode === 'params' || scenario !== ctx.d.config.hook.scenario ? 'params' : 'webhook';
    ctx.render(res, 'dry-run.njk', { title: 'Dry run', ...formModel({ scenario, mode, params: {}, webhook: { path: '/Bpium/NewTask', body: '' } }) });
  });

  router.post('/dry-run', ctx.form, ctx.sameOrigin, async (req, res, next) => {
    try {
      const input = dryRunInput((req.body ?? {}) as Record<string, unknown>, ctx.d.config.hook.scenario);
      const library = ctx.d.host.library();
      if (!library.scenarios.has(input.scenario)) {
        return ctx.render(res, 'dry-run.njk', { title: 'Dry run', ...formModel(input), formError: `There is no valid scenario named “${input.scenario}”.` }, 400);
      }
      const params = dryRunParams(input, ctx.d.config);
      const result = await performDryRun(library, input.scenario, params, ctx.d.ports, ctx.d.config.timeZone, ctx.d.config.maxEffectsPerRun, ctx.d.config.databases);
      const rec = ctx.dryRuns.add({ login: String(res.locals.user ?? ''), input, params, result });
      res.redirect(303, `${consoleBase(res)}/dry-run/${rec.id}#result`);
    } catch (e) {
      next(e);
    }
  });

  router.get('/dry-run/:id', (req, res) => {
    const rec = UUID.test(req.params.id) ? ctx.dryRuns.get(req.params.id, String(res.locals.user ?? '')) : undefined;
    if (!rec) return ctx.notFound(res, 'This dry-run result is gone (the console keeps the last 50, and no more than 32 million characters of them as JSON, in memory). Run it again.');
    ctx.render(res, 'dry-run.njk', {
      title: `Dry run of ${rec.input.scenario}`,
      ...formModel(rec.input),
      resultId: rec.id,
      params: Object.entries(rec.params),
      warnings: dryRunWarnings(rec.input, ctx.d.config.hook.scenario),
      result: resultModel(ctx, rec.result, `${consoleBase(res)}/dry-run/${rec.id}/mails/`, 0),
    });
  });

  router.get('/dry-run/:id/mails/:path/html', (req, res) => {
    const rec = UUID.test(req.params.id) ? ctx.dryRuns.get(req.params.id, String(res.locals.user ?? '')) : undefined;
    // `path` is "n" for a letter of the run itself, "c.n" for a letter of its c-th started run, and so on.
    const path = /^\d{1,3}(\.\d{1,3}){0,7}$/.test(req.params.path) ? req.params.path.split('.').map(Number) : undefined;
    let run: RunResult | undefined = rec?.result;
    for (const c of path?.slice(0, -1) ?? []) run = run?.asyncStarted[c]?.result;
    const mail = path && run ? run.mails[path[path.length - 1]!] : undefined;
    if (!mail?.html) return ctx.notFound(res, 'This letter has no HTML part.');
    sendLetterHtml(res, mail.html);
  });
}

/**
 * What the form may have meant otherwise, said above the result: a webhook given to a scenario other than the hook
 * scenario gets the path as parameter 1 (which it rarely reads), and a body that is not JSON is passed on as text.
 */
export function dryRunWarnings(input: DryRunInput, hookScenario: string): string[] {
  if (input.mode !== 'webhook') return [];
  const out: string[] = [];
  if (input.scenario !== hookScenario) {
    out.push(`Given as a webhook request: ${input.scenario} got the path as parameter 1 and the body as a later parameter, as ${hookScenario} would. To give it the body as parameter 1, choose "input parameters".`);
  }
  const body = input.webhook.body.trim();
  if (body !== '') {
    try {
      JSON.parse(body);
    } catch {
      out.push('The body is not valid JSON; it was passed on as text, as the server would pass a malformed webhook.');
    }
  }
  return out;
}

interface ResultModel {
  run: RunResult;
  view: ReturnType<typeof runView>;
  /** Letter n's HTML is at `${mailBase}${n}/html`. */
  mailBase: string;
  children: Array<{ scenario: string; params: Array<[string, unknown]>; result?: ResultModel }>;
  /** Where the run failed, `file:line:col` inside the scenarios folder. */
  location?: string;
}

/** The result and the runs it started, nested (a few levels at most). */
function resultModel(ctx: ConsoleContext, run: RunResult, mailBase: string, depth: number): ResultModel {
  const scenario = ctx.d.host.libraryWithVersion(run.scenario, run.version)?.scenarios.get(run.scenario) ?? ctx.d.host.library().scenarios.get(run.scenario);
  const last = run.trace[run.trace.length - 1];
  const failedBlock = run.status === 'failed' && last?.exit === 'failed' && last.scenario === run.scenario ? last.block : undefined;
  return {
    run,
    view: runView({ scenarioName: run.scenario, trace: run.trace, scenario, versionRan: run.version, ...(failedBlock ? { failedBlock } : {}) }),
    mailBase,
    ...(run.error && errorLocation(run.error, ctx.d.host.library().dir) ? { location: errorLocation(run.error, ctx.d.host.library().dir) } : {}),
    children: run.asyncStarted.map((a, i) => ({
      scenario: a.scenario,
      params: Object.entries(a.params),
      ...(a.result && depth < 4 ? { result: resultModel(ctx, a.result, `${mailBase}${i}.`, depth + 1) } : {}),
    })),
  };
}
