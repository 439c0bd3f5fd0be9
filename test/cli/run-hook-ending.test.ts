// `run HTTP404 --dry-run` for an address the shipped hook scenario does not handle: it ends at the unwired `false` exit
// of isTaskChat with no status or body set, and the command says so, with what the server answers such a request —
// checked against a real server on the same scenarios. A hook run that sets its answer gets no such note.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AUTH, startTestServer } from '../server/server-helpers.js';
import { runCliAsync } from './cli.helper.js';

const NOTE = 'oktell-emu: note: HTTP404 ended at the unwired exit "false" of block isTaskChat with no status (return value 2) or body (return value 1) set: the server would answer this request 404 Not Found';

describe('run of the hook scenario that sets no answer', () => {
  it('names the block and exit it ended at and the 404 the server answers', { timeout: 120_000 }, async () => {
    const t = await startTestServer({ smtp: false });
    try {
      const served = await fetch(`${t.server.url}/some/unknown`, { headers: { authorization: AUTH } });
      assert.equal(served.status, 404);
      assert.equal(await served.text(), '404 Not Found\n');

      const cli = (address: string) =>
        runCliAsync(['run', 'HTTP404', '--dry-run', '-p', `1=${address}`, '--scenarios', t.scenariosDir, '--data-dir', t.dataDir], { unset: ['OKTELL_SCENARIOS', 'OKTELL_HOOK_SCENARIO'], timeoutMs: 60_000 });
      const r = await cli('/some/unknown');
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /^HTTP404 completed /);
      assert.ok(r.stderr.includes(NOTE), r.stderr);

      // The webhook's own address sets its answer (200): nothing to say.
      const handled = await cli('/Bpium/TaskChat');
      assert.doesNotMatch(handled.stderr, /would answer/, handled.stderr);
      // --json is for programs: the note stays out of it.
      const json = await runCliAsync(['run', 'HTTP404', '--dry-run', '--json', '-p', '1=/some/unknown', '--scenarios', t.scenariosDir, '--data-dir', t.dataDir], { unset: ['OKTELL_SCENARIOS', 'OKTELL_HOOK_SCENARIO'], timeoutMs: 60_000 });
      assert.equal(json.code, 0, json.stderr);
      assert.doesNotMatch(json.stderr, /would answer/);
    } finally {
      await t.cleanup();
    }
  });
});
