// Canned answers for WebRequest blocks: `run --http-fixtures`, `http:` in scenario test files, and the fixture port
// in front of the real client (a GET no fixture matches still reaches a real server on 127.0.0.1).
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createFixtureWeb } from '../../adapters/fixtures/http-fixtures.adapter.js';
import { createWebClient } from '../../adapters/web/client.js';
import { defaultRegistry } from '../../components/registry.js';
import { createInProcessStarter, loadScenarioLibrary, outlineOfText, randomIds, runScenario, systemClock, type RunResult } from '../../engine/index.js';
import { repoPath, tempDir } from '../helpers.js';
import { runCli, runCliAsync } from '../cli/cli.helper.js';

/** The SMS example of docs/scenario-format.md, plus a scenario that reads a price list with a GET. */
function scenarios(dir: string) {
  const doc = readFileSync(repoPath('docs', 'scenario-format.md'), 'utf8');
  writeFileSync(join(dir, 'SmsNotify.yaml'), /```yaml\n# file: SmsNotify\.yaml\n([\s\S]*?)```/.exec(doc)![1]!);
  writeFileSync(
    join(dir, 'Prices.yaml'),
    `variables: { base: { type: string, initial: "https://prices.example.ru" }, body: string, code: string }
start: read
blocks:
  read:
    kind: WebRequest
    url: '[base] + "/prices"'
    query: { city: '"Москва"' }
    responseBody: body
    errorCode: code
    exits: { success: done, error: failed }
  done: { kind: ReturnValue, values: { 1: '[body]' } }
  failed: { kind: ReturnValue, values: { 1: '"failed: " + [code]' } }
`,
  );
}

/**
 * `<dir>/scenarios` with Prices and a test file whose cases each have a fixture for their request and expect the
 * fixture's answer, as a case written without the server's settings in mind would.
 */
function hostCases(dir: string, cases: ReadonlyArray<{ name: string; base: string }>): void {
  const scenariosDir = join(dir, 'scenarios');
  mkdirSync(join(scenariosDir, 'tests'), { recursive: true });
  scenarios(scenariosDir);
  writeFileSync(
    join(scenariosDir, 'tests', 'hosts.test.yaml'),
    `cases:\n${cases.map((c) => `  - name: ${c.name}\n    scenario: Prices\n    variables: { base: "${c.base}" }\n    http: [ { match: "GET ${c.base}/prices*", json: { milk: 90 } } ]\n    expect:\n      returnValues: { 1: '{"milk":90}' }\n`).join('')}`,
  );
}

const HOST_CASES = [
  { name: 'a listed host', base: 'https://prices.example.ru' },
  { name: 'a host the list leaves out', base: 'https://prices.example.com' },
  { name: 'cloud metadata', base: 'http://169.254.169.254' },
];

const cli = (args: string[], cwd: string) => runCli(args, { cwd, unset: ['OKTELL_SCENARIOS'], timeoutMs: 60_000 });

describe('HTTP fixtures', () => {
  it('run --dry-run --http-fixtures: the POST is answered by the fixture and not sent', () => {
    const tmp = tempDir();
    try {
      mkdirSync(join(tmp.dir, 'scenarios'));
      scenarios(join(tmp.dir, 'scenarios'));
      // The fixture file docs/scenario-format.md gives for this example, as the page writes it.
      const doc = readFileSync(repoPath('docs', 'scenario-format.md'), 'utf8');
      writeFileSync(join(tmp.dir, 'http.yaml'), /fixture file \(`sms\.yaml`[\s\S]*?```yaml\n([\s\S]*?)```/.exec(doc)![1]!);
      const r = cli(['run', 'SmsNotify', '-p', '1=+79001234567', '-p', '2=Привет', '--dry-run', '--json', '--http-fixtures', 'http.yaml'], tmp.dir);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const out = JSON.parse(r.stdout) as RunResult;
      assert.equal(out.returnValues['1'], 'sent m-1', 'the return value the page promises');
      assert.deepEqual(out.httpCalls?.map((c) => [c.method, c.url, c.status, c.outcome, c.performed]), [['POST', 'https://sms.example.ru/api/messages', 201, 'dry-run', false]]);
      const bad = cli(['run', 'SmsNotify', '--dry-run', '--http-fixtures', 'missing.yaml'], tmp.dir);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--http-fixtures missing\.yaml: .*\nmissing\.yaml:1:1 E_READ_FAILED cannot read the HTTP fixture file: ENOENT/);
    } finally {
      tmp.cleanup();
    }
  });

  it('oktell-emu test: cases answer web requests from http fixtures (inline or a file) and check httpCalls', () => {
    const tmp = tempDir();
    try {
      const dir = join(tmp.dir, 'scenarios');
      mkdirSync(join(dir, 'tests'), { recursive: true });
      scenarios(dir);
      writeFileSync(join(dir, 'tests', 'prices.yaml'), `- match: GET https://prices.example.ru/prices?city=*\n  json: { milk: 90 }\n`);
      writeFileSync(
        join(dir, 'tests', 'web.test.yaml'),
        `cases:
  - name: the gateway takes the SMS
    scenario: SmsNotify
    params: { 1: "+79001234567", 2: Привет }
    http:
      - match: POST https://sms.example.ru/api/messages
        status: 201
        json: { id: m-1 }
    expect:
      returnValues: { 1: sent m-1 }
      httpCalls: [ { method: POST, url: https://sms.example.ru/api/messages, status: 201, outcome: dry-run, performed: false } ]
  - name: the gateway refuses
    scenario: SmsNotify
    params: { 1: "0", 2: x }
    http: [ { match: POST *, status: 400, body: bad phone } ]
    expect:
      returnValues: { 1: "refused: 400" }
  - name: no fixture, no answer for the POST, the documented default
    scenario: SmsNotify
    params: { 1: "1", 2: x }
    expect:
      path: [begin, send, readId]
      httpCalls: [ { status: 200, outcome: dry-run } ]
  - name: a GET is answered by a fixture file
    scenario: Prices
    http: prices.yaml
    expect:
      returnValues: { 1: '{"milk":90}' }
  - name: a GET no fixture matches never reaches the network
    scenario: Prices
    http: [ { match: GET https://elsewhere.example/*, fail: timeout } ]
    expect:
      returnValues: { 1: "failed: HTTP_NO_FIXTURE" }
`,
      );
      const r = cli(['test'], tmp.dir);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /5 passed, 0 failed/);
      // A changed expectation fails, naming the field.
      const file = join(dir, 'tests', 'web.test.yaml');
      writeFileSync(file, readFileSync(file, 'utf8').replace('status: 201, outcome', 'status: 202, outcome'));
      const failed = cli(['test'], tmp.dir);
      assert.equal(failed.code, 1);
      assert.match(failed.stdout, /httpCalls\[0\]\.status: expected 202 got 201/);
    } finally {
      tmp.cleanup();
    }
  });

  it('oktell-emu test refuses, fixture or not, what the server would refuse before sending: a host outside WEB_REQUEST_ALLOW_HOSTS, a link-local address', () => {
    const tmp = tempDir();
    try {
      hostCases(tmp.dir, HOST_CASES);
      const listed = runCli(['test', '--json'], { cwd: tmp.dir, unset: ['OKTELL_SCENARIOS'], env: { WEB_REQUEST_ALLOW_HOSTS: '*.example.ru' }, timeoutMs: 60_000 });
      assert.equal(listed.code, 1, listed.stdout + listed.stderr);
      const byName = new Map((JSON.parse(listed.stdout) as { cases: { name: string; status: string }[] }).cases.map((c) => [c.name, c]));
      assert.deepEqual([...byName.values()].map((c) => [c.name, c.status]), [['a listed host', 'passed'], ['a host the list leaves out', 'failed'], ['cloud metadata', 'failed']]);
      assert.match(JSON.stringify(byName.get('a host the list leaves out')), /failed: HTTP_HOST_REFUSED/);
      assert.match(JSON.stringify(byName.get('cloud metadata')), /failed: HTTP_HOST_REFUSED/);
      // Without a list the server reaches any host but link-local ones: so does the test.
      const open = runCli(['test'], { cwd: tmp.dir, unset: ['OKTELL_SCENARIOS', 'WEB_REQUEST_ALLOW_HOSTS'], timeoutMs: 60_000 });
      assert.equal(open.code, 1, open.stdout + open.stderr);
      assert.match(open.stdout, /2 passed, 1 failed/);
      assert.match(open.stdout, /cloud metadata[\s\S]*HTTP_HOST_REFUSED/);
    } finally {
      tmp.cleanup();
    }
  });

  // The allow-list `serve` would use: WEB_REQUEST_ALLOW_HOSTS over `webRequest.allowHosts` of the configuration file
  // (--config, else OKTELL_CONFIG, else ./oktell.config.yaml). Each row lists the cases that pass; the others fail
  // with HTTP_HOST_REFUSED although their fixture would answer.
  const configured: Array<{ name: string; files: Record<string, string>; args?: string[]; env?: Record<string, string>; passed: string[] }> = [
    { name: './oktell.config.yaml', files: { 'oktell.config.yaml': 'webRequest: { allowHosts: ["*.example.ru"] }\n' }, passed: ['a listed host'] },
    {
      name: '--config naming another file',
      files: { 'oktell.config.yaml': 'webRequest: { allowHosts: ["*.example.ru"] }\n', 'other.yaml': 'webRequest:\n  allowHosts: ["*.example.com"]\n' },
      args: ['--config', 'other.yaml'],
      passed: ['a host the list leaves out'],
    },
    { name: 'OKTELL_CONFIG', files: { 'other.yaml': 'webRequest: { allowHosts: [prices.example.com] }\n' }, env: { OKTELL_CONFIG: 'other.yaml' }, passed: ['a host the list leaves out'] },
    { name: 'the metadata address listed exactly in the file', files: { 'oktell.config.yaml': 'webRequest: { allowHosts: ["*.example.ru", 169.254.169.254] }\n' }, passed: ['a listed host', 'cloud metadata'] },
    {
      name: 'WEB_REQUEST_ALLOW_HOSTS over the file, as serve reads it',
      files: { 'oktell.config.yaml': 'webRequest: { allowHosts: ["*.example.ru"] }\n' },
      env: { WEB_REQUEST_ALLOW_HOSTS: '*.example.com' },
      passed: ['a host the list leaves out'],
    },
  ];
  for (const row of configured) {
    it(`oktell-emu test takes the web allow-list as serve does: ${row.name}`, () => {
      const tmp = tempDir();
      try {
        hostCases(tmp.dir, HOST_CASES);
        for (const [name, text] of Object.entries(row.files)) writeFileSync(join(tmp.dir, name), text);
        const r = runCli(['test', '--json', ...(row.args ?? [])], { cwd: tmp.dir, unset: ['OKTELL_SCENARIOS', 'OKTELL_CONFIG', 'WEB_REQUEST_ALLOW_HOSTS'].filter((v) => !row.env?.[v]), env: row.env ?? {}, timeoutMs: 60_000 });
        assert.equal(r.code, 1, r.stdout + r.stderr);
        const cases = (JSON.parse(r.stdout) as { cases: { name: string; status: string }[] }).cases;
        assert.deepEqual(cases.map((c) => [c.name, c.status]), HOST_CASES.map((c) => [c.name, row.passed.includes(c.name) ? 'passed' : 'failed']));
        for (const c of cases.filter((c) => c.status === 'failed')) assert.match(JSON.stringify(c), /failed: HTTP_HOST_REFUSED/, c.name);
      } finally {
        tmp.cleanup();
      }
    });
  }

  it('a fixture in front of the real client: matched requests are answered, others reach the server', async () => {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.writeHead(200).end('{"milk":100}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const tmp = tempDir();
    const client = createWebClient();
    try {
      scenarios(tmp.dir);
      const lib = await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry });
      assert.deepEqual(lib.issues, []);
      const ports = (fixtures: Parameters<typeof createFixtureWeb>[0]) => ({
        web: createFixtureWeb(fixtures, client),
        clock: systemClock,
        ids: randomIds,
        asyncStarter: createInProcessStarter(randomIds, () => Promise.reject(new Error('none'))),
      });
      const real = await runScenario(lib, 'Prices', { dryRun: true, variables: { base }, ports: ports([{ match: 'POST *', status: 500 }]) });
      assert.equal(real.returnValues['1'], '{"milk":100}');
      assert.deepEqual(seen, ['GET /prices?city=%D0%9C%D0%BE%D1%81%D0%BA%D0%B2%D0%B0']);
      const canned = await runScenario(lib, 'Prices', { dryRun: true, variables: { base }, ports: ports([{ match: `GET ${base}/prices`, fail: 'network' }]) });
      assert.equal(canned.status, 'failed', 'a network failure with timeout unwired fails the run as retryable');
      assert.equal(canned.error?.retryable, true);
      assert.equal(seen.length, 1);
    } finally {
      client.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      tmp.cleanup();
    }
  });
});

describe('HTTP fixtures answer as the live service does', () => {
  /** A POST with every answer variable; each exit returns its name. */
  const POST = `variables: { base: { type: string, initial: "https://shop.example" }, st: number, body: string, hd: string, err: string }
start: call
blocks:
  call:
    kind: WebRequest
    method: POST
    url: '[base] + "/orders"'
    json: { item: 1 }
    status: st
    responseBody: body
    responseHeaders: hd
    errorCode: err
    exits: { success: ok, error: bad, timeout: slow }
  ok: { kind: ReturnValue, values: { 1: '"success"' } }
  bad: { kind: ReturnValue, values: { 1: '"error"' } }
  slow: { kind: ReturnValue, values: { 1: '"timeout"' } }
`;
  const shown = (r: RunResult) => [r.returnValues['1'], r.variables.st, r.variables.body, r.variables.hd ? (JSON.parse(String(r.variables.hd)) as Record<string, string>)['x-trace'] : r.variables.hd, r.variables.err];

  it('a fixture with status 500 sets the variables a live 500 sets after the retries: dry run, --http-fixtures and test files', async () => {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(500, { 'content-type': 'text/plain', 'x-trace': 't-1' }).end('boom'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const tmp = tempDir();
    const client = createWebClient({ retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 } });
    try {
      const dir = join(tmp.dir, 'scenarios');
      mkdirSync(join(dir, 'tests'), { recursive: true });
      writeFileSync(join(dir, 'Orders.yaml'), POST);
      const lib = await loadScenarioLibrary(dir, { registry: defaultRegistry });
      assert.deepEqual(lib.issues, []);
      const ports = (web: Parameters<typeof runScenario>[2]['ports']['web']) => ({ web, clock: systemClock, ids: randomIds, asyncStarter: createInProcessStarter(randomIds, () => Promise.reject(new Error('none'))) });
      const live = await runScenario(lib, 'Orders', { variables: { base }, ports: ports(client) });
      assert.deepEqual(shown(live), ['timeout', 500, 'boom', 't-1', '500']);
      const fixture = { match: 'POST */orders', status: 500, body: 'boom', headers: { 'X-Trace': 't-1' } };
      const dry = await runScenario(lib, 'Orders', { dryRun: true, variables: { base }, ports: ports(createFixtureWeb([fixture])) });
      assert.deepEqual(shown(dry), shown(live));
      // The same through the command line: run --dry-run --http-fixtures, and a case of a test file.
      writeFileSync(join(tmp.dir, 'http.yaml'), `- match: POST */orders\n  status: 500\n  body: boom\n  headers: { X-Trace: t-1 }\n`);
      const r = cli(['run', 'Orders', '--dry-run', '--json', '--http-fixtures', 'http.yaml'], tmp.dir);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.deepEqual(shown(JSON.parse(r.stdout) as RunResult), shown(live));
      writeFileSync(
        join(dir, 'tests', 'orders.test.yaml'),
        `cases:
  - name: the service is down
    scenario: Orders
    http: [ { match: POST */orders, status: 500, body: boom } ]
    expect:
      returnValues: { 1: timeout }
      variables: { st: 500, body: boom, err: "500" }
`,
      );
      const t = cli(['test'], tmp.dir);
      assert.equal(t.code, 0, t.stdout + t.stderr);
      assert.match(t.stdout, /1 passed, 0 failed/);
    } finally {
      client.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      tmp.cleanup();
    }
  });

  it('a fixture whose match starts with a misspelt method is refused, with a did-you-mean: test files and --http-fixtures', () => {
    const tmp = tempDir();
    try {
      const dir = join(tmp.dir, 'scenarios');
      mkdirSync(join(dir, 'tests'), { recursive: true });
      writeFileSync(join(dir, 'Orders.yaml'), POST);
      writeFileSync(join(tmp.dir, 'http.yaml'), `- match: PSOT https://shop.example/orders\n  status: 201\n`);
      const run = cli(['run', 'Orders', '--dry-run', '--http-fixtures', 'http.yaml'], tmp.dir);
      assert.equal(run.code, 2, run.stdout + run.stderr);
      assert.match(run.stderr, /\nhttp\.yaml:1:10 E_INVALID_PROPERTY "0\.match": "PSOT" is not an HTTP method: did you mean "POST"\?/);
      writeFileSync(
        join(dir, 'tests', 'typo.test.yaml'),
        `cases:
  - name: a status that is not a number
    scenario: Orders
    http:
      - match: POST https://shop.example/orders
        status: "two hundred"
    expect: { returnValues: { 1: success } }
  - name: a misspelt method
    scenario: Orders
    http:
      - match: GETT https://shop.example/orders
    expect: { returnValues: { 1: success } }
  - name: a method the engine does not guess
    scenario: Orders
    http: [ { match: FORWARD https://shop.example/orders } ]
    expect: { returnValues: { 1: success } }
`,
      );
      const t = cli(['test'], tmp.dir);
      assert.equal(t.code, 2, t.stdout + t.stderr);
      const lines = t.stderr.split('\n').filter((l) => / E_/.test(l));
      assert.deepEqual(lines, [
        'scenarios/tests/typo.test.yaml:6:17 E_INVALID_PROPERTY "cases.0.http.0.status" is text ("two hundred"): expected a whole number',
        'scenarios/tests/typo.test.yaml:11:16 E_INVALID_PROPERTY "cases.1.http.0.match": "GETT" is not an HTTP method: did you mean "GET"? (write "METHOD URL" with GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS or *, or the URL alone)',
        'scenarios/tests/typo.test.yaml:15:22 E_INVALID_PROPERTY "cases.2.http.0.match": "FORWARD" is not an HTTP method (write "METHOD URL" with GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS or *, or the URL alone)',
      ]);
      // The same fixture in a file the test file names.
      writeFileSync(join(dir, 'tests', 'http.yaml'), `- match: GETT https://shop.example/orders\n`);
      writeFileSync(join(dir, 'tests', 'typo.test.yaml'), `cases:\n  - name: from a file\n    scenario: Orders\n    http: http.yaml\n    expect: { returnValues: { 1: success } }\n`);
      const f = cli(['test'], tmp.dir);
      assert.equal(f.code, 2, f.stdout + f.stderr);
      // At its line in the fixture file; the hint names the test file's line that uses it.
      assert.match(f.stderr, /^scenarios\/tests\/http\.yaml:1:10 E_INVALID_PROPERTY "0\.match": "GETT" is not an HTTP method: did you mean "GET"\?/m);
      assert.match(f.stderr, /hint: the HTTP fixture of scenarios\/tests\/typo\.test\.yaml:4:11; see "--http-fixtures" in docs\/cli\.md/);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('--from-run on web requests that ended in error', () => {
  it('a 500 becomes a fixture with its body; an answer over the cap makes none (no fixture has a body too large)', { timeout: 120_000 }, async () => {
    const server = createServer((req, res) => {
      if (req.url === '/big') res.writeHead(200, { 'content-length': '5000' }).end('x'.repeat(5000));
      else res.writeHead(500, { 'content-type': 'text/plain' }).end('boom');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const tmp = tempDir();
    try {
      const dir = join(tmp.dir, 'scenarios');
      mkdirSync(join(dir, 'tests'), { recursive: true });
      writeFileSync(
        join(dir, 'Get.yaml'),
        `variables: { body: string, err: string }
start: call
blocks:
  call: { kind: WebRequest, url: InputParameter(1), responseBody: body, errorCode: err, exits: { success: ok, error: bad, timeout: slow } }
  ok: { kind: ReturnValue, values: { 1: '"success"' } }
  bad: { kind: ReturnValue, values: { 1: '"error " + [err]' } }
  slow: { kind: ReturnValue, values: { 1: '"timeout " + [body]' } }
`,
      );
      const env = { WEB_REQUEST_ATTEMPTS: '1', WEB_REQUEST_MAX_RESPONSE_BYTES: '1000' };
      const runOf = async (url: string) => {
        const r = await runCliAsync(['run', 'Get', '-p', `1=${url}`, '--json'], { cwd: tmp.dir, env, unset: ['OKTELL_SCENARIOS'], timeoutMs: 60_000 });
        assert.equal(r.code, 0, r.stdout + r.stderr);
        return JSON.parse(r.stdout) as RunResult & { runId: string };
      };
      const down = await runOf(`${base}/down`);
      assert.equal(down.returnValues['1'], 'timeout boom');
      const big = await runOf(`${base}/big`);
      assert.equal(big.returnValues['1'], 'error HTTP_TOO_LARGE');
      const out = join(dir, 'tests', 'recorded.test.yaml');
      const record = (id: string) => runCliAsync(['test', '--from-run', id, '--out', out], { cwd: tmp.dir, env, unset: ['OKTELL_SCENARIOS'], timeoutMs: 60_000 });
      const w = await record(down.runId);
      assert.equal(w.code, 0, w.stdout + w.stderr);
      // No fixture answers "too large": the recorded case meets HTTP_NO_FIXTURE instead, which its check shows.
      await record(big.runId);
      const written = readFileSync(out, 'utf8');
      assert.match(written, /match: GET http:\/\/127\.0\.0\.1:\d+\/down\n\s+status: 500\n\s+body: boom/);
      // (The expectation names the request, with `url:`; a fixture would name it with `match:`.)
      assert.doesNotMatch(written, /match: GET \S+\/big/, 'no fixture answering 200 with an empty body: the case would take success');
      const t = await runCliAsync(['test'], { cwd: tmp.dir, env, unset: ['OKTELL_SCENARIOS'], timeoutMs: 60_000 });
      assert.match(t.stdout, new RegExp(`✓ \\S+ › run ${down.runId} `), 'the 500 is answered as the server answered it');
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      tmp.cleanup();
    }
  });
});

describe('run --dry-run names the part of a URL at fault', () => {
  it('a port beyond 65535 is "out of range", not "not an absolute URL"', () => {
    const tmp = tempDir();
    try {
      mkdirSync(join(tmp.dir, 'scenarios'));
      writeFileSync(join(tmp.dir, 'scenarios', 'Web1.yaml'), `variables: { err: string }\nstart: call\nblocks:\n  call: { kind: WebRequest, url: InputParameter(1), errorCode: err, exits: { success: ok, error: bad } }\n  ok: { kind: ReturnValue, values: { 1: '"success"' } }\n  bad: { kind: ReturnValue, values: { 1: '"error " + [err]' } }\n`);
      const r = cli(['run', 'Web1', '-p', '1=http://127.0.0.1:99999/', '--dry-run'], tmp.dir);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /note the port 99999 is out of range \(1–65535\): "http:\/\/127\.0\.0\.1:99999\/"/);
      assert.match(r.stdout, /http GET \(invalid URL\) → — error \(not sent\) the port 99999 is out of range/);
      assert.doesNotMatch(r.stdout, /not an absolute URL/);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('WebRequest in diagrams', () => {
  it('a block shows its method and URL, and its unwired exits say how the run ends', () => {
    const o = outlineOfText('Sms.yaml', `start: send\nblocks:\n  send: { kind: WebRequest, method: POST, url: '[gw] + "/api/messages"', exits: { success: done } }\n  done: { kind: Stop }\n`, defaultRegistry);
    const send = o.blocks.find((b) => b.id === 'send')!;
    assert.equal(send.detail, 'POST [gw] + "/api/messages"');
    assert.deepEqual(send.exits.map((e) => [e.exit, e.target ?? e.end]), [['success', 'done'], ['error', 'fails'], ['timeout', 'retry']]);
  });
});
