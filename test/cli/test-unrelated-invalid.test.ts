// `oktell-emu test FILE` with an invalid scenario in the folder that no selected case runs (nor starts): all cases run,
// the problem is listed as a warning "not in this run's way" (as `run` counts such files), exit 0. A case whose
// scenario starts an invalid one runs (a route that never reaches it passes; one that does fails there, saying so),
// but the problem stands in the way: exit 2. A case whose own scenario is invalid is held back.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

const ECHO = `start: r
blocks:
  r: { kind: ReturnValue, values: { 1: '"a"' } }
`;
/** Invalid: an unquoted [x] is a YAML list. */
const BROKEN = `start: r
blocks:
  r: { kind: ReturnValue, values: { 1: [x] } }
`;
const CALLER = `start: go
blocks:
  go: { kind: AsyncScenario, scenario: Broken, exits: { next: r } }
  r: { kind: ReturnValue, values: { 1: '"started"' } }
`;
const PROBLEM = /^scenarios\/Broken\.yaml:3:40 E_INVALID_PROPERTY "values\.1": Invalid input: expected string, received array \[block r\]$/m;

describe('oktell-emu test: invalid scenarios no selected case depends on', () => {
  const tmp = tempDir();
  const cli = (args: string[]) => runCli(['test', '-s', 'scenarios', ...args], { cwd: tmp.dir, unset: ['OKTELL_SCENARIOS'], timeoutMs: 60_000 });
  before(() => {
    const s = join(tmp.dir, 'scenarios');
    mkdirSync(join(s, 'tests'), { recursive: true });
    writeFileSync(join(s, 'Echo.yaml'), ECHO);
    writeFileSync(join(s, 'Broken.yaml'), BROKEN);
    writeFileSync(join(s, 'Caller.yaml'), CALLER);
    writeFileSync(join(s, 'tests', 'echo.test.yaml'), 'cases:\n  - name: one\n    scenario: Echo\n    expect: { returnValues: { 1: a } }\n  - name: two\n    scenario: Echo\n    expect: { status: completed }\n');
    writeFileSync(join(s, 'tests', 'caller.test.yaml'), 'cases:\n  - name: starts the broken one\n    scenario: Caller\n    expect: { returnValues: { 1: started }, asyncStarted: [ { scenario: Broken, result: { status: completed } } ] }\n');
  });
  after(() => tmp.cleanup());

  it('test FILE whose cases use only valid scenarios: they run and pass, the other file\'s problem is a warning, exit 0', () => {
    const r = cli(['scenarios/tests/echo.test.yaml']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stdout.trim().split('\n').at(-1), '2 passed, 0 failed');
    assert.doesNotMatch(r.stdout + r.stderr, /problem\(s\) listed above|did not run/);
    assert.match(r.stderr, /^oktell-emu: warning: 1 file\(s\) of the scenarios folder have problems that no case run here depends on \(not in this run's way; npx oktell-emu validate --scenarios scenarios\):$/m);
    assert.match(r.stderr, PROBLEM);
  });

  it('--json: passed, no "invalid" status, the problem under "warnings"', () => {
    const r = cli(['scenarios/tests/echo.test.yaml', '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout) as { passed: number; failed: number; status?: string; issues?: unknown; warnings: Array<{ file: string; line: number; col: number; code: string }> };
    assert.deepEqual([out.passed, out.failed, out.status, out.issues], [2, 0, undefined, undefined]);
    assert.deepEqual(out.warnings.map((w) => [w.file, w.line, w.col, w.code]), [['scenarios/Broken.yaml', 3, 40, 'E_INVALID_PROPERTY']]);
  });

  it('a case whose scenario starts the invalid one runs and fails where it reaches it; its problems stand in the way, exit 2', () => {
    const r = cli(['scenarios/tests/caller.test.yaml']);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, PROBLEM);
    assert.doesNotMatch(r.stderr, /cannot run|warning/);
    assert.match(r.stdout, /^✗ scenarios\/tests\/caller\.test\.yaml › starts the broken one/m);
    assert.match(r.stdout, /^ {4}error in started run Broken \(asyncStarted\[0\]\.result\): R_UNKNOWN_SCENARIO scenario "Broken" is invalid \(its problems are listed with its file\), and the run reached it$/m);
    assert.equal(r.stdout.trim().split('\n').at(-1), '0 passed, 1 failed; 1 problem(s) listed above (the cases they concern did not run; a run that reached an invalid scenario failed there)');
  });

  it('--update leaves such a case as it is: its expectation would record a failure that lasts until the file is fixed', () => {
    const file = join(tmp.dir, 'scenarios', 'tests', 'caller.test.yaml');
    const before = readFileSync(file, 'utf8');
    const r = cli(['scenarios/tests/caller.test.yaml', '--update']);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.equal(readFileSync(file, 'utf8'), before);
    assert.match(r.stdout, /^✗ scenarios\/tests\/caller\.test\.yaml › starts the broken one not updated: its run reached an invalid scenario \(fix it first\)$/m);
    const json = JSON.parse(cli(['scenarios/tests/caller.test.yaml', '--update', '--json']).stdout) as { updated: unknown[]; notUpdated: Array<{ case: string }> };
    assert.deepEqual([json.updated, json.notUpdated.map((n) => n.case)], [[], ['starts the broken one']]);
  });

  it('the whole folder: the echo cases pass, the caller\'s case runs and fails at the invalid scenario, exit 2', () => {
    const r = cli([]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.equal(r.stdout.trim().split('\n').at(-1), '2 passed, 1 failed; 1 problem(s) listed above (the cases they concern did not run; a run that reached an invalid scenario failed there)');
    assert.doesNotMatch(r.stderr, /warning/);
  });

  it('a case whose own scenario is invalid is held back', () => {
    writeFileSync(join(tmp.dir, 'scenarios', 'tests', 'broken.test.yaml'), 'cases:\n  - name: the broken one\n    scenario: Broken\n    expect: { status: completed }\n');
    try {
      const r = cli(['scenarios/tests/broken.test.yaml']);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /^scenarios\/tests\/broken\.test\.yaml:3:15 E_INVALID_PROPERTY scenario "Broken" is invalid \(its problems are listed with its file\): its case cannot run$/m);
      assert.doesNotMatch(r.stdout, /✗|✓/);
    } finally {
      rmSync(join(tmp.dir, 'scenarios', 'tests', 'broken.test.yaml'));
    }
  });

  it('a router whose routes lead to invalid scenarios: a route that reaches none passes, one that does fails there', () => {
    const s = join(tmp.dir, 'scenarios');
    const names = ['B1', 'B2', 'B3', 'B4', 'B5', 'B6'];
    for (const n of names) writeFileSync(join(s, `${n}.yaml`), BROKEN);
    // Parameter 1 picks the route: 0 to Echo (valid), 1 to 6 to B1 to B6 (invalid).
    const routes = names.map((n, i) => `  is${n}: { kind: Condition, expression: '[route] = "${i + 1}"', exits: { true: go${n}, false: ${i + 1 < names.length ? `is${names[i + 1]}` : 'r'} } }\n  go${n}: { kind: AsyncScenario, scenario: ${n}, exits: { next: r } }\n`);
    writeFileSync(
      join(s, 'Router.yaml'),
      `variables: { route: string }\nstart: read\nblocks:\n  read: { kind: Variable, set: { route: InputParameter(1) }, exits: { next: isEcho } }\n  isEcho: { kind: Condition, expression: '[route] = "0"', exits: { true: goEcho, false: isB1 } }\n  goEcho: { kind: AsyncScenario, scenario: Echo, exits: { next: r } }\n${routes.join('')}  r: { kind: ReturnValue, values: { 1: '"routed"' } }\n`,
    );
    writeFileSync(
      join(s, 'tests', 'router.test.yaml'),
      'cases:\n  - name: to Echo\n    scenario: Router\n    params: { 1: "0" }\n    expect: { returnValues: { 1: routed }, asyncStarted: [ { scenario: Echo, result: { status: completed } } ] }\n  - name: to B2\n    scenario: Router\n    params: { 1: "2" }\n    expect: { asyncStarted: [ { scenario: B2, result: { status: completed } } ] }\n',
    );
    const r = cli(['scenarios/tests/router.test.yaml']);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stdout, /^✓ scenarios\/tests\/router\.test\.yaml › to Echo/m);
    assert.match(r.stdout, /^✗ scenarios\/tests\/router\.test\.yaml › to B2/m);
    assert.match(r.stdout, /scenario "B2" is invalid \(its problems are listed with its file\), and the run reached it$/m);
  });
});
