// A PostgreSQL connection whose password comes from an environment variable that the operator's shell does not set:
// the commands that never open the scenarios' databases (`runs`, `show`, `webhook send`) work all the same, while
// `run` and `validate` still refuse with the setting's place and the variable's name.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDatabasePort, databaseSettings } from '../../adapters/db/index.js';
import { parseNamedSql } from '../../engine/index.js';
import { tempDir } from '../helpers.js';
import { runCliAsync } from './cli.helper.js';

const UNSET = /oktell\.config\.yaml:4:7: databases\.pg: the environment variable OKTELL_TEST_PG_PW \(passwordEnv\) is not set/;

describe('a database password that is not set does not stop the commands that never use it', () => {
  const tmp = tempDir();
  const seen: string[] = [];
  let server: Server;
  let base = '';
  const cli = (args: string[], env: Record<string, string> = {}) =>
    runCliAsync(args, { cwd: tmp.dir, env, unset: ['OKTELL_SCENARIOS', 'OKTELL_DATA_DIR', 'OKTELL_CONFIG', ...(env.OKTELL_TEST_PG_PW === undefined ? ['OKTELL_TEST_PG_PW'] : [])], timeoutMs: 60_000 });
  before(async () => {
    mkdirSync(join(tmp.dir, 'scenarios'));
    writeFileSync(join(tmp.dir, 'scenarios', 'Echo.yaml'), 'start: r\nblocks:\n  r: { kind: ReturnValue, values: { 1: \'"a"\' } }\n');
    writeFileSync(join(tmp.dir, 'oktell.config.yaml'), 'scenarios: ./scenarios\ndataDir: ./var\ndatabases:\n  pg: { url: "postgres://oktell@127.0.0.1:9/oktell", passwordEnv: OKTELL_TEST_PG_PW }\n');
    server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.close();
    tmp.cleanup();
  });

  it('runs, show and webhook send work without it; run and validate refuse as before', { timeout: 180_000 }, async () => {
    // A recorded run, made with the password set (the run itself needs the configuration whole).
    const live = await cli(['run', 'Echo'], { OKTELL_TEST_PG_PW: 'x' });
    assert.equal(live.code, 0, live.stdout + live.stderr);
    const runId = /run ([0-9a-hjkmnp-tv-z]{26})/.exec(live.stdout)![1]!;

    const runs = await cli(['runs', '-n', '5']);
    assert.equal(runs.code, 0, runs.stdout + runs.stderr);
    assert.match(runs.stdout, new RegExp(runId.slice(0, 8)));
    assert.doesNotMatch(runs.stderr, /passwordEnv/);

    const shown = await cli(['show', runId]);
    assert.equal(shown.code, 0, shown.stdout + shown.stderr);
    assert.match(shown.stdout, /return values 1="a"/);

    writeFileSync(join(tmp.dir, 'body.json'), '{"a":1}');
    const sent = await cli(['webhook', 'send', '/My/Hook', 'body.json', '--url', base, '--user', 'ops:pw', '--no-sign']);
    assert.doesNotMatch(sent.stderr, /passwordEnv/);
    assert.equal(sent.code, 0, sent.stdout + sent.stderr);
    assert.deepEqual(seen, ['POST /My/Hook']);

    // The commands that do use the databases still say what is missing, and where.
    const dry = await cli(['run', 'Echo', '--dry-run']);
    assert.equal(dry.code, 2);
    assert.match(dry.stderr, UNSET);
    const validate = await cli(['validate']);
    assert.equal(validate.code, 2);
    assert.match(validate.stdout + validate.stderr, UNSET);
  });

  it('settings loaded with deferPasswords note the problem on the connection, which is then never opened', async () => {
    const s = databaseSettings({ pg: { url: 'postgres://oktell@127.0.0.1:9/oktell', passwordEnv: 'OKTELL_TEST_PG_PW' } }, {}, '/data', '/', { deferPasswords: true });
    assert.deepEqual(s.pg, {
      dialect: 'postgres',
      url: 'postgres://oktell@127.0.0.1:9/oktell',
      written: { setting: 'databases.pg.url', password: 'the environment variable OKTELL_TEST_PG_PW (passwordEnv of databases.pg)' },
      passwordProblem: 'databases.pg: the environment variable OKTELL_TEST_PG_PW (passwordEnv) is not set',
    });
    // Without it, as before: refused.
    assert.throws(() => databaseSettings({ pg: { url: 'postgres://oktell@127.0.0.1:9/oktell', passwordEnv: 'OKTELL_TEST_PG_PW' } }, {}, '/data', '/'), /OKTELL_TEST_PG_PW \(passwordEnv\) is not set/);
    // Set to spaces: the same refusal, saying it is blank rather than unset.
    assert.throws(() => databaseSettings({ pg: { url: 'postgres://oktell@127.0.0.1:9/oktell', passwordEnv: 'OKTELL_TEST_PG_PW' } }, { OKTELL_TEST_PG_PW: '  ' }, '/data', '/'), /the environment variable OKTELL_TEST_PG_PW \(passwordEnv\) is blank$/);
    // A mistake of the file itself is refused either way.
    assert.throws(() => databaseSettings({ pg: { url: 'sqlite:x.sqlite', passwordEnv: 'OKTELL_TEST_PG_PW' } }, {}, '/data', '/', { deferPasswords: true }), /a password applies to PostgreSQL connections only/);
    const db = createDatabasePort(s);
    try {
      await assert.rejects(db.query('pg', parseNamedSql('SELECT 1'), {}, { timeoutMs: 1000, maxRows: 1 }), /OKTELL_TEST_PG_PW \(passwordEnv\) is not set/);
    } finally {
      await db.close();
    }
  });
});
