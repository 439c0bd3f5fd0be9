// The shipped daily report end to end: the disabled task entry of docs/service-tasks.md in a real server's
// configuration, notifications in the embedded SQLite (one recorded through the Web-API by RecordNotification), a
// manual run of the task, and the report letter received by a real SMTP server on loopback.
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoPath } from '../helpers.js';
import { AUTH, parsedLetters, startTestServer, waitFor } from '../server/server-helpers.js';

/** The `serviceTasks:` example of the docs that names DailyReport, as written there. */
function docsTaskEntry(): string {
  const md = readFileSync(repoPath('docs', 'service-tasks.md'), 'utf8');
  const block = [...md.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => b.includes('scenario: DailyReport') && b.includes('name: daily-report'));
  assert.ok(block, 'docs/service-tasks.md shows the daily-report entry');
  return block;
}

/** The calendar day `daysBack` days before now in Moscow, as yyyy-mm-dd, and its noon as an instant (UTC+3). */
function moscowDay(daysBack: number): { ymd: string; noonUtc: string } {
  const ymd = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Moscow' }).format(new Date(Date.now() - daysBack * 86_400_000));
  return { ymd, noonUtc: `${ymd}T09:00:00.000Z` };
}

describe('the shipped daily report service task', () => {
  it('is disabled as documented, and a manual run mails yesterday\'s notifications over SMTP', { timeout: 30_000 }, async () => {
    const entry = docsTaskEntry();
    assert.match(entry, /enabled: false/);
    const t = await startTestServer({ config: entry });
    try {
      const list = (await (await fetch(`${t.server.url}/-/tasks`, { headers: { authorization: AUTH } })).json()) as { tasks: Array<{ name: string; scenario: string; enabled: boolean }> };
      assert.deepEqual(list.tasks.map((x) => [x.name, x.scenario, x.enabled]), [['daily-report', 'DailyReport', false]]);

      // Today's notification, through the Web-API: recorded once, ignored the second time, and not in yesterday's report.
      const record = () => fetch(`${t.server.url}/execsvcscriptplain?name=RecordNotification&startparam1=50&startparam2=9&startparam3=today@example.com&async=0`, { headers: { authorization: AUTH } });
      assert.equal(await (await record()).text(), 'recorded');
      assert.equal(await (await record()).text(), 'already recorded');
      // Yesterday's and the day before's, as if recorded then (the table was made by the shipped migration).
      const [yesterday, before] = [moscowDay(1), moscowDay(2)];
      const db = new Database(join(t.dataDir, 'main.sqlite'));
      try {
        const insert = db.prepare('INSERT INTO notifications (task_id, employee_id, email, sent_at) VALUES (?, ?, ?, ?)');
        insert.run('41', '7', 'ivan.petrov@example.com', yesterday.noonUtc);
        insert.run('42', '8', 'maria.smirnova@example.org', yesterday.noonUtc.replace('09:00', '10:00'));
        insert.run('40', '7', 'ivan.petrov@example.com', before.noonUtc);
      } finally {
        db.close();
      }

      const started = await fetch(`${t.server.url}/-/tasks/daily-report/run`, { method: 'POST', headers: { authorization: AUTH } });
      assert.equal(started.status, 202);
      const { jobId } = (await started.json()) as { jobId: string };
      const job = await waitFor('the report job to finish', async () => {
        const j = await t.server.store.getJob(jobId);
        return j && j.status !== 'queued' && j.status !== 'running' && j;
      });
      const run = (await t.server.store.getRun(job.lastRunId!))!;
      assert.equal(job.status, 'succeeded', JSON.stringify(run.error));
      const [y, m, d] = yesterday.ymd.split('-');
      const day = `${d}.${m}.${y}`;
      assert.deepEqual(run.returnValues, { '1': `reported 2 notification(s) of ${day}` });

      const [letter] = await parsedLetters(t.smtp!);
      assert.equal(t.smtp!.letters.length, 1);
      assert.deepEqual(t.smtp!.letters[0]!.rcptTo, ['reports@example.com']);
      assert.equal(letter!.subject, `Уведомления о задачах за ${day}: 2`);
      assert.match(letter!.text ?? '', /Отправлено уведомлений: 2 \(задач: 2, сотрудников: 2\)\.\n\nзадача 41 — ivan\.petrov@example\.com\nзадача 42 — maria\.smirnova@example\.org\n/);
      assert.doesNotMatch(letter!.text ?? '', /today@example\.com|задача 40/);
    } finally {
      await t.cleanup();
    }
  });
});
