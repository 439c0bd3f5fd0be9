// Long runs share the server's thread: a run of blocks without effects (a loop of Variable and Condition blocks) lets
// the event loop take turns, so a Web-API caller's timeout fires and other requests are answered while it computes;
// and synchronous Web-API runs at once are capped (OKTELL_SYNC_RUNS / maxSyncRuns), past which a caller gets 503.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SyncRuns } from '../../server/sync-runs.js';
import { AUTH, startTestServer, waitFor, type TestServer } from './server-helpers.js';

/** Counts to parameter 1 in a loop of two blocks a turn, with no effect: about 100,000 blocks for 49,000. */
const LOOP = `variables:
  i: number
  n: number
start: init
blocks:
  init:
    kind: Variable
    set: { i: 0, n: InputParameter(1) }
    exits: { next: test }
  test:
    kind: Condition
    expression: '[i] < [n]'
    exits: { true: step, false: done }
  step:
    kind: Variable
    set: { i: '[i] + 1' }
    exits: { next: test }
  done:
    kind: ReturnValue
    values: { 1: '[i]' }
`;

const TURNS = 49_000;

describe('long runs and the server thread', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ smtp: false, config: 'maxSyncRuns: 3\n', extraScenarios: { 'Loop.yaml': LOOP } });
  });
  after(async () => t.cleanup());

  const call = async (query: string) => {
    const res = await fetch(`${t.server.url}/execsvcscriptplain?${query}`, { headers: { authorization: AUTH } });
    return { status: res.status, text: await res.text(), startResult: res.headers.get('x-oktell-start-result'), retryAfter: res.headers.get('retry-after'), runId: res.headers.get('x-oktell-run-id') };
  };

  it("answers a caller whose timeout passes while the loop computes with startresult 2; the run goes on to its end", async () => {
    const r = await call(`name=Loop&startparam1=${TURNS}&timeout=0.02`);
    assert.equal(r.status, 200);
    assert.equal(r.startResult, '2', 'the timeout fired before the run ended');
    assert.equal(r.text, '');
    const run = await waitFor('the run to be recorded', async () => {
      const found = await t.server.store.getRun(r.runId!);
      return found?.status === 'completed' ? found : undefined;
    }, 60_000);
    assert.deepEqual(run.returnValues, { 1: TURNS });
  });

  it('answers a health check while three long runs compute, before they end', async () => {
    const order: string[] = [];
    // Each noted when its answer's head arrives, as the health check's is.
    const loops = [1, 2, 3].map((k) =>
      fetch(`${t.server.url}/execsvcscriptplain?name=Loop&startparam1=${TURNS}`, { headers: { authorization: AUTH } }).then(async (res) => {
        order.push(`loop ${k}`);
        return { status: res.status, text: await res.text(), startResult: res.headers.get('x-oktell-start-result') };
      }),
    );
    // Sent once a run computes. The server shares this process: had a run held the thread, this test could not look
    // before the runs had ended.
    await waitFor('a run in flight', () => t.server.syncRuns.running > 0);
    const health = fetch(`${t.server.url}/-/health`).then(async (res) => (order.push('health'), res.status));
    const [status, ...results] = await Promise.all([health, ...loops]);
    assert.equal(status, 200);
    for (const r of results) assert.deepEqual([r.status, r.text, r.startResult], [200, String(TURNS), '0']);
    assert.notEqual(order.at(-1), 'health', `the health check waited for every run: ${order.join(', ')}`);
  });

  it('refuses a synchronous call past maxSyncRuns with 503, Retry-After and startresult -1', async () => {
    const answers = await Promise.all([1, 2, 3, 4].map(() => call(`name=Loop&startparam1=${TURNS}`)));
    const refused = answers.filter((a) => a.status === 503);
    assert.equal(refused.length, 1, JSON.stringify(answers.map((a) => a.status)));
    assert.equal(refused[0]!.startResult, '-1');
    assert.equal(refused[0]!.retryAfter, '1');
    assert.match(refused[0]!.text, /3 synchronous Web-API runs are already running \(OKTELL_SYNC_RUNS\); retry, or start with async=1/);
    for (const a of answers.filter((x) => x.status !== 503)) assert.deepEqual([a.status, a.text], [200, String(TURNS)]);
    // Once they have ended, a call runs again.
    const again = await call('name=Loop&startparam1=3');
    assert.deepEqual([again.status, again.text, again.startResult], [200, '3', '0']);
  });
});

/** The hook scenario as a long loop that answers 200 with the count in its body. */
const LOOPING_HOOK = LOOP.replace("values: { 1: '[i]' }", "values: { 1: '[i]', 2: 200 }").replace("n: InputParameter(1)", `n: ${TURNS}`);

describe('a graceful stop and a hook run still computing', () => {
  it('waits for the run and answers the webhook, instead of cutting the connection', async () => {
    const t = await startTestServer({ smtp: false, extraScenarios: { 'HTTP404.yaml': LOOPING_HOOK } });
    try {
      const answer = fetch(`${t.server.url}/some/hook`, { method: 'POST', headers: { authorization: AUTH, 'content-type': 'application/json' }, body: '{}' }).then(async (res) => ({ status: res.status, text: await res.text() }));
      await waitFor('the hook run to start', () => t.server.metrics.received > 0);
      const closing = t.server.close(30_000);
      const got = await answer;
      assert.deepEqual(got, { status: 200, text: String(TURNS) });
      await closing;
    } finally {
      await t.cleanup();
    }
  });
});

describe('SyncRuns', () => {
  it('counts a Web-API run for the cap until the run ends, not until its record is written', async () => {
    const runs = new SyncRuns();
    let end!: () => void;
    let recorded!: () => void;
    const ended = new Promise<void>((r) => (end = r));
    const written = new Promise<void>((r) => (recorded = r));
    void runs.track(ended, written);
    assert.equal(runs.running, 1);
    end();
    await ended;
    await new Promise((r) => setImmediate(r));
    assert.equal(runs.running, 0, 'the run has ended: its slot is free while its record is being written');
    recorded();
  });

  it('a stop waits for a hook answer being made, within the grace period', async () => {
    const runs = new SyncRuns();
    let answer!: () => void;
    let answered = false;
    runs.hold(new Promise<void>((r) => (answer = r)).then(() => void (answered = true)));
    setTimeout(() => answer(), 30);
    assert.deepEqual(await runs.drain(5_000), { runs: 0, hooks: 0 });
    assert.ok(answered, 'drain waited for the answer');
  });
});
