// A server out of file descriptors for a moment (trial 46): the libraries runs load when first used (jsonpath-plus
// for the Parser block) were first loaded then, the load failed with EMFILE, Node kept the failure as "Cannot find
// module 'jsonpath-plus'", and every BpiumNewTask run failed for good with it until a restart, replays included: 572
// acknowledged webhooks, no letter. `serve` now loads them before it listens. Real `serve` process under `ulimit -n`,
// embedded Bpium emulator, real SMTP on loopback.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startSmtpServer } from '../mail/smtp-server.helper.js';
import { repoPath, tempDir } from '../helpers.js';
import { keepOutput, parsedLetters, postWebhook, serveUrl, taskWebhook, waitFor } from '../server/server-helpers.js';

describe('a server that runs out of file descriptors', () => {
  // The delivery thread (OKTELL_DELIVERY_THREAD=on) runs the jobs in a thread of its own, which loads them for itself.
  for (const thread of ['off', 'on']) it(`the webhooks acknowledged while it was out of them get their letters, and no run fails for a library it could not load (delivery thread ${thread})`, { timeout: 120_000 }, async () => {
    const tmp = tempDir('oktell-emfile-');
    const smtp = await startSmtpServer();
    const dataDir = join(tmp.dir, 'var');
    const scenarios = join(tmp.dir, 'scenarios');
    cpSync(repoPath('scenarios'), scenarios, { recursive: true });
    // The same start as startChild (server-helpers), under a limit of 200 open files that 300 connections at once pass.
    // Those connections stay open while idle as long as the server keeps them (65 s by default, holding the files that
    // long: configuration.md); 5 s here, so that the files come back within the test's wait.
    const proc = spawn('sh', ['-c', 'ulimit -n 200 && exec "$@"', 'sh', process.execPath, repoPath('bin', 'oktell-emu.js'), 'serve', '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--scenarios', scenarios, '--bpium-emulator-port', '0'], {
      env: { ...process.env, OKTELL_USERS: 'bpium:s3cret-password', SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, OKTELL_LOG_LEVEL: 'warn', BPIUM_URL: '', NO_COLOR: '1', OKTELL_RETRY_BASE_DELAY_MS: '200', OKTELL_RETRY_MAX_DELAY_MS: '1000', OKTELL_DELIVERY_THREAD: thread, OKTELL_KEEP_ALIVE_TIMEOUT_MS: '5000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = keepOutput(proc, 20_000);
    try {
      const url = await serveUrl(proc, dataDir, output);
      const secret = readFileSync(join(dataDir, 'bpium-webhook-secret'), 'utf8').trim();
      const auth = `Basic ${Buffer.from('bpium:s3cret-password').toString('base64')}`;
      const acked: string[] = [];
      let next = 0;
      const worker = async () => {
        while (next < 600) {
          const i = next++;
          const name = `EMFILE ${i}`;
          const res = await postWebhook(url, taskWebhook({ name, responsible: ['2'], sequenceId: 90_000 + i }), secret, '/Bpium/NewTask', auth).catch(() => undefined);
          if (res?.status === 200) acked.push(name);
          else await res?.text();
        }
      };
      await Promise.all(Array.from({ length: 300 }, worker));
      assert.ok(acked.length > 0, 'some webhooks were acknowledged');
      const subjects = async () => new Set((await parsedLetters(smtp)).map((m) => m.subject?.replace('Новая задача: ', '')));
      await waitFor(`a letter for each of the ${acked.length} acknowledged webhooks`, async () => {
        const got = await subjects();
        return acked.every((n) => got.has(n));
      }, 60_000).catch(async (e: Error) => {
        throw new Error(`${e.message}: ${(await subjects()).size} arrived\n${output()}`);
      });
      assert.doesNotMatch(output(), /Cannot find module/);
    } finally {
      proc.kill('SIGKILL');
      await smtp.close();
      tmp.cleanup();
    }
  });
});
