// `oktell-emu tasks` and `tasks run` beside a real running server (another process), as an operator uses them: the
// job takes the server's settings, and the listing says how the last run is really going.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { repoPath, tempDir } from '../helpers.js';
import { runCli, startServeProcess } from './cli-process.js';

const scenarios = repoPath('scenarios');

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
});
