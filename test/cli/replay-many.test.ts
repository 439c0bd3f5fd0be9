// A replay after an outage can requeue hundreds of dead letters: its line names the first ten and counts the rest (the
// PostgreSQL soak's `replay --status dead` printed 907 ids, 25 KB, on one line); --json still lists every id.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { JOB_IDS_SHOWN } from '../../cli/commands/runs.js';
import { attempt, enqueue, sqliteKind } from './job-fates.helper.js';

const WORKER = 'test:1';

describe('replay of many jobs', () => {
  const kind = sqliteKind();
  after(() => kind.cleanup());

  it('names the first ten jobs and counts the rest; --json has them all', async () => {
    const store = await kind.open();
    const dead: string[] = [];
    try {
      for (let i = 0; i < 2 * JOB_IDS_SHOWN + 5; i++) {
        const id = await enqueue(store, { maxAttempts: 1 });
        await attempt(store, id, { code: 'R_EFFECT_TRANSIENT', retryable: true });
        dead.push(id);
      }
    } finally {
      await store.close();
    }
    const r = kind.cli(['replay', '--status', 'dead']);
    assert.equal(r.code, 0, r.stderr);
    const m = /^requeued 25 job\(s\): (.+) and 15 more \(--json lists every id; npx oktell-emu runs --status queued shows them\)\n$/.exec(r.stdout);
    assert.ok(m, r.stdout);
    const named = m[1]!.split(', ');
    assert.equal(named.length, JOB_IDS_SHOWN);
    assert.ok(named.every((id) => dead.includes(id)), `only requeued jobs are named: ${named.join(' ')}`);

    // Dead again (one attempt each, failed), then the same replay with --json.
    const again = await kind.open();
    try {
      const claimed = await again.claimJobs(WORKER, 100, 60_000);
      assert.deepEqual(claimed.map((j) => j.id).sort(), [...dead].sort(), 'every job was requeued');
      for (const j of claimed) {
        const error = { code: 'R_EFFECT_TRANSIENT', message: 'down' };
        const run = { id: `r${j.id}`, jobId: j.id, scenario: j.scenario, version: 'aaaaaaaaaaaa', trigger: 'async' as const, status: 'failed' as const, attempt: j.attempts, workerId: WORKER, startedAt: Date.now(), finishedAt: Date.now(), durationMs: 1, error };
        assert.equal((await again.failJob(j.id, WORKER, { run, retryable: true, error })).accepted, true);
      }
    } finally {
      await again.close();
    }
    const json = kind.cli(['replay', '--status', 'dead', '--json']);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual((JSON.parse(json.stdout) as string[]).sort(), [...dead].sort());
  });
});
