// DbQuery parameters named in any script (`:телефон`, `:名前`), bound by a real SQLite file and by a real PostgreSQL
// (its own schema), and a DbProcedure argument named in Cyrillic on PostgreSQL. A name that is no name is still
// refused at load, with what a name may hold.
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDatabasePort, type ClosableDatabasePort, type DatabaseSettings } from '../../adapters/db/index.js';
import { defaultRegistry } from '../../components/registry.js';
import { createInProcessStarter, loadScenarioLibrary, randomIds, runScenario, systemClock, type ScenarioLibrary } from '../../engine/index.js';
import { tempDir } from '../helpers.js';
import { schemaWith, testPostgres } from '../store/postgres.helper.js';

const FIND = `variables: { телефон: string, имя: string, n: number }
start: add
blocks:
  add:
    kind: DbQuery
    sql: INSERT INTO клиенты (телефон, имя) VALUES (:телефон, :名前)
    params: { телефон: '[телефон]', 名前: '"Иван 😀"' }
    exits: { success: find }
  find:
    kind: DbQuery
    sql: SELECT имя, (SELECT count(*) FROM клиенты WHERE телефон = :телефон) AS n FROM клиенты WHERE телефон = :телефон AND имя <> :ё_2
    params: { телефон: '[телефон]', ё_2: '"никто"' }
`;

describe('parameter names outside ASCII at load', () => {
  it('takes letters of any script and refuses a name starting with a digit, saying what a name is', async () => {
    const tmp = tempDir();
    try {
      writeFileSync(join(tmp.dir, 'Find.yaml'), FIND);
      writeFileSync(join(tmp.dir, 'Bad.yaml'), `start: q\nblocks:\n  q:\n    kind: DbQuery\n    sql: SELECT :x\n    params: { x: '1', 2тел: '2' }\n`);
      const lib = await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry, databases: { main: 'sqlite' } });
      assert.deepEqual(lib.issues.filter((i) => i.file.endsWith('Find.yaml')), []);
      const bad = lib.issues.filter((i) => i.file.endsWith('Bad.yaml')).map((i) => `${i.message} (${i.hint})`);
      assert.ok(bad.some((b) => /"2тел" is not a parameter name \(letters of any script, digits and "_", starting with a letter or "_"/.test(b)), bad.join('\n'));
      assert.ok(!bad.some((b) => /"x"/.test(b)), bad.join('\n'));
    } finally {
      tmp.cleanup();
    }
  });
});

for (const which of ['sqlite', 'postgres'] as const) {
  describe(`parameters named in Cyrillic and CJK on ${which}`, async () => {
    const pgAvailable = which === 'postgres' ? await testPostgres() : undefined;
    const skip = pgAvailable?.skip;
    let tmp: ReturnType<typeof tempDir>;
    let settings: DatabaseSettings;
    let cleanup: () => Promise<void>;
    let lib: ScenarioLibrary;
    let live: ClosableDatabasePort;

    before(async () => {
      if (skip) return;
      tmp = tempDir();
      if (which === 'sqlite') {
        const path = join(tmp.dir, 'crm.sqlite');
        const raw = new Database(path);
        raw.exec('CREATE TABLE клиенты (телефон TEXT, имя TEXT)');
        raw.close();
        settings = { main: { dialect: 'sqlite', path } };
        cleanup = async () => undefined;
      } else {
        const made = await schemaWith(
          pgAvailable!.url!,
          'uni',
          `CREATE TABLE клиенты (телефон text, имя text); CREATE FUNCTION greet(имя text) RETURNS TABLE (greeting text) LANGUAGE sql AS $$ SELECT 'Привет, ' || имя $$`,
        );
        settings = { main: { dialect: 'postgres', url: made.url } };
        cleanup = made.drop;
        writeFileSync(join(tmp.dir, 'Greet.yaml'), `variables: { greeting: string }\nstart: g\nblocks:\n  g:\n    kind: DbProcedure\n    procedure: greet\n    params: { имя: '"Анна"' }\n`);
      }
      writeFileSync(join(tmp.dir, 'Find.yaml'), FIND);
      lib = await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry, databases: { main: which } });
      assert.deepEqual(lib.issues, []);
      live = createDatabasePort(settings);
    });
    after(async () => {
      if (skip) return;
      await live.close();
      await cleanup();
      tmp.cleanup();
    });

    const run = (name: string, variables: Record<string, string> = {}) =>
      runScenario(lib, name, { variables, ports: { databases: live, clock: systemClock, ids: randomIds, asyncStarter: createInProcessStarter(randomIds, () => Promise.reject(new Error('none'))) } });

    it('binds each parameter by its name', { skip }, async () => {
      const r = await run('Find', { телефон: '+7 495 000-00-01' });
      assert.equal(r.status, 'completed', JSON.stringify(r.error));
      assert.equal(r.variables.имя, 'Иван 😀');
      assert.equal(r.variables.n, 1);
      assert.deepEqual(r.dbCalls?.map((c) => c.params), [{ телефон: '+7 495 000-00-01', 名前: 'Иван 😀' }, { телефон: '+7 495 000-00-01', ё_2: 'никто' }]);
    });

    it('passes a DbProcedure argument named in Cyrillic by its name', { skip: skip ?? (which === 'sqlite' ? 'DbProcedure is PostgreSQL only' : false) }, async () => {
      const r = await run('Greet');
      assert.equal(r.status, 'completed', JSON.stringify(r.error));
      assert.equal(r.variables.greeting, 'Привет, Анна');
    });
  });
}
