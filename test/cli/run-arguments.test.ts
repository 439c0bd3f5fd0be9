// What `run` makes of its arguments: an invalid scenario reports only the problems in its way (structured under
// --json), a path to a scenario file runs it from its folder, and a parameter given twice is refused.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

/** A folder with Top (wrong start) starting Child (unknown variable), Caller (valid) calling Child, and two unrelated broken files. */
function brokenFolder(dir: string): void {
  const files: Record<string, string> = {
    'Top.yaml': ['start: bgin', 'blocks:', '  begin: { kind: Start, exits: { next: a } }', '  a: { kind: AsyncScenario, scenario: Child, exits: { next: r } }', `  r: { kind: ReturnValue, values: { 1: '"x"' } }`, ''].join('\n'),
    'Child.yaml': ['blocks:', `  r: { kind: ReturnValue, values: { 1: '[nope]' } }`, ''].join('\n'),
    'Caller.yaml': ['blocks:', '  a: { kind: AsyncScenario, scenario: Child, mode: call, exits: { next: r } }', `  r: { kind: ReturnValue, values: { 1: '"x"' } }`, ''].join('\n'),
    'Empty.yaml': '',
    'Typo.yaml': ['varibles:', '  i: number', 'blocks:', `  a: { kind: ReturnValue, values: { 1: '"y"' } }`, ''].join('\n'),
    'Good.yaml': ['blocks:', `  r: { kind: ReturnValue, values: { 1: '"good"' } }`, ''].join('\n'),
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
}

describe('oktell-emu run of an invalid scenario', () => {
  const tmp = tempDir();
  before(() => brokenFolder(tmp.dir));
  after(() => tmp.cleanup());

  it('lists the problems of the scenario and of those it starts, and counts the other invalid files', () => {
    const r = runCli(['run', 'Top', '--scenarios', tmp.dir, '--dry-run']);
    assert.equal(r.code, 2, r.stderr);
    const located = r.stderr.split('\n').filter((l) => /\.yaml:\d+:\d+ /.test(l)).map((l) => /(\w+\.yaml:\d+:\d+ \w+)/.exec(l)![1]);
    assert.deepEqual(located, ['Child.yaml:2:42 E_UNKNOWN_VARIABLE', 'Top.yaml:1:8 E_UNKNOWN_START']);
    assert.match(r.stderr, /^oktell-emu: scenario Top cannot run: 2 problem\(s\) in Top and the scenarios it starts \(Child\):/);
    assert.match(r.stderr, /2 other file\(s\) of the folder have problems too, not in this run's way: npx oktell-emu validate --scenarios /);
    assert.doesNotMatch(r.stderr, /Empty\.yaml|Typo\.yaml/);
  });

  it('gives them as structured issues under --json', () => {
    const r = runCli(['run', 'Top', '--scenarios', tmp.dir, '--dry-run', '--json']);
    assert.equal(r.code, 2, r.stderr);
    const out = JSON.parse(r.stdout) as { status: string; error: { code: string; scenario: string; otherInvalidFiles: number; issues: Array<Record<string, unknown>> } };
    assert.equal(out.status, 'failed');
    assert.equal(out.error.code, 'E_INVALID_SCENARIO');
    assert.equal(out.error.scenario, 'Top');
    assert.equal(out.error.otherInvalidFiles, 2);
    const top = out.error.issues.find((i) => i.code === 'E_UNKNOWN_START')!;
    assert.match(String(top.file), /Top\.yaml$/);
    assert.deepEqual([top.line, top.col, top.message, top.hint], [1, 8, 'start block "bgin" does not exist', 'did you mean "begin"?']);
    assert.deepEqual(out.error.issues.map((i) => i.code), ['E_UNKNOWN_VARIABLE', 'E_UNKNOWN_START']);
  });

  it('a valid scenario that calls an invalid one does not start: the callee\'s problems are shown', () => {
    const r = runCli(['run', 'Caller', '--scenarios', tmp.dir, '--dry-run', '--json']);
    assert.equal(r.code, 2, r.stdout);
    const out = JSON.parse(r.stdout) as { error: { code: string; issues: Array<{ file: string; code: string }>; otherInvalidFiles: number } };
    assert.equal(out.error.code, 'E_INVALID_SCENARIO');
    assert.deepEqual(out.error.issues.map((i) => [i.file.replace(/.*\//, ''), i.code]), [['Child.yaml', 'E_UNKNOWN_VARIABLE']]);
    assert.equal(out.error.otherInvalidFiles, 3);
  });

  it('a valid scenario of the same folder runs', () => {
    const r = runCli(['run', 'Good', '--scenarios', tmp.dir, '--dry-run', '--json']);
    assert.equal(r.code, 0, r.stdout);
    assert.deepEqual(JSON.parse(r.stdout).returnValues, { '1': 'good' });
  });
});

describe('oktell-emu run with a path to a scenario file', () => {
  const tmp = tempDir();
  before(() => brokenFolder(tmp.dir));
  after(() => tmp.cleanup());

  it('runs the file, its folder being the scenarios folder', () => {
    const r = runCli(['run', join(tmp.dir, 'Good.yaml'), '--dry-run', '--json']);
    assert.equal(r.code, 0, r.stdout);
    const out = JSON.parse(r.stdout) as { scenario: string; returnValues: Record<string, unknown> };
    assert.deepEqual([out.scenario, out.returnValues], ['Good', { '1': 'good' }]);
  });

  it('refuses a path outside the --scenarios folder, saying how to write it', () => {
    const r = runCli(['run', join(tmp.dir, 'Good.yaml'), '--scenarios', 'scenarios', '--dry-run']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Good\.yaml is not in the --scenarios folder .*scenarios: give the scenario's name with --scenarios \(run Good --scenarios .*\), or its path alone/);
  });

  it('refuses a path without .yaml, and an unknown name names the folder it looked in', () => {
    const noExt = runCli(['run', join(tmp.dir, 'Good'), '--dry-run']);
    assert.equal(noExt.code, 2);
    assert.match(noExt.stderr, /is not a scenario name: give the name \(the file name without \.yaml, e\.g\. run Good --scenarios .*\) or the path to the \.yaml file/);
    const unknown = runCli(['run', 'Goood', '--scenarios', tmp.dir, '--dry-run']);
    assert.equal(unknown.code, 2);
    assert.ok(unknown.stderr.includes(`unknown scenario "Goood" in ${tmp.dir} `), unknown.stderr);
    assert.match(unknown.stderr, /; did you mean "Good"\?; its scenarios: Caller, Child, Empty, Good, Top, Typo/);
    // Nothing close: no guess, only the list.
    const far = runCli(['run', 'Zzzzzzz', '--scenarios', tmp.dir, '--dry-run']);
    assert.equal(far.code, 2);
    assert.doesNotMatch(far.stderr, /did you mean/);
    assert.match(far.stderr, /its scenarios: Caller, Child, Empty, Good, Top, Typo/);
  });
});

describe('oktell-emu run -p given twice', () => {
  it('is a usage error naming the parameter, whichever value comes last', () => {
    for (const order of [['1=111', '1=89123456789'], ['1=89123456789', '01=111']]) {
      const r = runCli(['run', 'HTTP404', '--dry-run', '-p', order[0]!, '-p', order[1]!]);
      assert.equal(r.code, 2, r.stdout);
      assert.equal(r.stderr, `oktell-emu: parameter 1 is given twice (-p ${order[0]} and -p ${order[1]}): give each parameter once\n`);
    }
  });
});
