// Problems of a scenario test file that only show once its scenarios are known: a case's `variables:` preset that
// the variable's type cannot hold is a located problem (the run would silently keep the initial value), and it keeps
// only its own case from running.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

/** A number with an initial value, a datetime and a json variable, all returned. */
const CFG = `variables:
  limit: { type: number, initial: 10 }
  since: datetime
  extra: json
blocks:
  r:
    kind: ReturnValue
    values: { 1: '[limit] + 1', 2: '[since]', 3: '[extra]' }
`;

describe('oktell-emu test: case variables its scenario cannot hold', () => {
  const tmp = tempDir();
  const scenarios = join(tmp.dir, 's');
  before(() => {
    mkdirSync(join(scenarios, 'tests'), { recursive: true });
    writeFileSync(join(scenarios, 'Cfg.yaml'), CFG);
  });
  after(() => tmp.cleanup());
  const test = (name: string, text: string, ...args: string[]) => {
    writeFileSync(join(scenarios, 'tests', name), text);
    return runCli(['test', join(scenarios, 'tests', name), ...args], { cwd: tmp.dir });
  };

  it('a value the type refuses is E_INVALID_PROPERTY at the value, naming variable, type and value; the other case runs', () => {
    const r = test(
      'types.test.yaml',
      `cases:
  - name: preset wrong type
    scenario: Cfg
    variables: { limit: "много", since: "вчера", extra: "{not json" }
    expect: { returnValues: { 1: 11 }, variables: { limit: 10 } }
  - name: preset right type
    scenario: Cfg
    variables: { limit: 5, since: "2026-03-15T09:30:00Z", extra: '{"a": 1}' }
    expect: { returnValues: { 1: 6 } }
`,
    );
    assert.equal(r.code, 2, r.stdout + r.stderr);
    const lines = r.stderr.split('\n').filter((l) => / E_/.test(l));
    assert.deepEqual(lines.slice(0, 2), [
      's/tests/types.test.yaml:4:25 E_INVALID_PROPERTY variable "limit" of scenario "Cfg" is of type number and cannot hold "много": cannot convert text "много" to a number',
      's/tests/types.test.yaml:4:41 E_INVALID_PROPERTY variable "since" of scenario "Cfg" is of type datetime and cannot hold "вчера": cannot read text "вчера" as a date (expected dd.MM.yyyy HH:mm:ss, dd.MM.yyyy or ISO 8601 such as 2024-03-15T09:30:00)',
    ]);
    // JSON.parse's own wording differs between Node versions: only what this project writes is compared.
    assert.ok(lines[2]?.startsWith('s/tests/types.test.yaml:4:57 E_INVALID_PROPERTY variable "extra" of scenario "Cfg" is of type json and cannot hold "{not json": text "{not json" is not valid JSON'), lines[2]);
    assert.equal(lines.length, 3, r.stderr);
    assert.match(r.stderr, /hint: give a value of type number, e\.g\. limit: 10/);
    assert.doesNotMatch(r.stdout, /preset wrong type/, 'the case with the problem does not run');
    assert.match(r.stdout, /^✓ s\/tests\/types\.test\.yaml › preset right type /m);
    assert.equal(r.stdout.trim().split('\n').at(-1), '1 passed, 0 failed; 3 problem(s) listed above (the cases they concern did not run)');
  });

  it('values a variable converts are accepted: numeric text and a number for text', () => {
    const r = test('convert.test.yaml', `cases:\n  - name: converted\n    scenario: Cfg\n    variables: { limit: "41" }\n    expect: { returnValues: { 1: 42 } }\n`);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });
});
