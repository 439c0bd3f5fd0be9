// Deduplication per sender on a hook route without a webhook secret (review security35, L2): nothing proves there that
// a body's hook id and sequenceId are Bpium's, so one login with the `hook` right must not claim another sender's
// delivery in advance and have it answered, as a duplicate, with its own answer. A signed route keeps one key for all
// senders (the signature proves the delivery), and a key stored before the login was part of it still answers.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { tempDir } from '../helpers.js';
import { AUTH, USER, postWebhook, startTestServer, type TestServer } from './server-helpers.js';

/** The hook scenario: answers with the body it got, so an answer shows which delivery ran. */
const ECHO_BODY = `variables: { body: string }
start: s
blocks:
  s:
    kind: InputParameter
    params: { body: 4 }
    exits: { next: r }
  r:
    kind: ReturnValue
    values: { 1: '"ran: " + [body]' }
`;

// A second sender with the hook right alone; its login has characters a key must not take as separators.
const OTHER = { login: 'hooky@site#2', password: 'hookpass' };
const OTHER_AUTH = `Basic ${Buffer.from(`${OTHER.login}:${OTHER.password}`).toString('base64')}`;
const USERS = `${USER.login}:${USER.password},${OTHER.login}[hook]:${OTHER.password}`;

const delivery = (seq: number, text: string, id = '9') => JSON.stringify({ hook: { id, sequenceId: seq }, text });

interface Answer {
  status: number;
  body: string;
  duplicateOf: string | null;
  runId: string | null;
}

async function send(base: string, path: string, body: string, auth: string, o: { secret?: string; gzip?: boolean } = {}): Promise<Answer> {
  const res = o.gzip
    ? await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', authorization: auth }, body: gzipSync(body) })
    : await postWebhook(base, body, o.secret, path, auth);
  return { status: res.status, body: await res.text(), duplicateOf: res.headers.get('x-oktell-duplicate-of'), runId: res.headers.get('x-oktell-run-id') };
}

describe('hook deliveries without a webhook secret are deduplicated per login', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ smtp: false, extraScenarios: { 'HTTP404.yaml': ECHO_BODY }, env: { SMTP_URL: '', OKTELL_USERS: USERS } });
  });
  after(async () => {
    await t.cleanup();
  });

  // Each case: who sends what, in order, on the route without a secret (/echo) unless a path is given; `dupOf` names
  // the earlier step whose delivery answers it (undefined: it ran).
  interface Step {
    who: 'bpium' | 'other';
    seq: number;
    text: string;
    path?: string;
    signed?: boolean;
    gzip?: boolean;
    dupOf?: number;
  }
  const CASES: Array<{ name: string; steps: Step[] }> = [
    {
      name: 'a login pre-claims a sequenceId: the other login\'s delivery with it runs; each one\'s repeat is its own duplicate',
      steps: [
        { who: 'other', seq: 77, text: 'attacker-chosen answer' },
        { who: 'bpium', seq: 77, text: 'genuine delivery' },
        { who: 'bpium', seq: 77, text: 'genuine delivery', dupOf: 1 },
        { who: 'other', seq: 77, text: 'attacker-chosen answer', dupOf: 0 },
      ],
    },
    {
      name: 'the same the other way round, the second copy through express (a compressed body)',
      steps: [
        { who: 'bpium', seq: 78, text: 'first' },
        { who: 'other', seq: 78, text: 'second', gzip: true },
        { who: 'other', seq: 78, text: 'second', dupOf: 1 },
        { who: 'bpium', seq: 78, text: 'first', gzip: true, dupOf: 0 },
      ],
    },
    {
      name: 'a signed route keeps one key for every login: the signature proves the delivery',
      steps: [
        { who: 'bpium', seq: 79, text: 'signed', path: '/Bpium/NewTask', signed: true },
        { who: 'other', seq: 79, text: 'signed', path: '/Bpium/NewTask', signed: true, dupOf: 0 },
      ],
    },
  ];

  for (const c of CASES) {
    it(c.name, async () => {
      const answers: Answer[] = [];
      for (const [i, s] of c.steps.entries()) {
        const a = await send(t.server.url, s.path ?? '/echo', delivery(s.seq, s.text), s.who === 'bpium' ? AUTH : OTHER_AUTH, { ...(s.signed ? { secret: t.secret } : {}), ...(s.gzip ? { gzip: true } : {}) });
        assert.equal(a.status, 200, `step ${i}: ${a.body}`);
        if (s.dupOf === undefined) {
          assert.equal(a.duplicateOf, null, `step ${i} runs`);
          assert.equal(a.body, `ran: ${delivery(s.seq, s.text)}`, `step ${i}`);
          assert.ok(a.runId, `step ${i} has its own run`);
        } else {
          const original = answers[s.dupOf]!;
          assert.ok(a.duplicateOf, `step ${i} is a duplicate`);
          assert.equal(a.body, original.body, `step ${i} is answered as step ${s.dupOf} was`);
          const originalEntry = (await t.server.store.findByDedupKey(await keyOf(original.runId!)))!;
          assert.equal(a.duplicateOf, String(originalEntry.id), `step ${i} names step ${s.dupOf}'s entry`);
        }
        answers.push(a);
      }
    });
  }

  /** The dedup key of the inbox entry a run answered. */
  async function keyOf(runId: string): Promise<string> {
    const run = (await t.server.store.getRun(runId))!;
    return (await t.server.store.getInboxEntry(run.inboxId!))!.dedupKey!;
  }

  it('the keys name the route and, without a secret, the login (encoded)', async () => {
    const a = await send(t.server.url, '/echo', delivery(80, 'keyed'), OTHER_AUTH);
    assert.equal(await keyOf(a.runId!), 'bpium:9:80@/echo#hooky%40site%232');
    const b = await send(t.server.url, '/Bpium/NewTask', delivery(80, 'keyed'), OTHER_AUTH, { secret: t.secret });
    assert.equal(await keyOf(b.runId!), 'bpium:9:80@/Bpium/NewTask');
  });
});

describe('a key stored without the login, before the upgrade', () => {
  it('makes a SQLite store look up old keys; keys naming a login do not', async () => {
    const tmp = tempDir('oktell-keys-');
    const store = await openSqliteStore({ file: join(tmp.dir, 'oktell.sqlite') });
    try {
      const entry = (dedupKey: string) => ({ inbox: { receivedAt: Date.now(), method: 'POST', path: '/echo', headers: '', body: Buffer.from('{}'), signature: 'absent' as const, dedupKey, response: { status: 200 } } });
      await store.recordRequest(entry('bpium:9:1@/echo#bpium'));
      await store.recordRequest(entry('bpium:9:2@*'));
      assert.equal(await store.hasPathDeliveryKeys(), false);
      await store.recordRequest(entry('bpium:9:3@/echo'));
      assert.equal(await store.hasPathDeliveryKeys(), true);
    } finally {
      await store.close();
      tmp.cleanup();
    }
  });

  it('still answers a resend of its delivery: the upgrade runs nothing twice', async () => {
    const body = delivery(500, 'before the upgrade');
    const t = await startTestServer({
      smtp: false,
      extraScenarios: { 'HTTP404.yaml': ECHO_BODY },
      env: { SMTP_URL: '', OKTELL_USERS: USERS },
      before: async (dataDir) => {
        const store = await openSqliteStore({ file: join(dataDir, 'oktell.sqlite') });
        await store.recordRequest({
          inbox: { receivedAt: Date.now(), method: 'POST', path: '/echo', headers: '', body: Buffer.from(body), signature: 'absent', dedupKey: 'bpium:9:500@/echo', response: { status: 200, body: 'answered before the upgrade' } },
        });
        await store.close();
      },
    });
    try {
      assert.equal(await t.server.store.hasPathDeliveryKeys!(), true);
      const again = await send(t.server.url, '/echo', body, AUTH);
      assert.equal(again.status, 200);
      assert.ok(again.duplicateOf, 'a duplicate of the stored delivery');
      assert.equal(again.body, 'answered before the upgrade');
      assert.equal(again.runId, null, 'HTTP404 did not run');
      // A delivery the old key does not cover takes the new one and runs once.
      const next = await send(t.server.url, '/echo', delivery(501, 'after'), AUTH);
      assert.equal(next.duplicateOf, null);
      assert.equal((await send(t.server.url, '/echo', delivery(501, 'after'), AUTH)).duplicateOf !== null, true);
      assert.equal((await t.server.store.listRuns({ scenario: 'HTTP404' })).items.length, 1);
    } finally {
      await t.cleanup();
    }
  });
});
