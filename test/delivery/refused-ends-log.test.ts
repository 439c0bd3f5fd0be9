// A full disk refuses the ends of every job running at that moment (trial 64): each worker's end was logged five times
// (four warnings and an error, each with the store's stack), and once more when recorded, so 32 workers wrote about
// 190 lines with stacks in 5 s. The spell is now logged once: the first refused end, the first still refused after the
// quick retries, and one line when all are recorded. The disk here is a real SQLite page limit (max_page_count) on the
// store's own file, lifted as space would be freed.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type Database from 'better-sqlite3';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioLibrary, randomIds, systemClock } from '../../engine/index.js';
import { createWorkerPool } from '../../server/delivery/pool.js';
import { deliveryStoreOf } from '../../server/delivery/store-link.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { tempDir } from '../helpers.js';

// A run record of about 20 KB: more pages than the limit leaves.
const BIG = `start: rv
blocks:
  rv:
    kind: ReturnValue
    values: { 1: '"${'x'.repeat(20_000)}"' }
`;

const JOBS = 8;

const until = async (what: string, ok: () => boolean, seen: () => string) => {
  for (let i = 0; i < 6000 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(ok(), `${what}; logged:\n${seen()}`);
};

describe('the ends of jobs a full store refuses are logged once per spell', () => {
  it('eight jobs whose ends a full store refuses: one warning, one error and one line when all are recorded, no stack; each job ran once', { timeout: 60_000 }, async () => {
    const t = tempDir();
    writeFileSync(join(t.dir, 'Big.yaml'), BIG);
    const lib = await loadScenarioLibrary(t.dir, { registry: defaultRegistry });
    assert.deepEqual(lib.issues, []);
    const store = await openSqliteStore({ file: join(t.dir, 'q.db') });
    const lines: Array<{ level: string; msg: string; fields: Record<string, unknown> }> = [];
    const at = (level: string) => (fields: unknown, msg?: string) => void lines.push({ level, msg: msg ?? '', fields: (fields ?? {}) as Record<string, unknown> });
    const finished: string[] = [];
    const pool = createWorkerPool({
      store: deliveryStoreOf(store),
      host: { library: () => lib, libraryWithVersion: () => lib },
      ports: { clock: systemClock, ids: randomIds },
      concurrency: JOBS,
      timeZone: 'UTC',
      pollMs: 60_000,
      onAttempt: (job, _r, outcome) => finished.push(`${job.id}:${outcome}`),
      logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') },
    });
    try {
      const ids = await store.enqueueJobs(Array.from({ length: JOBS }, () => ({ scenario: 'Big', params: {} })));
      // The disk fills up: the store's file may grow by two pages at most, far less than one run record.
      const db = (store as unknown as { db: Database.Database }).db;
      const pages = db.pragma('page_count', { simple: true }) as number;
      db.pragma(`max_page_count = ${pages + 2}`);
      pool.start();
      const stuck = /^cannot record the end of a job; trying again every 5 s/;
      for (let i = 0; i < 3000 && !lines.some((l) => stuck.test(l.msg)); i++) await new Promise((r) => setTimeout(r, 10));
      assert.ok(lines.some((l) => stuck.test(l.msg)), 'the ends were refused past the quick retries');
      // Space is freed.
      db.pragma('max_page_count = 1073741823');
      for (let i = 0; i < 3000 && finished.length < JOBS; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(finished.length, JOBS, finished.join('\n'));
      assert.deepEqual(finished.map((f) => f.split(':')[1]), Array(JOBS).fill('succeeded'));
      for (const id of ids) assert.equal((await store.getJob(id))?.attempts, 1, 'run once: the end was recorded, not given up on');

      const shown = lines.filter((l) => l.level !== 'debug' && /record|recorded after all/.test(l.msg));
      const text = shown.map((l) => `${l.level} ${l.msg}`).join('\n');
      assert.equal(shown.filter((l) => l.level === 'warn' && /^cannot record the end of a job yet/.test(l.msg)).length, 1, text);
      assert.equal(shown.filter((l) => l.level === 'error' && stuck.test(l.msg)).length, 1, text);
      const after = shown.filter((l) => /recorded after all/.test(l.msg));
      assert.equal(after.length, 1, text);
      assert.match(after[0]!.msg, /^the ends of \d job\(s\) the store refused are recorded after all: what their attempts did is not repeated$|^the end of the job is recorded after all/);
      assert.equal(shown.length, 3, text);
      for (const l of shown) assert.equal(l.fields.err, undefined, `no stack: ${l.msg}`);
      const refused = shown.find((l) => l.level === 'error')!;
      assert.equal(refused.fields.reason, 'full');
      assert.match(String(refused.fields.error), /SQLITE_FULL/);
    } finally {
      await pool.stop(1000);
      await store.close();
      t.cleanup();
    }
  });

  it('an end the store refuses for another reason while the spell goes on (a quota holds it back, then the store turns read-only) is logged too', { timeout: 120_000 }, async () => {
    const t = tempDir();
    writeFileSync(join(t.dir, 'Big.yaml'), BIG);
    const lib = await loadScenarioLibrary(t.dir, { registry: defaultRegistry });
    assert.deepEqual(lib.issues, []);
    const store = await openSqliteStore({ file: join(t.dir, 'q.db') });
    const lines: Array<{ level: string; msg: string; fields: Record<string, unknown> }> = [];
    const at = (level: string) => (fields: unknown, msg?: string) => void lines.push({ level, msg: msg ?? '', fields: (fields ?? {}) as Record<string, unknown> });
    const finished: string[] = [];
    const pool = createWorkerPool({
      store: deliveryStoreOf(store),
      host: { library: () => lib, libraryWithVersion: () => lib },
      ports: { clock: systemClock, ids: randomIds },
      concurrency: JOBS,
      timeZone: 'UTC',
      pollMs: 60_000,
      onAttempt: (job, _r, outcome) => finished.push(outcome),
      logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') },
    });
    const db = (store as unknown as { db: Database.Database }).db;
    const seen = () => lines.map((l) => `${l.level} ${String(l.fields.reason ?? '')} ${l.msg}`).join('\n');
    try {
      const ids = await store.enqueueJobs(Array.from({ length: JOBS }, () => ({ scenario: 'Big', params: {} })));
      // A quota the run records cannot fit under: their ends wait on the store, and the spell begins.
      db.pragma(`max_page_count = ${(db.pragma('page_count', { simple: true }) as number) + 2}`);
      pool.start();
      await until('the end was refused past the quick retries', () => lines.some((l) => l.level === 'error' && l.fields.reason === 'full'), seen);
      // Then the store takes no write at all (a read-only remount, say): the next tries are refused for that.
      db.pragma('max_page_count = 1073741823');
      db.pragma('query_only = 1');
      await until('the read-only refusal was logged', () => lines.some((l) => l.level !== 'debug' && l.fields.reason === 'readonly'), seen);
      db.pragma('query_only = 0');
      await until('the ends recorded', () => finished.length === JOBS, seen);
      assert.deepEqual(finished, Array(JOBS).fill('succeeded'));
      for (const id of ids) assert.equal((await store.getJob(id))?.attempts, 1, 'run once');
      const shown = lines.filter((l) => l.level !== 'debug' && /record/.test(l.msg));
      // How many ends passed the quick retries before the quota was lifted depends on the machine's pace.
      const said = shown.map((l) => `${l.level} ${String(l.fields.reason ?? '-')} ${l.msg.replace(/ \(.*/, '').replace(/:.*/, '').replace(/^the ends? of (\d+ job\(s\) the store refused are|the job is) recorded after all$/, 'recorded after all')}`);
      const QUICK = 'cannot record the end of a job yet; trying again';
      const SLOW = 'cannot record the end of a job; trying again every 5 s while the server runs, so that what it did is not repeated';
      assert.deepEqual(said.slice(0, 2), [`warn full ${QUICK}`, `error full ${SLOW}`], seen());
      assert.equal(said.at(-1), 'warn - recorded after all', seen());
      // The read-only refusal is said, once at each level it reached: an end still in its quick tries meets it as a
      // warning, one already past them (trying every 5 s) as an error; which end meets it first is the machine's pace.
      const readonly = said.slice(2, -1);
      assert.ok(readonly.length >= 1 && readonly.length <= 2, seen());
      for (const line of readonly) assert.ok([`warn readonly ${QUICK}`, `error readonly ${SLOW}`].includes(line), line);
      assert.equal(new Set(readonly).size, readonly.length, 'each level once');
    } finally {
      db.pragma('query_only = 0');
      await pool.stop(1000);
      await store.close();
      t.cleanup();
    }
  });
});
