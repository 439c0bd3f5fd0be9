// The Web-API over real HTTP, as an integrator calls it: what a HEAD does, how the plain form tells the outcomes apart,
// parameters given twice or in another letter case, and how its async runs are listed.
import assert from 'node:assert/strict';
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AUTH, BPIUM_READ_SCENARIO, capturingLogger, echoScenario, startTestServer, waitFor, type TestServer } from './server-helpers.js';

/** Returns nothing: its plain answer is an empty body, as a failed run's is. */
const SILENT = `start: s
blocks:
  s: { kind: Stop }
`;

/** Fails when its parameter 1 is not a number: the text cannot be put into a number variable. */
const BROKEN = `variables: { n: number, a: string }
start: s
blocks:
  s:
    kind: InputParameter
    params: { a: 1 }
    exits: { next: v }
  v:
    kind: Variable
    set: { n: '[a]' }
    exits: { next: r }
  r:
    kind: ReturnValue
    values: { 1: '[n]' }
`;

describe('the Web-API, as an integrator calls it', () => {
  let t: TestServer;
  const log = capturingLogger();
  before(async () => {
    t = await startTestServer({ smtp: false, logger: log.logger, extraScenarios: { 'Echo.yaml': echoScenario(), 'Silent.yaml': SILENT, 'Broken.yaml': BROKEN, 'SlowFail.yaml': BPIUM_READ_SCENARIO } });
  });
  after(async () => t.cleanup());

  const call = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${t.server.url}${path}`, { ...init, headers: { authorization: AUTH, ...(init.headers as Record<string, string>) } });
    return { status: res.status, text: await res.text(), headers: res.headers };
  };
  const runsOf = async (scenario: string) => (await t.server.store.listRuns({ scenario })).items;

  it('refuses HEAD with 405 and Allow: GET, POST, and runs nothing (a link checker or an uptime probe starts no scenario)', async () => {
    for (const path of ['/execsvcscriptplain', '/execsvcscript', '/ExecSvcScriptPlain/']) {
      const head = await call(`${path}?name=Echo&startparam1=head`, { method: 'HEAD' });
      assert.equal(head.status, 405, path);
      assert.equal(head.headers.get('allow'), 'GET, POST', path);
    }
    const del = await call('/execsvcscriptplain?name=Echo', { method: 'DELETE' });
    assert.deepEqual([del.status, del.headers.get('allow')], [405, 'GET, POST']);
    assert.match(del.text, /DELETE is not allowed: call the Web-API with GET or POST/);
    // Give a run started by the HEAD the time to be recorded, had it started one.
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(await runsOf('Echo'), [], 'no run');
  });

  it('says the startresult in X-Oktell-Start-Result in both forms, so a plain client tells a failed run from an empty return value', async () => {
    const completed = await call('/execsvcscriptplain?name=Silent');
    const failed = await call('/execsvcscriptplain?name=Broken&startparam1=abc');
    assert.deepEqual([completed.status, completed.text], [200, '']);
    assert.deepEqual([failed.status, failed.text], [200, ''], 'the plain bodies alike');
    assert.equal(completed.headers.get('x-oktell-start-result'), '0');
    assert.equal(failed.headers.get('x-oktell-start-result'), '1');
    const queued = await call('/execsvcscriptplain?name=Silent&async=1');
    assert.deepEqual([queued.status, queued.text, queued.headers.get('x-oktell-start-result')], [200, '', '0']);
    const xml = await call('/execsvcscript?name=Broken&startparam1=abc');
    assert.match(xml.text, /key="startresult" value="1" name="failed"/);
    assert.equal(xml.headers.get('x-oktell-start-result'), '1');
    const unknown = await call('/execsvcscriptplain?name=Nope');
    assert.deepEqual([unknown.status, unknown.headers.get('x-oktell-start-result')], [404, '-1']);
  });

  it('says startresult 2 in the header when the sync wait ends before the run', async () => {
    const slow = `variables: { email: string }\nstart: s\nblocks:\n  s:\n    kind: Bpium\n    method: getRecord\n    catalog: 3\n    record: 2\n    fields: { email: 2 }\n    timeout: 20\n    exits: { success: r }\n  r: { kind: Stop }\n`;
    const s = await startTestServer({ smtp: false, extraScenarios: { 'Slow.yaml': slow } });
    try {
      s.server.emulator!.injectFaults({ delayMs: 1000, times: 1, pathPrefix: '/api/v1/catalogs/3/records/2' });
      const res = await fetch(`${s.server.url}/execsvcscriptplain?name=Slow&timeout=0.2`, { headers: { authorization: AUTH } });
      assert.deepEqual([res.status, await res.text(), res.headers.get('x-oktell-start-result')], [200, '', '2']);
      await waitFor('the slow run to be recorded', () => s.server.store.getRun(res.headers.get('x-oktell-run-id')!));
    } finally {
      await s.cleanup();
    }
  });

  it('logs a failed synchronous run with its run id and error code, and none of its parameters', async () => {
    const res = await call('/execsvcscriptplain?name=Broken&startparam1=secret-token-123');
    const runId = res.headers.get('x-oktell-run-id')!;
    const line = log.lines.find((l) => l.obj.runId === runId && l.msg === 'run Broken failed');
    assert.ok(line, `a "run Broken failed" line for ${runId}: ${JSON.stringify(log.lines.filter((l) => l.level === 'warn'))}`);
    assert.equal(line.level, 'warn');
    assert.equal(line.obj.code, ((await t.server.store.getRun(runId))!.error as { code: string }).code);
    assert.ok(!JSON.stringify(line).includes('secret-token-123'), 'no parameter in the line');
    const ok = await call('/execsvcscriptplain?name=Echo&startparam1=fine');
    const okId = ok.headers.get('x-oktell-run-id')!;
    assert.equal(log.lines.filter((l) => l.obj.runId === okId && l.level === 'warn').length, 0, 'a completed run logs no warning');
  });

  it('logs a synchronous run that fails after its caller was answered startresult 2', async () => {
    t.server.emulator!.injectFaults({ status: 404, delayMs: 600, times: 1, pathPrefix: '/api/v1/catalogs/3/records/2' });
    const res = await call('/execsvcscriptplain?name=SlowFail&timeout=0.1');
    assert.equal(res.headers.get('x-oktell-start-result'), '2');
    const runId = res.headers.get('x-oktell-run-id')!;
    const line = await waitFor('the "run SlowFail failed" line', () => log.lines.find((l) => l.obj.runId === runId && l.msg === 'run SlowFail failed'));
    assert.equal(line.level, 'warn');
    assert.equal((await waitFor('the run', () => t.server.store.getRun(runId))).status, 'failed');
  });

  it('refuses name, async or timeout given in both the query and the form, as a startparam given twice is', async () => {
    const before = (await runsOf('Echo')).length;
    const silentBefore = (await runsOf('Silent')).length;
    for (const [query, form, reason] of [
      ['name=Echo&startparam1=q', 'name=Silent', /the "name" parameter is given 2 times \("name" in the query, "name" in the form\): give it once/],
      ['name=Echo&async=0', 'async=1', /the "async" parameter is given 2 times \("async" in the query, "async" in the form\)/],
      ['name=Echo&timeout=5', 'timeout=10', /the "timeout" parameter is given 2 times/],
      ['name=Echo&async=0&async=1', '', /the "async" parameter is given 2 times \("async" in the query 2 times\)/],
    ] as const) {
      const r = await call(`/execsvcscriptplain?${query}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
      assert.equal(r.status, 400, `${query} + ${form}`);
      assert.match(r.text, reason);
    }
    assert.equal((await runsOf('Echo')).length, before, 'nothing ran');
    assert.equal((await runsOf('Silent')).length, silentBefore);
    // Given once, in either place, it works.
    const r = await call('/execsvcscriptplain?startparam1=f', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'name=Echo&timeout=5' });
    assert.deepEqual([r.status, r.text], [200, 'f|']);
  });

  it('matches name, async and timeout in any letter case, as startparam is; two spellings of one are refused', async () => {
    const r = await call('/execsvcscriptplain?Name=Echo&startParam1=x&TIMEOUT=5&Async=0');
    assert.deepEqual([r.status, r.text], [200, 'x|']);
    const both = await call('/execsvcscriptplain?name=Echo&Name=Silent');
    assert.equal(both.status, 400);
    assert.match(both.text, /the "name" parameter is given 2 times \("name" in the query, "Name" in the query\): give it once/);
    const bad = await call('/execsvcscriptplain?NAME=Echo&ASYNC=yes');
    assert.equal(bad.status, 400);
    assert.match(bad.text, /"async" must be 0/);
  });

  it('lists the runs of its async=1 jobs with the trigger webapi, not async as AsyncScenario starts are', async () => {
    const res = await call('/execsvcscript?name=Echo&startparam1=later&async=1');
    const jobId = res.headers.get('x-oktell-run-id')!;
    const run = await waitFor('the async run', async () => (await runsOf('Echo')).find((r) => r.jobId === jobId));
    assert.equal(run.trigger, 'webapi');
    const list = async (trigger: string) => {
      const res = await fetch(`${t.server.url}/-/console/runs.json?trigger=${trigger}`, { headers: { authorization: AUTH } });
      assert.equal(res.status, 200);
      return ((await res.json()) as { items: Array<{ id: string }> }).items.map((r) => r.id);
    };
    assert.ok((await list('webapi')).includes(run.id), "the console's trigger filter webapi finds it");
    assert.ok(!(await list('async')).includes(run.id), 'and async does not');
    const page = await (await fetch(`${t.server.url}/-/console/runs/${run.id}`, { headers: { authorization: AUTH } })).text();
    assert.doesNotMatch(page, /Answered:/, 'its caller was answered when the job was queued, not by this run');
  });
});

/** One request on a connection of its own (no keep-alive pool), as a new client or a load balancer's probe makes it. */
function freshRequest(url: string, init: { method?: string; auth?: string; body?: string } = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string } | Error> {
  return new Promise((resolve) => {
    const req = http.request(url, { method: init.method ?? 'GET', agent: false, headers: init.auth ? { authorization: init.auth } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
    });
    req.on('error', resolve);
    req.end(init.body);
  });
}

describe('the Web-API and the hook while the server stops', () => {
  it('keeps listening while a synchronous run finishes: a new call, a webhook and /-/health get 503, Retry-After and Connection: close', { timeout: 30_000 }, async () => {
    const slow = `variables: { email: string }\nstart: s\nblocks:\n  s:\n    kind: Bpium\n    method: getRecord\n    catalog: 3\n    record: 2\n    fields: { email: 2 }\n    timeout: 20\n    exits: { success: r }\n  r:\n    kind: ReturnValue\n    values: { 1: '[email]' }\n`;
    const s = await startTestServer({ smtp: false, extraScenarios: { 'Slow.yaml': slow } });
    let closing: Promise<unknown> | undefined;
    try {
      s.server.emulator!.injectFaults({ delayMs: 1500, times: 1, pathPrefix: '/api/v1/catalogs/3/records/2' });
      const running = freshRequest(`${s.server.url}/execsvcscriptplain?name=Slow&timeout=20`, { auth: AUTH });
      await waitFor('the slow run to start', () => s.server.metrics.inFlight > 0);
      await new Promise((r) => setTimeout(r, 200));
      closing = s.server.close(10_000);
      await new Promise((r) => setTimeout(r, 100));
      const late = await freshRequest(`${s.server.url}/execsvcscriptplain?name=Slow`, { auth: AUTH });
      assert.ok(!(late instanceof Error), `a new call during the stop is answered, not refused: ${late instanceof Error ? late.message : ''}`);
      assert.deepEqual([late.status, late.headers['retry-after'], late.headers.connection, late.headers['x-oktell-start-result']], [503, '5', 'close', '-1']);
      assert.equal(late.text, 'the server is shutting down');
      const hook = await freshRequest(`${s.server.url}/some/hook`, { method: 'POST', auth: AUTH, body: '{}' });
      assert.ok(!(hook instanceof Error));
      assert.deepEqual([hook.status, hook.headers['retry-after'], hook.headers.connection], [503, '5', 'close']);
      const health = await freshRequest(`${s.server.url}/-/health`);
      assert.ok(!(health instanceof Error));
      assert.equal(health.status, 503);
      assert.match(health.text, /the server is stopping/);
      const first = await running;
      assert.ok(!(first instanceof Error));
      assert.deepEqual([first.status, first.text, first.headers['x-oktell-start-result']], [200, 'ivan.petrov@example.com', '0'], 'the run in flight gets its answer');
      await closing;
      const after = await freshRequest(`${s.server.url}/-/health`);
      assert.ok(after instanceof Error, 'the port is closed once the server has stopped');
    } finally {
      // close() is called once: the cleanup's waits for the stop begun above.
      await s.cleanup();
    }
  });
});

/** Exists but does not load: `[x]` is a YAML list, not an expression (the integrator's Echo2 of trial 38). */
const INVALID = `blocks:
  begin: { kind: Start, exits: { next: r } }
  r: { kind: ReturnValue, values: { 1: [x] } }
`;

describe('the Web-API and a scenario whose file is there but invalid', () => {
  let t: TestServer;
  const log = capturingLogger();
  before(async () => {
    t = await startTestServer({ smtp: false, watch: true, logger: log.logger, extraScenarios: { 'Echo.yaml': echoScenario(), 'Twice.yaml': `${INVALID}  z: { kind: Nope }\n` } });
  });
  after(async () => t.cleanup());

  const call = async (path: string) => {
    const res = await fetch(`${t.server.url}${path}`, { headers: { authorization: AUTH } });
    return { status: res.status, text: await res.text(), start: res.headers.get('x-oktell-start-result') };
  };
  /** The first problem the server logged for the file, as `file:line:col CODE`. */
  const logged = (file: string) => {
    const line = log.lines.find((l) => l.level === 'error' && l.obj.file === file);
    return line && `${String(line.obj.file)}:${String(line.obj.line)}:${String(line.obj.col)} ${String(line.obj.code)}`;
  };

  it('answers 500 with startresult -1 and the first problem of a file added while the server runs, sync, async and XML alike; runs nothing', async () => {
    writeFileSync(join(t.scenariosDir, 'Echo2.yaml'), INVALID);
    const where = await waitFor('the server to load Echo2.yaml', () => logged('Echo2.yaml'));
    assert.match(where, /^Echo2\.yaml:3:\d+ E_/);
    const expected = new RegExp(`^service scenario "Echo2" is invalid and cannot start: ${where.replace(/\./g, '\\.')} .+; the scenarios folder is watched: fixing the file is enough$`);
    for (const path of ['/execsvcscriptplain?name=Echo2', '/execsvcscriptplain?name=Echo2&async=1']) {
      const r = await call(path);
      assert.equal(r.status, 500, path);
      assert.equal(r.start, '-1', path);
      assert.match(r.text, expected, path);
      assert.doesNotMatch(r.text, /unknown|did you mean/, path);
    }
    const xml = await call('/execsvcscript?name=Echo2&async=1');
    assert.equal(xml.status, 500);
    assert.match(xml.text, /key="started" value="0" name="error"/);
    assert.match(xml.text, /key="startresult" value="-1" name="notstarted"/);
    assert.match(xml.text, /service scenario "Echo2" is invalid and cannot start: Echo2\.yaml:3:/);
    assert.deepEqual((await t.server.store.listJobs({ limit: 10 })).items, [], 'no job queued');
    assert.deepEqual((await t.server.store.listRuns({ scenario: 'Echo2' })).items, [], 'no run');
  });

  it('counts the other problems of the file, and still answers an unknown name 404 with its did-you-mean', async () => {
    const twice = await call('/execsvcscriptplain?name=Twice');
    assert.equal(twice.status, 500);
    assert.match(twice.text, /^service scenario "Twice" is invalid and cannot start: Twice\.yaml:\d+:\d+ E_\w+ .+ \(and \d+ more problems?; npx oktell-emu validate lists them\); the scenarios folder is watched/);
    const unknown = await call('/execsvcscriptplain?name=Ech');
    assert.deepEqual([unknown.status, unknown.start, unknown.text], [404, '-1', 'unknown service scenario "Ech"; did you mean "Echo"?']);
  });
});
