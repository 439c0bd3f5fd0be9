// `oktell-emu tasks` and `tasks run NAME`, run as the real binary on a configuration and a SQLite store in a temp folder.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { runCli } from '../cli/cli.helper.js';
import { repoPath, tempDir } from '../helpers.js';

/** The shipped scenarios folder, where DailyReport is (a task naming a missing scenario is refused). */
const env = { OKTELL_SCENARIOS: repoPath('scenarios') };

/**
 * `tasks` and `serve` in `dir` both refuse its configuration with exit 2 and these problems first (each line compared
 * up to the expected text's length). What follows differs: serve gives the good tasks' due times on stderr, tasks
 * lists them on stdout (with the bad ones named) and says the server does not start. Both commands' stderr lines
 * after the problems, and tasks' stdout.
 */
function refusedBothWays(dir: string, problems: readonly string[]): { tasks: { after: string[]; stdout: string }; serve: { after: string[] } } {
  const [tasks, serve] = [['tasks'], ['serve', '--port', '0', '--host', '127.0.0.1', '--bpium-emulator-port', '0']].map((args) => {
    const out = runCli(args, { cwd: dir, env, unset: ['OKTELL_DATA_DIR'], timeoutMs: 60_000 });
    assert.equal(out.code, 2, out.stderr);
    const lines = out.stderr.replace(/^oktell-emu: /, '').split('\n');
    assert.deepEqual(lines.slice(0, problems.length).map((l, i) => l.slice(0, problems[i]!.length)), problems, `${args[0]}: ${out.stderr}`);
    return { after: lines.slice(problems.length), stdout: out.stdout };
  });
  assert.match(tasks!.after[0]!, /^the server does not start with this configuration \(scenarios folder: /);
  assert.equal(serve!.after[0], 'the other tasks are due:');
  return { tasks: tasks!, serve: { after: serve!.after.slice(1) } };
}

describe('oktell-emu tasks', () => {
  it('lists the tasks with their next three due times, starts one by hand, and shows it as the last run', async () => {
    const tmp = tempDir('oktell-tasks-cli-');
    try {
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), 'serviceTasks:\n  - { name: report, scenario: DailyReport, cron: "0 9 * * *", timeZone: UTC }\n');
      // The data folder a server started here would have made (the CLI never creates one).
      mkdirSync(join(tmp.dir, 'var'));
      const list = runCli(['tasks'], { cwd: tmp.dir, env, unset: ['OKTELL_DATA_DIR'] });
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout, /^report {2}DailyReport {2}0 9 \* \* \* {2}UTC\n {2}last run: never run\n {2}next: (\d{4}-\d\d-\d\dT09:00:00Z(, )?){3}\n$/);

      const run = runCli(['tasks', 'run', 'report'], { cwd: tmp.dir, env });
      assert.equal(run.code, 0, run.stderr);
      // No server runs with this folder: the job waits, and the command says so (and how to start one).
      assert.match(run.stderr, /note: no server is running with \S+var: the queued job\(s\) wait there until one starts \(npx oktell-emu serve\)/);
      const jobId = /job (\S+) queued/.exec(run.stdout)?.[1];
      assert.ok(jobId, run.stdout);
      const store = await openSqliteStore({ file: join(tmp.dir, 'var', 'oktell.sqlite') });
      const job = await store.getJob(jobId);
      await store.close();
      assert.deepEqual({ scenario: job?.scenario, status: job?.status, kind: (job?.trigger as { kind: string }).kind }, { scenario: 'DailyReport', status: 'queued', kind: 'manual' });

      assert.match(runCli(['tasks'], { cwd: tmp.dir, env }).stdout, /last run: queued, manual run queued/);
      const unknown = runCli(['tasks', 'run', 'nope'], { cwd: tmp.dir, env });
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /no service task named "nope" in the configuration \(the tasks are report\)/);
      const typo = runCli(['tasks', 'run', 'reprot'], { cwd: tmp.dir, env });
      assert.equal(typo.code, 2);
      assert.match(typo.stderr, /no service task named "reprot" in the configuration: did you mean "report"\? \(the tasks are report\)/);
    } finally {
      tmp.cleanup();
    }
  });

  it('warns, as serve does, about a parameter a task gives that its scenario never reads; exit 0', () => {
    const tmp = tempDir('oktell-tasks-cli-');
    try {
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), 'serviceTasks:\n  - { name: report, scenario: DailyReport, cron: "0 9 * * *", timeZone: UTC, params: { 5: \'"x"\' } }\n');
      mkdirSync(join(tmp.dir, 'var'));
      const list = runCli(['tasks'], { cwd: tmp.dir, env, unset: ['OKTELL_DATA_DIR'] });
      assert.equal(list.code, 0, list.stderr);
      assert.equal(list.stderr, 'oktell-emu: warning: oktell.config.yaml:2:88: params.5: scenario DailyReport never reads input parameter 5 (it reads 1, 2): task report computes it at every due time for nothing; give the number the scenario reads, or leave it out\n');
    } finally {
      tmp.cleanup();
    }
  });

  it('tasks run takes --data-dir after the name or before `run`: the job lands in that folder\'s store, not in ./var', async () => {
    const tmp = tempDir('oktell-tasks-cli-');
    try {
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), 'serviceTasks:\n  - { name: report, scenario: DailyReport, cron: "0 9 * * *", timeZone: UTC }\n');
      for (const [folder, args] of [
        ['after', (dir: string) => ['tasks', 'run', 'report', '--data-dir', dir]],
        ['before', (dir: string) => ['tasks', '--data-dir', dir, 'run', 'report']],
      ] as const) {
        const dir = join(tmp.dir, folder);
        mkdirSync(dir);
        const run = runCli(args(dir), { cwd: tmp.dir, env, unset: ['OKTELL_DATA_DIR'] });
        assert.equal(run.code, 0, run.stderr);
        const jobId = /job (\S+) queued/.exec(run.stdout)?.[1];
        assert.ok(jobId, run.stdout);
        const store = await openSqliteStore({ file: join(dir, 'oktell.sqlite') });
        const job = await store.getJob(jobId);
        await store.close();
        assert.equal(job?.scenario, 'DailyReport', `${folder}: the job is in ${dir}`);
        assert.match(runCli(['tasks', '--data-dir', dir], { cwd: tmp.dir, env }).stdout, /last run: queued, manual run queued/);
      }
      assert.equal(existsSync(join(tmp.dir, 'var')), false, 'nothing was written to ./var');
    } finally {
      tmp.cleanup();
    }
  });

  it('tasks run queues the job with the attempts the server gives its jobs: workers.maxAttempts, OKTELL_MAX_ATTEMPTS, else 16', async () => {
    const tmp = tempDir('oktell-tasks-cli-');
    try {
      const task = '  - { name: report, scenario: DailyReport, cron: "0 9 * * *", timeZone: UTC }\n';
      mkdirSync(join(tmp.dir, 'var'));
      const attemptsOf = async (config: string, vars: Record<string, string>) => {
        writeFileSync(join(tmp.dir, 'oktell.config.yaml'), `${config}serviceTasks:\n${task}`);
        const run = runCli(['tasks', 'run', 'report'], { cwd: tmp.dir, env: { ...env, ...vars }, unset: ['OKTELL_DATA_DIR', ...(vars.OKTELL_MAX_ATTEMPTS ? [] : ['OKTELL_MAX_ATTEMPTS'])] });
        assert.equal(run.code, 0, run.stderr);
        const jobId = /job (\S+) queued/.exec(run.stdout)?.[1];
        assert.ok(jobId, run.stdout);
        const store = await openSqliteStore({ file: join(tmp.dir, 'var', 'oktell.sqlite') });
        try {
          return (await store.getJob(jobId))?.maxAttempts;
        } finally {
          await store.close();
        }
      };
      assert.equal(await attemptsOf('', {}), 16, 'the documented default, not the store\'s own');
      assert.equal(await attemptsOf('workers: { maxAttempts: 4 }\n', {}), 4, 'the configuration file');
      assert.equal(await attemptsOf('workers: { maxAttempts: 4 }\n', { OKTELL_MAX_ATTEMPTS: '2' }), 2, 'the variable over the file');
    } finally {
      tmp.cleanup();
    }
  });

  it('run where there is no scenarios folder (another machine, another folder): the scenarios are not checked, said as a note', () => {
    const tmp = tempDir('oktell-tasks-cli-');
    try {
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), 'serviceTasks:\n  - { name: report, scenario: DailyReport, every: 1h }\n');
      mkdirSync(join(tmp.dir, 'var'));
      const elsewhere = { unset: ['OKTELL_SCENARIOS', 'OKTELL_DATA_DIR'], cwd: tmp.dir };
      const list = runCli(['tasks'], elsewhere);
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stderr, /warning: the tasks' scenarios are not checked: no scenarios folder \S+scenarios here/);
      const run = runCli(['tasks', 'run', 'report'], elsewhere);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /report: job \S+ queued/);
      assert.match(run.stderr, /note: the tasks' scenarios are not checked/);
    } finally {
      tmp.cleanup();
    }
  });

  it('lists every problem of every task at once, a misspelt scenario beside a bad cron, in tasks and serve alike', () => {
    const tmp = tempDir('oktell-tasks-cli-');
    try {
      writeFileSync(
        join(tmp.dir, 'oktell.config.yaml'),
        [
          'serviceTasks:',
          '  - name: report',
          '    scenario: DailyReprt',
          '    cron: "0 25 * * *"',
          '  - { name: poll, scenario: PollOrders, every: 5x, timeZone: Mars/Base }',
          '  - { name: old, scenario: DailyReprt, every: 1h, enabled: false }',
          '  - { name: fine, scenario: DailyReport, cron: "0 9 * * *", timeZone: UTC }',
          '',
        ].join('\n'),
      );
      mkdirSync(join(tmp.dir, 'var'));
      const problems = [
        'oktell.config.yaml:3:15: scenario: "DailyReprt" is not in the scenarios folder (did you mean DailyReport?)',
        'oktell.config.yaml:4:11: cron: hour: 25 is outside 0-23',
        'oktell.config.yaml:5:29: scenario: "PollOrders" is not in the scenarios folder',
        'oktell.config.yaml:5:48: every: "5x" is not an interval',
        'oktell.config.yaml:5:62: timeZone: "Mars/Base" is not a time zone (e.g. Europe/Moscow, UTC)',
        'oktell.config.yaml:6:28: scenario: "DailyReprt" is not in the scenarios folder (did you mean DailyReport?) (the task is disabled)',
      ];
      const { tasks, serve } = refusedBothWays(tmp.dir, problems);
      assert.equal(serve.after[0], '  old (every 1h): disabled');
      assert.match(serve.after[1]!, /^ {2}fine \(0 9 \* \* \*\): next \d{4}-/);
      // tasks lists the good ones and names each bad one with its problems.
      assert.match(tasks.stdout, /^old {2}DailyReprt {2}every 1h .*\n[\s\S]*\nfine {2}DailyReport {2}0 9 \* \* \* {2}UTC\n/);
      assert.match(tasks.stdout, /\nreport {2}invalid: the server does not start with it\n {2}! oktell\.config\.yaml:3:15: scenario: "DailyReprt" .*\n {2}! oktell\.config\.yaml:4:11: cron: hour: 25 is outside 0-23\n/);
      assert.match(tasks.stdout, /\npoll {2}invalid: .*\n {2}! oktell\.config\.yaml:5:29: .*\n {2}! oktell\.config\.yaml:5:48: .*\n {2}! oktell\.config\.yaml:5:62: .*\n$/);
    } finally {
      tmp.cleanup();
    }
  });

  it('problems in file order (line, then column); a bad cron beside a bad time zone; a cron that is never due (30 February)', () => {
    const tmp = tempDir('oktell-tasks-cli-');
    try {
      writeFileSync(
        join(tmp.dir, 'oktell.config.yaml'),
        [
          'serviceTasks:',
          '  - name: report',
          '    scenario: DailyReport',
          '    timeZone: Mars/Base',
          '    cron: "61 * * * *"',
          '    overlap: sometimes',
          '    missed: never',
          '  - name: leap',
          '    scenario: DailyReport',
          '    cron: "0 0 30 2 *"',
          '    timeZone: UTC',
          '  - { name: april, scenario: DailyReport, cron: "0 0 31 4,6 *" }',
          '  - { name: fine, scenario: DailyReport, cron: "0 9 * * *", timeZone: UTC }',
          '',
        ].join('\n'),
      );
      mkdirSync(join(tmp.dir, 'var'));
      const problems = [
        'oktell.config.yaml:4:15: timeZone: "Mars/Base" is not a time zone (e.g. Europe/Moscow, UTC)',
        'oktell.config.yaml:5:11: cron: minute: 61 is outside 0-59',
        'oktell.config.yaml:6:14: overlap: run (the default) or skip',
        'oktell.config.yaml:7:13: missed: once (one catch-up run after a stop) or skip',
        'oktell.config.yaml:10:11: cron: "0 0 30 2 *" is never due: February has no 30th',
        'oktell.config.yaml:12:49: cron: "0 0 31 4,6 *" is never due: April and June have no 31st',
      ];
      const { tasks, serve } = refusedBothWays(tmp.dir, problems);
      assert.match(serve.after[0]!, /^ {2}fine \(0 9 \* \* \*\): next \d{4}-/);
      assert.match(tasks.stdout, /^fine {2}DailyReport {2}0 9 \* \* \* {2}UTC\n {2}last run: never run\n {2}next: \d{4}-/);
      assert.deepEqual([...tasks.stdout.matchAll(/^(\S+) {2}invalid: /gm)].map((m) => m[1]), ['report', 'leap', 'april']);
    } finally {
      tmp.cleanup();
    }
  });

  it('reports a task naming a scenario missing from the folder as serve does: exit 2 for an enabled task, a warning for a disabled one; tasks run refuses it', async () => {
    const tmp = tempDir('oktell-tasks-cli-');
    try {
      writeFileSync(
        join(tmp.dir, 'oktell.config.yaml'),
        'serviceTasks:\n  - name: poll-orders\n    scenario: PollOrders\n    every: 5m\n  - { name: old, scenario: DailyReprt, every: 1h, enabled: false }\n  - { name: report, scenario: DailyReport, cron: "0 9 * * *", timeZone: UTC }\n',
      );
      mkdirSync(join(tmp.dir, 'var'));
      const missing = 'oktell.config.yaml:3:15: scenario: "PollOrders" is not in the scenarios folder';
      const disabled = 'oktell.config.yaml:5:28: scenario: "DailyReprt" is not in the scenarios folder (did you mean DailyReport?) (the task is disabled)';
      const serve = runCli(['serve', '--port', '0', '--host', '127.0.0.1', '--bpium-emulator-port', '0'], { cwd: tmp.dir, env, unset: ['OKTELL_DATA_DIR'], timeoutMs: 60_000 });
      assert.equal(serve.code, 2, serve.stderr);
      assert.ok(serve.stderr.includes(`oktell-emu: ${missing}\n`), serve.stderr);

      const list = runCli(['tasks'], { cwd: tmp.dir, env, unset: ['OKTELL_DATA_DIR'] });
      assert.equal(list.code, 2, 'the listing fails as the start does');
      assert.match(list.stdout, /^poll-orders {2}PollOrders {2}every 5m/m, 'the schedule is still listed');
      assert.match(list.stdout, /^report {2}DailyReport/m);
      assert.equal(list.stderr, `oktell-emu: warning: ${disabled}\noktell-emu: ${missing}\nthe server does not start with this configuration (scenarios folder: ${repoPath('scenarios')})\n`);

      const run = runCli(['tasks', 'run', 'poll-orders'], { cwd: tmp.dir, env, unset: ['OKTELL_DATA_DIR'] });
      assert.deepEqual({ code: run.code, stdout: run.stdout, stderr: run.stderr }, { code: 2, stdout: '', stderr: `oktell-emu: ${missing}; nothing queued\n` });
      assert.equal(runCli(['tasks', 'run', 'old'], { cwd: tmp.dir, env, unset: ['OKTELL_DATA_DIR'] }).code, 2, 'a disabled task too');
      const store = await openSqliteStore({ file: join(tmp.dir, 'var', 'oktell.sqlite') });
      try {
        assert.deepEqual((await store.listJobs({ limit: 10 })).items, [], 'nothing was queued');
      } finally {
        await store.close();
      }
      assert.equal(runCli(['tasks', 'run', 'report'], { cwd: tmp.dir, env, unset: ['OKTELL_DATA_DIR'] }).code, 0, 'a good task still runs');

      // The folder serve would be started with (--scenarios, as serve's): every task's scenario is there.
      const folder = join(tmp.dir, 'own-scenarios');
      mkdirSync(folder);
      for (const name of ['PollOrders', 'DailyReprt', 'DailyReport']) writeFileSync(join(folder, `${name}.yaml`), '');
      const own = runCli(['tasks', '--scenarios', folder], { cwd: tmp.dir, env, unset: ['OKTELL_DATA_DIR'] });
      assert.deepEqual({ code: own.code, stderr: own.stderr }, { code: 0, stderr: '' });
    } finally {
      tmp.cleanup();
    }
  });

  it('a parameter computed with SubStr counts from substrBase, as the runs do', async () => {
    const tmp = tempDir('oktell-tasks-cli-');
    try {
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), 'substrBase: 1\nserviceTasks:\n  - { name: a, scenario: DailyReport, every: 5m, params: { 2: \'SubStr("abc", 1, 1)\' } }\n');
      mkdirSync(join(tmp.dir, 'var'));
      const run = runCli(['tasks', 'run', 'a'], { cwd: tmp.dir, env, unset: ['OKTELL_DATA_DIR', 'OKTELL_SUBSTR_BASE'] });
      assert.equal(run.code, 0, run.stderr);
      const jobId = /^a: job (\S+) queued\n$/.exec(run.stdout)?.[1];
      assert.ok(jobId, run.stdout);
      const store = await openSqliteStore({ file: join(tmp.dir, 'var', 'oktell.sqlite') });
      try {
        assert.equal(((await store.getJob(jobId))?.params as Record<string, string> | undefined)?.['2'], 'a', 'SubStr("abc", 1, 1) is "a" from 1');
      } finally {
        await store.close();
      }
    } finally {
      tmp.cleanup();
    }
  });

  it('a parameter that fails to compute: tasks run queues the run and says which parameter and why; --json prints the run; the listing shows it on the last run', async () => {
    const tmp = tempDir('oktell-tasks-cli-');
    try {
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), 'serviceTasks:\n  - { name: a, scenario: DailyReport, every: 5m, params: { 2: \'ToDate("x")\', 3: \'"ok"\' } }\n');
      mkdirSync(join(tmp.dir, 'var'));
      const cli = (...args: string[]) => runCli(args, { cwd: tmp.dir, env, unset: ['OKTELL_DATA_DIR'] });
      const why = /ToDate: cannot read text "x" as a date/;

      const run = cli('tasks', 'run', 'a');
      assert.equal(run.code, 0, run.stderr);
      const jobId = /^a: job (\S+) queued\n$/.exec(run.stdout)?.[1];
      assert.ok(jobId, run.stdout);
      assert.match(run.stderr, /^oktell-emu: warning: a: parameter 2 failed, passed empty: ToDate: cannot read text "x" as a date [^\n]*\n/);
      const store = await openSqliteStore({ file: join(tmp.dir, 'var', 'oktell.sqlite') });
      try {
        const job = await store.getJob(jobId);
        const params = job?.params as Record<string, string> | undefined;
        assert.deepEqual({ status: job?.status, p2: params?.['2'], p3: params?.['3'] }, { status: 'queued', p2: '', p3: 'ok' });
      } finally {
        await store.close();
      }

      // --json after the name or before `run`: one object, the shape POST /-/tasks/NAME/run answers.
      for (const args of [['tasks', 'run', 'a', '--json'], ['tasks', '--json', 'run', 'a']]) {
        const r = cli(...args);
        assert.equal(r.code, 0, r.stderr);
        const out = JSON.parse(r.stdout) as { task: string; jobId: string; paramErrors: Record<string, string> };
        assert.deepEqual(Object.keys(out), ['task', 'jobId', 'paramErrors'], args.join(' '));
        assert.equal(out.task, 'a');
        assert.match(out.jobId, /^\w+$/);
        assert.deepEqual(Object.keys(out.paramErrors), ['2']);
        assert.match(out.paramErrors['2']!, why);
      }

      const list = cli('tasks');
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout, /\n {2}last run: queued, manual run queued [^\n]*\n {4}! parameter 2 failed, passed empty: ToDate: cannot read text "x"[^\n]*\n {2}next: /);
      const json = (JSON.parse(cli('tasks', '--json').stdout) as { tasks: Array<{ lastRun: { paramErrors?: Record<string, string> } }> }).tasks;
      assert.match(json[0]!.lastRun.paramErrors?.['2'] ?? '', why);
    } finally {
      tmp.cleanup();
    }
  });

  it('a task parameter written "reports@example.com" gets the scenario validator\'s YAML hint: write \'"reports@example.com"\'', () => {
    const tmp = tempDir('oktell-tasks-cli-');
    try {
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), 'serviceTasks:\n  - name: a\n    scenario: DailyReport\n    every: 5m\n    params:\n      2: "reports@example.com"\n');
      mkdirSync(join(tmp.dir, 'var'));
      const r = runCli(['tasks'], { cwd: tmp.dir, env, unset: ['OKTELL_DATA_DIR'] });
      assert.equal(r.code, 2);
      assert.equal(r.stderr.split('\n')[0], `oktell-emu: oktell.config.yaml:6:18: params.2: unexpected character "@" (write '"reports@example.com"' — YAML drops the "…" around a whole value; the outer '…' keep them for the expression)`);
      assert.match(r.stdout, /^a {2}invalid: the server does not start with it\n {2}! oktell\.config\.yaml:6:18: params\.2: /);
    } finally {
      tmp.cleanup();
    }
  });

  it('a task parameter written every-minute (a hyphenated text) gets the whole text quoted, not only "every"', () => {
    const tmp = tempDir('oktell-tasks-cli-');
    try {
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), 'serviceTasks:\n  - name: a\n    scenario: DailyReport\n    every: 5m\n    params: { 2: every-minute }\n');
      mkdirSync(join(tmp.dir, 'var'));
      const r = runCli(['tasks'], { cwd: tmp.dir, env, unset: ['OKTELL_DATA_DIR'] });
      assert.equal(r.code, 2);
      assert.equal(r.stderr.split('\n')[0], `oktell-emu: oktell.config.yaml:5:18: params.2: unquoted text "every-minute" (write '"every-minute"' — YAML drops the "…" around a whole value; the outer '…' keep them for the expression)`);
    } finally {
      tmp.cleanup();
    }
  });

  it('a bad cron hides no task: the others are listed with their due times (a disabled one as disabled), the bad one is named at its file:line:col', () => {
    const tmp = tempDir('oktell-tasks-cli-');
    try {
      writeFileSync(
        join(tmp.dir, 'oktell.config.yaml'),
        'serviceTasks:\n  - { name: daily-report, scenario: DailyReport, cron: "0 8 * * *", enabled: false }\n  - { name: morning, scenario: DailyReport, cron: "0 9 * * *", timeZone: UTC }\n  - { name: tick, scenario: DailyReport, cron: "0 25 * * *" }\n',
      );
      mkdirSync(join(tmp.dir, 'var'));
      const r = runCli(['tasks'], { cwd: tmp.dir, env, unset: ['OKTELL_DATA_DIR'] });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /^oktell-emu: oktell\.config\.yaml:4:48: cron: hour: 25 is outside 0-23\nthe server does not start with this configuration \(scenarios folder: [^\n]+\)\n$/);
      assert.match(
        r.stdout,
        /^daily-report {2}DailyReport {2}0 8 \* \* \* {2}Europe\/Moscow\n {2}last run: never run\n {2}next: disabled\nmorning {2}DailyReport {2}0 9 \* \* \* {2}UTC\n {2}last run: never run\n {2}next: (\d{4}-\d\d-\d\dT09:00:00Z(, )?){3}\ntick {2}invalid: the server does not start with it\n {2}! oktell\.config\.yaml:4:48: cron: hour: 25 is outside 0-23\n$/,
      );
      const json = JSON.parse(runCli(['tasks', '--json'], { cwd: tmp.dir, env, unset: ['OKTELL_DATA_DIR'] }).stdout) as { tasks: Array<{ name: string }>; invalid: unknown };
      assert.deepEqual(json.tasks.map((t) => t.name), ['daily-report', 'morning']);
      assert.deepEqual(json.invalid, [{ name: 'tick', problems: ['oktell.config.yaml:4:48: cron: hour: 25 is outside 0-23'] }]);
    } finally {
      tmp.cleanup();
    }
  });
});
