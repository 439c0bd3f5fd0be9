// --from-run on runs whose Bpium calls failed: real engine runs recorded in a real SQLite store become cases whose
// fixture scripts the same failures, and the written test file passes through the real binary.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createFixtureBpium, type BpiumFixtureFile } from '../../adapters/fixtures/bpium-fixtures.adapter.js';
import { loadLibrary } from '../../cli/config.js';
import { caseFromRun } from '../../cli/testing/from-run.js';
import { appendCase } from '../../cli/testing/write-case.js';
import { createInProcessStarter, fixedClock, randomIds, runScenario, type EnginePorts } from '../../engine/index.js';
import { runWrite } from '../../server/run-record.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { repoPath, tempDir } from '../helpers.js';
import { freePort, startSmtpServer } from '../mail/smtp-server.helper.js';
import { postWebhook, startTestServer, taskWebhook, waitFor } from '../server/server-helpers.js';
import { runCli } from './cli-process.js';

const body = readFileSync(repoPath('test', 'fixtures', 'record-created.json'), 'utf8');
const users: BpiumFixtureFile = {
  catalogs: { '3': { records: { '2': { '1': 'Иван Петров', '2': 'ivan.petrov@example.com' }, '3': { '1': 'Мария', '2': 'maria@example.org' } } } },
};

/** Runs BpiumNewTask against a fake Bpium with scripted failures and records the run in the store. */
async function recordRun(dir: string, failures: BpiumFixtureFile['failures'], maxEffects?: number) {
  const { library, templates } = await loadLibrary(repoPath('scenarios'), undefined, 'Europe/Moscow');
  const ports: EnginePorts = {
    bpium: createFixtureBpium({ ...structuredClone(users), ...(failures ? { failures } : {}) }),
    templates,
    clock: fixedClock(new Date('2026-11-30T07:15:00Z')),
    ids: randomIds,
    asyncStarter: createInProcessStarter(randomIds, async () => {
      throw new Error('BpiumNewTask starts nothing');
    }),
  };
  const result = await runScenario(library, 'BpiumNewTask', { params: { 1: body }, dryRun: true, timeZone: 'Europe/Moscow', ports, ...(maxEffects ? { limits: { maxEffects } } : {}) });
  const store = await openSqliteStore({ file: join(dir, 'oktell.sqlite') });
  await store.recordRun(runWrite(result, { trigger: 'cli', params: { 1: body } }));
  return { store, result };
}

describe('a recorded run with failed Bpium calls becomes a test', () => {
  // 400, not 403: a 403 (the API user without a right) or a 401 fails the run as a setting (server/bpium-setting-failure).
  it('a refused read (400) becomes a scripted failure, a 404 an absent record, the answers the records', async () => {
    const tmp = tempDir();
    const { store, result } = await recordRun(tmp.dir, { '3/3': 400 });
    try {
      assert.equal(result.status, 'completed');
      const recorded = await caseFromRun(store, result.runId, { name: 'one refused', timeZone: 'Europe/Moscow' });
      assert.deepEqual(recorded.unrecorded, []);
      assert.deepEqual(recorded.case.bpium, { catalogs: { '3': { records: { '2': { '1': 'Иван Петров', '2': 'ivan.petrov@example.com' } } } }, failures: { '3/3': 400 } });
      assert.equal(recorded.case.clock, '2026-11-30T07:15:00.000Z');
      const expect = recorded.case.expect as { bpiumCalls: unknown[]; mails: unknown[] };
      assert.deepEqual(expect.bpiumCalls, [
        { method: 'getRecord', catalogId: '3', recordId: '2', status: 'ok' },
        { method: 'getRecord', catalogId: '3', recordId: '3', status: 'error' },
      ]);
      assert.deepEqual(expect.mails, [{ to: ['ivan.petrov@example.com'], subject: 'Новая задача: Перезвонить клиенту' }]);
    } finally {
      await store.close();
      tmp.cleanup();
    }
  });

  it('a timed-out read becomes `timeout`, the failed run its error; the written file passes through the binary', async () => {
    const tmp = tempDir();
    const { store, result } = await recordRun(tmp.dir, { '3/2': 'timeout' });
    try {
      assert.equal(result.status, 'failed');
      const recorded = await caseFromRun(store, result.runId, { name: 'Bpium timed out', timeZone: 'Europe/Moscow' });
      assert.deepEqual((recorded.case.bpium as BpiumFixtureFile).failures, { '3/2': 'timeout' });
      assert.deepEqual((recorded.case.expect as { error: unknown }).error, { code: result.error!.code, block: 'getUser' });

      cpSync(repoPath('scenarios'), join(tmp.dir, 'scenarios'), { recursive: true });
      const file = join(tmp.dir, 'scenarios', 'tests', 'recorded.test.yaml');
      appendCase(file, { ...recorded.case, params: { 1: '@webhooks/two-responsible.json' } }, ' recorded in a test');
      const r = spawnSync(process.execPath, [repoPath('bin', 'oktell-emu.js'), 'test', 'scenarios/tests/recorded.test.yaml'], { cwd: tmp.dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /✓ scenarios\/tests\/recorded\.test\.yaml › Bpium timed out/);
    } finally {
      await store.close();
      tmp.cleanup();
    }
  });

  it('a run stopped by the effect cap gives its case that cap (maxEffects); `test` also takes the cap from OKTELL_MAX_EFFECTS', async () => {
    const tmp = tempDir();
    const { store, result } = await recordRun(tmp.dir, undefined, 1);
    try {
      assert.equal(result.error?.code, 'R_EFFECT_LIMIT');
      const recorded = await caseFromRun(store, result.runId, { name: 'capped', timeZone: 'Europe/Moscow' });
      assert.equal(recorded.case.maxEffects, 1);

      cpSync(repoPath('scenarios'), join(tmp.dir, 'scenarios'), { recursive: true });
      const test = (file: string, env: Record<string, string> = {}) =>
        spawnSync(process.execPath, [repoPath('bin', 'oktell-emu.js'), 'test', file], { cwd: tmp.dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', OKTELL_MAX_EFFECTS: '', ...env } });
      const params = { 1: '@webhooks/two-responsible.json' };
      appendCase(join(tmp.dir, 'scenarios', 'tests', 'capped.test.yaml'), { ...recorded.case, params });
      const capped = test('scenarios/tests/capped.test.yaml');
      assert.equal(capped.status, 0, capped.stdout + capped.stderr);
      assert.match(capped.stdout, /✓ scenarios\/tests\/capped\.test\.yaml › capped/);

      // Without the key the cap is the environment's, as on the server; without either, the default lets it complete.
      const { maxEffects: _cap, ...uncapped } = recorded.case;
      appendCase(join(tmp.dir, 'scenarios', 'tests', 'env.test.yaml'), { ...uncapped, params });
      assert.equal(test('scenarios/tests/env.test.yaml', { OKTELL_MAX_EFFECTS: '1' }).status, 0);
      const byDefault = test('scenarios/tests/env.test.yaml');
      assert.equal(byDefault.status, 1, byDefault.stdout);
      assert.match(byDefault.stdout, /✗ .*capped/);
      assert.equal(test('scenarios/tests/env.test.yaml', { OKTELL_MAX_EFFECTS: 'many' }).status, 2);
    } finally {
      await store.close();
      tmp.cleanup();
    }
  });
});

describe('--from-run of a webhook whose started job was dead-lettered, then replayed', () => {
  it('takes the replayed attempt that completed (the last one), not the dead one with the higher attempt number', { timeout: 60_000 }, async () => {
    const smtpPort = await freePort();
    let smtp: Awaited<ReturnType<typeof startSmtpServer>> | undefined;
    const t = await startTestServer({ smtp: false, smtpPort, config: 'workers: { baseDelayMs: 50, maxDelayMs: 100, maxAttempts: 2 }\n' });
    try {
      assert.equal((await postWebhook(t.server.url, taskWebhook({ name: 'после повтора', responsible: ['2'] }), t.secret)).status, 200);
      const dead = await waitFor('a dead letter', async () => (await t.server.store.listJobs({ status: 'dead' })).items[0]);
      smtp = await startSmtpServer({ port: smtpPort });
      assert.deepEqual(await t.server.store.requeue({ ids: [dead.id] }), [dead.id]);
      await waitFor('the replayed job to succeed', async () => ((await t.server.store.getJob(dead.id))?.status === 'succeeded' ? true : undefined), 20_000);
      const attempts = (await t.server.store.listRuns({ jobId: dead.id })).items;
      // The cause: a replay counts its attempts from 1 again, below the dead attempt #2.
      assert.deepEqual(attempts.map((r) => [r.status, r.attempt]), [['completed', 1], ['failed', 2], ['failed', 1]]);
      const hook = (await t.server.store.listRuns({ scenario: 'HTTP404' })).items[0]!;

      const out = join(t.scenariosDir, 'tests', 'replayed.test.yaml');
      const r = runCli(['test', '--from-run', hook.id, '--name', 'after the replay', '--out', out, '--scenarios', t.scenariosDir, '--data-dir', t.dataDir]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /✓ .*after the replay/);
      const written = readFileSync(out, 'utf8');
      assert.match(written, /asyncStarted:[\s\S]*scenario: BpiumNewTask[\s\S]*status: completed/);
      assert.doesNotMatch(written, /R_EFFECT_TRANSIENT|status: failed/);
    } finally {
      await t.cleanup();
      await smtp?.close();
    }
  });
  it('a letter the mail server could not take becomes a mail fixture failure, and the written case passes', { timeout: 60_000 }, async () => {
    const smtpPort = await freePort();
    const t = await startTestServer({ smtp: false, smtpPort, config: 'workers: { baseDelayMs: 50, maxDelayMs: 100, maxAttempts: 2 }\n' });
    try {
      assert.equal((await postWebhook(t.server.url, taskWebhook({ name: 'почта лежит', responsible: ['2'] }), t.secret)).status, 200);
      const dead = await waitFor('a dead letter', async () => (await t.server.store.listJobs({ status: 'dead' })).items[0]);
      const out = join(t.scenariosDir, 'tests', 'smtp-down.test.yaml');
      const r = runCli(['test', '--from-run', dead.lastRunId!, '--name', 'smtp down', '--out', out, '--scenarios', t.scenariosDir, '--data-dir', t.dataDir]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /✓ .*smtp down/);
      const written = readFileSync(out, 'utf8');
      assert.match(written, /mail:\s*\n\s*failures: \{ ivan\.petrov@example\.com: "451" \}/);
      assert.match(written, /R_EFFECT_TRANSIENT/);
    } finally {
      await t.cleanup();
    }
  });
});
