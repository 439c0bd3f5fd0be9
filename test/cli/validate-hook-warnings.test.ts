// `oktell-emu validate` says what `serve` would warn about in the hook scenario (a write made while the webhook waits,
// a status no answer may have), through the real binary: as warnings, not problems.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoPath, tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

/** A hook scenario that sends a letter itself (block w, line 4) and answers 101 (line 12, column 18). */
const HOOK = `start: a
blocks:
  a: { kind: Condition, expression: '1 = 1', exits: { true: w } }
  w:
    kind: SendMail
    to: '"ops@example.com"'
    subject: '"s"'
    text: '"t"'
    exits: { success: r }
  r:
    kind: ReturnValue
    values: { 2: '101' }
`;

function folderWith(files: Record<string, string>) {
  const tmp = tempDir();
  mkdirSync(join(tmp.dir, 'scenarios'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(tmp.dir, 'scenarios', name), text);
  return tmp;
}

const WRITE = /^warning: scenarios\/HTTP404\.yaml:4:3: block w of the hook scenario HTTP404 sends a letter while the webhook waits: if it fails it is not retried and leaves no dead letter; /m;
const STATUS = /^warning: scenarios\/HTTP404\.yaml:12:18: block r of the hook scenario HTTP404 sets return value 2 \(the answer's status\) to 101;/m;

describe('oktell-emu validate: the hook scenario warnings', () => {
  it('names the write and the status at their file:line:col, and exits 0: the files are valid', () => {
    const tmp = folderWith({ 'HTTP404.yaml': HOOK });
    try {
      const r = runCli(['validate'], { cwd: tmp.dir, env: { NO_COLOR: '1' } });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, WRITE);
      assert.match(r.stdout, STATUS);
      assert.match(r.stdout, /^✓ 1 scenario file\(s\) valid$/m);
      const json = JSON.parse(runCli(['validate', '--json'], { cwd: tmp.dir }).stdout) as { valid: boolean; issues: unknown[]; warnings?: string[] };
      assert.equal(json.valid, true);
      assert.deepEqual(json.issues, []);
      assert.equal(json.warnings?.length, 2);
      assert.ok(json.warnings.every((w) => w.startsWith('scenarios/HTTP404.yaml:')), JSON.stringify(json.warnings));
    } finally {
      tmp.cleanup();
    }
  });

  it('follows OKTELL_HOOK_SCENARIO: the same file under another name is no hook scenario', () => {
    const tmp = folderWith({ 'HTTP404.yaml': HOOK, 'Hook.yaml': HOOK });
    try {
      const r = runCli(['validate'], { cwd: tmp.dir, env: { NO_COLOR: '1', OKTELL_HOOK_SCENARIO: 'Hook' } });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /^warning: scenarios\/Hook\.yaml:4:3: block w of the hook scenario Hook sends a letter/m);
      assert.doesNotMatch(r.stdout, /HTTP404\.yaml/);
    } finally {
      tmp.cleanup();
    }
  });

  it('the shipped scenarios give no warning', () => {
    const r = runCli(['validate', '--scenarios', repoPath('scenarios'), '--json'], { cwd: repoPath() });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const json = JSON.parse(r.stdout) as { warnings?: string[] };
    assert.equal(json.warnings, undefined);
  });
});
