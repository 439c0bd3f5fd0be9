// Regenerates docs/screenshots/*.png of every console page (1280 px wide, and a phone at 390 px) from a real server
// with real runs. Runs only with UPDATE_SCREENSHOTS=1: `UPDATE_SCREENSHOTS=1 node --test dist/test/console/screenshots.test.js`.
import assert from 'node:assert/strict';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoPath } from '../helpers.js';
import { BROKEN_YAML, chromiumMissing, consoleContext, get, postWebhook, readUserJob, taskWebhook, useConsoleBrowser, waitFor } from './console-helpers.js';

const skip = process.env.UPDATE_SCREENSHOTS !== '1' ? 'screenshots are regenerated only with UPDATE_SCREENSHOTS=1' : chromiumMissing;

describe('console screenshots', () => {
  const suite = useConsoleBrowser({ scenarios: { 'Broken.yaml': BROKEN_YAML }, ...(skip ? { skip } : {}) });

  it('screenshots of every console page are saved to docs/screenshots', { timeout: 180_000 }, async (tc) => {
    if (skip) return tc.skip(skip);
    const out = repoPath('docs', 'screenshots');
    mkdirSync(out, { recursive: true });
    const { t, browser } = suite;
    await postWebhook(t.server.url, taskWebhook({ name: 'Подготовить отчёт за квартал', description: 'Свести продажи по отделам и отправить руководителю.', responsible: ['2', '3'] }), t.secret);
    const ok = await waitFor('a completed BpiumNewTask run', async () => (await t.server.store.listRuns({ scenario: 'BpiumNewTask', status: 'completed' })).items[0]);
    const failed = await readUserJob(t, '5');
    await postWebhook(t.server.url, taskWebhook({ name: 'Обзвонить новых клиентов', responsible: ['4'] }), t.secret);
    await waitFor('two BpiumNewTask runs', async () => (await t.server.store.listRuns({ scenario: 'BpiumNewTask', status: 'completed' })).items.length >= 2);
    const letters = await waitFor('letters in the outbox', async () => {
      const html = await (await get(`${t.base}/outbox`)).text();
      return [...html.matchAll(/href="\/-\/console\/outbox\/([^"]+\.eml)"/g)].map((m) => m[1]!);
    });

    const shots: Array<{ file: string; path: string; width?: number; height?: number; before?: (p: import('playwright-core').Page) => Promise<void> }> = [
      { file: 'scenarios.png', path: '/scenarios', height: 640 },
      { file: 'scenario.png', path: '/scenarios/BpiumNewTask', height: 1240 },
      { file: 'scenario-invalid.png', path: '/scenarios/Broken', height: 640 },
      { file: 'runs.png', path: '/runs', height: 560 },
      { file: 'run.png', path: `/runs/${ok.id}`, height: 1400 },
      { file: 'run-failed.png', path: `/runs/${failed.runId}`, height: 900 },
      { file: 'jobs.png', path: '/jobs', height: 480 },
      { file: 'outbox.png', path: '/outbox', height: 420 },
      { file: 'letter.png', path: `/outbox/${letters[0]}`, height: 900 },
      {
        file: 'dry-run.png',
        path: '/dry-run',
        height: 1500,
        before: async (p) => {
          await p.click('#run-dry');
          await p.waitForURL(/#result$/);
          await p.evaluate('window.scrollTo(0, 0)');
        },
      },
      { file: 'phone-run.png', path: `/runs/${ok.id}`, width: 390, height: 1500 },
      { file: 'phone-scenarios.png', path: '/scenarios', width: 390, height: 844 },
    ];
    for (const s of shots) {
      const context = await consoleContext(browser, s.width ?? 1280, s.height ?? 900);
      const page = await context.newPage();
      await page.goto(`${t.base}${s.path}`);
      await s.before?.(page);
      const file = join(out, s.file);
      await page.screenshot({ path: file });
      await context.close();
      assert.ok(statSync(file).size > 5_000, `${s.file} is a real picture`);
      tc.diagnostic(`${s.file}: ${Math.round(statSync(file).size / 1024)} KiB`);
    }
  });
});
