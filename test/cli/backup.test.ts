// `oktell-emu backup <file>`: a copy of the SQLite store taken while a real server acknowledges signed webhooks holds
// every webhook acknowledged before it started, passes quick_check, and a server started on a data folder restored
// from it delivers the jobs it held; what it refuses leaves nothing behind; a PostgreSQL store gets the pg_dump line.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { closeSync, copyFileSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { tempDir } from '../helpers.js';
import { runCliAsync } from './cli.helper.js';
import { startServeProcess } from './cli-process.js';
import { signBpiumBody } from '../../adapters/bpium/signature.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { knownSchemaVersion } from '../../server/store/sqlite.migrations.js';

const SECRET = 'backup-test-secret';
const USERS = 'ops:pw';

/** A port nothing listens on: taken from the OS, then given back. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function webhookBody(seq: number): string {
  return JSON.stringify({ timestamp: '1700000000', hook: { id: '1', event: 'record.created', sequenceId: seq }, payload: { catalogId: '11', recordId: String(seq), values: { '2': `backup-${seq}`, '3': 'text', '4': [{ id: '2', title: 'Иван Петров' }] } }, user: { id: '1' } });
}

/** Posts one signed webhook; resolves with its HTTP status. */
async function sendWebhook(url: string, seq: number): Promise<number> {
  const body = webhookBody(seq);
  const res = await fetch(`${url}/Bpium/NewTask`, {
    method: 'POST',
    headers: { Authorization: `Basic ${Buffer.from(USERS).toString('base64')}`, 'Content-Type': 'application/json', 'X-Hook-Signature': signBpiumBody(SECRET, body) },
    body,
  });
  await res.arrayBuffer();
  return res.status;
}

/** The task titles (`backup-<seq>`) of the webhooks stored in a store file. */
function storedSeqs(file: string): Set<number> {
  const db = new Database(file, { fileMustExist: true });
  try {
    const rows = db.prepare(`SELECT body FROM inbox WHERE path = '/Bpium/NewTask'`).all() as Array<{ body: Buffer }>;
    return new Set(rows.map((r) => (JSON.parse(r.body.toString('utf8')) as { hook: { sequenceId: number } }).hook.sequenceId));
  } finally {
    db.close();
  }
}

describe('oktell-emu backup: a copy of the running SQLite store', () => {
  it('holds every webhook acknowledged before it, passes quick_check, and a server restored from it delivers them', async () => {
    const tmp = tempDir('oktell-backup-');
    const data = join(tmp.dir, 'var');
    // Bpium unreachable and a long retry delay: the jobs of the webhooks stay queued, so the copy holds work to do.
    const bpium = `http://127.0.0.1:${await closedPort()}/api/v1`;
    const env = { OKTELL_USERS: USERS, BPIUM_WEBHOOK_SECRET: SECRET, OKTELL_RETRY_BASE_DELAY_MS: '1800000' };
    const serve = await startServeProcess({ dataDir: data, env: { ...env, BPIUM_URL: bpium, BPIUM_LOGIN: 'demo@example.com', BPIUM_PASSWORD: 'demo' } });
    let restoredServe: Awaited<ReturnType<typeof startServeProcess>> | undefined;
    try {
      const acknowledged: number[] = [];
      for (let seq = 1; seq <= 8; seq++) {
        assert.equal(await sendWebhook(serve.url, seq), 200);
        acknowledged.push(seq);
      }
      // Webhooks keep coming while the backup runs.
      let stop = false;
      let next = 1000;
      const during: Promise<void> = (async () => {
        while (!stop) assert.equal(await sendWebhook(serve.url, next++), 200);
      })();
      const backups = join(tmp.dir, 'backups');
      mkdirSync(backups);
      const copy = join(backups, 'oktell-copy.sqlite');
      const r = await runCliAsync(['backup', copy, '--data-dir', data]);
      stop = true;
      await during;
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^backed up ${data}/oktell\\.sqlite to ${copy} \\([\\d.]+ [KM]B, schema version \\d+, quick_check ok\\)$`, 'm'));
      assert.match(r.stdout, /in the copy: \d+ webhook\(s\) received, \d+ job\(s\) queued/);
      assert.match(r.stdout, /server-user\.json|bpium-webhook-secret|main\.sqlite/, 'names the other files of the data folder');
      assert.ok(next > 1000, 'webhooks were acknowledged while the backup ran');
      // Only the copy is left in the folder: no temporary file, no -wal or -shm.
      assert.deepEqual(readdirSync(backups), ['oktell-copy.sqlite']);
      assert.equal(statSync(copy).mode & 0o777, 0o600);
      const check = new Database(copy, { fileMustExist: true });
      try {
        assert.equal(check.pragma('quick_check', { simple: true }), 'ok');
        const queued = (check.prepare(`SELECT COUNT(*) AS n FROM jobs WHERE status = 'queued'`).get() as { n: number }).n;
        assert.ok(queued >= acknowledged.length, `queued jobs in the copy: ${queued}`);
      } finally {
        check.close();
      }
      const inCopy = storedSeqs(copy);
      for (const seq of acknowledged) assert.ok(inCopy.has(seq), `webhook ${seq}, acknowledged before the backup, is in the copy`);

      assert.equal(await serve.stop(), 0);

      // Restore: a data folder holding the copy as its store; a server on it, with Bpium reachable this time.
      const restored = join(tmp.dir, 'restored');
      mkdirSync(restored, { mode: 0o700 });
      copyFileSync(copy, join(restored, 'oktell.sqlite'));
      const before = await runCliAsync(['runs', '--status', 'queued', '--json', '--data-dir', restored]);
      assert.equal(before.code, 0, before.stderr);
      const queuedBefore = JSON.parse(before.stdout) as unknown[];
      assert.ok(queuedBefore.length >= acknowledged.length, before.stdout);
      restoredServe = await startServeProcess({ dataDir: restored, env });
      const replay = await runCliAsync(['replay', '--status', 'queued', '--data-dir', restored]);
      assert.equal(replay.code, 0, replay.stderr + replay.stdout);
      // Every acknowledged webhook's letter reaches the restored server's outbox.
      const wanted = acknowledged.map((seq) => `Новая задача: backup-${seq}`);
      let subjects: string[] = [];
      for (let i = 0; i < 120; i++) {
        const out = await runCliAsync(['outbox', '--json', '--data-dir', restored]);
        if (out.code === 0) subjects = (JSON.parse(out.stdout) as Array<{ subject: string }>).map((l) => l.subject);
        if (wanted.every((s) => subjects.includes(s))) break;
        await new Promise((res) => setTimeout(res, 500));
      }
      for (const s of wanted) assert.ok(subjects.includes(s), `letter "${s}" delivered by the restored server; outbox: ${subjects.join(' | ')}`);
    } finally {
      await serve.stop();
      await restoredServe?.stop();
      tmp.cleanup();
    }
  });
});

/** A temporary folder with a data folder `var` holding a new, empty store (`store`: its file). */
async function storeFolder(prefix: string): Promise<{ dir: string; data: string; store: string; cleanup(): void }> {
  const tmp = tempDir(prefix);
  const data = join(tmp.dir, 'var');
  mkdirSync(data, { mode: 0o700 });
  const store = join(data, 'oktell.sqlite');
  await (await openSqliteStore({ file: store })).close();
  return { dir: tmp.dir, data, store, cleanup: tmp.cleanup };
}

describe('oktell-emu backup: what it refuses leaves nothing behind', () => {

  it('an existing file is kept unless --force', async () => {
    const t = await storeFolder('oktell-backup-refuse-');
    try {
      const file = join(t.dir, 'old-backup.sqlite');
      writeFileSync(file, 'an older backup');
      const r = await runCliAsync(['backup', file, '--data-dir', t.data]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr, `oktell-emu: cannot back up to ${file}: the file exists; give --force to replace it, or name another file; nothing was written\n`);
      assert.equal(readFileSync(file, 'utf8'), 'an older backup');
      assert.deepEqual(readdirSync(t.dir).sort(), ['old-backup.sqlite', 'var']);
      const forced = await runCliAsync(['backup', file, '--force', '--json', '--data-dir', t.data]);
      assert.equal(forced.code, 0, forced.stderr);
      const out = JSON.parse(forced.stdout) as { file: string; check: string; webhooks: number; queued: number; deadLetters: number };
      assert.equal(out.file, file);
      assert.equal(out.check, 'ok');
      assert.deepEqual([out.webhooks, out.queued, out.deadLetters], [0, 0, 0]);
      assert.equal(readFileSync(file).subarray(0, 15).toString(), 'SQLite format 3');
    } finally {
      t.cleanup();
    }
  });

  it('into a folder that does not exist: exit 2, a clear message, no file anywhere', async () => {
    const t = await storeFolder('oktell-backup-refuse-');
    try {
      const file = join(t.dir, 'no-such-folder', 'copy.sqlite');
      const r = await runCliAsync(['backup', file, '--data-dir', t.data]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, new RegExp(`^oktell-emu: cannot back up to ${file}: the folder ${t.dir}/no-such-folder does not exist; make it first .*nothing was written\\n$`));
      assert.equal(existsSync(join(t.dir, 'no-such-folder')), false);
      assert.deepEqual(readdirSync(t.dir), ['var']);
    } finally {
      t.cleanup();
    }
  });

  it('the store itself as the target, or a store of a newer build: refused, nothing changed', async () => {
    const t = await storeFolder('oktell-backup-refuse-');
    try {
      const store = join(t.data, 'oktell.sqlite');
      const self = await runCliAsync(['backup', store, '--force', '--data-dir', t.data]);
      assert.equal(self.code, 2);
      assert.match(self.stderr, /that is the store itself/);
      const db = new Database(store);
      db.prepare(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'from the future', 0)`).run();
      db.close();
      const file = join(t.dir, 'copy.sqlite');
      const newer = await runCliAsync(['backup', file, '--data-dir', t.data]);
      assert.equal(newer.code, 2);
      assert.match(newer.stderr, /a newer build of oktell-emu has migrated it \(schema version 99;/);
      assert.equal(existsSync(file), false);
      assert.deepEqual(readdirSync(t.dir), ['var']);
    } finally {
      t.cleanup();
    }
  });
});

describe('oktell-emu backup: never migrates', () => {
  it('a store of an older schema version is copied as it is: the store and the copy stay at that version', async () => {
    const tmp = await storeFolder('oktell-backup-older-');
    const { data, store } = tmp;
    try {
      // Back to schema version 6, as the build before migration 7 left it.
      const db = new Database(store);
      db.exec('DROP INDEX inbox_duplicates; DROP INDEX jobs_dead_letter_runs; DELETE FROM schema_migrations WHERE version >= 7; PRAGMA user_version = 6;');
      db.close();
      const version = (file: string) => {
        const d = new Database(file, { fileMustExist: true });
        try {
          return [(d.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number }).v, Boolean(d.prepare(`SELECT 1 FROM sqlite_master WHERE name = 'inbox_duplicates'`).get())];
        } finally {
          d.close();
        }
      };
      const file = join(tmp.dir, 'copy.sqlite');
      const r = await runCliAsync(['backup', file, '--data-dir', data]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /schema version 6, quick_check ok\)/);
      assert.match(r.stdout, /^  the store is at schema version 6, older than this build's \d+: copied as it is, not migrated$/m);
      assert.ok(r.stdout.includes(`older than this build's ${knownSchemaVersion()}:`), r.stdout);
      assert.deepEqual(version(store), [6, false]);
      assert.deepEqual(version(file), [6, false]);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('oktell-emu backup: a copy that fails its check', () => {
  it('a damaged store: exit 1, the message says so, and no file is left (neither the target nor a partial one)', async () => {
    const tmp = await storeFolder('oktell-backup-damaged-');
    const { data, store } = tmp;
    try {
      const db = new Database(store);
      db.exec('CREATE TABLE filler (x TEXT)');
      const insert = db.prepare('INSERT INTO filler VALUES (?)');
      db.transaction(() => {
        for (let i = 0; i < 2000; i++) insert.run('x'.repeat(500));
      })();
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
      // A page of the table's data overwritten: the store opens and its schema reads, but its b-tree is broken.
      const fd = openSync(store, 'r+');
      writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, statSync(store).size - 8192);
      closeSync(fd);
      const backups = join(tmp.dir, 'backups');
      mkdirSync(backups);
      const file = join(backups, 'copy.sqlite');
      const r = await runCliAsync(['backup', file, '--data-dir', data]);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stderr, /^oktell-emu: the copy fails SQLite's quick_check \(.+\), so the store itself may be damaged: see docs\/store\.md, "A damaged file"; no copy was kept\n$/);
      assert.deepEqual(readdirSync(backups), []);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('oktell-emu backup: a PostgreSQL store', () => {
  const pgUrl = process.env.OKTELL_TEST_PG_URL;
  it('prints the pg_dump command for the schema, without the password, and exits 0', { skip: pgUrl ? false : 'OKTELL_TEST_PG_URL is not set' }, async () => {
    const u = new URL(pgUrl!);
    u.searchParams.set('schema', 'oktell_backup_t');
    const password = decodeURIComponent(u.password);
    const r = await runCliAsync(['backup', '/srv/backups/oktell.dump'], { env: { OKTELL_STORE: u.toString() } });
    assert.equal(r.code, 0, r.stderr);
    const bare = new URL(pgUrl!);
    bare.password = '';
    const line = r.stdout.split('\n').find((l) => l.trim().startsWith('pg_dump '));
    assert.equal(line?.trim().replace(/'/g, ''), `pg_dump --dbname=${bare.toString()} --schema=oktell_backup_t --format=custom --file=/srv/backups/oktell.dump`, r.stdout);
    assert.ok(password && !r.stdout.includes(`:${password}@`) && !r.stderr.includes(`:${password}@`), 'the password is not printed');
  });

  it('a URL without ?schema=: the whole database is dumped, not a guess at the schema', { skip: pgUrl ? false : 'OKTELL_TEST_PG_URL is not set' }, async () => {
    const r = await runCliAsync(['backup', '/srv/backups/oktell.dump', '--json'], { env: { OKTELL_STORE: pgUrl! } });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { schema: string | null; command: string };
    assert.equal(out.schema, null);
    assert.match(out.command, /^pg_dump --dbname=\S+ --format=custom --file=\/srv\/backups\/oktell\.dump$/);
  });

  it("node-postgres's own URL parameters: ?ssl=true becomes sslmode=require, others are left out and named, and pg_dump runs the printed command", { skip: pgUrl ? false : 'OKTELL_TEST_PG_URL is not set' }, async () => {
    const u = new URL(pgUrl!);
    u.searchParams.set('ssl', 'true');
    u.searchParams.set('uselibpqcompat', 'false');
    u.searchParams.set('application_name', 'oktell-backup');
    const r = await runCliAsync(['backup', '/srv/backups/oktell.dump'], { env: { OKTELL_STORE: u.toString() } });
    assert.equal(r.code, 0, r.stderr);
    const line = r.stdout.split('\n').find((l) => l.trim().startsWith('pg_dump '))!.trim();
    const dbname = new URL(/--dbname=(\S+)/.exec(line.replace(/'/g, ''))![1]!);
    assert.deepEqual([...dbname.searchParams], [['application_name', 'oktell-backup'], ['sslmode', 'require']]);
    assert.match(r.stdout, /left out of the URL, since pg_dump does not know it: \?uselibpqcompat=/);
    assert.match(r.stdout, /\?ssl=true is node-postgres's own parameter: it is written as libpq's sslmode=require/);

    // The test server has no TLS: with ?ssl=false the printed command is run by the real pg_dump, which refuses a
    // parameter it does not know ("invalid URI query parameter").
    if (!existsSync('/usr/bin/pg_dump')) return;
    u.searchParams.set('ssl', 'false');
    const tmp = tempDir('oktell-backup-pgdump-');
    try {
      const target = join(tmp.dir, 'oktell.dump');
      const json = await runCliAsync(['backup', target, '--json'], { env: { OKTELL_STORE: u.toString() } });
      assert.equal(json.code, 0, json.stderr);
      const out = JSON.parse(json.stdout) as { command: string; droppedParams: string[] };
      assert.deepEqual(out.droppedParams, ['uselibpqcompat']);
      assert.doesNotMatch(out.command, /ssl/);
      // Run as printed, through a shell, as a user would paste it.
      const dump = spawnSync('sh', ['-c', `${out.command} --schema-only`], { env: { ...process.env, PGPASSWORD: decodeURIComponent(new URL(pgUrl!).password) }, encoding: 'utf8' });
      assert.equal(dump.status, 0, dump.stderr);
      assert.ok(statSync(target).size > 0);
    } finally {
      tmp.cleanup();
    }
  });

  it("node-postgres's sslmode=no-verify, which pg_dump refuses (invalid sslmode value), is written as sslmode=require", { skip: pgUrl ? false : 'OKTELL_TEST_PG_URL is not set' }, async () => {
    const u = new URL(pgUrl!);
    u.searchParams.set('sslmode', 'no-verify');
    const r = await runCliAsync(['backup', '/srv/backups/oktell.dump'], { env: { OKTELL_STORE: u.toString() } });
    assert.equal(r.code, 0, r.stderr);
    const line = r.stdout.split('\n').find((l) => l.trim().startsWith('pg_dump '))!.trim();
    const dbname = new URL(/--dbname=(\S+)/.exec(line.replace(/'/g, ''))![1]!);
    assert.deepEqual([...dbname.searchParams], [['sslmode', 'require']]);
    assert.match(r.stdout, /sslmode=no-verify is node-postgres's own value/);
  });

  it('keeps a parameter value with a space as libpq reads it (%20, not +) when other parameters are left out', { skip: pgUrl ? false : 'OKTELL_TEST_PG_URL is not set' }, async () => {
    if (!existsSync('/usr/bin/pg_dump')) return;
    // libpq decodes only %XX in a URL: a "+" the URL's own serialisation writes for a space reaches the server as
    // "+", and "-c+statement_timeout=0" is refused ("unrecognized configuration parameter").
    const store = `${pgUrl!}${pgUrl!.includes('?') ? '&' : '?'}ssl=false&options=-c%20statement_timeout%3D0&uselibpqcompat=false`;
    const tmp = tempDir('oktell-backup-pgdump-');
    try {
      const target = join(tmp.dir, 'oktell.dump');
      const json = await runCliAsync(['backup', target, '--json'], { env: { OKTELL_STORE: store } });
      assert.equal(json.code, 0, json.stderr);
      const out = JSON.parse(json.stdout) as { command: string };
      assert.match(out.command, /options=-c%20statement_timeout%3D0/);
      const dump = spawnSync('sh', ['-c', `${out.command} --schema-only`], { env: { ...process.env, PGPASSWORD: decodeURIComponent(new URL(pgUrl!).password) }, encoding: 'utf8' });
      assert.equal(dump.status, 0, dump.stderr);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('oktell-emu backup: the temporary file', () => {
  it('a file already at its name (a leftover, or a link planted in a shared folder) is not written through: the copy is 0600 and nothing else gets the store', async () => {
    const tmp = tempDir('oktell-backup-planted-');
    const out = process.stdout.write;
    try {
      const data = join(tmp.dir, 'var');
      mkdirSync(data, { mode: 0o700 });
      await (await openSqliteStore({ file: join(data, 'oktell.sqlite') })).close();
      const backups = join(tmp.dir, 'backups');
      mkdirSync(backups);
      // The temporary name is `.<file>.partial-<pid>`: in this process, the pid is known. A link to a file readable by
      // all, as another user of a shared folder could leave there.
      const planted = join(tmp.dir, 'readable-by-all');
      writeFileSync(planted, '', { mode: 0o644 });
      symlinkSync(planted, join(backups, `.copy.sqlite.partial-${process.pid}`));
      const { backupAction } = await import('../../cli/commands/backup.js');
      let printed = '';
      process.stdout.write = ((s: string) => ((printed += s), true)) as typeof process.stdout.write;
      await backupAction(join(backups, 'copy.sqlite'), { dataDir: data, json: true });
      process.stdout.write = out;
      assert.equal(JSON.parse(printed).check, 'ok');
      assert.equal(statSync(planted).size, 0, 'the store was not written through the link');
      const copy = join(backups, 'copy.sqlite');
      assert.equal(lstatSync(copy).isFile(), true, 'the copy is a file, not a link');
      assert.equal(statSync(copy).mode & 0o777, 0o600);
      assert.deepEqual(readdirSync(backups), ['copy.sqlite']);
    } finally {
      process.stdout.write = out;
      tmp.cleanup();
    }
  });
});
