// Operating the server: hot reload keeps the last good version, a locked store answers 503 (never 200), HTTPS works,
// and SIGTERM stops cleanly.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { request } from 'node:https';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { repoPath, tempDir } from '../helpers.js';
import { AUTH, keepOutput, postWebhook, serveUrl, startTestServer, taskWebhook, USER, waitFor } from './server-helpers.js';

const echo = (text: string) => `variables: { a: string }
start: r
blocks:
  r:
    kind: ReturnValue
    values: { 1: '"${text}"', 2: 200 }
`;

describe('operating the server', () => {
  it('hot reload: an edit is picked up, an invalid edit keeps the last good version running, and runs record the version', { timeout: 30_000 }, async () => {
    const t = await startTestServer({ smtp: false, watch: true, extraScenarios: { 'Echo.yaml': echo('one') } });
    try {
      const call = async () => {
        const res = await fetch(`${t.server.url}/execsvcscriptplain?name=Echo`, { headers: { authorization: AUTH } });
        return { text: await res.text(), runId: res.headers.get('x-oktell-run-id')! };
      };
      assert.equal((await call()).text, 'one');
      writeFileSync(join(t.scenariosDir, 'Echo.yaml'), echo('two'));
      await waitFor('the edit to load', async () => (await call()).text === 'two');
      writeFileSync(join(t.scenariosDir, 'Echo.yaml'), `${echo('three')}  broken: [\n`);
      await waitFor('the invalid edit to be noticed', () => t.server.host.issues().length > 0);
      assert.equal((await call()).text, 'two', 'the last good version still runs');
      const health = (await (await fetch(`${t.server.url}/-/health`)).json()) as { invalid: number };
      assert.equal(health.invalid, 1);
      const { runId } = await call();
      const run = await waitFor('the run record', () => t.server.store.getRun(runId));
      assert.equal(run.version, t.server.host.library().scenarios.get('Echo')!.version);
    } finally {
      await t.cleanup();
    }
  });

  it('a store that cannot take the request answers 503 with Retry-After, never 200', { timeout: 30_000 }, async () => {
    const t = await startTestServer({ smtp: false });
    const blocker = new Database(join(t.dataDir, 'oktell.sqlite'));
    try {
      blocker.exec('BEGIN EXCLUSIVE');
      const res = await postWebhook(t.server.url, taskWebhook({ name: 'при блокировке', responsible: ['2'] }), t.secret);
      assert.equal(res.status, 503);
      assert.ok(Number(res.headers.get('retry-after')) >= 1);
      blocker.exec('ROLLBACK');
      const again = await postWebhook(t.server.url, taskWebhook({ name: 'после блокировки', responsible: ['2'] }), t.secret);
      assert.equal(again.status, 200);
    } finally {
      blocker.close();
      await t.cleanup();
    }
  });

  it('serves HTTPS when given a certificate and a key', { timeout: 30_000 }, async (ctx) => {
    const tmp = tempDir();
    try {
      try {
        execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(tmp.dir, 'key.pem'), '-out', join(tmp.dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
      } catch {
        ctx.skip('openssl is not installed, so no test certificate can be made');
        return;
      }
      const t = await startTestServer({ smtp: false, env: { OKTELL_TLS_CERT: join(tmp.dir, 'cert.pem'), OKTELL_TLS_KEY: join(tmp.dir, 'key.pem') } });
      try {
        assert.match(t.server.url, /^https:/);
        const status = await new Promise<number>((resolve, reject) => {
          const req = request(`${t.server.url}/nothing`, { ca: readFileSync(join(tmp.dir, 'cert.pem')), headers: { authorization: AUTH } }, (res) => {
            res.resume();
            resolve(res.statusCode!);
          });
          req.on('error', reject);
          req.end();
        });
        assert.equal(status, 404);
      } finally {
        await t.cleanup();
      }
    } finally {
      tmp.cleanup();
    }
  });

  it('SIGTERM during a synchronous Web-API call waits for the run: the caller gets its result and the run is recorded', { timeout: 60_000 }, async () => {
    const tmp = tempDir();
    // A slow service the scenario calls: the run is in the middle of it when SIGTERM comes.
    let called!: () => void;
    const reached = new Promise<void>((r) => (called = r));
    const slow = createServer((_req, res) => {
      called();
      setTimeout(() => res.end('ответ сервиса'), 1500);
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', () => r()));
    const slowPort = (slow.address() as { port: number }).port;
    const scenarios = join(tmp.dir, 'scenarios');
    cpSync(repoPath('scenarios'), scenarios, { recursive: true });
    writeFileSync(
      join(scenarios, 'Slow.yaml'),
      `variables: { body: string }
start: call
blocks:
  call: { kind: WebRequest, url: '"http://127.0.0.1:${slowPort}/slow"', responseBody: body, exits: { success: done } }
  done: { kind: ReturnValue, values: { 1: '[body]' } }
`,
    );
    const dataDir = join(tmp.dir, 'var');
    const child = spawn(process.execPath, [repoPath('bin', 'oktell-emu.js'), 'serve', '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--scenarios', scenarios, '--bpium-emulator-port', '0'], {
      env: { ...process.env, OKTELL_USERS: `${USER.login}:${USER.password}`, OKTELL_LOG_LEVEL: 'silent', BPIUM_URL: '', SMTP_URL: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
      cwd: repoPath(),
    });
    const output = keepOutput(child);
    try {
      const url = await serveUrl(child, dataDir, output);
      const answer = fetch(`${url}/execsvcscriptplain?name=Slow&timeout=30`, { headers: { authorization: AUTH } });
      await reached;
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      const res = await answer; // without the wait: "fetch failed" (an empty reply)
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'ответ сервиса');
      const runId = res.headers.get('x-oktell-run-id')!;
      assert.equal(await exited, 0);
      const db = new Database(join(dataDir, 'oktell.sqlite'), { readonly: true });
      const run = db.prepare('SELECT status, trigger FROM runs WHERE id = ?').get(runId) as { status: string; trigger: string } | undefined;
      db.close();
      assert.deepEqual(run, { status: 'completed', trigger: 'webapi' });
    } finally {
      child.kill('SIGKILL');
      slow.close();
      tmp.cleanup();
    }
  });

  it('SIGTERM stops taking work and exits 0', { timeout: 30_000 }, async () => {
    const tmp = tempDir();
    const dataDir = join(tmp.dir, 'var');
    const child = spawn(process.execPath, [repoPath('bin', 'oktell-emu.js'), 'serve', '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--bpium-emulator-port', '0'], {
      env: { ...process.env, OKTELL_USERS: `${USER.login}:${USER.password}`, OKTELL_LOG_LEVEL: 'silent', BPIUM_URL: '', SMTP_URL: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
      cwd: repoPath(),
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      await serveUrl(child, dataDir, () => stderr.slice(-4000));
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      assert.match(stderr, /SIGTERM: finishing running jobs/);
    } finally {
      child.kill('SIGKILL');
      tmp.cleanup();
    }
  });
});
