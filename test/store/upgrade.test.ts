// Upgrading: a data folder written by an older build, opened by this one. The store is the one the build of
// 2026-12-02 (schema version 4) really left after it was killed (test/fixtures/upgrade/sqlite-2026-12-02.sql, rows
// copied from it): what it acknowledged is delivered once, what it sent is not sent again, and its runs read as
// before. Going back (a store a newer build migrated) is refused in one line, and so is a newer CLI migrating a store
// under a server of an older build.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { lockDataFolder } from '../../server/data-lock.js';
import { startServer } from '../../server/serve.js';
import { knownSchemaVersion, storedSchemaVersion } from '../../server/store/sqlite.migrations.js';
import { repoPath, tempDir } from '../helpers.js';
import { runCli, startServeProcess } from '../cli/cli-process.js';
import { startSmtpServer } from '../mail/smtp-server.helper.js';
import { capturingLogger, waitFor } from '../server/server-helpers.js';
import { DEAD_LAST_RUN, DELIVERED_RUN, header, IVAN, JOB, lettersTo, MARIA, OPS } from './upgrade-fixture.js';

const FIXTURE = repoPath('test', 'fixtures', 'upgrade', 'sqlite-2026-12-02.sql');

/** A data folder holding the old build's store, as that build left it. */
function oldDataFolder(): { dir: string; file: string; cleanup(): void } {
  const t = tempDir('oktell-upgrade-');
  const file = join(t.dir, 'oktell.sqlite');
  const db = new Database(file);
  db.exec(readFileSync(FIXTURE, 'utf8'));
  // In WAL mode, as every build leaves its store.
  db.pragma('journal_mode = WAL');
  db.close();
  return { ...t, file };
}

function read<T>(file: string, sql: string, ...args: unknown[]): T[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(sql).all(...args) as T[];
  } finally {
    db.close();
  }
}

const jobStatus = (file: string, id: string): string | undefined => read<{ status: string }>(file, 'SELECT status FROM jobs WHERE id = ?', id)[0]?.status;

describe('upgrade: a store of the 2026-12-02 build (schema 4) opened by this build', () => {
  it('migrates it, delivers the queued jobs once (no journaled letter again), dead-letters the pending one, shows the old runs, and replays its dead letter', async () => {
    const folder = oldDataFolder();
    const smtp = await startSmtpServer();
    // The letter the old build sent for the half-sent job, as its journal says.
    const journaled = read<{ outcome: string }>(folder.file, `SELECT outcome FROM effects WHERE run_key = ? AND step_key = 'BpiumNewTask:notify#1'`, JOB.halfSent)[0]!;
    const sentBefore = (JSON.parse(journaled.outcome) as { messageId: string }).messageId;
    const serve = await startServeProcess({
      dataDir: folder.dir,
      env: {
        SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
        OKTELL_USERS: `${OPS.login}:${OPS.password}`,
        // The fixture's rows are from 2026-12-05: kept whatever the date the test runs on.
        OKTELL_RETENTION_DAYS: '36500',
        OKTELL_LOG_LEVEL: 'info',
      },
    });
    try {
      await waitFor('the queued jobs delivered and the pending one dead', () =>
        jobStatus(folder.file, JOB.halfSent) === 'succeeded' && jobStatus(folder.file, JOB.noneSent) === 'succeeded' && jobStatus(folder.file, JOB.pending) === 'dead', 30_000);
      assert.match(serve.stdout(), new RegExp(`store migrations applied: 5–${knownSchemaVersion()}`));
      // The look for a server of an older build holding the file leaves its -wal and -shm as they were: no false alarm.
      assert.doesNotMatch(serve.stdout() + serve.stderr(), /write-ahead log .* is missing/);
      assert.equal(storedSchemaVersion(folder.file), knownSchemaVersion());
      // Half-sent: Мария only; none-sent: both; the pending letter is not sent again; the dead letter waits.
      assert.equal(lettersTo(smtp.letters, IVAN), 1, 'one letter to Иван (the job that had sent none)');
      assert.equal(lettersTo(smtp.letters, MARIA), 2);
      assert.ok(!smtp.letters.some((l) => header(l, 'Message-ID') === sentBefore), 'the letter the old build sent and journaled is not sent again');
      const pendingRun = read<{ error: string }>(folder.file, 'SELECT r.error FROM jobs j JOIN runs r ON r.id = j.last_run_id WHERE j.id = ?', JOB.pending)[0]!;
      assert.match(pendingRun.error, /R_EFFECT_UNKNOWN/);
      assert.equal(jobStatus(folder.file, JOB.dead), 'dead');

      // The old runs, in the CLI and the console.
      const dead = runCli(['runs', '--status', 'dead', '--data-dir', folder.dir]);
      assert.equal(dead.code, 0, dead.stderr);
      assert.match(dead.stdout, new RegExp(`${DEAD_LAST_RUN} job ${JOB.dead} #3 R_EFFECT_TRANSIENT`));
      const shown = runCli(['show', DEAD_LAST_RUN, '--data-dir', folder.dir]);
      assert.equal(shown.code, 0, shown.stderr);
      assert.match(shown.stdout, /notify SendMail → failed/);
      assert.match(shown.stdout, /451 try later/);
      const delivered = runCli(['show', DELIVERED_RUN, '--data-dir', folder.dir]);
      assert.equal(delivered.code, 0, delivered.stderr);
      assert.match(delivered.stdout, new RegExp(`mail sent to ${MARIA.replace(/\./g, '\\.')}`));
      const auth = `Basic ${Buffer.from(`${OPS.login}:${OPS.password}`).toString('base64')}`;
      for (const run of [DEAD_LAST_RUN, DELIVERED_RUN]) {
        const page = await fetch(`${serve.url}/-/console/runs/${run}`, { headers: { authorization: auth } });
        assert.equal(page.status, 200, `console page of the old run ${run}`);
        assert.match(await page.text(), /BpiumNewTask/);
      }

      // Its dead letter replayed by this build: both letters.
      const replay = runCli(['replay', JOB.dead, '--data-dir', folder.dir]);
      assert.equal(replay.code, 0, replay.stderr);
      await waitFor('the replayed dead letter delivered', () => jobStatus(folder.file, JOB.dead) === 'succeeded', 30_000);
      assert.equal(lettersTo(smtp.letters, IVAN), 2);
      assert.equal(lettersTo(smtp.letters, MARIA), 3);
      assert.equal(jobStatus(folder.file, JOB.delivered), 'succeeded');
      assert.equal(await serve.stop(), 0);
    } finally {
      await serve.stop();
      await smtp.close();
      folder.cleanup();
    }
  });

  it('a store a newer build migrated: serve and the CLI say so in one line (exit 2) and change nothing', () => {
    const folder = oldDataFolder();
    try {
      // Every version this build knows, and one more.
      const newer = knownSchemaVersion() + 1;
      const db = new Database(folder.file);
      const add = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, 0)');
      for (let v = 5; v <= newer; v++) add.run(v, v === newer ? 'from a newer build' : `m${v}`);
      db.pragma(`user_version = ${newer}`);
      db.close();
      const expected = new RegExp(
        `^oktell-emu: cannot open the store ${folder.file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: a newer build of oktell-emu has migrated it \\(schema version ${newer}; this build knows up to ${knownSchemaVersion()}\\), and an older build cannot use it: .*nothing was changed\\n$`,
      );
      const serve = runCli(['serve', '--port', '0', '--host', '127.0.0.1', '--bpium-emulator-port', '0', '--data-dir', folder.dir], { OKTELL_USERS: `${OPS.login}:${OPS.password}` });
      assert.equal(serve.code, 2, serve.stderr);
      assert.match(serve.stderr, expected);
      assert.doesNotMatch(serve.stderr, /\n\s+at /, 'no stack trace');
      for (const args of [['runs'], ['show', DELIVERED_RUN], ['replay', JOB.dead]]) {
        const r = runCli([...args, '--data-dir', folder.dir]);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, expected);
      }
      assert.equal(storedSchemaVersion(folder.file), newer);
      assert.equal(jobStatus(folder.file, JOB.dead), 'dead');
    } finally {
      folder.cleanup();
    }
  });

  it("this build's CLI does not migrate the store under a running server of the older build; with none running it does", () => {
    const folder = oldDataFolder();
    // The older build's server holds the folder as every build does: serve.lock, kept in an exclusive transaction.
    const lock = lockDataFolder(folder.dir, () => ({ pid: process.pid, url: 'http://127.0.0.1:4055' }), 'sqlite');
    try {
      for (const args of [['runs'], ['show', DELIVERED_RUN], ['tasks'], ['replay', JOB.dead]]) {
        const r = runCli([...args, '--data-dir', folder.dir]);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
        assert.match(r.stderr, /it is at schema version 4 and this build of oktell-emu reads version \d+, so the server running on .* is of an older build; a command does not migrate the store under it .*restart the server with this build first .*nothing was changed\n$/);
      }
      assert.equal(storedSchemaVersion(folder.file), 4, 'not migrated');
      assert.equal(jobStatus(folder.file, JOB.dead), 'dead', 'not replayed');
    } finally {
      lock.release();
    }
    migratesOnceFree(folder);
  });
  it('a server of a build before 2026-12-02 (no serve.lock) still holding the store: serve and the CLI refuse, nothing migrated or requeued', () => {
    const folder = oldDataFolder();
    // Such a server keeps the store open in WAL mode and writes no serve.lock: only the open file says it runs.
    const held = new Database(folder.file);
    held.pragma('journal_mode = WAL');
    held.prepare('SELECT count(*) FROM jobs').get();
    const statuses = () => read<{ id: string; status: string }>(folder.file, 'SELECT id, status FROM jobs ORDER BY id');
    const before = statuses();
    try {
      const serve = runCli(['serve', '--port', '0', '--host', '127.0.0.1', '--bpium-emulator-port', '0', '--data-dir', folder.dir], { OKTELL_USERS: `${OPS.login}:${OPS.password}` });
      assert.equal(serve.code, 2, serve.stdout + serve.stderr);
      assert.match(serve.stderr, /it is at schema version 4 and this build of oktell-emu reads version \d+, and another process has the file open, most likely a server of an older build .*delivered twice; stop that server first .*nothing was changed\n$/);
      for (const args of [['runs'], ['replay', JOB.dead]]) {
        const r = runCli([...args, '--data-dir', folder.dir]);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
        assert.match(r.stderr, /another process has the file open, most likely a server of an older build .*a command would migrate the store under it .*nothing was changed\n$/);
      }
      assert.equal(storedSchemaVersion(folder.file), 4, 'not migrated');
      assert.deepEqual(statuses(), before, 'no job requeued or replayed');
    } finally {
      held.close();
    }
    // Once that server has stopped, the command goes on and migrates as before.
    migratesOnceFree(folder);
  });
  it('an old store whose write-ahead log was lost after an unclean stop: serve still warns of the lost log (the schema version read and the look for an older server come after)', { timeout: 60_000 }, async () => {
    const folder = oldDataFolder();
    try {
      // The files an unclean stop leaves, a connection still open: the database, its -wal and its -shm; the -wal then
      // deleted. Nothing holds the store.
      const live = join(folder.dir, 'live');
      const data = join(folder.dir, 'data');
      mkdirSync(live);
      mkdirSync(data);
      copyFileSync(folder.file, join(live, 'oktell.sqlite'));
      const db = new Database(join(live, 'oktell.sqlite'));
      db.prepare('SELECT count(*) FROM jobs').get();
      assert.ok(existsSync(join(live, 'oktell.sqlite-wal')) && existsSync(join(live, 'oktell.sqlite-shm')));
      copyFileSync(join(live, 'oktell.sqlite'), join(data, 'oktell.sqlite'));
      copyFileSync(join(live, 'oktell.sqlite-shm'), join(data, 'oktell.sqlite-shm'));
      db.close();
      const file = join(data, 'oktell.sqlite');
      const { lines, logger } = capturingLogger();
      const server = await startServer({ port: 0, host: '127.0.0.1', dataDir: data, scenarios: repoPath('scenarios'), bpiumEmulatorPort: 0, watch: false, logger, env: { OKTELL_USERS: `${OPS.login}:${OPS.password}` } });
      try {
        const warning = lines.find((l) => l.level === 'warn' && /write-ahead log oktell\.sqlite-wal is missing after an unclean stop/.test(l.msg ?? ''));
        assert.ok(warning, `warned: ${lines.map((l) => l.msg).join(' | ')}`);
        assert.equal(storedSchemaVersion(file), knownSchemaVersion());
      } finally {
        await server.close(2000);
      }
    } finally {
      folder.cleanup();
    }
  });
});

/** Once no server holds the old store, a command migrates it and reads its dead letter; then the folder is removed. */
function migratesOnceFree(folder: ReturnType<typeof oldDataFolder>): void {
  try {
    const r = runCli(['runs', '--status', 'dead', '--data-dir', folder.dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(DEAD_LAST_RUN));
    assert.equal(storedSchemaVersion(folder.file), knownSchemaVersion());
  } finally {
    folder.cleanup();
  }
}
