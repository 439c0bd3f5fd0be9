// The console after the s25 review, over plain HTTP to real servers: a dead letter's last run listed "dead" as the
// CLI lists it, with counts that do not count it twice; a run of a dead job that does not promise a later attempt;
// filter values that name nothing said so and not applied; a job running now listed on its runs page; a webhook's
// run linked to the job it started; a letter linked to the run that sent it; call notes that say what happened.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { bpiumCallNote, httpCallNote } from '../../server/console/call-notes.js';
import { httpCallsOf } from '../../server/console/http-calls.js';
import { retryNote } from '../../server/console/run.routes.js';
import { sentByOf } from '../../server/console/outbox.routes.js';
import { freePort, startSilentServer } from '../mail/smtp-server.helper.js';
import { startTestServer } from '../server/server-helpers.js';
import { runCli } from '../cli/cli-process.js';
import { TRANSIENT, attempt, enqueue } from '../cli/job-fates.helper.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { AUTH, csrfToken, get, loopScenarioYaml, postWebhook, readUserJob, runPageOf, startConsoleServer, taskWebhook, waitFor } from './console-helpers.js';

/** 200 turns of a loop: 401 steps, past the 300 that carry every variable. */
const LOOP_YAML = loopScenarioYaml(200);

interface JsonRow {
  id: string | null;
  jobId: string | null;
  status: string;
  href: string;
  duration: string;
}
interface RunsJson {
  items: JsonRow[];
  counts: Record<string, number>;
  at: string;
}

async function runsJson(base: string, query = ''): Promise<RunsJson> {
  const res = await get(`${base}/runs.json${query}`);
  assert.equal(res.status, 200);
  return (await res.json()) as RunsJson;
}

describe('console: a dead letter in the runs list', () => {
  it('its last run is listed dead in the page and its JSON, as `oktell-emu runs` lists it, counted once', { timeout: 60_000 }, async () => {
    const smtpPort = await freePort();
    const t = await startTestServer({ smtp: false, smtpPort, config: 'workers: { baseDelayMs: 50, maxDelayMs: 100, maxAttempts: 2 }\n' });
    const base = `${t.server.url}/-/console`;
    try {
      const res = await postWebhook(t.server.url, taskWebhook({ name: 'мёртвое письмо', responsible: ['3'] }), t.secret);
      assert.equal(res.status, 200);
      const hookRunId = res.headers.get('x-oktell-run-id')!;
      const dead = await waitFor('a dead letter', async () => (await t.server.store.listJobs({ status: 'dead' })).items[0]);
      const [last, first] = (await t.server.store.listRuns({ jobId: dead.id })).items;
      assert.equal(last!.id, dead.lastRunId);

      const json = await runsJson(base);
      const statusOf = (id: string) => json.items.find((r) => r.id === id)?.status;
      assert.equal(statusOf(last!.id), 'dead', 'the run that made the job a dead letter');
      assert.equal(statusOf(first!.id), 'failed', 'the earlier attempt was retried: it stays failed');
      // The CLI marks the same runs (one status logic for both).
      const cli = JSON.parse(runCli(['runs', '--json', '--data-dir', t.dataDir]).stdout) as Array<{ id: string; dead?: boolean }>;
      assert.deepEqual(cli.filter((r) => r.dead).map((r) => r.id), json.items.filter((r) => r.status === 'dead').map((r) => r.id));
      // Counted once: under dead letters, not also under failed.
      const stored = await t.server.store.counts();
      assert.equal(stored.runs.failed, 2);
      assert.deepEqual([json.counts.failed, json.counts.dead], [1, 1]);
      const page = await (await get(`${base}/runs`)).text();
      assert.match(page, new RegExp(`<tr data-id="${last!.id}" data-status="dead">\\s*<td><a class="badge st-dead"`));
      assert.match(page, /data-count="failed"><b>1<\/b> failed/);
      assert.match(page, /data-count="dead"><b>1<\/b> dead letters/);

      // The run page of either attempt does not promise a later attempt: the job is out of them. Only the last run
      // made it a dead letter; the first was retried, and says so (user trial: it read as the one that killed the job).
      const notes = new Map([
        [last!.id, 'retryable, but the job ran out of attempts: it is a dead letter, and only Replay tries it again'],
        [first!.id, 'retryable: the job tried it again; its last attempt failed too, so it is a dead letter, and only Replay tries it again'],
      ]);
      for (const [id, note] of notes) {
        const html = await (await get(`${base}/runs/${id}`)).text();
        assert.doesNotMatch(html, /a later attempt may succeed/);
        assert.ok(html.includes(`<span class="retry-note">${note}</span>`), `${id}: ${html.match(/<span class="retry-note">[^<]*/)?.[0]}`);
      }

      // The webhook's run links forward to the job it started and that job's last run.
      const hook = await (await get(`${base}/runs/${hookRunId}`)).text();
      const started = hook.slice(hook.indexOf('<section class="panel started">'));
      assert.ok(started.length < hook.length, 'the hook run has a Started panel');
      assert.match(started, new RegExp(`<span class="badge st-dead">dead</span> <a href="/-/console/runs\\?job=${dead.id}">BpiumNewTask</a>`));
      assert.match(started, new RegExp(`<a href="/-/console/runs/${last!.id}">its last run</a>`));
    } finally {
      await t.cleanup();
    }
  });
});

describe('console: the earlier attempts of a job that failed for good', () => {
  it('say the job tried again and a later attempt failed for good; only that one is not retryable', { timeout: 60_000 }, async () => {
    const runs: string[] = [];
    // Written before the server starts, as the worker pool writes them: the job is failed, so the server's pool
    // leaves it alone.
    const t = await startTestServer({
      smtp: false,
      before: async (dataDir) => {
        const store = await openSqliteStore({ file: join(dataDir, 'oktell.sqlite') });
        try {
          const job = await enqueue(store, { scenario: 'BpiumNewTask' });
          runs.push(await attempt(store, job, { ...TRANSIENT, block: 'readTask', retryAt: Date.now() }));
          runs.push(await attempt(store, job, { ...TRANSIENT, block: 'readTask', retryAt: Date.now() }));
          runs.push(await attempt(store, job, { code: 'R_SCENARIO_CHANGED', retryable: false, block: 'readTask' }));
          assert.equal((await store.getJob(job))!.status, 'failed');
        } finally {
          await store.close();
        }
      },
    });
    const base = `${t.server.url}/-/console`;
    try {
      const notes = [
        'retryable: the job tried it again; a later attempt failed for good (not retryable), and only Replay tries it again',
        'retryable: the job tried it again; a later attempt failed for good (not retryable), and only Replay tries it again',
        'not retryable: the scenario or the data must change',
      ];
      for (const [i, id] of runs.entries()) {
        const html = await (await get(`${base}/runs/${id}`)).text();
        assert.ok(html.includes(`<span class="retry-note">${notes[i]}</span>`), `attempt ${i + 1}: ${html.match(/<span class="retry-note">[^<]*/)?.[0]}`);
      }
    } finally {
      await t.cleanup();
    }
  });
});

describe('console: a job whose attempt is running now', () => {
  it('is listed on its runs page as running, with no "no runs match"', { timeout: 60_000 }, async () => {
    const silent = await startSilentServer();
    const t = await startTestServer({ smtp: false, smtpPort: silent.port });
    const base = `${t.server.url}/-/console`;
    try {
      const res = await postWebhook(t.server.url, taskWebhook({ name: 'долгое письмо', responsible: ['3'] }), t.secret);
      assert.equal(res.status, 200);
      const job = await waitFor('the job to run', async () => (await t.server.store.listJobs({ status: 'running' })).items[0]);
      const json = await runsJson(base, `?job=${job.id}`);
      // No run is recorded yet: its id is null, as `runs --json` gives it (not an empty string).
      assert.deepEqual(json.items.map((r) => [r.id, r.jobId, r.status]), [[null, job.id, 'running']]);
      assert.match(json.items[0]!.duration, /^claimed \d\d:\d\d:\d\d: running, or waiting for a free worker slot$/);
      const page = await (await get(`${base}/runs?job=${job.id}`)).text();
      assert.match(page, new RegExp(`<tr data-id="job:${job.id}" data-status="running">`));
      assert.match(page, /<p class="empty muted" hidden>/);
      // The running list shows it too, as `runs --status running` does.
      assert.deepEqual((await runsJson(base, '?status=running')).items.map((r) => r.jobId), [job.id]);
      // The jobs page says what `running` is: claimed by a worker, which may not have started it yet (claimed ahead).
      const jobsPage = await (await get(`${base}/jobs?status=running`)).text();
      assert.match(jobsPage, new RegExp(`<tr data-id="${job.id}">\\s*<td><span class="badge st-running">running</span><div class="muted small claimed">claimed: running, or waiting for a free worker slot</div></td>`));
    } finally {
      await t.cleanup();
      await silent.close();
    }
  });
});

describe('console: filters, links and notes', () => {
  it('a scenario that is not loaded, a malformed or unknown job id, a bad jobs status: named, not applied', { timeout: 60_000 }, async () => {
    const t = await startConsoleServer();
    try {
      await readUserJob(t, '77');
      const all = (await runsJson(t.base)).items.length;
      assert.ok(all > 0);
      const bad = await get(`${t.base}/runs?scenario=readuser&status=bogus`);
      assert.equal(bad.status, 200);
      const html = await bad.text();
      assert.match(html, /Not a filter value, so not applied: status &quot;bogus&quot; \(one of [^)]*\); scenario &quot;readuser&quot; \(no such scenario is loaded; did you mean ReadUser\?\)\./);
      assert.doesNotMatch(html, /match these filters/);
      assert.equal((await runsJson(t.base, '?scenario=Nope')).items.length, all, 'the list is not filtered by it');
      for (const [job, why] of [['zz!z', 'not a job id'], ['zzz', 'no such job']] as const) {
        const page = await (await get(`${t.base}/runs?job=${encodeURIComponent(job)}`)).text();
        assert.match(page, new RegExp(`job &quot;${job.replace('!', '\\!')}&quot; \\(${why}`));
        assert.match(page, /<h1 aria-labelledby="page-title"><span id="page-title">Runs<\/span> /, 'not titled as the runs of that job');
        assert.equal((await runsJson(t.base, `?job=${encodeURIComponent(job)}`)).items.length, all);
      }
      const jobs = await (await get(`${t.base}/jobs?status=bogus`)).text();
      assert.match(jobs, /Not a filter value, so not applied: status &quot;bogus&quot; \(one of queued, running, succeeded, failed, dead\)/);
    } finally {
      await t.cleanup();
    }
  });

  it('replaying a job that is not failed or dead leads to its runs; buttons are named per row; a skip link; diagram links are not hidden in an image', { timeout: 60_000 }, async () => {
    const t = await startConsoleServer();
    try {
      const failed = await readUserJob(t, '77');
      await postWebhook(t.server.url, taskWebhook({ name: 'уже готово', responsible: ['2'] }), t.secret);
      const done = await waitFor('a succeeded job', async () => (await t.server.store.listJobs({ status: 'succeeded' })).items[0]);
      const csrf = await csrfToken(t.base);
      const res = await fetch(`${t.base}/jobs/${done.id}/replay`, { method: 'POST', headers: { authorization: AUTH, 'content-type': 'application/x-www-form-urlencoded', origin: t.server.url }, body: new URLSearchParams({ csrf }).toString(), redirect: 'manual' });
      assert.equal(res.status, 409);
      const html = await res.text();
      assert.match(html, /The job is succeeded now; only failed and dead jobs are replayed\./);
      assert.match(html, new RegExp(`<a href="/-/console/runs\\?job=${done.id}">The runs of job ${done.id}</a>`));
      const jobs = await (await get(`${t.base}/jobs?status=failed`)).text();
      // Named per row by the end of the job's id; the whole id and the scenario describe it (not read in full first).
      assert.match(jobs, new RegExp(`<button type="submit" class="small" aria-describedby="job-${failed.jobId}">Replay<span class="sr-only"> job …${failed.jobId.slice(-6)}</span></button>`));
      assert.match(jobs, new RegExp(`<span hidden id="job-${failed.jobId}">ReadUser, job ${failed.jobId}</span>`));
      assert.match(jobs, /<a class="skip" href="#main">Skip to the content<\/a>/);
      // The lists name the zone of their times (OKTELL_TZ, Europe/Moscow by default).
      assert.match(jobs, /<th>Created <span class="zone">Europe\/Moscow<\/span><\/th>/);
      assert.match(await (await get(`${t.base}/runs`)).text(), /<th>Started <span class="zone">Europe\/Moscow<\/span><\/th>/);
      assert.match(await (await get(`${t.base}/jobs?status=dead`)).text(), /No dead letters\./);
      const run = await (await get(`${t.base}/runs/${failed.runId}`)).text();
      // So do a run's start and a letter's time (operator trial 45: the run page gave the time alone).
      assert.match(run, /<span>started \d{4}-\d\d-\d\d \d\d:\d\d:\d\d <span class="zone">Europe\/Moscow<\/span><\/span>/);
      const letter = /href="(\/-\/console\/outbox\/[^"]+\.eml)"/.exec(await (await get(`${t.base}/outbox`)).text())?.[1];
      assert.ok(letter, 'the webhook\'s letter is in the outbox');
      assert.match(await (await get(`${t.server.url}${letter}`)).text(), /<dt>Stored<\/dt><dd>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d <span class="zone">Europe\/Moscow<\/span><\/dd>/);
      assert.match(run, /<svg class="diagram[^"]*"[^>]* role="group" aria-label="Flowchart of ReadUser"/);
      assert.match(run, /<span class="blk" lang="ru">Прочитать сотрудника<\/span>/);
    } finally {
      await t.cleanup();
    }
  });

  it('a long trace says once that variables are shown for the first 300 steps; a bad page cursor gets the console page', { timeout: 60_000 }, async () => {
    const t = await startConsoleServer({ 'Loop.yaml': LOOP_YAML });
    try {
      const { html } = await runPageOf(t, 'Loop');
      assert.equal(html.match(/first 300 steps/g)?.length, 1);
      assert.equal(html.match(/<li id="step-/g)?.length, 401);
      const bad = await get(`${t.base}/runs?cursor=garbage`);
      assert.equal(bad.status, 400);
      const page = await bad.text();
      assert.match(page, /<title>Bad page link · Oktell console<\/title>/);
      assert.match(page, /invalid page cursor/);
      assert.match(page, /<a href="\/-\/console\/runs">Back to the runs<\/a>/);
    } finally {
      await t.cleanup();
    }
  });

  it('a letter in the outbox links to the run that sent it', { timeout: 60_000 }, async () => {
    const t = await startConsoleServer();
    try {
      await postWebhook(t.server.url, taskWebhook({ name: 'письмо со ссылкой', responsible: ['2'] }), t.secret);
      const run = await waitFor('the letter run', async () => (await t.server.store.listRuns({ scenario: 'BpiumNewTask', status: 'completed' })).items[0]);
      const outbox = await (await get(`${t.base}/outbox`)).text();
      const name = /href="\/-\/console\/outbox\/([^"/]+\.eml)"/.exec(outbox)?.[1];
      assert.ok(name, 'the outbox lists the letter');
      const letter = await (await get(`${t.base}/outbox/${name}`)).text();
      const m = /<dt>Sent by<\/dt><dd class="sent-by">run <a href="\/-\/console\/runs\/([^"]+)"><code>[^<]+<\/code><\/a> · block <code>([^<]+)<\/code>/.exec(letter);
      assert.ok(m, 'the letter page names the run and block');
      assert.equal(m[1], run.id);
      assert.equal((await get(`${t.base}/runs/${m[1]}`)).status, 200);
      assert.deepEqual(sentByOf('01abc/notify'), { runId: '01abc', block: 'notify' });
      assert.equal(sentByOf('not a reference'), undefined);
    } finally {
      await t.cleanup();
    }
  });

  it('a Bpium read answered 404 was performed: no "(not performed)"', { timeout: 60_000 }, async () => {
    const t = await startConsoleServer();
    try {
      const failed = await readUserJob(t, '77');
      const html = await (await get(`${t.base}/runs/${failed.runId}`, { authorization: AUTH })).text();
      const panel = html.slice(html.indexOf('<h2>Bpium calls</h2>'), html.indexOf('</section>', html.indexOf('<h2>Bpium calls</h2>')));
      assert.match(panel, /not-found<\/span> HTTP 404/);
      assert.doesNotMatch(panel, /not performed/);
    } finally {
      await t.cleanup();
    }
  });

  it('call notes and outcomes say what happened to the request', () => {
    // A refused connection, retried three times: a network error that got no answer, not a timeout "not sent".
    const refused = httpCallsOf({}, [{ kind: 'WebRequest', block: 'post', effect: { request: { method: 'POST', url: 'http://127.0.0.1:9/api' }, failure: 'transient', status: null, attempts: [{}, {}, {}], error: 'ECONNREFUSED' } }]);
    assert.deepEqual(refused.map((c) => [c.outcome, c.performed, httpCallNote(c)]), [['network error', false, 'no answer']]);
    const slow = httpCallsOf({}, [{ kind: 'WebRequest', block: 'post', effect: { request: { method: 'POST', url: 'http://x/' }, failure: 'timeout', status: null, attempts: [{}], error: 'no answer' } }]);
    assert.deepEqual(slow.map((c) => [c.outcome, httpCallNote(c)]), [['timeout', 'no answer']]);
    const down = httpCallsOf({}, [{ kind: 'WebRequest', block: 'post', effect: { request: { method: 'POST', url: 'http://x/' }, failure: 'transient', status: 503, attempts: [{}, {}] } }]);
    assert.deepEqual(down.map((c) => [c.outcome, c.performed, httpCallNote(c)]), [['timeout', true, '']]);
    const call = { method: 'getRecord', performed: false };
    assert.equal(bpiumCallNote({ ...call, status: 'not-found', httpStatus: 404 }), '');
    assert.equal(bpiumCallNote({ ...call, method: 'updateRecord', status: 'error', httpStatus: 400 }), 'no effect');
    assert.equal(bpiumCallNote({ ...call, method: 'createRecord', status: 'dry-run' }), 'not performed');
    assert.equal(bpiumCallNote({ ...call, status: 'timeout', attempts: 3 }), 'no answer');
    // Answered with a web page instead of the API (no HTTP error status kept): sent and answered, so not "not performed".
    assert.equal(bpiumCallNote({ ...call, status: 'error', attempts: 1 }), '');
    assert.equal(bpiumCallNote({ ...call, status: 'error' }), 'not performed', 'refused before any attempt (the block\'s own JSON)');
    assert.equal(bpiumCallNote({ ...call, status: 'ok', performed: true }), '');
    assert.equal(bpiumCallNote({ ...call, method: 'updateRecord', status: 'replayed', performed: false }), '', 'a retry took it from the journal: made by the earlier attempt');
  });

  it('a retryable error says what became of the job', () => {
    const time = () => '2026-12-02 05:30:00';
    assert.equal(retryNote(true, { status: 'queued', nextRunAt: 0 }, time), 'retryable: the job is tried again at 2026-12-02 05:30:00');
    assert.match(retryNote(true, { status: 'dead', nextRunAt: 0 }, time), /^retryable, but the job ran out of attempts: it is a dead letter, and only Replay/);
    // An earlier attempt of a job that died later was retried: it did not make the job a dead letter (user trial).
    assert.equal(retryNote(true, { status: 'dead', nextRunAt: 0 }, time, 'R_EFFECT_TRANSIENT', true), 'retryable: the job tried it again; its last attempt failed too, so it is a dead letter, and only Replay tries it again');
    assert.equal(retryNote(true, { status: 'succeeded', nextRunAt: 0 }, time), 'retryable: a later attempt of the job succeeded');
    assert.equal(retryNote(true, { status: 'failed', nextRunAt: 0 }, time, 'R_EFFECT_TRANSIENT', true), 'retryable: the job tried it again; a later attempt failed for good (not retryable), and only Replay tries it again');
    assert.equal(retryNote(false, { status: 'dead', nextRunAt: 0 }, time), 'not retryable: the scenario or the data must change');
    assert.match(retryNote(false, { status: 'dead', nextRunAt: 0 }, time, 'R_EFFECT_UNKNOWN'), /^not retried: it may have been done .*check, then Replay/, 'a letter of unknown outcome (review D5)');
    assert.equal(retryNote(false, { status: 'dead', nextRunAt: 0 }, time, 'R_EFFECT_SETTING'), 'not retried: a setting is wrong (the message says which); fix it, restart, then Replay sends it', 'a letter refused for a wrong SMTP setting (trial s33, 3)');
  });
});
