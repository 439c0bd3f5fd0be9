// A web request a fixture answered did not go out: recorded `performed: false` with `fixture: true`, shown
// "(not sent, fixture)" by `run` and the console's list, and a live `run` does not take fixtures at all (its record
// would keep a made-up answer as the service's, which `test --from-run` would then copy).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { httpCallsOf } from '../../server/console/http-calls.js';
import { httpCallNote } from '../../server/console/call-notes.js';
import type { HttpCallRecord, TraceStep } from '../../engine/index.js';
import { tempDir } from '../helpers.js';
import { runCliAsync } from '../cli/cli.helper.js';

/** A real service on loopback that counts what reaches it: a fixture's answer must leave it untouched. */
async function countingServer(): Promise<{ server: Server; base: string; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"state":"ok"}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const CHECK = `variables: { st: number, body: string, code: string }
start: q
blocks:
  q: { kind: WebRequest, method: GET, url: 'InputParameter(1)', status: st, responseBody: body, errorCode: code, exits: { success: r, error: r, timeout: r } }
  r: { kind: ReturnValue, values: { 1: '[st]', 2: '[body]', 3: '[code]' } }
`;

describe('a web request answered by a fixture is not performed', () => {
  const tmp = tempDir();
  let svc: Awaited<ReturnType<typeof countingServer>>;
  const scenarios = join(tmp.dir, 'scenarios');
  before(async () => {
    svc = await countingServer();
    mkdirSync(join(scenarios, 'tests'), { recursive: true });
    writeFileSync(join(scenarios, 'Check.yaml'), CHECK);
    writeFileSync(join(tmp.dir, 'fx.yaml'), `- match: GET ${svc.base}/status/*\n  json: { state: down }\n- match: GET ${svc.base}/broken\n  status: 500\n  body: oops\n`);
  });
  after(() => {
    svc.server.close();
    tmp.cleanup();
  });
  const run = (args: string[]) => runCliAsync(['run', 'Check', '-s', scenarios, '--data-dir', join(tmp.dir, 'var'), ...args], { cwd: tmp.dir, env: { WEB_REQUEST_ATTEMPTS: '1' }, unset: ['OKTELL_SCENARIOS'], timeoutMs: 60_000 });

  it('run --dry-run --http-fixtures: a GET the fixture answers is performed: false, fixture: true, "(not sent, fixture)"', { timeout: 120_000 }, async () => {
    const json = await run(['-p', `1=${svc.base}/status/a`, '--dry-run', '--http-fixtures', 'fx.yaml', '--json']);
    assert.equal(json.code, 0, json.stdout + json.stderr);
    const out = JSON.parse(json.stdout) as { returnValues: Record<string, unknown>; httpCalls: HttpCallRecord[]; trace: TraceStep[] };
    assert.deepEqual(out.returnValues, { 1: 200, 2: '{"state":"down"}', 3: '' });
    assert.deepEqual(out.httpCalls.map((c) => [c.method, c.status, c.outcome, c.performed, c.fixture]), [['GET', 200, 'ok', false, true]]);
    // The stored trace says so too: the console's list (made from it) agrees.
    assert.deepEqual(httpCallsOf({}, out.trace).map((c) => [c.outcome, c.performed, c.fixture, httpCallNote(c)]), [['ok', false, true, 'not sent, fixture']]);
    const text = await run(['-p', `1=${svc.base}/status/a`, '--dry-run', '--http-fixtures', 'fx.yaml']);
    assert.equal(text.code, 0, text.stdout + text.stderr);
    assert.match(text.stdout, /http GET http:\/\/127\.0\.0\.1:\d+\/status\/a → 200 ok \(not sent, fixture\)\n/);
    assert.deepEqual(svc.seen, [], 'nothing reached the service');
  });

  it('a fixture\'s 500 is no answer from the service either: performed: false, fixture: true', { timeout: 120_000 }, async () => {
    const r = await run(['-p', `1=${svc.base}/broken`, '--dry-run', '--http-fixtures', 'fx.yaml', '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout) as { returnValues: Record<string, unknown>; httpCalls: HttpCallRecord[] };
    assert.deepEqual(out.returnValues, { 1: 500, 2: 'oops', 3: '500' });
    assert.deepEqual(out.httpCalls.map((c) => [c.status, c.outcome, c.performed, c.fixture]), [[500, 'timeout', false, true]]);
    assert.deepEqual(svc.seen, []);
  });

  it('a GET no fixture matches is still sent and performed, without the mark', { timeout: 120_000 }, async () => {
    const r = await run(['-p', `1=${svc.base}/other`, '--dry-run', '--http-fixtures', 'fx.yaml', '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout) as { httpCalls: HttpCallRecord[] };
    assert.deepEqual(out.httpCalls.map((c) => [c.status, c.outcome, c.performed, c.fixture]), [[200, 'ok', true, undefined]]);
    assert.deepEqual(svc.seen.splice(0), ['GET /other']);
  });

  it('run --http-fixtures without --dry-run is a usage error, as --now is: nothing runs, nothing is recorded', { timeout: 120_000 }, async () => {
    const text = await run(['-p', `1=${svc.base}/status/a`, '--http-fixtures', 'fx.yaml']);
    assert.equal(text.code, 2, text.stdout + text.stderr);
    assert.equal(text.stderr, 'oktell-emu: --http-fixtures answers the web requests of a dry run only: add --dry-run\n');
    assert.equal(text.stdout, '');
    const json = await run(['-p', `1=${svc.base}/status/a`, '--http-fixtures', 'fx.yaml', '--json']);
    assert.equal(json.code, 2);
    assert.deepEqual(JSON.parse(json.stdout), { status: 'failed', error: { code: 'E_USAGE', message: '--http-fixtures answers the web requests of a dry run only: add --dry-run' } });
    assert.equal(existsSync(join(tmp.dir, 'var')), false, 'no data folder, no record');
    assert.deepEqual(svc.seen, []);
  });

  it('a scenario test: the case expecting performed: false (and the fixture\'s answer) passes', { timeout: 120_000 }, async () => {
    writeFileSync(
      join(scenarios, 'tests', 'check.test.yaml'),
      `cases:
  - name: down
    scenario: Check
    params: { 1: "${svc.base}/status/a" }
    http: [ { match: "GET ${svc.base}/status/*", json: { state: down } } ]
    expect:
      returnValues: { 1: 200, 2: '{"state":"down"}' }
      httpCalls: [ { method: GET, status: 200, outcome: ok, performed: false } ]
`,
    );
    const r = await runCliAsync(['test', '-s', scenarios], { cwd: tmp.dir, unset: ['OKTELL_SCENARIOS'], timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /1 passed, 0 failed\n$/);
    assert.deepEqual(svc.seen, []);
  });
});
