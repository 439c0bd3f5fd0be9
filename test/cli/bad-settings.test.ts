// Each wrong setting stops `serve` with one line naming it and exit 2 (docs/cli.md), never a stack trace
// (review s24, O3): the settings as data, run through the real binary.
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from './cli.helper.js';
import { tempDir } from '../helpers.js';

interface Case {
  name: string;
  env?: Record<string, string>;
  /** Replaces `--data-dir <tmp>/var` (a data folder that cannot be made). */
  dataDir?: string;
  args?: string[];
  /** What the one line says, after `oktell-emu: `. */
  says: RegExp;
  /** Text that must not appear (a secret the setting held). */
  hides?: string;
}

const tmp = tempDir();
after(() => tmp.cleanup());
const aFile = join(tmp.dir, 'a-file');
writeFileSync(aFile, 'x');

const CASES: Case[] = [
  { name: 'OKTELL_LOG_LEVEL', env: { OKTELL_LOG_LEVEL: 'verbose' }, says: /^OKTELL_LOG_LEVEL="verbose": expected trace, debug, info, warn, error, fatal or silent$/ },
  { name: 'OKTELL_USERS without a colon', env: { OKTELL_USERS: 'bad' }, says: /^OKTELL_USERS: entry 1 of 1 is not login:password/ },
  { name: 'OKTELL_USERS with a comma in a password', env: { OKTELL_USERS: 'ops:pw,MyS3cretPassw0rd' }, says: /^OKTELL_USERS: entry 2 of 2 is not login:password .*users: in the config file/, hides: 'MyS3cret' },
  { name: 'OKTELL_TRUST_PROXY', env: { OKTELL_TRUST_PROXY: 'banana' }, says: /^OKTELL_TRUST_PROXY="banana": "banana" is not an address/ },
  { name: 'BPIUM_RATE_LIMIT', env: { BPIUM_RATE_LIMIT: 'fast' }, says: /^BPIUM_RATE_LIMIT must look like/ },
  { name: 'BPIUM_URL without a login', env: { BPIUM_URL: 'company.bpium.ru' }, says: /^BPIUM_URL is set, so BPIUM_LOGIN and BPIUM_PASSWORD must be set too$/ },
  // Review s30 L2: an address that does not parse is quoted with its login and password masked.
  { name: 'BPIUM_URL with a password and a bad port', env: { BPIUM_URL: 'http://u:ZEBRA-X11@host:99999', BPIUM_LOGIN: 'a', BPIUM_PASSWORD: 'b' }, says: /^BPIUM_URL is not a valid address: "http:\/\/\*\*\*@host:99999"$/, hides: 'ZEBRA-X11' },
  { name: 'BPIUM_URL with a password and a space in the scheme', env: { BPIUM_URL: 'ht tp://u:ZEBRA-X10@host', BPIUM_LOGIN: 'a', BPIUM_PASSWORD: 'b' }, says: /^BPIUM_URL is not a valid address: "\*\*\*@host"$/, hides: 'ZEBRA-X10' },
  { name: 'SMTP_URL', env: { SMTP_URL: 'http://x' }, says: /^SMTP_URL must start with smtp:\/\/ or smtps:\/\// },
  { name: 'SMTP_URL with a bad % in the password', env: { SMTP_URL: 'smtp://u:Smtp%zzSecret48@127.0.0.1:1' }, says: /^SMTP_URL: the password has a % that is not followed by two hex digits .*%25/, hides: 'Secret48' },
  { name: 'OKTELL_HOST that does not resolve', env: { OKTELL_HOST: '999.1.1.1' }, args: [], says: /^cannot listen on host "999\.1\.1\.1" .*OKTELL_HOST/ },
  { name: 'a missing TLS file', env: { OKTELL_TLS_CERT: join(tmp.dir, 'nope.pem'), OKTELL_TLS_KEY: join(tmp.dir, 'nope-key.pem') }, says: /^OKTELL_TLS_CERT or tls\.cert .*nope\.pem cannot be read: ENOENT$/ },
  { name: 'a missing scenarios folder', args: ['-s', join(tmp.dir, 'scenarios-nope')], says: /^the scenarios folder .*scenarios-nope does not exist or is not a folder: give it with -s\/--scenarios, OKTELL_SCENARIOS/ },
  { name: 'a data folder under a file', dataDir: join(aFile, 'var'), says: /^the data folder .*a-file\/var cannot be created: .*a-file is not a folder; choose another with --data-dir, OKTELL_DATA_DIR/ },
  ...(existsSync('/proc/self') ? [{ name: 'a data folder that cannot be made (/proc)', dataDir: '/proc/oktell-test-nope', says: /^the data folder \/proc\/oktell-test-nope cannot be created: ENOENT/ }] : []),
];

describe('a wrong setting stops serve with one line naming it, exit 2', () => {
  for (const c of CASES) {
    it(c.name, { timeout: 60_000 }, () => {
      // --host 127.0.0.1 unless the case is about the host; ports 0 so nothing on the machine is in the way.
      const host = c.env?.OKTELL_HOST ? [] : ['--host', '127.0.0.1'];
      const args = ['serve', '--port', '0', '--bpium-emulator-port', '0', ...host, '--data-dir', c.dataDir ?? join(tmp.dir, 'var'), ...(c.args ?? [])];
      // A start that wrongly succeeds is cut off by the timeout (code null) and fails the test.
      const r = runCli(args, { env: { OKTELL_USERS: 'ops:pw', ...c.env }, timeoutMs: 45_000 });
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(r.code, 2, r.stderr);
      assert.equal(lines.length, 1, `one line, no stack:\n${r.stderr}`);
      assert.match(lines[0]!, /^oktell-emu: /);
      assert.match(lines[0]!.replace(/^oktell-emu: /, ''), c.says);
      if (c.hides) assert.ok(!r.stderr.includes(c.hides) && !r.stdout.includes(c.hides), 'the secret is not echoed');
    });
  }
});
