// A web request the client refuses before sending anything (a host outside WEB_REQUEST_ALLOW_HOSTS, a link-local
// address) takes the same exit with the same code in a dry run as live, whatever its method; both show it as
// "(not sent)", and nothing reaches the service: a real server on loopback counts the requests that arrive.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCliAsync } from '../cli/cli.helper.js';
import { AUTH, csrfToken, get, startConsoleServer } from '../console/console-helpers.js';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
type Method = (typeof METHODS)[number];

/** `Call_<METHOD>`: one request to the URL in input parameter 1; the return value names the exit and the code. */
function callScenario(method: Method): string {
  return `variables: { url: string, answer: number, code: string }
start: begin
blocks:
  begin: { kind: Start, param: url, exits: { next: call } }
  call:
    kind: WebRequest
    method: ${method}
    url: '[url]'
    status: answer
    errorCode: code
    exits: { success: ok, error: refused, timeout: later }
  ok: { kind: ReturnValue, values: { 1: '"success " + [answer]' } }
  refused: { kind: ReturnValue, values: { 1: '"error " + [code]' } }
  later: { kind: ReturnValue, values: { 1: '"timeout " + [code]' } }
`;
}

/** A loopback server that answers 200 and counts what reaches it. */
async function countingServer(): Promise<{ server: Server; base: string; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const NOT_ALLOWED = /127\.0\.0\.1 is not in the hosts web requests may reach \(webRequest\.allowHosts \/ WEB_REQUEST_ALLOW_HOSTS\)/;
const LINK_LOCAL = /\S+ is a link-local address \(cloud metadata services live there\): refused unless .* is listed in webRequest\.allowHosts/;

interface Case {
  name: string;
  method: Method;
  url: (base: string) => string;
  allowHosts?: string;
  /** The refusal's message; undefined: the request is allowed (the control case). */
  refusal?: RegExp;
  /**
   * The dry run with `--http-fixtures` whose fixture would answer the request: it stands for the service, not the
   * settings (a live run takes no fixtures).
   */
  fixture?: boolean;
}

const CASES: Case[] = [
  { name: 'a POST to a host outside the allow-list', method: 'POST', url: (b) => `${b}/api/messages`, allowHosts: 'chat.example.ru', refusal: NOT_ALLOWED },
  { name: 'a PUT to a host outside a *. pattern', method: 'PUT', url: (b) => `${b}/x`, allowHosts: '*.example.ru', refusal: NOT_ALLOWED },
  { name: 'a PATCH to the cloud metadata address, no allow-list', method: 'PATCH', url: () => 'http://169.254.169.254/latest/meta-data', refusal: LINK_LOCAL },
  { name: 'a DELETE to the metadata address written as IPv4-mapped IPv6', method: 'DELETE', url: () => 'http://[::ffff:169.254.169.254]/x', refusal: LINK_LOCAL },
  { name: 'a POST to the metadata address with an allow-list that does not name it', method: 'POST', url: () => 'http://169.254.169.254/x', allowHosts: 'chat.example.ru', refusal: /169\.254\.169\.254 is not in the hosts/ },
  { name: 'a GET to a host outside the allow-list', method: 'GET', url: (b) => `${b}/prices`, allowHosts: 'chat.example.ru', refusal: NOT_ALLOWED },
  { name: 'a POST outside the allow-list that an --http-fixtures fixture would answer', method: 'POST', url: (b) => `${b}/api/messages`, allowHosts: 'chat.example.ru', refusal: NOT_ALLOWED, fixture: true },
];

describe('a request refused before sending: the dry run takes the live run\'s exit, and nothing is sent', () => {
  let svc: Awaited<ReturnType<typeof countingServer>>;
  const tmp = tempDir();
  const scenarios = join(tmp.dir, 'scenarios');
  before(async () => {
    svc = await countingServer();
    mkdirSync(scenarios);
    for (const m of METHODS) writeFileSync(join(scenarios, `Call_${m}.yaml`), callScenario(m));
    writeFileSync(join(tmp.dir, 'http.yaml'), '- match: "* http://127.0.0.1:*"\n  status: 201\n');
  });
  after(() => {
    svc.server.close();
    tmp.cleanup();
  });

  const run = (c: Case, mode: 'live' | 'dry') =>
    runCliAsync(['run', `Call_${c.method}`, '-s', scenarios, '-p', `1=${c.url(svc.base)}`, '--data-dir', join(tmp.dir, `data-${mode}`), ...(mode === 'dry' ? ['--dry-run'] : []), ...(c.fixture && mode === 'dry' ? ['--http-fixtures', 'http.yaml'] : [])], {
      cwd: tmp.dir,
      env: { WEB_REQUEST_ALLOW_HOSTS: c.allowHosts ?? '', WEB_REQUEST_ATTEMPTS: '1' },
      unset: ['OKTELL_SCENARIOS'],
      timeoutMs: 60_000,
    });

  for (const c of CASES) {
    it(`${c.name}: error exit with HTTP_HOST_REFUSED, "(not sent)", live and dry alike`, { timeout: 120_000 }, async () => {
      const before = svc.seen.length;
      const [live, dry] = await Promise.all([run(c, 'live'), run(c, 'dry')]);
      for (const [mode, r] of [['live', live], ['dry', dry]] as const) {
        const what = `${mode}: ${r.stdout}${r.stderr}`;
        assert.equal(r.code, 0, what);
        assert.match(r.stdout, /return values 1="error HTTP_HOST_REFUSED"/, what);
        assert.match(r.stdout, / call WebRequest → error code="HTTP_HOST_REFUSED"/, what);
        const line = r.stdout.split('\n').find((l) => l.trimStart().startsWith(`http ${c.method} `));
        assert.ok(line, what);
        assert.match(line, new RegExp(`→ — error \\(not sent\\) ${c.refusal!.source}`), what);
        assert.doesNotMatch(r.stdout, /no answer|dry-run \(not sent\)/, what);
      }
      // `show` of the recorded live run (made from its stored trace) marks the request the same way.
      const runId = /run ([0-9a-hjkmnp-tv-z]{26})/.exec(live.stdout)![1]!;
      const shown = await runCliAsync(['show', runId, '--data-dir', join(tmp.dir, 'data-live')], { cwd: tmp.dir, unset: ['OKTELL_SCENARIOS'], timeoutMs: 60_000 });
      assert.equal(shown.code, 0, shown.stdout + shown.stderr);
      assert.match(shown.stdout, new RegExp(`http ${c.method} \\S+ → — error \\(not sent\\) ${c.refusal!.source}`), shown.stdout);
      // The same lines, but for the run id: the dry run shows what the live run does.
      const steps = (out: string) => out.split('\n').filter((l) => !/run [0-9a-hjkmnp-tv-z]{26}|recorded in/.test(l)).join('\n');
      assert.equal(steps(dry.stdout), steps(live.stdout));
      assert.deepEqual(svc.seen.slice(before), [], 'nothing reached the service');
    });
  }

  it('the control: an allowed POST is answered 200 by the dry run without being sent, and reaches the service live', { timeout: 120_000 }, async () => {
    const c: Case = { name: 'allowed', method: 'POST', url: (b) => `${b}/api/messages`, allowHosts: '127.0.0.1' };
    const before = svc.seen.length;
    const dry = await run(c, 'dry');
    assert.equal(dry.code, 0, dry.stdout + dry.stderr);
    assert.match(dry.stdout, /return values 1="success 200"/);
    assert.match(dry.stdout, /http POST http:\/\/127\.0\.0\.1:\d+\/api\/messages → 200 dry-run \(not sent\)/);
    assert.deepEqual(svc.seen.slice(before), [], 'the dry run sent nothing');
    const live = await run(c, 'live');
    assert.equal(live.code, 0, live.stdout + live.stderr);
    assert.match(live.stdout, /return values 1="success 200"/);
    assert.deepEqual(svc.seen.slice(before), ['POST /api/messages'], 'the live run reached the service once');
  });
});

describe('the console: a refused POST in the dry-run form and in a live run', () => {
  let svc: Awaited<ReturnType<typeof countingServer>>;
  let t: Awaited<ReturnType<typeof startConsoleServer>>;
  before(async () => {
    svc = await countingServer();
    t = await startConsoleServer({ 'Call_POST.yaml': callScenario('POST') }, { WEB_REQUEST_ALLOW_HOSTS: 'chat.example.ru', WEB_REQUEST_ATTEMPTS: '1' });
  });
  after(async () => {
    await t?.cleanup();
    svc.server.close();
  });

  it('both take the error exit with HTTP_HOST_REFUSED and show the request "(not sent)"; the service sees nothing', { timeout: 30_000 }, async () => {
    const url = `${svc.base}/api/messages`;
    const csrf = await csrfToken(t.base);
    const res = await fetch(`${t.base}/dry-run`, {
      method: 'POST',
      headers: { authorization: AUTH, 'content-type': 'application/x-www-form-urlencoded', origin: t.server.url },
      body: new URLSearchParams({ csrf, scenario: 'Call_POST', mode: 'params', p1: url }).toString(),
      redirect: 'manual',
    });
    assert.equal(res.status, 303);
    const dryHtml = await (await get(new URL(res.headers.get('location')!, t.server.url).toString())).text();
    const live = await fetch(`${t.server.url}/execsvcscript?name=Call_POST&startparam1=${encodeURIComponent(url)}`, { headers: { authorization: AUTH } });
    assert.equal(live.status, 200, await live.clone().text());
    const liveHtml = await (await get(`${t.base}/runs/${live.headers.get('x-oktell-run-id')}`)).text();
    for (const [mode, html] of [['dry', dryHtml], ['live', liveHtml]] as const) {
      assert.match(html, /error HTTP_HOST_REFUSED/, mode);
      assert.match(html, /\(not sent\)<\/span><div class="error-text">127\.0\.0\.1 is not in the hosts web requests may reach/, mode);
      assert.doesNotMatch(html, /\(no answer\)|>dry-run</, mode);
    }
    assert.deepEqual(svc.seen, [], 'nothing reached the service');
  });
});
