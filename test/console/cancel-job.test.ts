// Cancelling a queued job from the console, as `oktell-emu cancel` does: the Jobs page and the page of a run whose job
// waits for a retry offer a Cancel button; the job becomes a dead letter (R_CANCELLED) naming the console login, the
// Dead letters page says so and offers Replay, and Replay brings it back. A job that is not queued is refused with why.
// Real server, real SQLite store, the embedded Bpium emulator; a closed SMTP port makes a real retry wait.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { RUN_ERROR_CODES } from '../../engine/index.js';
import { notCancellable } from '../../server/run-status.js';
import { capturingLogger } from '../server/server-helpers.js';
import { AUTH, csrfToken, get, readUserJob, startConsoleServer, USER, waitFor } from './console-helpers.js';

type Server = Awaited<ReturnType<typeof startConsoleServer>>;

/**
 * A console form POST as the console's own page sends it: same origin, with the login's form token. `confirm`: as the
 * page that asks to confirm a Cancel or a Replay sends it (the button of a list only asks).
 */
async function postForm(t: Server, path: string, withToken = true, confirm = true): Promise<Response> {
  return fetch(`${t.base}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { authorization: AUTH, 'content-type': 'application/x-www-form-urlencoded', origin: t.server.url, 'sec-fetch-site': 'same-origin' },
    body: new URLSearchParams({ ...(withToken ? { csrf: await csrfToken(t.base) } : {}), ...(confirm ? { confirm: '1' } : {}) }).toString(),
  });
}

/** A loopback port nothing listens on: the SMTP server that refuses every letter. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const TOMORROW = () => Date.now() + 86_400_000;

describe('cancelling a queued job from the console', () => {
  let t: Server;
  const log = capturingLogger();

  before(async () => {
    t = await startConsoleServer({}, {}, { logger: log.logger });
  });
  after(async () => t?.cleanup());

  it('the Jobs page offers Cancel on a queued job; it becomes a dead letter naming the login, which Replay brings back', { timeout: 30_000 }, async () => {
    const [id] = await t.server.store.enqueueJobs([{ scenario: 'ReadUser', params: { 1: '5' }, runAt: TOMORROW() }]);
    const page = await (await get(`${t.base}/jobs?status=queued`)).text();
    assert.match(page, new RegExp(`<form method="post" action="/-/console/jobs/${id}/cancel" class="inline">`));
    assert.match(page, new RegExp(`aria-describedby="job-${id}">Cancel<span class="sr-only"> job …${id!.slice(-6)}</span></button>`));

    // The list's button only asks: a page naming the job and the action, whose own form cancels it.
    const ask = await postForm(t, `/jobs/${id}/cancel`, true, false);
    assert.equal(ask.status, 200);
    const asked = await ask.text();
    assert.match(asked, new RegExp(`<h1>Cancel job …${id!.slice(-6)}\\?</h1>`));
    assert.match(asked, new RegExp(`Take job <code>${id}</code> of ReadUser out of the queue\\?`));
    assert.match(asked, new RegExp(`<form method="post" action="/-/console/jobs/${id}/cancel" class="confirm-form">\\s*<input type="hidden" name="csrf" value="[^"]+">\\s*<input type="hidden" name="confirm" value="1">`));
    assert.match(asked, /<a class="button" id="keep" href="\/-\/console\/jobs\?status=queued">No, keep it queued<\/a>/);
    assert.equal((await t.server.store.getJob(id!))!.status, 'queued', 'asking changes nothing');

    const res = await postForm(t, `/jobs/${id}/cancel`);
    assert.equal(res.status, 303, await res.text());
    assert.equal(res.headers.get('location'), `/-/console/jobs?status=dead&cancelled=${id}`);
    const job = (await t.server.store.getJob(id!))!;
    assert.equal(job.status, 'dead');
    const error = job.lastError as { code: string; message: string };
    assert.equal(error.code, RUN_ERROR_CODES.CANCELLED);
    assert.match(error.message, new RegExp(`^cancelled by an operator \\(the console, login ${USER.login}, \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\)$`));
    assert.ok(log.lines.some((l) => l.msg === 'job cancelled from the console' && l.obj.jobId === id && l.obj.user === USER.login));

    const dead = await (await get(`${t.base}${res.headers.get('location')!.replace('/-/console', '')}`)).text();
    assert.match(dead, new RegExp(`Job ${id} is out of the queue: it is a dead letter now \\(R_CANCELLED\\)`));
    const row = dead.slice(dead.indexOf(`<tr data-id="${id}">`));
    assert.match(row.slice(0, row.indexOf('</tr>')), /cancelled by an operator \(the console, login /);
    assert.match(row.slice(0, row.indexOf('</tr>')), />Replay<span class="sr-only"> job …[0-9a-z]{6}<\/span><\/button>/);
    assert.doesNotMatch(row.slice(0, row.indexOf('</tr>')), />Cancel<span/, 'a dead letter is not offered Cancel');

    const again = await postForm(t, `/jobs/${id}/replay`);
    assert.equal(again.status, 303);
    const back = (await t.server.store.getJob(id!))!;
    assert.notEqual(back.status, 'dead');
    assert.equal(back.replayCount, 1);
  });

  // What a job that is not queued answers, for each state it can be in: 409 and why, nothing changed.
  it('a job that is not queued is refused with why (409), and nothing changes', { timeout: 30_000 }, async () => {
    const failed = await readUserJob(t, '5'); // employee 5 is not in the emulator: the run fails for good
    assert.equal(failed.status, 'failed');
    const before = (await t.server.store.getJob(failed.jobId))!;
    const res = await postForm(t, `/jobs/${failed.jobId}/cancel`);
    assert.equal(res.status, 409);
    const html = await res.text();
    assert.match(html, /<h1>Cannot cancel<\/h1>/);
    assert.match(html, /The job failed for good: nothing to cancel \(only queued jobs are cancelled\)\./);
    assert.match(html, new RegExp(`href="/-/console/runs\\?job=${failed.jobId}"`));
    assert.deepEqual(await t.server.store.getJob(failed.jobId), before);
    // A stale list's button is refused at once, not asked to confirm first.
    const asked = await postForm(t, `/jobs/${failed.jobId}/cancel`, true, false);
    assert.equal(asked.status, 409);
    assert.match(await asked.text(), /<h1>Cannot cancel<\/h1>/);
  });

  // As `oktell-emu cancel` run twice exits 0: the job is a dead letter, as asked, so a second Cancel (a second click, a
  // page drawn before another console or the CLI cancelled it, a Cancel that loses its race to another) is answered as
  // done, with a notice saying it was cancelled already and by whom, not as a refusal; a job that cannot be cancelled
  // (running, done) is still refused with 409.
  it('a Cancel of a job cancelled already is answered as done (303, "already cancelled"), asked or confirmed, and changes nothing', { timeout: 30_000 }, async () => {
    const [id, raced] = await t.server.store.enqueueJobs([
      { scenario: 'ReadUser', params: { 1: '5' }, runAt: TOMORROW() },
      { scenario: 'ReadUser', params: { 1: '6' }, runAt: TOMORROW() },
    ]);
    assert.equal((await postForm(t, `/jobs/${id}/cancel`)).status, 303);
    const first = (await t.server.store.getJob(id!))!;
    const location = `/-/console/jobs?status=dead&cancelled=${id}&already=1`;
    for (const confirm of [true, false]) {
      const again = await postForm(t, `/jobs/${id}/cancel`, true, confirm);
      assert.equal(again.status, 303, await again.text());
      assert.equal(again.headers.get('location'), location);
    }
    assert.deepEqual(await t.server.store.getJob(id!), first, 'nothing changed: the first cancel stands');
    const page = await (await get(`${t.base}${location.replace('/-/console', '')}`)).text();
    assert.match(page, /<title>Job already cancelled · /);
    assert.match(page, new RegExp(`<p class="notice ok" id="action-result" role="status" tabindex="-1" autofocus>Job ${id} was already cancelled: it was cancelled by an operator \\(the console, login ${USER.login}, \\d{4}-[^)]+\\)\\. It is a dead letter \\(R_CANCELLED\\)`));
    assert.doesNotMatch(page, /is out of the queue|Cannot cancel/);

    // Cancelled by another between this Cancel's read and its update (the CLI here): the update takes nothing, and the
    // answer is the same.
    const store = t.server.store as { cancelJobs: (...a: unknown[]) => Promise<string[]> };
    const { cancelJobs } = store;
    try {
      store.cancelJobs = async (...a: unknown[]) => {
        await cancelJobs.call(store, { ids: [raced] }, { code: RUN_ERROR_CODES.CANCELLED, message: 'cancelled by an operator (oktell-emu cancel, 2026-12-07T16:00:00.000Z)' });
        return cancelJobs.call(store, ...a);
      };
      const lost = await postForm(t, `/jobs/${raced}/cancel`);
      assert.equal(lost.status, 303, await lost.text());
      assert.equal(lost.headers.get('location'), `/-/console/jobs?status=dead&cancelled=${raced}&already=1`);
    } finally {
      store.cancelJobs = cancelJobs;
    }
    const racedPage = await (await get(`${t.base}/jobs?status=dead&cancelled=${raced}&already=1`)).text();
    assert.match(racedPage, new RegExp(`Job ${raced} was already cancelled: it was cancelled by an operator \\(oktell-emu cancel, 2026-12-07T16:00:00\\.000Z\\)\\.`));
    // `already=1` on a job that is not a cancelled one says nothing.
    const [queued] = await t.server.store.enqueueJobs([{ scenario: 'ReadUser', params: { 1: '7' }, runAt: TOMORROW() }]);
    assert.doesNotMatch(await (await get(`${t.base}/jobs?status=dead&cancelled=${queued}&already=1`)).text(), /already cancelled|is out of the queue/);
  });

  it('without the form token, or for no such job, nothing is cancelled', { timeout: 30_000 }, async () => {
    const [id] = await t.server.store.enqueueJobs([{ scenario: 'ReadUser', params: { 1: '5' }, runAt: TOMORROW() }]);
    assert.equal((await postForm(t, `/jobs/${id}/cancel`, false)).status, 403);
    assert.equal((await postForm(t, `/jobs/${id}/cancel`, false, false)).status, 403, 'nor asked to confirm');
    assert.equal((await t.server.store.getJob(id!))!.status, 'queued');
    assert.equal((await postForm(t, '/jobs/01J00000000000000000000000/cancel')).status, 404);
    assert.equal((await postForm(t, '/jobs/..%2Fx/cancel')).status, 404);
    // The notice after a Cancel is said only of a job that was cancelled, not of any id put in the address.
    const page = await (await get(`${t.base}/jobs?status=dead&cancelled=${id}`)).text();
    assert.doesNotMatch(page, /is out of the queue/);
  });

  // Only a job that is a dead letter with R_CANCELLED is announced: not a dead letter of another cause (here one that
  // ran out of attempts at Bpium), not an id no job has, not a cancelled job replayed since (queued again).
  it('the notice after a Cancel is shown only for a dead letter of R_CANCELLED', { timeout: 30_000 }, async () => {
    const [otherDead, cancelled] = await t.server.store.enqueueJobs([
      { scenario: 'ReadUser', params: { 1: '5' }, runAt: TOMORROW() },
      { scenario: 'ReadUser', params: { 1: '6' }, runAt: TOMORROW() },
    ]);
    await t.server.store.cancelJobs({ ids: [otherDead!] }, { code: RUN_ERROR_CODES.EFFECT_TRANSIENT, message: 'Bpium answered 500 five times' });
    assert.equal((await t.server.store.getJob(otherDead!))!.status, 'dead');
    const notice = (id: string) => get(`${t.base}/jobs?status=dead&cancelled=${id}`).then((r) => r.text());
    assert.doesNotMatch(await notice(otherDead!), /is out of the queue/, 'a dead letter of another cause');
    assert.doesNotMatch(await notice('01J00000000000000000000000'), /is out of the queue/, 'no such job');
    assert.equal((await postForm(t, `/jobs/${cancelled}/cancel`)).status, 303);
    assert.match(await notice(cancelled!), new RegExp(`Job ${cancelled} is out of the queue: it is a dead letter now \\(R_CANCELLED\\)`));
    assert.equal((await postForm(t, `/jobs/${cancelled}/replay`)).status, 303);
    assert.doesNotMatch(await notice(cancelled!), /is out of the queue/, 'replayed since: queued again');
  });

  // A Cancel whose update takes nothing, and the job then found queued again or gone: the race is made by hand around
  // the real store's cancelJobs (its conditional update is what loses a real race; here the loss is forced so both
  // outcomes of the re-read are reached). Neither may say "a worker started the job" nor advise stopping the server.
  it('a Cancel that loses its race to a job back in the queue, or to a job removed, says so', { timeout: 30_000 }, async () => {
    const [requeued, removed] = await t.server.store.enqueueJobs([
      { scenario: 'ReadUser', params: { 1: '5' }, runAt: TOMORROW() },
      { scenario: 'ReadUser', params: { 1: '6' }, runAt: TOMORROW() },
    ]);
    const store = t.server.store as { cancelJobs: (...a: unknown[]) => Promise<string[]>; getJob: (id: string) => Promise<unknown> };
    const { cancelJobs, getJob } = store;
    try {
      store.cancelJobs = async () => []; // the job left the queue and came back before the update: it takes nothing
      const back = await postForm(t, `/jobs/${requeued}/cancel`);
      assert.equal(back.status, 409);
      const backText = await back.text();
      assert.match(backText, /came back to it while this Cancel was under way/);
      assert.match(backText, /Open the jobs page again and cancel it there/);
      assert.doesNotMatch(backText, /stop the server/);
      assert.equal(((await getJob.call(store, requeued!)) as { status: string }).status, 'queued', 'nothing changed');

      let reads = 0;
      store.getJob = async (id: string) => (id === removed && ++reads > 1 ? undefined : getJob.call(store, id)); // gone at the re-read
      const gone = await postForm(t, `/jobs/${removed}/cancel`);
      assert.equal(gone.status, 409);
      const goneText = await gone.text();
      assert.match(goneText, /no longer in the store/);
      assert.doesNotMatch(goneText, /A worker claimed the job|stop the server/);
    } finally {
      store.cancelJobs = cancelJobs;
      store.getJob = getJob;
    }
  });

  // The same for the runs page's notices after Replay (?replayed=1) and a task's Run now (?started=<task>): said only of
  // a job replayed at least once, and of a job that service task started; not of any job or text put in the address.
  it("the runs page's 'back in the queue' and 'started outside its schedule' notices are said only of such a job", { timeout: 30_000 }, async () => {
    const [plain, task] = await t.server.store.enqueueJobs([
      { scenario: 'ReadUser', params: { 1: '5' }, runAt: TOMORROW() },
      { scenario: 'ReadUser', params: { 1: '5' }, runAt: TOMORROW(), trigger: { kind: 'task', task: 'morning-report' } },
    ]);
    const page = (query: string) => get(`${t.base}/runs?${query}`).then((r) => r.text());
    const BACK = /The job is back in the queue/;
    const STARTED = /started outside its schedule/;
    assert.doesNotMatch(await page('replayed=1'), BACK, 'no job');
    assert.doesNotMatch(await page(`job=${plain}&replayed=1`), BACK, 'a job never replayed');
    assert.doesNotMatch(await page('started=Made-up%20task'), STARTED, 'no job');
    assert.doesNotMatch(await page(`job=${plain}&started=morning-report`), STARTED, 'a job no task started');
    assert.doesNotMatch(await page(`job=${task}&started=evening-report`), STARTED, 'a job another task started');
    assert.match(await page(`job=${task}&started=morning-report`), /Service task morning-report started outside its schedule/);
    assert.equal((await postForm(t, `/jobs/${plain}/cancel`)).status, 303);
    const replay = await postForm(t, `/jobs/${plain}/replay`);
    assert.equal(replay.headers.get('location'), `/-/console/runs?job=${plain}&replayed=1`);
    assert.match(await page(`job=${plain}&replayed=1`), BACK);
  });
});

describe('cancelling the job of a run that waits for a retry', () => {
  let t: Server;

  before(async () => {
    // Every letter is refused at the SMTP connection: the run fails as retryable and its job waits 20 minutes for the next
    // attempt, so it stays queued while the test looks at it.
    t = await startConsoleServer({}, { SMTP_URL: `smtp://127.0.0.1:${await closedPort()}`, OKTELL_RETRY_BASE_DELAY_MS: '1200000' });
  });
  after(async () => t?.cleanup());

  it("the run's page offers Cancel beside the job's line; the job is then a dead letter and the page offers Replay", { timeout: 60_000 }, async () => {
    const { jobId, runId, status } = await readUserJob(t, '1');
    assert.equal(status, 'failed');
    await waitFor('the job to wait for its retry', async () => (await t.server.store.getJob(jobId))?.status === 'queued');
    const page = await (await get(`${t.base}/runs/${runId}`)).text();
    assert.match(page, new RegExp(`<form method="post" action="/-/console/jobs/${jobId}/cancel" class="inline">`));
    assert.match(page, /id="cancel-job"/);
    assert.doesNotMatch(page, /id="replay"/);
    const res = await postForm(t, `/jobs/${jobId}/cancel`);
    assert.equal(res.status, 303);
    assert.equal((await t.server.store.getJob(jobId))!.status, 'dead');
    const after = await (await get(`${t.base}/runs/${runId}`)).text();
    assert.match(after, /id="replay">Replay<\/button>/);
    assert.doesNotMatch(after, /id="cancel-job"/);
  });
});

describe('why a job is not cancelled, by its state', () => {
  const job = (status: string, lastError: unknown = null) => ({ status, lastError, attempts: 2, maxAttempts: 16 }) as Parameters<typeof notCancellable>[0];
  for (const [status, lastError, said] of [
    ['running', null, 'is claimed by a worker: its attempt is under way, or, claimed ahead during a burst, it waits for a free slot of that worker (attempt 2/16); a claimed job cannot be cancelled safely from outside (its worker may start it at any moment, and an attempt under way may be halfway through sending a letter)'],
    ['dead', { code: RUN_ERROR_CODES.CANCELLED }, 'was cancelled already: nothing to cancel (only queued jobs are cancelled)'],
    ['dead', { code: 'R_BPIUM' }, 'is a dead letter already: nothing to cancel (only queued jobs are cancelled)'],
    ['failed', null, 'failed for good: nothing to cancel (only queued jobs are cancelled)'],
    ['succeeded', null, 'succeeded: nothing to cancel (only queued jobs are cancelled)'],
  ] as const) {
    it(`${status}${lastError ? ` (${lastError.code})` : ''}`, () => assert.equal(notCancellable(job(status, lastError)), said));
  }
});
