// A letter sent twice stays named when the attempt that sent it again was cut off in turn (trial 66, kill -9 under
// load): the first attempt sent the letter to the first responsible and was killed before journaling it; the second
// sent it again (marked `may repeat`), journaled it, and was killed while sending the second letter. Its run record
// died with it, so the mark was lost: the third attempt replayed the first letter from the journal as plain
// `replayed`, and runs, show and the console named only its own letter as a possible twin, not the one that did
// arrive twice. The mark now rides in the journal beside the letter's outcome, and the replay carries it. Real parts:
// `oktell-emu serve` in a child process killed with SIGKILL, its embedded Bpium emulator, smtp-server on loopback,
// the SQLite store.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCliAsync } from '../cli/cli.helper.js';
import { repoPath, tempDir } from '../helpers.js';
import { startSmtpServer } from '../mail/smtp-server.helper.js';
import { AUTH, parsedLetters, postWebhook, serveUrl, startChild, taskWebhook, waitFor } from '../server/server-helpers.js';

describe('may repeat, after two cut-off attempts', () => {
  it('the letter the second attempt sent again and journaled is still marked when the third attempt replays it', { timeout: 120_000 }, async () => {
    let child: ChildProcess | undefined;
    // Letter 1 (the first responsible's, attempt 1) and letter 3 (the second responsible's, attempt 2) are received
    // whole, then the server is killed before the SMTP server answers: neither attempt learns that its letter went.
    const smtp = await startSmtpServer({ afterData: (n) => (n === 1 || n === 3 ? (child?.kill('SIGKILL'), 'silent') : 'answer') });
    const tmp = tempDir();
    const dataDir = join(tmp.dir, 'var');
    const scenarios = join(tmp.dir, 'scenarios');
    cpSync(repoPath('scenarios'), scenarios, { recursive: true });
    // No pending mark before the kills: each unanswered letter is sent again, as after a crash right after an answer.
    const env = { SMTP_PENDING_MARK_MS: '600000' };
    let url = '';
    const start = async () => {
      const started = startChild(dataDir, scenarios, smtp.port, env);
      child = started.proc;
      url = await serveUrl(child, dataDir, started.output);
      return child;
    };
    const killed = async (proc: ChildProcess) => {
      if (proc.exitCode === null && proc.signalCode === null) await new Promise((r) => proc.once('exit', r));
      assert.equal(proc.signalCode, 'SIGKILL');
    };
    try {
      let running = await start();
      const secret = readFileSync(join(dataDir, 'bpium-webhook-secret'), 'utf8').trim();
      assert.equal((await postWebhook(url, taskWebhook({ name: 'дважды прерванная', responsible: ['2', '3'] }), secret)).status, 200);
      await killed(running);
      running = await start();
      await killed(running);
      running = await start();
      await waitFor('the second responsible’s letter again', () => smtp.letters.length === 4, 60_000);
      const letters = await parsedLetters(smtp);
      const to = letters.map((m) => (Array.isArray(m.to) ? m.to[0]!.text : m.to!.text));
      assert.deepEqual(to, ['ivan.petrov@example.com', 'ivan.petrov@example.com', 'maria.smirnova@example.org', 'maria.smirnova@example.org']);
      const [ivan, ivanAgain, maria, mariaAgain] = letters.map((m) => m.messageId);
      assert.equal(ivan, ivanAgain, 'the two copies of the first letter carry one Message-ID');
      assert.equal(maria, mariaAgain);

      const listed = await runCliAsync(['runs', '--json', '--data-dir', dataDir]);
      assert.equal(listed.code, 0, listed.stderr);
      const rows = (JSON.parse(listed.stdout) as Array<{ id: string; status: string; scenario: string; attempt: number; mayRepeat?: boolean; outcome?: string }>).filter((r) => r.scenario === 'BpiumNewTask');
      assert.deepEqual(
        rows.map((r) => [r.status, r.attempt]),
        [
          ['completed', 3],
          ['failed', 2],
          ['failed', 1],
        ],
      );
      const last = rows[0]!;
      assert.equal(last.mayRepeat, true);
      // The list counts each letter once across the attempts: the replayed one is named apart from the one sent.
      assert.equal(last.outcome, 'letter sent to maria.smirnova@example.org; letter sent earlier to ivan.petrov@example.com; notified 2 of 2');
      const shown = await runCliAsync(['show', last.id, '--data-dir', dataDir]);
      assert.equal(shown.code, 0, shown.stderr);
      // The letter that did arrive twice is named, by its Message-ID, though this attempt only replayed it.
      assert.ok(shown.stdout.includes(`mail replayed to ivan.petrov@example.com · Новая задача: дважды прерванная may repeat · Message-ID ${ivan}`), shown.stdout);
      assert.ok(shown.stdout.includes(`mail sent to maria.smirnova@example.org · Новая задача: дважды прерванная may repeat · Message-ID ${maria}`), shown.stdout);
      assert.match(shown.stdout, /note replayed, not made again: the earlier attempt that made it followed a cut-off attempt/);
      const page = await (await fetch(`${url}/-/console/runs/${last.id}`, { headers: { authorization: AUTH } })).text();
      assert.ok(page.includes(`Message-ID <code>${ivan!.replace('<', '&lt;').replace('>', '&gt;')}</code>`), 'the console names the replayed twin’s Message-ID');
    } finally {
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child!.once('exit', r));
      }
      await smtp.close();
      tmp.cleanup();
    }
  });
});
