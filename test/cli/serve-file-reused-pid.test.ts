// A `serve.json` left by a server that was killed names a pid that the system may give to another process later. The
// CLI must not take that process for the server: `serve` records when it started (from /proc), and a reader compares.
// A real `serve`, its real file, and a real other process holding the recorded pid's place.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { processStartOf, readFolderServer, readServerFile } from '../../cli/server-file.js';
import { repoPath, tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';
import { startServeProcess } from './cli-process.js';

const hasProc = existsSync('/proc/self/stat');

describe('a serve.json whose pid was reused', { skip: !hasProc && 'no /proc here: the pid alone decides' }, () => {
  it('is told from the running server, and the CLI says no server runs', async () => {
    const tmp = tempDir();
    let other: ReturnType<typeof spawn> | undefined;
    try {
      const data = join(tmp.dir, 'var');
      mkdirSync(data, { mode: 0o700 });
      const server = await startServeProcess({ dataDir: data, env: { OKTELL_SCENARIOS: repoPath('scenarios') } });
      let left: Record<string, unknown>;
      try {
        left = JSON.parse(readFileSync(join(data, 'serve.json'), 'utf8')) as Record<string, unknown>;
        assert.equal(typeof left.pid, 'number');
        assert.equal(left.processStart, processStartOf(left.pid as number), 'serve records its own start');
        // While it runs, its file is the running server's.
        assert.equal(readServerFile(data)?.pid, left.pid);
        assert.equal(readFolderServer(data).running?.pid, left.pid);
      } finally {
        assert.equal(await server.stop(), 0);
      }
      // The server is gone (killed: its file stays), and another process, started after it (a start is counted in
      // clock ticks of 10 ms: two processes spawned together may share one), now has its pid.
      other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
      assert.ok(other.pid !== undefined && processStartOf(other.pid) !== undefined);
      assert.notEqual(processStartOf(other.pid), left.processStart);
      writeFileSync(join(data, 'serve.json'), JSON.stringify({ ...left, pid: other.pid }));
      assert.equal(readServerFile(data), undefined);
      const folder = readFolderServer(data);
      assert.equal(folder.file?.pid, other.pid, 'the file is still read (a killed server’s store counts)');
      assert.equal(folder.running, undefined);

      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), 'serviceTasks:\n  - { name: report, scenario: DailyReport, cron: "0 9 * * *", timeZone: UTC }\n');
      const r = runCli(['tasks', 'run', 'report', '--data-dir', data], {
        cwd: tmp.dir,
        env: { OKTELL_SCENARIOS: repoPath('scenarios') },
        unset: ['OKTELL_STORE', 'OKTELL_CONFIG', 'OKTELL_DATA_DIR', 'OKTELL_MAX_ATTEMPTS'],
      });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /no server is running with .*: the queued job\(s\) wait there until one starts/);
      assert.doesNotMatch(r.stderr, /those of the server running on/);
    } finally {
      other?.kill();
      tmp.cleanup();
    }
  });

  it('a file without the start (an older server’s) is still read by its pid alone', () => {
    const tmp = tempDir();
    try {
      writeFileSync(join(tmp.dir, 'serve.json'), JSON.stringify({ pid: process.pid, url: 'http://127.0.0.1:1', signedPaths: [], startedAt: new Date().toISOString() }));
      assert.equal(readServerFile(tmp.dir)?.pid, process.pid);
      writeFileSync(join(tmp.dir, 'serve.json'), JSON.stringify({ pid: process.pid, processStart: processStartOf(process.pid), url: 'http://127.0.0.1:1', signedPaths: [], startedAt: new Date().toISOString() }));
      assert.equal(readServerFile(tmp.dir)?.pid, process.pid, 'the same process: still running');
    } finally {
      tmp.cleanup();
    }
  });
});
