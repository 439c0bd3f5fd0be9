// A start that cannot succeed is refused before it touches anything (review s26-cli F8): a wrong SMTP or Bpium
// setting, an unreadable TLS file, a host that is not this machine's or a port another program holds stops `serve`
// with one line naming the setting and exit 2, and the data folder it was given is not created (nor a store migrated
// in it, nor a user generated there).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCliAsync } from './cli.helper.js';
import { tempDir } from '../helpers.js';

const tmp = tempDir();
/** A port held by this test process (a real listening socket), so the server's and the emulator's listen fail. */
let holder: Server;
let heldPort = 0;

before(async () => {
  holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  heldPort = (holder.address() as { port: number }).port;
});
after(async () => {
  await new Promise<void>((resolve) => holder.close(() => resolve()));
  tmp.cleanup();
});

interface Case {
  name: string;
  env?: Record<string, string>;
  /** Flags after the usual ones (ports 0, host 127.0.0.1, the data folder); a function when it needs the held port. */
  args?: () => string[];
  /** What the one line says, after `oktell-emu: ` (HELD stands for the held port). */
  says: RegExp;
}

const CASES: Case[] = [
  { name: 'an SMTP_URL that is not a URL', env: { SMTP_URL: 'smtp//mail.example.com' }, says: /^SMTP_URL is not a valid URL/ },
  // Which part is wrong (operator trial, finding 4); a port that may be a piece of the password is not quoted.
  { name: 'an SMTP_URL whose port is not a number', env: { SMTP_URL: 'smtp://127.0.0.1:notaport' }, says: /^SMTP_URL is not a valid URL: the port "notaport" is not a number \(expected smtp:\/\/user:pass@host:port/ },
  { name: 'an SMTP_URL whose port is above 65535', env: { SMTP_URL: 'smtp://127.0.0.1:70000' }, says: /^SMTP_URL is not a valid URL: the port 70000 is above 65535/ },
  { name: 'an SMTP_URL with a "/" in its password', env: { SMTP_URL: 'smtp://robot:pa/Secret7@mail.example.com:587' }, says: /^SMTP_URL is not a valid URL: the port \(after the host's ":"\) is not a number, or the password holds a "\/", "\?" or "#", which must be written %2F, %3F, %23 \(/ },
  { name: 'an SMTP_URL of an unknown scheme', env: { SMTP_URL: 'imap://mail.example.com' }, says: /^SMTP_URL must start with smtp:\/\/ or smtps:\/\/, not imap:\/\// },
  { name: 'an SMTP_URL with an unknown option', env: { SMTP_URL: 'smtp://127.0.0.1:2525?tls=yes' }, says: /^SMTP_URL has an unknown option "tls"/ },
  { name: 'SMTP_MAX_CONNECTIONS out of range', env: { SMTP_URL: 'smtp://127.0.0.1:2525', SMTP_MAX_CONNECTIONS: '0' }, says: /^SMTP_MAX_CONNECTIONS must be a whole number from 1 to 100/ },
  { name: 'an unknown SMTP_UNKNOWN_OUTCOME policy', env: { SMTP_URL: 'smtp://127.0.0.1:2525', SMTP_UNKNOWN_OUTCOME: 'resend' }, says: /^SMTP_UNKNOWN_OUTCOME must be dead-letter or retry/ },
  { name: 'an SMTP_PENDING_MARK_MS of 0', env: { SMTP_URL: 'smtp://127.0.0.1:2525', SMTP_PENDING_MARK_MS: '0' }, says: /^SMTP_PENDING_MARK_MS must be a whole number of milliseconds from 1 to 600000, got "0"$/ },
  { name: 'a MAIL_FROM of two addresses', env: { MAIL_FROM: 'a@example.com, b@example.com' }, says: /^MAIL_FROM must be one address/ },
  { name: 'a BPIUM_URL of an unknown scheme', env: { BPIUM_URL: 'ftp://company.bpium.ru', BPIUM_LOGIN: 'a@b.ru', BPIUM_PASSWORD: 'x' }, says: /^BPIUM_URL must use http or https, not ftp:/ },
  { name: 'a BPIUM_URL without a login', env: { BPIUM_URL: 'company.bpium.ru' }, says: /^BPIUM_URL is set, so BPIUM_LOGIN and BPIUM_PASSWORD must be set too$/ },
  { name: 'a bad BPIUM_RATE_LIMIT with the embedded emulator', env: { BPIUM_RATE_LIMIT: 'fast' }, says: /^BPIUM_RATE_LIMIT must look like/ },
  { name: 'a bad WEB_REQUEST_ATTEMPTS', env: { WEB_REQUEST_ATTEMPTS: 'many' }, says: /^WEB_REQUEST_ATTEMPTS must be a whole number of at least 1, got "many"$/ },
  { name: 'a missing TLS certificate', env: { OKTELL_TLS_CERT: join(tmp.dir, 'nope.pem'), OKTELL_TLS_KEY: join(tmp.dir, 'nope-key.pem') }, says: /^OKTELL_TLS_CERT or tls\.cert .*nope\.pem cannot be read: ENOENT$/ },
  { name: 'an OKTELL_HOST that is not an address of this machine', env: { OKTELL_HOST: '999.1.1.1' }, says: /^cannot listen on host "999\.1\.1\.1" .*OKTELL_HOST/ },
  { name: 'the server port in use', args: () => ['--port', String(heldPort)], says: /^cannot listen on 127\.0\.0\.1:HELD \(EADDRINUSE\): another program uses the port of the server; set --port, OKTELL_PORT or port in the config file$/ },
  { name: 'the embedded emulator port in use', args: () => ['--bpium-emulator-port', String(heldPort)], says: /^cannot listen on 127\.0\.0\.1:HELD \(EADDRINUSE\): another program uses the port of the embedded Bpium emulator; set --bpium-emulator-port, BPIUM_EMULATOR_PORT or bpiumEmulatorPort in the config file \(or BPIUM_URL to use another Bpium\)$/ },
  // Trial 38 docs finding 7: these three were checked only after the data folder was made.
  { name: 'a scenarios folder that does not exist', env: { OKTELL_SCENARIOS: join(tmp.dir, 'no-scenarios') }, says: /^the scenarios folder .*no-scenarios does not exist or is not a folder/ },
  { name: 'an unknown OKTELL_LOG_LEVEL', env: { OKTELL_LOG_LEVEL: 'verbose' }, says: /^OKTELL_LOG_LEVEL="verbose": expected trace, debug/ },
  { name: 'an unknown OKTELL_LOG_FORMAT', env: { OKTELL_LOG_FORMAT: 'xml' }, says: /^OKTELL_LOG_FORMAT=xml: expected json or pretty$/ },
];

describe('serve refuses a start that cannot succeed before it creates the data folder', () => {
  for (const [i, c] of CASES.entries()) {
    it(c.name, { timeout: 60_000 }, async () => {
      const dataDir = join(tmp.dir, `var-${i}`, 'data');
      // Later flags win: a case's --port replaces the 0 given first.
      // --host 127.0.0.1 unless the case is about the host.
      const host = c.env?.OKTELL_HOST ? [] : ['--host', '127.0.0.1'];
      const args = ['serve', '--port', '0', '--bpium-emulator-port', '0', ...host, '--data-dir', dataDir, ...(c.args?.() ?? [])];
      const r = await runCliAsync(args, { env: { OKTELL_USERS: 'ops:pw', ...c.env }, timeoutMs: 45_000 });
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(r.code, 2, r.stderr);
      assert.equal(lines.length, 1, `one line, no stack:\n${r.stderr}`);
      // Nothing was started, so nothing logged its start (a store migration, a database's migrations) on stdout.
      assert.equal(r.stdout, '');
      assert.match(lines[0]!, /^oktell-emu: /);
      const says = new RegExp(c.says.source.replace('HELD', String(heldPort)));
      assert.match(lines[0]!.replace(/^oktell-emu: /, ''), says);
      assert.equal(existsSync(dataDir), false, `the data folder ${dataDir} was created before the refusal`);
      assert.equal(existsSync(join(tmp.dir, `var-${i}`)), false, 'nor the folder above it');
    });
  }
});
