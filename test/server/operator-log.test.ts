// What the log stream tells an operator (review s24, O9): successful probes at debug, a refused login as a warning
// with the login tried and never the password, and a start and a stop record.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startServer } from '../../server/serve.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { repoPath, tempDir } from '../helpers.js';
import { capturingLogger, startTestServer, USER } from './server-helpers.js';

const basic = (pair: string) => `Basic ${Buffer.from(pair).toString('base64')}`;

describe('the log stream, for an operator', () => {
  it('probes are debug; refused logins are warnings without the password; start and stop are recorded', { timeout: 60_000 }, async () => {
    const { lines, logger } = capturingLogger();
    const t = await startTestServer({ smtp: false, logger });
    const url = t.server.url;
    try {
      const start = lines.find((l) => l.msg?.startsWith('listening on '));
      assert.ok(start, 'a start record');
      assert.equal(start.level, 'info');
      assert.equal(start.msg, `listening on ${url}`, 'nothing waiting: no word of it');
      assert.equal(start.obj.queued, 0);
      assert.equal(start.obj.url, url);
      assert.equal(start.obj.dataDir, t.dataDir);
      assert.deepEqual(start.obj.users, [USER.login]);

      assert.equal((await fetch(`${url}/-/health`)).status, 200);
      assert.equal((await fetch(`${url}/-/metrics`, { headers: { authorization: basic(`${USER.login}:${USER.password}`) } })).status, 200);
      const probes = lines.filter((l) => l.msg === 'request' && (l.obj.path === '/-/health' || l.obj.path === '/-/metrics'));
      assert.deepEqual(probes.map((l) => [l.obj.path, l.level]), [['/-/health', 'debug'], ['/-/metrics', 'debug']]);

      const wrong = 'Guess-Number-7';
      // The console (express) and a hook path (the fast path) each decide on credentials.
      for (const path of ['/-/console/', '/Bpium/NewTask', '/anything']) {
        const r = await fetch(`${url}${path}`, { method: 'POST', headers: { authorization: basic(`intruder:${wrong}`), 'content-type': 'application/json' }, body: '{}' });
        assert.equal(r.status, 401, path);
      }
      // No credentials at all (a browser's first try) is not a refused login.
      assert.equal((await fetch(`${url}/anything`)).status, 401);
      const refused = lines.filter((l) => l.msg === 'login refused');
      // An unknown login is logged by its length only: it may be a password typed into the wrong field.
      const unknown = '(unknown, 8 chars)';
      assert.deepEqual(refused.map((l) => [l.level, l.obj.login, l.obj.path]), [['warn', unknown, '/-/console/'], ['warn', unknown, '/Bpium/NewTask'], ['warn', unknown, '/anything']]);
      assert.ok(!JSON.stringify(lines).includes(wrong), 'the password tried is never logged');

      await t.server.close(2000);
      const stop = lines.find((l) => l.msg?.startsWith('stopped'));
      assert.ok(stop, 'a stop record');
      assert.equal(stop.level, 'info');
      assert.equal(stop.obj.queued, 0);
    } finally {
      await t.cleanup(); // close is idempotent
    }
  });

  it('a refused bare token is not logged as its scheme: only a known scheme word is, anything else by its length', { timeout: 60_000 }, async () => {
    const { lines, logger } = capturingLogger();
    const t = await startTestServer({ smtp: false, logger });
    try {
      const token = 'ApiKey:ZZtopsecretvalue123';
      const headers = [token, `Bearer ${token}`, `bearer ${token}`, 'Token ZZtopsecretvalue123', basic(`intruder:${token}`)];
      for (const [path, authorization] of headers.flatMap((h) => ['/anything', '/-/console/'].map((p) => [p, h] as const))) {
        const r = await fetch(`${t.server.url}${path}`, { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body: '{}' });
        assert.equal(r.status, 401, `${path} ${authorization}`);
      }
      const refused = lines.filter((l) => l.msg === 'login refused');
      const expected = ['(other, 26 chars)', 'Bearer', 'Bearer', '(other, 5 chars)', 'Basic'];
      assert.deepEqual(refused.map((l) => l.obj.scheme), expected.flatMap((s) => [s, s]), 'the hook path and the console log the same');
      for (const secret of ['ZZtop', 'ApiKey', 'Token']) assert.ok(!JSON.stringify(refused).includes(secret), `${secret} is not in the log`);
    } finally {
      await t.cleanup();
    }
  });

  it('the start record counts the jobs found waiting (the resumed ones too); the stop record those left', { timeout: 60_000 }, async () => {
    const tmp = tempDir();
    const dataDir = join(tmp.dir, 'var');
    mkdirSync(dataDir);
    // A previous process's store: two jobs due tomorrow, and one it was running when it was killed.
    const before = await openSqliteStore({ file: join(dataDir, 'oktell.sqlite') });
    const tomorrow = Date.now() + 86_400_000;
    await before.enqueueJobs([{ scenario: 'BpiumNewTask', params: {}, runAt: tomorrow }, { scenario: 'BpiumNewTask', params: {}, runAt: tomorrow }]);
    // Its scenario is not in the folder: each attempt fails as retryable, so it stays queued.
    await before.enqueueJobs([{ id: 'orphan', scenario: 'GoneScenario', params: {} }]);
    assert.deepEqual((await before.claimJobs('killed-host:1:abc', 1, 60_000)).map((j) => j.id), ['orphan']);
    await before.close();

    const { lines, logger } = capturingLogger();
    const server = await startServer({ port: 0, host: '127.0.0.1', dataDir, scenarios: repoPath('scenarios'), bpiumEmulatorPort: 0, watch: false, pollMs: 50, logger, env: { OKTELL_USERS: `${USER.login}:${USER.password}` } });
    try {
      assert.ok(lines.some((l) => l.level === 'warn' && l.msg?.startsWith('resumed 1 job(s)')), 'the resumed one is said on its own');
      const start = lines.find((l) => l.msg?.startsWith('listening on '));
      assert.ok(start, 'a start record');
      assert.equal(start.obj.queued, 3);
      assert.equal(start.msg, `listening on ${server.url}; 3 job(s) found waiting in the queue from before this start`);
    } finally {
      await server.close(2000);
      tmp.cleanup();
    }
    const stop = lines.find((l) => l.msg?.startsWith('stopped'));
    assert.ok(stop, 'a stop record');
    assert.equal(stop.obj.queued, 3);
    assert.equal(stop.msg, 'stopped: 3 job(s) left queued for the next start');
  });
});
