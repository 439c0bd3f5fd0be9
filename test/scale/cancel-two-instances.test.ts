// Cancel and Replay by operators of two `serve` instances sharing one PostgreSQL, while both instances' workers claim
// from the same queue: the console of either, two consoles (or a double-click) at once, and the CLI on the same store.
// A queued job is taken out of the queue (a dead letter R_CANCELLED that never runs); a running one, on whichever
// instance holds it, has its cancel requested (303, exit 0) and stops at its next block boundary (the same dead letter),
// or succeeds if its attempt ends first. Whatever the interleaving: no job is cancelled twice (one request kept, one
// dead letter), no letter is cut or goes out after its job was stopped (each job's letters are those its runs recorded
// as sent), nothing is lost (each job ends succeeded, or dead with R_CANCELLED), each 303 and 409 says what happened,
// and /-/metrics agrees with the store on both instances. Real processes, the Bpium emulator (its employee read held
// up, so a backlog waits; the read of employee 3 held up long, so that a job runs while it is cancelled) and an SMTP sink.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
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
/**
 * How long the read of employee 3 takes: the jobs of a task given to employee 3 run this long, many lease renewals
 * (a third of LEASE_MS each), so that their cancel is certainly requested, and seen, while they run (the copied
 * scenario's read waits up to 60 s instead of 10, so that it does not time out first).
 */
const SLOW_MS = 15_000;
/** The lease: renewed, and the cancel requests read, every 2 s; long enough for a loaded machine not to lose one. */
const LEASE_MS = 6000;

type JobRow = {
  id: string; name: string; status: string; attempts: number; replay_count: number; code: string | null; message: string | null; runs: number; completed: number;
  /** The letters its runs recorded as sent. */
  mailed: number;
  /** jobs.cancel_request: who requested a cancel while it ran (kept after its end). */
  request_by: string | null;
};

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

/** A running job's Cancel from the console: 303 to the running jobs, saying the cancel is requested. */
const requestedAt = (id: string) => `/-/console/jobs?status=running&cancelRequested=${id}`;

describe('cancel and replay on two instances sharing one PostgreSQL, while their workers claim', () => {
  it('a queued job cancelled never runs; a running one stops at a block boundary on its instance; none cancelled twice; no letter cut; nothing lost; 303s, 409s and metrics right on both', { timeout: 120_000 }, async (t) => {
    const pgAvailable = await testPostgres();
    if (pgAvailable.skip !== undefined) return t.skip(pgAvailable.skip);
    const url = pgAvailable.url;
    const schema = randomSchemaName('cancel2');
    const tmp = tempDir('oktell-cancel2-');
    const scenarios = join(tmp.dir, 'scenarios');
    cpSync(repoPath('scenarios'), scenarios, { recursive: true });
    // The read of an employee waits up to 60 s (SLOW_MS's read must not time out before its cancel is seen).
    const newTask = join(scenarios, 'BpiumNewTask.yaml');
    const shipped = readFileSync(newTask, 'utf8');
    assert.match(shipped, /^    timeout: 10$/m);
    writeFileSync(newTask, shipped.replace(/^    timeout: 10$/m, '    timeout: 60'));
    const smtp = await startSmtpServer();
    const bpium = await startBpiumEmulator({ port: 0, dataDir: join(tmp.dir, 'bpium') });
    // The first fault that matches answers: employee 3's first, then every other read of the users catalog.
    bpium.injectFaults(
      { delayMs: SLOW_MS, times: 1_000_000, method: 'GET', pathPrefix: '/api/v1/catalogs/3/records/3' },
      { delayMs: READ_MS, times: 1_000_000, method: 'GET', pathPrefix: '/api/v1/catalogs/3' },
    );
    const secret = randomBytes(16).toString('hex');
    const store = urlWithSchema(url, schema);
    const env = { store, smtpPort: smtp.port, bpium: { url: bpium.url, login: bpium.login, password: bpium.password }, webhookSecret: secret, users: `${USER.login}:${USER.password}`, workers: 1, leaseMs: LEASE_MS };
    const instances: Instance[] = [];
    const sql = <R extends pg.QueryResultRow>(text: string, values: unknown[] = []) => querySchema<R>(url, schema, text, values);
    const jobs = () =>
      sql<JobRow>(
        `SELECT j.id, convert_from(i.body, 'UTF8')::json -> 'payload' -> 'values' ->> '2' AS name, j.status, j.attempts, j.replay_count,
           j.last_error::json ->> 'code' AS code, j.last_error::json ->> 'message' AS message,
           (SELECT COUNT(*)::int FROM runs r WHERE r.job_id = j.id) AS runs,
           (SELECT COUNT(*)::int FROM runs r WHERE r.job_id = j.id AND r.status = 'completed') AS completed,
           (SELECT COUNT(*)::int FROM runs r, json_array_elements(COALESCE(r.mails, '[]')::json) m WHERE r.job_id = j.id AND m ->> 'status' = 'sent') AS mailed,
           j.cancel_request::json ->> 'by' AS request_by
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

      // Each job whose cancel was requested while it ran, and how its Cancel was answered, for the end.
      const requestedIds = new Set<string>();

      // 1. A's console cancels the job next in line, which B (or A) is about to claim: either it is cancelled while
      // queued (303 to the dead letters: it never runs), or a worker got it first and its cancel is requested (303 to
      // the running jobs: it stops at its next block boundary, or succeeds if its attempt ends first), or its attempt
      // had ended already (409 saying so).
      const frontRaces: Array<{ id: string; status: number; location: string | null }> = [];
      for (let k = 0; k < 6; k++) {
        const [next] = await queued();
        const r = await form(a, `/jobs/${next}/cancel`);
        frontRaces.push({ id: next!, status: r.status, location: r.location });
        if (r.status === 303) {
          assert.ok([`/-/console/jobs?status=dead&cancelled=${next}`, requestedAt(next!)].includes(r.location!), r.location!);
          if (r.location === requestedAt(next!)) requestedIds.add(next!);
        } else {
          assert.equal(r.status, 409, r.text);
          assert.match(r.text, /The job succeeded|The job's attempt ended while this Cancel was under way/, r.text);
        }
        await new Promise((res) => setTimeout(res, READ_MS / 3));
      }

      // 2. A double-click on Cancel (two POSTs to A), then two consoles (A and B) cancelling one queued job at once: one
      // cancels it (303); the other is told it was cancelled already (303 to that notice), not that a worker took it.
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

      // 3. The CLI on the same store: a named queued job, and the same job again (exit 0: cancelled already, said).
      const byCli = back.at(-3)!;
      const c1 = await cli('cancel', byCli, '--json');
      assert.equal(c1.code, 0, c1.stderr);
      assert.deepEqual(JSON.parse(c1.stdout), [byCli]);
      const c2 = await cli('cancel', byCli);
      assert.equal(c2.code, 0, c2.stderr);
      assert.match(c2.stdout, new RegExp(`^job ${byCli} \\(BpiumNewTask\\) was cancelled already \\(cancelled by an operator \\(oktell-emu cancel, [^)]+\\)\\): it is a dead letter; nothing changed\n$`));

      // B's console and the CLI on one queued job at once (both past their check, the console first at the update): the
      // console cancels it; the CLI does not say a worker took it: the job is cancelled, as asked (exit 0).
      const raced = back.at(-5)!;
      const [rb, rc] = (await together<unknown>(raced, [() => form(b, `/jobs/${raced}/cancel`), () => cli('cancel', raced, '--json')], 'each')) as [Awaited<ReturnType<typeof form>>, Awaited<ReturnType<typeof cli>>];
      assert.equal(rb.status, 303, rb.text);
      assert.equal(rc.code, 0, rc.stderr);
      assert.deepEqual(JSON.parse(rc.stdout), []);
      assert.equal(rc.stderr, '');

      // A worker's claim lands between the console's read and its update (done here by hand, as a worker of a third
      // instance that died at once: its lease has expired, so A or B takes the job over): the Cancel confirmed for a
      // queued job requests the running one's cancel instead (303), and the instance that takes it over stops it before
      // its first block (or, had it taken it over before the request and finished first, it succeeded).
      const claimed = back.at(-6)!;
      const [lost] = await together(claimed, [() => form(a, `/jobs/${claimed}/cancel`)], 1,
        `UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_owner = 'gone:1:w1', lease_expires_at = 0, claimed_at = 0 WHERE id = $1`);
      assert.equal(lost!.status, 303, lost!.text);
      assert.equal(lost!.location, requestedAt(claimed));
      requestedIds.add(claimed);

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

      // 6. Two jobs that run long (their employee's read held up SLOW_MS), one on each instance (one worker each), are
      // cancelled while they run: the first from A's and B's consoles at once, the second from B's console and the CLI
      // at once. Each cancel is a request (303; exit 0), one kept per job; the instance that holds each stops it at its
      // next block boundary, after the read (not cut) and before the letter.
      await waitFor('the backlog to be run', async () => (await jobs()).every((j) => j.status !== 'queued' && j.status !== 'running'), 40_000);
      const slow: string[] = [];
      for (const [k, i] of [a, b].entries()) {
        const body = taskWebhook({ name: `slow-${k}`, responsible: ['3'], sequenceId: 85_000 + k });
        const res = await fetch(`${i.url}/Bpium/NewTask`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: AUTH, 'x-hook-signature': signBpiumBody(secret, body) }, body });
        assert.equal(res.status, 200, await res.text());
      }
      const owners = await waitFor('both long jobs running, one on each instance', async () => {
        const rows = await sql<{ id: string; name: string; lease_owner: string }>(
          `SELECT j.id, convert_from(i.body, 'UTF8')::json -> 'payload' -> 'values' ->> '2' AS name, j.lease_owner FROM jobs j JOIN inbox i ON i.id = j.inbox_id WHERE j.status = 'running' ORDER BY name`);
        return rows.length === 2 && rows.every((r) => r.name.startsWith('slow-')) && rows;
      }, 20_000);
      slow.push(...owners.map((r) => r.id));
      const [slowA, slowB] = slow as [string, string];
      // An instance holds no more jobs than it has workers (one): each holds one.
      assert.notEqual(owners[0]!.lease_owner, owners[1]!.lease_owner, 'one long job on each instance');
      const atOnce = await together(slowA, [() => form(a, `/jobs/${slowA}/cancel`), () => form(b, `/jobs/${slowA}/cancel`)], 2);
      assert.deepEqual(atOnce.map((r) => [r.status, r.location]), [[303, requestedAt(slowA)], [303, requestedAt(slowA)]], JSON.stringify(atOnce.map((r) => r.text.slice(0, 300))));
      for (const i of [a, b]) assert.match(await page(i, requestedAt(slowA)), new RegExp(`Job ${slowA}: cancel requested by the console, login ${USER.login} at [^:]+:[^<]*: its attempt stops at its next block boundary`));
      const [rbSlow, rcSlow] = (await together<unknown>(slowB, [() => form(b, `/jobs/${slowB}/cancel`), () => cli('cancel', slowB)], 'each')) as [Awaited<ReturnType<typeof form>>, Awaited<ReturnType<typeof cli>>];
      assert.deepEqual([rbSlow.status, rbSlow.location], [303, requestedAt(slowB)], rbSlow.text);
      assert.equal(rcSlow.code, 0, rcSlow.stderr);
      assert.match(rcSlow.stdout, new RegExp(`^job ${slowB} \\(BpiumNewTask\\) is running with a cancel requested by the console, login ${USER.login} at \\S+ already: its attempt stops at its next block boundary; nothing changed\n$`));
      // The CLI once the request is pending: said, exit 0, nothing changed.
      const c4 = await cli('cancel', slowA, '--json');
      assert.deepEqual([c4.code, c4.stdout], [0, '[]\n'], c4.stderr);
      for (const id of slow) requestedIds.add(id);
      for (const id of slow) assert.equal((await job(id)).request_by, `the console, login ${USER.login}`, 'one request kept, the first one');

      // 7. B's console replays a job A's console cancelled, twice at once with A's console: it runs once.
      const replayed = clicked;
      const replays = await together(replayed, [() => form(b, `/jobs/${replayed}/replay`), () => form(a, `/jobs/${replayed}/replay`)]);
      for (const r of replays) assert.equal(r.status, 303, r.text);

      // The end: nothing queued or running.
      await waitFor('the queue to drain', async () => (await jobs()).every((j) => j.status !== 'queued' && j.status !== 'running'), 60_000);
      // A letter sent late would show now.
      await new Promise((r) => setTimeout(r, 500));
      const letters = new Map<string, number>();
      for (const m of await Promise.all(smtp.letters.map((l) => simpleParser(l.raw)))) {
        const name = (m.subject ?? '').replace('Новая задача: ', '');
        letters.set(name, (letters.get(name) ?? 0) + 1);
      }
      const all = await jobs();
      const ended = all.map((j) => `${j.name} ${j.status}${j.code ? ` ${j.code}` : ''}`);
      const CANCELLED_RUNNING = /^cancelled by an operator \((the console, login bpium|oktell-emu cancel, [^,()]+), \d{4}-[\d-]+T[\d:.]+Z\): its running attempt (stopped at a block boundary|failed before it stopped, and is not retried)$/;
      for (const j of all) {
        // No letter cut, none twice, none after its job stopped: what the SMTP server got is what the runs recorded as sent.
        assert.equal(letters.get(j.name) ?? 0, j.mailed, `${j.name}: the letters received are those its runs recorded as sent`);
        assert.ok(j.mailed <= 1, `${j.name}: at most one letter`);
        // A job taken over from the vanished worker keeps a run for that worker's attempt, failed.
        const runsBefore = j.id === claimed ? 1 : 0;
        if (j.status === 'succeeded') {
          assert.equal(j.mailed, 1, `${j.name} succeeded: one letter`);
          assert.deepEqual([j.runs, j.completed], [runsBefore + 1, 1], `${j.name} ran once`);
          assert.equal(j.attempts, runsBefore + 1, `${j.name}: one attempt (the one taken over from the vanished worker: its second)`);
          // A request that came too late is kept (show and the console say so); none on a job nobody cancelled.
          assert.equal(j.request_by !== null, requestedIds.has(j.id), `${j.name}: its cancel request ${j.request_by}`);
        } else {
          assert.equal(j.status, 'dead', `${j.name} ended succeeded or dead: ${ended.join(', ')}`);
          assert.equal(j.code, 'R_CANCELLED', `${j.name} is dead only for a cancel`);
          assert.equal(j.completed, 0, `${j.name}: no attempt of the cancelled job completed`);
          if (requestedIds.has(j.id)) {
            // Stopped at a block boundary by the instance that held it: one run of its own, failed (R_CANCELLED).
            assert.match(j.message ?? '', CANCELLED_RUNNING, j.name);
            assert.equal(j.runs, runsBefore + 1, `${j.name}: its running attempt's run`);
            assert.ok(j.request_by, `${j.name}: its request kept`);
          } else {
            assert.doesNotMatch(j.message ?? '', /running attempt/);
            assert.equal(j.mailed, 0, `no letter for the cancelled ${j.name}`);
            assert.equal(j.runs, 0, `the cancelled ${j.name} never ran`);
            assert.equal(j.request_by, null, `${j.name}: cancelled while queued, no request`);
          }
        }
      }
      // Each cancel said 303 of exactly the jobs it cancelled or stopped, 409 of those that had ended.
      for (const f of frontRaces) {
        const j = await job(f.id);
        if (f.status === 409) assert.equal(j.status, 'succeeded', JSON.stringify(f));
        else if (f.location === requestedAt(f.id)) assert.ok(j.status === 'succeeded' || j.code === 'R_CANCELLED', JSON.stringify(f));
        else assert.deepEqual([j.status, j.runs], ['dead', 0], JSON.stringify(f));
      }
      for (const id of bulkIds) assert.equal((await job(id)).code, 'R_CANCELLED');
      // The two long jobs stopped after their read, before their letter, each on the instance that held it.
      for (const id of slow) {
        const j = await job(id);
        assert.deepEqual([j.status, j.code, j.runs, j.mailed, letters.get(j.name)], ['dead', 'R_CANCELLED', 1, 0, undefined], j.name);
        assert.match(j.message ?? '', /^cancelled by an operator \(the console, login bpium, [^)]+\): its running attempt stopped at a block boundary$/);
        const run = (await sql<{ error: string; worker_id: string }>(`SELECT error::json ->> 'message' AS error, worker_id FROM runs WHERE job_id = $1`, [id]))[0]!;
        assert.match(run.error, /^stopped before block "notify": cancel requested by the console, login bpium at /);
        assert.equal(run.worker_id, owners.find((o) => o.id === id)!.lease_owner, 'stopped by the worker that held it');
      }
      const r6 = await job(replayed);
      assert.deepEqual([r6.status, r6.replay_count, r6.runs, letters.get(r6.name)], ['succeeded', 1, 1, 1], 'the job replayed from two consoles at once ran once');
      const r4 = await job(thrice);
      assert.deepEqual([r4.status, r4.code, r4.replay_count, r4.runs], ['dead', 'R_CANCELLED', 1, 0]);
      assert.match(r4.message ?? '', /^cancelled by an operator \(oktell-emu cancel, /);
      const cancelledCount = all.filter((j) => j.status === 'dead').length;
      const stopped = all.filter((j) => j.status === 'dead' && requestedIds.has(j.id)).length;
      const succeeded = all.filter((j) => j.status === 'succeeded').length;
      assert.equal(cancelledCount + succeeded, JOBS + slow.length);
      assert.equal(smtp.letters.length, all.reduce((n, j) => n + j.mailed, 0), 'one letter per letter recorded as sent');

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
      assert.equal(sum('oktell_job_attempts_total{outcome="dead"}'), stopped, 'an attempt stopped for a cancel is counted once; a queued job\'s cancel is not an attempt');
      assert.equal(sum('oktell_letters_total{outcome="sent"}'), smtp.letters.length);
      assert.ok(scrapes.every((m) => metric(m, 'oktell_job_attempts_total{outcome="succeeded"}') > 0), 'both instances ran jobs');
      t.diagnostic(`front-of-queue cancels ${frontRaces.map((f) => (f.location === requestedAt(f.id) ? 'requested' : f.status)).join(' ')}; bulk cancelled ${bulkIds.length}; succeeded ${succeeded}; cancelled ${cancelledCount} (${stopped} of them stopped while running)`);
    } finally {
      await Promise.all(instances.map((i) => i.stop()));
      await bpium.close();
      await smtp.close();
      await dropSchema(url, schema).catch(() => undefined);
      tmp.cleanup();
    }
  });
  it('SMTP refusing: jobs retry on either instance; both consoles cancel each, between attempts or during one; with SMTP back no cancelled job sends, a replayed one sends once', { timeout: 90_000 }, async (t) => {
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
           j.last_error::json ->> 'code' AS code, j.last_error::json ->> 'message' AS message, (SELECT COUNT(*)::int FROM runs r WHERE r.job_id = j.id) AS runs,
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

      // Cancel each from A's and B's console in turn: a job waiting for its retry is taken out of the queue (303 to the
      // dead letters); one whose attempt runs has its cancel requested (303 to the running jobs), and that attempt, which
      // fails on SMTP, is not retried (or stops at a block boundary before its letter): the same dead letter. A 409 only
      // when the job moved between the page's read and the update (an attempt that ended, or began and ended).
      const refusals = new Map<string, number>();
      const cancelled = new Map<string, 'queued' | 'running'>();
      for (let round = 0; cancelled.size < N; round++) {
        assert.ok(round < 400, `every job cancelled (${cancelled.size}/${N})`);
        for (const j of await jobs()) {
          if (cancelled.has(j.id)) continue;
          const r = await form([a, b][round % 2]!, `/jobs/${j.id}/cancel`);
          if (r.status === 303) {
            assert.ok([`/-/console/jobs?status=dead&cancelled=${j.id}`, requestedAt(j.id)].includes(r.location!), r.location!);
            cancelled.set(j.id, r.location === requestedAt(j.id) ? 'running' : 'queued');
          } else {
            assert.equal(r.status, 409, r.text);
            const why = /<p class="notice bad">([^<]*)<\/p>/.exec(r.text)![1]!;
            // (The page escapes the apostrophe.)
            assert.match(why, /^(The job(?:'|&#39;)s attempt ended while this Cancel was under way: it is queued now, and its cancel was not requested|The job left the queue and came back to it while this Cancel was under way)/);
            refusals.set(why.slice(0, 40), (refusals.get(why.slice(0, 40)) ?? 0) + 1);
          }
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      // A running one ends when its attempt does.
      await waitFor('every job a dead letter', async () => (await jobs()).every((j) => j.status === 'dead'), 30_000);
      const afterCancel = await jobs();
      for (const j of afterCancel) {
        assert.deepEqual([j.status, j.code, j.completed], ['dead', 'R_CANCELLED', 0], j.name);
        // One cancel per job: taken out of the queue, or its running attempt ended for the request.
        assert.equal(/its running attempt/.test(j.message ?? ''), cancelled.get(j.id) === 'running', `${j.name}: ${j.message}`);
      }

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
      // The attempts that ended for a request: not retried (dead); those stopped at a block boundary tried no letter.
      const whileRunning = afterCancel.filter((j) => cancelled.get(j.id) === 'running').length;
      const stoppedAtBoundary = afterCancel.filter((j) => /stopped at a block boundary/.test(j.message ?? '')).length;
      const scrapes = await Promise.all([a, b].map(scrape));
      for (const m of scrapes) {
        assert.equal(metric(m, 'oktell_jobs{status="dead"}'), N - 3);
        assert.equal(metric(m, 'oktell_jobs{status="succeeded"}'), 3);
        assert.equal(metric(m, 'oktell_jobs{status="queued"}'), 0);
      }
      const sum = (name: string) => scrapes.reduce((n, m) => n + (metric(m, name) || 0), 0);
      assert.equal(sum('oktell_job_attempts_total{outcome="succeeded"}'), 3);
      assert.equal(sum('oktell_job_attempts_total{outcome="retry"}'), failedRuns - whileRunning, 'each failed attempt counted once, by the instance that ran it');
      assert.equal(sum('oktell_job_attempts_total{outcome="dead"}'), whileRunning, 'an attempt that ended for a cancel request is not retried');
      assert.equal(sum('oktell_letters_total{outcome="failed"}'), failedRuns - stoppedAtBoundary);
      assert.equal(sum('oktell_letters_total{outcome="sent"}'), 3);
      // Given up on: the letter that failed in the attempt a cancel request ended (not retried); none of a job taken
      // out of the queue.
      assert.equal(sum('oktell_letters_dead_total'), whileRunning - stoppedAtBoundary, 'the letters of the attempts that ended for a cancel request are given up, once each');
      t.diagnostic(`failed attempts ${failedRuns}; cancelled while running ${whileRunning} (${stoppedAtBoundary} stopped at a block boundary); refusals ${JSON.stringify([...refusals])}`);
    } finally {
      await Promise.all(instances.map((i) => i.stop()));
      await bpium.close();
      await smtp.close();
      await dropSchema(url, schema).catch(() => undefined);
      tmp.cleanup();
    }
  });
});
