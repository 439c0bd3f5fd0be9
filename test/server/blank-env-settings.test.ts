// A blank environment variable (`OKTELL_STORE=` in an env file, a compose template's empty `${STORE}`) is unset:
// the configuration file's value applies, not an empty one. One case per variable the server or the CLI reads.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { dataDir as cliDataDir, scenariosDir as cliScenariosDir, timeZone as cliTimeZone } from '../../cli/config.js';
import { resolveEmulatorSettings } from '../../cli/commands/bpium-emulator.js';
import { bpiumClientOptionsFromEnv } from '../../adapters/bpium/env.js';
import { DEMO_LOGIN, DEMO_PASSWORD } from '../../bpium-emulator/emulator.js';
import { loadServerConfig, type ServerConfig } from '../../server/config.js';
import { createLogger } from '../../server/serve.js';
import { tempDir } from '../helpers.js';
import { AUTH, startTestServer } from './server-helpers.js';

type Loaded = ReturnType<typeof loadServerConfig>;

interface Case {
  /** The variables left blank. */
  vars: string[];
  /** oktell.config.yaml in the working folder. */
  file: string;
  /** What the configuration must then hold (cwd: the working folder). */
  expect(config: Loaded, cwd: string): void;
}

const CASES: Case[] = [
  {
    vars: ['OKTELL_STORE'],
    file: 'store: postgres://oktell:pw@db.example:5432/oktell?schema=cluster\n',
    expect: (c) => assert.deepEqual(c.store, { kind: 'postgres', url: 'postgres://oktell:pw@db.example:5432/oktell?schema=cluster' } satisfies ServerConfig['store']),
  },
  { vars: ['OKTELL_DATA_DIR'], file: 'dataDir: kept\n', expect: (c, cwd) => assert.equal(c.dataDir, join(cwd, 'kept')) },
  { vars: ['OKTELL_SCENARIOS'], file: 'scenarios: flows\n', expect: (c, cwd) => assert.equal(c.scenariosDir, join(cwd, 'flows')) },
  { vars: ['OKTELL_HOST'], file: 'host: 127.0.0.2\n', expect: (c) => assert.equal(c.host, '127.0.0.2') },
  { vars: ['OKTELL_HOOK_SCENARIO'], file: 'hook:\n  scenario: Other\n', expect: (c) => assert.equal(c.hook.scenario, 'Other') },
  { vars: ['OKTELL_TRUST_PROXY'], file: 'trustProxy: loopback\n', expect: (c) => assert.equal(c.trustProxy, 'loopback') },
  {
    vars: ['OKTELL_TLS_CERT', 'OKTELL_TLS_KEY'],
    file: 'tls:\n  cert: c.pem\n  key: k.pem\n',
    expect: (c, cwd) => assert.deepEqual(c.tls, { cert: join(cwd, 'c.pem'), key: join(cwd, 'k.pem') }),
  },
  { vars: ['OKTELL_USERS'], file: 'users:\n  - { login: ops, password: pw }\n', expect: (c) => assert.deepEqual(c.users, [{ login: 'ops', password: 'pw' }]) },
  // A blank OKTELL_CONFIG is no file name: ./oktell.config.yaml is read (it was taken as the folder itself).
  { vars: ['OKTELL_CONFIG'], file: 'port: 4999\n', expect: (c) => assert.equal(c.port, 4999) },
  // Number('  ') is 0: a blank port of spaces made the server listen on a random port (and started the emulator).
  { vars: ['OKTELL_PORT'], file: 'port: 4998\n', expect: (c) => assert.equal(c.port, 4998) },
  {
    vars: ['BPIUM_EMULATOR_PORT'],
    file: 'bpiumEmulatorPort: 4997\n',
    expect: (c) => assert.deepEqual([c.bpiumEmulatorPort, c.bpiumEmulatorAsked], [4997, true]),
  },
  { vars: ['BPIUM_EMULATOR_PORT'], file: 'port: 4055\n', expect: (c) => assert.deepEqual([c.bpiumEmulatorPort, c.bpiumEmulatorAsked], [4056, undefined]) },
  { vars: ['OKTELL_LEASE_MS'], file: 'workers:\n  leaseMs: 9000\n', expect: (c) => assert.equal(c.workers.leaseMs, 9000) },
  { vars: ['OKTELL_TZ'], file: 'timeZone: Asia/Yekaterinburg\n', expect: (c) => assert.equal(c.timeZone, 'Asia/Yekaterinburg') },
  // A blank secret was the secret of every path: each webhook then needed a signature made with spaces.
  { vars: ['BPIUM_WEBHOOK_SECRET', 'BPIUM_WEBHOOK_SECRET_FILE'], file: 'webhookSecrets:\n  /a: one\n', expect: (c) => assert.deepEqual(c.webhookSecrets, { '/a': 'one' }) },
];

describe('a blank environment variable counts as unset', () => {
  for (const blank of ['', '  ']) {
    for (const c of CASES) {
      it(`${c.vars.join(' and ')}=${JSON.stringify(blank)}: the file's value applies`, () => {
        const tmp = tempDir();
        try {
          writeFileSync(join(tmp.dir, 'oktell.config.yaml'), c.file);
          const env = Object.fromEntries(c.vars.map((v) => [v, blank]));
          c.expect(loadServerConfig({}, env, tmp.dir), tmp.dir);
        } finally {
          tmp.cleanup();
        }
      });
    }

    it(`the CLI's folders and the emulator's data folder with OKTELL_DATA_DIR / OKTELL_SCENARIOS=${JSON.stringify(blank)}: the defaults`, () => {
      const env = { OKTELL_DATA_DIR: blank, OKTELL_SCENARIOS: blank };
      assert.equal(cliDataDir(undefined, env), join(process.cwd(), 'var'));
      assert.equal(cliScenariosDir(undefined, env), join(process.cwd(), 'scenarios'));
      assert.equal(resolveEmulatorSettings({}, env).dataDir, join(process.cwd(), 'var'));
    });

    it(`the CLI's zone and the standalone emulator with OKTELL_TZ / BPIUM_EMULATOR_WEBHOOK_URL=${JSON.stringify(blank)}: the defaults`, () => {
      assert.equal(cliTimeZone({ OKTELL_TZ: blank }), 'Europe/Moscow');
      assert.equal(resolveEmulatorSettings({}, { BPIUM_EMULATOR_WEBHOOK_URL: blank, BPIUM_WEBHOOK_SECRET: blank }).webhookTarget, undefined);
    });

    it(`OKTELL_LOG_LEVEL=${JSON.stringify(blank)}: the default level`, () => {
      assert.equal((createLogger({ OKTELL_LOG_LEVEL: blank, OKTELL_LOG_FORMAT: 'json' }, 'UTC') as unknown as { level: string }).level, 'info');
    });
  }
});

/** A Bpium read through the embedded emulator: "ok" when the client's login is the emulator's. */
const STRUCTURE = `variables: { answer: string, code: string }
start: s
blocks:
  s: { kind: Bpium, method: getCatalogStructure, catalog: '"3"', answer: answer, errorCode: code, exits: { success: ok, error: bad } }
  ok: { kind: ReturnValue, values: { 1: '"ok"' } }
  bad: { kind: ReturnValue, values: { 1: '"error " + [code]' } }
`;

// The embedded emulator's account and the client that signs in to it read BPIUM_LOGIN and BPIUM_PASSWORD alike: a
// blank one is the demo account, and a login with spaces around it is the login. Before, a login of spaces stopped
// serve with "BPIUM_URL is set, so BPIUM_LOGIN and BPIUM_PASSWORD must be set too" (BPIUM_URL was not set), and
// " ops@example.com " became the emulator's login while the client sent it trimmed: every Bpium block got 401.
describe('BPIUM_LOGIN and BPIUM_PASSWORD for the embedded emulator, blank or with spaces around', { timeout: 60_000 }, () => {
  for (const [login, password, account] of [
    ['  ', '  ', `${DEMO_LOGIN} / ${DEMO_PASSWORD}`],
    [' ops@example.com ', 'pw', 'ops@example.com / pw'],
  ] as const) {
    it(`BPIUM_LOGIN=${JSON.stringify(login)} BPIUM_PASSWORD=${JSON.stringify(password)}: serve starts, with the account ${account}, and Bpium blocks sign in`, async () => {
      const t = await startTestServer({ smtp: false, env: { SMTP_URL: '', BPIUM_LOGIN: login, BPIUM_PASSWORD: password }, extraScenarios: { 'Structure.yaml': STRUCTURE } });
      try {
        assert.equal(`${t.server.emulator?.login} / ${t.server.emulator?.password}`, account);
        const res = await fetch(`${t.server.url}/execsvcscriptplain?name=Structure`, { headers: { authorization: AUTH } });
        assert.equal(res.headers.get('x-oktell-start-result'), '0');
        assert.equal(await res.text(), 'ok');
      } finally {
        await t.cleanup();
      }
    });
  }

  it('the standalone emulator and a real Bpium client take a password of spaces as none', () => {
    assert.equal(resolveEmulatorSettings({}, { BPIUM_PASSWORD: '  ' }).password, DEMO_PASSWORD);
    assert.throws(() => bpiumClientOptionsFromEnv({ BPIUM_URL: 'https://company.bpium.ru', BPIUM_LOGIN: 'a@b.ru', BPIUM_PASSWORD: '  ' }), /BPIUM_LOGIN and BPIUM_PASSWORD must be set too/);
  });
});
