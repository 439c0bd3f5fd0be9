// A fixture, test, seed or configuration file put among the scenarios is reported as what it is and where it belongs,
// not as a scenario missing its keys; the scenarios beside it are unaffected.
import assert from 'node:assert/strict';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoPath, tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

describe('oktell-emu validate: non-scenario files in the scenarios folder', () => {
  const tmp = tempDir();
  before(() => {
    // The docs' HTTP fixture example, the shipped Bpium fixture, a test file, the emulator's seed and a configuration.
    writeFileSync(join(tmp.dir, 'sms.yaml'), ['- match: POST https://sms.example.ru/api/*', '  status: 201', '  json: { id: m-1, status: queued }', ''].join('\n'));
    copyFileSync(repoPath('scenarios', 'tests', 'bpium-users.yaml'), join(tmp.dir, 'users.yaml'));
    writeFileSync(join(tmp.dir, 'notify.test.yaml'), ['cases:', '  - name: one', '    scenario: SmsNotify', '    expect: { status: completed }', ''].join('\n'));
    copyFileSync(repoPath('bpium-emulator', 'seed.yaml'), join(tmp.dir, 'seed.yaml'));
    writeFileSync(join(tmp.dir, 'oktell.config.yaml'), ['port: 4055', 'dataDir: ./var', ''].join('\n'));
    writeFileSync(join(tmp.dir, 'SmsNotify.yaml'), ['blocks:', `  r: { kind: ReturnValue, values: { 1: '"sent"' } }`, ''].join('\n'));
  });
  after(() => tmp.cleanup());

  it('names each file\'s kind, says it does not belong among scenarios, and nothing else', () => {
    const r = runCli(['validate', '--scenarios', tmp.dir, '--json']);
    assert.equal(r.code, 1, r.stderr);
    const out = JSON.parse(r.stdout) as { issues: Array<{ file: string; line: number; col: number; code: string; message: string; hint: string }> };
    const byFile = new Map(out.issues.map((i) => [i.file.replace(/.*\//, ''), i]));
    assert.deepEqual([...byFile.keys()].sort(), ['notify.test.yaml', 'oktell.config.yaml', 'seed.yaml', 'sms.yaml', 'users.yaml']);
    assert.equal(out.issues.length, 5, 'one problem per file');
    for (const i of out.issues) {
      assert.equal(i.code, 'E_NOT_A_SCENARIO');
      assert.match(i.hint, /^every \.yaml file directly in the scenarios folder is read as a scenario: move this one into a sub-folder \(tests\/ holds the test files and their fixtures\) or out of the folder; /);
    }
    const sms = byFile.get('sms.yaml')!;
    assert.deepEqual([sms.line, sms.col, sms.message], [1, 1, 'this is not a scenario: it looks like an HTTP fixture file (a list of "match:" answers for WebRequest blocks)']);
    assert.match(sms.hint, /give it to run --http-fixtures, or as http: of a test file$/);
    assert.match(byFile.get('users.yaml')!.message, /a Bpium fixture file/);
    assert.match(byFile.get('users.yaml')!.hint, /run --bpium-fixtures/);
    assert.match(byFile.get('notify.test.yaml')!.message, /a scenario test file/);
    assert.match(byFile.get('seed.yaml')!.message, /a Bpium emulator seed/);
    assert.match(byFile.get('oktell.config.yaml')!.message, /the server's configuration file/);
  });

  it('the scenario beside them still runs', () => {
    const r = runCli(['run', 'SmsNotify', '--scenarios', tmp.dir, '--dry-run', '--json']);
    assert.equal(r.code, 0, r.stdout);
    assert.deepEqual(JSON.parse(r.stdout).returnValues, { '1': 'sent' });
  });

  it('a file that is neither keeps its problems as a scenario', () => {
    writeFileSync(join(tmp.dir, 'Odd.yaml'), '- just\n- a list\n');
    try {
      const r = runCli(['validate', join(tmp.dir, 'Odd.yaml'), '--json']);
      assert.equal(r.code, 1);
      assert.deepEqual((JSON.parse(r.stdout) as { issues: Array<{ code: string }> }).issues.map((i) => i.code), ['E_NOT_A_MAPPING']);
    } finally {
      writeFileSync(join(tmp.dir, 'Odd.yaml'), ['blocks:', `  r: { kind: ReturnValue, values: { 1: '"odd"' } }`, ''].join('\n'));
    }
  });
});
