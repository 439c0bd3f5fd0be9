// `oktell-emu runs` says what each run did: the shipped BpiumNewTask run that sent its letters, one that ignored a
// record of another catalog and one that got a malformed body all read `completed`, and only their outcome (letters
// and return values, read from the store when the list is shown) tells them apart. Live runs of the shipped HTTP404 →
// BpiumNewTask, recorded in a real store: SQLite, and PostgreSQL when reachable (a schema of its own).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { openPostgresStore } from '../../server/store/postgres.store.js';
import { tempDir } from '../helpers.js';
import { dropSchema, randomSchemaName, testPostgres, urlWithSchema } from '../store/postgres.helper.js';
import { runCli } from './cli.helper.js';

const pg = await testPostgres();

type Kind = { name: string; skip?: string; ready(): Promise<void>; cli(args: string[]): ReturnType<typeof runCli>; cleanup(): Promise<void> };

function sqliteKind(): Kind {
  const t = tempDir();
  return {
    name: 'SQLite',
    ready: async () => undefined,
    cli: (args) => runCli([...args, '--data-dir', t.dir], { env: { OKTELL_TZ: 'UTC' }, unset: ['OKTELL_STORE', 'OKTELL_CONFIG'] }),
    cleanup: async () => t.cleanup(),
  };
}

function postgresKind(): Kind {
  const t = tempDir();
  const schema = randomSchemaName('outcome');
  const url = pg.url ? urlWithSchema(pg.url, schema) : '';
  return {
    name: 'PostgreSQL',
    ...(pg.skip ? { skip: pg.skip } : {}),
    // The CLI never creates the shared schema (a server does): opening the store as a server does makes it.
    ready: async () => (await openPostgresStore({ url, poolSize: 1 })).close(),
    cli: (args) => runCli(args, { env: { OKTELL_STORE: url, OKTELL_DATA_DIR: t.dir, OKTELL_TZ: 'UTC' }, unset: ['OKTELL_CONFIG'] }),
    cleanup: async () => {
      if (pg.url) await dropSchema(pg.url, schema).catch(() => undefined);
      t.cleanup();
    },
  };
}

/** The shipped hook, as Bpium's webhook reaches it: BpiumNewTask runs with the body (a live run records both). */
const hook = (body: string) => ['run', 'HTTP404', '-p', '1=/Bpium/NewTask', '-p', `4=${body}`, '--bpium-fixtures', 'test/fixtures/bpium-users.yaml'];
// A record of another catalog, whose id carries an escape sequence that would clear the terminal if printed as it is.
const OTHER_CATALOG = JSON.stringify({ hook: { event: 'record.created' }, payload: { catalogId: '42\x1b[2J', recordId: '7', values: { 4: [{ id: '2' }] } } });
const MALFORMED = '{"hook": not json';

for (const make of [sqliteKind, postgresKind]) {
  const kind = make();
  describe(`runs: the outcome of each run (${kind.name})`, { timeout: 90_000, ...(kind.skip ? { skip: kind.skip } : {}) }, () => {
    after(() => kind.cleanup());

    it('tells a letter sent, a record ignored and a malformed webhook apart, in the list and in --json', async () => {
      await kind.ready();
      for (const body of ['@test/fixtures/record-created.json', OTHER_CATALOG, MALFORMED]) {
        const r = kind.cli(hook(body));
        assert.equal(r.code, 0, r.stderr);
      }
      const json = kind.cli(['runs', '--scenario', 'BpiumNewTask', '--json']);
      assert.equal(json.code, 0, json.stderr);
      const rows = JSON.parse(json.stdout) as Array<{ id: string; status: string; outcome?: string }>;
      assert.equal(rows.length, 3, json.stdout);
      assert.deepEqual(rows.map((r) => r.status), ['completed', 'completed', 'completed']);
      // Newest first: the malformed body, the other catalog, the letters.
      const [malformed, ignored, sent] = rows.map((r) => r.outcome ?? '');
      assert.equal(sent, '2 letters sent to ivan.petrov@example.com, maria.smirnova@example.org; notified 2 of 2');
      assert.match(ignored!, /^ignored a record of catalog 42\x1b\[2J: only the tasks catalog 11 /);
      assert.match(malformed!, /^malformed webhook: the document is not valid JSON/);

      const text = kind.cli(['runs', '--scenario', 'BpiumNewTask']);
      assert.equal(text.code, 0, text.stderr);
      const line = (id: string) => text.stdout.split('\n').find((l) => l.includes(id)) ?? assert.fail(`no line for ${id} in\n${text.stdout}`);
      assert.match(line(rows[2]!.id), / · 2 letters sent to ivan\.petrov@example\.com, maria\.smirnova@e…$/);
      assert.match(line(rows[1]!.id), / · ignored a record of catalog 42\\u001b\[2J: only the tasks cat…$/);
      assert.match(line(rows[0]!.id), / · malformed webhook: the document is not valid JSON: Unexpect…$/);
      // Cut to 60 columns; no control character of the body reaches the terminal.
      for (const r of rows) assert.ok(line(r.id).split(' · ')[1]!.length <= 60, line(r.id));
      assert.doesNotMatch(text.stdout, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);

      // The hook's own run says what it answered with (return value 2).
      const hookRuns = JSON.parse(kind.cli(['runs', '--scenario', 'HTTP404', '--json']).stdout) as Array<{ outcome?: string }>;
      assert.deepEqual(hookRuns.map((r) => r.outcome), ['value 2: 200', 'value 2: 200', 'value 2: 200']);
    });
  });
}
