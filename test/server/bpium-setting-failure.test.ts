// A Bpium that refuses every call for a setting (the login, a right of the API's user, a web page where its API should
// answer) must not let the shipped BpiumNewTask take its Bpium block's error exit: that exit skips the employee, so
// every webhook ended "completed, notified 0 of 2", with no letter, no error in the log and nothing `replay` could
// send (user trial of 2026-12-05, finding 1). The run fails with R_EFFECT_SETTING instead, the job is a dead letter at
// once, and `replay --status dead` sends the letters once the setting is fixed. A record Bpium does not have (404)
// still takes the error exit. Real server, embedded Bpium emulator (its injected faults stand for the refusals), real
// SMTP on loopback; the web page is a small HTTP server of this test (a fake proxy in front of a wrong BPIUM_URL).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { repoPath } from '../helpers.js';
import { parsedLetters, postWebhook, startTestServer, taskWebhook, waitFor, type TestServer } from './server-helpers.js';

const USERS = '/api/v1/catalogs/3/records';

async function deadLetter(t: TestServer) {
  return waitFor('a dead letter', async () => (await t.server.store.listJobs({ status: 'dead' })).items[0], 20_000);
}

describe('a Bpium refusing every call for a setting: a dead letter, not the error exit', { timeout: 120_000 }, () => {
  it('401 (a wrong login): the job is dead at once with the fix named, no letter; replay sends both letters once Bpium takes the login', async () => {
    const t = await startTestServer({ config: 'workers: { baseDelayMs: 50, maxDelayMs: 100, maxAttempts: 3 }\n' });
    try {
      t.server.emulator!.injectFaults({ status: 401, times: 1000, pathPrefix: USERS });
      const res = await postWebhook(t.server.url, taskWebhook({ name: 'Договор', responsible: ['2', '3'] }), t.secret);
      assert.equal(res.status, 200);
      const dead = await deadLetter(t);
      // Dead at once: waiting will not fix a login, so no attempt is spent on it.
      assert.equal(dead.attempts, 1);
      const error = dead.lastError as { code?: string; message?: string };
      assert.equal(error.code, 'R_EFFECT_SETTING');
      assert.match(error.message ?? '', /^Bpium "getUser": Bpium GET \/catalogs\/3\/records\/2: HTTP 401: injected fault 401; a setting: Bpium refused the login: check BPIUM_LOGIN and BPIUM_PASSWORD .*; the run stops at this block: its job is a dead letter, to replay once the setting is fixed$/);
      assert.equal((await t.server.store.listRuns({ status: 'completed', scenario: 'BpiumNewTask' })).items.length, 0);
      assert.equal(t.smtp!.letters.length, 0);

      t.server.emulator!.clearFaults();
      const r = spawnSync(process.execPath, [repoPath('bin', 'oktell-emu.js'), 'replay', '--status', 'dead', '--data-dir', t.dataDir, '--json'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      await waitFor('the two letters', () => t.smtp!.letters.length === 2, 20_000);
      const to = (await parsedLetters(t.smtp!)).map((m) => (Array.isArray(m.to) ? m.to[0] : m.to)?.value[0]?.address).sort();
      assert.deepEqual(to, ['ivan.petrov@example.com', 'maria.smirnova@example.org']);
      await waitFor('the job succeeded', async () => (await t.server.store.getJob(dead.id))?.status === 'succeeded');
    } finally {
      await t.cleanup();
    }
  });

  it('403 (the API user without the right to read the users): a dead letter naming the right to give', async () => {
    const t = await startTestServer({ config: 'workers: { baseDelayMs: 50, maxDelayMs: 100, maxAttempts: 3 }\n' });
    try {
      t.server.emulator!.injectFaults({ status: 403, times: 1000, pathPrefix: USERS });
      assert.equal((await postWebhook(t.server.url, taskWebhook({ name: 'Права', responsible: ['3'] }), t.secret)).status, 200);
      const dead = await deadLetter(t);
      assert.equal(dead.attempts, 1);
      assert.match((dead.lastError as { message: string }).message, /HTTP 403: injected fault 403; a setting: the Bpium user of BPIUM_LOGIN has no right to this catalog or record: give it the right in Bpium; the run stops at this block/);
      assert.equal(t.smtp!.letters.length, 0);
    } finally {
      await t.cleanup();
    }
  });

  it('a web page where the API should answer (a wrong BPIUM_URL): a dead letter that says so', async () => {
    const page: Server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Вход в систему</body></html>'));
    await new Promise<void>((r) => page.listen(0, '127.0.0.1', r));
    const t = await startTestServer({
      env: { BPIUM_URL: `http://127.0.0.1:${(page.address() as AddressInfo).port}`, BPIUM_LOGIN: 'robot@example.com', BPIUM_PASSWORD: 'p', BPIUM_WEBHOOK_SECRET: 'hook-secret' },
      config: 'workers: { baseDelayMs: 50, maxDelayMs: 100, maxAttempts: 3 }\n',
    });
    try {
      assert.equal((await postWebhook(t.server.url, taskWebhook({ name: 'Адрес', responsible: ['3'] }), 'hook-secret')).status, 200);
      const dead = await deadLetter(t);
      assert.equal(dead.attempts, 1);
      assert.match((dead.lastError as { message: string }).message, /the answer is not JSON: Вход в систему; a setting: BPIUM_URL must name Bpium's address \(a web page or a proxy answered\); the run stops at this block/);
      assert.equal(t.smtp!.letters.length, 0);
    } finally {
      await t.cleanup();
      await new Promise((r) => page.close(r));
    }
  });

  it('a record Bpium does not have (404) still takes the error exit: the run completes with the other letter', async () => {
    const t = await startTestServer();
    try {
      t.server.emulator!.injectFaults({ status: 404, times: 1, pathPrefix: `${USERS}/2` });
      assert.equal((await postWebhook(t.server.url, taskWebhook({ name: 'Один из двух', responsible: ['2', '3'] }), t.secret)).status, 200);
      const run = await waitFor('the completed run', async () => (await t.server.store.listRuns({ status: 'completed', scenario: 'BpiumNewTask' })).items[0], 20_000);
      assert.ok(run);
      await waitFor('one letter', () => t.smtp!.letters.length === 1, 20_000);
      assert.equal((await t.server.store.listJobs({ status: 'dead' })).items.length, 0);
    } finally {
      await t.cleanup();
    }
  });
});
