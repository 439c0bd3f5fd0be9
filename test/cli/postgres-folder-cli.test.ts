// The data folder of a server whose store is PostgreSQL, named by a command run without that store (an operator's
// shell without the unit's OKTELL_STORE): the command is refused in one line naming the server's store and the command
// to type instead, and no oktell.sqlite is made there (trial s30, finding 4). `serve` records its store in serve.json
// for that, with the password masked; a folder of a SQLite server, or of an older server's serve.json, works as before.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { repoPath, tempDir } from '../helpers.js';
import { dropSchema, randomSchemaName, testPostgres, urlWithSchema } from '../store/postgres.helper.js';
import { runCli, type CliResult } from './cli.helper.js';
import { startServeProcess } from './cli-process.js';

const TASKS = 'serviceTasks:\n  - { name: report, scenario: DailyReport, cron: "0 9 * * *", timeZone: UTC }\n';
const MASKED = 'postgres://ops:***@db.example.com:5432/oktell?schema=oktell';
const pgAvailable = await testPostgres();

/** The commands that open the store: they read it, queue into it, or record a live run in it. */
const STORE_COMMANDS: string[][] = [
  ['runs'],
  ['runs', '--status', 'dead', '--json'],
  ['show', 'some-run'],
  ['replay', '--status', 'dead'],
  ['replay', 'some-run'],
  ['tasks'],
  ['tasks', 'run', 'report'],
  ['test', '--from-run', 'some-run', '--out', 'recorded.test.yaml'],
  ['run', 'HTTP404', '-p', '1=/nothing-here'],
];

/** A process id that is not running: a child that has already ended. */
function endedPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
}

function serveFile(dataDir: string, pid: number, store?: unknown): void {
  writeFileSync(join(dataDir, 'serve.json'), JSON.stringify({ pid, url: 'http://127.0.0.1:4055', signedPaths: [], startedAt: new Date().toISOString(), ...(store ? { store } : {}) }));
}

describe('a command without OKTELL_STORE on the data folder of a PostgreSQL server', () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());
  writeFileSync(join(tmp.dir, 'oktell.config.yaml'), TASKS);
  const cli = (args: string[], dataDir: string, env: Record<string, string> = {}): CliResult =>
    runCli([...args, '--data-dir', dataDir], { cwd: tmp.dir, env: { OKTELL_SCENARIOS: repoPath('scenarios'), ...env }, unset: ['OKTELL_STORE', 'OKTELL_CONFIG', 'OKTELL_DATA_DIR'] });

  it('every store command is refused (exit 2) naming the server’s store and the command to type, and creates nothing', { timeout: 120_000 }, () => {
    const data = join(tmp.dir, 'pg-live');
    mkdirSync(data);
    serveFile(data, process.pid, { kind: 'postgres', url: MASKED });
    for (const args of STORE_COMMANDS) {
      const r = cli(args, data);
      const what = args.join(' ');
      assert.equal(r.code, 2, `${what}: ${r.stdout}${r.stderr}`);
      if (args.includes('--json')) {
        assert.match((JSON.parse(r.stdout) as { error: { message: string } }).error.message, /uses the PostgreSQL store/);
        continue;
      }
      assert.equal(r.stdout, '', what);
      const words = [...args, '--data-dir', data].join(' ');
      assert.equal(
        r.stderr,
        `oktell-emu: the server of ${data} uses the PostgreSQL store ${MASKED}, not a SQLite file in that folder: nothing is read or written there; give this command the server's store: OKTELL_STORE='${MASKED}' npx oktell-emu ${words} (the password in place of ***)\n`,
        what,
      );
      assert.deepEqual(readdirSync(data), ['serve.json'], `${what} created no oktell.sqlite (nor anything else)`);
    }
    assert.equal(existsSync(join(tmp.dir, 'recorded.test.yaml')), false, 'test --from-run wrote no case');
  });

  it('a store named by the server’s configuration file is pointed at with OKTELL_CONFIG; a killed server’s file still counts, and says so', () => {
    const data = join(tmp.dir, 'pg-config');
    mkdirSync(data);
    const pid = endedPid();
    serveFile(data, pid, { kind: 'postgres', url: 'postgres://ops@db.example.com:5432/oktell?schema=oktell', configFile: '/etc/oktell/oktell.config.yaml' });
    const r = cli(['tasks', 'run', 'report'], data);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(
      r.stderr,
      `oktell-emu: the server of ${data} uses the PostgreSQL store of /etc/oktell/oktell.config.yaml (postgres://ops@db.example.com:5432/oktell?schema=oktell), not a SQLite file in that folder: nothing is read or written there (that server, pid ${pid}, is not running now; if the folder no longer belongs to a PostgreSQL server, remove its serve.json); give this command the server's store: OKTELL_CONFIG=/etc/oktell/oktell.config.yaml npx oktell-emu tasks run report --data-dir ${data}\n`,
    );
    assert.deepEqual(readdirSync(data), ['serve.json']);
  });

  it('a server stopped normally leaves store.json: the refusal outlives it and says to remove that file', () => {
    const data = join(tmp.dir, 'pg-stopped');
    mkdirSync(data);
    writeFileSync(join(data, 'store.json'), JSON.stringify({ store: { kind: 'postgres', url: MASKED }, since: new Date().toISOString() }));
    const r = cli(['runs'], data);
    assert.equal(r.code, 2, r.stdout);
    assert.equal(
      r.stderr,
      `oktell-emu: the server of ${data} uses the PostgreSQL store ${MASKED}, not a SQLite file in that folder: nothing is read or written there (that server has stopped; if the folder no longer belongs to a PostgreSQL server, remove its store.json); give this command the server's store: OKTELL_STORE='${MASKED}' npx oktell-emu runs --data-dir ${data} (the password in place of ***)\n`,
    );
    assert.deepEqual(readdirSync(data), ['store.json']);
    // A live SQLite server's serve.json decides over an old store.json.
    serveFile(data, process.pid, { kind: 'sqlite' });
    assert.deepEqual(cli(['runs'], data), { code: 0, stdout: 'no runs recorded yet\n', stderr: '' });
  });

  it('the folder of a SQLite server, or an older server’s serve.json without a store, works as before', () => {
    for (const [name, store] of [['sqlite', { kind: 'sqlite' }], ['older', undefined]] as const) {
      const data = join(tmp.dir, name);
      mkdirSync(data);
      serveFile(data, process.pid, store);
      assert.deepEqual(cli(['runs'], data), { code: 0, stdout: 'no runs recorded yet\n', stderr: '' }, name);
      const queued = cli(['tasks', 'run', 'report'], data);
      assert.equal(queued.code, 0, `${name}: ${queued.stderr}`);
      assert.match(queued.stdout, /^report: job \w+ queued\n$/, name);
      assert.ok(existsSync(join(data, 'oktell.sqlite')), `${name}: tasks run made the store the server reads`);
      assert.match(cli(['tasks'], data).stdout, /last run: queued, manual run queued/, name);
    }
  });

  it('the store commands’ help names OKTELL_STORE', () => {
    for (const command of [['runs'], ['show'], ['replay'], ['tasks'], ['tasks', 'run']]) {
      const help = runCli([...command, '--help']);
      assert.equal(help.code, 0, help.stderr);
      assert.match(help.stdout.replace(/\s+/g, ' '), /-d, --data-dir <dir> data folder of a SQLite store .*; a PostgreSQL store is named by \$OKTELL_STORE/, command.join(' '));
    }
  });
});

describe('serve records its store in serve.json', () => {
  const tmp = tempDir();
  const schemas: string[] = [];
  after(async () => {
    for (const s of schemas) await dropSchema(pgAvailable.url!, s).catch(() => undefined);
    tmp.cleanup();
  });
  const storeOf = (dataDir: string) => (JSON.parse(readFileSync(join(dataDir, 'serve.json'), 'utf8')) as { store?: unknown }).store;

  it('SQLite: kind sqlite, and the commands read its folder', { timeout: 90_000 }, async () => {
    const data = join(tmp.dir, 'sqlite');
    // Left by an earlier PostgreSQL server of the folder: a SQLite server takes the folder over and removes it.
    mkdirSync(data, { recursive: true, mode: 0o700 });
    writeFileSync(join(data, 'store.json'), JSON.stringify({ store: { kind: 'postgres', url: 'postgres://old@db/oktell' } }));
    const serve = await startServeProcess({ dataDir: data, env: { OKTELL_STORE: '' } });
    try {
      assert.deepEqual(storeOf(data), { kind: 'sqlite' });
      assert.equal(existsSync(join(data, 'store.json')), false, 'store.json removed');
      const r = runCli(['runs', '--data-dir', data], { unset: ['OKTELL_STORE', 'OKTELL_CONFIG'] });
      assert.equal(r.code, 0, r.stderr);
      // A PostgreSQL server started on the folder meanwhile, and stopped, leaves serve.json gone and its store.json:
      // the SQLite server holding the folder's lock still decides (review s31, 3).
      rmSync(join(data, 'serve.json'));
      writeFileSync(join(data, 'store.json'), JSON.stringify({ store: { kind: 'postgres', url: 'postgres://old@db/oktell' } }));
      const held = runCli(['runs', '--data-dir', data], { unset: ['OKTELL_STORE', 'OKTELL_CONFIG'] });
      assert.equal(held.code, 0, held.stderr);
    } finally {
      await serve.stop();
    }
  });

  it('PostgreSQL: the URL with its password masked; a command without OKTELL_STORE is refused, and the command it prints works', { timeout: 90_000, ...(pgAvailable.skip ? { skip: pgAvailable.skip } : {}) }, async () => {
    const schema = randomSchemaName('folder');
    schemas.push(schema);
    const url = urlWithSchema(pgAvailable.url!, schema);
    const data = join(tmp.dir, 'pg');
    const serve = await startServeProcess({ dataDir: data, env: { OKTELL_STORE: url } });
    const masked = new URL(url);
    masked.password = '***';
    try {
      assert.deepEqual(storeOf(data), { kind: 'postgres', url: masked.toString() });
      assert.doesNotMatch(readFileSync(join(data, 'serve.json'), 'utf8'), new RegExp(`:${new URL(url).password}@`), 'no password in serve.json');

      const refused = runCli(['replay', '--status', 'dead', '--data-dir', data], { unset: ['OKTELL_STORE', 'OKTELL_CONFIG'] });
      assert.equal(refused.code, 2, refused.stdout);
      const typed = /give this command the server's store: OKTELL_STORE='([^']+)' npx oktell-emu (.*) \(the password in place of \*\*\*\)\n$/.exec(refused.stderr);
      assert.ok(typed, refused.stderr);
      assert.equal(typed[1], masked.toString());
      assert.equal(existsSync(join(data, 'oktell.sqlite')), false, 'no oktell.sqlite in the folder');
      // As printed, with the password put back: it reads the server's store.
      const withPassword = typed[1]!.replace('***', new URL(url).password);
      const ok = runCli(typed[2]!.split(' '), { env: { OKTELL_STORE: withPassword }, unset: ['OKTELL_CONFIG'] });
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(ok.stdout, 'nothing to replay: no dead job (nor any failed one)\n');
    } finally {
      await serve.stop();
    }
    // Stopped normally: serve.json is gone, store.json (owner-only, no password) keeps the refusal.
    assert.equal(existsSync(join(data, 'serve.json')), false);
    const kept = readFileSync(join(data, 'store.json'), 'utf8');
    assert.deepEqual((JSON.parse(kept) as { store: unknown }).store, { kind: 'postgres', url: masked.toString() });
    assert.doesNotMatch(kept, new RegExp(`:${new URL(url).password}@`), 'no password in store.json');
    assert.equal(statSync(join(data, 'store.json')).mode & 0o777, 0o600);
    const stopped = runCli(['runs', '--data-dir', data], { unset: ['OKTELL_STORE', 'OKTELL_CONFIG'] });
    assert.equal(stopped.code, 2, stopped.stdout);
    assert.match(stopped.stderr, /\(that server has stopped; if the folder no longer belongs to a PostgreSQL server, remove its store\.json\)/);
  });
});
