// `demo` printed success for a webhook the server answered as a duplicate (operator trial, finding 3): after the
// emulator's data is reset its sequence ids begin again at 1, the server's store still has the first delivery of
// #1, so the new task's webhook runs nothing and no letter comes. demo now says so and how to have a run.
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCli, startServeProcess } from './cli-process.js';

describe('demo after the emulator\'s data was reset', () => {
  it('a webhook the server takes as a duplicate: demo says so, that no letter comes, the command that runs it, and exits 1', { timeout: 120_000 }, async () => {
    const tmp = tempDir();
    const data = join(tmp.dir, 'var');
    const demo = () => runCli(['demo', '--title', 'Дубликат'], { OKTELL_DATA_DIR: data });
    try {
      let server = await startServeProcess({ dataDir: data, env: { OKTELL_LOG_LEVEL: 'warn' } });
      const first = demo();
      await server.stop();
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /webhook: record\.created #1 → \S+: HTTP 200 in \d+ ms\n/);
      assert.match(first.stdout, /^The letter to /m);
      // The emulator's data is reset; the server's store is kept.
      for (const f of readdirSync(data).filter((n) => n.startsWith('bpium-emulator.sqlite'))) rmSync(join(data, f));
      server = await startServeProcess({ dataDir: data, env: { OKTELL_LOG_LEVEL: 'warn' } });
      try {
        const again = demo();
        assert.equal(again.code, 1, again.stdout + again.stderr);
        assert.match(again.stdout, /webhook: record\.created #1 → \S+\/Bpium\/NewTask: HTTP 200 in \d+ ms, taken as a duplicate of inbox entry 1\n/);
        assert.match(again.stdout, /Not run: the server took this webhook as a duplicate of an earlier delivery \(inbox entry 1: the same hook id and sequenceId 1\), answered as it did then and started nothing, so no letter will be sent\./);
        assert.match(again.stdout, /To see the scenario run, send a webhook with a new sequenceId: npx oktell-emu webhook send \/Bpium\/NewTask scenarios\/tests\/webhooks\/two-responsible\.json --fresh --data-dir /);
        assert.doesNotMatch(again.stdout, /^The letter to /m);
      } finally {
        await server.stop();
      }
    } finally {
      tmp.cleanup();
    }
  });
});
