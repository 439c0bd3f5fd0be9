// What a red-team pass found (issue 18), each kept fixed: dedup keys that belong to one route and only verified
// deliveries, the signature required wherever the address names a signed route, browsers' cross-site requests refused,
// well-formed XML, strict start parameters, sequence ids as digits, a freshness window, and quieter, tighter defaults.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { signBpiumBody } from '../../adapters/bpium/signature.js';
import { budgetFor } from '../../server/body-budget.js';
import { ConfigError, hookSecret, loadServerConfig } from '../../server/config.js';
import { bpiumDeliveryKey, bpiumTimestamp, onRoute } from '../../server/hook-request.js';
import { peekJson } from '../../server/json-peek.js';
import { execSvcScriptXml, xmlSafe } from '../../server/oktell-xml.js';
import { httpTimeouts, listeningOn, startServer } from '../../server/serve.js';
import { startParams } from '../../server/start-params.js';
import { startServeProcess } from '../cli/cli-process.js';
import { runCli } from '../cli/cli.helper.js';
import { repoPath, tempDir } from '../helpers.js';
import { AUTH, capturingLogger, echoScenario, postWebhook, startTestServer, taskWebhook, waitFor, type TestServer } from './server-helpers.js';

/** A task webhook whose `hook.sequenceId` is written exactly as `digits` (no float rounding on the way). */
function webhookWithSequence(digits: string, name: string): string {
  return taskWebhook({ name, responsible: ['2'], sequenceId: 424242 }).replace('"sequenceId":424242', `"sequenceId":${digits}`);
}

/** Every character of `text` is one XML 1.0 allows. */
const XML_CHARS = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;

describe('hardening (issue 18), pure parts', () => {
  it('a delivery key names its route and compares sequence ids as digits', () => {
    const key = (seq: string, route = '/Bpium/NewTask') => bpiumDeliveryKey(Buffer.from(`{"hook":{"id":"7","sequenceId":${seq}}}`), route);
    assert.equal(key('6000'), 'bpium:7:6000@/Bpium/NewTask');
    assert.notEqual(key('6000'), key('6000', '/nothing'), 'another route, another key');
    assert.notEqual(key('9007199254740993'), key('9007199254740992'), 'no float collision past 2^53');
    assert.equal(key('123456789012345678901234567890'), 'bpium:7:123456789012345678901234567890@/Bpium/NewTask', 'a larger id still gets a key');
    assert.equal(key('"0042"'), key('42'), 'a string id and a number id with the same digits are one delivery');
    for (const bad of ['1.5', '-3', '1e300', '"x"', 'null', '[1]']) assert.equal(key(bad), null, `${bad}: no key`);
    assert.match(bpiumDeliveryKey(Buffer.from('{"hook":{"id":"7","sequenceId":1}}'), `/${'a'.repeat(5000)}`)!, /^bpium:7:1@sha256:[0-9a-f]{64}$/, 'a long route is hashed');
    // The same delivery on another route, as a key of that route would be.
    const star = bpiumDeliveryKey(Buffer.from('{"hook":{"id":"7","sequenceId":1}}'), '*')!;
    for (const route of ['/Bpium/NewTask', `/${'a'.repeat(5000)}`]) assert.equal(onRoute(star, route), bpiumDeliveryKey(Buffer.from('{"hook":{"id":"7","sequenceId":1}}'), route));
    const big = Buffer.from(`{"payload":"${'x'.repeat(2_000_000)}","hook":{"id":"7","sequenceId":5}}`);
    assert.equal(bpiumDeliveryKey(big, '/r'), 'bpium:7:5@/r', 'a body over 1 MB gets its key');
    const deep = Buffer.from(`{"payload":${'['.repeat(200_000)}${']'.repeat(200_000)},"hook":{"id":"7","sequenceId":6}}`);
    assert.equal(bpiumDeliveryKey(deep, '/r'), 'bpium:7:6@/r', 'deep nesting is read without recursion');
  });

  it('reads a JSON member as sent: the last of repeated keys wins, malformed text gives nothing', () => {
    assert.equal(peekJson('{"a":1,"a":2}', ['a']), '2');
    assert.equal(peekJson(' { "h" : { "s" : "x\\"y" } } ', ['h', 's']), '"x\\"y"');
    assert.equal(peekJson('{"\\u0068":3}', ['h']), '3');
    assert.equal(peekJson('{"hook": {"id": ', ['hook', 'id']), undefined);
    assert.equal(peekJson('[{"a":1}]', ['a']), undefined);
    assert.equal(bpiumTimestamp(Buffer.from('{"timestamp":"1700000000"}')), 1_700_000_000);
    assert.equal(bpiumTimestamp(Buffer.from('{"timestamp":"soon"}')), undefined);
  });

  it('the secret is chosen by the whole address the scenario sees: path and query, as sent and decoded', () => {
    const secrets = { '/Bpium/NewTask': 's1' };
    for (const address of ['/Bpium/NewTask', '/x/bpium/newtask/', '/x?/Bpium/NewTask', '/anything?next=/Bpium/NewTask', '/anything?next=%2FBpium%2FNewTask']) {
      const path = address.split('?')[0]!;
      assert.deepEqual(hookSecret(secrets, path, address), { secret: 's1', route: '/Bpium/NewTask' }, address);
    }
    // Every address a scenario's Upper, Lower or UrlDecode (once or twice) turns into the route is the route.
    for (const address of ['/Bpıum/NewTask', '/Bpium/NewTaſk', '/BPIUM/NEWTAſK', '/Bp%C4%B1um/NewTask', '/Bpium/NewTas\u212a', '/x?next=%252FBpium%252FNewTa%25C5%25BFk']) {
      assert.deepEqual(hookSecret(secrets, new URL(address, 'http://h').pathname, address), { secret: 's1', route: '/Bpium/NewTask' }, address);
    }
    assert.equal(hookSecret(secrets, '/nothing', '/nothing?x=1'), undefined);
    assert.equal(hookSecret(secrets, '/bad', '/bad?%E0%A4%A'), undefined, 'a malformed escape does not throw');
    // One dedup scope for every path under '*': a signed delivery resent to another spelling of its path is the same one (S10).
    assert.deepEqual(hookSecret({ '*': 'g' }, '/a', '/a?b'), { secret: 'g', route: '*' }, "'*' is one route for every path");
  });

  it('start parameters: a bare startparam is 1; 0, 100, other names and repeats are refused with a reason', () => {
    assert.deepEqual(startParams([{ startparam: 'a', startparam2: 'b', name: 'x' }]), { ok: true, params: { 1: 'a', 2: 'b' } });
    const refused = (sources: Array<Record<string, unknown>>) => {
      const r = startParams(sources);
      assert.equal(r.ok, false, JSON.stringify(sources));
      return r.ok ? '' : r.reason;
    };
    assert.match(refused([{ startparam0: 'a' }]), /"startparam0": parameters are numbered 1 to 99/);
    assert.match(refused([{ startparam100: 'a' }]), /"startparam100"/);
    assert.match(refused([{ startparamX: 'a' }]), /"startparamX"/);
    assert.match(refused([{ startparam1: ['a', 'b'] }]), /given more than once/);
    assert.match(refused([{ startparam: 'a', startparam1: 'b' }]), /parameter 1 is given more than once/);
    assert.match(refused([{ startparam2: 'a' }, { startparam2: 'b' }]), /parameter 2 is given more than once/, 'query and form');
  });

  it('XML answers keep only what XML 1.0 allows', () => {
    const xml = execSvcScriptXml({ started: true, startResult: 0, returnValue: 'a\u0000b\u0001\u001b\uFFFE\uFFFF\uD800c\t\n\r😀' });
    assert.match(xml, XML_CHARS);
    assert.ok(xml.includes('a\uFFFDb\uFFFD\uFFFD\uFFFD\uFFFD\uFFFDc\t\n\r😀'));
    assert.equal(xmlSafe('обычный текст'), 'обычный текст');
  });

  it('a header that stalls is cut off within a second of the documented 20 s', () => {
    const d = httpTimeouts(60_000);
    assert.equal(d.headersTimeout, 20_000);
    assert.ok(d.headersTimeout + d.connectionsCheckingInterval <= 21_000, `checked every ${d.connectionsCheckingInterval} ms`);
    const short = httpTimeouts(1500);
    assert.ok(short.headersTimeout + short.connectionsCheckingInterval <= 1500 * 1.25);
  });

  it('the freshness window is configured in minutes, off by default', () => {
    const tmp = tempDir();
    try {
      assert.equal(loadServerConfig({}, {}, tmp.dir).webhookMaxAgeMs, undefined);
      assert.equal(loadServerConfig({}, { BPIUM_WEBHOOK_MAX_AGE_MINUTES: '5' }, tmp.dir).webhookMaxAgeMs, 300_000);
      assert.equal(loadServerConfig({}, { BPIUM_WEBHOOK_MAX_AGE_MINUTES: '0' }, tmp.dir).webhookMaxAgeMs, undefined);
      assert.throws(() => loadServerConfig({}, { BPIUM_WEBHOOK_MAX_AGE_MINUTES: 'soon' }, tmp.dir), /BPIUM_WEBHOOK_MAX_AGE_MINUTES="soon" must be a number of minutes/);
    } finally {
      tmp.cleanup();
    }
  });

  // Zero workers would acknowledge webhooks and never deliver them; the variables get the file keys' bounds.
  const counts: Array<[string, string, number | RegExp]> = [
    ['OKTELL_WORKERS', '', 32],
    ['OKTELL_WORKERS', '8', 8],
    ['OKTELL_WORKERS', '256', 256],
    ['OKTELL_WORKERS', '0', /OKTELL_WORKERS="0" must be a whole number, from 1 to 256/],
    ['OKTELL_WORKERS', '257', /from 1 to 256/],
    ['OKTELL_WORKERS', 'many', /OKTELL_WORKERS="many"/],
    ['OKTELL_MAX_ATTEMPTS', '3', 3],
    ['OKTELL_MAX_ATTEMPTS', '0', /OKTELL_MAX_ATTEMPTS="0" must be a whole number, from 1 to 100/],
    ['OKTELL_MAX_ATTEMPTS', '2.5', /from 1 to 100/],
  ];
  for (const [name, value, want] of counts) {
    it(`${name}=${JSON.stringify(value)} → ${want instanceof RegExp ? 'refused' : want}`, () => {
      const tmp = tempDir();
      try {
        const read = () => {
          const w = loadServerConfig({}, { [name]: value }, tmp.dir).workers;
          return name === 'OKTELL_WORKERS' ? w.concurrency : w.maxAttempts;
        };
        if (want instanceof RegExp) assert.throws(read, want);
        else assert.equal(read(), want);
      } finally {
        tmp.cleanup();
      }
    });
  }

  // A setting that would start the server and fail every run (or every request) later is refused at start, by name.
  const settings: Array<{ env?: Record<string, string>; file?: string; want: RegExp | ((c: ReturnType<typeof loadServerConfig>) => void) }> = [
    { env: { OKTELL_TZ: 'Mars/Base' }, want: /OKTELL_TZ="Mars\/Base" is not a time zone: use an IANA name such as Europe\/Moscow/ },
    { file: 'timeZone: Mars/Base\n', want: /oktell\.config\.yaml:1:11: timeZone="Mars\/Base" is not a time zone/ },
    // A typo of a real zone is named with the zone meant.
    { file: 'timeZone: Europe/Moskow\n', want: /oktell\.config\.yaml:1:11: timeZone="Europe\/Moskow" is not a time zone: did you mean Europe\/Moscow\?/ },
    { env: { OKTELL_TZ: 'Asia/Ekaterinburg' }, want: /OKTELL_TZ="Asia\/Ekaterinburg" is not a time zone: did you mean Asia\/Yekaterinburg\?/ },
    { env: { OKTELL_TZ: 'Asia/Yekaterinburg' }, file: 'timeZone: Mars/Base\n', want: (c) => assert.equal(c.timeZone, 'Asia/Yekaterinburg') },
    { env: { OKTELL_TZ: 'UTC' }, want: (c) => assert.equal(c.timeZone, 'UTC') },
    { env: { OKTELL_BODY_LIMIT: 'lots' }, want: /ConfigError: OKTELL_BODY_LIMIT: "lots" is not a size \(e\.g\. 5mb, 512kb\)/ },
    { file: 'bodyLimit: lots\n', want: /oktell\.config\.yaml:1:12: bodyLimit: "lots" is not a size/ },
    { env: { OKTELL_BODY_LIMIT: '512kb' }, file: 'bodyLimit: lots\n', want: (c) => assert.equal(c.bodyLimitBytes, 512 * 1024) },
    // One login's share of the body budget: a size, at least the body limit, at most the budget; by name, at its place.
    { env: { OKTELL_BODY_BUDGET_PER_LOGIN: 'lots' }, want: /ConfigError: OKTELL_BODY_BUDGET_PER_LOGIN: "lots" is not a size \(e\.g\. 5mb, 512kb\)/ },
    { file: 'bodyBudgetPerLogin: lots\n', want: /ConfigError: oktell\.config\.yaml:1:21: bodyBudgetPerLogin: "lots" is not a size/ },
    {
      env: { OKTELL_BODY_LIMIT: '5mb', OKTELL_BODY_BUDGET_PER_LOGIN: '1mb' },
      want: /ConfigError: OKTELL_BODY_BUDGET_PER_LOGIN \(1048576 bytes\) is below the body limit \(5242880 bytes\): one request of the largest size allowed would always be refused; set it to at least 5242880 bytes, or lower the body limit \(OKTELL_BODY_LIMIT \/ bodyLimit\)/,
    },
    { file: 'bodyLimit: 2mb\nbodyBudgetPerLogin: 1mb\n', want: /ConfigError: oktell\.config\.yaml:2:21: bodyBudgetPerLogin \(1048576 bytes\) is below the body limit \(2097152 bytes\)/ },
    {
      env: { OKTELL_BODY_BUDGET: '10mb', OKTELL_BODY_BUDGET_PER_LOGIN: '20mb' },
      want: /ConfigError: OKTELL_BODY_BUDGET_PER_LOGIN \(20971520 bytes\) is above the body budget \(10485760 bytes\) it is a share of: set it to at most 10485760 bytes \(the whole budget: no share\), or raise the budget/,
    },
    { env: { OKTELL_BODY_BUDGET_PER_LOGIN: '100mb' }, want: /OKTELL_BODY_BUDGET_PER_LOGIN \(104857600 bytes\) is above the body budget \(67108864 bytes, the default\)/ },
    { env: { OKTELL_BODY_BUDGET_PER_LOGIN: '6mb' }, file: 'bodyBudgetPerLogin: lots\n', want: (c) => assert.equal(c.bodyBudgetPerLoginBytes, 6 * 1024 * 1024) },
    { file: 'bodyBudget: 8mb\nbodyBudgetPerLogin: 8mb\n', want: (c) => assert.equal(budgetFor(c).perLogin, 8 * 1024 * 1024) },
    // The default: half the budget, never less than one body of the limit.
    { env: {}, want: (c) => assert.deepEqual([c.bodyBudgetPerLoginBytes, budgetFor(c).perLogin], [undefined, 32 * 1024 * 1024]) },
    { env: { OKTELL_BODY_LIMIT: '3mb', OKTELL_BODY_BUDGET: '4mb' }, want: (c) => assert.equal(budgetFor(c).perLogin, 3 * 1024 * 1024) },
    { env: { OKTELL_BODY_LIMIT: '50mb' }, want: (c) => assert.deepEqual([budgetFor(c).limit, budgetFor(c).perLogin], [100 * 1024 * 1024, 50 * 1024 * 1024]) },
    { file: 'webRequest: { maxResponseBytes: lots }\n', want: /ConfigError: oktell\.config\.yaml:1:33: webRequest\.maxResponseBytes: "lots" is not a size/ },
    { file: 'webRequest: { maxResponseBytes: 0kb }\n', want: /ConfigError: oktell\.config\.yaml:1:33: webRequest\.maxResponseBytes must be at least 1 byte/ },
    { env: { OKTELL_RETENTION_DAYS: 'lots' }, want: /OKTELL_RETENTION_DAYS="lots" must be a positive number of days/ },
    { env: { OKTELL_RETENTION_DAYS: '0' }, want: /OKTELL_RETENTION_DAYS="0"/ },
    { env: { OKTELL_RETENTION_DAYS: '0.5' }, want: (c) => assert.equal(c.retentionMs, 43_200_000) },
    { env: {}, want: (c) => assert.equal(c.deadLetterRetentionMs, undefined, 'dead letters are kept until replayed') },
    { env: { OKTELL_DEAD_LETTER_RETENTION_DAYS: '90' }, want: (c) => assert.equal(c.deadLetterRetentionMs, 90 * 86_400_000) },
    { env: { OKTELL_DEAD_LETTER_RETENTION_DAYS: '-1' }, want: /OKTELL_DEAD_LETTER_RETENTION_DAYS="-1" must be a positive number of days/ },
  ];
  for (const { env = {}, file, want } of settings) {
    it(`${JSON.stringify(env)}${file ? ` with ${JSON.stringify(file)}` : ''} → ${want instanceof RegExp ? 'refused by name' : 'taken'}`, () => {
      const tmp = tempDir();
      try {
        if (file !== undefined) writeFileSync(join(tmp.dir, 'oktell.config.yaml'), file);
        const load = () => loadServerConfig({}, env, tmp.dir);
        if (want instanceof RegExp) assert.throws(load, want);
        else want(load());
      } finally {
        tmp.cleanup();
      }
    });
  }
});

describe('a port another program holds', () => {
  /** Starts the server with `flags` while a listener holds a port on 127.0.0.1; resolves with the start's error. */
  async function startWithPortHeld(flags: (held: number) => { port: number; bpiumEmulatorPort: number }): Promise<Error> {
    const tmp = tempDir();
    const holder = createNetServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()));
    const held = (holder.address() as AddressInfo).port;
    try {
      const env = { OKTELL_USERS: 'u:p', OKTELL_LOG_LEVEL: 'silent' };
      const started = await startServer({ host: '127.0.0.1', dataDir: join(tmp.dir, 'var'), scenarios: repoPath('scenarios'), watch: false, env, ...flags(held) }).then(
        async (s) => s.close(),
        (e: unknown) => e as Error,
      );
      assert.ok(started instanceof Error, 'the start fails');
      return started;
    } finally {
      holder.close();
      tmp.cleanup();
    }
  }

  it("the embedded emulator's port: the message names the emulator's settings, not the server's", async () => {
    const e = await startWithPortHeld((held) => ({ port: 0, bpiumEmulatorPort: held }));
    assert.ok(e instanceof ConfigError, 'reported as a configuration problem (the CLI prints it without a stack)');
    assert.match(e.message, /EADDRINUSE.*another program uses the port of the embedded Bpium emulator; set --bpium-emulator-port, BPIUM_EMULATOR_PORT or bpiumEmulatorPort/);
    assert.doesNotMatch(e.message, /OKTELL_PORT/);
  });

  it("the server's own port: the message names --port and OKTELL_PORT", async () => {
    const e = await startWithPortHeld((held) => ({ port: held, bpiumEmulatorPort: 0 }));
    assert.ok(e instanceof ConfigError);
    assert.match(e.message, /another program uses the port of the server; set --port, OKTELL_PORT or port in the config file/);
    assert.doesNotMatch(e.message, /BPIUM_EMULATOR_PORT/);
  });
});

describe('the start banner says what the server binds', () => {
  it('all interfaces are said as such, with a loopback URL to try; one address is its URL', () => {
    assert.deepEqual(listeningOn('0.0.0.0', 4055, false), { url: 'http://127.0.0.1:4055', listening: '0.0.0.0:4055 (all interfaces), e.g. http://127.0.0.1:4055' });
    assert.deepEqual(listeningOn('::', 8080, true), { url: 'https://127.0.0.1:8080', listening: '[::]:8080 (all interfaces), e.g. https://127.0.0.1:8080' });
    assert.deepEqual(listeningOn('127.0.0.1', 4055, false), { url: 'http://127.0.0.1:4055', listening: 'http://127.0.0.1:4055' });
    assert.deepEqual(listeningOn('::1', 4055, false), { url: 'http://[::1]:4055', listening: 'http://[::1]:4055' });
  });

  it('oktell-emu serve on 0.0.0.0: the banner names the binding, a URL that answers and the console', { timeout: 40_000 }, async () => {
    const tmp = tempDir();
    const serve = await startServeProcess({ dataDir: join(tmp.dir, 'var'), args: ['--host', '0.0.0.0'], env: { OKTELL_USERS: 'u:p' } });
    try {
      const banner = serve.stderr();
      const port = new URL(serve.url).port;
      assert.match(banner, new RegExp(`listening on 0\\.0\\.0\\.0:${port} \\(all interfaces\\), e\\.g\\. http://127\\.0\\.0\\.1:${port}\n`));
      assert.ok(banner.includes(`  console    http://127.0.0.1:${port}/-/console/\n`), banner);
      assert.equal((await fetch(`${serve.url}/-/health`)).status, 200);
      assert.equal((await fetch(`${serve.url}/-/console/`, { headers: { authorization: `Basic ${Buffer.from('u:p').toString('base64')}` } })).status, 200);
    } finally {
      await serve.stop();
      tmp.cleanup();
    }
  });
});

describe('the start banner and service tasks', () => {
  it('names each configured task with its schedule and next due time, or that it is disabled', { timeout: 40_000 }, async () => {
    const tmp = tempDir();
    const config = join(tmp.dir, 'oktell.config.yaml');
    writeFileSync(config, 'serviceTasks:\n  - { name: report, scenario: DailyReport, cron: "0 8 * * *", timeZone: Europe/Moscow }\n  - { name: tick, scenario: DailyReport, every: 10m, enabled: false }\n');
    const serve = await startServeProcess({ dataDir: join(tmp.dir, 'var'), env: { OKTELL_USERS: 'u:p', OKTELL_CONFIG: config } });
    try {
      const line = serve.stderr().split('\n').find((l) => l.startsWith('  tasks '));
      assert.match(line ?? '', /^ {2}tasks {6}report \(0 8 \* \* \*, next \d{4}-\d\d-\d\dT08:00:00\+03:00\), tick \(every 10m, disabled\) \(npx oktell-emu tasks --data-dir \S+ --config \S+: last and next runs\)$/);
      // The suggested command names this server's data folder and configuration file, so it works as printed.
      assert.ok(line!.endsWith(`(npx oktell-emu tasks --data-dir ${join(tmp.dir, 'var')} --config ${config}: last and next runs)`), line);
    } finally {
      await serve.stop();
      tmp.cleanup();
    }
  });
});

describe('the generated user and a start that fails', () => {
  it('a start refused over its configuration keeps no generated user, so the start that works shows the password', { timeout: 60_000 }, async () => {
    const tmp = tempDir();
    const data = join(tmp.dir, 'var');
    const config = join(tmp.dir, 'oktell.config.yaml');
    writeFileSync(config, 'serviceTasks:\n  - { name: poll, scenario: PollOrders, every: 5m }\n');
    const env = { OKTELL_CONFIG: config };
    try {
      const refused = runCli(['serve', '--port', '0', '--bpium-emulator-port', '0', '--data-dir', data], { env, unset: ['OKTELL_USERS'] });
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(refused.stderr, /PollOrders/);
      assert.equal(existsSync(join(data, 'server-user.json')), false, 'no user kept from the refused start');
      writeFileSync(config, 'serviceTasks: []\n');
      const serve = await startServeProcess({ dataDir: data, env });
      try {
        // Made by this start (not "generated earlier"); stderr is a pipe here, so the password itself is not printed.
        assert.match(serve.stderr(), /\n {2}user {7}oktell \(generated; the password is in .*server-user\.json, mode 600, and is not printed/);
      } finally {
        await serve.stop();
      }
    } finally {
      tmp.cleanup();
    }
  });
});

describe('/-/health counts', () => {
  it('invalid counts problems and invalidFiles files; workers and workersBusy count busy workers, workersTotal the configured ones', async () => {
    const t = await startTestServer({ smtp: false, extraScenarios: { 'Broken.yaml': 'start: nowhere\nblocks: {}\nbogus: 1\n' }, env: { OKTELL_WORKERS: '5' } });
    try {
      const health = (await (await fetch(`${t.server.url}/-/health`)).json()) as Record<string, unknown>;
      assert.equal(health.status, 'ok', 'a broken scenario other than the hook one does not fail health');
      assert.equal(health.invalid, t.server.host.library().issues.length);
      assert.ok((health.invalid as number) >= 2, `two problems in one file: ${JSON.stringify(health)}`);
      assert.equal(health.invalidFiles, 1);
      assert.equal(health.workersTotal, 5);
      assert.equal(health.workersBusy, health.workers);
    } finally {
      await t.cleanup();
    }
  });
});

describe('a hook scenario that is not loaded', () => {
  const cases: Array<[string, Record<string, string>, RegExp | undefined]> = [
    ['HTTP404', {}, undefined],
    ['HTTP40', {}, /the hook scenario HTTP40 \(OKTELL_HOOK_SCENARIO or hook\.scenario\) is not among the scenarios loaded from \S*scenarios — did you mean HTTP404\?: every webhook is answered 500/],
    ['Nope', {}, /the hook scenario Nope .* is not among the scenarios loaded from \S*scenarios \(loaded: BpiumNewTask, .*HTTP404.*\): every webhook/],
    ['Broken', { 'Broken.yaml': 'start: nowhere\nblocks: {}\n' }, /the hook scenario Broken is invalid \(\S*Broken\.yaml:\d+:\d+ .*validate shows every problem\): every webhook is answered 500/],
  ];
  for (const [scenario, extraScenarios, want] of cases) {
    it(`OKTELL_HOOK_SCENARIO=${scenario}: ${want ? 'the start warns, naming it and the folder' : 'no warning'}`, async () => {
      const log = capturingLogger();
      const t = await startTestServer({ smtp: false, extraScenarios, env: { OKTELL_HOOK_SCENARIO: scenario }, logger: log.logger });
      try {
        if (!want) {
          assert.deepEqual(t.server.warnings, []);
          return;
        }
        assert.equal(t.server.warnings.length, 1, 'one warning for the banner');
        assert.match(t.server.warnings[0]!, want);
        // The folder as configured; an invalid file as the log names scenario problems (relative to the scenarios folder).
        const file = /\((\S+\.yaml):\d+:\d+ /.exec(t.server.warnings[0]!)?.[1];
        if (file) assert.equal(file, `${scenario}.yaml`, 'the file is named');
        else assert.ok(t.server.warnings[0]!.includes(t.scenariosDir), 'the folder is named as configured');
        assert.ok(log.lines.some((l) => l.level === 'warn' && l.msg === t.server.warnings[0]), 'and logged as a warning');
      } finally {
        await t.cleanup();
      }
    });
  }
});

describe('hardening (issue 18), on the real server', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ extraScenarios: { 'Echo.yaml': echoScenario(', 2: 200') } });
  });
  after(async () => t.cleanup());

  it('an unsigned request to another path cannot claim a delivery: the genuine signed webhook still gets its letter', async () => {
    const body = taskWebhook({ name: 'Захват заранее', responsible: ['2'], sequenceId: 6000 });
    const squatter = await postWebhook(t.server.url, body, undefined, '/nothing');
    assert.equal(squatter.status, 404);
    const genuine = await postWebhook(t.server.url, body, t.secret);
    assert.equal(genuine.status, 200);
    assert.equal(genuine.headers.get('x-oktell-duplicate-of'), null, 'not taken for a duplicate of the unsigned request');
    const run = await t.server.store.getRun(genuine.headers.get('x-oktell-run-id')!);
    const entry = await t.server.store.getInboxEntry(run!.inboxId!);
    assert.equal(entry!.duplicateOf, null);
    const jobs = await t.server.store.listJobs({ scenario: 'BpiumNewTask', limit: 1000 });
    const job = jobs.items.find((j) => j.inboxId === entry!.id);
    assert.ok(job, 'the genuine webhook has its job');
    await waitFor('the letter', async () => (await t.server.store.getJob(job.id))?.status === 'succeeded');
  });

  it('a signed body re-posted to another path is not answered "as before"; re-posted to a look-alike of its route it is a duplicate', async () => {
    const body = taskWebhook({ name: 'Повтор по другому адресу', responsible: [], sequenceId: 6100 });
    const first = await postWebhook(t.server.url, body, t.secret);
    assert.equal(first.status, 200);
    const elsewhere = await postWebhook(t.server.url, body, t.secret, '/nothing');
    assert.equal(elsewhere.status, 404, 'the hook scenario answers for /nothing');
    assert.equal(elsewhere.headers.get('x-oktell-duplicate-of'), null);
    const lookAlike = await postWebhook(t.server.url, body, t.secret, '/x/Bpium/NewTask/');
    assert.equal(lookAlike.status, 200);
    assert.ok(lookAlike.headers.get('x-oktell-duplicate-of'), 'the same secret route: the same delivery');
  });

  it('an unsigned request whose query names the signed route is refused; signed, it is served', async () => {
    const body = taskWebhook({ name: 'Через query', responsible: ['2'], sequenceId: 6200 });
    for (const path of ['/x?/Bpium/NewTask', '/anything?next=/Bpium/NewTask', '/anything?next=%2FBpium%2FNewTask']) {
      const res = await postWebhook(t.server.url, body, undefined, path);
      assert.equal(res.status, 401, path);
      assert.match(await res.text(), /X-Hook-Signature/);
    }
    const signed = await postWebhook(t.server.url, body, t.secret, '/x?/Bpium/NewTask');
    assert.equal(signed.status, 200);
  });

  it('an unsigned request to an address that upper-cases or decodes to the signed route is refused (dotless i, long s, %25)', async () => {
    const body = taskWebhook({ name: 'Через регистр', responsible: ['2'], sequenceId: 6250 });
    // fetch sends the non-ASCII letters percent-encoded (/Bp%C4%B1um/NewTask), as any client does.
    for (const path of ['/Bpıum/NewTask', '/Bpium/NewTaſk', '/x?next=%252FBPIUM%252FNEWTA%25C5%25BFK']) {
      const res = await postWebhook(t.server.url, body, undefined, path);
      assert.equal(res.status, 401, path);
      assert.match(await res.text(), /X-Hook-Signature/, path);
    }
  });

  it('sequence ids past 2^53 are different deliveries', async () => {
    const a = await postWebhook(t.server.url, webhookWithSequence('9007199254740992', 'Большой номер A'), t.secret);
    const b = await postWebhook(t.server.url, webhookWithSequence('9007199254740993', 'Большой номер B'), t.secret);
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    assert.equal(b.headers.get('x-oktell-duplicate-of'), null);
    const again = await postWebhook(t.server.url, webhookWithSequence('9007199254740993', 'Большой номер B'), t.secret);
    assert.ok(again.headers.get('x-oktell-duplicate-of'), 'the same digits again: a duplicate');
  });

  it("refuses a browser's cross-site request on the Web-API and the hook with 403, and runs nothing", async () => {
    const runsOf = async () => {
      const [echo, hook] = await Promise.all([t.server.store.listRuns({ scenario: 'Echo', limit: 1000 }), t.server.store.listRuns({ scenario: 'HTTP404', limit: 1000 })]);
      return echo.items.length + hook.items.length;
    };
    const runsBefore = await runsOf();
    const url = `${t.server.url}/execsvcscriptplain?name=Echo&startparam1=x`;
    const browsers: Array<Record<string, string>> = [{ origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }, { origin: 'http://evil.example' }, { origin: 'null' }];
    for (const headers of browsers) {
      const res = await fetch(url, { headers: { authorization: AUTH, ...headers } });
      assert.equal(res.status, 403, JSON.stringify(headers));
      assert.match(await res.text(), /403 Forbidden: a browser request from another site/);
    }
    const body = taskWebhook({ name: 'С чужого сайта', responsible: ['2'], sequenceId: 6300 });
    const hook = await fetch(`${t.server.url}/Bpium/NewTask`, { method: 'POST', body, headers: { authorization: AUTH, 'x-hook-signature': signBpiumBody(t.secret, body), origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' } });
    assert.equal(hook.status, 403);
    assert.equal(await runsOf(), runsBefore, 'no run started');
    // A typed address is refused too: a link opened from a mail client or a messenger looks the same (S19).
    assert.equal((await fetch(url, { headers: { authorization: AUTH, 'sec-fetch-site': 'none' } })).status, 403);
    // The same origin and servers (no such headers) are served.
    const own = await fetch(url, { headers: { authorization: AUTH, origin: t.server.url, 'sec-fetch-site': 'same-origin' } });
    assert.equal(own.status, 200);
    assert.equal((await fetch(url, { headers: { authorization: AUTH } })).status, 200);
  });

  it('execsvcscript answers well-formed XML whatever the return value holds', async () => {
    const res = await fetch(`${t.server.url}/execsvcscript?name=Echo&startparam1=%00%01%1b%EF%BF%BE%EF%BF%BF`, { headers: { authorization: AUTH } });
    assert.equal(res.status, 200);
    const xml = await res.text();
    assert.match(xml, XML_CHARS);
    assert.match(xml, /<!\[CDATA\[\uFFFD{5}\|\]\]>/);
  });

  it('a bare startparam is parameter 1; startparam0, startparam100 and repeats are a 400 that says why', async () => {
    const get = (query: string) => fetch(`${t.server.url}/execsvcscriptplain?name=Echo&${query}`, { headers: { authorization: AUTH } });
    const bare = await get('startparam=bare&startparam2=two');
    assert.equal(bare.status, 200);
    assert.equal(await bare.text(), 'bare|two');
    for (const [query, why] of [
      ['startparam0=a', /"startparam0": parameters are numbered 1 to 99/],
      ['startparam100=a', /"startparam100": parameters are numbered 1 to 99/],
      ['startparam1=a&startparam1=b', /"startparam1" is given more than once/],
      ['startparam=a&startparam1=b', /parameter 1 is given more than once/],
    ] as const) {
      const res = await get(query);
      assert.equal(res.status, 400, query);
      assert.match(await res.text(), why);
    }
    const xml = await fetch(`${t.server.url}/execsvcscript?name=Echo&startparam0=a`, { headers: { authorization: AUTH } });
    assert.equal(xml.status, 400);
    assert.match(await xml.text(), /key="started" value="0"[\s\S]*parameters are numbered 1 to 99/);
  });

  it('answers with results are never cached nor sniffed: the Web-API, metrics, and the hook (200, 404, 401)', async () => {
    const body = taskWebhook({ name: 'Заголовки', responsible: [], sequenceId: 6400 });
    const answers = {
      execsvcscript: await fetch(`${t.server.url}/execsvcscript?name=Echo`, { headers: { authorization: AUTH } }),
      execsvcscriptplain: await fetch(`${t.server.url}/execsvcscriptplain?name=Echo`, { headers: { authorization: AUTH } }),
      metrics: await fetch(`${t.server.url}/-/metrics`, { headers: { authorization: AUTH } }),
      'hook 200': await postWebhook(t.server.url, body, t.secret),
      'hook 404': await postWebhook(t.server.url, body, undefined, '/nothing'),
      'hook 401': await postWebhook(t.server.url, body, undefined),
      'no credentials': await fetch(`${t.server.url}/execsvcscript?name=Echo`),
    };
    for (const [what, res] of Object.entries(answers)) {
      assert.equal(res.headers.get('cache-control'), 'no-store', what);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', what);
    }
  });

  it('the store and the emulator database are readable by their owner only', () => {
    for (const file of ['oktell.sqlite', 'oktell.sqlite-wal', 'bpium-emulator.sqlite']) {
      assert.equal((statSync(join(t.dataDir, file)).mode & 0o777).toString(8), '600', file);
    }
  });
});

describe('hardening (issue 18): the freshness window for signed webhooks', () => {
  it('refuses a signed webhook whose timestamp is outside the window, or that has none; fresh ones are served', { timeout: 30_000 }, async () => {
    const t = await startTestServer({ smtp: false, env: { BPIUM_WEBHOOK_MAX_AGE_MINUTES: '5' } });
    try {
      const at = (secondsAgo: number | undefined, seq: number) => {
        const body = JSON.parse(taskWebhook({ name: 'Свежесть', responsible: [], sequenceId: seq })) as Record<string, unknown>;
        if (secondsAgo === undefined) delete body.timestamp;
        else body.timestamp = String(Math.floor(Date.now() / 1000) - secondsAgo);
        return JSON.stringify(body);
      };
      assert.equal((await postWebhook(t.server.url, at(60, 1), t.secret)).status, 200, 'a minute old');
      const old = await postWebhook(t.server.url, at(600, 2), t.secret);
      assert.equal(old.status, 401);
      assert.match(await old.text(), /the webhook's timestamp is 10 minute\(s\) old; the limit is 5 minute\(s\)/);
      const future = await postWebhook(t.server.url, at(-3600, 3), t.secret);
      assert.equal(future.status, 401);
      assert.match(await future.text(), /in the future/);
      const none = await postWebhook(t.server.url, at(undefined, 4), t.secret);
      assert.equal(none.status, 401);
      assert.match(await none.text(), /no readable "timestamp"/);
      // Unsigned routes have no window: nothing proves their timestamp anyway.
      assert.equal((await postWebhook(t.server.url, at(600, 5), undefined, '/nothing')).status, 404);
      const counts = await t.server.store.counts();
      assert.equal(counts.jobs.queued + counts.jobs.running + counts.jobs.succeeded + counts.jobs.failed + counts.jobs.dead, 1, 'only the fresh webhook started a job');
    } finally {
      await t.cleanup();
    }
  });

  it('without the setting an old timestamp is accepted (the window is off by default)', { timeout: 30_000 }, async () => {
    const t = await startTestServer({ smtp: false });
    try {
      const body = taskWebhook({ name: 'Старое', responsible: [], sequenceId: 1 }).replace(/"timestamp":"\d+"/, '"timestamp":"1459500623"');
      assert.equal((await postWebhook(t.server.url, body, t.secret)).status, 200);
    } finally {
      await t.cleanup();
    }
  });
});

describe('hardening (issue 18): the generated password', () => {
  /** Starts `oktell-emu serve` in `dataDir` without users, returns what it printed once it is ready, and stops it. */
  async function startOnce(dataDir: string): Promise<string> {
    const child = spawn(process.execPath, [repoPath('bin', 'oktell-emu.js'), 'serve', '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--bpium-emulator-port', '0'], {
      env: { ...process.env, OKTELL_USERS: '', OKTELL_LOG_LEVEL: 'silent', BPIUM_URL: '', SMTP_URL: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
      cwd: repoPath(),
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      await waitFor('the start banner', () => stderr.includes('npx oktell-emu runs'), 20_000).catch((e: Error) => {
        throw new Error(`${e.message}; its stderr:\n${stderr.slice(-4000)}`);
      });
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      return stderr;
    } finally {
      child.kill('SIGKILL');
    }
  }

  /** As startOnce, with stderr on a terminal (script(1) gives the process a pseudo-terminal); returns what it printed. */
  async function startOnceOnTerminal(dataDir: string): Promise<string> {
    const command = [process.execPath, repoPath('bin', 'oktell-emu.js'), 'serve', '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--bpium-emulator-port', '0'].map((a) => `'${a}'`).join(' ');
    const child = spawn('/usr/bin/script', ['-qec', command, '/dev/null'], {
      env: { ...process.env, OKTELL_USERS: '', OKTELL_LOG_LEVEL: 'silent', BPIUM_URL: '', SMTP_URL: '', NO_COLOR: '1' },
      stdio: ['pipe', 'pipe', 'ignore'],
      cwd: repoPath(),
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor('the start banner', () => out.includes('npx oktell-emu runs'), 30_000).catch((e: Error) => {
        throw new Error(`${e.message}; its terminal:\n${out.slice(-4000)}`);
      });
      return out;
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      // The server is script's child, on the terminal: the terminal's interrupt key stops it gracefully.
      child.stdin!.write('\x03');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
      child.kill('SIGKILL');
    }
  }

  it('is not printed when stderr is not a terminal (a log): the banner says where it is kept', { timeout: 60_000 }, async () => {
    const tmp = tempDir();
    try {
      const dataDir = join(tmp.dir, 'var');
      const first = await startOnce(dataDir);
      const file = join(dataDir, 'server-user.json');
      const { password } = JSON.parse(readFileSync(file, 'utf8')) as { password: string };
      assert.ok(!first.includes(password), 'the password is not in a redirected stderr');
      assert.ok(first.includes(`the password is in ${file}, mode 600, and is not printed because stderr is not a terminal`), first);
      assert.match(first, /curl -u 'oktell:PASSWORD'/);
      assert.equal((statSync(file).mode & 0o777).toString(8), '600');
    } finally {
      tmp.cleanup();
    }
  });

  it('is printed when it is generated on a terminal, and afterwards only where it is kept', { timeout: 90_000, skip: !existsSync('/usr/bin/script') && 'needs script(1) for a terminal' }, async () => {
    const tmp = tempDir();
    try {
      const dataDir = join(tmp.dir, 'var');
      const first = await startOnceOnTerminal(dataDir);
      const file = join(dataDir, 'server-user.json');
      const { password } = JSON.parse(readFileSync(file, 'utf8')) as { password: string };
      assert.ok(first.includes(password), `the first start shows the new password:\n${first}`);
      const second = await startOnce(dataDir);
      assert.ok(!second.includes(password), 'a later start does not print it');
      assert.ok(second.includes(file), 'it says where the password is kept');
    } finally {
      tmp.cleanup();
    }
  });
});

describe('a mistake in oktell.config.yaml is named at its line and column', () => {
  const cases: Array<{ text: string; error: RegExp }> = [
    { text: 'port: 4055\nprot: 4056\n', error: /^oktell\.config\.yaml:2:1: unknown key "prot" at the top level \(did you mean "port"\?\); known keys: / },
    { text: 'workers:\n  concurency: 4\n', error: /^oktell\.config\.yaml:2:3: unknown key "concurency" at workers \(did you mean "concurrency"\?\)/ },
    { text: 'workers:\n  concurrency: 0\n', error: /^oktell\.config\.yaml:2:16: workers\.concurrency: / },
    { text: 'frobnicate: yes\n', error: /^oktell\.config\.yaml:1:1: unknown key "frobnicate" at the top level; known keys: / },
    // Settings of the environment only get said so (operator trial, finding 2), in any spelling of their name.
    { text: 'port: 4055\nsmtpUrl: smtp://mail.local\n', error: /^oktell\.config\.yaml:2:1: unknown key "smtpUrl" at the top level: SMTP_URL is set in the environment only \(SMTP_URL=… in the server's environment\), not in this file; known keys: / },
    { text: 'bpium_url: https://x.bpium.ru\n', error: /^oktell\.config\.yaml:1:1: unknown key "bpium_url" at the top level: BPIUM_URL is set in the environment only \(BPIUM_URL=… / },
    { text: 'BPIUM_PASSWORD: x\n', error: /^oktell\.config\.yaml:1:1: unknown key "BPIUM_PASSWORD" at the top level: BPIUM_PASSWORD is set in the environment only/ },
    { text: 'mailFrom: a@b.ru\nbpiumLogin: a@b.ru\n', error: /^oktell\.config\.yaml:1:1: unknown key "mailFrom" .*: MAIL_FROM is set in the environment only.*\noktell\.config\.yaml:2:1: unknown key "bpiumLogin" .*: BPIUM_LOGIN is set in the environment only/ },
    { text: 'webRequest:\n  attempts: 1\n', error: /^oktell\.config\.yaml:2:3: unknown key "attempts" at webRequest: WEB_REQUEST_ATTEMPTS is set in the environment only/ },
    { text: 'bpiumWebhookMaxAgeMinutes: 5\n', error: /^oktell\.config\.yaml:1:1: unknown key "bpiumWebhookMaxAgeMinutes" at the top level: in this file it is webhookMaxAgeMinutes: \(or the environment variable BPIUM_WEBHOOK_MAX_AGE_MINUTES\)/ },
  ];
  for (const c of cases) {
    it(JSON.stringify(c.text), () => {
      const tmp = tempDir();
      try {
        writeFileSync(join(tmp.dir, 'oktell.config.yaml'), c.text);
        assert.throws(() => loadServerConfig({}, {}, tmp.dir), (e: unknown) => e instanceof ConfigError && c.error.test(e.message));
      } finally {
        tmp.cleanup();
      }
    });
  }
});
