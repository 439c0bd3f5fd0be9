// `oktell-emu demo`: creates a task with a responsible employee in the emulator and shows where the webhook went.
import pc from 'picocolors';
import { EffectError } from '../../engine/errors.js';
import { createBpiumClient } from '../../adapters/bpium/client.js';
import { dataDir, dataDirArg } from '../config.js';
import { readServerFile } from '../server-file.js';
import { DEFAULT_EMULATOR_PORT, DEMO_LOGIN, DEMO_PASSWORD, type WebhookDelivery } from '../../bpium-emulator/index.js';

/** Where the command reads its settings and writes its output; tests pass their own. */
export interface DemoCommandIo {
  env?: NodeJS.ProcessEnv;
  write?: (text: string) => void;
  writeError?: (text: string) => void;
}

export interface DemoOptions {
  /** Emulator address (API base or origin). */
  url: string;
  login: string;
  password: string;
  title: string;
  description: string;
  /** Employee id in catalog "3"; default: the first employee other than the API account. */
  responsible?: string;
  /** How long to wait for the webhook delivery record; default 15 s (the emulator's POST timeout is 10 s). */
  waitMs?: number;
}

export interface DemoResult {
  recordId: string;
  responsible: { id: string; name: string; email: string };
  /** Undefined when no delivery showed up in time (no subscription, or not the emulator). */
  delivery?: WebhookDelivery;
}

/** The task catalog and its fields in the emulator's seed (the article's Задачи). */
const TASKS = { catalogId: '11', title: '2', description: '3', responsible: '4' };

/** A failure the user can fix (nothing listening, bad credentials); the message says how. */
export class DemoError extends Error {
  override name = 'DemoError';
}

async function fetchDeliveries(base: string, auth: string, recordId: string): Promise<WebhookDelivery[] | undefined> {
  const res = await fetch(`${base}/-/deliveries?recordId=${encodeURIComponent(recordId)}`, { headers: { authorization: auth } });
  if (res.status === 404) return undefined; // a real Bpium: it has no delivery log
  if (!res.ok) throw new DemoError(`the emulator's delivery log answered HTTP ${res.status}`);
  return (await res.json()) as WebhookDelivery[];
}

/** Creates the task and waits for its webhook delivery record. Throws DemoError with a hint on the usual mistakes. */
export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const bpium = createBpiumClient({ url: opts.url, login: opts.login, password: opts.password, rateLimit: false, timeoutMs: 5000, retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
  try {
    const users = await bpium.findRecords({ catalogId: '3' });
    const chosen = opts.responsible
      ? users.find((u) => u.id === opts.responsible)
      : users.find((u) => typeof u.values['2'] === 'string' && u.values['2'] !== '' && String(u.values['2']).toLowerCase() !== opts.login.toLowerCase());
    if (!chosen) {
      throw new DemoError(opts.responsible ? `no employee with id ${opts.responsible} in catalog 3` : 'no employee with an e-mail in catalog 3');
    }
    const { id } = await bpium.createRecord(TASKS.catalogId, {
      [TASKS.title]: opts.title,
      [TASKS.description]: opts.description,
      [TASKS.responsible]: [{ id: chosen.id }],
    });
    const result: DemoResult = {
      recordId: id,
      responsible: { id: chosen.id, name: String(chosen.values['1'] ?? ''), email: String(chosen.values['2'] ?? '') },
    };
    const auth = `Basic ${Buffer.from(`${opts.login}:${opts.password}`).toString('base64')}`;
    const deadline = Date.now() + (opts.waitMs ?? 15_000);
    for (;;) {
      const deliveries = await fetchDeliveries(bpium.baseUrl, auth, id);
      if (deliveries === undefined) return result;
      const delivery = deliveries.find((d) => d.event === 'record.created');
      if (delivery) return { ...result, delivery };
      if (Date.now() >= deadline) return result;
      await new Promise((r) => setTimeout(r, 200));
    }
  } catch (err) {
    if (err instanceof EffectError && err.details.code === 'BPIUM_NETWORK') {
      throw new DemoError(`nothing answers at ${bpium.baseUrl}. Start the server and the emulator with \`npm start\` (or \`npx oktell-emu bpium-emulator\`), or give its address with --url or BPIUM_URL.`);
    }
    if (err instanceof EffectError && err.details.code === 'BPIUM_UNAUTHORIZED') {
      throw new DemoError(`the emulator refused ${opts.login}: set BPIUM_LOGIN and BPIUM_PASSWORD to its account (default ${DEMO_LOGIN} / ${DEMO_PASSWORD}).`);
    }
    throw err;
  } finally {
    bpium.close();
  }
}

function describeDelivery(d: WebhookDelivery | undefined): string {
  if (!d) return pc.yellow('no delivery recorded (no subscription on Задачи for record.created, or not the emulator)');
  const outcome = d.status !== undefined ? `HTTP ${d.status}` : `failed: ${d.error}`;
  const colour = d.status !== undefined && d.status < 300 ? pc.green : pc.red;
  const hint = d.error === 'ECONNREFUSED' ? pc.dim(' (is the Oktell server running? `npm start` starts both)') : '';
  return `${d.event} #${d.sequenceId} → ${d.url}: ${colour(outcome)} in ${d.ms} ms${hint}`;
}

/**
 * Where the emulator is: `--url`, else BPIUM_URL, else BPIUM_EMULATOR_PORT on this machine, else the emulator the
 * running `serve` of the data folder started (it writes its addresses there), else the default port.
 */
export function demoUrl(flags: { url?: string; dataDir?: string }, env: NodeJS.ProcessEnv): string {
  const explicit = flags.url?.trim() || env.BPIUM_URL?.trim();
  if (explicit) return explicit;
  if (env.BPIUM_EMULATOR_PORT?.trim()) return `http://127.0.0.1:${env.BPIUM_EMULATOR_PORT.trim()}`;
  return readServerFile(dataDir(flags.dataDir, env))?.bpiumEmulator ?? `http://127.0.0.1:${DEFAULT_EMULATOR_PORT}`;
}

function sameOrigin(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

/**
 * The data folder of the server the webhook went to, when the command can know it: the one named (--data-dir,
 * OKTELL_DATA_DIR), or ./var when the server running there is the one the demo talked to (its emulator, or the
 * address the webhook was delivered to). Undefined otherwise: an emulator given by --url may belong to a server of
 * any folder, and ./var would then be the wrong outbox.
 */
export function demoDataDir(flags: { dataDir?: string }, env: NodeJS.ProcessEnv, emulatorUrl: string, delivery?: WebhookDelivery): string | undefined {
  if (flags.dataDir || env.OKTELL_DATA_DIR) return dataDir(flags.dataDir, env);
  const dir = dataDir(undefined, env);
  const running = readServerFile(dir);
  if (running && (sameOrigin(running.bpiumEmulator, emulatorUrl) || sameOrigin(running.url, delivery?.url))) return dir;
  return undefined;
}

function whereTheLetterIs(dir: string | undefined): string {
  if (dir !== undefined) return pc.cyan(`npx oktell-emu outbox${dataDirArg(dir)}`);
  return `in the outbox of the server's data folder: ${pc.cyan("npx oktell-emu outbox --data-dir <the server's data folder>")}`;
}

export async function demoAction(io: DemoCommandIo, flags: { title: string; description: string; responsible?: string; url?: string; dataDir?: string }): Promise<void> {
  const env = io.env ?? process.env;
  const write = io.write ?? ((text: string) => void process.stdout.write(text));
  const url = demoUrl(flags, env);
  try {
    const r = await runDemo({
      url,
      login: env.BPIUM_LOGIN?.trim() || DEMO_LOGIN,
      password: env.BPIUM_PASSWORD || DEMO_PASSWORD,
      title: flags.title,
      description: flags.description,
      ...(flags.responsible ? { responsible: flags.responsible } : {}),
    });
    write(`${pc.bold('Created')} task ${pc.cyan(r.recordId)} in Задачи (catalog 11): ${JSON.stringify(flags.title)}\n`);
    write(`  responsible: ${r.responsible.name} <${r.responsible.email}> (employee ${r.responsible.id})\n`);
    write(`  webhook: ${describeDelivery(r.delivery)}\n`);
    write(`The letter to ${r.responsible.email}: ${whereTheLetterIs(demoDataDir(flags, env, url, r.delivery))} (or your SMTP server when SMTP_URL is set)\n`);
  } catch (err) {
    if (!(err instanceof DemoError)) throw err;
    (io.writeError ?? ((text: string) => void process.stderr.write(text)))(`${pc.red('oktell-emu demo:')} ${err.message}\n`);
    process.exitCode = 1;
  }
}

