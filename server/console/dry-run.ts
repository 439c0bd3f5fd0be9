// Dry runs from the console: runs a scenario with the given input parameters (or a pasted webhook) on ports that send
// no mail, write nothing to Bpium and enqueue nothing, and keeps the last results in memory for the result page.
import { randomUUID } from 'node:crypto';
import { createDatabasePort, type DatabaseSettings } from '../../adapters/db/index.js';
import { attachChildResults, createInProcessStarter, runScenario, startedRunInputs, type EnginePorts, type RunResult, type ScenarioLibrary, type Value } from '../../engine/index.js';
import type { ServerConfig } from '../config.js';
import { headersText, hookParams } from '../hook-request.js';

/** Input parameters offered by the form. */
export const DRY_RUN_PARAMS = 8;
/** Each text field of the form at most (a webhook body may be large, but the console is not a bulk tool). */
export const DRY_RUN_FIELD_LIMIT = 256 * 1024;

export type DryRunMode = 'params' | 'webhook';

export interface DryRunInput {
  scenario: string;
  mode: DryRunMode;
  /** Parameter number (as text) → value; only filled ones. */
  params: Record<string, string>;
  webhook: { path: string; body: string };
}

export interface DryRunRecord {
  id: string;
  login: string;
  input: DryRunInput;
  /** The parameters the scenario received. */
  params: Record<string, Value>;
  result: RunResult;
  at: number;
}

/** Reads the form fields into a dry-run input; anything unexpected becomes empty. */
export function dryRunInput(body: Record<string, unknown>, fallbackScenario: string): DryRunInput {
  const text = (v: unknown) => (typeof v === 'string' ? v.slice(0, DRY_RUN_FIELD_LIMIT) : '');
  const params: Record<string, string> = {};
  for (let n = 1; n <= DRY_RUN_PARAMS; n++) {
    const v = text(body[`p${n}`]);
    if (v !== '') params[String(n)] = v;
  }
  return {
    scenario: text(body.scenario).slice(0, 200) || fallbackScenario,
    mode: body.mode === 'webhook' ? 'webhook' : 'params',
    params,
    webhook: { path: text(body.path).slice(0, 2000) || '/Bpium/NewTask', body: text(body.body) },
  };
}

/** The parameters a run gets: typed in, or made from the webhook as the server would for a real request. */
export function dryRunParams(input: DryRunInput, config: ServerConfig): Record<string, Value> {
  if (input.mode === 'params') return { ...input.params };
  const path = input.webhook.path.startsWith('/') ? input.webhook.path : `/${input.webhook.path}`;
  return hookParams(config.hook.params, { url: path, headers: headersText(['Content-Type', 'application/json']), method: 'POST', body: Buffer.from(input.webhook.body, 'utf8'), contentType: 'application/json' }, 'absent');
}

/**
 * Runs the scenario without side effects: no mailer (letters are rendered, not sent), Bpium writes and web requests
 * that change things skipped by the blocks' dry-run mode (reads are made), no effect journal, and asynchronous starts followed in process, also dry.
 * Each run obeys the server's cap on effects, so a dry run stops where the live run would (and stays small).
 * Database statements run in a transaction per connection, rolled back when the dry run (with its async runs) ends.
 */
export async function performDryRun(library: ScenarioLibrary, name: string, params: Record<string, Value>, ports: Omit<EnginePorts, 'asyncStarter' | 'journal' | 'mailer'>, timeZone: string, maxEffects?: number, databases?: DatabaseSettings): Promise<RunResult> {
  const limits = maxEffects ? { limits: { maxEffects } } : {};
  // A statement stopped at its timeout is logged as the server's own are.
  const db = databases ? createDatabasePort(databases, { rollsBack: true, ...(ports.logger ? { logger: ports.logger } : {}) }) : undefined;
  const base: EnginePorts = {
    ...(db ? { databases: db } : {}),
    ...(ports.bpium ? { bpium: ports.bpium } : {}),
    // WebRequest: GET/HEAD/OPTIONS are made, the other methods only recorded (the block's dry-run mode).
    ...(ports.web ? { web: ports.web } : {}),
    ...(ports.templates ? { templates: ports.templates } : {}),
    clock: ports.clock,
    ids: ports.ids,
    ...(ports.logger ? { logger: ports.logger } : {}),
    ...(ports.mailFrom ? { mailFrom: ports.mailFrom } : {}),
    ...(ports.regexBudgetMs !== undefined ? { regexBudgetMs: ports.regexBudgetMs } : {}),
    ...(ports.substrBase !== undefined ? { substrBase: ports.substrBase } : {}),
    asyncStarter: undefined as never,
  };
  const starter = createInProcessStarter(
    ports.ids,
    (req, runId) => runScenario(library, req.scenario, { ...startedRunInputs(req), runId, dryRun: true, timeZone, ports: base, ...limits }),
    100,
  );
  base.asyncStarter = starter;
  try {
    const result = await runScenario(library, name, { params, dryRun: true, timeZone, ports: base, ...limits });
    return attachChildResults(result, await starter.drain());
  } finally {
    await db?.close();
  }
}

/**
 * How much of the dry-run results the console keeps in memory, in characters of their JSON: a measure, not their
 * memory, which may be twice as much or more (strings of two bytes a character, objects larger than their JSON).
 */
export const DRY_RUN_RESULTS_BUDGET = 32 * 1024 * 1024;

/**
 * The last dry-run results, for the result page (POST, then redirect to GET): at most `limit` of them and, older ones
 * first, no more than `budget` characters of JSON together, so fifty results of multi-megabyte webhooks do not hold a
 * quarter of a gigabyte. The newest is kept whatever its size: its page is the redirect's target.
 */
export function createDryRunResults(limit = 50, budget = DRY_RUN_RESULTS_BUDGET) {
  const results = new Map<string, { rec: DryRunRecord; size: number }>();
  let total = 0;
  const dropOldest = () => {
    const [id, entry] = results.entries().next().value!;
    results.delete(id);
    total -= entry.size;
  };
  return {
    add(r: Omit<DryRunRecord, 'id' | 'at'>): DryRunRecord {
      const rec = { ...r, id: randomUUID(), at: Date.now() };
      const size = JSON.stringify(r).length;
      results.set(rec.id, { rec, size });
      total += size;
      while (results.size > limit || (results.size > 1 && total > budget)) dropOldest();
      return rec;
    },
    /** Only the user who ran it sees a result. */
    get(id: string, login: string): DryRunRecord | undefined {
      const r = results.get(id)?.rec;
      return r && r.login === login ? r : undefined;
    },
  };
}
export type DryRunResults = ReturnType<typeof createDryRunResults>;
