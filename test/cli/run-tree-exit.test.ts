// `oktell-emu run`: the exit code counts every run of the tree (the top run and the async runs it started, which the
// CLI runs inline), so a CI script that reads only the exit code sees a started run that failed; one stderr line names
// it. With no Bpium configured and a `serve` with its embedded emulator running on the data folder, the failure says
// how to use that emulator, with the public demo password only.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCli as runCliWith } from './cli.helper.js';
import { runCli, startServeProcess } from './cli-process.js';

const HTTP404 = ['run', 'HTTP404', '-p', '1=/Bpium/NewTask', '-p', '4=@test/fixtures/record-created.json'];

type Run = { scenario: string; runId: string; status: string; error?: { code: string; message: string }; asyncStarted: Array<{ result?: Run }> };

/** The stderr lines that name a failed run of the tree. */
function failureLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => / failed: /.test(l) && l.startsWith('oktell-emu: '));
}

describe('run: the exit code of a tree whose started run failed', () => {
  it('a dry run: exit 1, one stderr line naming the started run and its error, --json complete', () => {
    const tmp = tempDir();
    try {
      const json = runCli([...HTTP404, '--dry-run', '--json', '--data-dir', tmp.dir]);
      assert.equal(json.code, 1, json.stderr);
      const out = JSON.parse(json.stdout) as Run;
      const child = out.asyncStarted[0]!.result!;
      assert.deepEqual([out.status, child.scenario, child.status, child.error?.code], ['completed', 'BpiumNewTask', 'failed', 'R_ADAPTER_MISSING']);
      const lines = failureLines(json.stderr);
      assert.equal(lines.length, 1, json.stderr);
      assert.match(lines[0]!, new RegExp(`^oktell-emu: started run BpiumNewTask \\(run ${child.runId}, started by HTTP404\\) failed: scenarios/BpiumNewTask\\.yaml:\\d+:\\d+ R_ADAPTER_MISSING no Bpium is configured: set BPIUM_URL`));

      // The same, as text: the trace on stdout, the line on stderr, exit 1.
      const text = runCli([...HTTP404, '--dry-run', '--data-dir', tmp.dir]);
      assert.equal(text.code, 1, text.stderr);
      assert.equal(failureLines(text.stderr).length, 1, text.stderr);
      assert.match(text.stdout, /BpiumNewTask failed/);

      // Every run of the tree completed: exit 0 and no such line.
      const ok = runCli([...HTTP404, '--dry-run', '--bpium-fixtures', 'test/fixtures/bpium-users.yaml', '--data-dir', tmp.dir]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.deepEqual(failureLines(ok.stderr), []);
    } finally {
      tmp.cleanup();
    }
  });

  it('the top run failing is named as such', () => {
    const tmp = tempDir();
    try {
      writeFileSync(join(tmp.dir, 'Top.yaml'), "variables: { email: string }\nblocks:\n  a: { kind: Bpium, method: getRecord, catalog: '\"3\"', record: '\"2\"', fields: { email: '\"2\"' } }\n");
      const r = runCliWith(['run', 'Top', '--scenarios', tmp.dir, '--dry-run'], { cwd: tmp.dir });
      assert.equal(r.code, 1, r.stderr);
      const lines = failureLines(r.stderr);
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, /^oktell-emu: run Top \(run \S+\) failed: \S*Top\.yaml:3:\d+ R_ADAPTER_MISSING no Bpium is configured/);
    } finally {
      tmp.cleanup();
    }
  });

  it('a live run beside a running serve: exit 1, and the failure gives the emulator settings that then make it pass', { timeout: 90_000 }, async () => {
    const tmp = tempDir();
    const data = join(tmp.dir, 'var');
    const server = await startServeProcess({ dataDir: data, env: { OKTELL_LOG_LEVEL: 'warn' } });
    try {
      const running = JSON.parse(readFileSync(join(data, 'serve.json'), 'utf8')) as { pid: number; bpiumEmulator: string };
      const failed = runCli([...HTTP404, '--data-dir', data]);
      assert.equal(failed.code, 1, failed.stderr);
      const lines = failureLines(failed.stderr);
      assert.equal(lines.length, 1, failed.stderr);
      const hint = `; the server running on ${data} (pid ${running.pid}) has a Bpium emulator at ${running.bpiumEmulator}: to use it, run with BPIUM_URL=${running.bpiumEmulator} BPIUM_LOGIN=demo@example.com BPIUM_PASSWORD=demo`;
      assert.ok(lines[0]!.startsWith('oktell-emu: started run BpiumNewTask ('), lines[0]);
      assert.ok(lines[0]!.endsWith(hint), lines[0]);
      // The trace says it at the failing block too.
      assert.ok(failed.stdout.includes(`getUser Bpium ✗ failed no Bpium is configured: set BPIUM_URL, BPIUM_LOGIN and BPIUM_PASSWORD, or pass --bpium-fixtures${hint}`), failed.stdout);

      // The settings as printed work: every run of the tree completes, exit 0.
      const settings = Object.fromEntries([...hint.matchAll(/(BPIUM_\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
      const fixed = runCli([...HTTP404, '--data-dir', data, '--json'], settings);
      assert.equal(fixed.code, 0, fixed.stderr);
      const out = JSON.parse(fixed.stdout) as Run;
      assert.deepEqual([out.status, out.asyncStarted[0]!.result!.status], ['completed', 'completed']);
      assert.deepEqual(failureLines(fixed.stderr), []);
    } finally {
      assert.equal(await server.stop(), 0);
      tmp.cleanup();
    }
  });

  it("an emulator started with the server's own BPIUM_PASSWORD: the hint names the login, never that password", { timeout: 90_000 }, async () => {
    const tmp = tempDir();
    const data = join(tmp.dir, 'var');
    const server = await startServeProcess({ dataDir: data, env: { OKTELL_LOG_LEVEL: 'warn', BPIUM_LOGIN: 'robot@example.com', BPIUM_PASSWORD: 'Own-Secret-Pass-9' } });
    try {
      assert.doesNotMatch(readFileSync(join(data, 'serve.json'), 'utf8'), /Own-Secret-Pass-9/);
      const r = runCli([...HTTP404, '--data-dir', data, '--json']);
      assert.equal(r.code, 1, r.stderr);
      assert.doesNotMatch(r.stderr + r.stdout, /Own-Secret-Pass-9|BPIUM_PASSWORD=demo/);
      assert.match(r.stderr, /BPIUM_LOGIN=robot@example\.com BPIUM_PASSWORD='<the BPIUM_PASSWORD that server was started with>'\n/);
    } finally {
      assert.equal(await server.stop(), 0);
      tmp.cleanup();
    }
  });
});
