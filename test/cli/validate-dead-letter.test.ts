// `oktell-emu validate` says what `serve` says of the dead-letter catch-all, through the real binary: a setting that
// names no scenario of the folder (with where it is set and the name meant), and a catch-all file that does not load
// (at its file:line:col). A DeadLetter.yaml that loads, with no setting, is the catch-all and is not warned of.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

const STOP = 'start: end\nblocks:\n  end: { kind: Stop }\n';
/** Block b has no kind (line 3, column 3). */
const BROKEN = 'start: b\nblocks:\n  b: { exits: { next: b } }\n';

function folderWith(files: Record<string, string>) {
  const tmp = tempDir();
  mkdirSync(join(tmp.dir, 'scenarios'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(tmp.dir, 'scenarios', name), text);
  return tmp;
}

describe('oktell-emu validate: the dead-letter catch-all', () => {
  it('a name the folder does not hold is warned of, naming the variable and the scenario meant; exit 0', () => {
    const tmp = folderWith({ 'HTTP404.yaml': STOP, 'Alerts.yaml': STOP });
    try {
      const r = runCli(['validate'], { cwd: tmp.dir, env: { NO_COLOR: '1', OKTELL_DEAD_LETTER_SCENARIO: 'Alertz' } });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /^warning: OKTELL_DEAD_LETTER_SCENARIO: the dead-letter catch-all Alertz \(OKTELL_DEAD_LETTER_SCENARIO or deadLetterScenario\) is not among the scenarios loaded from .*scenarios — did you mean Alerts\?: a job given up on .* nobody is told; add Alertz\.yaml/m);
      const ok = runCli(['validate'], { cwd: tmp.dir, env: { NO_COLOR: '1', OKTELL_DEAD_LETTER_SCENARIO: 'Alerts' } });
      assert.doesNotMatch(ok.stdout, /dead-letter/);
    } finally {
      tmp.cleanup();
    }
  });

  it('another folder than the scenarios folder is not warned of: the server looks for the catch-all in the scenarios folder', () => {
    const tmp = folderWith({ 'HTTP404.yaml': STOP, 'Alerts.yaml': STOP });
    try {
      mkdirSync(join(tmp.dir, 'other'));
      writeFileSync(join(tmp.dir, 'other', 'Orders.yaml'), STOP);
      const r = runCli(['validate', 'other'], { cwd: tmp.dir, env: { NO_COLOR: '1', OKTELL_DEAD_LETTER_SCENARIO: 'Alerts' } });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /valid/);
      assert.doesNotMatch(r.stdout + r.stderr, /dead-letter/);
    } finally {
      tmp.cleanup();
    }
  });

  it('a DeadLetter.yaml that does not load is named at its file:line:col; one that loads is not warned of', () => {
    const tmp = folderWith({ 'HTTP404.yaml': STOP, 'DeadLetter.yaml': BROKEN });
    try {
      const r = runCli(['validate'], { cwd: tmp.dir, env: { NO_COLOR: '1' } });
      assert.match(r.stdout + r.stderr, /warning: scenarios\/DeadLetter\.yaml:\d+:\d+: the dead-letter catch-all DeadLetter is invalid \(/);
      writeFileSync(join(tmp.dir, 'scenarios', 'DeadLetter.yaml'), STOP);
      const ok = runCli(['validate'], { cwd: tmp.dir, env: { NO_COLOR: '1' } });
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      assert.doesNotMatch(ok.stdout + ok.stderr, /dead-letter/);
    } finally {
      tmp.cleanup();
    }
  });
});
