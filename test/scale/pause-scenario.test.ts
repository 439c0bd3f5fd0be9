// Pause and resume of a scenario's delivery (store/scenario-pause.ts), on a SQLite data folder (one serve, restarted)
// and on PostgreSQL (two serve instances sharing the schema, one restarted). While BpiumNewTask is paused its webhooks
// are answered 200 and its jobs queued, with Bpium down and then up: no instance claims them (their attempts stay
// unused, no run, no letter), while the jobs of another scenario (BpiumTaskChat) are still delivered; a pause survives
// a restart; a dead letter of it replayed waits in the queue too; resume delivers each job once. The CLI's exit codes
// and words, and the console's Pause and Resume buttons, are checked on the way. Real processes, the Bpium emulator
// and an SMTP sink.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import { simpleParser } from 'mailparser';
import { signBpiumBody } from '../../adapters/bpium/signature.js';
import { startBpiumEmulator } from '../../bpium-emulator/emulator.js';
import { repoPath, tempDir } from '../helpers.js';
import { startSmtpServer } from '../mail/smtp-server.helper.js';
import { AUTH, taskWebhook, USER, waitFor } from '../server/server-helpers.js';
import { dropSchema, querySchema, randomSchemaName, testPostgres, urlWithSchema } from '../store/postgres.helper.js';
import { startInstance, waitHealthy, type Instance, type InstanceEnv } from './scale-helpers.js';

const PAUSED = 'BpiumNewTask';
const TASKS = 6;

type JobRow = { id: string; scenario: string; status: string; attempts: number; runs: number };
type Cli = { code: number | null; stdout: string; stderr: string };

/** A console form POST as the instance's own page sends it: same origin, with the login's form token, confirmed. */
async function form(i: Instance, path: string): Promise<{ status: number; location: string | null; text: string }> {
  const html = await (await fetch(`${i.url}/-/console/dry-run`, { headers: { authorization: AUTH } })).text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
  const res = await fetch(`${i.url}/-/console${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { authorization: AUTH, 'content-type': 'application/x-www-form-urlencoded', origin: i.url, 'sec-fetch-site': 'same-origin' },
    body: new URLSearchParams({ csrf, confirm: '1' }).toString(),
  });
  return { status: res.status, location: res.headers.get('location'), text: await res.text() };
}

async function exercise(t: TestContext, kind: 'sqlite' | 'postgres'): Promise<void> {
  let pgUrl = '';
  if (kind === 'postgres') {
    const pgAvailable = await testPostgres();
    if (pgAvailable.skip !== undefined) return void t.skip(pgAvailable.skip);
    pgUrl = pgAvailable.url;
  }
  const schema = randomSchemaName('pause');
  const tmp = tempDir('oktell-pause-');
  const scenarios = join(tmp.dir, 'scenarios');
  cpSync(repoPath('scenarios'), scenarios, { recursive: true });
  const smtp = await startSmtpServer();
  const bpium = await startBpiumEmulator({ port: 0, dataDir: join(tmp.dir, 'bpium') });
  // Bpium down: every call answers 503 until cleared.
  bpium.injectFaults({ status: 503, times: 1_000_000 });
  const secret = randomBytes(16).toString('hex');
  const store = kind === 'postgres' ? urlWithSchema(pgUrl, schema) : 'sqlite';
  const env: InstanceEnv = { store, smtpPort: smtp.port, bpium: { url: bpium.url, login: bpium.login, password: bpium.password }, webhookSecret: secret, users: `${USER.login}:${USER.password}`, workers: 1, extra: { OKTELL_RETRY_BASE_DELAY_MS: '100' } };
  const dirA = join(tmp.dir, 'a');
  const instances: Instance[] = [];
  const jobs = async (): Promise<JobRow[]> => {
    const sql = `SELECT j.id, j.scenario, j.status, j.attempts, (SELECT COUNT(*) FROM runs r WHERE r.job_id = j.id) AS runs FROM jobs j ORDER BY j.created_at, j.id`;
    if (kind === 'postgres') return (await querySchema<JobRow>(pgUrl, schema, sql)).map((r) => ({ ...r, attempts: Number(r.attempts), runs: Number(r.runs) }));
    const db = new Database(join(dirA, 'oktell.sqlite'), { readonly: true });
    try {
      return db.prepare(sql).all() as JobRow[];
    } finally {
      db.close();
    }
  };
  const cli = (...args: string[]) =>
    new Promise<Cli>((resolve) => {
      const p = spawn(process.execPath, [repoPath('bin', 'oktell-emu.js'), ...args, '--data-dir', dirA], { env: { ...process.env, OKTELL_STORE: store, OKTELL_SCENARIOS: scenarios, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      p.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  const post = async (i: Instance, n: number) => {
    const body = taskWebhook({ name: `task-${n}`, responsible: ['2'], sequenceId: 70_000 + n });
    const res = await fetch(`${i.url}/Bpium/NewTask`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: AUTH, 'x-hook-signature': signBpiumBody(secret, body) }, body });
    assert.equal(res.status, 200, await res.text());
  };
  let sentinels = 0;
  /**
   * A job of another scenario through each instance, delivered: its worker claimed after the paused jobs were queued
   * (claims take the due jobs oldest first), so a claim that did not skip them would have taken them first.
   */
  const sentinel = async () => {
    for (const i of instances) {
      const body = taskWebhook({ name: `chat-${sentinels}`, responsible: ['2'] });
      const res = await fetch(`${i.url}/Bpium/TaskChat`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: AUTH, 'x-hook-signature': signBpiumBody(secret, body) }, body });
      assert.equal(res.status, 200, await res.text());
      sentinels++;
    }
    await waitFor('the other scenario\'s jobs delivered', async () => (await jobs()).filter((j) => j.scenario === 'BpiumTaskChat' && j.status === 'succeeded').length === sentinels, 30_000);
  };
  const stillPaused = async (count: number) => {
    await sentinel();
    const paused = (await jobs()).filter((j) => j.scenario === PAUSED);
    assert.equal(paused.length, count);
    assert.deepEqual(paused.map((j) => [j.status, j.attempts, j.runs]), paused.map(() => ['queued', 0, 0]), 'queued, no attempt used, no run');
    assert.equal(smtp.letters.length, 0);
  };
  try {
    const a = startInstance('A', dirA, scenarios, env);
    instances.push(a);
    if (kind === 'postgres') instances.push(startInstance('B', join(tmp.dir, 'b'), scenarios, env));
    await Promise.all(instances.map((i) => waitHealthy(i)));

    // A name the scenarios folder does not have: exit 2, naming the known ones.
    const unknown = await cli('pause', 'BpiumNewTsk');
    assert.equal(unknown.code, 2, unknown.stderr);
    assert.match(unknown.stderr, /BpiumNewTsk: no such scenario in .*: did you mean "BpiumNewTask"\? \(scenarios: BpiumNewTask, BpiumTaskChat, DailyReport, HTTP404, RecordNotification\)/);
    const pause = await cli('pause', PAUSED, '--reason', 'Bpium down');
    assert.equal(pause.code, 0, pause.stderr);
    assert.match(pause.stdout, /^BpiumNewTask: paused until resumed by oktell-emu pause, .* \(Bpium down\); 0 queued job\(s\) waiting\n/);

    for (let n = 0; n < TASKS; n++) await post(instances[n % instances.length]!, n);
    await stillPaused(TASKS);
    const list = await cli('pause', '--list');
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`^BpiumNewTask: paused until resumed .*\\(Bpium down\\); ${TASKS} queued job\\(s\\) waiting\\n$`));
    // Where jobs are listed, the console says the scenario is paused.
    const page = await (await fetch(`${a.url}/-/console/jobs?status=queued`, { headers: { authorization: AUTH } })).text();
    assert.match(page, /BpiumNewTask<\/[a-z]+> is paused/);
    // /-/metrics counts it, with its queued jobs.
    const metrics = await (await fetch(`${a.url}/-/metrics`, { headers: { authorization: AUTH } })).text();
    assert.match(metrics, new RegExp(`^oktell_scenario_paused_queued_jobs\\{scenario="BpiumNewTask"\\} ${TASKS}$`, 'm'));

    // A dead letter of the paused scenario replayed waits in the queue too.
    const first = (await jobs()).find((j) => j.scenario === PAUSED)!;
    assert.equal((await cli('cancel', first.id)).code, 0);
    assert.equal((await jobs()).find((j) => j.id === first.id)!.status, 'dead');
    const replay = await cli('replay', first.id);
    assert.equal(replay.code, 0, replay.stderr);

    // A restart keeps the pause (SQLite: the one server; PostgreSQL: A, while B runs on).
    await a.stop();
    const a2 = startInstance('A2', dirA, scenarios, env);
    instances[0] = a2;
    await waitHealthy(a2);
    await stillPaused(TASKS);

    // Bpium up again: still paused, nothing goes out until resumed.
    bpium.clearFaults();
    await stillPaused(TASKS);

    // The console resumes it (and the CLI's resume of a scenario not paused says so, exit 0), then pauses and the CLI resumes.
    const viaConsole = await form(a2, `/scenarios/${PAUSED}/resume`);
    assert.equal(viaConsole.status, 303, viaConsole.text);
    const paused2 = await form(a2, `/scenarios/${PAUSED}/pause`);
    assert.equal(paused2.status, 303, paused2.text);
    // Both forms ran between two claims at most; the jobs may have started in between, so this only checks the words.
    const resume = await cli('resume', PAUSED);
    assert.equal(resume.code, 0, resume.stderr);
    assert.match(resume.stdout, /^BpiumNewTask: resumed; its \d+ queued job\(s\) are claimable now/);
    const again = await cli('resume', PAUSED);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, 'BpiumNewTask is not paused: nothing changed\n');

    // Delivered, each once: one completed run, one letter per task.
    await waitFor('every paused job delivered', async () => (await jobs()).filter((j) => j.scenario === PAUSED && j.status === 'succeeded').length === TASKS, 60_000);
    for (const j of (await jobs()).filter((r) => r.scenario === PAUSED)) assert.deepEqual([j.attempts, j.runs], [1, 1], j.id);
    await waitFor('the letters', () => smtp.letters.length >= TASKS, 10_000);
    const parsed = await Promise.all(smtp.letters.map((l) => simpleParser(l.raw)));
    const subjects = parsed.map((m) => /task-\d+/.exec(`${m.subject ?? ''} ${m.text ?? ''}`)?.[0]).sort();
    assert.deepEqual(subjects, Array.from({ length: TASKS }, (_, n) => `task-${n}`).sort());
    assert.equal((await cli('pause', '--list')).stdout, 'no scenario is paused\n');
  } finally {
    await Promise.all(instances.map((i) => i.stop()));
    await bpium.close();
    await smtp.close();
    if (kind === 'postgres') await dropSchema(pgUrl, schema);
    tmp.cleanup();
  }
}

describe('pause and resume of a scenario\'s delivery', () => {
  it('SQLite: webhooks answered, jobs queued with attempts unused (Bpium down, then up), the pause kept across a restart, resume delivers each once', { timeout: 180_000 }, (t) => exercise(t, 'sqlite'));
  it('PostgreSQL: two instances sharing the store both honour the pause, across a restart of one; resume delivers each once', { timeout: 180_000 }, (t) => exercise(t, 'postgres'));
});
