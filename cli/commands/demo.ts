// `oktell-emu demo`: creates a task with a responsible employee in the emulator and shows where the webhook went.
import { terminalText } from '../terminal-text.js';
import pc from 'picocolors';
import { EffectError } from '../../engine/errors.js';
import { createBpiumClient } from '../../adapters/bpium/client.js';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { envSetting } from '../../engine/env.js';
import { dataDirArg, storeSettings, unreadableDataDir } from '../config.js';
import { readServerFile, type ServerFile } from '../server-file.js';
import { DEFAULT_EMULATOR_PORT, DEMO_LOGIN, DEMO_PASSWORD, emulatorAccount, type WebhookDelivery } from '../../bpium-emulator/index.js';

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
  /** The message when nothing answers at the address (given the API base); default: how to start or point to one. */
  unreachable?: (base: string) => string;
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
      throw new DemoError(opts.unreachable ? opts.unreachable(bpium.baseUrl) : `nothing answers at ${bpium.baseUrl}. Start the server and the emulator with \`npm start\` (or \`npx oktell-emu bpium-emulator\`), or give its address with --url or BPIUM_URL.`);
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
  const dup = d.duplicateOf !== undefined ? pc.yellow(`, taken as a duplicate of inbox entry ${d.duplicateOf}`) : '';
  return `${d.event} #${d.sequenceId} → ${d.url}: ${colour(outcome)} in ${d.ms} ms${dup}${hint}`;
}

/** The shipped sample body `webhook send --fresh` can send again, when it is here; else a placeholder. */
const SAMPLE_BODY = 'scenarios/tests/webhooks/two-responsible.json';

/**
 * A delivery the server answered as a repeat (X-Oktell-Duplicate-Of): it ran nothing, so no letter comes. This
 * happens when the emulator's data was reset and its sequence ids began again at 1 while the server's store still
 * has the first deliveries of those ids. Says so, and how to have the scenario run.
 */
function duplicateNote(d: WebhookDelivery, dataDir: string | undefined): string {
  let path = '/Bpium/NewTask';
  try {
    path = new URL(d.url).pathname;
  } catch {
    // the emulator writes the URL it posted to; keep the article's path otherwise
  }
  const body = existsSync(SAMPLE_BODY) ? SAMPLE_BODY : '<a saved webhook body>';
  const send = `npx oktell-emu webhook send ${path} ${body} --fresh${dataDir !== undefined ? dataDirArg(dataDir) : ''}`;
  return [
    `${pc.yellow('Not run:')} the server took this webhook as a duplicate of an earlier delivery (inbox entry ${d.duplicateOf}: the same hook id and sequenceId ${d.sequenceId}), answered as it did then and started nothing, so no letter will be sent.`,
    `  This happens when the emulator's data was reset and its sequence ids began again at 1 while the server's store still holds the earlier deliveries.`,
    `  To see the scenario run, send a webhook with a new sequenceId: ${pc.cyan(send)}`,
    '',
  ].join('\n');
}

/** Where `demo` looks for the emulator, and why there: what its messages say when nothing answers. */
export interface DemoTarget {
  /** The emulator's address (API base or origin). */
  url: string;
  /** How the address was chosen. */
  source: 'flag' | 'BPIUM_URL' | 'BPIUM_EMULATOR_PORT' | 'server' | 'port';
  /** The data folder of the server, as the server reads it (--data-dir, OKTELL_DATA_DIR, dataDir: of the configuration file, ./var). */
  dataDir: string;
  /** What named the data folder (`--data-dir`, `OKTELL_DATA_DIR`, `dataDir: of <file>`); undefined for the default ./var. */
  dataDirFrom?: string;
  /** The server running on that folder, when one is. */
  server?: ServerFile;
  /** The emulator's port when no server runs there: bpiumEmulatorPort of the configuration file, or the default. */
  port: number;
  configFile?: string;
}

/**
 * Where the emulator is: `--url`, else BPIUM_URL, else BPIUM_EMULATOR_PORT on this machine, else the emulator the
 * running `serve` of the data folder started (it writes its addresses there), else the emulator port of the
 * configuration (default 4056). The data folder and the configuration file are found as `serve`, `outbox` and
 * `webhook send` find them: --data-dir, OKTELL_DATA_DIR, dataDir: of the configuration file (--config,
 * OKTELL_CONFIG or ./oktell.config.yaml), ./var.
 */
export function demoTarget(flags: { url?: string; dataDir?: string; config?: string }, env: NodeJS.ProcessEnv): DemoTarget {
  const settings = storeSettings({ dataDir: flags.dataDir, config: flags.config }, env);
  const dataDirFrom = flags.dataDir
    ? '--data-dir'
    : envSetting(env, 'OKTELL_DATA_DIR')
      ? 'OKTELL_DATA_DIR'
      : settings.configFile && resolve(settings.dataDir) !== resolve('./var')
        ? `dataDir: of ${settings.configFile}`
        : undefined;
  // The folder's serve.json names the running server's emulator: a folder this user may not read is said as such,
  // not taken for one with no server running.
  const denied = flags.url === undefined ? unreadableDataDir(settings.dataDir) : undefined;
  if (denied) throw denied;
  const server = readServerFile(settings.dataDir);
  // Port 0 (the server's `port: 0` or OKTELL_PORT=0 gives its emulator an OS-picked port) names no port to reach: with
  // no server's serve.json to say which one it took, the default is tried, not http://127.0.0.1:0.
  const port = settings.bpiumEmulatorPort === 0 ? DEFAULT_EMULATOR_PORT : settings.bpiumEmulatorPort;
  const common = {
    dataDir: settings.dataDir,
    ...(dataDirFrom ? { dataDirFrom } : {}),
    ...(server ? { server } : {}),
    port,
    ...(settings.configFile ? { configFile: settings.configFile } : {}),
  };
  if (flags.url?.trim()) return { url: flags.url.trim(), source: 'flag', ...common };
  const bpiumUrl = envSetting(env, 'BPIUM_URL')?.trim();
  if (bpiumUrl !== undefined) return { url: bpiumUrl, source: 'BPIUM_URL', ...common };
  const emulatorPort = envSetting(env, 'BPIUM_EMULATOR_PORT')?.trim();
  if (emulatorPort !== undefined) return { url: `http://127.0.0.1:${emulatorPort}`, source: 'BPIUM_EMULATOR_PORT', ...common };
  if (server?.bpiumEmulator) return { url: server.bpiumEmulator, source: 'server', ...common };
  return { url: `http://127.0.0.1:${port}`, source: 'port', ...common };
}

/** The emulator's address (see demoTarget). */
export function demoUrl(flags: { url?: string; dataDir?: string; config?: string }, env: NodeJS.ProcessEnv): string {
  return demoTarget(flags, env).url;
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
 * OKTELL_DATA_DIR, dataDir: of the configuration file), or ./var when the server running there is the one the demo
 * talked to (its emulator, or the address the webhook was delivered to). Undefined otherwise: an emulator given by
 * --url may belong to a server of any folder, and ./var would then be the wrong outbox.
 */
export function demoDataDir(target: DemoTarget, delivery?: WebhookDelivery): string | undefined {
  if (target.dataDirFrom) return target.dataDir;
  const running = target.server;
  if (running && (sameOrigin(running.bpiumEmulator, target.url) || sameOrigin(running.url, delivery?.url))) return target.dataDir;
  return undefined;
}

/**
 * What to say when nothing answers at the emulator's address: where the address came from, and, when it was only the
 * emulator port because no server runs on a data folder that was named, that folder and how to point at another.
 */
export function unreachableMessage(target: DemoTarget, base: string): string {
  const pointIt = 'give its address with --url or BPIUM_URL';
  switch (target.source) {
    case 'flag':
    case 'BPIUM_URL':
    case 'BPIUM_EMULATOR_PORT':
      return `nothing answers at ${base} (${target.source === 'flag' ? '--url' : target.source}). Start the server and the emulator with \`npm start\` (or \`npx oktell-emu bpium-emulator\`), or ${pointIt}.`;
    case 'server':
      return `nothing answers at ${base}, where the server running on the data folder ${target.dataDir} (pid ${target.server!.pid}) said its Bpium emulator listens: wait until it has started, or ${pointIt}.`;
    case 'port': {
      const portFrom = target.configFile ? `bpiumEmulatorPort of ${target.configFile}, or the default` : 'the default';
      if (!target.dataDirFrom) {
        return `nothing answers at ${base} (no server is running on ${target.dataDir}, and ${target.port} is ${portFrom}). Start the server and the emulator with \`npm start\` (or \`npx oktell-emu bpium-emulator\`), or ${pointIt}.`;
      }
      const atVar = resolve(target.dataDir) !== resolve('./var') ? readServerFile(resolve('./var')) : undefined;
      const other = atVar ? ` A server is running on ./var (pid ${atVar.pid}, ${atVar.url}): to use it, add --data-dir ./var.` : '';
      return `nothing answers at ${base}: no server is running on the data folder ${target.dataDir} (${target.dataDirFrom}), so demo tried the emulator port ${target.port} (${portFrom}).${other} To reach a server running on another data folder, name that folder with --data-dir, or ${pointIt}.`;
    }
  }
}

function whereTheLetterIs(dir: string | undefined): string {
  if (dir !== undefined) return pc.cyan(`npx oktell-emu outbox${dataDirArg(dir)}`);
  return `in the outbox of the server's data folder: ${pc.cyan("npx oktell-emu outbox --data-dir <the server's data folder>")}`;
}

export async function demoAction(io: DemoCommandIo, flags: { title: string; description: string; responsible?: string; url?: string; dataDir?: string; config?: string }): Promise<void> {
  const env = io.env ?? process.env;
  const write = io.write ?? ((text: string) => void process.stdout.write(text));
  const target = demoTarget(flags, env);
  try {
    const r = await runDemo({
      url: target.url,
      unreachable: (base) => unreachableMessage(target, base),
      ...emulatorAccount(env),
      title: flags.title,
      description: flags.description,
      ...(flags.responsible ? { responsible: flags.responsible } : {}),
    });
    write(`${pc.bold('Created')} task ${pc.cyan(r.recordId)} in Задачи (catalog 11): ${JSON.stringify(flags.title)}\n`);
    write(`  responsible: ${r.responsible.name} <${r.responsible.email}> (employee ${r.responsible.id})\n`);
    write(`  webhook: ${describeDelivery(r.delivery)}\n`);
    if (r.delivery?.duplicateOf !== undefined) {
      write(duplicateNote(r.delivery, demoDataDir(target, r.delivery)));
      process.exitCode = 1;
      return;
    }
    write(`The letter to ${r.responsible.email}: ${whereTheLetterIs(demoDataDir(target, r.delivery))} (or your SMTP server when SMTP_URL is set)\n`);
  } catch (err) {
    if (!(err instanceof DemoError)) throw err;
    (io.writeError ?? ((text: string) => void process.stderr.write(text)))(`${pc.red('oktell-emu:')} ${terminalText(err.message, true)}\n`);
    process.exitCode = 1;
  }
}

