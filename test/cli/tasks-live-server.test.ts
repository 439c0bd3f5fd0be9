// `oktell-emu tasks` and `tasks run` beside a real running server (another process), as an operator uses them: the
// job takes the server's settings, and the listing says how the last run is really going.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { repoPath, tempDir } from '../helpers.js';
import { runCli, startServeProcess } from './cli-process.js';
import { dropSchema, querySchema, randomSchemaName, testPostgres, urlWithSchema } from '../store/postgres.helper.js';

const scenarios = repoPath('scenarios');
const pg = await testPostgres();

async function jobMaxAttempts(dataDir: string, jobId: string): Promise<number | undefined> {
  const store = await openSqliteStore({ file: join(dataDir, 'oktell.sqlite') });
  try {
    return (await store.getJob(jobId))?.maxAttempts;
  } finally {
    await store.close();
  }
}

describe('tasks run beside a running server', () => {
  it('gives the job the running server\'s attempts (OKTELL_MAX_ATTEMPTS=4), not the shell\'s default 16, and says which was used', async () => {
    const tmp = tempDir('oktell-tasks-live-');
    const data = join(tmp.dir, 'var');
    mkdirSync(data);
    const config = join(tmp.dir, 'oktell.config.yaml');
    writeFileSync(config, 'serviceTasks:\n  - { name: report, scenario: DailyReport, cron: "0 9 * * *", timeZone: UTC, enabled: false }\n');
    const serve = await startServeProcess({ dataDir: data, env: { OKTELL_USERS: 'ops:pw', OKTELL_MAX_ATTEMPTS: '4', OKTELL_SCENARIOS: scenarios }, args: ['--config', config] });
    let jobId: string | undefined;
    try {
      const run = runCli(['tasks', 'run', 'report', '--config', config, '--data-dir', data], { OKTELL_SCENARIOS: scenarios, OKTELL_MAX_ATTEMPTS: '' });
      assert.equal(run.code, 0, run.stderr);
      jobId = /job (\S+) queued/.exec(run.stdout)?.[1];
      assert.ok(jobId, run.stdout);
      assert.match(run.stderr, /note: the job gets 4 attempts, those of the server running on \S+var \(pid \d+\); this command's own setting \(OKTELL_MAX_ATTEMPTS, else workers\.maxAttempts of the configuration, else 16\) says 16/);

      // The same setting on both sides: nothing to say.
      const same = runCli(['tasks', 'run', 'report', '--config', config, '--data-dir', data], { OKTELL_SCENARIOS: scenarios, OKTELL_MAX_ATTEMPTS: '4' });
      assert.equal(same.code, 0, same.stderr);
      assert.doesNotMatch(same.stderr, /attempts/);
    } finally {
      await serve.stop();
    }
    try {
      assert.equal(await jobMaxAttempts(data, jobId!), 4);
      // No server on the folder any more: the command's own setting, as before.
      const alone = runCli(['tasks', 'run', 'report', '--config', config, '--data-dir', data], { OKTELL_SCENARIOS: scenarios, OKTELL_MAX_ATTEMPTS: '' });
      assert.equal(alone.code, 0, alone.stderr);
      assert.doesNotMatch(alone.stderr, /attempts/);
      assert.equal(await jobMaxAttempts(data, /job (\S+) queued/.exec(alone.stdout)![1]!), 16);
    } finally {
      tmp.cleanup();
    }
  });

  it('tasks says a failing last run is retrying (attempt, last error, next attempt) or dead (with the replay command), with its job id, in text and --json', async () => {
    const tmp = tempDir('oktell-tasks-live-');
    const data = join(tmp.dir, 'var');
    const own = join(tmp.dir, 'scenarios');
    mkdirSync(data);
    mkdirSync(own);
    // A web request to a closed port with only `success` wired: every attempt fails as retryable.
    writeFileSync(join(own, 'Flaky.yaml'), 'start: call\nblocks:\n  call:\n    kind: WebRequest\n    method: GET\n    url: \'"http://127.0.0.1:1/x"\'\n    exits: { success: null }\n');
    const config = join(tmp.dir, 'oktell.config.yaml');
    writeFileSync(config, 'serviceTasks:\n  - { name: flaky, scenario: Flaky, cron: "0 9 * * *", timeZone: UTC, enabled: false }\n');
    const cli = (args: string[], env: Record<string, string> = {}) => runCli([...args, '--config', config, '--data-dir', data, '--scenarios', own], { OKTELL_MAX_ATTEMPTS: '', ...env });
    const lastRun = () => {
      const out = cli(['tasks', '--json']);
      assert.equal(out.code, 0, out.stderr);
      return (JSON.parse(out.stdout) as { tasks: Array<{ lastRun: Record<string, unknown> }> }).tasks[0]!.lastRun;
    };
    const settle = async (jobId: string, status: string, attempts: number) => {
      for (let i = 0; i < 200; i++) {
        const r = lastRun();
        if (r.jobId === jobId && r.status === status && r.attempts === attempts && r.lastErrorCode) return r;
        await new Promise((res) => setTimeout(res, 100));
      }
      throw new Error(`job ${jobId} did not become ${status}: ${JSON.stringify(lastRun())}`);
    };
    // Queued before the server starts, with this shell's single attempt: its failure makes it dead.
    const first = cli(['tasks', 'run', 'flaky'], { OKTELL_MAX_ATTEMPTS: '1' });
    assert.equal(first.code, 0, first.stderr);
    const deadJob = /job (\S+) queued/.exec(first.stdout)![1]!;
    const serve = await startServeProcess({ dataDir: data, env: { OKTELL_USERS: 'ops:pw', OKTELL_MAX_ATTEMPTS: '3', OKTELL_RETRY_BASE_DELAY_MS: '600000', OKTELL_SCENARIOS: own }, args: ['--config', config] });
    try {
      const dead = await settle(deadJob, 'dead', 1);
      assert.equal(dead.maxAttempts, 1);
      assert.match(String(dead.lastErrorCode), /^R_/);
      assert.match(String(dead.replay), new RegExp(`^npx oktell-emu replay ${deadJob} --data-dir \\S+var$`));
      const deadText = cli(['tasks']);
      assert.equal(deadText.code, 0, deadText.stderr);
      assert.match(deadText.stdout, new RegExp(`last run: dead after 1/1 attempts \\(last error ${dead.lastErrorCode}\\), manual run queued \\S+, finished \\S+, job ${deadJob}\\n    nothing retries it; replay it: npx oktell-emu replay ${deadJob} --data-dir \\S+var\\n`));

      // Queued with the server's 3 attempts: after the first fails, it waits ten minutes for the next.
      const second = cli(['tasks', 'run', 'flaky']);
      assert.equal(second.code, 0, second.stderr);
      const retryJob = /job (\S+) queued/.exec(second.stdout)![1]!;
      const retrying = await settle(retryJob, 'queued', 1);
      assert.equal(retrying.maxAttempts, 3);
      assert.match(String(retrying.nextAttemptAt), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
      assert.equal(retrying.replay, undefined);
      const text = cli(['tasks']);
      assert.match(text.stdout, new RegExp(`last run: retrying \\(attempt 1/3, last error ${retrying.lastErrorCode}\\), next ${String(retrying.nextAttemptAt).replace(/[.]/g, '\\.')}, manual run queued \\S+, job ${retryJob}\\n  next: disabled`));
    } finally {
      await serve.stop();
      tmp.cleanup();
    }
  });

  it('tasks run of a task whose scenario file is invalid now warns with the first problem\'s file:line:col; the server runs the last good version, and tasks marks it', async () => {
    const tmp = tempDir('oktell-tasks-live-');
    const data = join(tmp.dir, 'var');
    const own = join(tmp.dir, 'scenarios');
    mkdirSync(data);
    mkdirSync(own);
    const file = join(own, 'Ping.yaml');
    const good = 'variables: { n: number }\nstart: set\nblocks:\n  set:\n    kind: Variable\n    set: { n: 1 }\n    exits: { next: null }\n';
    writeFileSync(file, good);
    const config = join(tmp.dir, 'oktell.config.yaml');
    writeFileSync(config, 'serviceTasks:\n  - { name: ping, scenario: Ping, cron: "0 9 * * *", timeZone: UTC, enabled: false }\n');
    const cli = (args: string[]) => runCli([...args, '--config', config, '--data-dir', data, '--scenarios', own], {}, undefined);
    const serve = await startServeProcess({ dataDir: data, env: { OKTELL_USERS: 'ops:pw', OKTELL_SCENARIOS: own }, args: ['--config', config] });
    try {
      const clean = cli(['tasks', 'run', 'ping']);
      assert.equal(clean.code, 0, clean.stderr);
      assert.doesNotMatch(clean.stderr, /invalid/);
      // Broken on disk after the server loaded it: an exit to a block that does not exist, on line 7.
      writeFileSync(file, good.replace('next: null', 'next: nowhere'));
      const run = cli(['tasks', 'run', 'ping']);
      assert.equal(run.code, 0, run.stderr);
      const jobId = /job (\S+) queued/.exec(run.stdout)?.[1];
      assert.ok(jobId, run.stdout);
      assert.match(run.stderr, /warning: ping: scenario Ping is invalid on disk: \S*Ping\.yaml:7:\d+ E_UNKNOWN_TARGET [^\n]*nowhere[^\n]*; the server runs the last good version it loaded/);

      const list = cli(['tasks']);
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout, /^ping {2}Ping {2}0 9 \* \* \* {2}UTC\n {2}! scenario Ping is invalid on disk: \S*Ping\.yaml:7:\d+ E_UNKNOWN_TARGET /);
      // The server ran the job on the version it had: it succeeded.
      let last: { jobId?: string; status?: string } = {};
      let json: { tasks: Array<{ scenarioInvalid?: { line: number; code: string }; lastRun: typeof last }> } = { tasks: [] };
      for (let i = 0; i < 100 && !(last.jobId === jobId && last.status === 'succeeded'); i++) {
        await new Promise((res) => setTimeout(res, 100));
        json = JSON.parse(cli(['tasks', '--json']).stdout) as typeof json;
        last = json.tasks[0]!.lastRun;
      }
      assert.deepEqual({ jobId: last.jobId, status: last.status }, { jobId, status: 'succeeded' });
      assert.deepEqual({ line: json.tasks[0]!.scenarioInvalid?.line, code: json.tasks[0]!.scenarioInvalid?.code }, { line: 7, code: 'E_UNKNOWN_TARGET' });
    } finally {
      await serve.stop();
      tmp.cleanup();
    }
  });

  it('PostgreSQL: the server running on the data folder with the same store gives its attempts; the same store from another folder takes the command\'s own', { skip: pg.skip, timeout: 120_000 }, async () => {
    const tmp = tempDir('oktell-tasks-live-');
    const schema = randomSchemaName('attempts');
    const store = urlWithSchema(pg.url!, schema);
    const data = join(tmp.dir, 'var');
    const elsewhere = join(tmp.dir, 'other');
    mkdirSync(data);
    mkdirSync(elsewhere);
    const config = join(tmp.dir, 'oktell.config.yaml');
    writeFileSync(config, 'serviceTasks:\n  - { name: report, scenario: DailyReport, cron: "0 9 * * *", timeZone: UTC, enabled: false }\n');
    const serve = await startServeProcess({ dataDir: data, env: { OKTELL_USERS: 'ops:pw', OKTELL_STORE: store, OKTELL_MAX_ATTEMPTS: '4', OKTELL_SCENARIOS: scenarios }, args: ['--config', config] });
    try {
      const queue = (dir: string) => {
        const r = runCli(['tasks', 'run', 'report', '--config', config, '--data-dir', dir], { OKTELL_STORE: store, OKTELL_SCENARIOS: scenarios, OKTELL_MAX_ATTEMPTS: '' });
        assert.equal(r.code, 0, r.stderr);
        return { jobId: /job (\S+) queued/.exec(r.stdout)![1]!, stderr: r.stderr };
      };
      const attempts = async (id: string) => (await querySchema<{ max_attempts: number }>(pg.url!, schema, 'SELECT max_attempts FROM jobs WHERE id = $1', [id]))[0]?.max_attempts;
      const beside = queue(data);
      assert.equal(await attempts(beside.jobId), 4);
      assert.match(beside.stderr, /note: the job gets 4 attempts, those of the server running on \S+var \(pid \d+\)/);
      const away = queue(elsewhere);
      assert.equal(await attempts(away.jobId), 16);
      assert.doesNotMatch(away.stderr, /attempts/);
    } finally {
      await serve.stop();
      await dropSchema(pg.url!, schema);
      tmp.cleanup();
    }
  });
});
