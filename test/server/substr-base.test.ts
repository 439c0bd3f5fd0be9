// The SubStr base of the configuration (substrBase:, OKTELL_SUBSTR_BASE over it) reaches every run: the Web-API's
// synchronous run on the main thread, a job on the delivery thread, and `oktell-emu run` and `test`, as the server
// reads it; a value other than 0 or 1 is refused.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../cli/cli.helper.js';
import { tempDir } from '../helpers.js';
import { AUTH, runAsyncJob, startTestServer } from './server-helpers.js';

const CUT = `variables: { s: string }
blocks:
  begin: { kind: Start, param: s, exits: { next: r } }
  r: { kind: ReturnValue, values: { 1: 'SubStr([s], 1, Length([s]) - 1)' } }
`;

describe('substrBase in the configuration', () => {
  it('reaches the Web-API run on the main thread and a job on the delivery thread', { timeout: 120_000 }, async () => {
    const t = await startTestServer({ config: 'substrBase: 1\n', env: { OKTELL_DELIVERY_THREAD: 'on', OKTELL_SUBSTR_BASE: '' }, extraScenarios: { 'Cut.yaml': CUT } });
    try {
      const plain = await fetch(`${t.server.url}/execsvcscriptplain?name=Cut&startparam1=abcd`, { headers: { authorization: AUTH } });
      assert.equal(plain.status, 200);
      assert.equal(await plain.text(), 'abc');
      const run = await runAsyncJob(t, 'Cut', '&startparam1=wxyz');
      assert.match(run.workerId ?? '', /\/t\d+:/, 'run by the delivery thread');
      assert.equal((run.returnValues as Record<string, unknown>)['1'], 'wxy');
    } finally {
      await t.cleanup();
    }
  });

  it('oktell-emu run and test read it as serve does, OKTELL_SUBSTR_BASE over the file; 2 is refused', () => {
    const tmp = tempDir();
    try {
      // The configuration file beside the scenarios folder, as serve finds it in its working folder.
      mkdirSync(join(tmp.dir, 'sc', 'tests'), { recursive: true });
      writeFileSync(join(tmp.dir, 'sc', 'Cut.yaml'), CUT);
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), 'substrBase: 1\n');
      writeFileSync(join(tmp.dir, 'sc', 'tests', 'cut.test.yaml'), `cases:\n  - name: drops the last character\n    scenario: Cut\n    params: { 1: abcd }\n    expect: { returnValues: { 1: abc } }\n`);
      const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { cwd: tmp.dir, env: { OKTELL_SUBSTR_BASE: '', OKTELL_DATA_DIR: join(tmp.dir, 'var'), ...env }, unset: ['OKTELL_SCENARIOS', 'OKTELL_CONFIG'], timeoutMs: 60_000 });
      const value = (r: ReturnType<typeof cli>) => {
        assert.equal(r.code, 0, r.stdout + r.stderr);
        return (JSON.parse(r.stdout) as { returnValues: Record<string, unknown> }).returnValues['1'];
      };
      const runArgs = ['run', 'sc/Cut.yaml', '-p', '1=abcd', '--dry-run', '--json'];
      assert.equal(value(cli(runArgs)), 'abc');
      assert.equal(value(cli(runArgs, { OKTELL_SUBSTR_BASE: '0' })), 'bcd');
      const tested = cli(['test', 'sc/tests']);
      assert.equal(tested.code, 0, tested.stdout + tested.stderr);
      assert.match(tested.stdout, /^1 passed, 0 failed$/m);
      const bad = cli(runArgs, { OKTELL_SUBSTR_BASE: '2' });
      assert.equal(bad.code, 2, bad.stdout + bad.stderr);
      assert.deepEqual((JSON.parse(bad.stdout) as { error: unknown }).error, { code: 'E_USAGE', message: 'OKTELL_SUBSTR_BASE="2" must be 0 (SubStr counts the first character as 0) or 1 (as 1)' });
    } finally {
      tmp.cleanup();
    }
  });
});
