// A blank environment variable (`OKTELL_STORE=` in an env file, a compose template's empty `${STORE}`) is unset:
// the configuration file's value applies, not an empty one. One case per variable the server or the CLI reads.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { describe, it } from 'node:test';
import { dataDir as cliDataDir, scenariosDir as cliScenariosDir, timeZone as cliTimeZone } from '../../cli/config.js';
import { resolveEmulatorSettings } from '../../cli/commands/bpium-emulator.js';
import { bpiumClientOptionsFromEnv } from '../../adapters/bpium/env.js';
import { DEMO_LOGIN, DEMO_PASSWORD } from '../../bpium-emulator/emulator.js';
import { loadServerConfig, type ServerConfig } from '../../server/config.js';
import { createLogger } from '../../server/serve.js';
import { emulatorAccount } from '../../bpium-emulator/emulator.js';
import { demoTarget } from '../../cli/commands/demo.js';
import { checkMailSettings, createMailerFromEnv } from '../../adapters/mail/index.js';
import { plainAuthWarning } from '../../adapters/mail/plain-auth-warning.js';
import { buildPorts } from '../../adapters/ports.js';
import { webClientOptionsFromEnv, webRequestAttempts } from '../../adapters/web/client.js';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioText, randomIds, type TemplatePort } from '../../engine/index.js';
import type { Env } from '../../engine/env.js';
import { unknownEnvWarnings } from '../../server/env-names.js';
import { logFormat } from '../../server/log-format.js';
import { bpiumSource } from '../../server/start-checks.js';
import { repoPath, tempDir } from '../helpers.js';
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

  it('OKTELL_HOST with spaces around is the address inside them (it was a host name that did not resolve)', () => {
    const tmp = tempDir();
    try {
      assert.equal(loadServerConfig({}, { OKTELL_HOST: ' 127.0.0.1\t' }, tmp.dir).host, '127.0.0.1');
    } finally {
      tmp.cleanup();
    }
  });

  it('the standalone emulator and a real Bpium client take a password of spaces as none', () => {
    assert.equal(resolveEmulatorSettings({}, { BPIUM_PASSWORD: '  ' }).password, DEMO_PASSWORD);
    assert.throws(() => bpiumClientOptionsFromEnv({ BPIUM_URL: 'https://company.bpium.ru', BPIUM_LOGIN: 'a@b.ru', BPIUM_PASSWORD: '  ' }), /BPIUM_LOGIN and BPIUM_PASSWORD must be set too/);
  });
});

/**
 * One reader of the environment: what it makes of `env` (the working folder `cwd` holds `file` as
 * oktell.config.yaml, when given), compared between the variables set blank and not set at all. `value` is a value
 * that is not blank, which must change what the reader makes (the row does look at the variable).
 */
interface Reader {
  vars: string[];
  value: string;
  file?: string;
  /** Variables set in every environment of the row, blank or not (BPIUM_URL for the Bpium client's knobs). */
  base?: Env;
  read(env: Env, cwd: string): unknown;
}

const config = (env: Env, cwd: string) => loadServerConfig({}, env, cwd);
/** What `read` makes, or the message it throws, with a refusal's "is blank" read as "is not set". */
function blankSaidAsUnset(read: () => unknown): unknown {
  let out: unknown;
  try {
    out = read();
  } catch (e) {
    out = { threw: (e as Error).message };
  }
  return JSON.parse(JSON.stringify(out ?? null).replaceAll('is blank', 'is not set')) as unknown;
}
const BPIUM = { BPIUM_URL: 'https://company.bpium.ru', BPIUM_LOGIN: 'a@b.ru', BPIUM_PASSWORD: 'pw' };
const NO_TEMPLATES = { render: () => ({}) } as unknown as TemplatePort;
const VARS = "variables:\n  tok: { type: string, env: OKTELL_CHAT_TOKEN, initial: fallback }\nstart: r\nblocks:\n  r: { kind: ReturnValue, values: { 1: '[tok]' } }\n";

/** The reader a row calls, for its title: the first function its `read` calls. */
function readerName(r: Reader): string {
  const name = /(\w+)\(/.exec(r.read.toString().split('=>').slice(1).join('=>'))?.[1] ?? 'read';
  return name === 'config' ? 'loadServerConfig' : name;
}

const READERS: Reader[] = [
  // The server's configuration: a blank variable leaves the file's setting (or the default) in place.
  { vars: ['OKTELL_HOOK_HEAD'], value: 'refuse', file: 'hook:\n  head: run\n', read: (e, cwd) => config(e, cwd).hook.head },
  { vars: ['OKTELL_BODY_LIMIT'], value: '2mb', file: 'bodyLimit: 1mb\n', read: (e, cwd) => config(e, cwd).bodyLimitBytes },
  { vars: ['OKTELL_BODY_BUDGET'], value: '128mb', file: 'bodyBudget: 64mb\n', read: (e, cwd) => config(e, cwd).bodyBudgetBytes },
  { vars: ['OKTELL_BODY_BUDGET_PER_LOGIN'], value: '20mb', file: 'bodyBudgetPerLogin: 10mb\n', read: (e, cwd) => config(e, cwd).bodyBudgetPerLoginBytes },
  { vars: ['OKTELL_RUN_RECORD_BUDGET'], value: '128kb', file: 'runRecordBudget: 32kb\n', read: (e, cwd) => config(e, cwd).runRecordBytes },
  { vars: ['OKTELL_TRACE'], value: 'all', file: 'trace: failed\n', read: (e, cwd) => config(e, cwd).traceKept },
  { vars: ['OKTELL_WORKERS'], value: '8', file: 'workers:\n  concurrency: 4\n', read: (e, cwd) => config(e, cwd).workers.concurrency },
  { vars: ['OKTELL_MAX_ATTEMPTS'], value: '5', file: 'workers:\n  maxAttempts: 3\n', read: (e, cwd) => config(e, cwd).workers.maxAttempts },
  { vars: ['OKTELL_RETRY_BASE_DELAY_MS'], value: '3000', file: 'workers:\n  baseDelayMs: 2000\n', read: (e, cwd) => config(e, cwd).workers.baseDelayMs },
  { vars: ['OKTELL_RETRY_MAX_DELAY_MS'], value: '500000', file: 'workers:\n  maxDelayMs: 600000\n', read: (e, cwd) => config(e, cwd).workers.maxDelayMs },
  { vars: ['OKTELL_BURST_IN_FLIGHT'], value: '4', read: (e, cwd) => config(e, cwd).workers.burstInFlight },
  { vars: ['OKTELL_DELIVERY_THREAD'], value: 'off', file: 'workers:\n  thread: true\n', read: (e, cwd) => config(e, cwd).workers.thread },
  { vars: ['OKTELL_STORE_MAX_PAGES'], value: '100', read: (e, cwd) => config(e, cwd).storeMaxPages },
  { vars: ['OKTELL_REQUEST_TIMEOUT_MS'], value: '5000', read: (e, cwd) => config(e, cwd).requestTimeoutMs },
  { vars: ['OKTELL_KEEP_ALIVE_TIMEOUT_MS'], value: '10000', read: (e, cwd) => config(e, cwd).keepAliveTimeoutMs },
  { vars: ['OKTELL_RETENTION_DAYS'], value: '3', file: 'retentionDays: 7\n', read: (e, cwd) => config(e, cwd).retentionMs },
  { vars: ['OKTELL_DEAD_LETTER_RETENTION_DAYS'], value: '2', file: 'deadLetterRetentionDays: 9\n', read: (e, cwd) => config(e, cwd).deadLetterRetentionMs },
  { vars: ['OKTELL_STORE_CHECK_MS'], value: '0', read: (e, cwd) => config(e, cwd).storeCheckMs },
  { vars: ['OKTELL_CLOCK_CHECK_MS'], value: '0', read: (e, cwd) => config(e, cwd).clockCheckMs },
  { vars: ['OKTELL_LOG_REPEATS_MS'], value: '0', read: (e, cwd) => config(e, cwd).logRepeatsMs },
  { vars: ['OKTELL_MAX_EFFECTS'], value: '10', file: 'maxEffectsPerRun: 50\n', read: (e, cwd) => config(e, cwd).maxEffectsPerRun },
  { vars: ['OKTELL_REGEX_BUDGET_MS'], value: '100', file: 'regexBudgetMs: 300\n', read: (e, cwd) => config(e, cwd).regexBudgetMs },
  { vars: ['OKTELL_SUBSTR_BASE'], value: '0', file: 'substrBase: 1\n', read: (e, cwd) => config(e, cwd).substrBase },
  { vars: ['OKTELL_SYNC_RUNS'], value: '20', file: 'maxSyncRuns: 10\n', read: (e, cwd) => config(e, cwd).maxSyncRuns },
  { vars: ['OKTELL_SYNC_TIMEOUT'], value: 'continue', file: 'syncTimeout: stop\n', read: (e, cwd) => config(e, cwd).syncTimeout },
  { vars: ['OKTELL_WEBAPI_FALLBACK_CHARSET'], value: 'koi8-r', file: 'webApiFallbackCharset: windows-1251\n', read: (e, cwd) => config(e, cwd).webApiFallbackCharset },
  { vars: ['OKTELL_LOGIN_FAILURE_LIMIT'], value: '0', file: 'loginFailureLimit: 5\n', read: (e, cwd) => config(e, cwd).loginFailureLimit },
  { vars: ['BPIUM_WEBHOOK_MAX_AGE_MINUTES'], value: '0', file: 'webhookMaxAgeMinutes: 10\n', read: (e, cwd) => config(e, cwd).webhookMaxAgeMs },
  { vars: ['OKTELL_HEAP'], value: 'compact', file: 'heap: v8\n', read: (e, cwd) => config(e, cwd).heap },
  { vars: ['WEB_REQUEST_ALLOW_HOSTS'], value: 'b.example', file: 'webRequest:\n  allowHosts: [a.example]\n', read: (e, cwd) => config(e, cwd).webRequest },
  { vars: ['WEB_REQUEST_MAX_RESPONSE_BYTES'], value: '1mb', file: 'webRequest:\n  maxResponseBytes: 2mb\n', read: (e, cwd) => config(e, cwd).webRequest },
  // Had no blank check: a blank OKTELL_DB_CRM was a URL of spaces ("must be sqlite:PATH or a postgres://… URL"), and
  // the start refused the file's connection.
  { vars: ['OKTELL_DB_CRM'], value: 'sqlite:./other.sqlite', file: 'databases:\n  crm: sqlite:./crm.sqlite\n', read: (e, cwd) => config(e, cwd).databases.crm },
  // Had no blank check: a passwordEnv variable of spaces was sent as the password, instead of being refused. The
  // refusal says "is blank" where unset says "is not set" (test/cli/database-password-unset); the rest is the same.
  {
    vars: ['CRM_PW'],
    value: 'secret',
    file: 'databases:\n  crm:\n    url: postgres://u@db.example/crm\n    passwordEnv: CRM_PW\n',
    read: (e, cwd) => blankSaidAsUnset(() => loadServerConfig({ deferDatabasePasswords: true }, e, cwd).databases.crm),
  },
  { vars: ['STORE_PW'], value: 'secret', file: 'store:\n  url: postgres://u@db.example/oktell\n  passwordEnv: STORE_PW\n', read: (e, cwd) => blankSaidAsUnset(() => config(e, cwd).store) },
  // The CLI's own readers.
  { vars: ['OKTELL_TZ'], value: 'UTC', read: (e) => cliTimeZone(e) },
  { vars: ['OKTELL_DATA_DIR'], value: 'elsewhere', read: (e) => cliDataDir(undefined, e) },
  { vars: ['BPIUM_EMULATOR_PORT'], value: '4100', read: (e) => resolveEmulatorSettings({}, e).port },
  { vars: ['BPIUM_EMULATOR_WEBHOOK_URL'], value: 'http://127.0.0.1:1/hook', base: { BPIUM_WEBHOOK_SECRET: 's' }, read: (e) => resolveEmulatorSettings({}, e).webhookTarget },
  { vars: ['BPIUM_LOGIN'], value: 'ops@example.com', read: (e) => emulatorAccount(e) },
  { vars: ['BPIUM_PASSWORD'], value: 'pw', read: (e) => emulatorAccount(e) },
  { vars: ['BPIUM_URL'], value: 'http://127.0.0.1:1', read: (e, cwd) => demoTarget({ dataDir: cwd }, e).source },
  { vars: ['BPIUM_EMULATOR_PORT'], value: '4100', read: (e, cwd) => demoTarget({ dataDir: cwd }, e).source },
  // The server's start and log.
  { vars: ['BPIUM_URL'], value: 'https://company.bpium.ru', read: (e) => bpiumSource(e, true) },
  { vars: ['OKTELL_LOG_FORMAT'], value: 'pretty', read: (e) => logFormat(e, false) },
  // Had no blank check: a blank variable with a product's prefix was warned about as a misspelt setting.
  { vars: ['OKTELL_PROT'], value: '4055', read: (e) => unknownEnvWarnings(e) },
  // The Bpium client.
  { vars: ['BPIUM_URL'], value: 'https://company.bpium.ru', base: { BPIUM_LOGIN: 'a@b.ru', BPIUM_PASSWORD: 'pw' }, read: (e) => bpiumClientOptionsFromEnv(e) },
  ...['BPIUM_TIMEOUT_MS', 'BPIUM_MAX_RESPONSE_BYTES', 'BPIUM_RETRY_ATTEMPTS', 'BPIUM_USERS_CACHE_TTL_MS'].map((v): Reader => ({ vars: [v], value: '5000', base: BPIUM, read: (e) => bpiumClientOptionsFromEnv(e) })),
  { vars: ['BPIUM_RATE_LIMIT'], value: 'off', base: BPIUM, read: (e) => bpiumClientOptionsFromEnv(e) },
  // Mail: a wrong value of a knob is refused even with SMTP_URL unset, so the value `x` shows it is read.
  ...['SMTP_MAX_CONNECTIONS', 'SMTP_UNKNOWN_OUTCOME', 'SMTP_PENDING_MARK_MS'].map((v): Reader => ({ vars: [v], value: 'x', read: (e) => checkMailSettings(e) })),
  { vars: ['SMTP_URL'], value: 'smtp://robot:pw@mail.example:25', read: (e) => plainAuthWarning(e) },
  {
    vars: ['MAIL_FROM'],
    value: 'robot@example.com',
    read: async (e, cwd) => {
      const m = createMailerFromEnv(e, { dataDir: cwd });
      await m.mailer.close();
      return m.describe;
    },
  },
  // Had no blank check: the sender the SendMail blocks are given (ports.mailFrom) was the spaces themselves.
  {
    vars: ['MAIL_FROM'],
    value: 'robot@example.com',
    read: async (e, cwd) => {
      const built = buildPorts({ env: e, dataDir: cwd, templates: NO_TEMPLATES, ids: randomIds, noMail: true, bpium: { kind: 'none' } });
      await built.close();
      return built.ports.mailFrom;
    },
  },
  // WebRequest blocks' client.
  { vars: ['WEB_REQUEST_ATTEMPTS'], value: '2', read: (e) => [webClientOptionsFromEnv(e), webRequestAttempts(e)] },
  { vars: ['WEB_REQUEST_ALLOW_HOSTS', 'WEB_REQUEST_MAX_RESPONSE_BYTES'], value: '2', read: (e) => webClientOptionsFromEnv(e) },
  // Had no blank check: a scenario variable's `env:` of spaces was its value, instead of its `initial:`.
  {
    vars: ['OKTELL_CHAT_TOKEN'],
    value: 'token-1',
    read: (e) => {
      const r = loadScenarioText('scenarios/Vars.yaml', VARS, { registry: defaultRegistry, env: e });
      return r.ok ? r.scenario.variables.get('tok')?.initial : r.issues;
    },
  },
];

/** What a reader made: its value, or the message it refused with. */
async function outcome(r: Reader, env: Env, cwd: string): Promise<unknown> {
  try {
    return { value: await r.read(env, cwd) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

describe('every reader of the environment takes a blank variable as not set', () => {
  for (const r of READERS) {
    for (const blank of ['', '   ', ' \t ']) {
      it(`${readerName(r)} with ${r.vars.join(' and ')}=${JSON.stringify(blank)}: as if unset`, async () => {
        const tmp = tempDir();
        try {
          if (r.file) writeFileSync(join(tmp.dir, 'oktell.config.yaml'), r.file);
          const unset = await outcome(r, { ...r.base }, tmp.dir);
          assert.deepEqual(await outcome(r, { ...r.base, ...Object.fromEntries(r.vars.map((v) => [v, blank])) }, tmp.dir), unset);
          // The row does look at the variable: a value that is not blank changes what the reader makes.
          assert.notDeepEqual(await outcome(r, { ...r.base, ...Object.fromEntries(r.vars.map((v) => [v, r.value])) }, tmp.dir), unset);
        } finally {
          tmp.cleanup();
        }
      });
    }
  }
});

/** Source files that may read an environment without envSetting: the rule itself, and the child's PATH/TMPDIR copy. */
const RAW_READS_ALLOWED = new Set(['engine/env.ts', 'adapters/db/sqlite.ts']);

/** A line that reads a variable by hand: `env.NAME`, `env?.NAME`, `env[name]`, `env?.[name]` (of `process.env` too). */
const RAW_READ = /\benv(\?)?\.[A-Z][A-Z0-9_]*\b|\benv(\?\.)?\[/;

it('the guard below sees every form of a read by hand, optional chaining too', () => {
  for (const line of ['const v = env.OKTELL_PORT;', 'const v = env?.OKTELL_PORT;', 'const v = env[name];', 'const v = env?.[name];', "const v = process.env['OKTELL_PORT'];", 'const v = s.env?.[from.env];']) {
    assert.ok(RAW_READ.test(line), line);
  }
  for (const line of ['const v = envSetting(env, name);', 'const environment = opts.env;', 'const e = childEnv[name];']) assert.ok(!RAW_READ.test(line), line);
});

// The rule holds for readers written later too: the product's code reads a variable only through envSetting
// (engine/env.ts), never as `env.NAME` or `env[name]`, which would take a blank value for a set one.
it('no source file reads an environment variable but through envSetting', () => {
  const raw: string[] = [];
  for (const top of ['adapters', 'bpium-emulator', 'cli', 'components', 'engine', 'server']) {
    for (const file of readdirSync(repoPath(top), { recursive: true, encoding: 'utf8' })) {
      const path = `${top}/${file.split(sep).join('/')}`;
      if (!path.endsWith('.ts') || RAW_READS_ALLOWED.has(path)) continue;
      readFileSync(repoPath(path), 'utf8').split('\n').forEach((line, i) => {
        if (/^\s*(\*|\/\/)/.test(line)) return;
        if (RAW_READ.test(line)) raw.push(`${path}:${i + 1}: ${line.trim()}`);
      });
    }
  }
  assert.deepEqual(raw, []);
});
