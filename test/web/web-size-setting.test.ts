// WEB_REQUEST_MAX_RESPONSE_BYTES takes a size as the file's webRequest.maxResponseBytes does (10kb, 1mb, bytes):
// through the real binary against a real service answering 20 KB, the cap decides between success and
// HTTP_TOO_LARGE; a value that is not a size stops the command with the variable named.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadServerConfig } from '../../server/config.js';
import { startCli } from '../cli/cli.helper.js';
import { tempDir } from '../helpers.js';

const getBig = (base: string) => `variables: { base: { type: string, initial: "${base}" }, st: number, ans: string, err: string }
start: get
blocks:
  get:
    kind: WebRequest
    url: '[base] + "/api/rate"'
    status: st
    responseBody: ans
    errorCode: err
    exits: { success: ok, error: bad, timeout: bad }
  ok: { kind: ReturnValue, values: { 1: '"got " + Len([ans])' } }
  bad: { kind: ReturnValue, values: { 1: '"error " + [err]' } }
`;

describe('WEB_REQUEST_MAX_RESPONSE_BYTES', () => {
  it('takes 10kb like the file does: a 20 KB answer is over it, under 30kb it is read', async () => {
    const body = JSON.stringify({ items: 'x'.repeat(20_000) });
    const service = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body));
    await new Promise<void>((r) => service.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(service.address() as AddressInfo).port}`;
    const tmp = tempDir();
    try {
      mkdirSync(join(tmp.dir, 'scenarios'));
      writeFileSync(join(tmp.dir, 'scenarios', 'GetBig.yaml'), getBig(base));
      // Spawned, not run synchronously: the service in this process must answer while the command waits.
      const run = async (max: string) => {
        const cli = startCli(['run', 'GetBig', '--dry-run', '--json'], { cwd: tmp.dir, env: { WEB_REQUEST_MAX_RESPONSE_BYTES: max, OKTELL_SCENARIOS: join(tmp.dir, 'scenarios') } });
        const { code } = await cli.exited;
        return { code, stdout: cli.stdout(), stderr: cli.stderr() };
      };
      const over = await run('10kb');
      assert.equal(over.code, 0, over.stderr);
      const overResult = JSON.parse(over.stdout) as { returnValues: Record<string, string>; httpCalls: Array<{ error?: string }> };
      assert.equal(overResult.returnValues['1'], 'error HTTP_TOO_LARGE');
      assert.match(JSON.stringify(overResult.httpCalls), /more than the cap of 10240\b/);
      const under = await run('30KB');
      assert.equal(under.code, 0, under.stderr);
      assert.equal((JSON.parse(under.stdout) as { returnValues: Record<string, string> }).returnValues['1'], `got ${body.length}`);
      const bad = await run('10 kilo');
      assert.equal(bad.code, 2, bad.stdout);
      assert.match((JSON.parse(bad.stdout) as { error: { message: string } }).error.message, /^WEB_REQUEST_MAX_RESPONSE_BYTES: "10 kilo" is not a size \(e\.g\. 5mb, 512kb\)/);
    } finally {
      tmp.cleanup();
      service.closeAllConnections();
      await new Promise((r) => service.close(r));
    }
  });

  it('wins over the file with the same syntax', () => {
    const tmp = tempDir();
    try {
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), 'webRequest: { maxResponseBytes: 64kb }\n');
      assert.equal(loadServerConfig({}, { WEB_REQUEST_MAX_RESPONSE_BYTES: '10kb' }, tmp.dir).webRequest.maxResponseBytes, 10240);
      assert.equal(loadServerConfig({}, { WEB_REQUEST_MAX_RESPONSE_BYTES: '1mb' }, tmp.dir).webRequest.maxResponseBytes, 1024 * 1024);
      assert.throws(() => loadServerConfig({}, { WEB_REQUEST_MAX_RESPONSE_BYTES: '0' }, tmp.dir), /^ConfigError: WEB_REQUEST_MAX_RESPONSE_BYTES must be at least 1 byte/);
    } finally {
      tmp.cleanup();
    }
  });
});
