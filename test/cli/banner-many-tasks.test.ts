// The start banner's `tasks` line with a schedule of dozens of tasks (one report per customer: trial 48) names the five
// due first and counts the others, rather than one line of thousands of characters; five or fewer are all named.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tasksLine } from '../../cli/commands/serve.js';
import { parseServiceTasks } from '../../server/tasks/definitions.js';

const now = Date.parse('2026-12-05T00:00:00Z');
const schedule = (n: number) =>
  `serviceTasks:\n${Array.from({ length: n }, (_, i) => `  - name: report-${i + 1}\n    scenario: DailyReport\n    cron: "${59 - i} 7 * * *"\n    timeZone: UTC\n`).join('')}`;

describe('the banner line of the service tasks', () => {
  it('with 40 tasks: the five due first, then how many more', () => {
    const line = tasksLine(parseServiceTasks('oktell.config.yaml', schedule(40), 'UTC', now), now);
    assert.equal(
      line,
      '40 tasks, the first due: report-40 (20 7 * * *, next 2026-12-05T07:20:00Z), report-39 (21 7 * * *, next 2026-12-05T07:21:00Z), report-38 (22 7 * * *, next 2026-12-05T07:22:00Z), report-37 (23 7 * * *, next 2026-12-05T07:23:00Z), report-36 (24 7 * * *, next 2026-12-05T07:24:00Z), and 35 more',
    );
  });

  it('with 2 tasks: both, in the order of the file', () => {
    const line = tasksLine(parseServiceTasks('oktell.config.yaml', schedule(2), 'UTC', now), now);
    assert.equal(line, 'report-1 (59 7 * * *, next 2026-12-05T07:59:00Z), report-2 (58 7 * * *, next 2026-12-05T07:58:00Z)');
  });
});
