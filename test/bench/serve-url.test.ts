// serveUrl, the one wait for a spawned `oktell-emu serve` that the benchmarks (startOktellChild) and the tests
// (server-helpers) share: the serve.json it reads must be the child's own, a child that dies is reported at once with
// its output, and a server that listens but never answers cannot hold the wait past its time.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { serveUrl, startOktellChild, startSilentService, stopChild } from '../../bench/bench-support.js';
import { repoPath, tempDir } from '../helpers.js';
import { freePort } from '../mail/smtp-server.helper.js';
import { startChild } from '../server/server-helpers.js';

describe('serveUrl (bench and tests: waiting for a spawned serve)', () => {
  it("passes over a serve.json of another live process, and answers with the child's own address", { timeout: 60_000 }, async () => {
    const tmp = tempDir('oktell-serve-url-');
    // A live process (this one) whose serve.json names an address that answers /-/health: what an earlier server
    // on the folder left, read before the child writes its own.
    let decoyLooks = 0;
    const decoy = createServer((_req, res) => (decoyLooks++, res.end('{"status":"ok"}')));
    await new Promise<void>((r) => decoy.listen(0, '127.0.0.1', r));
    const decoyUrl = `http://127.0.0.1:${(decoy.address() as AddressInfo).port}`;
    const dataDir = join(tmp.dir, 'var');
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'serve.json'), JSON.stringify({ pid: process.pid, url: decoyUrl, signedPaths: [], startedAt: new Date().toISOString() }));
    const scenarios = join(tmp.dir, 'scenarios');
    cpSync(repoPath('scenarios'), scenarios, { recursive: true });
    const { proc, output } = startChild(dataDir, scenarios, await freePort());
    try {
      const url = await serveUrl(proc, dataDir, output);
      assert.notEqual(url, decoyUrl);
      assert.equal(decoyLooks, 0, 'the other process was never asked');
      const health = await fetch(`${url}/-/health`);
      assert.equal(health.status, 200);
      assert.equal(((await health.json()) as { status: string }).status, 'ok');
    } finally {
      await stopChild(proc);
      decoy.close();
      tmp.cleanup();
    }
  });

  it('fails at once when the child exits before it listens, with its exit code and output (bench start)', { timeout: 60_000 }, async () => {
    const tmp = tempDir('oktell-serve-url-');
    const missing = join(tmp.dir, 'no-scenarios');
    try {
      const t0 = Date.now();
      await assert.rejects(startOktellChild({ scenarios: missing, data: join(tmp.dir, 'var') }), (e: Error) => {
        assert.match(e.message, /^oktell-emu serve exited \(2\) before it listened \(.*serve\.json: not written yet\); its output:\n/);
        assert.ok(e.message.includes(`the scenarios folder ${missing} does not exist`), e.message);
        return true;
      });
      // It waits 40 s for a server that is still starting; one that is gone is said as soon as it exits.
      assert.ok(Date.now() - t0 < 10_000, `rejected after ${Date.now() - t0} ms`);
    } finally {
      tmp.cleanup();
    }
  });

  it('gives up after its time on a server that listens but never answers /-/health (each look ends after 2 s)', { timeout: 30_000 }, async () => {
    const tmp = tempDir('oktell-serve-url-');
    const silent = await startSilentService();
    // A live child that stays up; its serve.json names an address that takes connections and says nothing.
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      writeFileSync(join(tmp.dir, 'serve.json'), JSON.stringify({ pid: child.pid, url: silent.url, signedPaths: [], startedAt: new Date().toISOString() }));
      const t0 = Date.now();
      await assert.rejects(serveUrl(child, tmp.dir, () => 'its last words', 1000), (e: Error) => {
        assert.equal(e.message, `timed out after 1000 ms waiting for the server to listen (${join(tmp.dir, 'serve.json')}: ${silent.url}); its output:\nits last words`);
        return true;
      });
      assert.ok(Date.now() - t0 < 6000, `gave up after ${Date.now() - t0} ms`);
    } finally {
      await stopChild(child);
      await silent.close();
      tmp.cleanup();
    }
  });
});
