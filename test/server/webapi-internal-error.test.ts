// Finding (Low): the Web-API's unexpected errors (500) and the store's refusals that reached the error handler (503)
// were plain text (`500 Internal Server Error`), while every other refusal of /execsvcscript is its XML (or the plain
// form's return value) with the start result in X-Oktell-Start-Result. A client reading the XML could not parse them,
// and a 500 did not say whether the run had started. Now both are the Web-API's own answer, and a 500 says how far the
// call had gone: nothing started, a job whose queueing is unknown, or a run that started (with its id).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { StoreUnavailableError } from '../../server/store/store.errors.js';
import { AUTH, echoScenario, startTestServer, type TestServer } from './server-helpers.js';

describe('the Web-API answers its 500 and the store\'s 503 in its own form', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ smtp: false, extraScenarios: { 'Echo.yaml': echoScenario() } });
  });
  after(async () => {
    await t?.cleanup();
  });

  /** Makes `obj[key]` throw `error` once (the next call), then puts it back. */
  function failOnce<T extends object>(obj: T, key: keyof T, error: Error): void {
    const original = obj[key] as (...args: unknown[]) => unknown;
    (obj as Record<keyof T, unknown>)[key] = function (this: unknown) {
      (obj as Record<keyof T, unknown>)[key] = original;
      throw error;
    };
  }

  async function call(path: string): Promise<{ status: number; type: string; startResult: string | null; runId: string | null; retryAfter: string | null; body: string }> {
    const res = await fetch(`${t.server.url}${path}`, { headers: { authorization: AUTH } });
    return { status: res.status, type: res.headers.get('content-type') ?? '', startResult: res.headers.get('x-oktell-start-result'), runId: res.headers.get('x-oktell-run-id'), retryAfter: res.headers.get('retry-after'), body: await res.text() };
  }

  it('a 500 before the run started: XML, started 0, startresult -1, "nothing was started or queued"', async () => {
    failOnce(t.server.host, 'library', new Error('boom before the start'));
    const r = await call('/execsvcscript?name=Echo&startparam1=a');
    assert.equal(r.status, 500);
    assert.match(r.type, /^application\/xml/);
    assert.equal(r.startResult, '-1');
    assert.match(r.body, /<property_simple key="started" value="0" name="error" \/>/);
    assert.match(r.body, /<property_simple key="startresult" value="-1" name="notstarted" \/>/);
    assert.match(r.body, /<!\[CDATA\[internal error before the run started: nothing was started or queued; the server log has the error \(unexpected error\)\]\]>/);
    assert.doesNotMatch(r.body, /boom/, 'the error itself stays in the log');
  });

  it('the plain form: the reason as its body, the start result in its header', async () => {
    failOnce(t.server.host, 'library', new Error('boom'));
    const r = await call('/execsvcscriptplain?name=Echo&startparam1=a');
    assert.deepEqual([r.status, r.type, r.startResult, r.body], [500, 'text/plain; charset=utf-8', '-1', 'internal error before the run started: nothing was started or queued; the server log has the error (unexpected error)']);
  });

  it('a 500 while an async=1 job was being queued: unknown whether it was queued', async () => {
    failOnce(t.server.store, 'enqueueJobs', new Error('boom while queueing'));
    const r = await call('/execsvcscriptplain?name=Echo&async=1&startparam1=a');
    assert.equal(r.status, 500);
    assert.equal(r.startResult, '2');
    assert.equal(r.body, 'internal error while queueing the run (async=1): it is unknown whether it was queued, so it may still run; look for it (npx oktell-emu runs) before starting it again; the server log has the error (unexpected error)');
  });

  it('an error after an async=1 job was queued: 200 with its id, and the job runs', async () => {
    failOnce(t.server.workers, 'wake', new Error('boom after queueing'));
    const r = await call('/execsvcscriptplain?name=Echo&async=1&startparam1=a');
    assert.deepEqual([r.status, r.startResult], [200, '0'], r.body);
    assert.ok(r.runId, 'the job id in its header');
    let job = await t.server.store.getJob(r.runId!);
    for (let i = 0; i < 100 && job?.status !== 'succeeded'; i++) {
      await new Promise((done) => setTimeout(done, 100));
      job = await t.server.store.getJob(r.runId!);
    }
    assert.equal(job?.status, 'succeeded', 'the queued job ran at the workers\' next look at the queue');
  });

  it('a 500 after a synchronous run started: started 1, its run id, its outcome unknown', async () => {
    failOnce(t.server.syncRuns as unknown as { track: () => void }, 'track', new Error('boom while running'));
    const r = await call('/execsvcscript?name=Echo&startparam1=a');
    assert.equal(r.status, 500);
    assert.ok(r.runId, 'the run id in its header');
    assert.equal(r.startResult, '2');
    assert.match(r.body, /<property_simple key="started" value="1" name="success" \/>/);
    assert.match(r.body, new RegExp(`<property_simple key="runid" value="${r.runId}" name="runid" />`));
    assert.match(r.body, new RegExp(`internal error during run ${r.runId}: it started, but whether it ended and what it did \\(its letters, writes\\) is unknown; npx oktell-emu show ${r.runId} shows what was recorded`));
  });

  it('the store refusing (503): XML with Retry-After, started 0, startresult -1', async () => {
    failOnce(t.server.host, 'library', new StoreUnavailableError('busy', 'database is locked', 7));
    const r = await call('/execsvcscript?name=Echo&startparam1=a');
    assert.deepEqual([r.status, r.retryAfter, r.startResult], [503, '7', '-1']);
    assert.match(r.type, /^application\/xml/);
    assert.match(r.body, /<!\[CDATA\[the store cannot take requests right now; retry later \(nothing was started or queued\)\]\]>/);
  });
});
