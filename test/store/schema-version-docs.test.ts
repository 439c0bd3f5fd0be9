// The refusals docs/store.md and docs/cli.md quote for the store's schema versions are the ones this build prints:
// each migration added moves the numbers, and a quoted "reads version 8" beside a build that reads 9 misleads the
// operator who compares it with what the terminal says. The SQLite texts are made by the code itself and compared
// whole; PostgreSQL's are checked by their numbers.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { repoPath } from '../helpers.js';
import { sqliteMigrationUnderServer, sqliteOlderServerInUse, sqliteSchemaRefusal } from '../../server/store/store-open.js';
import { knownSchemaVersion, SchemaTooNewError } from '../../server/store/sqlite.migrations.js';
import { PG_MIGRATIONS } from '../../server/store/postgres.migrations.js';

const store = readFileSync(repoPath('docs', 'store.md'), 'utf8');
const cli = readFileSync(repoPath('docs', 'cli.md'), 'utf8');
const FILE = '/srv/oktell/var/oktell.sqlite';
const DIR = '/srv/oktell/var';
const known = knownSchemaVersion();
const pgKnown = Math.max(...PG_MIGRATIONS.map((m) => m.version));

describe('the schema refusals the docs quote match this build', () => {
  it('docs/store.md quotes the SQLite refusals as this build prints them, whole', () => {
    const lines = [
      (sqliteMigrationUnderServer(FILE, 4, known, DIR, 4242) as Error).message,
      (sqliteOlderServerInUse(FILE, 1, known, DIR, true) as Error).message,
      (sqliteSchemaRefusal(new SchemaTooNewError(known + 1, known), FILE) as Error).message,
    ];
    for (const line of lines) assert.ok(store.includes(`\noktell-emu: ${line}\n`), `docs/store.md should quote: oktell-emu: ${line}`);
  });

  it('docs/cli.md and docs/store.md name this build\'s schema versions in the excerpts of the refusals', () => {
    const sqliteReads = [...`${store}\n${cli}`.matchAll(/this build of oktell-emu reads version (\d+)/g)].map((m) => Number(m[1]));
    assert.ok(sqliteReads.length >= 3);
    for (const n of sqliteReads) assert.equal(n, known);
    const pgReads = [...`${store}\n${cli}`.matchAll(/schema oktell is at version (\d+), this build reads version (\d+)/g)];
    assert.ok(pgReads.length >= 1);
    for (const m of pgReads) assert.deepEqual([Number(m[1]), Number(m[2])], [pgKnown - 1, pgKnown]);
  });
});
