// A save of one file in a large scenarios folder reloads only that file: the running server parses it alone, and
// still finds what a full load of the folder finds, also for files not saved whose template or environment changed.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { scenarioTextsLoaded } from '../../engine/index.js';
import { createScenarioHost, type ScenarioHost } from '../../server/scenario-host.js';
import { saveByRename } from '../helpers.js';
import { AUTH, startTestServer, waitFor } from './server-helpers.js';

const echo = (text: string) => `variables: { a: string }
start: r
blocks:
  r:
    kind: ReturnValue
    values: { 1: '"${text}"', 2: 200 }
`;

/** Returns the number an environment variable holds (read when the scenario is loaded). */
const envValued = `variables:
  n: { type: number, env: OKTELL_INCREMENTAL_RELOAD_N }
start: r
blocks:
  r:
    kind: ReturnValue
    values: { 1: '[n]', 2: 200 }
`;

const ECHOES = 40;

describe('reload after a save in a large folder', () => {
  it('parses only the file saved, and finds what a full load finds', { timeout: 120_000 }, async () => {
    // The server's environment, given to startServer: its scenarios' env: variables are read there, at each reload.
    const env: Record<string, string> = { OKTELL_INCREMENTAL_RELOAD_N: '5' };
    const extra: Record<string, string> = { 'EnvValued.yaml': envValued };
    for (let i = 0; i < ECHOES; i++) extra[`Echo${i}.yaml`] = echo(`echo ${i}`);
    const t = await startTestServer({ smtp: false, watch: true, extraScenarios: extra, env });
    try {
      const call = async (name: string) => (await fetch(`${t.server.url}/execsvcscriptplain?name=${name}`, { headers: { authorization: AUTH } })).text();
      const health = async () => (await (await fetch(`${t.server.url}/-/health`)).json()) as { scenarios: number; invalid: number };
      /** Saves Echo<i> with `text` and waits until the server answers with it (its reload has ended). */
      const saveEcho = async (i: number, text: string) => {
        saveByRename(join(t.scenariosDir, `Echo${i}.yaml`), echo(text));
        await waitFor(`Echo${i} to answer "${text}"`, async () => (await call(`Echo${i}`)) === text);
      };
      /** What a full load of the folder finds now must be what the running server holds. */
      const sameAsFullLoad = async (step: string) => {
        const full: ScenarioHost = await createScenarioHost(t.scenariosDir, { timeZone: t.server.config.timeZone, watch: false, env });
        assert.deepEqual(t.server.host.issues(), full.issues(), step);
        for (const s of full.library().scenarios.values()) assert.equal(t.server.host.library().scenarios.get(s.name)?.version, s.version, `${step}: ${s.name}`);
        full.close();
      };
      assert.equal((await health()).invalid, 0);
      assert.equal(await call('EnvValued'), '5');

      const before = scenarioTextsLoaded();
      await saveEcho(7, 'seven');
      assert.equal(scenarioTextsLoaded() - before, 1, `one file parsed of ${ECHOES + 6}`);
      await sameAsFullLoad('after one save');

      // Valid → invalid → valid: the broken edit keeps the last good version running, the fix runs.
      saveByRename(join(t.scenariosDir, 'Echo3.yaml'), `${echo('broken')}  oops: [\n`);
      await waitFor('the broken save to show in /-/health', async () => (await health()).invalid === 1);
      assert.equal(await call('Echo3'), 'echo 3');
      await sameAsFullLoad('Echo3 broken');
      await saveEcho(3, 'three');
      assert.equal((await health()).invalid, 0);

      // A deletion.
      rmSync(join(t.scenariosDir, 'Echo9.yaml'));
      await waitFor('Echo9 to be gone', () => !t.server.host.library().scenarios.has('Echo9'));
      await sameAsFullLoad('Echo9 deleted');

      // A template change makes DailyReport, not saved, invalid; putting it back makes it valid again.
      const template = join(t.scenariosDir, 'templates', 'daily-report.text.njk');
      const good = readFileSync(template, 'utf8');
      saveByRename(template, `${good}{{ notDeclared }}\n`);
      await waitFor('the template problem', () => t.server.host.issues().some((i) => i.code === 'E_UNKNOWN_TEMPLATE_VARIABLE' && i.message.includes('notDeclared')));
      await sameAsFullLoad('template reads an undeclared variable');
      saveByRename(template, good);
      await waitFor('the template fixed', async () => (await health()).invalid === 0);

      // The environment variable EnvValued reads changes; a save of another file reloads EnvValued too, unsaved.
      env.OKTELL_INCREMENTAL_RELOAD_N = '7';
      await saveEcho(1, 'one');
      assert.equal(await call('EnvValued'), '7');
      env.OKTELL_INCREMENTAL_RELOAD_N = 'not a number';
      await saveEcho(2, 'two');
      assert.ok(t.server.host.issues().some((i) => i.file.endsWith('EnvValued.yaml') && i.code === 'E_INVALID_VARIABLE'));
      await sameAsFullLoad('the environment variable is not a number');
      env.OKTELL_INCREMENTAL_RELOAD_N = '9';
      await saveEcho(4, 'four');
      assert.equal(await call('EnvValued'), '9');
      await sameAsFullLoad('the environment variable is a number again');
    } finally {
      await t.cleanup();
    }
  });
});

describe('reloads asked for while one is under way', () => {
  it('asked before the one waiting starts, join it; asked after it started, run after it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oktell-reload-order-'));
    try {
      for (let i = 0; i < 30; i++) writeFileSync(join(dir, `Echo${i}.yaml`), echo(`echo ${i}`));
      const host = await createScenarioHost(dir, { timeZone: 'Europe/Moscow', watch: false });
      try {
        // Three at once (a burst of saves; the delivery thread gets a reload message per reload of the main thread):
        // the load that has not started yet reads the files after all three asks, so one load answers them all, and
        // a full one among them makes it full.
        let before = scenarioTextsLoaded();
        await Promise.all([host.reload('changed'), host.reload(), host.reload()]);
        assert.equal(scenarioTextsLoaded() - before, 30, 'one full load of 30 files');
        // One asked once a load has started runs after it (had it run beside it, it would have taken the first's loads
        // half-way, and either could end last), and is not merged into it: files may have changed since it read them.
        before = scenarioTextsLoaded();
        const first = host.reload();
        await new Promise((r) => setImmediate(r));
        await Promise.all([first, host.reload()]);
        assert.equal(scenarioTextsLoaded() - before, 60, 'two full loads of 30 files, one after the other');
        assert.equal(host.library().scenarios.size, 30);
      } finally {
        host.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
