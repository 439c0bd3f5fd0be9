// An edit of serviceTasks: with a problem is refused whole: the log must list the tasks that stay in force with their
// own schedules (a task the edit broke among them), not the good tasks of the refused edit, which never apply. A
// good edit says what it changed. A real server watching its configuration file.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { AUTH, startTestServer, waitFor } from '../server/server-helpers.js';
import { ECHO_DUE } from './task-scenarios.js';

describe('service tasks: a refused edit lists the tasks in force', () => {
  it('names the schedules that still run, and a good edit names what it changed', async () => {
    const infos: string[] = [];
    const warnings: string[] = [];
    const logger = { debug: () => undefined, error: () => undefined, info: (_o: object, msg?: string) => void infos.push(msg ?? ''), warn: (_o: object, msg?: string) => void warnings.push(msg ?? '') };
    const start = 'serviceTasks:\n  - { name: flaky, scenario: Tick, every: 15h }\n  - { name: http, scenario: Tick, every: 3h }\n';
    const t = await startTestServer({ smtp: false, watch: true, logger, extraScenarios: { 'Tick.yaml': ECHO_DUE }, config: start });
    try {
      const configFile = t.server.config.configFile!;
      // flaky changed (a good part) and http broken: nothing of it applies.
      writeFileSync(configFile, 'serviceTasks:\n  - { name: flaky, scenario: Tick, every: 5h }\n  - { name: http, scenario: Tick, cron: "0 25 * * *" }\n');
      const warning = await waitFor('the warning about the bad edit', () => warnings.find((w) => w.includes('keeping the tasks in force')));
      const lines = warning.split('\n');
      assert.match(lines[1]!, /oktell\.config\.yaml:3:41: cron: hour: 25 is outside 0-23$/);
      assert.equal(lines[2], 'none of this edit applies until it is fixed; the tasks in force (the last good version of the file) are due:');
      assert.match(lines[3]!, /^ {2}flaky \(every 15h\): next \d{4}-/);
      assert.match(lines[4]!, /^ {2}http \(every 3h\): next \d{4}-/);
      assert.equal(lines.length, 5, warning);
      assert.doesNotMatch(warning, /every 5h|the other tasks are due/);
      // What /-/tasks says runs agrees with the log.
      const tasks = ((await (await fetch(`${t.server.url}/-/tasks`, { headers: { authorization: AUTH } })).json()) as { tasks: Array<{ name: string; schedule: string }> }).tasks;
      assert.deepEqual(tasks.map((x) => [x.name, x.schedule]), [['flaky', 'every 15h'], ['http', 'every 3h']]);

      // A good edit: the log says what changed.
      writeFileSync(configFile, 'serviceTasks:\n  - { name: flaky, scenario: Tick, every: 5h, overlap: skip }\n  - { name: poll, scenario: Tick, cron: "0 9 * * *", enabled: false }\n');
      const reloaded = await waitFor('the reload', () => infos.find((m) => m.startsWith('service tasks reloaded from')));
      assert.equal(reloaded, 'service tasks reloaded from oktell.config.yaml: flaky: every 5h (was every 15h), overlap: skip; added poll (0 9 * * *, disabled); removed http');
    } finally {
      await t.cleanup();
    }
  });
});
