// The bad-input corpus: every request in requests.yaml, byte for byte, to one real server, each answered with its
// expected status; slow clients timed out while the server stays up; nothing acknowledged lost; and every bad
// scenario file in scenarios.yaml reported with its code and a location, never a crash.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { signBpiumBody } from '../../adapters/bpium/signature.js';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioText } from '../../engine/index.js';
import { repoPath } from '../helpers.js';
import { AUTH, startTestServer, taskWebhook, waitFor, type TestServer } from '../server/server-helpers.js';

interface RequestCase {
  name: string;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  bodyBase64?: string;
  generate?: { repeat?: string; times?: number; nest?: number; webhookName?: number; longPath?: number; fanOut?: number; nestInDescription?: number };
  auth?: false | string;
  sign?: boolean | string;
  raw?: string;
  expect: number;
  bodyNot?: string;
  headerNot?: string;
  headerIs?: Record<string, string>;
  xml?: boolean;
}

interface ScenarioCase {
  name: string;
  text?: string;
  generate?: { nest?: number; bytesBase64?: string; longLine?: number };
  file?: string;
  expect: string;
}

/** Every character is one XML 1.0 allows. */
const XML_CHARS = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;

/** Echoes its first start parameter, so the Web-API cases can put any text into an answer. */
const ECHO = `variables: { a: string }
start: s
blocks:
  s: { kind: InputParameter, params: { a: 1 }, exits: { next: r } }
  r: { kind: ReturnValue, values: { 1: '[a]', 2: 200 } }
`;

const requests = parse(readFileSync(repoPath('test', 'bad-inputs', 'requests.yaml'), 'utf8')) as RequestCase[];
const scenarios = parse(readFileSync(repoPath('test', 'bad-inputs', 'scenarios.yaml'), 'utf8')) as ScenarioCase[];

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends raw bytes, reads until the server closes (or `ms` pass), and returns the final (non-1xx) answer. */
function exchange(port: number, bytes: Buffer, ms = 15_000): Promise<Answer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1');
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(parseAnswer(Buffer.concat(chunks)));
    };
    const timer = setTimeout(finish, ms);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('close', finish);
    // The server may answer (413) and close while a big body is still being written: that is the answer, not a failure.
    socket.on('error', () => undefined);
    socket.write(bytes);
  });
}

function parseAnswer(raw: Buffer): Answer {
  let text = raw.toString('latin1');
  for (;;) {
    const m = /^HTTP\/1\.[01] (\d{3})[^\r\n]*\r\n/.exec(text);
    if (!m) return { status: 0, headers: {}, body: text };
    const end = text.indexOf('\r\n\r\n');
    const status = Number(m[1]);
    if (status >= 100 && status < 200 && end >= 0) {
      text = text.slice(end + 4);
      continue;
    }
    const headers: Record<string, string> = {};
    for (const line of text.slice(m[0].length, end < 0 ? undefined : end).split('\r\n')) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    return { status, headers, body: end < 0 ? '' : Buffer.from(text.slice(end + 4), 'latin1').toString('utf8') };
  }
}

function bodyOf(c: RequestCase): Buffer {
  const g = c.generate;
  if (g?.repeat !== undefined) return Buffer.from(g.repeat.repeat(g.times ?? 1));
  if (g?.nest) return Buffer.from(`${'['.repeat(g.nest)}${']'.repeat(g.nest)}`);
  if (g?.nestInDescription) return Buffer.from(taskWebhook({ name: 'deep', responsible: ['2'], sequenceId: 880_003 }).replace('"3":""', `"3":${'['.repeat(g.nestInDescription)}${']'.repeat(g.nestInDescription)}`));
  if (g?.fanOut) return Buffer.from(taskWebhook({ name: 'fan-out', responsible: Array.from({ length: g.fanOut }, () => '2'), sequenceId: 880_002 }));
  if (g?.webhookName) return Buffer.from(taskWebhook({ name: 'я'.repeat(g.webhookName / 2), responsible: ['2'], sequenceId: 880_001 }));
  if (c.bodyBase64 !== undefined) return Buffer.from(c.bodyBase64, 'base64');
  return Buffer.from(c.body ?? '');
}

function requestBytes(c: RequestCase, secret: string): Buffer {
  if (c.raw !== undefined) return Buffer.from(c.raw.replaceAll('{auth}', AUTH), 'latin1');
  const method = c.method ?? 'POST';
  const path = c.generate?.longPath ? `/${'a'.repeat(c.generate.longPath)}` : (c.path ?? '/Bpium/NewTask');
  const body = bodyOf(c);
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1'];
  if (c.auth !== false) lines.push(`Authorization: ${c.auth ?? AUTH}`);
  const headers = { ...(method === 'POST' || method === 'PROPFIND' ? { 'content-type': 'application/json' } : {}), ...c.headers };
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v === '{16k}' ? 'x'.repeat(17_000) : v}`);
  if (c.sign !== false) lines.push(`X-Hook-Signature: ${typeof c.sign === 'string' ? c.sign : signBpiumBody(secret, body)}`);
  lines.push(`Content-Length: ${body.length}`, 'Connection: close', '', '');
  return Buffer.concat([Buffer.from(lines.join('\r\n'), 'latin1'), body]);
}

describe('the bad-input corpus', () => {
  let t: TestServer;
  const answers = new Map<RequestCase, Answer>();
  before(async () => {
    t = await startTestServer({ extraScenarios: { 'Echo.yaml': ECHO }, env: { OKTELL_REQUEST_TIMEOUT_MS: '1500' }, config: 'workers: { baseDelayMs: 50, maxDelayMs: 200, maxAttempts: 3 }\n' });
  });
  after(async () => t.cleanup());

  it(`holds at least 50 cases (${requests.length} requests, ${scenarios.length} scenario files)`, () => {
    assert.ok(requests.length + scenarios.length >= 50);
    assert.equal(new Set(requests.map((r) => r.name)).size, requests.length, 'case names are unique');
  });

  it('answers every bad request with its expected status', { timeout: 90_000 }, async () => {
    const wrong: string[] = [];
    for (const c of requests) {
      const a = await exchange(t.server.port, requestBytes(c, t.secret));
      answers.set(c, a);
      if (a.status !== c.expect) wrong.push(`${c.name}: expected ${c.expect}, got ${a.status} ${a.body.slice(0, 120).replace(/\s+/g, ' ')}`);
      if (c.bodyNot && a.body.includes(c.bodyNot)) wrong.push(`${c.name}: the answer contains ${JSON.stringify(c.bodyNot)}`);
      if (c.headerNot && a.headers[c.headerNot] !== undefined) wrong.push(`${c.name}: the answer has a ${c.headerNot} header`);
      for (const [name, value] of Object.entries(c.headerIs ?? {})) if (a.headers[name] !== value) wrong.push(`${c.name}: ${name} is ${JSON.stringify(a.headers[name])}, not ${JSON.stringify(value)}`);
      if (c.xml && !XML_CHARS.test(a.body)) wrong.push(`${c.name}: the answer has characters XML 1.0 forbids`);
    }
    assert.deepEqual(wrong, [], `${wrong.length} case(s) answered wrongly:\n${wrong.join('\n')}`);
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype was polluted');
    assert.equal((await fetch(`${t.server.url}/-/health`)).status, 200, 'the server is up after the corpus');
  });

  it('loses nothing it acknowledged: each 2xx on the hook has its run, inbox entry and job, and every job ends', { timeout: 60_000 }, async () => {
    assert.ok(answers.size > 0, 'the corpus ran');
    let hookAcks = 0;
    for (const [c, a] of answers) {
      const path = c.path ?? '/Bpium/NewTask';
      if (a.status < 200 || a.status >= 300 || c.raw !== undefined || path.startsWith('/execsvcscript') || path.startsWith('/-/')) continue;
      const run = await t.server.store.getRun(a.headers['x-oktell-run-id']!);
      assert.ok(run, `${c.name}: the hook run is stored`);
      const entry = await t.server.store.getInboxEntry(run.inboxId!);
      assert.equal(entry?.responseStatus, a.status, `${c.name}: the inbox entry is stored with its answer`);
      if (!a.headers['x-oktell-duplicate-of'] && path.includes('/Bpium/NewTask')) hookAcks++;
    }
    assert.ok(hookAcks >= 25, `acknowledged webhooks (${hookAcks})`);
    const settled = await waitFor(
      'every job to end',
      async () => {
        const c = await t.server.store.counts();
        return c.jobs.queued + c.jobs.running === 0 ? c : undefined;
      },
      40_000,
    );
    const jobs = Object.values(settled.jobs).reduce((x, y) => x + y, 0);
    assert.equal(jobs, hookAcks, 'one job per acknowledged webhook');
    assert.equal(settled.jobs.dead, 0, 'no bad input makes a job retry until it dies');
    // Header injection through webhook data never reaches a letter's envelope or headers.
    for (const l of t.smtp!.letters) {
      assert.ok(!l.rcptTo.some((r) => r.includes('evil.example')), 'no letter to an injected address');
      const raw = l.raw.toString('latin1');
      const head = raw.slice(0, raw.indexOf('\r\n\r\n'));
      assert.doesNotMatch(head, /^(Bcc: spy|X-Evil)/im, 'no injected header');
    }
  });

  it('times out a client that sends headers and then stalls, and one that trickles its body, while serving others', { timeout: 30_000 }, async () => {
    const stalled = exchange(t.server.port, Buffer.from(`POST /Bpium/NewTask HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}\r\nContent-Length: 100\r\n\r\n{"hook":`), 20_000);
    const headersOnly = exchange(t.server.port, Buffer.from('GET /x HTTP/1.1\r\nHost: x\r\nX-Slow: '), 20_000);
    const trickle = new Promise<Answer>((resolve) => {
      const socket = connect(t.server.port, '127.0.0.1');
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('error', () => undefined);
      socket.write(`POST /Bpium/NewTask HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}\r\nContent-Length: 1000\r\n\r\n`);
      const drip = setInterval(() => socket.writable && socket.write('x'), 200);
      socket.on('close', () => {
        clearInterval(drip);
        resolve(parseAnswer(Buffer.concat(chunks)));
      });
      setTimeout(() => socket.destroy(), 20_000);
    });
    const t0 = Date.now();
    const health = await fetch(`${t.server.url}/-/health`);
    assert.equal(health.status, 200, 'others are served while the slow clients hang');
    const [a, b, c] = await Promise.all([stalled, headersOnly, trickle]);
    assert.equal(a.status, 408, 'headers then silence → 408');
    assert.equal(b.status, 408, 'unfinished headers → 408');
    assert.equal(c.status, 408, 'a body trickling in → 408');
    assert.ok(Date.now() - t0 < 15_000, 'cut off within the configured timeout and a check interval');
    assert.equal((await fetch(`${t.server.url}/-/health`)).status, 200, 'the server is still up');
  });
});

describe('bad scenario files', () => {
  for (const c of scenarios) {
    it(`${c.name} → ${c.expect} with a location, no crash`, { timeout: 10_000 }, () => {
      const file = c.file ?? 'Bad.yaml';
      const g = c.generate;
      const text =
        g?.nest ? `start: s\nblocks:\n  s: { kind: Stop }\nx: ${'['.repeat(g.nest)}${']'.repeat(g.nest)}\n`
        : g?.bytesBase64 ? Buffer.from(g.bytesBase64, 'base64').toString('utf8')
        : g?.longLine ? `variables: { x: string }\nstart: v\nblocks:\n  v: { kind: Variable, set: { x: '${'1 + '.repeat(g.longLine / 4)}' }, exits: { next: s } }\n  s: { kind: Stop }\n`
        : (c.text ?? '');
      const r = loadScenarioText(file, text, { registry: defaultRegistry });
      assert.equal(r.ok, false, 'the file is refused');
      if (r.ok) return;
      const codes = r.issues.map((i) => i.code);
      assert.ok(codes.includes(c.expect as (typeof codes)[number]), `expected ${c.expect}, got ${codes.join(', ')}: ${r.issues.map((i) => i.message).join(' | ').slice(0, 300)}`);
      for (const i of r.issues) {
        assert.equal(i.file, file);
        assert.ok(Number.isInteger(i.line) && i.line >= 1 && Number.isInteger(i.col) && i.col >= 1, `${i.code} at ${i.line}:${i.col}`);
        assert.ok(i.message.length > 0);
      }
    });
  }
});
