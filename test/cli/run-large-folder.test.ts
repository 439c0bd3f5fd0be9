// `run` refusing a scenario in a folder of hundreds (trial 48): a router starting a dozen scenarios, one of them
// broken, names the broken one, not every scenario it can start; an unknown scenario's message names ten of the
// folder's scenarios and counts the rest, instead of one line of every name.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

describe('oktell-emu run in a large folder', () => {
  const tmp = tempDir();
  const customers = Array.from({ length: 12 }, (_, i) => `Customer${String(i + 1).padStart(2, '0')}`);
  before(() => {
    for (const c of customers) writeFileSync(join(tmp.dir, `${c}.yaml`), `blocks:\n  r: { kind: ReturnValue, values: { 1: '"${c}"' } }\n`);
    writeFileSync(join(tmp.dir, 'Customer07.yaml'), `blocks:\n  r: { kind: ReturnValue, values: { 1: '[nope]' } }\n`);
    const go = customers.map((c, i) => `  go${i}: { kind: AsyncScenario, scenario: ${c}, exits: { next: ${i + 1 < customers.length ? `go${i + 1}` : 'r'} } }\n`).join('');
    writeFileSync(join(tmp.dir, 'Router.yaml'), `start: go0\nblocks:\n${go}  r: { kind: ReturnValue, values: { 2: 200 } }\n`);
  });
  after(() => tmp.cleanup());

  it('a router refused for one broken customer names that one', () => {
    const r = runCli(['run', 'Router', '--scenarios', tmp.dir, '--dry-run']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^oktell-emu: scenario Router cannot run: 1 problem\(s\) in Router and the 12 scenarios it can start \(with problems: Customer07\):\n.*Customer07\.yaml:2:42 E_UNKNOWN_VARIABLE/);
    assert.doesNotMatch(r.stderr, /Customer01/);
  });

  it('a target with no file is not named nor counted as a scenario with problems: the problem is the router\'s', () => {
    const go = customers.filter((c) => c !== 'Customer07').map((c, i) => `  go${i}: { kind: AsyncScenario, scenario: ${c}, exits: { next: go${i + 1} } }\n`).join('');
    writeFileSync(join(tmp.dir, 'Typo.yaml'), `start: go0\nblocks:\n${go}  go11: { kind: AsyncScenario, scenario: Nowhere99, exits: { next: r } }\n  r: { kind: ReturnValue, values: { 2: 200 } }\n`);
    const r = runCli(['run', 'Typo', '--scenarios', tmp.dir, '--dry-run']);
    rmSync(join(tmp.dir, 'Typo.yaml'));
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^oktell-emu: scenario Typo cannot run: 1 problem\(s\) in Typo and the 11 scenarios it can start \(none with problems of its own\):\n.*Typo\.yaml:\d+:\d+ E_UNKNOWN_SCENARIO scenario "Nowhere99"/);
  });

  it('an unknown scenario names ten of the folder and counts the others', () => {
    const r = runCli(['run', 'Zzzzzzzzzz', '--scenarios', tmp.dir, '--dry-run']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /; its scenarios: Customer01, Customer02, Customer03, Customer04, Customer05, Customer06, Customer07, Customer08, Customer09, Customer10 and 3 more; or give the path to the file/);
  });
});
