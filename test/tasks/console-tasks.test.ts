// The console's service-task page in a real browser (Debian's Chromium): the tasks with their next due times, and
// "Run now" starting a manual run that appears on the runs page.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chromiumMissing, useConsoleBrowser, waitFor } from '../console/console-helpers.js';
import { ECHO_DUE } from './task-scenarios.js';

describe('the console lists the service tasks', () => {
  const s = useConsoleBrowser({
    scenarios: { 'DailyReport.yaml': ECHO_DUE },
    config: 'serviceTasks:\n  - { name: morning-report, scenario: DailyReport, cron: "0 9 * * *", timeZone: UTC }\n  - { name: poll, scenario: DailyReport, every: 1h, enabled: false }\n',
  });

  it('shows each task with its schedule and next three due times; Run now starts a manual run', { timeout: 60_000 }, async (tc) => {
    if (chromiumMissing) return tc.skip(chromiumMissing);
    const t = s.t;
    const page = await s.context.newPage();
    await page.goto(`${t.base}/tasks`);
    assert.deepEqual(await page.locator('tr[data-task]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-task'))), ['morning-report', 'poll']);
    const next = await page.locator('tr[data-task="morning-report"] td.next div').allTextContents();
    assert.equal(next.length, 3);
    // In the console's one time format (as the runs list), the wall-clock time in the task's zone named beside it.
    for (const d of next) assert.match(d, /^\d{4}-\d\d-\d\d 09:00:00$/);
    assert.match(await page.locator('tr[data-task="morning-report"]').innerText(), /UTC/);
    assert.match(await page.locator('tr[data-task="poll"]').innerText(), /disabled/);
    assert.equal(await page.locator('nav a.active').innerText(), 'Tasks');

    await page.click('tr[data-task="morning-report"] button');
    await page.waitForURL(/\/-\/console\/runs\?job=/);
    const jobId = new URL(page.url()).searchParams.get('job')!;
    assert.match((await page.locator('.notice.started-task').textContent()) ?? '', /^Service task morning-report started outside its schedule/);
    const job = await waitFor('the manual run to succeed', async () => {
      const j = await t.server.store.getJob(jobId);
      return j?.status === 'succeeded' && j;
    });
    assert.deepEqual(job.trigger, { task: 'morning-report', dueAt: (job.trigger as { dueAt: string }).dueAt, kind: 'manual' });
    await page.goto(`${t.base}/tasks`);
    assert.match(await page.locator('tr[data-task="morning-report"] td.last').innerText(), /succeeded\s+manual/);
    await page.close();
  });
});
