// `oktell-emu webhook send <path> <body.json>`: posts a test webhook to the running server the way Bpium would —
// signed with the secret the server checks for that path, with the server's Basic credentials — and says what
// became of it (status, run id, duplicate).
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { request as httpRequest, type ClientRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import pc from 'picocolors';
import { signBpiumBody } from '../../adapters/bpium/signature.js';
import { maskAddressLogin } from '../../adapters/web/redact.js';
import { hookUser, userPair, type OktellUser } from '../../server/auth.js';
import { ConfigError, hookSecret, loadServerConfig, type ServerConfig } from '../../server/config.js';
import { emulatorWebhookSecret } from '../../server/credentials.js';
import { isStandardSecret, signStandardWebhook } from '../../server/standard-webhooks.js';
import { dataDirArg, shellWord, unreadableDataDir, UsageError } from '../config.js';
import { clipText } from '../../engine/cut-text.js';
import { jsonKind } from '../../engine/json-text.js';
import { decodeTextFile } from '../../engine/text-file.js';
import type { JsonValue } from '../../engine/values.js';
import { envSetting } from '../../engine/env.js';
import { terminalText } from '../format.js';
import { readServerFile, serverFilePath, type ServerFile } from '../server-file.js';

export interface SendFlags {
  url?: string;
  /** `login:password` to send instead of the server's user found in the environment or the data folder. */
  user?: string;
  dataDir?: string;
  config?: string;
  sign: boolean;
  json?: boolean;
  /** Give the body a new hook.sequenceId and the current timestamp before signing (a new delivery, not a resend). */
  fresh?: boolean;
}

/** A field `--fresh` changed, from and to, as printed. */
export interface FreshChange {
  field: 'hook.sequenceId' | 'timestamp';
  from: string | number | null;
  to: string | number;
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
  /** The webhook-id it was sent with, when that path's secret is of the Standard Webhooks scheme. */
  webhookId?: string;
  body: string;
  /** The server's data folder, where `show` finds the run. */
  dataDir: string;
  /** The login sent (never the password) and where it was taken from. */
  user: { login: string; from: string };
  /** The server refused the credentials (a 401 with a Basic challenge, not a refused signature). */
  credentialsRefused: boolean;
  /** With --fresh: what was changed in the body before it was signed. */
  fresh?: FreshChange[];
  /** Refused by the server's signature check (a 401 with no run, not for the login): how to have it signed, by the scheme the server checks. */
  hint?: string;
}

/** A login and where it came from, to say so when the server refuses it. */
interface ChosenUser {
  user: OktellUser;
  from: string;
}

/** `--user login:password`: the password may hold a colon, the login may not. */
function userFlag(value: string): OktellUser {
  const user = userPair(value);
  if (!user) throw new UsageError('--user takes login:password (for example --user bpium:change-me)');
  return user;
}

/**
 * The credentials to send: --user, else the server's first user with the hook right as `serve` would read it (OKTELL_USERS, then the
 * configuration file's `users:`), else the one a server generated in the data folder. Never creates one.
 */
function serverUser(flags: SendFlags, config: Omit<ServerConfig, 'usersGenerated'>, env: NodeJS.ProcessEnv, running: ServerFile | undefined, inUrl: OktellUser | undefined): ChosenUser {
  if (flags.user !== undefined && inUrl) throw new UsageError('--url carries a login and --user gives one: keep one of them');
  if (flags.user !== undefined) return { user: userFlag(flags.user), from: '--user' };
  if (inUrl) return { user: inUrl, from: '--url' };
  const sender = hookUser(config.users);
  if (sender) return { user: sender, from: envSetting(env, 'OKTELL_USERS') !== undefined ? 'OKTELL_USERS' : `users: of ${config.configFile ?? 'the configuration file'}` };
  const file = join(config.dataDir, 'server-user.json');
  const denied = unreadableDataDir(config.dataDir);
  if (denied) throw denied;
  if (existsSync(file)) {
    const u = JSON.parse(readFileSync(file, 'utf8')) as Partial<OktellUser>;
    if (typeof u.login === 'string' && typeof u.password === 'string' && u.login && u.password) return { user: { login: u.login, password: u.password }, from: `${file}, the user a server generated there` };
  }
  // A server generates a user only when it is started without any (no OKTELL_USERS, no users: in its configuration):
  // one running on this folder without having written the file was given its users, and will never generate one.
  const why = running
    ? `the server running on the data folder ${config.dataDir} (${running.url}) was started with its own users (OKTELL_USERS or users: in its configuration), so it generated none`
    : `a server started with no users of its own (neither OKTELL_USERS nor users: in its configuration) generates one in ${file}, and there is none there`;
  throw new UsageError(`no server user: give --user login:password, or set OKTELL_USERS=login:password as the server has it; ${why}`);
}

/**
 * The secrets the server checks, resolved as `serve` resolves them: oktell.config.yaml `webhookSecrets`,
 * BPIUM_WEBHOOK_SECRET(_FILE), and, when the server embeds the Bpium emulator, the emulator's secret.
 */
function serverSecrets(config: Omit<ServerConfig, 'usersGenerated'>, running: ServerFile | undefined, env: NodeJS.ProcessEnv): Record<string, string> {
  const secrets = { ...config.webhookSecrets };
  const embedded = running ? running.bpiumEmulator !== undefined : envSetting(env, 'BPIUM_URL') === undefined;
  if (embedded) emulatorWebhookSecret(secrets, config.dataDir);
  return secrets;
}

/**
 * The body to post, as Bpium sends one: UTF-8 without a byte-order mark, never empty.
 * - Empty (a BOM alone counts): refused. No webhook sender posts an empty body, and one read from a pipe whose command
 *   failed (`make-body | oktell-emu webhook send /Bpium/NewTask -`) was posted all the same, exit 0, leaving the
 *   server a malformed-webhook run and the script no sign of the failure.
 * - The mark a Windows editor puts before a saved body is left out (the server would take it for part of the JSON,
 *   and `--fresh` could not read it).
 * - A body saved in windows-1251, cp866 or as UTF-16 is refused at its first byte that is not UTF-8, naming the code
 *   page: it is sent without a charset, so the server would read each of its Cyrillic letters as U+FFFD.
 */
function readBody(file: string): Buffer {
  let bytes: Buffer;
  if (file === '-') bytes = readFileSync(0);
  else {
    try {
      bytes = readFileSync(file);
    } catch (e) {
      // E_FILE, as docs/cli.md gives a file the command needs that cannot be read (exit 2 all the same).
      throw new UsageError(`cannot read the body ${file}: ${(e as Error).message}`, 'E_FILE');
    }
  }
  const body = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
  // White space alone (and a byte-order mark alone) is empty too: `echo "$(make-body)" | … -` whose make-body failed
  // sends one newline, which the server takes for a malformed webhook as it does an empty body.
  if (blankBody(body)) {
    const what = bytes.length === 0 ? 'empty' : 'empty (white space only)';
    throw new UsageError(file === '-'
      ? `the body read from standard input is ${what}: nothing was sent (did the command before the | fail?); pipe the webhook's JSON in, or name a file holding it`
      : `the body ${file} is ${what}: nothing was sent; name a file holding the webhook's JSON`);
  }
  const read = decodeTextFile(bytes);
  if (!read.ok) {
    const shown = file === '-' ? 'standard input' : file;
    throw new UsageError(`the body ${shown}:${read.line}:${read.col}: ${read.message}: it is sent as Bpium sends a body, UTF-8 without a charset, and the server would read its letters as U+FFFD (�); ${read.hint}`);
  }
  return body;
}

/** No JSON in it at all (its byte-order mark taken off): nothing, or only JSON's white space (space, tab, CR, LF). */
function blankBody(body: Buffer): boolean {
  for (let i = 0; i < body.length; i++) {
    const b = body[i];
    if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return false;
  }
  return true;
}

export async function sendWebhook(path: string, file: string, flags: SendFlags, env: NodeJS.ProcessEnv): Promise<WebhookOutcome> {
  if (!path.startsWith('/')) throw new UsageError(`the path ${path} must start with / (for example /Bpium/NewTask)`);
  let config: Omit<ServerConfig, 'usersGenerated'>;
  try {
    // Sends to the server only: the scenarios' database passwords are not needed here.
    config = loadServerConfig({ ...(flags.dataDir ? { dataDir: flags.dataDir } : {}), ...(flags.config ? { config: flags.config } : {}), deferDatabasePasswords: true }, env);
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(e.message);
    throw e;
  }
  // Without --url the data folder says where the server is; one this user may not read is said, not taken for a
  // folder with no server (the default address, and "no server user … there is none there").
  const denied = flags.url === undefined ? unreadableDataDir(config.dataDir) : undefined;
  if (denied) throw denied;
  const running = readServerFile(config.dataDir);
  const base = flags.url ?? running?.url ?? `${config.tls ? 'https' : 'http'}://127.0.0.1:${config.port}`;
  let url: URL;
  try {
    url = new URL(path, base);
  } catch {
    throw new UsageError(`--url ${maskAddressLogin(base)}: not an address such as http://127.0.0.1:4055`);
  }
  const inUrl = loginOfUrl(url);
  const read = readBody(file);
  const { user, from } = serverUser(flags, config, env, running, inUrl);
  const secrets = serverSecrets(config, running, env);
  // The secret the server will check: chosen by the whole address, path and query, as the server does.
  const chosen = flags.sign ? hookSecret(secrets, url.pathname, url.pathname + url.search) : undefined;
  // A Standard Webhooks route tells deliveries apart by webhook-id, not by the body: --fresh gives a new id instead.
  const standard = chosen !== undefined && isStandardSecret(chosen.secret);
  const { body, changes } = flags.fresh && !standard ? freshBody(read, new Date()) : { body: read, changes: undefined };
  // The configured path it came from, or '*' when the catch-all secret applies.
  const signedFor = chosen ? (Object.hasOwn(secrets, chosen.route) ? chosen.route : '*') : null;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    authorization: `Basic ${Buffer.from(`${user.login}:${user.password}`).toString('base64')}`,
  };
  let id: string | undefined;
  if (chosen && standard) {
    // The same body sent again is the same message (a duplicate), as a provider's retry is; --fresh makes a new one.
    id = `msg_${flags.fresh ? randomUUID().replaceAll('-', '') : createHash('sha256').update(body).digest('hex').slice(0, 32)}`;
    const timestamp = String(Math.floor(Date.now() / 1000));
    Object.assign(headers, { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signStandardWebhook(chosen.secret, id, timestamp, body) });
  } else if (chosen) headers['x-hook-signature'] = signBpiumBody(chosen.secret, body);
  let res: Answer;
  try {
    res = await postBody(url, headers, body);
  } catch (e) {
    const failed = (e as { cause?: { code?: string; message?: string } }).cause;
    // Without a network cause the request was never made (fetch refused to build it): no "nothing answers", and its
    // message, which may repeat the address, only with any login in it masked.
    if (failed === undefined) throw new WebhookSendError(`cannot send to ${url.origin}${url.pathname}: the address was refused before sending (${maskAddressLogin((e as Error).message)})`);
    const cause = failed.code ?? maskAddressLogin(String(failed.message ?? (e as Error).message));
    // A serve.json whose process is gone (the server was killed): say so, rather than only the address guessed.
    const stale = running || flags.url ? undefined : readServerFile(config.dataDir, () => true);
    const recorded = stale ? `; the server recorded in ${serverFilePath(config.dataDir)} (pid ${stale.pid}, ${stale.url}) is not running any more` : '';
    throw new WebhookSendError(`nothing answers at ${url.origin} (${cause})${recorded}: start the server with \`${serveCommandFor(flags, config.dataDir)}\`, or give its address with --url`);
  }
  const duplicate = res.headers.get('x-oktell-duplicate-of');
  // The server's own refusal of the login: a 401 with a challenge and no hook run (a scenario's answer names its run, and
  // a hook scenario may answer 401 with a challenge of its own, which says nothing of this login).
  const credentialsRefused = res.status === 401 && res.headers.has('www-authenticate') && !res.headers.has('x-oktell-run-id');
  // The server's own refusal of the signature: a 401 with no hook run that is not about the login. A scenario's answer
  // (a 401 or 403 of its own) names its run, and a 403 of the server is about the login's rights: no hint of signing.
  const signatureRefused = res.status === 401 && !credentialsRefused && !res.headers.has('x-oktell-run-id');
  // Which scheme the server checks on this path, from its refusal: Standard Webhooks names its headers (webhook-…).
  const serverScheme = /^401 Unauthorized: (?:the Standard Webhooks header|webhook-)/.test(res.text) ? 'standard' : 'bpium';
  const hint = !signatureRefused
    ? undefined
    : signedFor === null
      ? unsignedHint(url, flags.sign, running, config, serverScheme)
      : standard !== (serverScheme === 'standard')
        ? schemeHint(signedFor, standard, config)
        : undefined;
  return {
    url: url.toString(),
    status: res.status,
    runId: res.headers.get('x-oktell-run-id'),
    duplicateOf: duplicate !== null && /^\d+$/.test(duplicate) ? Number(duplicate) : null,
    signedFor,
    ...(id !== undefined ? { webhookId: id } : {}),
    body: res.text,
    dataDir: config.dataDir,
    user: { login: user.login, from },
    credentialsRefused,
    ...(changes ? { fresh: changes } : {}),
    ...(hint ? { hint } : {}),
  };
}

interface Answer {
  status: number;
  headers: { get(name: string): string | null; has(name: string): boolean };
  text: string;
}

/** How long `webhook send` waits for the server's answer (fetch's own wait for headers). */
const ANSWER_WAIT_MS = 300_000;

/**
 * POSTs the body and reads the answer. An answer that comes while the body is still being sent counts, although the
 * write then fails: the server refuses a body over its limit with 413 from its declared length, before reading it, and
 * closes the connection (fetch reported that as EPIPE, "nothing answers"). An error before any answer rejects as
 * fetch does, its cause carrying the network error's code; an address fetch would refuse to build rejects without one.
 */
function postBody(url: URL, headers: Record<string, string>, body: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : url.protocol === 'http:' ? httpRequest : undefined;
    if (send === undefined) {
      reject(new TypeError(`unsupported protocol ${url.protocol}`));
      return;
    }
    let answered = false;
    let req: ClientRequest;
    try {
      req = send(url, { method: 'POST', headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => reject(Object.assign(new Error('the answer was cut off'), { cause: e })));
        res.on('end', () => {
          const get = (name: string) => {
            const v = res.headers[name.toLowerCase()];
            return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
          };
          resolve({ status: res.statusCode ?? 0, headers: { get, has: (name) => get(name) !== null }, text: Buffer.concat(chunks).toString('utf8') });
        });
      });
    } catch (e) {
      reject(e as Error);
      return;
    }
    // As fetch did: a server that takes the connection and never answers is given up after five minutes.
    req.setTimeout(ANSWER_WAIT_MS, () => req.destroy(Object.assign(new Error(`no answer within ${ANSWER_WAIT_MS / 1000} s`), { code: 'ETIMEDOUT' })));
    req.on('error', (e) => {
      // A write refused after the answer came (EPIPE, ECONNRESET): the answer is what the server said.
      if (!answered) reject(Object.assign(new Error('fetch failed'), { cause: e }));
    });
    req.end(body);
  });
}

/**
 * Why an unsigned webhook was refused (401 or 403 that is not about the login), and how to sign it: `--no-sign`
 * dropped, or the secret the server checks given here as the server has it. The running server's serve.json says
 * whether it checks a signature on this path (`signedPaths`, `*` for every path).
 */
function unsignedHint(url: URL, sign: boolean, running: ServerFile | undefined, config: Omit<ServerConfig, 'usersGenerated'>, scheme: 'standard' | 'bpium'): string {
  const headers = scheme === 'standard' ? 'the Standard Webhooks headers webhook-id, webhook-timestamp and webhook-signature' : 'X-Hook-Signature';
  if (!sign) return `it was sent unsigned (--no-sign) and the server asks for ${headers}: leave out --no-sign to sign it with the secret the server checks`;
  const paths = running?.signedPaths ?? [];
  const covered = paths.includes('*') ? 'on every path' : paths.includes(url.pathname) || paths.includes(url.pathname + url.search) ? `on ${url.pathname}` : undefined;
  const file = config.configFile ?? 'oktell.config.yaml';
  const secret = scheme === 'standard' ? 'whsec_…' : '…';
  const how = `set the secret the server has: BPIUM_WEBHOOK_SECRET=${secret} (or BPIUM_WEBHOOK_SECRET_FILE) for every path, or webhookSecrets: { ${url.pathname}: ${secret} } in ${file} (--config), then send again (docs/configuration.md, "Webhook signatures")`;
  if (covered) return `the server checks ${headers} ${covered} (${serverFilePath(config.dataDir)}), and no secret for it was found here: ${how}`;
  return `it was sent unsigned, as no secret for this path was found here; if the server checks a signature on it, ${how}`;
}

/**
 * A signature refused because it was made by the other scheme than the one the server checks on the path: the secret
 * found here is a Bpium one (X-Hook-Signature) where the server's is a Standard Webhooks one (whsec_…), or the reverse.
 */
function schemeHint(signedFor: string, standardHere: boolean, config: Omit<ServerConfig, 'usersGenerated'>): string {
  const where = signedFor === '*' ? 'BPIUM_WEBHOOK_SECRET (every path)' : `webhookSecrets: ${signedFor} in ${config.configFile ?? 'oktell.config.yaml'}`;
  return standardHere
    ? `it was signed by Standard Webhooks (the secret found here, ${where}, is a whsec_ one), but the server checks X-Hook-Signature on this path: give the Bpium secret the server has`
    : `it was signed with X-Hook-Signature (the secret found here, ${where}, is a Bpium one), but the server checks the Standard Webhooks headers webhook-id, webhook-timestamp and webhook-signature on this path: give the whsec_ secret the server has`;
}

/**
 * The `serve` that starts the server this command looks for: with the configuration file and the data folder it was
 * given, so that the server started as printed has the users, secrets and folder the next `webhook send` reads, not
 * those of ./var (which is what `npm start` would serve).
 */
function serveCommandFor(flags: SendFlags, dataDir: string): string {
  return `npx oktell-emu serve${flags.config ? ` --config ${shellWord(flags.config)}` : ''}${dataDirArg(dataDir)}`;
}

/**
 * The login and password of `--url http://user:pass@host` (docs/server.md: such a URL becomes the Authorization
 * header in clients), taken out of the address so that fetch, which refuses a URL with credentials, can send it and
 * no message or `--json` output repeats the password. Undefined when the address has none.
 */
function loginOfUrl(url: URL): OktellUser | undefined {
  if (url.username === '' && url.password === '') return undefined;
  let user: OktellUser;
  try {
    user = { login: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
  } catch {
    throw new UsageError(`--url ${url.protocol}//***@${url.host}: the login or password has a % that is not followed by two hex digits (write %25 for a literal %)`);
  }
  if (user.login === '' || user.password === '') throw new UsageError(`--url ${url.protocol}//***@${url.host}: give both a login and a password (user:password@), or use --user login:password`);
  url.username = '';
  url.password = '';
  return user;
}

/**
 * `--fresh`: the body as a new delivery of the same event. The server takes a body with a hook id and sequenceId it has
 * seen as a resend (and answers it as it did then), so a saved example works once per data folder; a new sequenceId
 * makes it new, and the current timestamp keeps it inside BPIUM_WEBHOOK_MAX_AGE_MINUTES. Each field keeps its JSON
 * type (Bpium sends the timestamp as text). The body is written out again as indented JSON and signed as sent.
 */
export function freshBody(raw: Buffer, now: Date): { body: Buffer; changes: FreshChange[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch (e) {
    throw new UsageError(`--fresh: the body is not JSON (${(e as Error).message}): it changes hook.sequenceId of a Bpium webhook body`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    // A saved list of deliveries (`[ { "hook": … }, … ]`), or a value that is no body at all: said as such, not as an
    // object that lacks "hook".
    const items = Array.isArray(parsed) && parsed.length > 0 && parsed.every((x) => x !== null && typeof x === 'object' && !Array.isArray(x) && 'hook' in x);
    throw new UsageError(
      `--fresh: the body is ${jsonKind(parsed as JsonValue)}, not a JSON object: a Bpium webhook body is one object with "hook": { "id", "sequenceId" }; ${
        items ? `save ${(parsed as unknown[]).length === 1 ? 'the object inside the [ ] alone' : 'each item in a file of its own and send each'}` : 'send it without --fresh'
      }`,
    );
  }
  const body = parsed as { hook?: unknown; timestamp?: unknown };
  const hook = body.hook;
  if (!hook || typeof hook !== 'object' || Array.isArray(hook)) {
    throw new UsageError('--fresh: the body has no "hook": { "id", "sequenceId" } object, as a Bpium webhook has; without it the server does not take it for a resend, so send it without --fresh');
  }
  const h = hook as { sequenceId?: unknown };
  const seq = now.getTime();
  const seconds = Math.floor(seq / 1000);
  const changes: FreshChange[] = [
    { field: 'hook.sequenceId', from: shownField(h.sequenceId), to: typeof h.sequenceId === 'string' ? String(seq) : seq },
    { field: 'timestamp', from: shownField(body.timestamp), to: typeof body.timestamp === 'number' ? seconds : String(seconds) },
  ];
  h.sequenceId = changes[0]!.to;
  body.timestamp = changes[1]!.to;
  return { body: Buffer.from(`${JSON.stringify(body, null, 2)}\n`), changes };
}

function shownField(v: unknown): string | number | null {
  return typeof v === 'string' || typeof v === 'number' ? v : v === undefined ? null : JSON.stringify(v);
}

/** The server could not be reached: exit 1 with the message. */
export class WebhookSendError extends Error {
  override name = 'WebhookSendError';
}

function describe(o: WebhookOutcome, sign: boolean): string {
  const lines: string[] = [];
  for (const c of o.fresh ?? []) lines.push(pc.dim(`--fresh: ${c.field} ${c.from === null ? '(none)' : terminalText(JSON.stringify(c.from))} → ${JSON.stringify(c.to)}`));
  const unsigned = sign ? 'unsigned: no secret is set for this path' : 'unsigned: --no-sign';
  const signed = o.signedFor === null ? unsigned : `signed with the secret for ${o.signedFor === '*' ? 'every path' : o.signedFor}${o.webhookId !== undefined ? `, Standard Webhooks, webhook-id ${o.webhookId}` : ''}`;
  lines.push(`POST ${terminalText(o.url)} ${pc.dim(`(${signed})`)}`);
  const colour = o.status < 300 ? pc.green : pc.red;
  // The run id is a header of the answer (any server --url names): its bytes past ASCII are read as Latin-1, so it may
  // hold a C1 control (\u009b, a terminal's CSI), escaped as the body is.
  const runId = o.runId ? terminalText(o.runId) : null;
  lines.push(`→ ${colour(`HTTP ${o.status}`)}${runId ? ` · run ${pc.cyan(runId)}` : ''}`);
  if (o.duplicateOf !== null) {
    lines.push(pc.yellow(`duplicate: this delivery (${o.webhookId !== undefined ? 'same webhook-id: --fresh sends a new one' : 'same hook id and sequenceId'}) was received before as inbox entry ${o.duplicateOf}; the server answered as it did then and started nothing again`));
  }
  // The answer is the hook scenario's, often made of the webhook's own text: its lines kept, its other control
  // characters (an escape sequence would drive the terminal) escaped.
  const text = terminalText(o.body.trim(), true);
  if (text) lines.push(`${pc.dim('body:')} ${text.length > 2000 ? `${clipText(text, 2000)}…` : text}`);
  if (o.credentialsRefused) {
    // The usual cause: the server runs with other users (OKTELL_USERS in its own terminal) than the ones found here.
    lines.push(pc.yellow(`the server refused the login "${o.user.login}" (from ${o.user.from}): give the server's user with --user login:password, or set OKTELL_USERS=login:password as the server has it`));
  }
  if (o.hint) lines.push(pc.yellow(o.hint));
  if (runId) lines.push(pc.dim(`the run: npx oktell-emu show ${runId}${dataDirArg(o.dataDir)}`));
  return `${lines.join('\n')}\n`;
}

export async function webhookSendAction(path: string, file: string, flags: SendFlags): Promise<void> {
    let outcome: WebhookOutcome;
    try {
      outcome = await sendWebhook(path, file, flags, process.env);
    } catch (e) {
      if (!(e instanceof WebhookSendError)) throw e;
      if (flags.json) process.stdout.write(`${JSON.stringify({ status: 'failed', error: { code: 'E_NETWORK', message: e.message } })}\n`);
      // One line `oktell-emu: …`, as every command's error is (docs/cli.md); the message may quote the server's address.
      else process.stderr.write(`${pc.red('oktell-emu:')} ${terminalText(e.message, true)}\n`);
      process.exitCode = 1;
      return;
    }
    process.stdout.write(flags.json ? `${JSON.stringify(outcome)}\n` : describe(outcome, flags.sign));
    process.exitCode = outcome.status >= 200 && outcome.status < 300 ? 0 : 1;
  }

