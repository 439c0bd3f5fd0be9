// A misspelt environment variable (OKTELL_PROT, SMTP_ULR) was ignored silently: the server started on the default
// port and sent letters to the outbox (operator trial, finding 1). The start now names each with a did-you-mean.
import assert from 'node:assert/strict';
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli, startServeProcess } from './cli-process.js';
import { repoPath, tempDir } from '../helpers.js';

describe('serve warns of environment variables it does not read', () => {
  it('OKTELL_PROT and SMTP_ULR: a warning each in the banner and the log, with the name meant, never the value', { timeout: 60_000 }, async () => {
    const tmp = tempDir();
    writeFileSync(join(tmp.dir, 'reports.sqlite'), '');
    const env = {
      OKTELL_USERS: 'ops:pw',
      OKTELL_PROT: '4741',
      SMTP_ULR: 'smtp://user:Very-Secret-9@127.0.0.1:25',
      // Read: a connection (OKTELL_DB_<NAME>), a variable a shipped scenario names (BpiumTaskChat's env:).
      OKTELL_DB_REPORTS: `sqlite:${join(tmp.dir, 'reports.sqlite')}`,
      OKTELL_CHAT_TOKEN: 'token-1',
      // Not the product's prefix: left alone.
      MY_OKTELL_THING: '1',
    };
    const serve = await startServeProcess({ dataDir: join(tmp.dir, 'var'), env });
    try {
      const banner = serve.stderr();
      assert.match(banner, /warning {4}environment variable OKTELL_PROT is not one oktell-emu reads, so it has no effect \(did you mean OKTELL_PORT\?\)/);
      assert.match(banner, /warning {4}environment variable SMTP_ULR is not one oktell-emu reads, so it has no effect \(did you mean SMTP_URL\?\)/);
      assert.doesNotMatch(banner, /OKTELL_DB_REPORTS|OKTELL_CHAT_TOKEN|MY_OKTELL_THING/);
      // The log stream may be written a little after the banner.
      for (let i = 0; i < 50 && !/listening on/.test(serve.stdout()); i++) await new Promise((r) => setTimeout(r, 100));
      const log = serve.stdout();
      assert.match(log, /"level":40.*environment variable OKTELL_PROT is not one oktell-emu reads.*did you mean OKTELL_PORT\?/);
      // The log line's field is the variable's name, so a log search finds it by name.
      const line = log.split('\n').find((l) => l.includes('OKTELL_PROT is not one'));
      assert.equal(JSON.parse(line ?? '{}').env, 'OKTELL_PROT');
      assert.match(log, /"level":40.*environment variable SMTP_ULR .*did you mean SMTP_URL\?/);
      assert.doesNotMatch(banner + log, /Very-Secret-9|4741/);
    } finally {
      await serve.stop();
      tmp.cleanup();
    }
  });

  it('a variable the configuration file names (passwordEnv: of a database) is read: no warning for it', { timeout: 60_000 }, async () => {
    const tmp = tempDir();
    const config = join(tmp.dir, 'oktell.config.yaml');
    // A PostgreSQL connection that no shipped scenario uses: the start does not connect to it.
    writeFileSync(config, 'databases:\n  crm: { url: "postgres://oktell@127.0.0.1:9/crm", passwordEnv: OKTELL_CRM_PASSWORD }\n');
    const serve = await startServeProcess({ dataDir: join(tmp.dir, 'var'), env: { OKTELL_USERS: 'ops:pw', OKTELL_CRM_PASSWORD: 'pw-1', OKTELL_PROT: '1' }, args: ['--config', config] });
    try {
      const banner = serve.stderr();
      assert.match(banner, /environment variable OKTELL_PROT is not one oktell-emu reads/);
      assert.doesNotMatch(banner, /OKTELL_CRM_PASSWORD/);
    } finally {
      await serve.stop();
      tmp.cleanup();
    }
  });
});

describe('validate warns of them too, and a reload withdraws or repeats the warning', () => {
  it('validate: OKTELL_PROT named with the name meant (exit 0, --json under warnings); OKTELL_CHAT_TOKEN, which a shipped scenario reads, not', () => {
    const env = { OKTELL_PROT: '4741', OKTELL_CHAT_TOKEN: 'token-1', SMTP_ULR: 'smtp://u:Very-Secret-9@127.0.0.1:25' };
    const text = runCli(['validate'], env);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /warning: environment variable OKTELL_PROT is not one oktell-emu reads, so it has no effect \(did you mean OKTELL_PORT\?\)/);
    assert.match(text.stdout, /warning: environment variable SMTP_ULR is not one oktell-emu reads.*SMTP_URL\?/);
    assert.doesNotMatch(text.stdout + text.stderr, /OKTELL_CHAT_TOKEN|Very-Secret-9|4741/);
    const json = runCli(['validate', '--json'], env);
    const warnings = (JSON.parse(json.stdout) as { warnings?: string[] }).warnings ?? [];
    assert.equal(warnings.filter((w) => w.startsWith('environment variable ')).length, 2);
    // The scenarios folder without BpiumTaskChat: nothing reads OKTELL_CHAT_TOKEN, so it is named.
    const tmp = tempDir();
    try {
      cpSync(repoPath('scenarios'), tmp.dir, { recursive: true });
      rmSync(join(tmp.dir, 'BpiumTaskChat.yaml'));
      rmSync(join(tmp.dir, 'tests'), { recursive: true, force: true });
      const without = runCli(['validate', '--scenarios', tmp.dir], env);
      assert.match(without.stdout, /warning: environment variable OKTELL_CHAT_TOKEN is not one oktell-emu reads/);
      // One file checked alone: BpiumTaskChat beside it still reads OKTELL_CHAT_TOKEN when `serve` loads the folder.
      const one = runCli(['validate', repoPath('scenarios/HTTP404.yaml')], env);
      assert.equal(one.code, 0, one.stderr);
      assert.match(one.stdout, /warning: environment variable OKTELL_PROT is not one oktell-emu reads/);
      assert.doesNotMatch(one.stdout + one.stderr, /OKTELL_CHAT_TOKEN/);
    } finally {
      tmp.cleanup();
    }
  });

  it('serve: a scenario saved later that reads the variable withdraws the start\'s warning (info); removed again, it is said again', { timeout: 60_000 }, async () => {
    const tmp = tempDir();
    const scenarios = join(tmp.dir, 'scenarios');
    cpSync(repoPath('scenarios'), scenarios, { recursive: true });
    rmSync(join(scenarios, 'tests'), { recursive: true, force: true });
    const serve = await startServeProcess({ dataDir: join(tmp.dir, 'var'), env: { OKTELL_USERS: 'ops:pw', OKTELL_WIDGET_TOKEN: 'w-1' }, args: ['--scenarios', scenarios] });
    const waitFor = async (re: RegExp) => {
      for (let i = 0; i < 100 && !re.test(serve.stdout()); i++) await new Promise((r) => setTimeout(r, 100));
      assert.match(serve.stdout(), re);
    };
    try {
      assert.match(serve.stderr(), /environment variable OKTELL_WIDGET_TOKEN is not one oktell-emu reads/);
      const file = join(scenarios, 'Widget.yaml');
      writeFileSync(file, [
        'variables:',
        '  token: { type: string, env: OKTELL_WIDGET_TOKEN }',
        'blocks:',
        '  start: { kind: Start, exits: { next: stop } }',
        '  stop: { kind: Stop }',
        '',
      ].join('\n'));
      await waitFor(/"level":30.*environment variable OKTELL_WIDGET_TOKEN is read after all \(by a scenario's env:\): the warning given for it earlier no longer holds/);
      const line = serve.stdout().split('\n').find((l) => l.includes('OKTELL_WIDGET_TOKEN is read after all'));
      assert.equal(JSON.parse(line ?? '{}').env, 'OKTELL_WIDGET_TOKEN');
      assert.equal(serve.stdout().split('\n').filter((l) => l.includes('OKTELL_WIDGET_TOKEN is not one')).length, 1);
      rmSync(file);
      for (let i = 0; i < 100 && serve.stdout().split('\n').filter((l) => l.includes('OKTELL_WIDGET_TOKEN is not one')).length < 2; i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(serve.stdout().split('\n').filter((l) => /"level":40.*OKTELL_WIDGET_TOKEN is not one/.test(l)).length, 2);
      assert.doesNotMatch(serve.stdout() + serve.stderr(), /w-1/);
    } finally {
      await serve.stop();
      tmp.cleanup();
    }
  });
});
