// A task's constant parameter that the scenario reads into a variable of another type (`3: '"ten"'` into a number)
// fails every run with R_EXPRESSION at the scenario's line. The start and `oktell-emu tasks` warn at the number in
// `params:` instead, with a value to give; a value the type holds is not warned about.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startTestServer } from '../server/server-helpers.js';
import { withTasksProject } from './tasks-project.helper.js';

const REPORT = `variables: { due: string, who: string, limit: number, since: datetime }
start: begin
blocks:
  begin: { kind: Start, param: due, exits: { next: read } }
  read:
    kind: InputParameter
    params: { who: 2, limit: 3, since: 4 }
    exits: { next: ret }
  ret:
    kind: ReturnValue
    values: { 1: '[who] + " " + [limit]' }
`;

const CONFIG = `serviceTasks:
  - name: report
    scenario: Report
    every: 1h
    params:
      2: '"ops@example.com"'
      3: '"ten"'
      4: '"yesterday"'
  - name: fine
    scenario: Report
    every: 1h
    params: { 2: '"x"', 3: 42, 4: '"2026-01-31"' }
`;

const NUMBER = `params.3: scenario Report reads input parameter 3 into limit (number, block read), which cannot hold "ten" (cannot convert text "ten" to a number): every run of task report would fail there; give a number (3: '10')`;

describe('a task parameter the scenario cannot hold', () => {
  it('is warned about at its place in params: by oktell-emu tasks, with the value to give', () => {
    withTasksProject('oktell-task-mistyped-', { 'Report.yaml': REPORT }, (tasks) => {
      const out = tasks(CONFIG);
      assert.equal(out.code, 0, out.stderr);
      const warnings = out.stderr.split('\n').filter((l) => l.startsWith('oktell-emu: warning:'));
      assert.equal(warnings.length, 2, out.stderr);
      assert.equal(warnings[0], `oktell-emu: warning: oktell.config.yaml:7:7: ${NUMBER}`);
      assert.match(warnings[1]!, /^oktell-emu: warning: oktell\.config\.yaml:8:7: params\.4: scenario Report reads input parameter 4 into since \(datetime, block read\), which cannot hold "yesterday" \(.*\): every run of task report would fail there; give a date \(4: '"2026-01-31"', or 4: 'AddDays\(Now\(\), -1\)' for the day before the due time\)$/);
    });
  });

  it('is computed with the server\'s substrBase, as the runs compute it: no warning for a value they can hold', () => {
    withTasksProject('oktell-task-mistyped-substr-', { 'Report.yaml': REPORT }, (tasks) => {
      const task = `serviceTasks:\n  - { name: cut, scenario: Report, every: 1h, params: { 3: 'Substr("10x", 1, 2)' } }\n`;
      // Counted from 1, the runs pass "10": nothing to warn about.
      const one = tasks(`substrBase: 1\n${task}`);
      assert.equal(one.code, 0, one.stderr);
      assert.doesNotMatch(one.stderr, /cannot hold/);
      // Counted from 0 (the default), they pass "0x", which a number cannot hold.
      assert.match(tasks(task).stderr, /params\.3: scenario Report reads input parameter 3 into limit \(number, block read\), which cannot hold "0x"/);
    });
  });

  it('is warned about for the due time, parameter 1 when params: sets none, read into a number', () => {
    withTasksProject('oktell-task-mistyped-due-', { 'Count.yaml': REPORT.replace('due: string', 'due: number'), 'Report.yaml': REPORT }, (tasks) => {
      const out = tasks(`serviceTasks:\n  - { name: count, scenario: Count, every: 1h, params: { 3: 1 } }\n  - { name: set, scenario: Count, every: 1h, params: { 1: 7, 3: 1 } }\n  - { name: fine, scenario: Report, every: 1h, params: { 3: 1 } }\n`);
      assert.equal(out.code, 0, out.stderr);
      const warnings = out.stderr.split('\n').filter((l) => l.startsWith('oktell-emu: warning:'));
      assert.equal(warnings.length, 1, out.stderr);
      assert.match(warnings[0]!, /^oktell-emu: warning: oktell\.config\.yaml:2:\d+: scenario Count reads input parameter 1, the due time \(e\.g\. "2026-01-31T12:00:00\+03:00": params: sets no 1\), into due \(number, block begin\), which cannot hold it \(cannot convert text .* to a number\): every run of task count would fail there; declare due a string or datetime, or give params: 1$/);
    });
  });

  it('is warned about when the server starts, and the suggested values run', async () => {
    const warnings: string[] = [];
    const logger = { debug: () => undefined, info: () => undefined, error: () => undefined, warn: (_o: object, msg?: string) => void warnings.push(msg ?? '') };
    const t = await startTestServer({ smtp: false, logger, extraScenarios: { 'Report.yaml': REPORT }, config: CONFIG });
    try {
      assert.ok(warnings.some((w) => w.endsWith(`oktell.config.yaml:7:7: ${NUMBER}`)), warnings.join('\n'));
      assert.ok(!warnings.some((w) => w.includes('task fine')), warnings.join('\n'));
    } finally {
      await t.cleanup();
    }
    // The values the warning gives are taken: the same tasks with them warn no more.
    const fixed = CONFIG.replace(`3: '"ten"'`, `3: '10'`).replace(`4: '"yesterday"'`, `4: 'AddDays(Now(), -1)'`);
    const again: string[] = [];
    const t2 = await startTestServer({ smtp: false, logger: { ...logger, warn: (_o: object, msg?: string) => void again.push(msg ?? '') }, extraScenarios: { 'Report.yaml': REPORT }, config: fixed });
    try {
      assert.ok(!again.some((w) => w.includes('cannot hold')), again.join('\n'));
    } finally {
      await t2.cleanup();
    }
  });
});
