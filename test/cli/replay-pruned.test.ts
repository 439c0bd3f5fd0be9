// replay of a run whose job is gone (retention pruned it first) or of a run a live `oktell-emu run` recorded: said,
// exit 2, never a stack trace.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

describe('replay of runs that have no job to requeue', () => {
  it('a pruned job, a CLI run and its async child each get one line and exit 2', async () => {
    const tmp = tempDir();
    try {
      const store = await openSqliteStore({ file: join(tmp.dir, 'oktell.sqlite') });
      const at = Date.UTC(2026, 0, 1);
      const run = (id: string, over: object) => store.recordRun({ id, scenario: 'S', version: 'v', trigger: 'async', status: 'failed', startedAt: at, finishedAt: at + 1, durationMs: 1, ...over });
      await run('orphan', { jobId: 'gone-job' });
      await run('cli-run', { trigger: 'cli' });
      await run('cli-child', { parentRunId: 'cli-run' });
      await store.close();
      const cases: Array<[string, RegExp]> = [
        ['orphan', /^oktell-emu: orphan: its job gone-job is no longer stored \(pruned by retention\): nothing to replay\n$/],
        ['cli-run', /^oktell-emu: cli-run: run of S recorded by `oktell-emu run`, not a queued job: nothing replays it; run the command again\n$/],
        ['cli-child', /^oktell-emu: cli-child: run of S recorded by `oktell-emu run`/],
      ];
      for (const [id, message] of cases) {
        const r = runCli(['replay', id, '--data-dir', tmp.dir]);
        assert.equal(r.code, 2, `${id}: ${r.stderr}`);
        assert.match(r.stderr, message);
      }
    } finally {
      tmp.cleanup();
    }
  });
});
