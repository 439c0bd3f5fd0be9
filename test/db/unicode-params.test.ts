// DbQuery parameters named in any script (`:телефон`, `:名前`), bound by a real SQLite file and by a real PostgreSQL
// (its own schema), and a DbProcedure argument named in Cyrillic on PostgreSQL. A name that is no name is still
// refused at load, with what a name may hold.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioLibrary } from '../../engine/index.js';
import { tempDir } from '../helpers.js';
import { dialectDatabase, runWithDatabases, type DialectDatabase } from './run-with-databases.helper.js';
import { testPostgres } from '../store/postgres.helper.js';

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
    let db: DialectDatabase;

    before(async () => {
      if (skip) return;
      const table = 'CREATE TABLE клиенты (телефон TEXT, имя TEXT)';
      db = await dialectDatabase(which, which === 'sqlite'
        ? { prefix: 'uni', setup: table, scenarios: { 'Find.yaml': FIND } }
        : {
          pgUrl: pgAvailable!.url!,
          prefix: 'uni',
          setup: `${table}; CREATE FUNCTION greet(имя text) RETURNS TABLE (greeting text) LANGUAGE sql AS $$ SELECT 'Привет, ' || имя $$`,
          scenarios: { 'Find.yaml': FIND, 'Greet.yaml': `variables: { greeting: string }\nstart: g\nblocks:\n  g:\n    kind: DbProcedure\n    procedure: greet\n    params: { имя: '"Анна"' }\n` },
        });
    });
    after(async () => {
      if (!skip) await db.close();
    });

    const run = (name: string, variables: Record<string, string> = {}) => runWithDatabases(db.lib, name, db.live, { variables });

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
