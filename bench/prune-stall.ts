// Measures how long the SQLite store's prune holds the event loop on a large store while webhooks are stored, with the
// WAL checkpointed by the committing writes (`commit`, as before) and by a thread of its own (`thread`), back to back
// on copies of the same file. Not a test: it prints numbers.
//   node dist/bench/prune-stall.js [--webhooks 100000] [--rounds 2]
import { closeSync, copyFileSync, existsSync, fsyncSync, openSync, rmSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../server/store/sqlite.store.js';
import { tempDir } from '../test/helpers.js';
import { DAY, fill } from '../test/store/prune-fill.helper.js';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const WEBHOOKS = arg('webhooks', 100_000);
const ROUNDS = arg('rounds', 2);
const mb = (bytes: number) => Math.round(bytes / 1e5) / 10;
const pct = (xs: number[], p: number) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]! : 0);

const t = tempDir('oktell-prune-stall-');
const base = join(t.dir, 'base.sqlite');
const now = Date.now();
try {
  await (await openSqliteStore({ file: base })).close();
  const raw = new Database(base);
  const old = Math.floor(WEBHOOKS * 0.8);
  // 80 % old (to be pruned, but for a few dead letters, kept), 20 % from the last day (kept).
  for (let i = 1; i <= old; i += 10_000) fill(raw, i, Math.min(10_000, old - i + 1), now - 40 * DAY + i * 10, i === 1 ? 'dead' : 'succeeded');
  for (let i = old + 1; i <= WEBHOOKS; i += 10_000) fill(raw, i, Math.min(10_000, WEBHOOKS - i + 1), now - DAY / 2, 'succeeded');
  raw.pragma('wal_checkpoint(TRUNCATE)');
  raw.close();
  console.log(`store: ${WEBHOOKS} webhooks, ${mb(statSync(base).size)} MB; load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);

  const rows: Array<Record<string, string | number>> = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const order = round % 2 ? (['commit', 'thread'] as const) : (['thread', 'commit'] as const);
    for (const variant of order) {
      const file = join(t.dir, `run-${variant}.sqlite`);
      copyFileSync(base, file);
      // The copy's pages written out first: the kernel's writeback of them stalled the first windows otherwise.
      const fd = openSync(file, 'r+');
      fsyncSync(fd);
      closeSync(fd);
      const load = loadavg()[0]!;
      const store = await openSqliteStore({ file, pruneCheckpoints: variant });
      const gaps: number[] = [];
      const gapsAt: Array<[number, number]> = [];
      const latencies: number[] = [];
      let maxWal = 0;
      let last = performance.now();
      const started = performance.now();
      const probe = setInterval(() => {
        const at = performance.now();
        gaps.push(at - last - 2);
        if (at - last - 2 > 100) gapsAt.push([Math.round(at - last - 2), Math.round(at - started)]);
        last = at;
        if (existsSync(`${file}-wal`)) maxWal = Math.max(maxWal, statSync(`${file}-wal`).size);
      }, 2);
      let n = 0;
      const stored: Array<Promise<unknown>> = [];
      const hooks = setInterval(() => {
        const asked = performance.now();
        const k = n++;
        stored.push(
          store
            .recordRequest({ inbox: { receivedAt: Date.now(), method: 'POST', path: '/hook/bpium', hookId: 'bpium', headers: '', body: Buffer.from(`{"recordId":${k}}`), remoteAddress: '127.0.0.1', signature: 'valid', dedupKey: `during-${k}` } })
            .then(() => latencies.push(performance.now() - asked)),
        );
      }, 5);
      const result = await store.prune({ olderThanMs: 7 * DAY });
      const ms = performance.now() - started;
      clearInterval(hooks);
      clearInterval(probe);
      await Promise.all(stored);
      const ckpt = store.pruneStats().checkpoints;
      await store.close();
      const sorted = [...gaps].sort((a, b) => b - a);
      rows.push({
        round,
        variant,
        load: load.toFixed(1),
        'prune s': (ms / 1000).toFixed(1),
        deleted: result.inbox + result.runs + result.jobs + result.effects,
        'longest gap ms': Math.round(sorted[0] ?? 0),
        'next 4': sorted.slice(1, 5).map(Math.round).join(' '),
        'gaps >50 ms': gaps.filter((g) => g > 50).length,
        'gaps >100 ms': gaps.filter((g) => g > 100).length,
        'store p50/p99/max ms': `${Math.round(pct(latencies, 50))}/${Math.round(pct(latencies, 99))}/${Math.round(Math.max(...latencies))}`,
        webhooks: latencies.length,
        'max WAL MB': mb(maxWal),
        'gaps >100 ms at (ms into the prune)': gapsAt.map(([g, at]) => `${g}@${at}`).join(' '),
        'thread checkpoints': ckpt ? `${ckpt.checkpoints}, held ${ckpt.heldCheckpoints} (${Math.round(ckpt.longestHoldMs)} ms), main ${ckpt.mainCheckpoints} (${Math.round(ckpt.longestMainMs)} ms)${ckpt.failure ? ` (${ckpt.failure})` : ''}` : '-',
      });
      console.log(JSON.stringify(rows[rows.length - 1]));
      for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
    }
  }
  console.table(rows);
} finally {
  t.cleanup();
}
