// A read-only console login (review U10): the right `view` opens every console page and no action. Every
// state-changing console route is tried with a valid form token from a console page, route by route from one table,
// and must answer 403 and change nothing; the same request from a login with the `console` right goes through, so the
// refusal is the role's, not a malformed request's. A test reads the route files so a new POST route cannot be missed.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { hasRight, parseUsers } from '../../server/auth.js';
import { loadServerConfig } from '../../server/config.js';
import { repoPath, tempDir } from '../helpers.js';
import { capturingLogger, startTestServer, type TestServer } from '../server/server-helpers.js';
import { ECHO_DUE } from '../tasks/task-scenarios.js';
import { AUTH, get, READ_USER_YAML, readUserJob, waitFor } from './console-helpers.js';

const VIEWER = `Basic ${Buffer.from('viewer:v1ew-only').toString('base64')}`;

/** One state-changing console route: its pattern (as in the route file) and how to call it on the test's data. */
interface ActionRoute {
  pattern: string;
  path: (d: TestData) => string;
  form?: Record<string, string>;
  /** What the admin's (control) request answers. */
  adminStatus: number;
}
interface TestData {
  failedRunId: string;
  failedJobId: string;
  /** A job queued for tomorrow: what Cancel takes out of the queue. */
  queuedJobId: string;
}

const ACTIONS: ActionRoute[] = [
  // As the page that asks to confirm them posts them (the button of a list or a run page only asks).
  { pattern: '/jobs/:id/cancel', path: (d) => `/jobs/${d.queuedJobId}/cancel`, form: { confirm: '1' }, adminStatus: 303 },
  { pattern: '/runs/:id/replay', path: (d) => `/runs/${d.failedRunId}/replay`, form: { confirm: '1' }, adminStatus: 303 },
  { pattern: '/jobs/:id/replay', path: (d) => `/jobs/${d.failedJobId}/replay`, form: { confirm: '1' }, adminStatus: 303 },
  { pattern: '/tasks/:name/run', path: () => '/tasks/morning-report/run', adminStatus: 303 },
  { pattern: '/dry-run', path: () => '/dry-run', form: { scenario: 'ReadUser', mode: 'params', p1: '1' }, adminStatus: 303 },
  // Last, in this order: the admin's Pause is undone by its Resume, so no later request meets a paused scenario.
  { pattern: '/scenarios/:name/pause', path: () => '/scenarios/DailyReport/pause', form: { confirm: '1' }, adminStatus: 303 },
  { pattern: '/scenarios/:name/resume', path: () => '/scenarios/DailyReport/resume', form: { confirm: '1' }, adminStatus: 303 },
];

describe('the view right', () => {
  it('is given like the others, in OKTELL_USERS or under users:, and console includes it', () => {
    const [support, ops, sender] = parseUsers('support[view]:l00k,ops:0ther,bpium[hook]:s3cret');
    assert.deepEqual(support!.rights, ['view']);
    assert.deepEqual([hasRight(support!, 'view'), hasRight(support!, 'console'), hasRight(support!, 'api'), hasRight(support!, 'hook')], [true, false, false, false]);
    assert.deepEqual([hasRight(ops!, 'view'), hasRight(ops!, 'console')], [true, true], 'a login given no rights keeps the console, actions included');
    assert.equal(hasRight(sender!, 'view'), false);
    const tmp = tempDir('oktell-view-');
    try {
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), 'users:\n  - { login: support, password: l00k, rights: [view] }\n');
      assert.deepEqual(loadServerConfig({}, {}, tmp.dir).users, [{ login: 'support', password: 'l00k', rights: ['view'] }]);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('a read-only console login', () => {
  let t: TestServer;
  let base: string;
  const log = capturingLogger();
  const data = {} as TestData;

  before(async () => {
    t = await startTestServer({
      smtp: false,
      logger: log.logger,
      extraScenarios: { 'ReadUser.yaml': READ_USER_YAML, 'DailyReport.yaml': ECHO_DUE },
      config: 'serviceTasks:\n  - { name: morning-report, scenario: DailyReport, cron: "0 9 * * *", timeZone: UTC }\n',
      env: { SMTP_URL: '', OKTELL_USERS: 'bpium:s3cret:pass,viewer[view]:v1ew-only,sender[hook]:h00k' },
    });
    base = `${t.server.url}/-/console`;
    // Two failed jobs (employees 5 and 6 are not in Bpium): one replayed by its run's button, one from the Jobs page.
    const a = await readUserJob(t, '5');
    const b = await readUserJob(t, '6');
    assert.equal(a.status, 'failed');
    assert.equal(b.status, 'failed');
    data.failedRunId = a.runId;
    data.failedJobId = b.jobId;
    data.queuedJobId = (await t.server.store.enqueueJobs([{ scenario: 'ReadUser', params: { 1: '5' }, runAt: Date.now() + 86_400_000 }]))[0]!;
  });
  after(async () => t?.cleanup());

  /** The form token of `auth`'s login, read from a console page as a browser would. */
  async function tokenOf(auth: string): Promise<string> {
    const m = /name="csrf" value="([^"]+)"/.exec(await (await get(`${base}/dry-run`, { authorization: auth })).text());
    assert.ok(m, 'the dry-run page carries a form token');
    return m[1]!;
  }

  /** A console form POST as the console's own page sends it: same origin, with the login's token. */
  async function post(auth: string, path: string, form: Record<string, string> = {}, method = 'POST'): Promise<Response> {
    return fetch(`${base}${path}`, {
      method,
      redirect: 'manual',
      headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded', origin: t.server.url, 'sec-fetch-site': 'same-origin' },
      body: new URLSearchParams({ csrf: await tokenOf(auth), ...form }).toString(),
    });
  }

  /** What an action could change: every job and its state, and the counts of runs and jobs; read once the queue is
   *  idle, so the work an earlier test started cannot change it meanwhile. */
  async function state(): Promise<string> {
    // Idle: nothing running and nothing queued that is due (the job queued for tomorrow waits there).
    await waitFor('the queue to be idle', async () => {
      const { jobs } = await t.server.store.counts();
      const queued = (await t.server.store.listJobs({ status: 'queued', limit: 1000 })).items;
      return jobs.running === 0 && queued.every((j) => j.id === data.queuedJobId);
    });
    const jobs = (await t.server.store.listJobs({ limit: 1000 })).items.map((j) => [j.id, j.status, j.attempts, j.replayCount]);
    const paused = (await t.server.store.pausedScenarios()).map((p) => p.scenario);
    return JSON.stringify({ jobs, counts: await t.server.store.counts(), paused });
  }

  for (const action of ACTIONS) {
    it(`POST ${action.pattern}: 403 for the viewer and nothing changes; the admin's same request goes through`, { timeout: 30_000 }, async () => {
      const before = await state();
      const refused = await post(VIEWER, action.path(data), action.form);
      assert.equal(refused.status, 403);
      const html = await refused.text();
      assert.match(html, /<h1>Read-only login<\/h1>/);
      assert.match(html, /The login viewer may look at the console but not change anything \(its rights: view\)/);
      assert.match(html, /the console right is needed to replay, cancel a job, pause or resume a scenario, run a task now or dry-run\./);
      assert.equal(await state(), before, 'the refused request changed nothing');
      assert.ok(log.lines.some((l) => l.msg === 'login lacks the right' && l.obj.login === 'viewer' && l.obj.right === 'console' && l.obj.path === `/-/console${action.path(data)}`));
      const done = await post(AUTH, action.path(data), action.form);
      assert.equal(done.status, action.adminStatus, `the admin's request: ${await done.text()}`);
    });
  }

  it('every state-changing route of the console is in the table above', () => {
    const dir = repoPath('server/console');
    const declared = readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .flatMap((f) => [...readFileSync(`${dir}/${f}`, 'utf8').matchAll(/\b(?:router|app)\s*\.\s*(post|put|patch|delete|all)\(\s*(['"`])([^'"`]+)\2/g)].map((m) => `${m[1]} ${m[3]}`));
    assert.deepEqual(declared.sort(), ACTIONS.map((a) => `post ${a.pattern}`).sort());
    // Any other way of declaring a route (a path in a variable, router.route(…)) would escape the table: none is used.
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
      const text = readFileSync(`${dir}/${f}`, 'utf8');
      assert.doesNotMatch(text, /\b(?:router|app)\s*\.\s*route\(/, `${f} declares a route with .route(): add it to the table and to this check`);
      assert.doesNotMatch(text, /\b(?:router|app)\s*\.\s*(post|put|patch|delete|all)\(\s*[^'"`\s]/, `${f} declares a route whose path is not a literal: add it to the table`);
    }
  });

  it('any other method or path that is not a GET is refused to the viewer before a route sees it', async () => {
    for (const [method, path] of [
      ['PUT', `/runs/${data.failedRunId}`],
      ['DELETE', `/jobs/${data.failedJobId}`],
      ['PATCH', '/tasks/morning-report'],
      ['POST', '/no/such/page'],
    ] as const) {
      const res = await post(VIEWER, path, {}, method);
      assert.equal(res.status, 403, `${method} ${path}`);
    }
  });

  it('the viewer reads every page, and no page offers it an action', { timeout: 30_000 }, async () => {
    const pages = ['/runs', `/runs/${data.failedRunId}`, '/runs.json', `/runs/${data.failedRunId}/test.yaml`, '/jobs', '/jobs?status=failed', '/tasks', '/outbox', '/scenarios', '/scenarios/ReadUser', '/dry-run', '/sign-out'];
    for (const path of pages) {
      const res = await get(`${base}${path}`, { authorization: VIEWER });
      assert.equal(res.status, 200, path);
      const body = await res.text();
      assert.doesNotMatch(body, /<form method="post"/, `${path} has no form that acts`);
      if (path !== '/runs.json' && !path.endsWith('.yaml')) assert.match(body, /<span class="ro"[^>]*>read-only<\/span>/, `${path} says the login is read-only`);
    }
    const run = await (await get(`${base}/runs/${data.failedRunId}`, { authorization: VIEWER })).text();
    assert.match(run, /replayable by a login with the console right/);
    const dry = await (await get(`${base}/dry-run`, { authorization: VIEWER })).text();
    assert.match(dry, /<button type="submit" class="primary" id="run-dry" disabled>/);
  });

  it('the admin still sees the actions, and is not called read-only', async () => {
    const b = await readUserJob(t, '7');
    const run = await (await get(`${base}/runs/${b.runId}`)).text();
    assert.match(run, /<button type="submit" class="primary" id="replay">Replay<\/button>/);
    assert.doesNotMatch(run, /class="ro"/);
    assert.match(await (await get(`${base}/tasks`)).text(), />Run now<\/button>/);
    assert.match(await (await get(`${base}/dry-run`)).text(), /id="run-dry">/);
  });

  it('view opens the console only: no webhooks, no Web-API; a hook-only login gets no console', async () => {
    assert.equal((await fetch(`${t.server.url}/execsvcscript?name=ReadUser&startparam1=1`, { headers: { authorization: VIEWER } })).status, 403);
    assert.equal((await fetch(`${t.server.url}/Bpium/NewTask`, { method: 'POST', headers: { authorization: VIEWER }, body: '{}' })).status, 403);
    const sender = await get(`${base}/runs`, { authorization: `Basic ${Buffer.from('sender:h00k').toString('base64')}` });
    assert.equal(sender.status, 403);
    assert.match(await sender.text(), /login sender may not use the console \(its rights: hook\)/);
  });

  it('the sign-out page says honestly that the browser keeps a Basic password until it is closed; every page links to it', async () => {
    const html = await (await get(`${base}/sign-out`)).text();
    assert.match(html, /The server keeps no session/);
    assert.match(html, /To sign out, close every window of this browser\./);
    assert.match(await (await get(`${base}/runs`)).text(), /<a class="signout" href="\/-\/console\/sign-out">How to sign out<\/a>/);
  });
});
