// `webhook send` with an empty body (trial 62, CLI from scripts): `make-body | oktell-emu webhook send /Bpium/NewTask -`
// whose make-body failed, or a cron job's `< /dev/null`, posted an empty body, got HTTP 200 (the server ran it as a
// malformed webhook) and exited 0, so the script saw nothing wrong. It is refused now before anything is sent: one
// line, exit 2. The server here is a real listening one that counts what reaches it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoPath, tempDir } from '../helpers.js';
import { cliEnvironment } from './cli.helper.js';

/** Runs `oktell-emu …args` with its standard input closed at once, as from cron or with `< /dev/null`. */
function runWithoutInput(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [repoPath('bin', 'oktell-emu.js'), ...args], { cwd, env: cliEnvironment({}, ['OKTELL_STORE', 'OKTELL_USERS']), encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
    child.stdin?.end();
  });
}

/** As `runWithoutInput`, with `input` written to its standard input first. */
function runWithInput(args: string[], cwd: string, input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [repoPath('bin', 'oktell-emu.js'), ...args], { cwd, env: cliEnvironment({}, ['OKTELL_STORE', 'OKTELL_USERS']), encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
    child.stdin?.end(input);
  });
}

describe('webhook send with an empty body', () => {
  it('from standard input or an empty file: refused, exit 2, nothing sent', async () => {
    const tmp = tempDir();
    const requests: string[] = [];
    const server: Server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const common = ['--url', url, '--user', 'a:b', '--data-dir', join(tmp.dir, 'var')];
      const stdin = await runWithoutInput(['webhook', 'send', '/Bpium/NewTask', '-', ...common], tmp.dir);
      assert.deepEqual(stdin, {
        code: 2,
        stdout: '',
        stderr: "oktell-emu: the body read from standard input is empty: nothing was sent (did the command before the | fail?); pipe the webhook's JSON in, or name a file holding it\n",
      });
      const json = await runWithoutInput(['webhook', 'send', '/Bpium/NewTask', '-', '--json', ...common], tmp.dir);
      assert.equal(json.code, 2);
      assert.equal(json.stderr, '');
      assert.equal((JSON.parse(json.stdout) as { error: { code: string } }).error.code, 'E_USAGE');
      const empty = join(tmp.dir, 'empty.json');
      writeFileSync(empty, '');
      const file = await runWithoutInput(['webhook', 'send', '/Bpium/NewTask', empty, ...common], tmp.dir);
      assert.deepEqual(file, { code: 2, stdout: '', stderr: `oktell-emu: the body ${empty} is empty: nothing was sent; name a file holding the webhook's JSON\n` });
      // White space alone is as empty (`echo "$(make-body)" | … -` sends a line break), with a byte-order mark or not.
      const newline = await runWithInput(['webhook', 'send', '/Bpium/NewTask', '-', ...common], tmp.dir, '\n');
      assert.deepEqual(newline, {
        code: 2,
        stdout: '',
        stderr: "oktell-emu: the body read from standard input is empty (white space only): nothing was sent (did the command before the | fail?); pipe the webhook's JSON in, or name a file holding it\n",
      });
      for (const [name, text] of [['spaces.json', ' \t\r\n '], ['bom.json', '\ufeff'], ['bom-newline.json', '\ufeff\n']] as const) {
        const blank = join(tmp.dir, name);
        writeFileSync(blank, text);
        const r = await runWithoutInput(['webhook', 'send', '/Bpium/NewTask', blank, '--json', ...common], tmp.dir);
        assert.equal(r.code, 2, name);
        assert.equal(r.stderr, '', name);
        assert.deepEqual(JSON.parse(r.stdout), { status: 'failed', error: { code: 'E_USAGE', message: `the body ${blank} is empty (white space only): nothing was sent; name a file holding the webhook's JSON` } }, name);
      }
      assert.deepEqual(requests, []);
      // A body that is there still goes, and the same command exits 0.
      const body = join(tmp.dir, 'body.json');
      writeFileSync(body, '{"hook":{"id":"1","sequenceId":1}}');
      const sent = await runWithoutInput(['webhook', 'send', '/Bpium/NewTask', body, '--no-sign', ...common], tmp.dir);
      assert.equal(sent.code, 0, sent.stderr);
      assert.deepEqual(requests, ['POST /Bpium/NewTask']);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      tmp.cleanup();
    }
  });
});
