// `oktell-emu run` without --dry-run: real effects — over SMTP when SMTP_URL is set, into the outbox otherwise.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { startSmtpServer } from '../mail/smtp-server.helper.js';
import { repoPath, repoRoot, tempDir } from '../helpers.js';

function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [repoPath('bin', 'oktell-emu.js'), ...args], { cwd: repoRoot, env: { ...process.env, BPIUM_URL: '', NO_COLOR: '1', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const args = ['run', 'HTTP404', '-p', '1=/Bpium/NewTask', '-p', '4=@test/fixtures/record-created.json', '--bpium-fixtures', 'test/fixtures/bpium-users.yaml', '--json'];

describe('oktell-emu run, live', () => {
  it('with SMTP_URL the letters are delivered over SMTP, and run waits for the async scenario', { timeout: 90_000 }, async () => {
    const smtp = await startSmtpServer();
    const tmp = tempDir();
    try {
      const r = await cli(args, { SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, OKTELL_DATA_DIR: tmp.dir, MAIL_FROM: 'oktell@example.com' });
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      assert.deepEqual(out.asyncStarted[0].result.mails.map((m: { status: string; transport: string }) => [m.status, m.transport]), [['sent', 'smtp'], ['sent', 'smtp']]);
      assert.equal(smtp.letters.length, 2, 'both letters arrived before run exited');
      const parsed = await Promise.all(smtp.letters.map((l) => simpleParser(l.raw)));
      assert.deepEqual(parsed.map((p) => p.subject), ['Новая задача: Перезвонить клиенту', 'Новая задача: Перезвонить клиенту']);
    } finally {
      await smtp.close();
      tmp.cleanup();
    }
  });

  it('without SMTP_URL the letters land in the outbox, listed by `outbox --json`', { timeout: 90_000 }, async () => {
    const tmp = tempDir();
    try {
      const r = await cli(args, { SMTP_URL: '', OKTELL_DATA_DIR: tmp.dir });
      assert.equal(r.code, 0, r.stderr);
      const list = await cli(['outbox', '--json'], { OKTELL_DATA_DIR: tmp.dir });
      assert.equal(list.code, 0, list.stderr);
      const letters = JSON.parse(list.stdout) as Array<{ to: string[]; subject: string; file: string }>;
      assert.deepEqual(letters.map((l) => l.to[0]).sort(), ['ivan.petrov@example.com', 'maria.smirnova@example.org']);
      assert.ok(letters.every((l) => l.file.endsWith('.eml')));
    } finally {
      tmp.cleanup();
    }
  });

  it("gives its runs the server's sortable ids, so a later run's id sorts after an earlier one's", { timeout: 90_000 }, async () => {
    const tmp = tempDir();
    try {
      const ids: string[] = [];
      for (let i = 0; i < 2; i++) {
        const r = await cli(args, { SMTP_URL: '', OKTELL_DATA_DIR: tmp.dir });
        assert.equal(r.code, 0, r.stderr);
        const root = JSON.parse(r.stdout) as { runId: string; asyncStarted: Array<{ runId: string }> };
        ids.push(root.runId, root.asyncStarted[0]!.runId);
      }
      // 26 characters of lower-case Crockford base32, time first (server/store/sortable-id.ts), not a UUID.
      for (const id of ids) assert.match(id, /^[0-9a-hjkmnp-tv-z]{26}$/);
      assert.ok(ids[0]! < ids[2]!, `the second run's id ${ids[2]} sorts after the first's ${ids[0]}`);
    } finally {
      tmp.cleanup();
    }
  });

  it('records the run and the async run it started, so `runs` and `show` find them; a dry run records nothing', { timeout: 90_000 }, async () => {
    const tmp = tempDir();
    try {
      const dry = await cli([...args, '--dry-run'], { SMTP_URL: '', OKTELL_DATA_DIR: tmp.dir });
      assert.equal(dry.code, 0, dry.stderr);
      assert.deepEqual(JSON.parse((await cli(['runs', '--json'], { OKTELL_DATA_DIR: tmp.dir })).stdout), []);
      const r = await cli(args, { SMTP_URL: '', OKTELL_DATA_DIR: tmp.dir });
      assert.equal(r.code, 0, r.stderr);
      const root = JSON.parse(r.stdout) as { runId: string; asyncStarted: Array<{ runId: string }> };
      const runs = JSON.parse((await cli(['runs', '--json'], { OKTELL_DATA_DIR: tmp.dir })).stdout) as Array<{ id: string; scenario: string; trigger: string; status: string }>;
      assert.deepEqual(
        runs.map((x) => [x.id, x.scenario, x.trigger, x.status]).sort(),
        [[root.runId, 'HTTP404', 'cli', 'completed'], [root.asyncStarted[0]!.runId, 'BpiumNewTask', 'async', 'completed']].sort(),
      );
      // As text: a header names the columns, each above its values; --json (above) has none.
      const listed = (await cli(['runs'], { OKTELL_DATA_DIR: tmp.dir })).stdout.trimEnd().split('\n');
      assert.equal(listed.length, 3, listed.join('\n'));
      assert.match(listed[0]!, /^started\s+status\s+scenario\s+trigger\s+duration\s+run$/);
      const rootLine = listed.find((l) => l.includes(root.runId))!;
      assert.match(rootLine, /^\S+\s+completed\s+HTTP404\s+cli\s+[\d.]+ ms\s+\S+/);
      for (const [name, value] of [['status', 'completed'], ['scenario', 'HTTP404'], ['trigger', 'cli'], ['run', root.runId]] as const) {
        assert.equal(listed[0]!.indexOf(` ${name}`) + 1, rootLine.indexOf(value), `the ${name} column`);
      }
      assert.equal(listed[0]!.indexOf('duration') + 'duration'.length, rootLine.indexOf(' ms') + ' ms'.length, 'the duration column ends under its header');
      const shown = await cli(['show', root.asyncStarted[0]!.runId, '--json'], { OKTELL_DATA_DIR: tmp.dir });
      assert.equal(shown.code, 0, shown.stderr);
      const child = JSON.parse(shown.stdout) as { parentRunId: string; mails: unknown[] };
      assert.equal(child.parentRunId, root.runId);
      assert.equal(child.mails.length, 2);
      // A parameter read from a named pipe (which gives its content once) is read once, and the record keeps it.
      const fifo = join(tmp.dir, 'body.fifo');
      execFileSync('mkfifo', [fifo]);
      const running = cli(['run', 'HTTP404', '-p', '1=/elsewhere', '-p', `4=@${fifo}`, '--json'], { OKTELL_DATA_DIR: tmp.dir });
      writeFileSync(fifo, '{"piped":true}');
      const piped = await running;
      assert.equal(piped.code, 0, piped.stderr);
      const pipedRun = JSON.parse((await cli(['show', JSON.parse(piped.stdout).runId, '--json'], { OKTELL_DATA_DIR: tmp.dir })).stdout) as { params: Record<string, string> };
      assert.deepEqual(pipedRun.params, { '1': '/elsewhere', '4': '{"piped":true}' });
      const text = await cli(args.filter((a) => a !== '--json'), { SMTP_URL: '', OKTELL_DATA_DIR: tmp.dir });
      assert.equal(text.stderr, `recorded in ${join(tmp.dir, 'oktell.sqlite')}: npx oktell-emu show ${/show ([0-9a-hjkmnp-tv-z]{26}) /.exec(text.stderr)?.[1]} --data-dir ${tmp.dir}\n`);
    } finally {
      tmp.cleanup();
    }
  });
});
