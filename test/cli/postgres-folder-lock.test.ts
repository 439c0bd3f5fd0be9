// A server with the PostgreSQL store holds its data folder's lock shared: it is refused on the folder of a live SQLite
// server (whose serve.json it used to overwrite), a SQLite server is refused on the folder of a live PostgreSQL one
// (whose serve.json and store.json it used to overwrite or remove), and two PostgreSQL instances may still share a
// folder. Real `serve` processes on a real PostgreSQL.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { dropSchema, randomSchemaName, testPostgres, urlWithSchema } from '../store/postgres.helper.js';
import { runCli } from './cli.helper.js';
import { startServeProcess } from './cli-process.js';

const pgAvailable = await testPostgres();
const skip = pgAvailable.skip ? { skip: pgAvailable.skip } : {};
const ENV = { OKTELL_USERS: 'ops:pw', OKTELL_LOG_LEVEL: 'warn' };
const serveArgs = (dataDir: string) => ['serve', '--port', '0', '--host', '127.0.0.1', '--bpium-emulator-port', '0', '--data-dir', dataDir];
const fileOf = (dataDir: string, name: string) => readFileSync(join(dataDir, name), 'utf8');

describe('the data folder lock of a server with the PostgreSQL store', () => {
  const tmp = tempDir();
  const schemas: string[] = [];
  const storeUrl = () => {
    const schema = randomSchemaName('lock');
    schemas.push(schema);
    return urlWithSchema(pgAvailable.url!, schema);
  };
  after(async () => {
    for (const s of schemas) await dropSchema(pgAvailable.url!, s).catch(() => undefined);
    tmp.cleanup();
  });

  it("is refused on the folder of a live SQLite server, naming it, and leaves that server's serve.json alone", { timeout: 120_000, ...skip }, async () => {
    const data = join(tmp.dir, 'sqlite-held');
    const sqlite = await startServeProcess({ dataDir: data, env: { ...ENV, OKTELL_STORE: '' } });
    try {
      const before = fileOf(data, 'serve.json');
      const held = JSON.parse(before) as { pid: number; url: string };
      const r = runCli(serveArgs(data), { env: { ...ENV, OKTELL_STORE: storeUrl() }, timeoutMs: 45_000 });
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.equal(
        r.stderr,
        `oktell-emu: the data folder ${data} is in use by the server with pid ${held.pid} (${held.url}), whose SQLite store is there and serves that process alone: this server (PostgreSQL store) would take over its serve.json. Stop that server first, or give this one another data folder (--data-dir or OKTELL_DATA_DIR)\n`,
      );
      assert.equal(fileOf(data, 'serve.json'), before, "the SQLite server's serve.json is untouched");
      assert.equal((await fetch(`${sqlite.url}/-/health`)).status, 200);
    } finally {
      assert.equal(await sqlite.stop(), 0);
    }
  });

  it("a SQLite server is refused on the folder of a live PostgreSQL server, naming it, and leaves its serve.json and store.json alone", { timeout: 120_000, ...skip }, async () => {
    const data = join(tmp.dir, 'pg-held');
    const pgServer = await startServeProcess({ dataDir: data, env: { ...ENV, OKTELL_STORE: storeUrl() } });
    try {
      const served = fileOf(data, 'serve.json');
      const store = fileOf(data, 'store.json');
      const held = JSON.parse(served) as { pid: number; url: string };
      const r = runCli(serveArgs(data), { env: { ...ENV, OKTELL_STORE: '' }, timeoutMs: 45_000 });
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.equal(
        r.stderr,
        `oktell-emu: the data folder ${data} is in use by the server with pid ${held.pid} (${held.url}), which uses the PostgreSQL store: a server with the SQLite store needs the folder to itself. Stop that server first, or give this one another data folder (--data-dir or OKTELL_DATA_DIR); to share its work, start this one with the same PostgreSQL store (OKTELL_STORE)\n`,
      );
      assert.equal(fileOf(data, 'serve.json'), served, "the PostgreSQL server's serve.json is untouched");
      assert.equal(fileOf(data, 'store.json'), store, 'its store.json is kept');
      assert.equal((await fetch(`${pgServer.url}/-/health`)).status, 200);
    } finally {
      assert.equal(await pgServer.stop(), 0);
    }
  });

  it('two PostgreSQL instances on one folder both start, as before; once they stop, a SQLite server takes the folder', { timeout: 120_000, ...skip }, async () => {
    const data = join(tmp.dir, 'pg-shared');
    const url = storeUrl();
    const a = await startServeProcess({ dataDir: data, env: { ...ENV, OKTELL_STORE: url } });
    try {
      const b = await startServeProcess({ dataDir: data, env: { ...ENV, OKTELL_STORE: url } });
      try {
        for (const s of [a, b]) assert.equal((await fetch(`${s.url}/-/health`)).status, 200);
      } finally {
        assert.equal(await b.stop(), 0);
      }
    } finally {
      assert.equal(await a.stop(), 0);
    }
    const sqlite = await startServeProcess({ dataDir: data, env: { ...ENV, OKTELL_STORE: '' } });
    assert.equal(await sqlite.stop(), 0);
  });
});
