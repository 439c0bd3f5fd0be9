// `tasks run` reads the data folder's serve.json once and answers every question from that one reading (which store
// the folder's server uses, whose attempts the job gets, whether a server is there to take it), rather than reading
// it again for each and risking answers about two different servers. The real binary, with a preload that counts the
// reads.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { repoPath, tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

const COUNTER = `import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
const read = fs.readFileSync;
let reads = 0;
fs.readFileSync = function (file, ...rest) {
  if (String(file).endsWith('serve.json')) reads++;
  return read.call(this, file, ...rest);
};
syncBuiltinESMExports();
process.on('exit', () => process.stderr.write('serve.json reads: ' + reads + '\\n'));
`;

describe('tasks run reads serve.json once', () => {
  it('with a running server on the folder: one read, and the job gets that server’s attempts', () => {
    const tmp = tempDir();
    try {
      const counter = join(tmp.dir, 'count-reads.mjs');
      writeFileSync(counter, COUNTER);
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), 'serviceTasks:\n  - { name: report, scenario: DailyReport, cron: "0 9 * * *", timeZone: UTC }\n');
      const data = join(tmp.dir, 'var');
      mkdirSync(data, { mode: 0o700 });
      // This test's own process stands for the running server.
      writeFileSync(join(data, 'serve.json'), JSON.stringify({ pid: process.pid, url: 'http://127.0.0.1:4055', signedPaths: [], startedAt: new Date().toISOString(), store: { kind: 'sqlite' }, maxAttempts: 3 }));
      const r = runCli(['tasks', 'run', 'report', '--data-dir', data], {
        cwd: tmp.dir,
        env: { NODE_OPTIONS: `--import=${pathToFileURL(counter).href}`, OKTELL_SCENARIOS: repoPath('scenarios'), OKTELL_MAX_ATTEMPTS: '5' },
        unset: ['OKTELL_STORE', 'OKTELL_CONFIG', 'OKTELL_DATA_DIR'],
      });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^report: job \S+ queued\n$/);
      assert.match(r.stderr, new RegExp(`the job gets 3 attempts, those of the server running on ${data.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(pid ${process.pid}\\)`));
      assert.doesNotMatch(r.stderr, /no server is running/);
      assert.match(r.stderr, /^serve\.json reads: 1$/m);
    } finally {
      tmp.cleanup();
    }
  });
});
