// Credentials a webhook carries in its query string or in headers: the scenario gets them as sent, while everything
// that keeps or shows the request (the inbox, the run record and its trace, the console, `test --from-run`) has them
// masked, by one rule of names shared with outgoing WebRequest URLs (adapters/web/redact.ts).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { caseFromRun } from '../../cli/testing/from-run.js';
import { isSecretHeader, isSecretName, maskHeaders, maskQueryText, maskUrl } from '../../adapters/web/redact.js';
import { AUTH, startTestServer, type TestServer } from './server-helpers.js';

/** The hook scenario: keeps parameters 1 and 2 in variables (so they are in the trace) and answers with parameter 1. */
const HOOK = `variables: { a: string, h: string }
start: s
blocks:
  s:
    kind: InputParameter
    params: { a: 1, h: 2 }
    exits: { next: r }
  r:
    kind: ReturnValue
    values: { 1: '[a]', 2: 200 }
`;

/** Names and whether they carry a credential: one rule for headers, query parameters, form fields and JSON keys. */
const NAMES: Array<[string, boolean]> = [
  ['Authorization', true],
  ['Proxy-Authorization', true],
  ['Authentication', true],
  ['Cookie', true],
  ['Set-Cookie', true],
  ['X-Api-Key', true],
  ['Api_Key', true],
  ['apikey', true],
  ['key', true],
  ['access_key', true],
  ['password', true],
  ['X-Passwd', true],
  ['pass', true],
  ['pwd', true],
  ['X-Auth', true],
  ['X-Credential', true],
  ['credentials', true],
  ['X-Session', true],
  ['session_id', true],
  ['X-Signature', true],
  ['sig', true],
  ['token', true],
  ['PRIVATE-TOKEN', true],
  ['X-Gitlab-Token', true],
  ['client_secret', true],
  ['Content-Type', false],
  ['Accept', false],
  ['X-Request-Id', false],
  ['User-Agent', false],
  ['id', false],
  ['page', false],
  ['src', false],
  ['assignee', false],
  ['design', false],
  ['keyword', false],
  ['X-Hub-Signature-256', true],
  ['sig_v2', true],
  ['aws_access_key_id', true],
  ['privatekey', true],
];

describe('credential names: one rule for headers and query parameters', () => {
  for (const [name, secret] of NAMES) {
    it(`${name} → ${secret ? 'masked' : 'kept'}`, () => {
      assert.equal(isSecretName(name), secret);
      assert.equal(isSecretHeader(name), secret);
      assert.equal(maskHeaders({ [name]: 'v4lue' })[name], secret ? '***' : 'v4lue');
      assert.equal(maskQueryText(`/p?${encodeURIComponent(name)}=v4lue&x=1`), `/p?${encodeURIComponent(name)}=${secret ? '***' : 'v4lue'}&x=1`);
      assert.equal(maskUrl(new URL(`http://h/p?${encodeURIComponent(name)}=v4lue`)), `http://h/p?${encodeURIComponent(name)}=${secret ? '***' : 'v4lue'}`);
    });
  }

  it('a Bearer or Basic value is a credential whatever the header is called', () => {
    assert.equal(isSecretHeader('X-Whatever', 'Bearer abc.def'), true);
    assert.equal(isSecretHeader('X-Whatever', 'basic dXNlcjpwdw=='), true);
    assert.equal(isSecretHeader('X-Whatever', 'Bearer'), false);
    assert.equal(isSecretHeader('X-Whatever', 'plain text'), false);
    assert.deepEqual(maskHeaders({ 'X-Upstream': 'Bearer Leak1', 'X-Note': 'basically fine' }), { 'X-Upstream': '***', 'X-Note': 'basically fine' });
  });

  it('the address text keeps its path and other parameters byte for byte; an encoded name is still recognised', () => {
    assert.equal(maskQueryText('/x/p%0d%0aA?token=Q99&password=Pw&id=7;sig=S#f'), '/x/p%0d%0aA?token=***&password=***&id=7;sig=***#f');
    assert.equal(maskQueryText('/hook?%74oken=abc&a+b=c'), '/hook?%74oken=***&a+b=c');
    assert.equal(maskQueryText('/token/path?plain=1'), '/token/path?plain=1');
    assert.equal(maskQueryText('/no-query'), '/no-query');
  });
});

describe('a webhook with credentials in its query and headers', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ smtp: false, extraScenarios: { 'Hook.yaml': HOOK }, config: 'hook:\n  scenario: Hook\n' });
  });
  after(() => t.cleanup());

  const leakHeaders: Record<string, string> = {
    'Api_Key': 'LeakHdr0008',
    'X-Passwd': 'LeakHdr0009',
    'Authentication': 'Bearer LeakHdr0005',
    'X-Auth': 'LeakHdr0006',
    'X-Credential': 'LeakHdr0010',
    'X-Session': 'LeakHdr0007',
    'X-Signature': 'LeakHdr0004',
    'X-Upstream': 'Bearer LeakHdr0011',
  };
  const address = '/x/p?token=QuerySecret99&password=PwInQuery1&id=7';

  it('the scenario gets the address as sent; the inbox, the run record, its trace, the console and from-run have it masked', async () => {
    const res = await fetch(`${t.server.url}${address}`, { headers: { authorization: AUTH, 'x-request-id': 'req-1', 'idempotency-key': 'delivery-42', ...leakHeaders } });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), address, 'the scenario got the real address');
    const runId = res.headers.get('x-oktell-run-id')!;
    const masked = '/x/p?token=***&password=***&id=7';

    const run = (await t.server.store.getRun(runId))!;
    const params = run.params as Record<string, string>;
    assert.equal(params['1'], masked);
    const headers = params['2']!;
    for (const name of Object.keys(leakHeaders)) assert.match(headers, new RegExp(`${name}: \\[redacted\\]`), name);
    assert.match(headers, /x-request-id: req-1/i);

    const entry = (await t.server.store.getInboxEntry(run.inboxId!))!;
    assert.equal(entry.path, masked);

    // The inbox keeps the answer as it was sent: a re-delivery of the same webhook is answered with it.
    assert.equal(entry.responseBody, address);
    const everything = JSON.stringify({ run, entry: { ...entry, body: undefined, responseBody: undefined } });
    for (const leak of ['QuerySecret99', 'PwInQuery1', ...Object.values(leakHeaders).map((v) => v.replace('Bearer ', ''))]) {
      assert.ok(!everything.includes(leak), `${leak} is kept in the run record or the inbox`);
    }

    const page = await (await fetch(`${t.server.url}/-/console/runs/${runId}`, { headers: { authorization: AUTH } })).text();
    assert.ok(page.includes('token=***&amp;password=***'), 'the console shows the masked address');
    assert.ok(!page.includes('QuerySecret99') && !page.includes('PwInQuery1') && !page.includes('LeakHdr'), 'the console shows no credential');

    const recorded = await caseFromRun(t.server.store, runId, { timeZone: 'UTC' });
    const file = JSON.stringify(recorded);
    assert.ok(file.includes('token=***'), 'the test made from the run has the masked address');
    assert.ok(!file.includes('QuerySecret99') && !file.includes('LeakHdr'), 'the test made from the run has no credential');
    // Named like a key, but no secret: kept where the server keeps the request, and so in the test made from the run.
    assert.match(headers, /idempotency-key: delivery-42/i);
    assert.match(file, /idempotency-key: delivery-42/i, 'the test made from the run keeps the Idempotency-Key');
  });

  it('a refused (unsigned) request is stored with its query masked too', async () => {
    const res = await fetch(`${t.server.url}/Bpium/NewTask?api_key=RefusedKey77`, { method: 'POST', headers: { authorization: AUTH }, body: '{}' });
    assert.equal(res.status, 401);
    const entries = [];
    for (let id = 1; id <= 10; id++) {
      const e = await t.server.store.getInboxEntry(id);
      if (e) entries.push(e);
    }
    const refused = entries.find((e) => e.path.startsWith('/Bpium/NewTask'));
    assert.equal(refused?.path, '/Bpium/NewTask?api_key=***');
  });
});
