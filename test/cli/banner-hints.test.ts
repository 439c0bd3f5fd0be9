// The start banner's "Try it" hints follow the configuration (review s24, O8): `demo` only with the embedded Bpium
// emulator, `outbox` only when letters go to the outbox.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli, startServeProcess } from './cli-process.js';
import { tasksCommandHint } from '../../cli/commands/serve.js';
import { tempDir } from '../helpers.js';

async function banner(env: Record<string, string>): Promise<string> {
  const tmp = tempDir();
  const serve = await startServeProcess({ dataDir: join(tmp.dir, 'var'), env: { OKTELL_USERS: 'ops:pw', ...env } });
  try {
    return serve.stderr();
  } finally {
    await serve.stop();
    tmp.cleanup();
  }
}

describe('the start banner suggests only what works with the configuration', () => {
  it('defaults (embedded emulator, outbox): demo and outbox are suggested', { timeout: 60_000 }, async () => {
    const text = await banner({});
    // The command itself: `npm run demo` is a script of the repository, which an installed package does not have.
    assert.match(text, /\n {2}npx oktell-emu demo --data-dir \S+\n/);
    assert.doesNotMatch(text, /npm run/);
    assert.match(text, /npx oktell-emu outbox --data-dir .*# letters written to the outbox/);
  });

  it('BPIUM_URL and SMTP_URL set: no demo, no outbox; runs says where letters go', { timeout: 60_000 }, async () => {
    // Nothing listens there: the start does not connect to either.
    const text = await banner({ BPIUM_URL: 'http://127.0.0.1:9/', BPIUM_LOGIN: 'a@b.ru', BPIUM_PASSWORD: 'x', SMTP_URL: 'smtp://127.0.0.1:9' });
    assert.doesNotMatch(text, /oktell-emu demo/);
    assert.doesNotMatch(text, /oktell-emu outbox/);
    assert.match(text, /npx oktell-emu runs --data-dir .*letters go over SMTP; show <runId> lists them/);
    assert.match(text, /Try it:\n {2}# post a webhook:\n {2}curl -u 'ops:PASSWORD'/);
  });

  it('BPIUM_URL with a secret for every path: webhook send (which works as printed), no emulator, no unsigned curl (trial s32, finding 11)', { timeout: 60_000 }, async () => {
    const tmp = tempDir();
    const env = { OKTELL_USERS: 'ops:pw', BPIUM_URL: 'http://127.0.0.1:9/', BPIUM_LOGIN: 'a@b.ru', BPIUM_PASSWORD: 'x', BPIUM_WEBHOOK_SECRET: 'Every-Path-1' };
    const serve = await startServeProcess({ dataDir: join(tmp.dir, 'var'), env });
    try {
      const text = serve.stderr();
      const tryIt = text.slice(text.indexOf('Try it:'));
      assert.doesNotMatch(tryIt, /emulator/);
      assert.doesNotMatch(tryIt, /curl /);
      assert.match(tryIt, /# \/Bpium\/NewTask requires X-Hook-Signature \(webhook send signs/);
      const line = /\n {2}echo '(\{.*\})' \| (npx oktell-emu webhook send .* -)\n/.exec(tryIt);
      assert.ok(line, tryIt);
      // Typed as printed (with the server's settings), it is answered by the scenario, not refused.
      const sent = runCli(line[2]!.split(' ').slice(2), env, line[1]!);
      assert.equal(sent.code, 0, sent.stdout + sent.stderr);
      assert.match(sent.stdout, /signed with the secret for every path\)\n→ HTTP 200 /);
    } finally {
      await serve.stop();
      tmp.cleanup();
    }
  });

  it('BPIUM_URL with a secret for /Bpium/NewTask only: webhook send for it, and curl for other paths, without the emulator', { timeout: 60_000 }, async () => {
    const tmp = tempDir();
    const config = join(tmp.dir, 'hook.config.yaml');
    writeFileSync(config, 'webhookSecrets:\n  /Bpium/NewTask: NewTask-Secret-1\n');
    const env = { OKTELL_USERS: 'ops:pw', BPIUM_URL: 'http://127.0.0.1:9/', BPIUM_LOGIN: 'a@b.ru', BPIUM_PASSWORD: 'x' };
    const serve = await startServeProcess({ dataDir: join(tmp.dir, 'var'), env, args: ['--config', config] });
    try {
      const tryIt = serve.stderr().slice(serve.stderr().indexOf('Try it:'));
      assert.doesNotMatch(tryIt, /emulator/);
      assert.match(tryIt, /npx oktell-emu webhook send --fresh --data-dir \S+ --config \S+ \/Bpium\/NewTask -\n/);
      assert.match(tryIt, /# other paths are not signed:\n {2}curl -u 'ops:PASSWORD' http:\/\/\S+\/anything/);
    } finally {
      await serve.stop();
      tmp.cleanup();
    }
  });

  it('the embedded emulator (its generated secret for /Bpium/NewTask): the emulator signs, other paths take a plain curl', { timeout: 60_000 }, async () => {
    const tryIt = (await banner({})).split('Try it:')[1]!;
    assert.match(tryIt, /# \/Bpium\/NewTask requires X-Hook-Signature \(the embedded emulator signs its webhooks; webhook send signs/);
    assert.match(tryIt, /curl -u 'ops:PASSWORD' http:\/\/\S+\/anything/);
  });

  it('the tasks hint carries --data-dir, --config and --scenarios, as the other hints do, and works as printed (newcomer s28, finding 8)', { timeout: 60_000 }, async () => {
    const tmp = tempDir();
    const data = join(tmp.dir, 'data');
    const config = join(tmp.dir, 'tasks.config.yaml');
    writeFileSync(config, 'serviceTasks:\n  - { name: report, scenario: DailyReport, cron: "0 9 * * *", timeZone: UTC }\n');
    const serve = await startServeProcess({ dataDir: data, env: { OKTELL_USERS: 'ops:pw' }, args: ['--config', config] });
    try {
      const line = /\n {2}tasks {6}report \(0 9 \* \* \*, next [^)]+\) \((.+): last and next runs\)\n/.exec(serve.stderr());
      assert.ok(line, serve.stderr());
      assert.equal(line[1], `npx oktell-emu tasks --data-dir ${data} --config ${config}`);
      // Typed as printed, in the server's folder, it reads this server's schedule and store.
      const listed = runCli(line[1]!.split(' ').slice(2));
      assert.equal(listed.code, 0, listed.stderr);
      assert.match(listed.stdout, /^report {2}DailyReport {2}0 9 \* \* \* {2}UTC\n/);
    } finally {
      await serve.stop();
      tmp.cleanup();
    }
  });

  it('a scenarios folder without BpiumNewTask: no demo and no /Bpium/NewTask webhook, which would meet the hook\'s 404; the reason said (trial-integrator, finding 17)', { timeout: 60_000 }, async () => {
    const tmp = tempDir();
    const own = join(tmp.dir, 'own');
    mkdirSync(own);
    writeFileSync(join(own, 'HTTP404.yaml'), "start: r\nblocks:\n  r: { kind: ReturnValue, values: { 1: '\"no\"', 2: '404' } }\n");
    try {
      const tryIt = (await banner({ OKTELL_SCENARIOS: own })).split('Try it:')[1]!;
      assert.doesNotMatch(tryIt, /oktell-emu demo/);
      assert.doesNotMatch(tryIt, /\/Bpium\/NewTask -|\/Bpium\/NewTask\n/);
      assert.match(tryIt, new RegExp(`\\n {2}# demo and the /Bpium/NewTask webhook need the scenarios BpiumNewTask and HTTP404 \\(the hook scenario\\), which ${own.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} does not both have\\n`));
    } finally {
      tmp.cleanup();
    }
  });

  it('the tasks hint names a scenarios folder other than ./scenarios, and keeps OKTELL_CONFIG= of a PostgreSQL runs hint', () => {
    assert.equal(tasksCommandHint({ runs: 'npx oktell-emu runs' }, undefined, '/srv/sc', '/work'), 'npx oktell-emu tasks --scenarios /srv/sc');
    assert.equal(tasksCommandHint({ runs: 'npx oktell-emu runs' }, '/work/oktell.config.yaml', '/work/scenarios', '/work'), 'npx oktell-emu tasks');
    assert.equal(tasksCommandHint({ runs: 'OKTELL_CONFIG=/etc/o.yaml npx oktell-emu runs' }, '/etc/o.yaml', '/work/scenarios', '/work'), 'OKTELL_CONFIG=/etc/o.yaml npx oktell-emu tasks');
  });
});
