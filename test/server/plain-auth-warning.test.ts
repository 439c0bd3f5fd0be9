// The start-time warning for an SMTP login the mail client refuses on every letter when the server offers no
// STARTTLS (smtp:// with a user, to a host that is not loopback, without ?plainAuth=true or ?requireTLS=true): said
// by a real `serve` start (log and banner) and by a live `oktell-emu run`, never with the password.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { plainAuthWarning } from '../../adapters/mail/plain-auth-warning.js';
import { runCli } from '../cli/cli.helper.js';
import { tempDir } from '../helpers.js';
import { capturingLogger, startTestServer } from './server-helpers.js';

const PASSWORD = 'pw-S3cret';

describe('the warning for an SMTP login without TLS to a host that is not this machine', () => {
  it('a serve start with smtp://user:pw@mailpit:1025 warns in the log and the banner, naming what happens and both fixes, without the password', async () => {
    const log = capturingLogger();
    const t = await startTestServer({ smtp: false, logger: log.logger, env: { SMTP_URL: `smtp://robot:${PASSWORD}@mailpit:1025` } });
    try {
      const w = t.server.warnings.find((x) => x.startsWith('SMTP_URL'));
      assert.equal(
        w,
        'SMTP_URL smtp://robot:***@mailpit:1025 (STARTTLS when offered) logs in as robot over smtp:// to mailpit, which is not this machine, without ?plainAuth=true: ' +
          'the password is sent only after STARTTLS, so if mailpit offers none every letter fails at once with ETLS, not retried (SendMail takes no exit: the job is a dead letter at once, to replay after the fix). ' +
          'Fix: use TLS (smtps://, or a server with STARTTLS and ?requireTLS=true, which also silences this warning), or, on a trusted network only, ' +
          'add ?plainAuth=true to SMTP_URL to allow the login in clear (docs/mail.md, "Upgrading")',
      );
      assert.ok(log.lines.some((l) => l.level === 'warn' && l.msg === w), 'logged as a warning');
      assert.ok(!JSON.stringify(log.lines).includes(PASSWORD), 'the password is in no log line');
    } finally {
      await t.cleanup();
    }
  });

  for (const host of ['127.0.0.1', 'localhost', '[::1]']) {
    it(`a serve start with a login to the loopback host ${host} does not warn (the password never leaves the machine)`, async () => {
      const log = capturingLogger();
      const t = await startTestServer({ smtp: false, logger: log.logger, env: { SMTP_URL: `smtp://robot:${PASSWORD}@${host}:1025` } });
      try {
        assert.deepEqual(t.server.warnings, []);
        assert.ok(!log.lines.some((l) => l.level === 'warn' && /SMTP_URL/.test(l.msg ?? '')));
      } finally {
        await t.cleanup();
      }
    });
  }

  it('settings that cannot meet the refusal give none; ?ignoreTLS=true is said to fail every letter', () => {
    const none = [
      'smtp://mailpit:1025', // no login
      `smtps://robot:${PASSWORD}@smtp.example.ru`,
      `smtp://robot:${PASSWORD}@smtp.example.ru:587?requireTLS=true`,
      `smtp://robot:${PASSWORD}@mailpit:1025?plainAuth=true`,
      `smtp://robot:${PASSWORD}@127.0.0.5:1025`,
      'smtp://robot:pw@host with spaces', // malformed: the mailer's own error stops the start
    ];
    for (const url of none) assert.equal(plainAuthWarning({ SMTP_URL: url }), undefined, url);
    assert.equal(plainAuthWarning({}), undefined);
    const ignoring = plainAuthWarning({ SMTP_URL: `smtp://robot:${PASSWORD}@mailpit:1025?ignoreTLS=true` });
    assert.match(ignoring ?? '', /STARTTLS, which \?ignoreTLS=true turns off, so every letter fails at once with ETLS/);
    assert.ok(!ignoring!.includes(PASSWORD));
  });

  it('`oktell-emu run` warns on stderr before a live run; a dry run, which sends no mail, does not', () => {
    const tmp = tempDir();
    try {
      writeFileSync(join(tmp.dir, 'Hello.yaml'), 'start: done\nblocks:\n  done: { kind: ReturnValue, values: { 1: \'"hi"\' } }\n');
      const env = { SMTP_URL: `smtp://robot:${PASSWORD}@mailpit:1025`, OKTELL_DATA_DIR: join(tmp.dir, 'var') };
      const live = runCli(['run', 'Hello', '-s', tmp.dir], { env });
      assert.equal(live.code, 0, live.stderr);
      assert.match(live.stderr, /oktell-emu: warning: SMTP_URL smtp:\/\/robot:\*\*\*@mailpit:1025 .* every letter fails at once with ETLS/);
      assert.ok(!(live.stdout + live.stderr).includes(PASSWORD));
      const dry = runCli(['run', 'Hello', '-s', tmp.dir, '--dry-run'], { env });
      assert.equal(dry.code, 0, dry.stderr);
      assert.doesNotMatch(dry.stderr, /SMTP_URL/);
    } finally {
      tmp.cleanup();
    }
  });
});
