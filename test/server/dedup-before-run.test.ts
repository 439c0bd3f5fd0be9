// A resent Bpium delivery is answered from the store without running HTTP404 again, so the hook scenario's own
// effects (here a letter it sends itself, not through an AsyncScenario job) happen once per delivery: for a resend
// after the first was stored, and for copies arriving together. On SQLite and on PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deliveriesInFlight } from '../../server/hook-in-flight.js';
import { StoreUnavailableError } from '../../server/store/store.errors.js';
import type { RecordRequestInput, Store } from '../../server/store/store.port.js';
import { dropSchema, randomSchemaName, testPostgres, urlWithSchema } from '../store/postgres.helper.js';
import { postWebhook, startTestServer, taskWebhook, waitFor, type TestServer } from './server-helpers.js';

/**
 * A hook that mails on its own for every request to /Bpium/NewTask, then answers 202 with a text of its own; or,
 * asked by a test header (not part of the delivery key), refuses with 503 after mailing, or starts a job and answers
 * 500.
 */
const MAILING_HOOK = `variables: { address: string, headers: string, mailError: string }
start: save
blocks:
  save:
    kind: Variable
    set: { address: InputParameter(1), headers: InputParameter(2) }
    exits: { next: isNewTask }
  isNewTask:
    kind: Condition
    expression: Contains([address], "/Bpium/NewTask")
    exits: { true: mail, false: other }
  mail:
    kind: SendMail
    to: '"duty@example.com"'
    subject: '"webhook received"'
    text: '"a webhook came in"'
    errorVariable: mailError
    exits: { success: refuses, error: refuses }
  refuses:
    kind: Condition
    expression: 'Contains([headers], "x-test-answer: 503")'
    exits: { true: tryLater, false: startsJob }
  tryLater:
    kind: ReturnValue
    values: { 1: '"try later"', 2: 503 }
  startsJob:
    kind: Condition
    expression: 'Contains([headers], "x-test-answer: job+500")'
    exits: { true: job, false: answer }
  job:
    kind: AsyncScenario
    scenario: Noop
    mode: async
    exits: { next: failed }
  failed:
    kind: ReturnValue
    values: { 1: '"started, then failed"', 2: 500 }
  answer:
    kind: ReturnValue
    values: { 1: '"mailed once"', 2: 202 }
  other:
    kind: ReturnValue
    values: { 1: '"not a task"', 2: 200 }
`;

const NOOP = `start: done
blocks:
  done: { kind: ReturnValue, values: { 1: '"done"' } }
`;

const pg = await testPostgres();

/** Counts the store's look-ups by delivery key (the cost of a keyed request: one). */
function countLookups(store: Store): { n: number } {
  const count = { n: 0 };
  const real = store.findByDedupKey.bind(store);
  store.findByDedupKey = (key) => {
    count.n++;
    return real(key);
  };
  return count;
}

const hookRuns = async (t: TestServer) => (await t.server.store.listRuns({ scenario: 'HTTP404', limit: 1000 })).items.length;

const answerOf = async (res: Response) => ({
  status: res.status,
  body: await res.text(),
  duplicateOf: res.headers.get('x-oktell-duplicate-of'),
  runId: res.headers.get('x-oktell-run-id'),
});

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`a resent delivery does not run HTTP404 again (${kind})`, () => {
    let t: TestServer;
    let schema: string | undefined;
    let lookups: { n: number };
    const skip = kind === 'postgres' ? pg.skip : undefined;

    before(async () => {
      if (skip !== undefined) return;
      const env: Record<string, string> = {};
      if (kind === 'postgres') {
        schema = randomSchemaName('dedup');
        env.OKTELL_STORE = urlWithSchema(pg.url!, schema);
      }
      t = await startTestServer({ extraScenarios: { 'HTTP404.yaml': MAILING_HOOK, 'Noop.yaml': NOOP }, env });
      lookups = countLookups(t.server.store);
    });
    after(async () => {
      await t?.cleanup();
      if (schema) await dropSchema(pg.url!, schema);
    });

    it('sent again after the first was answered: one letter, the original\'s answer, its run and its inbox id', { skip }, async () => {
      const letters = t.smtp!.letters.length;
      const runs = await hookRuns(t);
      const stored = (await t.server.store.counts()).inbox;
      const body = taskWebhook({ name: 'дважды подряд', responsible: ['2'], sequenceId: 880_001 });
      const first = await answerOf(await postWebhook(t.server.url, body, t.secret));
      const duplicatesBefore = t.server.metrics.duplicates;
      const again = await answerOf(await postWebhook(t.server.url, body, t.secret));
      assert.deepEqual([first.status, first.body, first.duplicateOf], [202, 'mailed once', null]);
      assert.equal(t.smtp!.letters.length, letters + 1, 'one letter: HTTP404 did not run for the resend');
      assert.deepEqual([again.status, again.body], [202, 'mailed once'], 'answered as the first was');
      const original = (await t.server.store.getRun(first.runId!))!.inboxId!;
      assert.equal(again.duplicateOf, String(original));
      assert.equal(again.runId, first.runId, 'the run that made the answer');
      assert.equal(t.server.metrics.duplicates, duplicatesBefore + 1);
      // The resend is still stored, as a duplicate of the first, but has no run of its own.
      assert.equal((await t.server.store.getInboxEntry(original))!.duplicates, 1);
      assert.deepEqual((await t.server.store.counts()).inbox, { total: stored.total + 2, duplicates: stored.duplicates + 1 });
      assert.equal(await hookRuns(t), runs + 1, 'one HTTP404 run for two requests');
    });

    it('five copies at once: one letter, and all five answers agree', { skip }, async () => {
      const letters = t.smtp!.letters.length;
      const body = taskWebhook({ name: 'пять сразу', responsible: ['2'], sequenceId: 880_002 });
      const answers = await Promise.all(Array.from({ length: 5 }, async () => answerOf(await postWebhook(t.server.url, body, t.secret))));
      assert.equal(t.smtp!.letters.length, letters + 1, 'one letter for five copies');
      assert.deepEqual(new Set(answers.map((a) => `${a.status} ${a.body}`)), new Set(['202 mailed once']));
      const originals = answers.filter((a) => a.duplicateOf === null);
      assert.equal(originals.length, 1, 'one copy ran HTTP404');
      const original = String((await t.server.store.getRun(originals[0]!.runId!))!.inboxId);
      assert.deepEqual(answers.filter((a) => a.duplicateOf !== null).map((a) => [a.duplicateOf, a.runId]), Array(4).fill([original, originals[0]!.runId]));
      assert.equal(deliveriesInFlight(t.server.store), 0, 'every key given back');
    });

    it('a copy waiting for a first that the store refused (503) runs as the first', { skip }, async () => {
      const store = t.server.store;
      const real = store.recordRequest.bind(store);
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      let refuse = true;
      store.recordRequest = async (input: RecordRequestInput) => {
        if (refuse && input.inbox.dedupKey?.startsWith('bpium:1:880003@')) {
          refuse = false;
          await gate;
          throw new StoreUnavailableError('busy', 'refused by the test', 1);
        }
        return real(input);
      };
      try {
        const letters = t.smtp!.letters.length;
        const received = t.server.metrics.received;
        const body = taskWebhook({ name: 'первая отказана', responsible: ['2'], sequenceId: 880_003 });
        const a = postWebhook(t.server.url, body, t.secret).then(answerOf);
        const b = postWebhook(t.server.url, body, t.secret).then(answerOf);
        // The first has mailed and is held in the store; the second has arrived and found its key in flight.
        await waitFor('the first copy\'s letter', () => t.smtp!.letters.length === letters + 1);
        await waitFor('both copies received', () => t.server.metrics.received === received + 2);
        assert.equal(t.smtp!.letters.length, letters + 1, 'the second copy waits while the first is not settled');
        open();
        const answers = (await Promise.all([a, b])).sort((x, y) => y.status - x.status);
        assert.deepEqual(answers.map((x) => [x.status, x.duplicateOf]), [[503, null], [202, null]], 'the refused one 503, the other stored as the original');
        assert.equal(t.smtp!.letters.length, letters + 2, 'the second copy ran HTTP404 itself');
        assert.equal(deliveriesInFlight(store), 0, 'the refused request gave its key back');
      } finally {
        open();
        store.recordRequest = real;
      }
    });

    it('a delivery the scenario refused (503) and that started nothing takes no key: a resend runs HTTP404 again, and its success is what later copies get', { skip }, async () => {
      const letters = t.smtp!.letters.length;
      const body = taskWebhook({ name: 'сначала отказ', responsible: ['2'], sequenceId: 880_005 });
      const refused = await answerOf(await postWebhook(t.server.url, body, t.secret, '/Bpium/NewTask', undefined, { 'x-test-answer': '503' }));
      assert.deepEqual([refused.status, refused.body, refused.duplicateOf], [503, 'try later', null]);
      const resent = await answerOf(await postWebhook(t.server.url, body, t.secret));
      assert.deepEqual([resent.status, resent.body, resent.duplicateOf], [202, 'mailed once', null], 'ran again, not answered with the refusal');
      // What the refused run did itself (its letter) happened again: the sender was told it had not gone through.
      assert.equal(t.smtp!.letters.length, letters + 2);
      const third = await answerOf(await postWebhook(t.server.url, body, t.secret));
      const original = (await t.server.store.getRun(resent.runId!))!.inboxId!;
      assert.deepEqual([third.status, third.body, third.duplicateOf, third.runId], [202, 'mailed once', String(original), resent.runId], 'the success took the key');
      assert.equal(t.smtp!.letters.length, letters + 2);
    });

    it('a copy that ran beside the stored original (another server) and was refused is answered as the original was, and stored as its duplicate', { skip }, async () => {
      const body = taskWebhook({ name: 'гонка и отказ', responsible: ['2'], sequenceId: 880_007 });
      const first = await answerOf(await postWebhook(t.server.url, body, t.secret));
      assert.equal(first.status, 202);
      // The copy's look-up before HTTP404 misses the original, as on a second server racing the first; later
      // look-ups see it.
      const store = t.server.store;
      const lookUp = store.findByDedupKey.bind(store);
      let hidden = 1;
      store.findByDedupKey = async (key) => (hidden-- > 0 ? undefined : lookUp(key));
      let copy;
      try {
        copy = await answerOf(await postWebhook(t.server.url, body, t.secret, '/Bpium/NewTask', undefined, { 'x-test-answer': '503' }));
      } finally {
        store.findByDedupKey = lookUp;
      }
      const original = (await store.getRun(first.runId!))!.inboxId!;
      assert.deepEqual([copy.status, copy.body, copy.duplicateOf], [202, 'mailed once', String(original)], 'the original\'s answer, not the copy\'s own 503');
      assert.equal((await store.getInboxEntry(original))!.duplicates, 1);
    });

    it('a delivery that started a job takes its key whatever it answered: a resend of a 500 is its duplicate and starts nothing', { skip }, async () => {
      const body = taskWebhook({ name: 'задание и 500', responsible: ['2'], sequenceId: 880_006 });
      // Jobs in any status: one that has run is still counted.
      const queued = async () => Object.values((await t.server.store.counts()).jobs).reduce((a, b) => a + b, 0);
      const before = await queued();
      const first = await answerOf(await postWebhook(t.server.url, body, t.secret, '/Bpium/NewTask', undefined, { 'x-test-answer': 'job+500' }));
      assert.deepEqual([first.status, first.body], [500, 'started, then failed']);
      const after = await queued();
      assert.equal(after, before + 1, 'the job was stored');
      const again = await answerOf(await postWebhook(t.server.url, body, t.secret));
      const original = (await t.server.store.getRun(first.runId!))!.inboxId!;
      assert.deepEqual([again.status, again.body, again.duplicateOf], [500, 'started, then failed', String(original)]);
      assert.equal(await queued(), after, 'no second job');
    });

    it('looks a key up once per keyed request, and never for a request without one', { skip }, async () => {
      const before = lookups.n;
      await postWebhook(t.server.url, taskWebhook({ name: 'один поиск', responsible: ['2'], sequenceId: 880_004 }), t.secret);
      assert.equal(lookups.n, before + 1);
      const res = await postWebhook(t.server.url, '{"no":"key"}', t.secret);
      assert.equal(res.status, 202);
      assert.equal(lookups.n, before + 1, 'no key, no look-up');
    });
  });
}
