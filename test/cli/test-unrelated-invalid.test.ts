// `oktell-emu test FILE` with an invalid scenario in the folder that no selected case runs (nor starts): all cases run,
// the problem is listed as a warning "not in this run's way" (as `run` counts such files), exit 0. A case whose
// scenario is invalid, or starts one that is, still keeps exit 2.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
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
    writeFileSync(join(s, 'tests', 'caller.test.yaml'), 'cases:\n  - name: starts the broken one\n    scenario: Caller\n    expect: { returnValues: { 1: started } }\n');
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

  it('a case whose scenario starts the invalid one: its problems stand in the way, exit 2', () => {
    const r = cli(['scenarios/tests/caller.test.yaml']);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, PROBLEM);
    assert.match(r.stderr, /^scenarios\/tests\/caller\.test\.yaml:3:15 E_INVALID_PROPERTY scenario "Caller" starts an invalid scenario \(Broken: its problems are listed with its file\): its case cannot run$/m);
    assert.doesNotMatch(r.stderr, /warning/);
  });

  it('the whole folder: the echo cases run and pass, the caller\'s case is held back, exit 2', () => {
    const r = cli([]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.equal(r.stdout.trim().split('\n').at(-1), '2 passed, 0 failed; 2 problem(s) listed above (the cases they concern did not run)');
    assert.doesNotMatch(r.stderr, /warning/);
  });

  it('a scenario starting many invalid ones names three and counts the rest (trial 48)', () => {
    const s = join(tmp.dir, 'scenarios');
    const names = ['B1', 'B2', 'B3', 'B4', 'B5', 'B6'];
    for (const n of names) writeFileSync(join(s, `${n}.yaml`), BROKEN);
    writeFileSync(join(s, 'Router.yaml'), `start: go1\nblocks:\n${names.map((n, i) => `  go${i + 1}: { kind: AsyncScenario, scenario: ${n}, exits: { next: ${i + 1 < names.length ? `go${i + 2}` : 'r'} } }\n`).join('')}  r: { kind: ReturnValue, values: { 1: '"routed"' } }\n`);
    writeFileSync(join(s, 'tests', 'router.test.yaml'), 'cases:\n  - name: routes\n    scenario: Router\n    expect: { returnValues: { 1: routed } }\n');
    const r = cli(['scenarios/tests/router.test.yaml']);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /^scenarios\/tests\/router\.test\.yaml:3:15 E_INVALID_PROPERTY scenario "Router" starts invalid scenarios \(B1, B2, B3 and 3 more: their problems are listed with their files\): its case cannot run$/m);
  });
});
