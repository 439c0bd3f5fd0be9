// `oktell-emu webhook send <path> <body.json>`: posts a test webhook to the running server the way Bpium would —
// signed with the secret the server checks for that path, with the server's Basic credentials — and says what
// became of it (status, run id, duplicate).
import { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pc from 'picocolors';
import { signBpiumBody } from '../../adapters/bpium/signature.js';
import type { OktellUser } from '../../server/auth.js';
import { ConfigError, hookSecret, loadServerConfig, type ServerConfig } from '../../server/config.js';
import { emulatorWebhookSecret } from '../../server/credentials.js';
import { dataDirArg, UsageError } from '../config.js';
import { readServerFile, type ServerFile } from '../server-file.js';

interface SendFlags {
  url?: string;
  dataDir?: string;
  config?: string;
  sign: boolean;
  json?: boolean;
}

export interface WebhookOutcome {
  url: string;
  status: number;
  /** The hook run that answered (X-Oktell-Run-Id). */
  runId: string | null;
  /** For a re-delivered body: the inbox entry of the first delivery (X-Oktell-Duplicate-Of). */
  duplicateOf: number | null;
  /** The path of the secret it was signed with, or null when unsigned. */
  signedFor: string | null;
  body: string;
  /** The server's data folder, where `show` finds the run. */
  dataDir: string;
}

/** The server's first configured user, else the one it generated in its data folder. Never creates one. */
function serverUser(config: Omit<ServerConfig, 'usersGenerated'>): OktellUser {
  if (config.users[0]) return config.users[0];
  const file = join(config.dataDir, 'server-user.json');
  if (existsSync(file)) {
    const u = JSON.parse(readFileSync(file, 'utf8')) as Partial<OktellUser>;
    if (typeof u.login === 'string' && typeof u.password === 'string' && u.login && u.password) return { login: u.login, password: u.password };
  }
  throw new UsageError(`no server user: set OKTELL_USERS, or start the server once with the data folder ${config.dataDir} so it generates one`);
}

/**
 * The secrets the server checks, resolved as `serve` resolves them: oktell.config.yaml `webhookSecrets`,
 * BPIUM_WEBHOOK_SECRET(_FILE), and, when the server embeds the Bpium emulator, the emulator's secret.
 */
function serverSecrets(config: Omit<ServerConfig, 'usersGenerated'>, running: ServerFile | undefined, env: NodeJS.ProcessEnv): Record<string, string> {
  const secrets = { ...config.webhookSecrets };
  const embedded = running ? running.bpiumEmulator !== undefined : !env.BPIUM_URL?.trim();
  if (embedded) emulatorWebhookSecret(secrets, config.dataDir);
  return secrets;
}

function readBody(file: string): Buffer {
  if (file === '-') return readFileSync(0);
  try {
    return readFileSync(file);
  } catch (e) {
    throw new UsageError(`cannot read the body ${file}: ${(e as Error).message}`);
  }
}

export async function sendWebhook(path: string, file: string, flags: SendFlags, env: NodeJS.ProcessEnv): Promise<WebhookOutcome> {
  if (!path.startsWith('/')) throw new UsageError(`the path ${path} must start with / (for example /Bpium/NewTask)`);
  let config: Omit<ServerConfig, 'usersGenerated'>;
  try {
    config = loadServerConfig({ ...(flags.dataDir ? { dataDir: flags.dataDir } : {}), ...(flags.config ? { config: flags.config } : {}) }, env);
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(e.message);
    throw e;
  }
  const running = readServerFile(config.dataDir);
  const base = flags.url ?? running?.url ?? `${config.tls ? 'https' : 'http'}://127.0.0.1:${config.port}`;
  let url: URL;
  try {
    url = new URL(path, base);
  } catch {
    throw new UsageError(`--url ${base}: not an address such as http://127.0.0.1:4055`);
  }
  const body = readBody(file);
  const user = serverUser(config);
  const secrets = serverSecrets(config, running, env);
  // The secret the server will check: chosen by the whole address, path and query, as the server does.
  const chosen = flags.sign ? hookSecret(secrets, url.pathname, url.pathname + url.search) : undefined;
  // The configured path it came from, or '*' when the catch-all secret applies.
  const signedFor = chosen ? (Object.hasOwn(secrets, chosen.route) ? chosen.route : '*') : null;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    authorization: `Basic ${Buffer.from(`${user.login}:${user.password}`).toString('base64')}`,
  };
  if (chosen) headers['x-hook-signature'] = signBpiumBody(chosen.secret, body);
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers, body });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
    throw new WebhookSendError(`nothing answers at ${url.origin} (${cause}): start the server with \`npm start\`, or give its address with --url`);
  }
  const duplicate = res.headers.get('x-oktell-duplicate-of');
  return {
    url: url.toString(),
    status: res.status,
    runId: res.headers.get('x-oktell-run-id'),
    duplicateOf: duplicate !== null && /^\d+$/.test(duplicate) ? Number(duplicate) : null,
    signedFor,
    body: await res.text(),
    dataDir: config.dataDir,
  };
}

/** The server could not be reached: exit 1 with the message. */
export class WebhookSendError extends Error {
  override name = 'WebhookSendError';
}

function describe(o: WebhookOutcome, sign: boolean): string {
  const lines: string[] = [];
  const unsigned = sign ? 'unsigned: no secret is set for this path' : 'unsigned: --no-sign';
  const signed = o.signedFor === null ? unsigned : `signed with the secret for ${o.signedFor === '*' ? 'every path' : o.signedFor}`;
  lines.push(`POST ${o.url} ${pc.dim(`(${signed})`)}`);
  const colour = o.status < 300 ? pc.green : pc.red;
  lines.push(`→ ${colour(`HTTP ${o.status}`)}${o.runId ? ` · run ${pc.cyan(o.runId)}` : ''}`);
  if (o.duplicateOf !== null) {
    lines.push(pc.yellow(`duplicate: this delivery (same hook id and sequenceId) was received before as inbox entry ${o.duplicateOf}; the server answered as it did then and started nothing again`));
  }
  const text = o.body.trim();
  if (text) lines.push(`${pc.dim('body:')} ${text.length > 2000 ? `${text.slice(0, 2000)}…` : text}`);
  if (o.runId) lines.push(pc.dim(`the run: npx oktell-emu show ${o.runId}${dataDirArg(o.dataDir)}`));
  return `${lines.join('\n')}\n`;
}

export function webhookCommand(): Command {
  const webhook = new Command('webhook').description('post test webhooks to the running server');
  webhook.addCommand(
    new Command('send')
      .description('POST a body to a hook path, signed with the secret the server checks there and with its Basic credentials; prints status and run id')
      .argument('<path>', 'hook path, e.g. /Bpium/NewTask')
      .argument('<body>', 'file with the raw body (JSON), or - for stdin')
      .option('--url <url>', 'the server (default: the running serve of the data folder, else http://127.0.0.1:$OKTELL_PORT or 4055)')
      .option('-d, --data-dir <dir>', 'data folder of the server (default $OKTELL_DATA_DIR or ./var)')
      .option('--config <file>', 'configuration file (default ./oktell.config.yaml when present)')
      .option('--no-sign', 'send without X-Hook-Signature (to see the server refuse it)')
      .option('--json', 'print one JSON object { url, status, runId, duplicateOf, signedFor, body }')
      .action(async (path: string, file: string, flags: SendFlags) => {
        let outcome: WebhookOutcome;
        try {
          outcome = await sendWebhook(path, file, flags, process.env);
        } catch (e) {
          if (!(e instanceof WebhookSendError)) throw e;
          if (flags.json) process.stdout.write(`${JSON.stringify({ status: 'failed', error: { code: 'E_NETWORK', message: e.message } })}\n`);
          else process.stderr.write(`${pc.red('oktell-emu webhook send:')} ${e.message}\n`);
          process.exitCode = 1;
          return;
        }
        process.stdout.write(flags.json ? `${JSON.stringify(outcome)}\n` : describe(outcome, flags.sign));
        process.exitCode = outcome.status >= 200 && outcome.status < 300 ? 0 : 1;
      })
      .exitOverride(),
  );
  return webhook;
}
