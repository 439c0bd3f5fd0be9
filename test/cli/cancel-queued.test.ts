// `cancel` through the real binary: queued jobs (a retry waiting, one never run) named by id, or all of a scenario
// with `--status queued`, become dead letters with R_CANCELLED, kept with their runs; `runs --status dead` lists them
// (one never run too) and `replay` brings one back. A running job has its cancel requested (exit 0); a dead one and an
// unknown id are refused (exit 2) and nothing changes; one cancelled already is said and left as it is, exit 0, as `replay` of a job queued already. SQLite, and PostgreSQL when reachable (its own schema: job-fates.helper.ts).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { enqueue, outage, postgresKind, sqliteKind, withStoreOf } from './job-fates.helper.js';

for (const make of [sqliteKind, postgresKind]) {
  const kind = make();
  describe(`cancel of queued jobs (${kind.name})`, { timeout: 120_000, ...(kind.skip ? { skip: kind.skip } : {}) }, () => {
    after(() => kind.cleanup());

    it('makes queued jobs dead letters with R_CANCELLED, listed by runs --status dead, brought back by replay; requests the cancel of a running one; refuses dead and unknown ones', async () => {
      const { ids, runs } = await outage(kind);
      const job = (id: string) => withStoreOf(kind, async (s) => (await s.getJob(id))!);

      // D waits for its retry, E for its first run: both cancelled by id (E by id twice: one job).
      const both = kind.cli(['cancel', ids.D!, ids.E!, ids.E!]);
      assert.equal(both.code, 0, both.stderr);
      assert.equal(
        both.stdout,
        `cancelled 2 queued job(s): ${ids.D}, ${ids.E}\nthey are dead letters now (R_CANCELLED), kept with their runs: npx oktell-emu runs --status dead${kind.dirFlag} lists them; npx oktell-emu replay <job id>${kind.dirFlag} brings one back\n`,
      );
      const d = await job(ids.D!);
      assert.deepEqual([d.status, d.attempts, d.lastRunId, (d.lastError as { code: string }).code], ['dead', 1, runs.D1, 'R_CANCELLED'], 'its attempt and run are kept');
      assert.match((d.lastError as { message: string }).message, /^cancelled by an operator \(oktell-emu cancel, .+, \d{4}-\d\d-\d\dT/);
      const e = await job(ids.E!);
      assert.deepEqual([e.status, e.attempts, e.lastRunId, (e.lastError as { code: string }).code], ['dead', 0, null, 'R_CANCELLED']);

      // runs --status dead: D's last run marked cancelled, E (never run) listed by itself, with C, F, G (dead as before).
      const listed = kind.cli(['runs', '--status', 'dead', '--json']);
      assert.equal(listed.code, 0, listed.stderr);
      const rows = JSON.parse(listed.stdout) as Array<{ id: string | null; jobId: string; dead?: boolean; cancelled?: { code: string } }>;
      assert.deepEqual(rows.map((r) => r.jobId).sort(), [ids.C, ids.D, ids.E, ids.F, ids.G].sort());
      assert.deepEqual(rows.filter((r) => r.cancelled).map((r) => [r.jobId, r.id, r.cancelled!.code]).sort(), [[ids.D, runs.D1, 'R_CANCELLED'], [ids.E, null, 'R_CANCELLED']].sort(), 'E, never run, has no run id: null');
      const text = kind.cli(['runs', '--status', 'dead']).stdout.split('\n');
      assert.match(text.find((l) => l.includes(`job ${ids.E}`)) ?? '', /\sdead\s+Letters .* R_CANCELLED cancelled by an operator before its first run$/);
      assert.match(text.find((l) => l.includes(runs.D1!)) ?? '', / R_CANCELLED cancelled by an operator$/);
      const shown = kind.cli(['show', runs.D1!]);
      assert.match(shown.stdout, new RegExp(`job ${ids.D} is dead-lettered after 1/4 attempts: cancelled by an operator \\(oktell-emu cancel, .*\\) \\(R_CANCELLED\\); replay it: npx oktell-emu replay ${runs.D1}`));

      // Cancelled twice: the second time is as the first left it, said, exit 0 (as `replay` of a job queued already).
      const twice = kind.cli(['cancel', ids.D!]);
      assert.equal(twice.code, 0, twice.stderr);
      assert.match(twice.stdout, new RegExp(`^job ${ids.D} \\(Letters\\) was cancelled already \\(cancelled by an operator \\(oktell-emu cancel, [^)]+\\)\\): it is a dead letter; nothing changed\n$`));
      assert.equal(twice.stderr, '');
      assert.deepEqual(await job(ids.D!), d, 'nothing changed');
      assert.equal(kind.cli(['cancel', ids.D!, '--json']).stdout, '[]\n');

      // Refused, each said, nothing changed: dead already, unknown id; a running one with what to do instead.
      const refused = kind.cli(['cancel', ids.C!, 'nope', ids.D!]);
      assert.equal(refused.code, 2, refused.stdout);
      assert.equal(refused.stdout, '');
      assert.match(refused.stderr, new RegExp(`job ${ids.C} \\(Letters\\) is a dead letter already: nothing to cancel \\(only queued jobs are cancelled\\)`));
      assert.match(refused.stderr, new RegExp(`nope: no such job or run \\(the queued jobs: npx oktell-emu runs --status queued${kind.dirFlag.replace(/[/\\]/g, '\\$&')}\\)`));
      assert.doesNotMatch(refused.stderr, new RegExp(ids.D!), 'one cancelled already is no refusal');
      const h = await withStoreOf(kind, (s) => enqueue(s));
      const claimed = await withStoreOf(kind, (s) => s.claimJobs('test:2', 10, 600_000));
      assert.deepEqual(claimed.map((j) => j.id), [h]);
      const running = kind.cli(['cancel', h]);
      assert.equal(running.code, 0, running.stderr);
      // Claimed and never started (as a worker's jobs claimed ahead during a burst wait for a free slot) is running too:
      // not stopped from outside; its cancel is requested, which its worker reads with its next lease renewal.
      assert.match(running.stdout, new RegExp(`^cancel requested for running job ${h} \\(Letters\\): cancel requested by oktell-emu cancel, \\S+ at \\d{4}-[\\d-]+T[\\d:.]+Z\nits attempt stops at its next block boundary`));
      const requested = await job(h);
      assert.deepEqual([requested.status, requested.cancelRequest?.by.startsWith('oktell-emu cancel, ')], ['running', true], 'its attempt left to its worker');

      // The bulk form, by scenario: only the queued jobs of Other; one matching nothing says so (exit 0).
      const i = await withStoreOf(kind, (s) => enqueue(s));
      const j = await withStoreOf(kind, (s) => enqueue(s, { scenario: 'Other' }));
      const none = kind.cli(['cancel', '--status', 'queued', '--scenario', 'Nope']);
      assert.equal(none.code, 0, none.stderr);
      assert.equal(none.stdout, 'nothing to cancel: no queued job matching --scenario Nope\n');
      const other = kind.cli(['cancel', '--status', 'queued', '--scenario', 'Other', '--json']);
      assert.equal(other.code, 0, other.stderr);
      assert.deepEqual(JSON.parse(other.stdout), [j]);
      assert.deepEqual([(await job(i)).status, (await job(j)).status], ['queued', 'dead']);
      // By service task (a task removed from the configuration): its jobs, whatever scenario they run; none other.
      const k = await withStoreOf(kind, (s) => enqueue(s, { trigger: { task: 'nightly', dueAt: Date.now(), kind: 'due' } }));
      const byTask = kind.cli(['cancel', '--status', 'queued', '--task', 'nightly', '--json']);
      assert.equal(byTask.code, 0, byTask.stderr);
      assert.deepEqual(JSON.parse(byTask.stdout), [k]);
      assert.deepEqual([(await job(i)).status, (await job(k)).status], ['queued', 'dead']);
      assert.equal(kind.cli(['cancel', '--status', 'queued', '--task', 'gone']).stdout, 'nothing to cancel: no queued job matching --task gone\n');
      const usage = kind.cli(['cancel']);
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /name the jobs to cancel, or --status queued/);
      assert.equal(kind.cli(['cancel', '--status', 'dead']).code, 2);

      // replay brings E back: queued again for its first run, counted as a replay.
      const back = kind.cli(['replay', ids.E!]);
      assert.equal(back.code, 0, back.stderr);
      assert.equal(back.stdout, `requeued 1 job(s): ${ids.E}\n`);
      const again = await job(ids.E!);
      assert.deepEqual([again.status, again.attempts, again.replayCount], ['queued', 0, 1]);

      // The bulk replay of dead letters (after an outage, say) leaves the cancelled ones out, names each with its
      // command and exits 1; --include-cancelled takes them too.
      const bulk = kind.cli(['replay', '--status', 'dead', '--json']);
      assert.equal(bulk.code, 1, bulk.stderr);
      assert.deepEqual(JSON.parse(bulk.stdout).sort(), [ids.C, ids.F, ids.G].sort(), 'the dead letters not cancelled');
      assert.match(bulk.stderr, /left out 3 dead job\(s\) cancelled by an operator \(R_CANCELLED/);
      for (const id of [ids.D, j, k]) assert.ok(bulk.stderr.includes(`npx oktell-emu replay ${id}`), bulk.stderr);
      assert.ok(bulk.stderr.includes(`npx oktell-emu replay --status dead --include-cancelled${kind.dirFlag}`), bulk.stderr);
      assert.equal((await job(ids.D!)).status, 'dead');
      const all = kind.cli(['replay', '--status', 'dead', '--include-cancelled', '--json']);
      assert.equal(all.code, 0, all.stderr);
      assert.deepEqual(JSON.parse(all.stdout).sort(), [ids.D, j, k].sort());
      assert.equal((await job(ids.D!)).status, 'queued');
      assert.match(kind.cli(['replay', ids.D!, '--include-cancelled']).stderr, /--include-cancelled goes with --status/);
    });
  });
}
