// The places in BpiumNewTask.yaml that the docs quote (`BpiumNewTask.yaml:<line>:<column>` in an example's output) are
// where those problems are: a block added above them (isTaskCatalog, notTaskCatalog) moves them, and a stale number
// sends a reader to the wrong line of the file they are told to open.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../cli/cli.helper.js';
import { repoPath, tempDir } from '../helpers.js';

const scenario = readFileSync(repoPath('scenarios', 'BpiumNewTask.yaml'), 'utf8').split('\n');
const doc = (page: string) => readFileSync(repoPath('docs', page), 'utf8').replace(/\s+/g, ' ');

/** `line:column` of a block's key (`  notify:`) in BpiumNewTask.yaml, as errors of the block name it. */
function blockAt(block: string): string {
  const line = scenario.indexOf(`  ${block}:`);
  assert.ok(line >= 0, `block ${block} in BpiumNewTask.yaml`);
  return `${line + 1}:3`;
}

describe('docs: the lines of BpiumNewTask.yaml they quote', () => {
  it('docs/cli.md: the failed started run (no Bpium configured) is at the line run prints', () => {
    const quoted = /failed: scenarios\/BpiumNewTask\.yaml:(\d+:\d+) R_ADAPTER_MISSING/.exec(doc('cli.md'));
    assert.ok(quoted, 'docs/cli.md quotes the R_ADAPTER_MISSING line');
    const tmp = tempDir();
    try {
      const r = runCli(['run', 'HTTP404', '-p', '1=/Bpium/NewTask', '-p', '4=@scenarios/tests/webhooks/two-responsible.json', '--data-dir', join(tmp.dir, 'var')], {
        unset: ['BPIUM_URL', 'BPIUM_LOGIN', 'BPIUM_PASSWORD', 'OKTELL_CONFIG'],
      });
      assert.equal(r.code, 1, r.stderr);
      const printed = /failed: scenarios\/BpiumNewTask\.yaml:(\d+:\d+) R_ADAPTER_MISSING/.exec(r.stderr);
      assert.ok(printed, r.stderr);
      assert.equal(quoted[1], printed[1]);
      assert.equal(printed[1], blockAt('getUser'));
    } finally {
      tmp.cleanup();
    }
  });

  it('docs/server.md: the failed SendMail "notify" is at the notify block', () => {
    const quoted = /BpiumNewTask\.yaml:(\d+:\d+) R_EFFECT_TRANSIENT SendMail "notify"/.exec(doc('server.md'));
    assert.ok(quoted, 'docs/server.md quotes the R_EFFECT_TRANSIENT line');
    assert.equal(quoted[1], blockAt('notify'));
  });

  it('docs/console.md quotes the [usrId] error at the line the README does (test/docs/readme-commands checks that one)', () => {
    const readme = /scenarios\/BpiumNewTask\.yaml:(\d+:\d+) E_UNKNOWN_VARIABLE unknown variable \[usrId\]/.exec(readFileSync(repoPath('README.md'), 'utf8'));
    const console = /BpiumNewTask\.yaml:(\d+:\d+) E_UNKNOWN_VARIABLE unknown variable \[usrId\]/.exec(doc('console.md'));
    assert.ok(readme && console);
    assert.equal(console[1], readme[1]);
  });
});
