// A real server with a one-second service task: runs happen through the job queue, /-/tasks lists them and starts
// one by hand, /-/metrics counts them, and a bad task in the configuration stops the start with its line and column.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { saveByRename, tempDir } from '../helpers.js';
import { AUTH, capturingLogger, startTestServer, waitFor } from '../server/server-helpers.js';
import { ECHO_DUE } from './task-scenarios.js';

describe('service tasks on a running server', () => {
  it('starts the scenario every second through the queue; lists, starts by hand and counts the task', async () => {
    const t = await startTestServer({ smtp: false, extraScenarios: { 'Tick.yaml': ECHO_DUE }, config: 'serviceTasks:\n  - { name: tick, scenario: Tick, cron: "* * * * * *", timeZone: UTC }\n  - { name: bad-param, scenario: Tick, every: 1d, params: { 2: \'ToDate("x")\' } }\n' });
    try {
      const runs = await waitFor('two completed task runs', async () => {
        const page = await t.server.store.listRuns({ scenario: 'Tick', status: 'completed' });
        return page.items.length >= 2 && page.items;
      });
      const run = await t.server.store.getRun(runs[0]!.id);
      assert.match(String((run!.params as Record<string, unknown>)['1']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.equal(run!.trigger, 'task', 'a task run says so, not async');

      const list = await fetch(`${t.server.url}/-/tasks`, { headers: { authorization: AUTH } });
      assert.equal(list.status, 200);
      const body = (await list.json()) as { tasks: Array<{ name: string; next: string[]; last: { kind: string } | null }> };
      assert.equal(body.tasks[0]!.name, 'tick');
      assert.equal(body.tasks[0]!.next.length, 3);
      assert.equal(body.tasks[0]!.last?.kind, 'due');

      const manual = await fetch(`${t.server.url}/-/tasks/tick/run`, { method: 'POST', headers: { authorization: AUTH } });
      assert.equal(manual.status, 202);
      const { jobId } = (await manual.json()) as { jobId: string };
      const job = await waitFor('the manual run', async () => {
        const j = await t.server.store.getJob(jobId);
        return j?.status === 'succeeded' && j;
      });
      assert.equal((job.trigger as { kind: string }).kind, 'manual');
      // A parameter that fails is passed empty and the run queued, and the answer says which one and why.
      const bad = await fetch(`${t.server.url}/-/tasks/bad-param/run`, { method: 'POST', headers: { authorization: AUTH } });
      assert.equal(bad.status, 202);
      const queued = (await bad.json()) as { task: string; jobId: string; paramErrors?: Record<string, string> };
      assert.equal(queued.task, 'bad-param');
      assert.match(queued.paramErrors?.['2'] ?? '', /^ToDate: cannot read text "x" as a date/);
      assert.equal((await fetch(`${t.server.url}/-/tasks/nope/run`, { method: 'POST', headers: { authorization: AUTH } })).status, 404);
      assert.equal((await fetch(`${t.server.url}/-/tasks`)).status, 401);

      const metrics = await (await fetch(`${t.server.url}/-/metrics`, { headers: { authorization: AUTH } })).text();
      assert.match(metrics, /oktell_service_task_started_total\{task="tick"\} [1-9]/);
    } finally {
      await t.cleanup();
    }
  });

  it('takes an edit of the tasks without a restart, and keeps the last good tasks after a bad edit', async () => {
    const warnings: string[] = [];
    const log = () => undefined;
    const logger = { debug: log, info: log, error: log, warn: (_o: object, msg?: string) => void warnings.push(msg ?? '') };
    const disabled = 'serviceTasks:\n  - { name: tick, scenario: Tick, cron: "* * * * * *", enabled: false }\n';
    const t = await startTestServer({ smtp: false, watch: true, logger, extraScenarios: { 'Tick.yaml': ECHO_DUE }, config: disabled });
    try {
      const configFile = t.server.config.configFile!;
      const tasks = async () => ((await (await fetch(`${t.server.url}/-/tasks`, { headers: { authorization: AUTH } })).json()) as { tasks: Array<{ name: string; enabled: boolean }> }).tasks;
      assert.deepEqual((await tasks()).map((x) => [x.name, x.enabled]), [['tick', false]]);
      writeFileSync(configFile, disabled.replace('enabled: false', 'enabled: true'));
      await waitFor('a run after enabling the task', async () => (await t.server.store.listRuns({ scenario: 'Tick' })).items.length > 0);
      writeFileSync(configFile, 'serviceTasks:\n  - { name: tick, scenario: Tick, cron: "* * * * 13 *" }\n');
      const warning = await waitFor('the warning about the bad edit', () => warnings.find((w) => w.includes('keeping the tasks in force')));
      assert.match(warning, /oktell\.config\.yaml:2:41: cron: month: 13 is outside 1-12/);
      // A misspelt scenario beside it comes in the same warning, not after the cron is fixed.
      writeFileSync(configFile, 'serviceTasks:\n  - { name: tick, scenario: Tik, cron: "* * * * 13 *" }\n');
      const both = await waitFor('the warning about the second bad edit', () => warnings.find((w) => w.includes('keeping the tasks in force') && w.includes('"Tik"')));
      assert.match(both, /\n\S*oktell\.config\.yaml:2:29: scenario: "Tik" is not in the scenarios folder \(did you mean Tick\?\)\n\S*oktell\.config\.yaml:2:40: cron: month: 13 is outside 1-12\nnone of this edit applies until it is fixed; the tasks in force \(the last good version of the file\) are due:\n {2}tick \(\* \* \* \* \* \*\): next /);
      assert.deepEqual((await tasks()).map((x) => [x.name, x.enabled]), [['tick', true]]);
      // A task removed from the file leaves /-/metrics with the reload, not at the next restart.
      const metrics = async () => (await fetch(`${t.server.url}/-/metrics`, { headers: { authorization: AUTH } })).text();
      assert.match(await metrics(), /oktell_service_task_started_total\{task="tick"\} [1-9]/);
      writeFileSync(configFile, 'serviceTasks:\n  - { name: tock, scenario: Tick, cron: "0 9 * * *", enabled: false }\n');
      await waitFor('the reload without tick', async () => (await tasks()).map((x) => x.name).join() === 'tock');
      const after = await metrics();
      assert.doesNotMatch(after, /task="tick"/);
      assert.match(after, /# TYPE oktell_service_task_started_total counter/);
    } finally {
      await t.cleanup();
    }
  });

  it('takes the tasks of a configuration file created after the start, and its rename-saves', async () => {
    // No oktell.config.yaml where the server starts (its working folder): the file is looked for there later.
    const cwd = tempDir('oktell-cwd-');
    const before = process.cwd();
    process.chdir(cwd.dir);
    let t: Awaited<ReturnType<typeof startTestServer>> | undefined;
    try {
      t = await startTestServer({ smtp: false, watch: true, extraScenarios: { 'Tick.yaml': ECHO_DUE } });
    } finally {
      process.chdir(before);
    }
    try {
      assert.equal(t.server.config.configFile, undefined);
      const server = t.server;
      const tasks = async () => ((await (await fetch(`${server.url}/-/tasks`, { headers: { authorization: AUTH } })).json()) as { tasks: Array<{ name: string; enabled: boolean }> }).tasks;
      assert.deepEqual(await tasks(), []);
      const file = join(cwd.dir, 'oktell.config.yaml');
      const task = 'serviceTasks:\n  - { name: tick, scenario: Tick, cron: "0 9 * * *", enabled: false }\n';
      saveByRename(file, task);
      await waitFor('the tasks of the new file', async () => (await tasks()).length === 1);
      assert.deepEqual((await tasks()).map((x) => [x.name, x.enabled]), [['tick', false]]);
      saveByRename(file, task.replace('enabled: false', 'enabled: true'));
      await waitFor('the rename-save of the file', async () => (await tasks())[0]?.enabled === true);
      saveByRename(file, `${task}  - { name: tock, scenario: Tick, cron: "0 10 * * *", enabled: false }\n`);
      await waitFor('the second rename-save of the file', async () => (await tasks()).length === 2);
    } finally {
      await t.cleanup();
      cwd.cleanup();
    }
  });

  it('does not start with a task naming a scenario that is not in the folder: its line, column and the likely name', async () => {
    // A server that starts anyway is closed, so the failure is reported instead of keeping the test process alive.
    const error = await startTestServer({ smtp: false, config: 'serviceTasks:\n  - name: report\n    scenario: DailyReprt\n    cron: "0 9 * * *"\n' }).then(
      (t) => t.cleanup().then(() => undefined),
      (e: Error) => e,
    );
    assert.ok(error, 'the server started');
    assert.match(error.message, /oktell\.config\.yaml:3:15: scenario: "DailyReprt" is not in the scenarios folder \(did you mean DailyReport\?\)/);
  });

  it('starts with a disabled task naming a missing scenario, and warns about it', async () => {
    const { lines, logger } = capturingLogger();
    const t = await startTestServer({ smtp: false, logger, config: 'serviceTasks:\n  - { name: later, scenario: NotWrittenYet, cron: "0 9 * * *", enabled: false }\n' });
    try {
      assert.ok(lines.some((l) => l.level === 'warn' && /oktell\.config\.yaml:2:\d+: scenario: "NotWrittenYet" is not in the scenarios folder \(the task is disabled\)/.test(l.msg ?? '')));
    } finally {
      await t.cleanup();
    }
  });

  it('while running, warns once about a task whose scenario is missing after an edit of the tasks or of the scenarios', async () => {
    const { lines, logger } = capturingLogger();
    const warnings = () => lines.filter((l) => l.level === 'warn' && l.msg?.includes('not in the scenarios folder')).map((l) => l.msg!);
    const good = 'serviceTasks:\n  - { name: tick, scenario: Tick, cron: "0 9 * * *", enabled: false }\n';
    const t = await startTestServer({ smtp: false, watch: true, logger, extraScenarios: { 'Tick.yaml': ECHO_DUE }, config: good });
    try {
      const configFile = t.server.config.configFile!;
      assert.deepEqual(warnings(), []);
      // A typo in an edit of the tasks: taken (the scenario may be saved next), with a warning that names the place.
      saveByRename(configFile, good.replace('scenario: Tick', 'scenario: Tik'));
      const [warning] = await waitFor('the warning about Tik', () => warnings().length > 0 && warnings());
      assert.match(warning!, /oktell\.config\.yaml:2:29: scenario: "Tik" is not in the scenarios folder \(did you mean Tick\?\)/);
      saveByRename(configFile, good);
      await waitFor('the tasks fixed', async () => ((await (await fetch(`${t.server.url}/-/tasks`, { headers: { authorization: AUTH } })).json()) as { tasks: Array<{ scenario: string }> }).tasks[0]?.scenario === 'Tick');
      // The task's scenario file removed: warned once, though other scenario edits reload again.
      rmSync(join(t.scenariosDir, 'Tick.yaml'));
      await waitFor('the warning about the removed Tick', () => warnings().length === 2);
      assert.match(warnings()[1]!, /oktell\.config\.yaml:2:29: scenario: "Tick" is not in the scenarios folder$/);
      writeFileSync(join(t.scenariosDir, 'Other.yaml'), ECHO_DUE);
      await waitFor('the other scenario to load', () => t.server.host.library().scenarios.has('Other'));
      assert.equal(warnings().length, 2);
    } finally {
      await t.cleanup();
    }
  });

  it('says once that a warning no longer holds when the scenario is saved after the tasks that use it', async () => {
    const { lines, logger } = capturingLogger();
    const said = (level: string, part: string) => lines.filter((l) => l.level === level && l.msg?.includes(part)).map((l) => l.msg!.replace(/\S*oktell\.config\.yaml/, 'oktell.config.yaml'));
    const t = await startTestServer({ smtp: false, watch: true, logger, extraScenarios: { 'Tick.yaml': ECHO_DUE }, config: 'serviceTasks: []\n' });
    try {
      // The tasks are saved first, naming a scenario not written yet and a parameter Tick does not read yet.
      writeFileSync(t.server.config.configFile!, 'serviceTasks:\n  - { name: later, scenario: Later, every: 1h }\n  - { name: tick, scenario: Tick, every: 1h, params: { 2: \'"x"\' } }\n');
      await waitFor('both warnings', () => said('warn', 'not in the scenarios folder').length > 0 && said('warn', 'never reads').length > 0);
      // An edit that only moves the tasks' lines: the warnings still hold, so nothing is said either way.
      writeFileSync(t.server.config.configFile!, '# the tasks\nserviceTasks:\n  - { name: later, scenario: Later, every: 1h }\n  - { name: tick, scenario: Tick, every: 1h, params: { 2: \'"x"\' } }\n');
      const reloads = said('info', 'service tasks reloaded').length;
      await waitFor('the moved tasks reloaded', () => said('info', 'service tasks reloaded').length > reloads || undefined);
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(said('info', 'no longer holds'), []);
      assert.equal(said('warn', 'not in the scenarios folder').length, 1);
      // Then the scenarios: Later appears, and Tick reads parameter 2.
      writeFileSync(join(t.scenariosDir, 'Later.yaml'), ECHO_DUE);
      writeFileSync(join(t.scenariosDir, 'Tick.yaml'), ECHO_DUE.replace('{ due: string }', '{ due: string, other: string }').replace('{ due: 1 }', '{ due: 1, other: 2 }'));
      const held = 'an earlier warning no longer holds';
      await waitFor('both warnings withdrawn', () => said('info', held).length === 2 || undefined);
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(said('info', held).sort(), [
        'service tasks: an earlier warning no longer holds (the tasks or the scenarios changed since): params.2: scenario Tick never reads input parameter 2 (it reads 1): task tick computes it at every due time for nothing; give the number the scenario reads, or leave it out',
        'service tasks: an earlier warning no longer holds (the tasks or the scenarios changed since): scenario: "Later" is not in the scenarios folder',
      ]);
      assert.equal(said('warn', 'not in the scenarios folder').length, 1);
      assert.equal(said('warn', 'never reads').length, 1);
    } finally {
      await t.cleanup();
    }
  });

  it('a task whose runs fail the same way every time: the first failure in full, the repeats counted, one line when a run ends otherwise', async () => {
    const { lines, logger } = capturingLogger();
    // Parameter 2 is a count the scenario reads as a number; "ten" fails it at every due time.
    const poll = 'variables: { limit: number }\nstart: read\nblocks:\n  read:\n    kind: Variable\n    set: { limit: Num(InputParameter(2)) }\n';
    const failing = 'serviceTasks:\n  - { name: poll, scenario: Poll, cron: "* * * * * *", timeZone: UTC, params: { 2: \'"ten"\' } }\n';
    const t = await startTestServer({ smtp: false, watch: true, logger, extraScenarios: { 'Poll.yaml': poll }, config: failing });
    try {
      const failed = async () => (await t.server.store.listRuns({ scenario: 'Poll', status: 'failed' })).items.length;
      await waitFor('four failed runs', async () => (await failed()) >= 4, 15_000);
      const said = (level: string, re: RegExp) => lines.filter((l) => l.level === level && re.test(l.msg ?? '')).length;
      assert.equal(said('error', /^run Poll failed/), 1, 'the job failure is logged once');
      // With the block's error in full; the engine's own line for the failed run is at debug (the job's line says it).
      assert.match(String(lines.find((l) => l.level === 'error' && /^run Poll failed/.test(l.msg ?? ''))?.obj.error), /cannot convert text "ten"/);
      assert.equal(said('warn', /cannot convert text "ten"/), 0, "the engine's line is not a second warning");
      assert.ok(said('debug', /^run Poll failed/) >= 3, 'the repeats go to debug');
      // Fixed: the next run completes, and one line says how many failed before it.
      writeFileSync(t.server.config.configFile!, failing.replace('"ten"', '"10"'));
      const summary = await waitFor('the summary of the failures', () => lines.find((l) => l.level === 'info' && l.msg?.includes('runs in a row')));
      assert.match(summary.msg!, /^service task poll: \d+ runs in a row failed the same way \(R_EXPRESSION: block "read": set limit: Num: cannot convert text "ten" to a number \(in expression "Num\(InputParameter\(2\)\)"\)\); this run completed$/);
      assert.ok(Number(summary.obj.failures) >= 4, JSON.stringify(summary.obj));
    } finally {
      await t.cleanup();
    }
  });

  it('warns at start, at the number in params:, about a parameter the task gives that its scenario never reads', async () => {
    const { lines, logger } = capturingLogger();
    const config = 'serviceTasks:\n  - name: report\n    scenario: DailyReport\n    cron: "0 9 * * *"\n    params:\n      2: \'"boss@example.com"\'\n      3: \'"yesterday"\'\n';
    const t = await startTestServer({ smtp: false, logger, config });
    try {
      const warned = lines.filter((l) => l.level === 'warn' && l.msg?.includes('never reads')).map((l) => l.msg!.replace(/^.*oktell\.config\.yaml/, 'oktell.config.yaml'));
      assert.deepEqual(warned, ['oktell.config.yaml:7:7: params.3: scenario DailyReport never reads input parameter 3 (it reads 1, 2): task report computes it at every due time for nothing; give the number the scenario reads, or leave it out']);
      assert.ok(t.server.warnings.some((w) => w.includes('params.3: scenario DailyReport never reads input parameter 3')), 'in the banner warnings too');
    } finally {
      await t.cleanup();
    }
  });

  it('does not warn again about an unread parameter when an edit only moves its line; warns about a new one', async () => {
    const { lines, logger } = capturingLogger();
    const config = 'serviceTasks:\n  - name: report\n    scenario: DailyReport\n    cron: "0 9 * * *"\n    params:\n      2: \'"boss@example.com"\'\n      3: \'"yesterday"\'\n';
    const t = await startTestServer({ smtp: false, watch: true, logger, config });
    try {
      const warned = () => lines.filter((l) => l.level === 'warn' && l.msg?.includes('never reads')).map((l) => l.msg!.replace(/^.*oktell\.config\.yaml/, 'oktell.config.yaml'));
      assert.equal(warned().length, 1);
      // Two lines of comments on top move params.3 from line 7 to line 9; parameter 4 is new.
      writeFileSync(t.server.config.configFile!, `# daily report\n# to the boss\n${config}      4: '"again"'\n`);
      await waitFor('the warning about parameter 4', () => warned().length > 1 || undefined);
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(warned(), [
        'oktell.config.yaml:7:7: params.3: scenario DailyReport never reads input parameter 3 (it reads 1, 2): task report computes it at every due time for nothing; give the number the scenario reads, or leave it out',
        'oktell.config.yaml:10:7: params.4: scenario DailyReport never reads input parameter 4 (it reads 1, 2): task report computes it at every due time for nothing; give the number the scenario reads, or leave it out',
      ]);
    } finally {
      await t.cleanup();
    }
  });

  it('does not start with a bad task: the error names the line and column', async () => {
    await assert.rejects(
      startTestServer({ smtp: false, config: 'serviceTasks:\n  - name: bad\n    scenario: Tick\n    cron: "0 9 * * 8"\n' }),
      /oktell\.config\.yaml:4:11: cron: day of week: 8 is outside 0-7/,
    );
  });
});
