// The SQLite store prunes on the thread that acknowledges webhooks. On a 1.9 GB store a lowered retention deleted
// 680,000 rows in chunks of 5,000 that each held the event loop up to 655 ms, and a chunk of 100 runs still took 76 ms
// beside 60,000 kept dead letters (every chunk read the kept rows again). The prune now deletes in windows of its
// tables' age indexes, each its own write, sized by the time the last one took and never over a bound; between them
// the event loop runs (timers fire, webhooks are stored). What is checked here: the statements' query plans (each
// window is a bounded range of an index, no list of every dead letter), and on a real file with more rows than
// windows: the windows are each at most the bound, a timer fires and a webhook is stored while the prune goes on, and
// exactly what is old and not kept goes.
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { PRUNE_SQL } from '../../server/store/sqlite.statements.js';
import { tempDir } from '../helpers.js';
import { DAY, fill } from './prune-fill.helper.js';

/** The index each table is pruned along (the range a window reads). */
const AGE_INDEX: Record<string, string> = { inbox: 'inbox_received', jobs: 'jobs_finished', runs: 'runs_started', effects: 'effects_recorded' };

/**
 * The retention rules of docs/store.md as one set-based delete per table, in the prune's order (the statements of the
 * prune before windows, without their LIMIT): what a windowed prune must leave, row for row.
 */
const RULES = [
  `DELETE FROM inbox WHERE received_at < @cutoff AND id NOT IN (SELECT inbox_id FROM jobs WHERE status IN ('queued', 'running') AND inbox_id IS NOT NULL)`,
  `DELETE FROM jobs WHERE finished_at IS NOT NULL AND finished_at < @cutoff AND status = 'succeeded'`,
  `DELETE FROM jobs WHERE @deadCutoff IS NOT NULL AND finished_at IS NOT NULL AND finished_at < @deadCutoff AND status IN ('failed', 'dead')`,
  `DELETE FROM runs WHERE started_at < @cutoff AND status <> 'running' AND finished_at < @cutoff
    AND id NOT IN (SELECT last_run_id FROM jobs WHERE status IN ('failed', 'dead') AND last_run_id IS NOT NULL)
    AND (job_id IS NULL OR job_id NOT IN (SELECT id FROM jobs WHERE status IN ('queued', 'running')))
    AND id NOT IN (SELECT parent_run_id FROM jobs WHERE status IN ('queued', 'running') AND parent_run_id IS NOT NULL)`,
  `DELETE FROM effects WHERE recorded_at < @cutoff AND run_key NOT IN (SELECT id FROM jobs)`,
];

/**
 * A store whose rows sit on the window edges: few distinct times (the cutoffs themselves, a millisecond either side),
 * so every window ends between rows of the same age; inbox ids and job rowids in another order than their times; runs
 * and jobs with no finish time; every job status; runs, parent runs and effects pointing at jobs of every kind.
 */
function fillEdges(db: Database.Database, n: number, seed: number, cutoff: number, deadCutoff: number): void {
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const time = () => pick([cutoff - 2000, deadCutoff - 1, deadCutoff, deadCutoff + 1, cutoff - 700, cutoff - 700, cutoff - 1, cutoff - 1, cutoff, cutoff + 1]);
  const inbox = db.prepare(`INSERT INTO inbox (id, received_at, method, path, headers, body, signature, dedup_key) VALUES (?, ?, 'POST', '/hook/bpium', '', x'7b7d', 'valid', ?)`);
  const job = db.prepare(`INSERT INTO jobs (id, scenario, params, variables, parent_run_id, trigger, inbox_id, max_attempts, next_run_at, status, last_run_id, created_at, updated_at, finished_at)
    VALUES (?, 'S', '{}', '{}', ?, 'null', ?, 3, 0, ?, ?, 0, 0, ?)`);
  const run = db.prepare(`INSERT INTO runs (id, job_id, parent_run_id, scenario, version, trigger, status, started_at, finished_at) VALUES (?, ?, ?, 'S', 'v', 'async', ?, ?, ?)`);
  const effect = db.prepare(`INSERT OR IGNORE INTO effects (run_key, step_key, outcome, recorded_at) VALUES (?, ?, '1', ?)`);
  const ids = Array.from({ length: n }, (_, i) => i + 1).sort(() => rnd() - 0.5);
  for (const id of ids) inbox.run(id, time(), rnd() < 0.3 ? `key-${id}` : null);
  const jobIds: string[] = [];
  for (let i = 0; i < n; i++) {
    const status = pick(['queued', 'running', 'succeeded', 'succeeded', 'failed', 'dead'] as const);
    const id = `${pick(['j', 'J', 'a', 'z'])}${n - i}`;
    jobIds.push(id);
    const pending = status === 'queued' || status === 'running';
    const finished = pending ? (rnd() < 0.2 ? time() : null) : rnd() < 0.1 ? null : time();
    job.run(id, rnd() < 0.5 ? `r${Math.floor(rnd() * n)}` : null, rnd() < 0.7 ? pick(ids) : null, status, rnd() < 0.8 ? `r${Math.floor(rnd() * n)}` : null, finished);
  }
  for (let i = 0; i < 2 * n; i++) {
    const started = time();
    const status = pick(['running', 'completed', 'failed'] as const);
    run.run(`r${i}`, rnd() < 0.7 ? pick(jobIds) : null, rnd() < 0.3 ? `r${Math.floor(rnd() * n)}` : null, status, started, rnd() < 0.15 ? null : started + pick([0, 0, 1, 500, 1000]));
  }
  for (let i = 0; i < 2 * n; i++) effect.run(rnd() < 0.6 ? pick(jobIds) : `x${i}`, pick(['mail#1', 'mail#2', 'a', 'b#1']), time());
}

const rowsOf = (db: Database.Database) =>
  Object.fromEntries(['inbox', 'jobs', 'runs', 'effects'].map((t) => [t, db.prepare(`SELECT * FROM ${t} ORDER BY 1, 2`).all()]));

describe('the SQLite store prunes in bounded windows', () => {
  it('each prune statement reads a bounded range of its table age index, and the dead letters by their own index', async () => {
    const t = tempDir('oktell-prune-plan-');
    const file = join(t.dir, 'oktell.sqlite');
    await (await openSqliteStore({ file })).close();
    const db = new Database(file, { readonly: true });
    try {
      const params = { cutoff: 1, at: 0, key: '', key2: '', endAt: 1, endKey: '', endKey2: '', n: 10 };
      for (const [name, sql] of Object.entries(PRUNE_SQL)) {
        const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as Array<{ detail: string }>).map((r) => r.detail);
        const table = /FROM (inbox|jobs|runs|effects)\b/.exec(sql)![1]!;
        assert.ok(!plan.some((d) => /^SCAN (inbox|jobs|runs|effects)\b/.test(d)), `${name} reads a whole table: ${JSON.stringify(plan)}`);
        const range = plan.find((d) => d.startsWith(`SEARCH ${table} USING`));
        assert.ok(range?.includes(`INDEX ${AGE_INDEX[table]} (`), `${name} reads ${table} along ${AGE_INDEX[table]}: ${JSON.stringify(plan)}`);
        // Bounded above: a window's end (or the cutoff, for the statement that finds the end).
        assert.match(range!, /<\?|<\(/, `${name} reads the range to a bound: ${range}`);
        if (!name.endsWith('Window')) assert.match(range!, />\?|>\(/, `${name} reads from the last window's end: ${range}`);
        if (name === 'pruneRuns') assert.ok(plan.some((d) => d.includes('USING INDEX jobs_dead_letter_runs')), `the last runs of dead letters are looked up by index: ${JSON.stringify(plan)}`);
      }
    } finally {
      db.close();
      t.cleanup();
    }
  });

  it('deletes in windows of at most the bound while timers fire and a webhook is stored, and only what is old and not kept', { timeout: 60_000 }, async () => {
    const t = tempDir('oktell-prune-windows-');
    const file = join(t.dir, 'oktell.sqlite');
    const now = Date.now();
    await (await openSqliteStore({ file })).close();
    const raw = new Database(file);
    fill(raw, 1, 300, now - 40 * DAY, 'succeeded');
    fill(raw, 301, 30, now - 30 * DAY, 'dead');
    fill(raw, 331, 10, now - 35 * DAY, 'queued');
    fill(raw, 341, 50, now - DAY, 'succeeded');
    raw.close();
    const max = 20;
    const store = await openSqliteStore({ file, pruneMaxWindow: max });
    const reader = new Database(file, { readonly: true });
    const total = () =>
      (reader.prepare(`SELECT (SELECT COUNT(*) FROM inbox) + (SELECT COUNT(*) FROM runs) + (SELECT COUNT(*) FROM jobs) + (SELECT COUNT(*) FROM effects) AS n`).get() as { n: number }).n;
    try {
      // One look a turn of the event loop (a turn commits at most one window); a timer between; a webhook once the
      // prune has begun deleting.
      const seen: number[] = [total()];
      let ticks = 0;
      let pruning = true;
      let acked: { whilePruning: boolean } | undefined;
      let ack: Promise<unknown> | undefined;
      const look = () => {
        const n = total();
        if (n !== seen[seen.length - 1]) seen.push(n);
        if (!ack && seen.length > 1) ack = store.recordRequest({ inbox: { receivedAt: Date.now(), method: 'POST', path: '/hook/bpium', hookId: 'bpium', headers: '', body: Buffer.from('{}'), remoteAddress: '127.0.0.1', signature: 'valid', dedupKey: 'during-prune' } }).then(() => (acked = { whilePruning: pruning }));
        if (pruning) setImmediate(look);
      };
      const tick = () => {
        ticks++;
        if (pruning) setTimeout(tick, 0);
      };
      setImmediate(look);
      setTimeout(tick, 0);
      const before = store.pruneStats().windows;
      const result = await store.prune({ olderThanMs: 7 * DAY });
      pruning = false;
      await ack;

      assert.deepEqual(result, { inbox: 330, runs: 630, jobs: 300, effects: 300, deadLetters: 0, deadLetterIds: [] });
      const drops = seen.slice(1).map((n, i) => seen[i]! - n);
      assert.ok(Math.max(...drops) <= max, `a window deleted at most ${max} rows: ${JSON.stringify(drops)}`);
      // Each window reads at most `max` index entries, kept ones too: the old entries of the four tables.
      const entries = 340 + 680 + 330 + 340;
      assert.ok(store.pruneStats().windows - before >= Math.ceil(entries / max), `windows: ${store.pruneStats().windows - before}`);
      assert.ok(ticks > 0, 'timers fired while it pruned');
      assert.deepEqual(acked, { whilePruning: true }, 'a webhook was stored while the prune went on');
      assert.ok(await store.findByDedupKey('during-prune'));

      // Kept: dead letters with their last run and effect; queued jobs with their entry, hook run, run and effect;
      // everything young. Gone: the rest of the old.
      assert.equal((await store.getJob('j301'))?.status, 'dead');
      assert.ok(await store.getRun('a301'), 'a dead letter keeps its last run');
      assert.equal(await store.getRun('h301'), undefined, 'not its hook run');
      assert.equal(await store.findByDedupKey('key-301'), undefined);
      assert.deepEqual(await store.effects.get('j330', 'mail#1'), { messageId: 'm' });
      assert.equal((await store.getJob('j331'))?.status, 'queued');
      assert.ok(await store.findByDedupKey('key-340'), 'a queued job keeps its entry');
      assert.ok(await store.getRun('h335'));
      assert.ok(await store.getRun('a340'));
      assert.deepEqual(await store.effects.get('j331', 'mail#1'), { messageId: 'm' });
      for (const i of [1, 7, 8, 150, 300]) {
        assert.equal(await store.getJob(`j${i}`), undefined);
        assert.equal(await store.getRun(`h${i}`), undefined);
        assert.equal(await store.getRun(`a${i}`), undefined);
        assert.equal(await store.findByDedupKey(`key-${i}`), undefined);
        assert.equal(await store.effects.get(`j${i}`, 'mail#1'), undefined);
      }
      for (const i of [341, 390]) {
        assert.equal((await store.getJob(`j${i}`))?.status, 'succeeded');
        assert.ok(await store.getRun(`a${i}`));
        assert.ok(await store.findByDedupKey(`key-${i}`));
      }
      assert.equal(total(), 60 + 150 + 90 + 90 + 1, 'the kept and young rows, and the webhook stored meanwhile');
      assert.deepEqual(await store.prune({ olderThanMs: 7 * DAY }), { inbox: 0, runs: 0, jobs: 0, effects: 0, deadLetters: 0, deadLetterIds: [] });
    } finally {
      reader.close();
      await store.close();
      t.cleanup();
    }
  });

  it('leaves row for row what the retention rules keep, whatever the window edges, and a second prune finds nothing', { timeout: 60_000 }, async () => {
    const t = tempDir('oktell-prune-rules-');
    const now = Date.UTC(2026, 11, 1);
    try {
      // Dead-letter retention longer than, equal to and shorter than the retention, and none; windows of 1 to 4 entries.
      for (const [i, dead] of [1500, 1000, 500, 0, undefined].entries()) {
        for (const max of [1, 2, 3, 4]) {
          const seed = 1000 + i * 31 + max;
          const file = join(t.dir, `windows-${seed}.sqlite`);
          const expected = join(t.dir, `rules-${seed}.sqlite`);
          await (await openSqliteStore({ file })).close();
          const raw = new Database(file);
          raw.transaction(() => fillEdges(raw, 60, seed, now - 1000, now - (dead ?? 1500)))();
          raw.pragma('wal_checkpoint(TRUNCATE)');
          raw.close();
          copyFileSync(file, expected);

          const store = await openSqliteStore({ file, pruneMaxWindow: max, clock: { now: () => now } });
          const opts = { olderThanMs: 1000, ...(dead === undefined ? {} : { deadLettersOlderThanMs: dead }) };
          const first = await store.prune(opts);
          const second = await store.prune(opts);
          await store.close();

          const rules = new Database(expected);
          const changes = RULES.map((sql) => rules.prepare(sql).run({ cutoff: now - 1000, deadCutoff: dead === undefined ? null : now - dead }).changes);
          const pruned = new Database(file, { readonly: true });
          try {
            const at = `dead letters after ${dead} ms, windows of ${max}`;
            assert.deepEqual(rowsOf(pruned), rowsOf(rules), `${at}: the rows left`);
            assert.deepEqual([first.inbox, first.jobs, first.deadLetters, first.runs, first.effects], changes, `${at}: the counts`);
            assert.ok(changes.every((c, k) => c > 0 || (k === 2 && dead === undefined)), `${at}: every rule deleted something: ${changes}`);
            assert.deepEqual(second, { inbox: 0, runs: 0, jobs: 0, effects: 0, deadLetters: 0, deadLetterIds: [] }, `${at}: the second prune`);
          } finally {
            pruned.close();
            rules.close();
          }
        }
      }
    } finally {
      t.cleanup();
    }
  });
});
