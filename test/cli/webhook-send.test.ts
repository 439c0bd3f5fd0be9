// `oktell-emu webhook send` through the real binary against a real `serve`: signed with the secret the server checks
// for the path, sent with the server's credentials, status and run id printed, a re-post called a duplicate.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoPath, tempDir } from '../helpers.js';
import { taskWebhook } from '../server/server-helpers.js';
import { runCli as runCliWith, runCliAsync } from './cli.helper.js';
import { runCli, startServeProcess } from './cli-process.js';

describe('oktell-emu webhook send', () => {
  it('with the generated user and the emulator secret: 200 and a run id, then the same body again is a duplicate', { timeout: 90_000 }, async () => {
    const tmp = tempDir();
    const data = join(tmp.dir, 'var');
    const body = join(tmp.dir, 'task.json');
    writeFileSync(body, taskWebhook({ name: 'Проверить подпись', responsible: ['2'], sequenceId: 41 }));
    const server = await startServeProcess({ dataDir: data, env: { OKTELL_LOG_LEVEL: 'warn' } });
    try {
      assert.match(server.stderr(), /signed +\/Bpium\/NewTask \(X-Hook-Signature required/);
      const first = runCli(['webhook', 'send', '/Bpium/NewTask', body], { OKTELL_DATA_DIR: data });
      assert.equal(first.code, 0, first.stderr + first.stdout);
      assert.match(first.stdout, new RegExp(`^POST ${server.url.replace(/\./g, '\\.')}/Bpium/NewTask \\(signed with the secret for /Bpium/NewTask\\)`));
      const runId = /→ HTTP 200 · run (\S+)/.exec(first.stdout)?.[1];
      assert.ok(runId, first.stdout);
      // Another data folder than ./var: every command suggested names it, so it works as printed.
      const shown = /the run: npx oktell-emu (show .*)$/m.exec(first.stdout)?.[1];
      assert.equal(shown, `show ${runId} --data-dir ${data}`);
      assert.equal(runCli(shown.split(' ')).code, 0);
      assert.match(server.stderr(), new RegExp(`npx oktell-emu demo --data-dir ${data}\n`));
      for (const cmd of ['outbox', 'runs']) {
        const line = new RegExp(`npx oktell-emu (${cmd} .*?) +#`).exec(server.stderr())?.[1];
        assert.equal(line, `${cmd} --data-dir ${data}`);
        const printed = runCli(line.split(' '));
        assert.equal(printed.code, 0, printed.stderr);
      }
      assert.match(runCli(['runs', '--data-dir', data]).stdout, new RegExp(runId));
      assert.doesNotMatch(first.stdout, /duplicate/);

      const again = runCli(['webhook', 'send', '/Bpium/NewTask', body], { OKTELL_DATA_DIR: data });
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /→ HTTP 200 · run \S+/);
      assert.match(again.stdout, /duplicate: this delivery \(same hook id and sequenceId\) was received before as inbox entry 1; the server answered as it did then and started nothing again/);

      const json = runCli(['webhook', 'send', '/Bpium/NewTask', body, '--json', '--data-dir', data]);
      const out = JSON.parse(json.stdout) as { status: number; runId: string; duplicateOf: number | null; signedFor: string };
      assert.deepEqual([out.status, out.duplicateOf, out.signedFor, typeof out.runId], [200, 1, '/Bpium/NewTask', 'string']);

      const unsigned = runCli(['webhook', 'send', '/Bpium/NewTask', body, '--no-sign'], { OKTELL_DATA_DIR: data });
      assert.equal(unsigned.code, 1);
      assert.match(unsigned.stdout, /\(unsigned: --no-sign\)\n→ HTTP 401/);
    } finally {
      assert.equal(await server.stop(), 0);
      tmp.cleanup();
    }
  });

  it('secrets from oktell.config.yaml and BPIUM_WEBHOOK_SECRET, credentials from OKTELL_USERS, as the server resolves them', { timeout: 90_000 }, async () => {
    const tmp = tempDir();
    const data = join(tmp.dir, 'var');
    const config = join(tmp.dir, 'oktell.config.yaml');
    writeFileSync(config, 'webhookSecrets:\n  /Custom/Hook: custom-secret\n');
    const body = join(tmp.dir, 'body.json');
    writeFileSync(body, '{"hello":"world"}');
    const env = { OKTELL_USERS: 'robot:robot-pass-1', BPIUM_WEBHOOK_SECRET: 'every-path-secret', OKTELL_LOG_LEVEL: 'warn' };
    const server = await startServeProcess({ dataDir: data, env, args: ['--config', config] });
    try {
      assert.match(server.stderr(), /signed +\/Custom\/Hook, every path/);
      // The hook scenario answers 404 for paths it does not handle: past the signature check, not refused by it.
      const custom = runCli(['webhook', 'send', '/Custom/Hook', body, '--config', config, '--data-dir', data], env);
      assert.match(custom.stdout, /\(signed with the secret for \/Custom\/Hook\)\n→ HTTP 404 · run \S+/);
      const other = runCli(['webhook', 'send', '/Other', body, '--config', config, '--data-dir', data], env);
      assert.match(other.stdout, /\(signed with the secret for every path\)\n→ HTTP 404 · run \S+/);
      const stdin = runCli(['webhook', 'send', '/Custom/Hook', '-', '--config', config, '--data-dir', data], env, '{"from":"stdin"}');
      assert.match(stdin.stdout, /\(signed with the secret for \/Custom\/Hook\)\n→ HTTP 404/);
      const wrongUser = runCli(['webhook', 'send', '/Other', body, '--config', config, '--data-dir', data], { ...env, OKTELL_USERS: 'robot:wrong' });
      assert.match(wrongUser.stdout, /→ HTTP 401/);
      assert.match(wrongUser.stdout, /the server refused the login "robot" \(from OKTELL_USERS\)/);
      assert.doesNotMatch(wrongUser.stdout, /wrong/);
      assert.doesNotMatch(wrongUser.stdout, /X-Hook-Signature|BPIUM_WEBHOOK_SECRET/);
      // Without the secret the server has (operator trial, finding 5): the 401 says to set it, from serve.json's signedPaths.
      const { BPIUM_WEBHOOK_SECRET: _, ...noSecret } = env;
      const unsigned = runCli(['webhook', 'send', '/Other', body, '--config', config, '--data-dir', data], noSecret);
      assert.match(unsigned.stdout, /\(unsigned: no secret is set for this path\)\n→ HTTP 401\n/);
      assert.match(unsigned.stdout, new RegExp(`the server checks X-Hook-Signature on every path \\(${join(data, 'serve.json').replace(/[.\\/]/g, '\\$&')}\\), and no secret for it was found here: set the secret the server has: BPIUM_WEBHOOK_SECRET=… \\(or BPIUM_WEBHOOK_SECRET_FILE\\) for every path, or webhookSecrets: \\{ /Other: … \\} in ${config.replace(/[.\\/]/g, '\\$&')} \\(--config\\), then send again`));
      assert.doesNotMatch(unsigned.stdout, /every-path-secret|custom-secret/);
      const noSign = runCli(['webhook', 'send', '/Other', body, '--config', config, '--data-dir', data, '--no-sign'], env);
      assert.match(noSign.stdout, /\(unsigned: --no-sign\)\n→ HTTP 401\n[\s\S]*it was sent unsigned \(--no-sign\) and the server asks for X-Hook-Signature: leave out --no-sign to sign it/);
    } finally {
      assert.equal(await server.stop(), 0);
      tmp.cleanup();
    }
  });

  it('a hook scenario\'s own 401 with a challenge is its answer, not a refused login', { timeout: 90_000 }, async () => {
    const tmp = tempDir();
    const data = join(tmp.dir, 'var');
    const scenarios = join(tmp.dir, 'scenarios');
    mkdirSync(scenarios);
    writeFileSync(join(scenarios, 'HTTP404.yaml'), `start: deny
blocks:
  deny:
    kind: ReturnValue
    values: { 1: '"token expired"', 2: 401, 4: '"WWW-Authenticate: Bearer realm=forms"' }
`);
    const config = join(tmp.dir, 'oktell.config.yaml');
    writeFileSync(config, 'hook:\n  returns:\n    headers: 4\n');
    const body = join(tmp.dir, 'body.json');
    writeFileSync(body, '{"hello":"world"}');
    const env = { OKTELL_USERS: 'robot:robot-pass-1', OKTELL_LOG_LEVEL: 'warn' };
    const server = await startServeProcess({ dataDir: data, env, args: ['--config', config, '--scenarios', scenarios] });
    try {
      const sent = runCli(['webhook', 'send', '/Forms/Hook', body, '--config', config, '--data-dir', data, '--no-sign'], env);
      assert.match(sent.stdout, /→ HTTP 401 · run \S+/);
      assert.match(sent.stdout, /token expired/);
      assert.doesNotMatch(sent.stdout, /refused the login/);
      // The scenario's own 401, not the server's signature check: nothing about signing it.
      assert.doesNotMatch(sent.stdout, /sent unsigned|X-Hook-Signature|--no-sign to sign/);
      // The server's own refusal of a wrong password still says so.
      const wrong = runCli(['webhook', 'send', '/Forms/Hook', body, '--config', config, '--data-dir', data, '--no-sign'], { ...env, OKTELL_USERS: 'robot:wrong' });
      assert.match(wrong.stdout, /the server refused the login "robot" \(from OKTELL_USERS\)/);
    } finally {
      assert.equal(await server.stop(), 0);
      tmp.cleanup();
    }
  });

  it('a 401 says which login was sent and where it came from, never the password; --user sends the right one', { timeout: 90_000 }, async () => {
    const tmp = tempDir();
    const data = join(tmp.dir, 'var');
    const body = join(tmp.dir, 'task.json');
    writeFileSync(body, taskWebhook({ name: 'Чужой пользователь', responsible: ['2'], sequenceId: 7 }));
    // A user generated by an earlier start without OKTELL_USERS; this server runs with OKTELL_USERS instead.
    mkdirSync(data);
    writeFileSync(join(data, 'server-user.json'), JSON.stringify({ login: 'oktell', password: 'left-from-before' }));
    const server = await startServeProcess({ dataDir: data, env: { OKTELL_USERS: 'bpium:change-me', OKTELL_LOG_LEVEL: 'warn' } });
    // Another terminal: no OKTELL_USERS there.
    const send = (...args: string[]) => runCliWith(['webhook', 'send', '/Bpium/NewTask', body, '--data-dir', data, ...args], { unset: ['OKTELL_USERS'] });
    try {
      const refused = send();
      assert.equal(refused.code, 1);
      assert.match(refused.stdout, /→ HTTP 401\n/);
      const hint = `the server refused the login "oktell" (from ${join(data, 'server-user.json')}, the user a server generated there): give the server's user with --user login:password, or set OKTELL_USERS=login:password as the server has it\n`;
      assert.ok(refused.stdout.endsWith(hint), refused.stdout);
      assert.doesNotMatch(refused.stdout + refused.stderr, /left-from-before/);

      const right = send('--user', 'bpium:change-me');
      assert.equal(right.code, 0, right.stdout + right.stderr);
      assert.match(right.stdout, /→ HTTP 200 · run \S+/);
      assert.doesNotMatch(right.stdout, /refused|change-me/);

      const wrong = send('-u', 'bpium:not-the-password', '--json');
      const out = JSON.parse(wrong.stdout) as { status: number; user: unknown; credentialsRefused: boolean };
      assert.deepEqual([out.status, out.user, out.credentialsRefused], [401, { login: 'bpium', from: '--user' }, true]);
      assert.doesNotMatch(wrong.stdout, /not-the-password/);

      // A refused signature is a 401 too, but not the credentials': no word about the login.
      const unsigned = send('--user', 'bpium:change-me', '--no-sign');
      assert.match(unsigned.stdout, /→ HTTP 401/);
      assert.doesNotMatch(unsigned.stdout, /refused the login/);

      // Review s30 L3: credentials in --url are the login to send (fetch refuses them in the address), never printed.
      const inUrl = send('--url', server.url.replace('://', '://bpium:change-me@'), '--json');
      assert.equal(inUrl.code, 0, inUrl.stdout + inUrl.stderr);
      const sent = JSON.parse(inUrl.stdout) as { status: number; url: string; user: unknown };
      assert.deepEqual([sent.status, sent.url, sent.user], [200, `${server.url}/Bpium/NewTask`, { login: 'bpium', from: '--url' }]);
      assert.doesNotMatch(inUrl.stdout + inUrl.stderr, /change-me/);
      const both = send('--url', server.url.replace('://', '://bpium:change-me@'), '--user', 'bpium:change-me');
      assert.equal(both.code, 2);
      assert.equal(both.stderr, 'oktell-emu: --url carries a login and --user gives one: keep one of them\n');

      const bad = send('--user', 'no-colon');
      assert.equal(bad.code, 2);
      assert.equal(bad.stderr, 'oktell-emu: --user takes login:password (for example --user bpium:change-me)\n');
    } finally {
      assert.equal(await server.stop(), 0);
      tmp.cleanup();
    }
  });

  it('without a user to send, says what is true: a server started with its users generated none', { timeout: 90_000 }, async () => {
    const tmp = tempDir();
    const data = join(tmp.dir, 'var');
    const body = join(tmp.dir, 'task.json');
    writeFileSync(body, taskWebhook({ name: 'Без пользователя', responsible: ['2'], sequenceId: 8 }));
    const send = () => runCliWith(['webhook', 'send', '/Bpium/NewTask', body, '--data-dir', data], { unset: ['OKTELL_USERS'] });
    const advice = 'oktell-emu: no server user: give --user login:password, or set OKTELL_USERS=login:password as the server has it; ';
    const stopped = send();
    assert.equal(stopped.code, 2);
    assert.equal(
      stopped.stderr,
      `${advice}a server started with no users of its own (neither OKTELL_USERS nor users: in its configuration) generates one in ${join(data, 'server-user.json')}, and there is none there\n`,
    );
    const server = await startServeProcess({ dataDir: data, env: { OKTELL_USERS: 'u1:s3cret-pass', OKTELL_LOG_LEVEL: 'warn' } });
    try {
      const started = send();
      assert.equal(started.code, 2);
      assert.equal(
        started.stderr,
        `${advice}the server running on the data folder ${data} (${server.url}) was started with its own users (OKTELL_USERS or users: in its configuration), so it generated none\n`,
      );
      assert.doesNotMatch(started.stderr, /s3cret-pass/);
    } finally {
      assert.equal(await server.stop(), 0);
      tmp.cleanup();
    }
  });

  it('says how to reach the server when nothing listens, and refuses a path without a leading slash', { timeout: 30_000 }, () => {
    const tmp = tempDir();
    try {
      const body = join(tmp.dir, 'b.json');
      writeFileSync(body, '{}');
      const down = runCli(['webhook', 'send', '/Bpium/NewTask', body, '--url', 'http://127.0.0.1:9', '--data-dir', tmp.dir], { OKTELL_USERS: 'a:b' });
      assert.equal(down.code, 1);
      // Trial s33-docs1 #3: the advice starts the server on the data folder given, not `npm start` on ./var.
      assert.match(down.stderr, /^oktell-emu: nothing answers at http:\/\/127\.0\.0\.1:9 \([^)]+\): start the server with `npx oktell-emu serve --data-dir (\S+)`, or give its address with --url\n$/);
      assert.equal(/--data-dir (\S+)`/.exec(down.stderr)![1], tmp.dir);
      // With a configuration file, the advice names it too (its users and secrets are the ones this command read).
      const cfg = join(tmp.dir, 'cfg.yaml');
      writeFileSync(cfg, `port: 9\ndataDir: ${join(tmp.dir, 'cfg-var')}\n`);
      const configured = runCli(['webhook', 'send', '/Bpium/NewTask', body, '--config', cfg], { OKTELL_USERS: 'a:b' });
      assert.equal(configured.code, 1);
      assert.ok(configured.stderr.includes(`start the server with \`npx oktell-emu serve --config ${cfg} --data-dir ${join(tmp.dir, 'cfg-var')}\``), configured.stderr);
      // The default folder, ./var of the working folder: the plain command.
      const plain = runCliWith(['webhook', 'send', '/Bpium/NewTask', body], { cwd: tmp.dir, env: { OKTELL_USERS: 'a:b', OKTELL_PORT: '9' } });
      assert.equal(plain.code, 1);
      assert.ok(plain.stderr.includes('start the server with `npx oktell-emu serve`, or give'), plain.stderr);
      // A serve.json left by a killed server: its address is said, not only the default one tried.
      const gone = spawnSync(process.execPath, ['-e', '0']).pid;
      writeFileSync(join(tmp.dir, 'serve.json'), JSON.stringify({ pid: gone, url: 'http://127.0.0.1:47999', signedPaths: [], startedAt: new Date().toISOString() }));
      const stale = runCli(['webhook', 'send', '/Bpium/NewTask', body, '--data-dir', tmp.dir], { OKTELL_USERS: 'a:b', OKTELL_PORT: '9' });
      assert.equal(stale.code, 1);
      assert.match(stale.stderr, new RegExp(`nothing answers at http://127\\.0\\.0\\.1:9 .*; the server recorded in \\S+serve\\.json \\(pid ${gone}, http://127\\.0\\.0\\.1:47999\\) is not running any more: start the server with \`npx oktell-emu serve --data-dir `));
      // Review s30 L3: a password in --url is never printed, neither when nothing answers nor when the address is bad.
      const withLogin = runCli(['webhook', 'send', '/Bpium/NewTask', body, '--url', 'http://admin:ZEBRA-WS2@127.0.0.1:9', '--json', '--data-dir', tmp.dir], { OKTELL_USERS: 'a:b' });
      assert.equal(withLogin.code, 1);
      assert.match(withLogin.stdout + withLogin.stderr, /"message":"nothing answers at http:\/\/127\.0\.0\.1:9 \(/);
      assert.doesNotMatch(withLogin.stdout + withLogin.stderr, /ZEBRA-WS2|credentials/);
      const badPort = runCli(['webhook', 'send', '/Bpium/NewTask', body, '--url', 'http://admin:ZEBRA-WS3@127.0.0.1:99999', '--data-dir', tmp.dir], { OKTELL_USERS: 'a:b' });
      assert.equal(badPort.code, 2);
      assert.equal(badPort.stderr, 'oktell-emu: --url http://***@127.0.0.1:99999: not an address such as http://127.0.0.1:4055\n');
      const noPassword = runCli(['webhook', 'send', '/Bpium/NewTask', body, '--url', 'http://admin@127.0.0.1:9', '--data-dir', tmp.dir], { OKTELL_USERS: 'a:b' });
      assert.equal(noPassword.code, 2);
      assert.match(noPassword.stderr, /^oktell-emu: --url http:\/\/\*\*\*@127\.0\.0\.1:9: give both a login and a password/);
      assert.doesNotMatch(noPassword.stderr, /nothing answers/);

      const bad = runCli(['webhook', 'send', 'Bpium/NewTask', body, '--data-dir', tmp.dir], { OKTELL_USERS: 'a:b' });
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /must start with \//);
    } finally {
      tmp.cleanup();
    }
  });
  it('--fresh: the shipped example gets a new sequenceId and timestamp, signed as sent, and runs again where a resend is a duplicate', { timeout: 90_000 }, async () => {
    const tmp = tempDir();
    const data = join(tmp.dir, 'var');
    const fixture = repoPath('test', 'fixtures', 'record-created.json');
    const original = readFileSync(fixture, 'utf8');
    const server = await startServeProcess({ dataDir: data, env: { OKTELL_LOG_LEVEL: 'warn' } });
    try {
      const send = (...extra: string[]) => runCli(['webhook', 'send', '/Bpium/NewTask', 'test/fixtures/record-created.json', '--data-dir', data, ...extra]);
      const first = send();
      assert.equal(first.code, 0, first.stderr + first.stdout);
      const firstRun = /→ HTTP 200 · run (\S+)/.exec(first.stdout)?.[1];
      assert.ok(firstRun, first.stdout);
      assert.match(send().stdout, /duplicate: this delivery/);

      const before = Math.floor(Date.now() / 1000);
      const fresh = send('--fresh');
      assert.equal(fresh.code, 0, fresh.stderr + fresh.stdout);
      const seq = /^--fresh: hook\.sequenceId 42 → (\d+)$/m.exec(fresh.stdout)?.[1];
      assert.ok(seq, fresh.stdout);
      assert.notEqual(seq, '42');
      const stamp = /^--fresh: timestamp "1732780800" → "(\d+)"$/m.exec(fresh.stdout)?.[1];
      assert.ok(stamp && Number(stamp) >= before && Number(stamp) <= Math.floor(Date.now() / 1000), fresh.stdout);
      // Accepted on a path that requires X-Hook-Signature (a bad one is a 401), and taken as a new delivery.
      assert.match(fresh.stdout, /\(signed with the secret for \/Bpium\/NewTask\)\n→ HTTP 200 · run (\S+)/);
      assert.doesNotMatch(fresh.stdout, /duplicate/);
      const freshRun = /→ HTTP 200 · run (\S+)/.exec(fresh.stdout)![1]!;
      assert.notEqual(freshRun, firstRun);
      // The body the scenario got is the changed one.
      const shown = runCli(['show', freshRun, '--json', '--data-dir', data]);
      assert.equal(shown.code, 0, shown.stderr);
      const body = JSON.parse((JSON.parse(shown.stdout) as { params: Record<string, string> }).params['4']!) as { hook: { id: string; sequenceId: number }; timestamp: string };
      assert.deepEqual([body.hook.id, body.hook.sequenceId, body.timestamp], ['7', Number(seq), stamp]);

      // Each --fresh send is new again; --json says what was changed.
      const json = JSON.parse(send('--fresh', '--json').stdout) as { status: number; duplicateOf: number | null; fresh: Array<{ field: string; from: unknown; to: unknown }> };
      assert.deepEqual([json.status, json.duplicateOf, json.fresh.map((c) => [c.field, c.from])], [200, null, [['hook.sequenceId', 42], ['timestamp', '1732780800']]]);
      assert.notEqual(json.fresh[0]!.to, Number(seq));
      // Trial s33-docs1 #6: the keys --help and docs/cli.md list are the keys printed, no more and no fewer.
      const topKeys = (list: string) => list.replace(/\{[^{}]*\}/g, '').replace(/\[[^\]]*\]/g, '').split(',').map((k) => k.replace(/["\s:]|with--fresh|and/g, '')).filter(Boolean).sort();
      const printed = Object.keys(json).sort();
      const help = runCli(['webhook', 'send', '--help']).stdout.replace(/\s+/g, ' ');
      const inHelp = /--json print one JSON object \{ (.*?) \}, and (\w+): \[ \{ field, from, to \} \] with --fresh/.exec(help);
      assert.ok(inHelp, help);
      assert.deepEqual(topKeys(`${inHelp[1]}, ${inHelp[2]}`), printed);
      const doc = readFileSync(repoPath('docs', 'cli.md'), 'utf8');
      const inDoc = /webhook send \/Bpium\/NewTask body\.json --json +# \{(.*)\}, and "(\w+)" with --fresh$/m.exec(doc);
      assert.ok(inDoc, 'docs/cli.md lists the --json keys of webhook send');
      assert.deepEqual(topKeys(`${inDoc[1]}, ${inDoc[2]}`), printed);
      // The file itself is left as it was.
      assert.equal(readFileSync(fixture, 'utf8'), original);

      const notHook = join(tmp.dir, 'plain.json');
      writeFileSync(notHook, '{"hello":"world"}');
      const refused = runCli(['webhook', 'send', '/Bpium/NewTask', notHook, '--fresh', '--data-dir', data]);
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /--fresh: the body has no "hook"/);
    } finally {
      assert.equal(await server.stop(), 0);
      tmp.cleanup();
    }
  });

  it('reports the answer a server gives before it has read the body (413 from the declared length, then the socket closed), not "nothing answers"', { timeout: 60_000 }, async () => {
    const tmp = tempDir();
    // A peer that refuses as soon as it has the headers and, a moment after its answer, closes without reading the body:
    // the sender's writes, stalled meanwhile, then fail (a reset), after the whole answer came. Written on node:net, as
    // node:http's server with "Connection: close" destroys the socket the instant its answer is out, with the body
    // unread, which resets the connection at once: the reset can then reach the sender before it has read the answer
    // (its write fails first), which no sender can help, and the test failed two runs in three. Against this peer the
    // fetch-based sender of before also read the answer: what this checks is the outcome, not that change.
    const peer = createNetServer((socket) => {
      let head = '';
      const onData = (d: Buffer) => {
        head += d.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        socket.off('data', onData);
        socket.pause();
        socket.write('HTTP/1.1 413 Payload Too Large\r\ncontent-type: text/plain\r\ncontent-length: 15\r\nconnection: close\r\n\r\nbody too large\n', () => setTimeout(() => socket.destroy(), 300));
      };
      socket.on('data', onData);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
    try {
      const body = join(tmp.dir, 'big.json');
      writeFileSync(body, JSON.stringify({ pad: 'x'.repeat(6 * 1024 * 1024) }));
      const url = `http://127.0.0.1:${(peer.address() as AddressInfo).port}`;
      for (let i = 0; i < 3; i++) {
        const sent = await runCliAsync(['webhook', 'send', '/Bpium/NewTask', body, '--url', url, '--json', '--data-dir', tmp.dir], { env: { OKTELL_USERS: 'a:b' } });
        assert.doesNotMatch(sent.stdout + sent.stderr, /nothing answers/, `try ${i + 1}`);
        assert.equal(JSON.parse(sent.stdout).status, 413, `try ${i + 1}: ${sent.stdout}${sent.stderr}`);
        assert.equal(JSON.parse(sent.stdout).body, 'body too large\n');
      }
    } finally {
      await new Promise((resolve) => peer.close(resolve));
      tmp.cleanup();
    }
  });

  it('a run id header with a C1 control (any server --url names) is printed escaped; --json keeps it', { timeout: 60_000 }, async () => {
    const tmp = tempDir();
    // Raw bytes: C2 9B is U+009B (CSI) in UTF-8, each byte a character of its own where a header is read as Latin-1.
    const peer = createNetServer((socket) => {
      socket.once('data', () => socket.end(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nX-Oktell-Run-Id: run'), Buffer.from([0xc2, 0x9b]), Buffer.from('2J\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok')])));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
    try {
      const body = join(tmp.dir, 'b.json');
      writeFileSync(body, '{"a":1}');
      const url = `http://127.0.0.1:${(peer.address() as AddressInfo).port}`;
      const sent = await runCliAsync(['webhook', 'send', '/x', body, '--url', url, '--no-sign', '--data-dir', tmp.dir], { env: { OKTELL_USERS: 'a:b' } });
      assert.equal(sent.code, 0, sent.stdout + sent.stderr);
      assert.doesNotMatch(sent.stdout, /[\u0080-\u009f]/, JSON.stringify(sent.stdout));
      assert.match(sent.stdout, /→ HTTP 200 · run run\u00c2\\u009b2J\n/);
      assert.match(sent.stdout, /show run\u00c2\\u009b2J --data-dir /);
      const json = await runCliAsync(['webhook', 'send', '/x', body, '--url', url, '--no-sign', '--json', '--data-dir', tmp.dir], { env: { OKTELL_USERS: 'a:b' } });
      assert.equal(JSON.parse(json.stdout).runId, 'run\u00c2\u009b2J');
    } finally {
      await new Promise((resolve) => peer.close(resolve));
      tmp.cleanup();
    }
  });
});
