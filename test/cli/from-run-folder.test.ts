// `test --from-run` into a scenarios folder that is not the one the run was recorded with: the case would test other
// scenarios than the ones that ran. The real binary, on a real run recorded in a SQLite store, says so on stderr,
// naming both folders, and refuses a folder that lacks the run's scenario.
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { writeServerFile } from '../../cli/server-file.js';
import { repoPath, tempDir } from '../helpers.js';
import { runCli, startServeProcess } from './cli-process.js';
import { recordArticleRun } from './from-run.helper.js';

/** A data folder with the article's run recorded from the shipped scenarios, and `copies` of that folder. */
async function setUp(...copies: string[]) {
  const tmp = tempDir();
  const data = join(tmp.dir, 'var');
  const runId = await recordArticleRun(data);
  for (const name of copies) cpSync(repoPath('scenarios'), join(tmp.dir, name), { recursive: true });
  const fromRun = (folder: string, env: Record<string, string> = {}) =>
    runCli(['test', '--from-run', runId, '--scenarios', join(tmp.dir, folder), '--data-dir', data], { NO_COLOR: '1', OKTELL_SCENARIOS: '', ...env });
  return { tmp, data, runId, fromRun };
}

describe('test --from-run tells when the case goes to other scenarios than the ones that ran', () => {
  it('the same scenarios as ran: no warning', async () => {
    const { tmp, fromRun } = await setUp('same');
    try {
      const r = fromRun('same');
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.doesNotMatch(r.stderr, /^!/m);
      assert.match(r.stdout, /1 passed, 0 failed/);
    } finally {
      tmp.cleanup();
    }
  });

  it('a run id the store lacks: the runs command to look it up names the same data folder', async () => {
    const { tmp, data } = await setUp('same');
    try {
      const r = runCli(['test', '--from-run', 'nosuchrun', '--scenarios', join(tmp.dir, 'same'), '--data-dir', data], { NO_COLOR: '1', OKTELL_SCENARIOS: '' });
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.equal(r.stderr, `oktell-emu: no run nosuchrun in the store (see \`oktell-emu runs --data-dir ${data}\`; runs older than the retention are pruned)\n`);
      assert.ok(!existsSync(join(tmp.dir, 'same', 'tests', 'recorded.test.yaml')), 'nothing written');
    } finally {
      tmp.cleanup();
    }
  });

  it('a folder whose scenario is another version: a warning naming the versions, the file and the folder; the case is still written', async () => {
    const { tmp, runId, fromRun } = await setUp('edited');
    try {
      appendFileSync(join(tmp.dir, 'edited', 'BpiumNewTask.yaml'), '# edited after the run\n');
      const r = fromRun('edited');
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(
        r.stderr,
        new RegExp(`^! run ${runId} ran BpiumNewTask at version [0-9a-f]{12}, but \\S*edited/BpiumNewTask\\.yaml is version [0-9a-f]{12}: the case tests the scenario of \\S*edited, not the one that ran \\(edited since, or another folder: give --scenarios the folder the server reads if so\\)$`, 'm'),
      );
      assert.ok(existsSync(join(tmp.dir, 'edited', 'tests', 'recorded.test.yaml')));
    } finally {
      tmp.cleanup();
    }
  });

  it("a folder without the run's scenario is refused, with the server's folder from serve.json to give instead; nothing is written", async () => {
    const { tmp, data, runId, fromRun } = await setUp('server', 'other');
    try {
      rmSync(join(tmp.dir, 'other', 'BpiumNewTask.yaml'));
      mkdirSync(data, { recursive: true });
      writeServerFile(data, { pid: 999_999_999, url: 'http://127.0.0.1:1', signedPaths: [], startedAt: new Date().toISOString(), scenariosDir: join(tmp.dir, 'server') });
      const r = fromRun('other');
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, new RegExp(`oktell-emu: run ${runId} ran BpiumNewTask, which the scenarios folder \\S*other does not have; the server of \\S*var \\(serve\\.json\\) reads \\S*server: the case would test nothing; give --scenarios \\S*server \\(or --out a test file under that folder's tests/\\)`));
      assert.ok(!existsSync(join(tmp.dir, 'other', 'tests', 'recorded.test.yaml')), 'nothing written');
    } finally {
      tmp.cleanup();
    }
  });

  it("the same versions in another folder than the server's (OKTELL_SCENARIOS): a warning naming both folders", async () => {
    const { tmp, fromRun } = await setUp('server', 'copy');
    try {
      const r = fromRun('copy', { OKTELL_SCENARIOS: join(tmp.dir, 'server') });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stderr, /^! the case is written for the scenarios of \S*copy, but OKTELL_SCENARIOS reads \S*server; .*\(give --scenarios \S*server to write the case there\)$/m);
    } finally {
      tmp.cleanup();
    }
  });

  it("serve names its scenarios folder and its time zone in the data folder's serve.json, where --from-run finds them", { timeout: 90_000 }, async () => {
    const tmp = tempDir();
    const scenarios = join(tmp.dir, 'flows');
    cpSync(repoPath('scenarios'), scenarios, { recursive: true });
    const server = await startServeProcess({ dataDir: join(tmp.dir, 'var'), args: ['--scenarios', scenarios], env: { OKTELL_LOG_LEVEL: 'warn', OKTELL_TZ: 'Asia/Yekaterinburg' } });
    try {
      const file = JSON.parse(readFileSync(join(tmp.dir, 'var', 'serve.json'), 'utf8')) as { scenariosDir?: string; timeZone?: string };
      assert.equal(file.scenariosDir, scenarios);
      assert.equal(file.timeZone, 'Asia/Yekaterinburg');
    } finally {
      await server.stop();
      tmp.cleanup();
    }
  });
});
