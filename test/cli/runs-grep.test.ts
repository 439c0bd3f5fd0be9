// `runs --grep` / `--where`: find runs by what they carried (user trial: "what happened to the webhook for task 4711 /
// for ivan@example.com?" could only be asked by run id, job id or delivery key). Runs written with the store API, as
// the server records them (parameters that carry a secret already masked); the CLI is the real binary reading that
// store. SQLite, and PostgreSQL when OKTELL_TEST_PG_URL reaches one.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { scanForRuns } from '../../server/run-search.js';
import { newSortableId } from '../../server/store/sortable-id.js';
import type { Store } from '../../server/store/store.port.js';
import { postgresKind, sqliteKind } from './job-fates.helper.js';

let clock = Date.now() - 60_000;
async function record(store: Store, scenario: string, params: unknown, returnValues: unknown = {}): Promise<string> {
  const at = (clock += 10);
  const id = newSortableId(at);
  await store.recordRun({ id, scenario, version: 'aaaaaaaaaaaa', trigger: 'http', status: 'completed', startedAt: at, finishedAt: at, durationMs: 1, params: params as never, returnValues: returnValues as never });
  return id;
}

for (const make of [sqliteKind, postgresKind]) {
  const kind = make();
  describe(`runs --grep / --where (${kind.name})`, { timeout: 60_000, ...(kind.skip ? { skip: kind.skip } : {}) }, () => {
    after(() => kind.cleanup());
    const ids: Record<string, string> = {};

    it('records the runs', async () => {
      const store = await kind.open();
      try {
        ids.ivan = await record(store, 'BpiumNewTask', { data: { id: 4711, email: 'IVAN@example.com', name: 'Иван Петров' } }, { answer: 'sent' });
        ids.other = await record(store, 'BpiumNewTask', { data: { id: 4712, email: 'olga@example.com', name: 'Ольга' } });
        ids.percent = await record(store, 'Letters', { note: 'discount 50% off_now' });
        ids.secret = await record(store, 'Letters', { login: 'admin', password: '***' }, { ticket: 'T-1' });
        ids.returned = await record(store, 'Letters', { x: 1 }, { ticket: 'T-99' });
      } finally {
        await store.close();
      }
    });

    const lines = (out: string) => out.split('\n').filter((l) => /\d{4}-\d\d-\d\dT/.test(l));

    it('a text in a parameter, case-insensitive (ASCII and Cyrillic)', () => {
      for (const text of ['ivan@EXAMPLE.com', 'иван', 'ИВАН ПЕТ']) {
        const r = kind.cli(['runs', '--grep', text]);
        assert.equal(r.code, 0, r.stderr);
        const found = lines(r.stdout);
        assert.equal(found.length, 1, `${text}:\n${r.stdout}`);
        assert.ok(found[0]!.includes(ids.ivan!), r.stdout);
      }
    });

    it('a text in a return value; combined with --scenario', () => {
      const r = kind.cli(['runs', '--grep', 't-99', '--json']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual((JSON.parse(r.stdout) as Array<{ id: string }>).map((x) => x.id), [ids.returned]);
      const none = kind.cli(['runs', '--grep', 'ivan', '--scenario', 'Letters']);
      assert.equal(none.code, 0, none.stderr);
      assert.match(none.stdout, /^no run matches --grep ivan --scenario Letters$/m);
    });

    it('% and _ are plain characters, not wildcards', () => {
      const hit = kind.cli(['runs', '--grep', '50%', '--json']);
      assert.deepEqual((JSON.parse(hit.stdout) as Array<{ id: string }>).map((x) => x.id), [ids.percent]);
      for (const text of ['5%f', 'off_n0', '%', '_']) {
        const r = kind.cli(['runs', '--grep', text, '--json']);
        assert.equal(r.code, 0, r.stderr);
        const got = (JSON.parse(r.stdout) as Array<{ id: string }>).map((x) => x.id);
        assert.deepEqual(got, text === '%' || text === '_' ? [ids.percent] : [], `${text}: ${r.stdout}`);
      }
    });

    it('a field: --where data.id=4711 (the number as text), a return value, no hit', () => {
      const r = kind.cli(['runs', '--where', 'data.id=4711', '--json']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual((JSON.parse(r.stdout) as Array<{ id: string }>).map((x) => x.id), [ids.ivan]);
      const ret = kind.cli(['runs', '--where', 'return.ticket=T-1', '--json']);
      assert.deepEqual((JSON.parse(ret.stdout) as Array<{ id: string }>).map((x) => x.id), [ids.secret]);
      const none = kind.cli(['runs', '--where', '$.data.id=9999']);
      assert.equal(none.code, 0, none.stderr);
      assert.match(none.stdout, /^no run matches --where '\$\.data\.id=9999'$/m);
      const bad = kind.cli(['runs', '--where', 'data[?(@.x)]=1']);
      assert.equal(bad.code, 2, bad.stdout);
      assert.match(bad.stderr, /--where data\[\?\(@\.x\)\]=…: /);
    });

    it('a masked secret is searched masked: its original text is not there to find', () => {
      const r = kind.cli(['runs', '--grep', 'admin', '--json']);
      assert.deepEqual((JSON.parse(r.stdout) as Array<{ id: string }>).map((x) => x.id), [ids.secret]);
      // The key name `password` is not searched (values only).
      const key = kind.cli(['runs', '--grep', 'password', '--json']);
      assert.deepEqual(JSON.parse(key.stdout), []);
    });

    it('the scan is bounded and says where it stopped', () => {
      const r = kind.cli(['runs', '--grep', 'ivan', '--scan', '2']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout + r.stderr, /no run matches --grep ivan/);
      assert.match(r.stdout + r.stderr, /searched the last 2 run\(s\), back to \d{4}-.*older ones were not searched: --scan reads more/);
      const all = kind.cli(['runs', '--grep', 'ivan', '--scan', '5']);
      assert.doesNotMatch(all.stdout + all.stderr, /searched the last/);
      assert.equal(lines(all.stdout).length, 1, all.stdout);
    });

    it('stops reading once -n matches are found, and says how far it read', () => {
      // Newest first: returned, secret, percent, other (olga@example.com), ivan. The search needs 4 runs for 1 match;
      // the whole window was read (and nothing said) before.
      const r = kind.cli(['runs', '--grep', 'example.com', '-n', '1']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(lines(r.stdout).length, 1, r.stdout);
      assert.ok(lines(r.stdout)[0]!.includes(ids.other!), r.stdout);
      assert.match(r.stdout + r.stderr, /searched the last 4 run\(s\), back to \d{4}-[^;]*, and stopped at the 1 newest match\(es\); older ones were not searched: -n lists more/);
      const both = kind.cli(['runs', '--grep', 'example.com', '-n', '2']);
      assert.equal(lines(both.stdout).length, 2, both.stdout);
      assert.doesNotMatch(both.stdout + both.stderr, /searched the last/);
    });

    it('reads the store a page at a time, never the whole --scan window', async () => {
      const store = await kind.open();
      try {
        const asked: number[] = [];
        const paged = { scanRuns: (q: Parameters<Store['scanRuns']>[0]) => (asked.push(q.scan), store.scanRuns(q)) };
        const part = await scanForRuns(paged, {}, { text: 'example.com' }, { scan: 3, limit: 50, pageSize: 2 });
        assert.deepEqual(asked, [2, 1]);
        assert.deepEqual({ found: part.found.length, read: part.read, unread: part.unread, stoppedBy: part.stoppedBy }, { found: 0, read: 3, unread: true, stoppedBy: 'scan' });
        assert.equal(part.oldestReadAt, (await store.getRun(ids.percent!))!.startedAt);
        asked.length = 0;
        const whole = await scanForRuns(paged, {}, { text: 'example.com' }, { scan: 200_000, limit: 50, pageSize: 2 });
        assert.deepEqual(asked, [2, 2, 2]);
        assert.deepEqual(whole.found.map((x) => x.id), [ids.other, ids.ivan]);
        assert.deepEqual({ read: whole.read, unread: whole.unread }, { read: 5, unread: false });
      } finally {
        await store.close();
      }
    });
  });
}
