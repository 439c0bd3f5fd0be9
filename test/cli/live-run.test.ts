// `oktell-emu run` without --dry-run: real effects — over SMTP when SMTP_URL is set, into the outbox otherwise.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
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
  it('with SMTP_URL the letters are delivered over SMTP, and run waits for the async scenario', { timeout: 30_000 }, async () => {
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

  it('without SMTP_URL the letters land in the outbox, listed by `outbox --json`', { timeout: 30_000 }, async () => {
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
});
