// The emulated Oktell web server over real HTTP: the HTTP404 hook, Basic auth, signatures, limits, the Web-API.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { signBpiumBody } from '../../adapters/bpium/signature.js';
import { AUTH, BPIUM_READ_SCENARIO, parsedLetters, postWebhook, startTestServer, taskWebhook, waitFor, type TestServer } from './server-helpers.js';

const ECHO = `description: Echoes its start parameters, for the Web-API tests.
variables: { a: string, b: string }
start: s
blocks:
  s:
    kind: InputParameter
    params: { a: 1, b: 2 }
    exits: { next: r }
  r:
    kind: ReturnValue
    values: { 1: 'Upper([a]) + "|" + [b]', 2: 201 }
`;

/** Sets its return value as Oktell writes it: an assignment to the service variable, in a Variable block. */
const SERVICE_VARIABLE = `variables: { who: string }
start: s
blocks:
  s:
    kind: Start
    param: who
    exits: { next: answer }
  answer:
    kind: Variable
    set:
      (сл) Возвращаемое значение 1: '"привет, " + [who]'
`;

describe('the web server', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ extraScenarios: { 'Echo.yaml': ECHO, 'ServiceVariable.yaml': SERVICE_VARIABLE } });
  });
  after(async () => t.cleanup());

  it("acknowledges the article's webhook with 200 at once, and the responsible employee's letter arrives over SMTP", async () => {
    const body = taskWebhook({ name: 'Согласовать договор <b>срочно</b>', description: 'Строка 1\nСтрока 2 {{ 7*7 }}', responsible: ['2'] });
    const res = await postWebhook(t.server.url, body, t.secret);
    assert.equal(res.status, 200);
    assert.ok(res.headers.get('x-oktell-run-id'));
    await waitFor('the letter', () => t.smtp!.letters.length === 1);
    const [mail] = await parsedLetters(t.smtp!);
    assert.deepEqual(t.smtp!.letters[0]!.rcptTo, ['ivan.petrov@example.com']);
    assert.equal(mail!.subject, 'Новая задача: Согласовать договор <b>срочно</b>');
    assert.match(mail!.from!.text, /oktell@example.com/);
    assert.match(mail!.text!, /Строка 1\nСтрока 2 \{\{ 7\*7 \}\}/);
    assert.ok(mail!.html && mail!.html.includes('&lt;b&gt;срочно&lt;/b&gt;'), 'HTML escapes webhook data');
    assert.ok(!String(mail!.html).includes('<b>срочно'), 'no raw HTML from the webhook');
  });

  it('a task created in the Bpium emulator reaches the server as a signed webhook and the letter is sent (the article, step 10)', async () => {
    const before = t.smtp!.letters.length;
    const emu = t.server.emulator!;
    const res = await fetch(`${emu.url}/catalogs/11/records`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${emu.login}:${emu.password}`).toString('base64')}` },
      body: JSON.stringify({ values: { '2': 'Задача из эмулятора', '3': 'Описание', '4': [{ id: '3' }] } }),
    });
    assert.equal(res.status, 200);
    await waitFor('the letter', () => t.smtp!.letters.length === before + 1);
    assert.deepEqual(t.smtp!.letters.at(-1)!.rcptTo, ['maria.smirnova@example.org']);
    await emu.settled();
    const delivery = emu.deliveries().at(-1)!;
    assert.equal(delivery.status, 200);
  });

  it('refuses missing and wrong credentials with 401 and a Basic challenge, before any scenario runs', async () => {
    for (const auth of [undefined, `Basic ${Buffer.from('bpium:wrong').toString('base64')}`, 'Bearer x']) {
      const res = await fetch(`${t.server.url}/Bpium/NewTask`, { method: 'POST', body: '{}', headers: auth ? { authorization: auth } : {} });
      assert.equal(res.status, 401);
      assert.match(res.headers.get('www-authenticate')!, /^Basic realm=/);
    }
  });

  it('accepts user:password@ credentials as a client turns them into the Authorization header', async () => {
    const u = new URL(t.server.url);
    u.username = 'bpium';
    u.password = encodeURIComponent('s3cret:pass');
    const header = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
    assert.equal(header, AUTH);
    const res = await fetch(`${t.server.url}/Other`, { headers: { authorization: header } });
    assert.equal(res.status, 404);
  });

  it('refuses a webhook with a missing or wrong X-Hook-Signature with 401 and records it; no job starts', async () => {
    const body = taskWebhook({ name: 'Подделка', responsible: ['2'] });
    const before = (await t.server.store.counts()).jobs.queued + (await t.server.store.counts()).jobs.succeeded;
    const missing = await postWebhook(t.server.url, body, undefined);
    assert.equal(missing.status, 401);
    const wrong = await postWebhook(t.server.url, body, 'not-the-secret');
    assert.equal(wrong.status, 401);
    const c = await t.server.store.counts();
    assert.equal(c.jobs.queued + c.jobs.succeeded, before);
  });

  it('answers 404 for another path, as Oktell does for an unknown resource', async () => {
    const res = await fetch(`${t.server.url}/some/unknown?x=1`, { headers: { authorization: AUTH } });
    assert.equal(res.status, 404);
    assert.equal(await res.text(), '404 Not Found\n');
  });

  it('answers 413 for a 20 MB body', async () => {
    const res = await fetch(`${t.server.url}/Bpium/NewTask`, { method: 'POST', headers: { authorization: AUTH, 'content-type': 'application/json' }, body: Buffer.alloc(20 * 1024 * 1024, 0x61) }).catch((e: Error) => e);
    assert.ok(!(res instanceof Error), `request failed: ${res instanceof Error ? res.message : ''}`);
    assert.equal((res as Response).status, 413);
  });

  it('recognises the same Bpium delivery twice and runs it once, visibly', async () => {
    const before = t.smtp!.letters.length;
    const body = taskWebhook({ name: 'Дважды', responsible: ['4'], sequenceId: 777001 });
    const first = await postWebhook(t.server.url, body, t.secret);
    const second = await postWebhook(t.server.url, body, t.secret);
    assert.equal(first.status, 200);
    assert.equal(second.status, 200);
    assert.equal(first.headers.get('x-oktell-duplicate-of'), null);
    assert.ok(second.headers.get('x-oktell-duplicate-of'));
    await waitFor('the letter', () => t.smtp!.letters.length === before + 1);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(t.smtp!.letters.length, before + 1, 'one letter only');
  });

  it('execsvcscript runs synchronously and answers with Oktell XML', async () => {
    const res = await fetch(`${t.server.url}/execsvcscript?name=Echo&startparam1=привет&startparam2=two&async=0&timeout=10`, { headers: { authorization: AUTH } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /xml/);
    const xml = await res.text();
    assert.match(xml, /<oktellxmlmapper version="\d+">/);
    assert.match(xml, /<property_simple key="started" value="1"/);
    assert.match(xml, /<property_simple key="startresult" value="0"/);
    assert.match(xml, /<property_cdata key="returnvalue"><!\[CDATA\[ПРИВЕТ\|two\]\]><\/property_cdata>/);
  });

  it('execsvcscript with async=1 answers at once and the run happens in the background', async () => {
    const res = await fetch(`${t.server.url}/execsvcscript?name=Echo&startparam1=x&async=1`, { headers: { authorization: AUTH } });
    assert.equal(res.status, 200);
    const xml = await res.text();
    assert.match(xml, /key="started" value="1"/);
    const jobId = /key="runid" value="([^"]+)"/.exec(xml)![1]!;
    const job = await waitFor('the job to finish', async () => {
      const j = await t.server.store.getJob(jobId);
      return j?.status === 'succeeded' ? j : undefined;
    });
    assert.equal(job.scenario, 'Echo');
  });

  it('execsvcscriptplain answers the return value as plain text; POST form parameters work too', async () => {
    const res = await fetch(`${t.server.url}/execsvcscriptplain`, {
      method: 'POST',
      headers: { authorization: AUTH, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name=Echo&startparam1=abc&startparam2=2',
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^text\/plain/);
    assert.equal(await res.text(), 'ABC|2');
  });

  it('execsvcscriptplain answers plain text in any letter case and with a trailing slash, as the route takes it', async () => {
    for (const path of ['/ExecSvcScriptPlain', '/EXECSVCSCRIPTPLAIN', '/execsvcscriptplain/', '/ExecSvcScriptPlain/']) {
      const res = await fetch(`${t.server.url}${path}?name=Echo&startparam1=z&startparam2=y`, { headers: { authorization: AUTH } });
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type')!, /^text\/plain/, path);
      assert.equal(await res.text(), 'Z|y', path);
    }
    const xml = await fetch(`${t.server.url}/ExecSvcScript/?name=Echo&startparam1=z`, { headers: { authorization: AUTH } });
    assert.match(xml.headers.get('content-type')!, /xml/);
    assert.match(await xml.text(), /<!\[CDATA\[Z\|\]\]>/);
  });

  it("the Web-API answers the return value a Variable block assigned by Oktell's service-variable name", async () => {
    const res = await fetch(`${t.server.url}/execsvcscriptplain?name=ServiceVariable&startparam1=${encodeURIComponent('Анна')}`, { headers: { authorization: AUTH } });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'привет, Анна');
  });

  it('execsvcscript answers 404 with started=0 for an unknown scenario and 400 without a name', async () => {
    const unknown = await fetch(`${t.server.url}/execsvcscript?name=Nope`, { headers: { authorization: AUTH } });
    assert.equal(unknown.status, 404);
    assert.match(await unknown.text(), /key="started" value="0"/);
    const noName = await fetch(`${t.server.url}/execsvcscriptplain`, { headers: { authorization: AUTH } });
    assert.equal(noName.status, 400);
  });

  it('the Web-API refuses what it does not understand instead of guessing: timeout, async, JSON bodies, a name given twice, other methods', async () => {
    const call = async (query: string, init: RequestInit = {}) => {
      const res = await fetch(`${t.server.url}/execsvcscriptplain?${query}`, { ...init, headers: { authorization: AUTH, ...(init.headers as Record<string, string>) } });
      return { status: res.status, text: await res.text(), allow: res.headers.get('allow') };
    };
    const runsBefore = (await t.server.store.listRuns({ scenario: 'Echo' })).items.length;
    for (const [query, reason] of [
      ['name=Echo&timeout=abc', /"timeout" must be a number of seconds above 0 and at most 600; got "abc"/],
      ['name=Echo&timeout=100000', /"timeout" must be/],
      ['name=Echo&timeout=', /"timeout" must be/],
      ['name=Echo&async=yes', /"async" must be 0 \(wait for the result\) or 1 \(answer at once\); got "yes"/],
      ['name=Echo&name=HTTP404', /the "name" parameter is given 2 times/],
    ] as const) {
      const r = await call(query);
      assert.equal(r.status, 400, query);
      assert.match(r.text, reason, query);
    }
    const json = await call('', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"Echo"}' });
    assert.equal(json.status, 415);
    assert.match(json.text, /in the query or as a form/);
    const del = await call('name=Echo', { method: 'DELETE' });
    assert.deepEqual([del.status, del.allow], [405, 'GET, POST']);
    const typo = await call('name=echo');
    assert.equal(typo.status, 404);
    assert.match(typo.text, /unknown service scenario "echo"; did you mean "Echo"\?/);
    assert.equal((await t.server.store.listRuns({ scenario: 'Echo' })).items.length, runsBefore, 'nothing ran');
    // What is understood still works: a fractional timeout, async=0.
    assert.equal((await call('name=Echo&timeout=0.5&async=0&startparam1=x')).status, 200);
  });

  it('the Web-API requires credentials too', async () => {
    const res = await fetch(`${t.server.url}/execsvcscript?name=Echo`);
    assert.equal(res.status, 401);
  });

  it('serves /-/health without credentials and /-/metrics with them', async () => {
    const health = await fetch(`${t.server.url}/-/health`);
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { status: string }).status, 'ok');
    assert.equal((await fetch(`${t.server.url}/-/metrics`)).status, 401);
    const metrics = await (await fetch(`${t.server.url}/-/metrics`, { headers: { authorization: AUTH } })).text();
    assert.match(metrics, /oktell_webhooks_received_total \d+/);
    assert.match(metrics, /oktell_jobs\{status="succeeded"\} \d+/);
  });

  it('stores the request with secrets redacted: no Authorization, cookie or signature in the inbox or the run', async () => {
    const body = taskWebhook({ name: 'Секреты', responsible: [] });
    const res = await fetch(`${t.server.url}/Bpium/NewTask?src=test`, {
      method: 'POST',
      headers: { authorization: AUTH, cookie: 'sid=abc', 'content-type': 'application/json; charset=utf-8', 'x-hook-signature': signBpiumBody(t.secret, body) },
      body,
    });
    assert.equal(res.status, 200);
    const run = await t.server.store.getRun(res.headers.get('x-oktell-run-id')!);
    const headers = String((run!.params as Record<string, string>)['2']);
    assert.match(headers, /authorization: \[redacted\]/i);
    assert.match(headers, /cookie: \[redacted\]/i);
    assert.match(headers, /x-hook-signature: \[redacted\]/i);
    assert.ok(!headers.includes('sid=abc') && !headers.includes(AUTH.slice(6)));
    assert.equal((run!.params as Record<string, string>)['1'], '/Bpium/NewTask?src=test');
    assert.equal((run!.params as Record<string, string>)['3'], 'POST');
    assert.equal((run!.params as Record<string, string>)['5'], 'valid');
  });
});

describe('the web server, configured', () => {
  it('the hook mapping is configurable: another scenario, other parameter numbers, other return values', async () => {
    const custom = `variables: { m: string, a: string }
start: s
blocks:
  s:
    kind: InputParameter
    params: { m: 1, a: 3 }
    exits: { next: r }
  r:
    kind: ReturnValue
    values: { 5: 202, 6: '[m] + " " + [a]', 7: '"text/x-oktell"' }
`;
    const t = await startTestServer({
      smtp: false,
      extraScenarios: { 'Custom.yaml': custom },
      config: 'hook:\n  scenario: Custom\n  params: { method: 1, headers: 2, address: 3, body: 4 }\n  returns: { status: 5, body: 6, contentType: 7 }\n',
    });
    try {
      const res = await fetch(`${t.server.url}/any/where?q=1`, { method: 'PUT', headers: { authorization: AUTH }, body: 'x' });
      assert.equal(res.status, 202);
      assert.match(res.headers.get('content-type')!, /^text\/x-oktell/);
      assert.equal(await res.text(), 'PUT /any/where?q=1');
    } finally {
      await t.cleanup();
    }
  });

  it('execsvcscript answers startresult 2 (still running) when the sync wait times out, and the run finishes anyway', async () => {
    const t = await startTestServer({ smtp: false, extraScenarios: { 'Slow.yaml': BPIUM_READ_SCENARIO } });
    try {
      t.server.emulator!.injectFaults({ delayMs: 1500, times: 1, pathPrefix: '/api/v1/catalogs/3/records/2' });
      const res = await fetch(`${t.server.url}/execsvcscript?name=Slow&timeout=0.3`, { headers: { authorization: AUTH } });
      assert.equal(res.status, 200);
      const xml = await res.text();
      assert.match(xml, /key="startresult" value="2"/);
      const runId = res.headers.get('x-oktell-run-id')!;
      const run = await waitFor('the slow run to be recorded', () => t.server.store.getRun(runId), 10_000);
      assert.equal(run.status, 'completed');
      assert.deepEqual(run.returnValues, { '1': 'ivan.petrov@example.com' });
    } finally {
      await t.cleanup();
    }
  });
});
