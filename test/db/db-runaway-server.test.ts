// Defect from a trial: a DbQuery whose SQLite statement never ends (x < :lim compares a number with text, so it is
// always true) froze the whole server started from the Web-API — health check, webhooks, SIGTERM — and kept
// `oktell-emu run` busy for ever. The server and the CLI run as processes of their own here, so without the fix this
// test fails at its request's bound instead of hanging the test runner.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startServeProcess } from '../cli/cli-process.js';
import { runCli } from '../cli/cli.helper.js';
import { tempDir } from '../helpers.js';

const LONG = `variables: { c: number, err: string }
start: q
blocks:
  q:
    kind: DbQuery
    sql: WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r WHERE x < :lim) SELECT count(*) AS c FROM r
    params: { lim: 'InputParameter(1)' }
    errorCode: err
    timeout: 1
    exits: { success: many, error: done, timeout: done }
  many:
    kind: ReturnValue
    values: { 1: '"counted " + [c]' }
  done:
    kind: ReturnValue
    values: { 1: '"stopped: " + [err]' }
`;

/** Not a speed check: a bound so a frozen server fails the test instead of hanging it. */
const BOUND_MS = 60_000;

function scenarioFolder(dir: string): string {
  const scenarios = join(dir, 'scenarios');
  mkdirSync(scenarios);
  writeFileSync(join(scenarios, 'Long.yaml'), LONG);
  writeFileSync(join(scenarios, 'Hook.yaml'), 'start: stop\nblocks:\n  stop: { kind: Stop }\n');
  return scenarios;
}

describe('an SQLite statement that never ends', () => {
  it('started from the Web-API: the run takes the timeout exit, and the server answers its health check meanwhile and after', { timeout: 180_000 }, async () => {
    const tmp = tempDir();
    const serve = await startServeProcess({ dataDir: join(tmp.dir, 'var'), args: ['--scenarios', scenarioFolder(tmp.dir)], env: { OKTELL_USERS: 'u:p', OKTELL_HOOK_SCENARIO: 'Hook' } });
    try {
      const authorization = `Basic ${Buffer.from('u:p').toString('base64')}`;
      const long = fetch(`${serve.url}/execsvcscriptplain?name=Long&startparam1=5000000`, { headers: { authorization }, signal: AbortSignal.timeout(BOUND_MS) });
      const during = await fetch(`${serve.url}/-/health`, { signal: AbortSignal.timeout(BOUND_MS) });
      assert.equal(during.status, 200);
      const res = await long;
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'stopped: DB_TIMEOUT');
      assert.equal((await fetch(`${serve.url}/-/health`, { signal: AbortSignal.timeout(BOUND_MS) })).status, 200);
      // The same statement again: a new process serves it, and it is stopped the same way.
      const again = await fetch(`${serve.url}/execsvcscriptplain?name=Long&startparam1=5000000`, { headers: { authorization }, signal: AbortSignal.timeout(BOUND_MS) });
      assert.equal(await again.text(), 'stopped: DB_TIMEOUT');
      assert.match(serve.stdout() + serve.stderr(), /ran past its timeout \(1 s\) and was abandoned/);
    } finally {
      assert.equal(await serve.stop(), 0, 'SIGTERM ends the server');
      tmp.cleanup();
    }
  });

  it('oktell-emu run --dry-run ends: the timeout exit, exit code 0', { timeout: 120_000 }, () => {
    const tmp = tempDir();
    try {
      const r = runCli(['run', 'Long', '-p', '1=100000000', '--dry-run', '--scenarios', scenarioFolder(tmp.dir), '--data-dir', join(tmp.dir, 'var')], { timeoutMs: BOUND_MS });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /stopped: DB_TIMEOUT/);
    } finally {
      tmp.cleanup();
    }
  });
});
