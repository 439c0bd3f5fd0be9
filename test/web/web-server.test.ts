// WebRequest under the server: the delivery path builds the web port, and a job retried after an outage does not
// send again the POST its first attempt already made (the answer is replayed from the effect journal).
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildPorts } from '../../adapters/ports.js';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioLibrary, randomIds } from '../../engine/index.js';
import { performDryRun } from '../../server/console/dry-run.js';
import { spawnSync } from 'node:child_process';
import { caseFromRun } from '../../cli/testing/from-run.js';
import { testFileText } from '../../cli/testing/write-case.js';
import { loadServerConfig } from '../../server/config.js';
import { repoPath, tempDir } from '../helpers.js';
import { AUTH, startTestServer, waitFor } from '../server/server-helpers.js';

describe('WebRequest through the server', () => {
  it('a job whose second request meets a 503 is retried, and its first POST is not repeated', async () => {
    const seen: Array<{ path: string; key?: string; status: number }> = [];
    let confirmations = 0;
    const gateway = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const path = req.url!;
        const status = path === '/api/messages' ? 201 : ++confirmations === 1 ? 503 : 200;
        seen.push({ path, status, key: req.headers['idempotency-key'] as string | undefined });
        res.writeHead(status, { 'content-type': 'application/json' }).end(status === 201 ? '{"id":"m-5"}' : '{}');
      });
    });
    await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', r));
    const gw = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
    const t = await startTestServer({
      smtp: false,
      config: 'workers: { baseDelayMs: 50, maxDelayMs: 100 }\n',
      env: { WEB_REQUEST_ATTEMPTS: '1', WEB_REQUEST_ALLOW_HOSTS: '127.0.0.1' },
      extraScenarios: {
        'WebFlow.yaml': `variables: { gw: { type: string, initial: "${gw}" }, answer: string }
start: send
blocks:
  send:
    kind: WebRequest
    method: POST
    url: '[gw] + "/api/messages"'
    json: { to: InputParameter(1) }
    idempotencyKey: true
    responseBody: answer
    exits: { success: confirm }
  confirm:
    kind: WebRequest
    method: POST
    url: '[gw] + "/api/confirm"'
    body: '[answer]'
    contentType: application/json
    exits: { success: done }
  done:
    kind: ReturnValue
    values: { 1: '"done"' }
`,
      },
    });
    try {
      const res = await fetch(`${t.server.url}/execsvcscriptplain?name=WebFlow&startparam1=%2B79001234567&async=1`, { headers: { authorization: AUTH } });
      assert.equal(res.status, 200, await res.text());
      await waitFor('the confirmation to succeed on the job\'s second attempt', () => seen.some((s) => s.path === '/api/confirm' && s.status === 200));
      assert.deepEqual(seen.map((s) => `${s.path} ${s.status}`), ['/api/messages 201', '/api/confirm 503', '/api/confirm 200']);
      assert.match(seen[0]!.key ?? '', /^[0-9a-f-]{36}$/);
      // The console's page of the successful attempt lists its web requests: the POST replayed, the confirmation sent.
      const run = await waitFor('the completed run', async () => (await t.server.store.listRuns({ scenario: 'WebFlow', status: 'completed' })).items[0]);
      const html = await (await fetch(`${t.server.url}/-/console/runs/${run.id}`, { headers: { authorization: AUTH } })).text();
      const section = html.slice(html.indexOf('<h2>Web requests</h2>'));
      assert.ok(section.length < html.length, 'the page has a Web requests panel');
      assert.match(section, new RegExp(`<code>send</code></td><td>POST <code>${gw}/api/messages</code></td>\\s*<td><span class="badge st-dry-run">replayed</span> HTTP 201`));
      assert.match(section, /<code>confirm<\/code><\/td><td>POST <code>[^<]+\/api\/confirm<\/code><\/td>\s*<td><span class="badge st-completed">ok<\/span> HTTP 200/);
      // The run becomes a test case whose fixtures are the answers it got, and the case passes without the gateway.
      const recorded = await caseFromRun(t.server.store, run.id, { timeZone: 'UTC' });
      assert.deepEqual(recorded.case.http, [
        { match: `POST ${gw}/api/messages`, status: 201, body: '{"id":"m-5"}', headers: { 'content-type': 'application/json' } },
        { match: `POST ${gw}/api/confirm`, status: 200, body: '{}', headers: { 'content-type': 'application/json' } },
      ]);
      const testFile = join(t.scenariosDir, 'tests', 'recorded.test.yaml');
      writeFileSync(testFile, testFileText(recorded.case));
      const env: NodeJS.ProcessEnv = { ...process.env, BPIUM_URL: '', SMTP_URL: '', NO_COLOR: '1' };
      delete env.OKTELL_SCENARIOS;
      const r = spawnSync(process.execPath, [repoPath('bin', 'oktell-emu.js'), 'test', testFile], { encoding: 'utf8', env, timeout: 60_000 });
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /1 passed, 0 failed/);
    } finally {
      await t.cleanup();
      gateway.closeAllConnections();
      await new Promise((r) => gateway.close(r));
    }
  });
});

describe('webRequest settings in oktell.config.yaml', () => {
  const refusing = `variables: { code: string }
start: send
blocks:
  send:
    kind: WebRequest
    method: POST
    url: InputParameter(1)
    body: '"hello"'
    errorCode: code
    exits: { success: sent, error: refused }
  sent: { kind: ReturnValue, values: { 1: '"sent"' } }
  refused: { kind: ReturnValue, values: { 1: '"refused " + [code]' } }
`;

  it('a server whose config file allows one host refuses any other, in the request and in the delivery thread', async () => {
    let requests = 0;
    const gateway = createServer((req, res) => {
      requests++;
      req.resume();
      res.writeHead(200).end('{}');
    });
    await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', r));
    const gw = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}/send`;
    const t = await startTestServer({ smtp: false, config: 'webRequest:\n  allowHosts: [sms.example.ru, "*.example.org"]\n', extraScenarios: { 'Refusing.yaml': refusing } });
    try {
      assert.deepEqual(t.server.config.webRequest, { allowHosts: ['sms.example.ru', '*.example.org'] });
      // Run while the request waits (the server's own ports).
      const sync = await fetch(`${t.server.url}/execsvcscriptplain?name=Refusing&startparam1=${encodeURIComponent(gw)}`, { headers: { authorization: AUTH } });
      assert.equal(await sync.text(), 'refused HTTP_HOST_REFUSED');
      // Run as a job (the delivery thread builds its own ports from DeliveryInit).
      const res = await fetch(`${t.server.url}/execsvcscriptplain?name=Refusing&startparam1=${encodeURIComponent(gw)}&async=1`, { headers: { authorization: AUTH } });
      assert.equal(res.status, 200, await res.text());
      const run = await waitFor('the job\'s run', async () => (await t.server.store.listRuns({ scenario: 'Refusing', status: 'completed' })).items.find((r) => r.jobId !== null));
      assert.deepEqual((await t.server.store.getRun(run.id))?.returnValues, { 1: 'refused HTTP_HOST_REFUSED' });
      assert.equal(requests, 0, 'no request reached the host outside the allow-list');
    } finally {
      await t.cleanup();
      gateway.closeAllConnections();
      await new Promise((r) => gateway.close(r));
    }
  });

  it('WEB_REQUEST_* win over the file; sizes may be written as 64kb', () => {
    const tmp = tempDir();
    try {
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), 'webRequest: { allowHosts: [a.example.ru], maxResponseBytes: 64kb }\n');
      assert.deepEqual(loadServerConfig({}, {}, tmp.dir).webRequest, { allowHosts: ['a.example.ru'], maxResponseBytes: 65536 });
      const env = { WEB_REQUEST_ALLOW_HOSTS: 'b.example.ru, c.example.ru', WEB_REQUEST_MAX_RESPONSE_BYTES: '100' };
      assert.deepEqual(loadServerConfig({}, env, tmp.dir).webRequest, { allowHosts: ['b.example.ru', 'c.example.ru'], maxResponseBytes: 100 });
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), 'webRequest: { allowHost: [a.example.ru] }\n');
      assert.throws(() => loadServerConfig({}, {}, tmp.dir), /^ConfigError: oktell\.config\.yaml:1:15: unknown key "allowHost" at webRequest \(did you mean "allowHosts"\?\)/);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('WebRequest in the console\'s dry run', () => {
  it('reads with a GET and records the POST without sending it', async () => {
    const seen: string[] = [];
    const service = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.writeHead(200).end('{"count":3}');
    });
    await new Promise<void>((r) => service.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(service.address() as AddressInfo).port}`;
    const tmp = tempDir();
    const built = buildPorts({ env: {}, dataDir: tmp.dir, templates: { render: () => ({}) }, ids: randomIds, noMail: true });
    try {
      writeFileSync(join(tmp.dir, 'ReadWrite.yaml'), `variables: { count: string }
start: read
blocks:
  read: { kind: WebRequest, url: '"${url}/count"', responseBody: count, exits: { success: write } }
  write: { kind: WebRequest, method: POST, url: '"${url}/write"', body: '[count]' }
`);
      const lib = await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry });
      assert.deepEqual(lib.issues, []);
      const r = await performDryRun(lib, 'ReadWrite', {}, built.ports, 'UTC');
      assert.equal(r.status, 'completed', JSON.stringify(r.error));
      assert.deepEqual(seen, ['GET /count']);
      assert.deepEqual(r.httpCalls?.map((c) => [c.method, c.outcome, c.performed]), [['GET', 'ok', true], ['POST', 'dry-run', false]]);
    } finally {
      await built.close();
      service.closeAllConnections();
      await new Promise((r) => service.close(r));
      tmp.cleanup();
    }
  });
});
