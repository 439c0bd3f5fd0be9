// Cancel and Replay by operators of two `serve` instances sharing one PostgreSQL, while both instances' workers claim
// from the same queue: the console of either, two consoles (or a double-click) at once, and the CLI on the same store.
// Whatever the interleaving: no job both runs and is cancelled, no letter goes out for a cancelled job, nothing is lost
// (each job ends succeeded, or dead with R_CANCELLED), each 303 and 409 says what happened, and /-/metrics agrees with
// the store on both instances. Real processes, the Bpium emulator (its employee read held up, so a backlog waits) and
// an SMTP sink.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pg from 'pg';
import { simpleParser } from 'mailparser';
import { signBpiumBody } from '../../adapters/bpium/signature.js';
import { startBpiumEmulator } from '../../bpium-emulator/emulator.js';
import { repoPath, tempDir } from '../helpers.js';
import { smtpError, startSmtpServer } from '../mail/smtp-server.helper.js';
import { AUTH, taskWebhook, USER, waitFor } from '../server/server-helpers.js';
import { dropSchema, querySchema, randomSchemaName, testPostgres, urlWithSchema } from '../store/postgres.helper.js';
import { startInstance, waitHealthy, type Instance } from './scale-helpers.js';

const JOBS = 120;
/**
 * How long each job's read of the employee takes: with one worker per instance the backlog would last ~JOBS × this / 2
 * (36 s), far longer than the steps before the bulk cancel take on a loaded machine; that cancel ends it.
 */
const READ_MS = 600;

type JobRow = { id: string; name: string; status: string; attempts: number; replay_count: number; code: string | null; message: string | null; runs: number; completed: number };

/** A console form POST as the instance's own page sends it: same origin, with the login's form token. */
const tokens = new WeakMap<Instance, string>();
async function form(i: Instance, path: string): Promise<{ status: number; location: string | null; text: string }> {
  if (!tokens.has(i)) {
    const html = await (await fetch(`${i.url}/-/console/dry-run`, { headers: { authorization: AUTH } })).text();
    tokens.set(i, /name="csrf" value="([^"]+)"/.exec(html)![1]!);
  }
  const res = await fetch(`${i.url}/-/console${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { authorization: AUTH, 'content-type': 'application/x-www-form-urlencoded', origin: i.url, 'sec-fetch-site': 'same-origin' },
    // As the console's page that asks to confirm a Cancel or a Replay posts it.
    body: new URLSearchParams({ csrf: tokens.get(i)!, confirm: '1' }).toString(),
  });
  return { status: res.status, location: res.headers.get('location'), text: await res.text() };
}

const scrape = async (i: Instance) => (await fetch(`${i.url}/-/metrics`, { headers: { authorization: AUTH } })).text();
/** One sample of a /-/metrics page (NaN when absent). */
const metric = (text: string, name: string) => Number(new RegExp(`^${name.replace(/[{}"]/g, '\\$&')} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);

describe('cancel and replay on two instances sharing one PostgreSQL, while their workers claim', () => {
  it('no job both runs and is cancelled; no letter for a cancelled job; nothing lost; 303s, 409s and metrics right on both', { timeout: 90_000 }, async (t) => {
    const pgAvailable = await testPostgres();
    if (pgAvailable.skip !== undefined) return t.skip(pgAvailable.skip);
    const url = pgAvailable.url;
    const schema = randomSchemaName('cancel2');
    const tmp = tempDir('oktell-cancel2-');
    const scenarios = join(tmp.dir, 'scenarios');
    cpSync(repoPath('scenarios'), scenarios, { recursive: true });
    const smtp = await startSmtpServer();
    const bpium = await startBpiumEmulator({ port: 0, dataDir: join(tmp.dir, 'bpium') });
    bpium.injectFaults({ delayMs: READ_MS, times: 1_000_000, method: 'GET', pathPrefix: '/api/v1/catalogs/3' });
    const secret = randomBytes(16).toString('hex');
    const store = urlWithSchema(url, schema);
    const env = { store, smtpPort: smtp.port, bpium: { url: bpium.url, login: bpium.login, password: bpium.password }, webhookSecret: secret, users: `${USER.login}:${USER.password}`, workers: 1 };
    const instances: Instance[] = [];
    const sql = <R extends pg.QueryResultRow>(text: string, values: unknown[] = []) => querySchema<R>(url, schema, text, values);
    const jobs = () =>
      sql<JobRow>(
        `SELECT j.id, convert_from(i.body, 'UTF8')::json -> 'payload' -> 'values' ->> '2' AS name, j.status, j.attempts, j.replay_count,
           j.last_error::json ->> 'code' AS code, j.last_error::json ->> 'message' AS message,
           (SELECT COUNT(*)::int FROM runs r WHERE r.job_id = j.id) AS runs,
           (SELECT COUNT(*)::int FROM runs r WHERE r.job_id = j.id AND r.status = 'completed') AS completed
         FROM jobs j JOIN inbox i ON i.id = j.inbox_id ORDER BY j.created_at, j.id`,
      );
    const job = async (id: string) => (await jobs()).find((j) => j.id === id)!;
    /** Queued jobs in the order the workers take them (the last ones wait longest). */
    const queued = async () => (await sql<{ id: string }>(`SELECT id FROM jobs WHERE status = 'queued' ORDER BY priority DESC, next_run_at, id`)).map((r) => r.id);
    const page = async (i: Instance, location: string) => (await fetch(`${i.url}${location}`, { headers: { authorization: AUTH } })).text();
    const cli = (...args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const p = spawn(process.execPath, [repoPath('bin', 'oktell-emu.js'), ...args], { env: { ...process.env, OKTELL_STORE: store, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        p.on('close', (code) => resolve({ code, stdout, stderr }));
      });
    /**
     * Holds the row of job `id` locked from a connection of the test's own while `actions` start, until `waiting` of
     * them wait at their update and the rest had time to read the job (a plain read is not blocked by the lock): so
     * each checks the job while it is still queued and they update it one after the other, as two clicks that arrive
     * together are served. `meanwhile` runs in the lock's transaction just before it ends (a claim by hand).
     */
    const together = async <T>(id: string, actions: Array<() => Promise<T>>, waiting: number | 'each' = 1, meanwhile?: string): Promise<T[]> => {
      const c = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
      await c.connect();
      try {
        await c.query('BEGIN');
        await c.query('SELECT id FROM jobs WHERE id = $1 FOR UPDATE', [id]);
        const me = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
        // The cancels and replays waiting on this lock, or on a session that waits on it (the second of two updates of
        // one row). Only those count: a worker of A or B may wait behind an instance's grouped transaction too, and
        // counting it let the next action start late, after the lock was gone (a CLI that then read the job cancelled
        // already, exit 2, where the test expected it to lose the race, exit 1). pg_stat_activity is read once per
        // transaction unless its snapshot is cleared (a session that connects later would never show).
        const waiters = async () =>
          (await c.query('SELECT pg_stat_clear_snapshot()')) &&
          Number((await c.query<{ n: string }>(`WITH RECURSIVE w(pid) AS (SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))
              UNION SELECT a.pid FROM pg_stat_activity a JOIN w ON w.pid = ANY(pg_blocking_pids(a.pid)))
              SELECT COUNT(*) AS n FROM w JOIN pg_stat_activity a USING (pid)
              WHERE a.query LIKE 'SELECT id, last_error FROM jobs WHERE status = ''queued''%' OR a.query LIKE 'WITH chosen AS (%'`, [me])).rows[0]!.n);
        // In order when `waiting` is each: each starts once the one before waits at its update, so the first takes the job.
        const started: Array<Promise<T>> = [];
        for (const [k, act] of actions.entries()) {
          started.push(act());
          if (waiting === 'each' && k < actions.length - 1) await waitFor(`update ${k + 1} waiting on the locked job`, async () => (await waiters()) > k, 20_000);
        }
        const all = Promise.all(started);
        await waitFor(`${waiting} update(s) waiting on the locked job`, async () => (await waiters()) >= (waiting === 'each' ? actions.length : waiting), 20_000).catch(async (e) => {
          const act = await c.query(`SELECT pid, application_name, state, wait_event_type, pg_blocking_pids(pid) AS b, left(query, 80) AS q FROM pg_stat_activity WHERE datname = current_database()`);
          throw new Error(`${(e as Error).message}: me ${me}: ${JSON.stringify(act.rows)}`);
        });
        await new Promise((r) => setTimeout(r, 400));
        if (meanwhile) await c.query(meanwhile, [id]);
        await c.query('COMMIT');
        return await all;
      } finally {
        await c.end();
      }
    };
    // A Cancel of a job cancelled already is answered as done (as the CLI's cancel twice exits 0): 303 to the notice.
    const CANCELLED_ALREADY = /was already cancelled: it was cancelled by an operator \((the console, login bpium|oktell-emu cancel, [^,()]+), \d{4}-[\d-]+T[\d:.]+Z\)\./;
    const alreadyAt = (id: string) => `/-/console/jobs?status=dead&cancelled=${id}&already=1`;
    try {
      const a = startInstance('A', join(tmp.dir, 'a'), scenarios, env);
      const b = startInstance('B', join(tmp.dir, 'b'), scenarios, env);
      instances.push(a, b);
      await Promise.all([waitHealthy(a), waitHealthy(b)]);

      // A backlog, half of it through each instance.
      for (let i = 0; i < JOBS; i++) {
        const body = taskWebhook({ name: `task-${String(i).padStart(3, '0')}`, responsible: ['2'], sequenceId: 80_000 + i });
        const res = await fetch(`${[a, b][i % 2]!.url}/Bpium/NewTask`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: AUTH, 'x-hook-signature': signBpiumBody(secret, body) }, body });
        assert.equal(res.status, 200, await res.text());
      }
      await waitFor('every job stored', async () => (await jobs()).length === JOBS, 20_000);

      // 1. A's console cancels the job next in line, which B (or A) is about to claim: either it is cancelled (303, a
      // dead letter that never runs) or a worker got it first (409 saying so, and it runs).
      const frontRaces: Array<{ id: string; status: number }> = [];
      for (let k = 0; k < 6; k++) {
        const [next] = await queued();
        const r = await form(a, `/jobs/${next}/cancel`);
        frontRaces.push({ id: next!, status: r.status });
        if (r.status === 303) assert.equal(r.location, `/-/console/jobs?status=dead&cancelled=${next}`);
        else {
          assert.equal(r.status, 409, r.text);
          assert.match(r.text, /The job is claimed by a worker|A worker claimed the job|The job succeeded/, r.text);
        }
        await new Promise((res) => setTimeout(res, READ_MS / 3));
      }

      // 2. A double-click on Cancel (two POSTs to A), then two consoles (A and B) cancelling one job at once: one is
      // cancelled (303); the other is told it was cancelled already (303 to that notice), not that a worker took it.
      const back = await queued();
      const clicked = back.at(-1)!;
      const twice = await together(clicked, [() => form(a, `/jobs/${clicked}/cancel`), () => form(a, `/jobs/${clicked}/cancel`)]);
      assert.deepEqual(twice.map((r) => r.status), [303, 303], JSON.stringify(twice.map((r) => [r.status, r.text.slice(0, 300)])));
      assert.deepEqual(twice.map((r) => r.location).sort(), [`/-/console/jobs?status=dead&cancelled=${clicked}`, alreadyAt(clicked)].sort());
      const secondClick = await page(a, alreadyAt(clicked));
      assert.match(secondClick, CANCELLED_ALREADY, secondClick);
      assert.doesNotMatch(secondClick, /A worker claimed the job/);
      const both = back.at(-2)!;
      const twoConsoles = await together(both, [() => form(a, `/jobs/${both}/cancel`), () => form(b, `/jobs/${both}/cancel`)]);
      assert.deepEqual(twoConsoles.map((r) => r.status), [303, 303]);
      const loser = twoConsoles.findIndex((r) => r.location === alreadyAt(both));
      assert.notEqual(loser, -1, JSON.stringify(twoConsoles.map((r) => r.location)));
      assert.match(await page([a, b][loser]!, alreadyAt(both)), CANCELLED_ALREADY);
      // The winner's notice reads the same on the other instance (the store is shared).
      const winner = twoConsoles[1 - loser]!;
      for (const i of [a, b]) assert.match(await page(i, winner.location!), new RegExp(`Job ${both} is out of the queue: it is a dead letter now \\(R_CANCELLED\\)`));
      // Now that it is cancelled, either console answers it at once as done already.
      for (const i of [a, b]) {
        const r = await form(i, `/jobs/${both}/cancel`);
        assert.equal(r.status, 303);
        assert.equal(r.location, alreadyAt(both));
        assert.match(await page(i, alreadyAt(both)), CANCELLED_ALREADY);
      }

      // 3. The CLI on the same store: a named job, and the same job again (exit 0: cancelled already, said).
      const byCli = back.at(-3)!;
      const c1 = await cli('cancel', byCli, '--json');
      assert.equal(c1.code, 0, c1.stderr);
      assert.deepEqual(JSON.parse(c1.stdout), [byCli]);
      const c2 = await cli('cancel', byCli);
      assert.equal(c2.code, 0, c2.stderr);
      assert.match(c2.stdout, new RegExp(`^job ${byCli} \\(BpiumNewTask\\) was cancelled already \\(cancelled by an operator \\(oktell-emu cancel, [^)]+\\)\\): it is a dead letter; nothing changed\n$`));

      // B's console and the CLI on one job at once (both past their check, the console first at the update): the
      // console cancels it; the CLI does not say a worker took it: the job is cancelled, as asked (exit 0).
      const raced = back.at(-5)!;
      const [rb, rc] = (await together<unknown>(raced, [() => form(b, `/jobs/${raced}/cancel`), () => cli('cancel', raced, '--json')], 'each')) as [Awaited<ReturnType<typeof form>>, Awaited<ReturnType<typeof cli>>];
      assert.equal(rb.status, 303, rb.text);
      assert.equal(rc.code, 0, rc.stderr);
      assert.deepEqual(JSON.parse(rc.stdout), []);
      assert.equal(rc.stderr, '');

      // A worker's claim lands between the console's read and its update (done here by hand, as a worker of a third
      // instance that died at once: its lease has expired, so A or B takes the job over and runs it): 409, the job runs.
      const claimed = back.at(-6)!;
      const [lost] = await together(claimed, [() => form(a, `/jobs/${claimed}/cancel`)], 1,
        `UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_owner = 'gone:1:w1', lease_expires_at = 0, claimed_at = 0 WHERE id = $1`);
      assert.equal(lost!.status, 409, lost!.text);
      // Its worker is gone (the lease ran out): no advice to stop a server, but that a server takes it over.
      assert.match(lost!.text, /A worker claimed the job after the page was drawn: it was not cancelled\. The job is claimed by a worker: its attempt is under way, or, claimed ahead during a burst, it waits for a free slot of that worker\. Its worker \(gone:1:w1\) stopped renewing its claim, whose lease ran out at 1970-01-01T00:00:00\.000Z: its server was stopped or killed \(or hangs\), so there is no server to stop for it: a server takes the job over .*Cancel works once the job is back in the queue: if that attempt fails and waits for a retry, cancel it then/);
      assert.doesNotMatch(lost!.text, /stop the server/);

      // 4. Cancel (A's console), Replay (B's console), Cancel again (the CLI): a dead letter at the end, replayed once, never run.
      const thrice = back.at(-4)!;
      assert.equal((await form(a, `/jobs/${thrice}/cancel`)).status, 303);
      const rp = await form(b, `/jobs/${thrice}/replay`);
      assert.equal(rp.status, 303, rp.text);
      assert.equal(rp.location, `/-/console/runs?job=${thrice}&replayed=1`);
      assert.equal((await job(thrice)).status, 'queued');
      const c3 = await cli('cancel', thrice, '--json');
      assert.equal(c3.code, 0, `${c3.code} ${c3.stdout} ${c3.stderr}`);
      assert.deepEqual(JSON.parse(c3.stdout), [thrice]);

      // 5. `cancel --status queued` while both instances' workers claim: what it names is cancelled, the rest ran.
      const bulk = await cli('cancel', '--status', 'queued', '--json');
      assert.equal(bulk.code, 0, bulk.stderr);
      const bulkIds = JSON.parse(bulk.stdout) as string[];
      assert.ok(bulkIds.length > 10, `the bulk cancel found a backlog (${bulkIds.length})`);
      assert.ok(bulkIds.includes(thrice) === false && bulkIds.includes(clicked) === false);

      // 6. B's console replays a job A's console cancelled, twice at once with A's console: it runs once.
      const replayed = clicked;
      const replays = await together(replayed, [() => form(b, `/jobs/${replayed}/replay`), () => form(a, `/jobs/${replayed}/replay`)]);
      for (const r of replays) assert.equal(r.status, 303, r.text);

      // The end: nothing queued or running.
      await waitFor('the queue to drain', async () => (await jobs()).every((j) => j.status !== 'queued' && j.status !== 'running'), 40_000);
      // A letter sent late would show now.
      await new Promise((r) => setTimeout(r, 500));
      const letters = new Map<string, number>();
      for (const m of await Promise.all(smtp.letters.map((l) => simpleParser(l.raw)))) {
        const name = (m.subject ?? '').replace('Новая задача: ', '');
        letters.set(name, (letters.get(name) ?? 0) + 1);
      }
      const all = await jobs();
      const ended = all.map((j) => `${j.name} ${j.status}${j.code ? ` ${j.code}` : ''}`);
      for (const j of all) {
        if (j.status === 'succeeded') {
          assert.equal(letters.get(j.name), 1, `${j.name} succeeded: one letter`);
          // The job taken over from the vanished worker keeps a run for that worker's attempt, failed.
          assert.deepEqual([j.runs, j.completed], [j.id === claimed ? 2 : 1, 1], `${j.name} ran once`);
          assert.equal(j.attempts, j.id === claimed ? 2 : 1, `${j.name}: one attempt (the one taken over from the vanished worker: its second)`);
        } else {
          assert.equal(j.status, 'dead', `${j.name} ended succeeded or dead: ${ended.join(', ')}`);
          assert.equal(j.code, 'R_CANCELLED', `${j.name} is dead only for a cancel`);
          assert.equal(letters.get(j.name), undefined, `no letter for the cancelled ${j.name}`);
          assert.equal(j.runs, 0, `the cancelled ${j.name} never ran`);
        }
      }
      // Each cancel said 303 of exactly the jobs that ended cancelled, and 409 of those that ran.
      for (const f of frontRaces) assert.equal((await job(f.id)).status, f.status === 303 ? 'dead' : 'succeeded', JSON.stringify(f));
      for (const id of bulkIds) assert.equal((await job(id)).code, 'R_CANCELLED');
      assert.equal((await job(claimed)).status, 'succeeded', 'the job a worker claimed before the cancel ran');
      const r6 = await job(replayed);
      assert.deepEqual([r6.status, r6.replay_count, r6.runs, letters.get(r6.name)], ['succeeded', 1, 1, 1], 'the job replayed from two consoles at once ran once');
      const r4 = await job(thrice);
      assert.deepEqual([r4.status, r4.code, r4.replay_count, r4.runs], ['dead', 'R_CANCELLED', 1, 0]);
      assert.match(r4.message ?? '', /^cancelled by an operator \(oktell-emu cancel, /);
      const cancelledCount = all.filter((j) => j.status === 'dead').length;
      const succeeded = all.filter((j) => j.status === 'succeeded').length;
      assert.equal(cancelledCount + succeeded, JOBS);
      assert.equal(smtp.letters.length, succeeded, 'one letter per succeeded job, none for a cancelled one');

      // /-/metrics on each instance: the store's counts, the same on both; the attempts and letters of the two add up.
      const scrapes = await Promise.all([a, b].map(scrape));
      for (const m of scrapes) {
        assert.equal(metric(m, 'oktell_jobs{status="dead"}'), cancelledCount);
        assert.equal(metric(m, 'oktell_jobs{status="succeeded"}'), succeeded);
        assert.equal(metric(m, 'oktell_jobs{status="queued"}'), 0);
        assert.equal(metric(m, 'oktell_jobs{status="running"}'), 0);
      }
      const sum = (name: string) => scrapes.reduce((s, m) => s + (metric(m, name) || 0), 0);
      assert.equal(sum('oktell_job_attempts_total{outcome="succeeded"}'), succeeded, 'every attempt that succeeded is counted once, by the instance that ran it');
      assert.equal(sum('oktell_job_attempts_total{outcome="dead"}'), 0, 'a cancel is not an attempt');
      assert.equal(sum('oktell_letters_total{outcome="sent"}'), succeeded);
      assert.ok(scrapes.every((m) => metric(m, 'oktell_job_attempts_total{outcome="succeeded"}') > 0), 'both instances ran jobs');
      t.diagnostic(`front-of-queue cancels ${frontRaces.map((f) => f.status).join(' ')}; bulk cancelled ${bulkIds.length}; succeeded ${succeeded}; cancelled ${cancelledCount}`);
    } finally {
      await Promise.all(instances.map((i) => i.stop()));
      await bpium.close();
      await smtp.close();
      await dropSchema(url, schema).catch(() => undefined);
      tmp.cleanup();
    }
  });
  it('SMTP refusing: jobs retry on either instance; both consoles cancel each between attempts; with SMTP back no cancelled job sends, a replayed one sends once', { timeout: 90_000 }, async (t) => {
    const pgAvailable = await testPostgres();
    if (pgAvailable.skip !== undefined) return t.skip(pgAvailable.skip);
    const url = pgAvailable.url;
    const schema = randomSchemaName('cancel2r');
    const tmp = tempDir('oktell-cancel2r-');
    const scenarios = join(tmp.dir, 'scenarios');
    cpSync(repoPath('scenarios'), scenarios, { recursive: true });
    // 451 to every MAIL FROM while `down`: a transient failure, so each job's attempt fails and it waits for a retry.
    let down = true;
    const smtp = await startSmtpServer({ mailFrom: () => (down ? smtpError(451, 'try again later') : undefined) });
    const bpium = await startBpiumEmulator({ port: 0, dataDir: join(tmp.dir, 'bpium') });
    const secret = randomBytes(16).toString('hex');
    const env = {
      store: urlWithSchema(url, schema),
      smtpPort: smtp.port,
      bpium: { url: bpium.url, login: bpium.login, password: bpium.password },
      webhookSecret: secret,
      users: `${USER.login}:${USER.password}`,
      workers: 2,
      extra: { OKTELL_RETRY_BASE_DELAY_MS: '300', OKTELL_RETRY_MAX_DELAY_MS: '600' },
    };
    const instances: Instance[] = [];
    const sql = <R extends pg.QueryResultRow>(text: string, values: unknown[] = []) => querySchema<R>(url, schema, text, values);
    const jobs = () =>
      sql<JobRow & { failed: number }>(
        `SELECT j.id, convert_from(i.body, 'UTF8')::json -> 'payload' -> 'values' ->> '2' AS name, j.status, j.attempts, j.replay_count,
           j.last_error::json ->> 'code' AS code, (SELECT COUNT(*)::int FROM runs r WHERE r.job_id = j.id) AS runs,
           (SELECT COUNT(*)::int FROM runs r WHERE r.job_id = j.id AND r.status = 'completed') AS completed,
           (SELECT COUNT(*)::int FROM runs r WHERE r.job_id = j.id AND r.status = 'failed') AS failed
         FROM jobs j JOIN inbox i ON i.id = j.inbox_id ORDER BY j.created_at, j.id`,
      );
    const N = 8;
    try {
      const a = startInstance('A', join(tmp.dir, 'a'), scenarios, env);
      const b = startInstance('B', join(tmp.dir, 'b'), scenarios, env);
      instances.push(a, b);
      await Promise.all([waitHealthy(a), waitHealthy(b)]);
      for (let i = 0; i < N; i++) {
        const body = taskWebhook({ name: `retry-${i}`, responsible: ['2'], sequenceId: 90_000 + i });
        const res = await fetch(`${[a, b][i % 2]!.url}/Bpium/NewTask`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: AUTH, 'x-hook-signature': signBpiumBody(secret, body) }, body });
        assert.equal(res.status, 200);
      }
      await waitFor('every job to have failed an attempt', async () => (await jobs()).filter((j) => j.failed > 0).length === N, 30_000);

      // Cancel each from A's and B's console in turn until it is taken between two attempts; meanwhile a 409 says it runs.
      const refusals = new Map<string, number>();
      const cancelled = new Set<string>();
      for (let round = 0; cancelled.size < N; round++) {
        assert.ok(round < 400, `every job cancelled between its attempts (${cancelled.size}/${N})`);
        for (const j of await jobs()) {
          if (cancelled.has(j.id)) continue;
          const r = await form([a, b][round % 2]!, `/jobs/${j.id}/cancel`);
          if (r.status === 303) cancelled.add(j.id);
          else {
            assert.equal(r.status, 409, r.text);
            const why = /<p class="notice bad">([^<]*)<\/p>/.exec(r.text)![1]!.replace(/\d+\/\d+/, 'n/m');
            assert.match(why, /^(The job is claimed by a worker: its attempt is under way, or, claimed ahead during a burst, it waits for a free slot of that worker \(attempt n\/m\); |A worker claimed the job after the page was drawn: it was not cancelled\. )/);
            refusals.set(why.slice(0, 40), (refusals.get(why.slice(0, 40)) ?? 0) + 1);
          }
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      const afterCancel = await jobs();
      for (const j of afterCancel) assert.deepEqual([j.status, j.code, j.completed], ['dead', 'R_CANCELLED', 0], j.name);

      // SMTP is back. B's console replays three of them; the other five stay dead letters and send nothing.
      down = false;
      const replayed = afterCancel.slice(0, 3);
      for (const j of replayed) assert.equal((await form(b, `/jobs/${j.id}/replay`)).status, 303);
      await waitFor('the replayed jobs to succeed', async () => (await jobs()).filter((j) => j.status === 'succeeded').length === 3, 30_000);
      // Longer than a retry's wait: a cancelled job that still ran would have sent by now.
      await new Promise((r) => setTimeout(r, 1500));
      const subjects = (await Promise.all(smtp.letters.map((l) => simpleParser(l.raw)))).map((m) => (m.subject ?? '').replace('Новая задача: ', '')).sort();
      assert.deepEqual(subjects, replayed.map((j) => j.name).sort(), 'one letter for each replayed job, none for a cancelled one');
      const end = await jobs();
      for (const j of end) {
        if (replayed.some((r) => r.id === j.id)) assert.deepEqual([j.status, j.completed, j.replay_count], ['succeeded', 1, 1], j.name);
        else assert.deepEqual([j.status, j.code, j.completed, j.runs], ['dead', 'R_CANCELLED', 0, j.failed], j.name);
      }
      const failedRuns = end.reduce((n, j) => n + j.failed, 0);
      const scrapes = await Promise.all([a, b].map(scrape));
      for (const m of scrapes) {
        assert.equal(metric(m, 'oktell_jobs{status="dead"}'), N - 3);
        assert.equal(metric(m, 'oktell_jobs{status="succeeded"}'), 3);
        assert.equal(metric(m, 'oktell_jobs{status="queued"}'), 0);
      }
      const sum = (name: string) => scrapes.reduce((n, m) => n + (metric(m, name) || 0), 0);
      assert.equal(sum('oktell_job_attempts_total{outcome="succeeded"}'), 3);
      assert.equal(sum('oktell_job_attempts_total{outcome="retry"}'), failedRuns, 'each failed attempt counted once, by the instance that ran it');
      assert.equal(sum('oktell_letters_total{outcome="failed"}'), failedRuns);
      assert.equal(sum('oktell_letters_total{outcome="sent"}'), 3);
      assert.equal(sum('oktell_letters_dead_total'), 0, 'a cancelled job gave no letter up');
      t.diagnostic(`failed attempts ${failedRuns}; refusals ${JSON.stringify([...refusals])}`);
    } finally {
      await Promise.all(instances.map((i) => i.stop()));
      await bpium.close();
      await smtp.close();
      await dropSchema(url, schema).catch(() => undefined);
      tmp.cleanup();
    }
  });
});
