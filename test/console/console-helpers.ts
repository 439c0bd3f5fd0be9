// Test helpers of the web console: a real server on a temp folder (outbox mail, embedded Bpium emulator), requests
// with and without credentials, and Debian's Chromium through playwright-core when it is installed.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before } from 'node:test';
import type { Browser, BrowserContext } from 'playwright-core';
import { AUTH, postRacingWebhook, postWebhook, startTestServer, taskWebhook, USER, waitFor, type TestServer } from '../server/server-helpers.js';

export { AUTH, USER, postRacingWebhook, postWebhook, taskWebhook, waitFor };

export const CHROMIUM = '/usr/bin/chromium';
export const chromiumMissing = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is not installed (apt-get install chromium); the browser tests need Debian's Chromium`;

/**
 * A scenario that reads an employee from Bpium by the id in input parameter 1 and writes them a letter. With no
 * error exit on the read, a missing record fails the run for good: a real failed job to replay.
 */
export const READ_USER_YAML = `description: Writes to the Bpium employee whose id is input parameter 1.
variables:
  userId: string
  userEmail: string
  userName: string
start: begin
blocks:
  begin:
    kind: Start
    param: userId
    exits: { next: getUser }
  getUser:
    kind: Bpium
    title: Прочитать сотрудника
    method: getRecord
    catalog: '"3"'
    record: '[userId]'
    fields: { userEmail: 2, userName: 1 }
    exits: { success: letter }
  letter:
    kind: SendMail
    title: Письмо сотруднику
    to: '[userEmail]'
    subject: '"Проверка связи, " + [userName]'
    text: '"Здравствуйте! Это проверка."'
    html: '"<p style=''color:#2458d6''>Здравствуйте, <b>" + [userName] + "</b>!</p>"'
    exits: { success: answer }
  answer:
    kind: ReturnValue
    title: Готово
    values: { 1: '"sent to " + [userEmail]' }
`;

/** A scenario whose title tries to inject a script: the console must show it as text. */
export const HOSTILE_YAML = `description: Title with markup <img src=x onerror=alert(2)>
variables:
  x: string
start: first
blocks:
  first:
    kind: Variable
    title: <script>alert(1)</script>
    set: { x: '"<b>bold</b>"' }
`;

/** An invalid scenario: an exit to a block that does not exist, on line 9. */
export const BROKEN_YAML = `description: Broken on purpose.
variables:
  x: string
start: first
blocks:
  first:
    kind: Variable
    set: { x: '"1"' }
    exits: { next: nowhere }
`;

/** More of a console test server: a configuration file's text (service tasks, users) and a logger to read. */
export interface ConsoleServerOptions {
  config?: string;
  logger?: NonNullable<Parameters<typeof startTestServer>[0]>['logger'];
  /** Fills the data folder before the server starts (a store an earlier run of the server left). */
  before?: NonNullable<Parameters<typeof startTestServer>[0]>['before'];
}

export async function startConsoleServer(extra: Record<string, string> = {}, env: Record<string, string> = {}, more: ConsoleServerOptions = {}): Promise<TestServer & { base: string }> {
  const t = await startTestServer({ smtp: false, extraScenarios: { 'ReadUser.yaml': READ_USER_YAML, ...extra }, env: { SMTP_URL: '', ...env }, ...more });
  return Object.assign(t, { base: `${t.server.url}/-/console` });
}

/** GET with the test user's credentials (or other headers). */
export function get(url: string, headers: Record<string, string> = { authorization: AUTH }): Promise<Response> {
  return fetch(url, { headers, redirect: 'manual' });
}

/** A scenario that counts `turns` times round a Variable and a Condition: 2 × turns + 1 steps, then returns its count. */
export function loopScenarioYaml(turns: number): string {
  return `variables:
  i: number
start: inc
blocks:
  inc:
    kind: Variable
    set: { i: '[i] + 1' }
    exits: { next: check }
  check:
    kind: Condition
    expression: '[i] >= ${turns}'
    exits: { true: done, false: inc }
  done:
    kind: ReturnValue
    values: { 1: '"turns " + [i]' }
`;
}

/** Runs `scenario` through the Web-API (it must answer 200) and returns its run id and the console's page of the run. */
export async function runPageOf(t: ConsoleServer, scenario: string): Promise<{ runId: string; html: string }> {
  const res = await fetch(`${t.server.url}/execsvcscript?name=${scenario}`, { headers: { authorization: AUTH } });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${scenario} answered ${res.status}: ${text}`);
  const runId = res.headers.get('x-oktell-run-id')!;
  return { runId, html: await (await get(`${t.base}/runs/${runId}`)).text() };
}

/** The CSRF token of the console's forms, read from a page the way a browser would see it. */
export async function csrfToken(base: string): Promise<string> {
  const html = await (await get(`${base}/dry-run`)).text();
  const m = /name="csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error('no CSRF token on the dry-run page');
  return m[1]!;
}

/** Posts the dry-run form for HTTP404 with a webhook to /Bpium/NewTask, as a browser would; the result page's URL. */
export async function dryRunWebhook(t: { base: string; server: { url: string } }, csrf: string, body: string): Promise<string> {
  const res = await fetch(`${t.base}/dry-run`, {
    method: 'POST',
    headers: { authorization: AUTH, 'content-type': 'application/x-www-form-urlencoded', origin: t.server.url },
    body: new URLSearchParams({ csrf, scenario: 'HTTP404', mode: 'webhook', path: '/Bpium/NewTask', body }).toString(),
    redirect: 'manual',
  });
  if (res.status !== 303) throw new Error(`the dry-run form answered ${res.status}, not 303: ${await res.text()}`);
  return new URL(res.headers.get('location')!, t.server.url).toString();
}

/** Starts a job of ReadUser for employee `userId` through the Web-API and waits for its first run to end. */
export async function readUserJob(t: TestServer, userId: string): Promise<{ jobId: string; runId: string; status: string }> {
  const res = await fetch(`${t.server.url}/execsvcscript?name=ReadUser&async=1&startparam1=${encodeURIComponent(userId)}`, { headers: { authorization: AUTH } });
  const jobId = res.headers.get('x-oktell-run-id');
  if (res.status !== 200 || !jobId) throw new Error(`the Web-API did not start ReadUser: ${res.status} ${await res.text()}`);
  const run = await waitFor('the ReadUser run to end', async () => (await t.server.store.listRuns({ jobId })).items.find((r) => r.status !== 'running'));
  return { jobId, runId: run.id, status: run.status };
}

/** Launches Debian's Chromium headless; the caller closes it. */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 30_000,
  });
}

export function consoleContext(browser: Browser, width = 1280, height = 900): Promise<BrowserContext> {
  return browser.newContext({ httpCredentials: { username: USER.login, password: USER.password }, viewport: { width, height }, deviceScaleFactor: 1 });
}

export type ConsoleServer = Awaited<ReturnType<typeof startConsoleServer>>;

/** What a browser suite's tests use; set by its `before` hook (`browser` and `context` stay unset without Chromium). */
export interface ConsoleBrowser {
  t: ConsoleServer;
  browser: Browser;
  /** Logged in as the test user, 1280×900 unless told otherwise. */
  context: BrowserContext;
}

/**
 * The set-up of a browser test suite, registered as its `before` and `after` hooks: a console server (with `scenarios`
 * added to the shipped ones, `env` over the test defaults, a configuration file's text in `config`, a `logger`),
 * Chromium and a logged-in context. Without Chromium nothing starts, unless `serverWithoutBrowser` (a suite with
 * HTTP-only tests too); with a `skip` reason (the suite's tests skip themselves) nothing starts at all. Call it
 * inside `describe`.
 *
 * @example
 * describe('the runs list in a browser', () => {
 *   const s = useConsoleBrowser();
 *   it('…', async (tc) => {
 *     if (chromiumMissing) return tc.skip(chromiumMissing);
 *     const page = await s.context.newPage();
 *     await page.goto(`${s.t.base}/runs`);
 *   });
 * });
 */
export function useConsoleBrowser(
  opts: { scenarios?: Record<string, string>; env?: Record<string, string>; serverWithoutBrowser?: boolean; width?: number; height?: number; skip?: string } & ConsoleServerOptions = {},
): ConsoleBrowser {
  const suite = {} as ConsoleBrowser;
  before(async () => {
    if (opts.skip || (chromiumMissing && !opts.serverWithoutBrowser)) return;
    suite.t = await startConsoleServer(opts.scenarios, opts.env, { ...(opts.config ? { config: opts.config } : {}), ...(opts.logger ? { logger: opts.logger } : {}) });
    if (chromiumMissing) return;
    suite.browser = await launchChromium();
    suite.context = await consoleContext(suite.browser, opts.width, opts.height);
  });
  after(async () => {
    await suite.context?.close();
    await suite.browser?.close();
    await suite.t?.cleanup();
  });
  return suite;
}

/** The Tasks page's row of task `name`. */
export async function rowOf(t: { base: string }, name: string): Promise<string> {
  const page = await (await get(`${t.base}/tasks`)).text();
  const row = new RegExp(`<tr data-task="${name}">[\\s\\S]*?</tr>`).exec(page)?.[0];
  assert.ok(row, `the page has a row for ${name}`);
  return row;
}

/** The text of an HTML fragment as read: a cell or line break is a space, other tags nothing, entities decoded. */
export const textOf = (html: string) =>
  html
    .replace(/<\/?(?:div|td|tr)\b[^>]*>/g, ' ')
    .replace(/<[^>]*>/g, '')
    .replace(/&(quot|lt|gt|amp);/g, (_, e: string) => ({ quot: '"', lt: '<', gt: '>', amp: '&' })[e]!)
    .replace(/\s+/g, ' ')
    .trim();
