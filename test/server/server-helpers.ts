// Starting the real server for tests: a temp data folder, a real SMTP server on loopback, free ports everywhere.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { signBpiumBody } from '../../adapters/bpium/signature.js';
import { startServer, type RunningServer, type StartOptions } from '../../server/serve.js';
import { startSmtpServer, type TestSmtpOptions, type TestSmtpServer } from '../mail/smtp-server.helper.js';
import { repoPath, tempDir } from '../helpers.js';

export const USER = { login: 'bpium', password: 's3cret:pass' };
export const AUTH = `Basic ${Buffer.from(`${USER.login}:${USER.password}`).toString('base64')}`;

export interface TestServer {
  server: RunningServer;
  smtp: TestSmtpServer | undefined;
  dataDir: string;
  scenariosDir: string;
  /** The webhook secret of /Bpium/NewTask (shared with the embedded emulator). */
  secret: string;
  /**
   * Another server on the same data and scenarios folders and configuration (after this one stopped, or was cut off),
   * with `logger` when given (not the first one's); its SMTP port is the first one's unless given.
   */
  restart(smtpPort?: number, logger?: StartOptions['logger']): Promise<RunningServer>;
  cleanup(): Promise<void>;
}

export async function startTestServer(opts: {
  smtp?: TestSmtpOptions | false;
  smtpPort?: number;
  config?: string;
  extraScenarios?: Record<string, string>;
  env?: Record<string, string>;
  watch?: boolean;
  logger?: StartOptions['logger'];
  /** The address to listen on (default 127.0.0.1). */
  host?: string;
  /** Fills the data folder before the server starts (what an earlier build left there). */
  before?: (dataDir: string) => Promise<void>;
} = {}): Promise<TestServer> {
  const tmp = tempDir('oktell-server-');
  const scenariosDir = join(tmp.dir, 'scenarios');
  cpSync(repoPath('scenarios'), scenariosDir, { recursive: true });
  for (const [name, text] of Object.entries(opts.extraScenarios ?? {})) writeFileSync(join(scenariosDir, name), text);
  const smtp = opts.smtp === false ? undefined : await startSmtpServer(opts.smtp ?? {});
  const smtpPort = opts.smtpPort ?? smtp?.port;
  let configPath: string | undefined;
  if (opts.config) {
    configPath = join(tmp.dir, 'oktell.config.yaml');
    writeFileSync(configPath, opts.config);
  }
  const dataDir = join(tmp.dir, 'var');
  if (opts.before) {
    mkdirSync(dataDir, { recursive: true });
    await opts.before(dataDir);
  }
  // The server's environment is `opts.env` itself, the defaults below filled in under what it gives at each start: a
  // test that changes it later (a scenario's env: variable, read again at a reload) changes what the server reads.
  const env: Record<string, string> = opts.env ?? {};
  const given = { ...env };
  const environment = (port: number | undefined): Record<string, string> => {
    if (!port && given.SMTP_URL === undefined) delete env.SMTP_URL;
    return Object.assign(env, {
      OKTELL_USERS: `${USER.login}:${USER.password}`,
      OKTELL_LOG_LEVEL: 'silent',
      ...(port ? { SMTP_URL: `smtp://127.0.0.1:${port}` } : {}),
      MAIL_FROM: 'Oktell <oktell@example.com>',
      ...given,
    });
  };
  const start = (port: number | undefined, logger?: StartOptions['logger']) =>
    startServer({
      port: 0,
      host: opts.host ?? '127.0.0.1',
      dataDir,
      scenarios: scenariosDir,
      bpiumEmulatorPort: 0,
      watch: opts.watch ?? false,
      pollMs: 50,
      ...(configPath ? { config: configPath } : {}),
      ...(logger ? { logger } : {}),
      env: environment(port),
    });
  let server: Awaited<ReturnType<typeof start>>;
  try {
    server = await start(smtpPort, opts.logger);
  } catch (e) {
    // A start the test expects to be refused (a bad setting) leaves no folder or SMTP server behind.
    await smtp?.close();
    tmp.cleanup();
    throw e;
  }
  return {
    server,
    smtp,
    dataDir,
    scenariosDir,
    secret: server.config.webhookSecrets['/Bpium/NewTask']!,
    restart: (port = smtpPort, logger?: StartOptions['logger']) => start(port, logger),
    async cleanup() {
      await server.close(2000);
      await smtp?.close();
      tmp.cleanup();
    },
  };
}

/**
 * A scenario reading Bpium record 2 of catalog 3 (its field 2) with a 20 s timeout and only its success exit wired, so a
 * Bpium failure fails the run: for the Web-API's timeouts and failures (delay it with the emulator's injectFaults).
 */
export const BPIUM_READ_SCENARIO = `variables: { email: string }
start: s
blocks:
  s:
    kind: Bpium
    method: getRecord
    catalog: 3
    record: 2
    fields: { email: 2 }
    timeout: 20
    exits: { success: r }
  r:
    kind: ReturnValue
    values: { 1: '[email]' }
`;

/** An HTTP404 that answers every request 200 "thanks" and starts nothing: for tests of what the server does around it. */
export const THANKS_HTTP404 = `start: ok
blocks:
  ok:
    kind: ReturnValue
    values: { 1: '"thanks"', 2: 200 }
`;

/** A scenario returning its parameters 1 and 2 joined by "|" as return value 1, and `extra` return values after it. */
export function echoScenario(extra = ''): string {
  return `variables: { a: string, b: string }
start: s
blocks:
  s:
    kind: InputParameter
    params: { a: 1, b: 2 }
    exits: { next: r }
  r:
    kind: ReturnValue
    values: { 1: '[a] + "|" + [b]'${extra} }
`;
}

/** A Bpium record.created webhook body for a task with the given responsible employees. */
export function taskWebhook(task: { name: string; description?: string; responsible: string[]; recordId?: string; sequenceId?: number }): string {
  return JSON.stringify({
    timestamp: String(Math.floor(Date.now() / 1000)),
    hook: { id: '1', event: 'record.created', sequenceId: task.sequenceId ?? Math.floor(Math.random() * 1e9) },
    payload: { catalogId: '11', recordId: task.recordId ?? '900', values: { '2': task.name, '3': task.description ?? '', '4': task.responsible.map((id) => ({ id, title: `user ${id}` })) } },
    user: { id: '1' },
  });
}

export async function postWebhook(base: string, body: string, secret: string | undefined, path = '/Bpium/NewTask', auth = AUTH, extraHeaders: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: auth, ...(secret ? { 'x-hook-signature': signBpiumBody(secret, body) } : {}), ...extraHeaders },
    body,
  });
}

/** Waits until `check` returns a value (polling), or fails after `ms`. */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Starts service scenario `name` through the Web-API with `async=1` (`query`: more of the query, `&startparam1=…`), so
 * that it runs as a job, and returns the record of the job's run once the job has succeeded.
 */
export async function runAsyncJob(t: TestServer, name: string, query = '') {
  const started = await fetch(`${t.server.url}/execsvcscriptplain?name=${name}${query}&async=1`, { headers: { authorization: AUTH } });
  if (started.status !== 200) throw new Error(`starting ${name} answered ${started.status}: ${await started.text()}`);
  const jobId = started.headers.get('x-oktell-run-id')!;
  const job = await waitFor(`the job of ${name} to succeed`, async () => {
    const j = await t.server.store.getJob(jobId);
    return j?.status === 'succeeded' && j.lastRunId ? j : undefined;
  });
  return (await t.server.store.getRun(job.lastRunId!))!;
}

export async function parsedLetters(smtp: TestSmtpServer): Promise<ParsedMail[]> {
  return Promise.all(smtp.letters.map((l) => simpleParser(l.raw)));
}

/** One log line a test logger received. */
export interface CapturedLine {
  level: string;
  obj: Record<string, unknown>;
  msg?: string;
}

/** A logger that keeps every line, for tests that check what the server logged. */
export function capturingLogger() {
  const lines: CapturedLine[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, obj: obj as Record<string, unknown>, ...(msg !== undefined ? { msg } : {}) });
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

/**
 * Posts a delivery as a second server racing the first meets it (two servers on one PostgreSQL): its look-up before
 * HTTP404 finds nothing, so the hook runs, and only the store's unique key then makes the request a duplicate. Such
 * a duplicate has a hook run of its own; a resend to the same server is answered from the store without one.
 */
export async function postRacingWebhook(t: TestServer, body: string, secret: string | undefined, path?: string): Promise<Response> {
  const store = t.server.store;
  const lookUp = store.findByDedupKey;
  store.findByDedupKey = async () => undefined;
  try {
    return await postWebhook(t.server.url, body, secret, path);
  } finally {
    store.findByDedupKey = lookUp;
  }
}

/** A `serve` process a test started (see startChild). */
export interface ServeChild {
  proc: ChildProcess;
  /** The last few KB of its stdout and stderr, for failure messages. */
  output(): string;
}

/**
 * `oktell-emu serve` in a process of its own (one a test can kill with SIGKILL), on the given folders and SMTP port.
 * It picks its own port (`--port 0`): `serveUrl` reads it back. A port chosen here and handed over would be free
 * only until it was closed, and another socket could take it before the child listens. `env` adds to the child's
 * environment; `logs` is called with each piece of its stdout (the log, JSON lines).
 */
export function startChild(dataDir: string, scenarios: string, smtpPort: number, env: Record<string, string> = {}, logs?: (text: string) => void): ServeChild {
  const proc = spawn(process.execPath, [repoPath('bin', 'oktell-emu.js'), 'serve', '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--scenarios', scenarios, '--bpium-emulator-port', '0'], {
    env: { ...process.env, OKTELL_USERS: `${USER.login}:${USER.password}`, SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, OKTELL_LOG_LEVEL: 'warn', BPIUM_URL: '', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = keepOutput(proc);
  if (logs) proc.stdout!.on('data', (c: Buffer) => logs(c.toString('utf8')));
  return { proc, output };
}

/**
 * Reads a child's stdout and stderr as they come (a pipe nobody reads fills up and blocks the child's writes) and
 * keeps the last `bytes` of each; returns a function giving both, for a failure message.
 */
export function keepOutput(proc: ChildProcess, bytes = 4000): () => string {
  let out = '';
  let err = '';
  proc.stdout?.on('data', (c: Buffer) => (out = (out + c.toString('utf8')).slice(-bytes)));
  proc.stderr?.on('data', (c: Buffer) => (err = (err + c.toString('utf8')).slice(-bytes)));
  return () => `--- stdout (last ${bytes} characters) ---\n${out}\n--- stderr (last ${bytes} characters) ---\n${err}`;
}

// The wait for a spawned `serve` to listen is the benchmarks' own (one helper for both): tests import it from here.
export { serveUrl } from '../../bench/bench-support.js';
