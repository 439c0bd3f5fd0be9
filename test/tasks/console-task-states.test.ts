// The console's Tasks page says how a failing last run is going, as `oktell-emu tasks` does: retrying (attempt n/max,
// last error, next attempt), dead (its attempts, last error, job id, a link to the dead letters and how to replay
// it) or failed for good; the error's text escaped. HTML over HTTP from a real listening server, the runs real.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AUTH, get, rowOf, startConsoleServer, textOf, waitFor } from '../console/console-helpers.js';

/** A web request to a closed port with only `success` wired: every attempt fails as retryable. */
const FLAKY = 'start: call\nblocks:\n  call:\n    kind: WebRequest\n    method: GET\n    url: \'"http://127.0.0.1:1/x"\'\n    exits: { success: null }\n';
/** A number from parameter 1: text that is no number fails the run for good, quoting the text. */
const NUMBER = 'variables: { n: number }\nstart: begin\nblocks:\n  begin: { kind: Start, param: n, exits: { next: null } }\n';
const HOSTILE = '<img src=x onerror=alert(1)>';

const TASKS = `serviceTasks:
  - { name: flaky, scenario: Flaky, cron: "0 9 * * *", timeZone: UTC, enabled: false }
  - { name: numbers, scenario: Number, cron: "0 9 * * *", timeZone: UTC, enabled: false, params: { 1: '"${HOSTILE}"' } }
  - { name: quiet, scenario: Number, cron: "0 9 * * *", timeZone: UTC, enabled: false, params: { 1: '"5"' } }
`;

type Server = Awaited<ReturnType<typeof startConsoleServer>>;
type LastRun = { jobId: string; status: string; attempts: number; maxAttempts: number; nextAttemptAt?: string; lastErrorCode?: string };

/** Starts task `name` through the server's API; waits until the task listing shows its job in `status`. */
async function runTask(t: Server, name: string, status: string): Promise<LastRun> {
  const res = await fetch(`${t.server.url}/-/tasks/${name}/run`, { method: 'POST', headers: { authorization: AUTH } });
  assert.equal(res.status, 202, await res.clone().text());
  const { jobId } = (await res.json()) as { jobId: string };
  return waitFor(`task ${name}'s job to be ${status}`, async () => {
    const list = (await (await fetch(`${t.server.url}/-/tasks`, { headers: { authorization: AUTH } })).json()) as { tasks: Array<{ name: string; lastRun: LastRun | null }> };
    const r = list.tasks.find((x) => x.name === name)?.lastRun;
    return r?.jobId === jobId && r.status === status && (status === 'succeeded' || r.lastErrorCode !== undefined) && r;
  });
}

describe('console Tasks page: a dead or failed last run', () => {
  let t: Server;
  before(async () => {
    t = await startConsoleServer({ 'Flaky.yaml': FLAKY, 'Number.yaml': NUMBER }, { OKTELL_MAX_ATTEMPTS: '1' }, { config: TASKS });
  });
  after(async () => t?.cleanup());

  it('a dead one: attempts, last error, job id, the dead letters and how to replay it', { timeout: 60_000 }, async () => {
    const dead = await runTask(t, 'flaky', 'dead');
    const row = await rowOf(t, 'flaky');
    assert.match(row, /<span class="badge st-dead">dead<\/span>/);
    const text = textOf(row);
    assert.match(text, new RegExp(`dead after 1/1 attempts last error ${dead.lastErrorCode} WebRequest "call": GET http://127\\.0\\.0\\.1:1/x: ECONNREFUSED`));
    assert.ok(text.includes(`job ${dead.jobId}: nothing retries it (Dead letters). Replay it Replay job …${dead.jobId.slice(-6)} or with npx oktell-emu replay ${dead.jobId} --data-dir ${t.dataDir}`), text);
    // The button's name is short (the end of the id, said as "Replay job …"); the whole id, shown before it, describes it.
    assert.match(row, new RegExp(`<code class="job-id" id="task-job-${dead.jobId}">${dead.jobId}</code>`));
    assert.match(row, new RegExp(`<button type="submit" class="small" aria-describedby="task-job-${dead.jobId}">Replay<span class="sr-only"> job …${dead.jobId.slice(-6)}</span></button>`));
    assert.match(row, new RegExp(`<form method="post" action="/-/console/jobs/${dead.jobId}/replay" class="inline"><input type="hidden" name="csrf" value="[^"]+">`));
    // The link leads to the dead letters, where the job is.
    const link = /<a href="([^"]+)">Dead letters<\/a>/.exec(row)?.[1];
    assert.equal(link, '/-/console/jobs?status=dead');
    assert.match(await (await get(`${t.server.url}${link}`)).text(), new RegExp(`<tr data-id="${dead.jobId}">`));
  });

  it('a failed one: not retryable, its error text escaped, replayable once fixed', { timeout: 60_000 }, async () => {
    const failed = await runTask(t, 'numbers', 'failed');
    const row = await rowOf(t, 'numbers');
    assert.ok(!row.includes(HOSTILE), 'the error text is not markup');
    assert.ok(row.includes('cannot convert text &quot;&lt;img src=x onerror=alert(1)&gt;&quot; to a number'), row);
    const text = textOf(row);
    assert.match(text, new RegExp(`failed, not retryable \\(attempt 1/1\\) last error ${failed.lastErrorCode} `));
    assert.ok(text.includes(`job ${failed.jobId}: not retried (failed jobs). Replay it once fixed Replay job …${failed.jobId.slice(-6)} or with npx oktell-emu replay ${failed.jobId}`), text);
    assert.match(row, /<a href="\/-\/console\/jobs\?status=failed">failed jobs<\/a>/);
  });

  it('a last run that succeeded says nothing of attempts or replays', { timeout: 60_000 }, async () => {
    await runTask(t, 'quiet', 'succeeded');
    const row = await rowOf(t, 'quiet');
    assert.match(row, /<span class="badge st-succeeded">succeeded<\/span>/);
    assert.doesNotMatch(row, /run-state|attempt|replay/i);
  });
});

describe('console Tasks page: a retrying last run', () => {
  let t: Server;
  before(async () => {
    t = await startConsoleServer({ 'Flaky.yaml': FLAKY, 'Number.yaml': NUMBER }, { OKTELL_MAX_ATTEMPTS: '3', OKTELL_RETRY_BASE_DELAY_MS: '600000' }, { config: TASKS });
  });
  after(async () => t?.cleanup());

  it('says retrying, the attempt of the maximum, the last error and when the next attempt is due', { timeout: 60_000 }, async () => {
    const retrying = await runTask(t, 'flaky', 'queued');
    assert.equal(retrying.attempts, 1);
    const row = await rowOf(t, 'flaky');
    assert.match(row, /<span class="badge st-retrying">retrying<\/span>/);
    const next = retrying.nextAttemptAt!.slice(0, 19).replace('T', ' ');
    assert.match(textOf(row), new RegExp(`attempt 1/3 failed last error ${retrying.lastErrorCode} WebRequest "call": GET http://127\\.0\\.0\\.1:1/x: ECONNREFUSED next attempt ${next} Run now$`));
    assert.doesNotMatch(row, /replay/i, 'a job the server still retries is not for replaying');
  });
});
