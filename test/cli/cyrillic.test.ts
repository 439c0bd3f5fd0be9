// A Russian integrator's scenario folder, through the real CLI: a Cyrillic scenario file name, a mail template named in
// Cyrillic, Cyrillic and emoji in the letter (received by a real SMTP server on loopback and read back with
// mailparser), and `run`'s printed values cut without splitting an emoji into two halves.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { runCli, runCliAsync } from './cli.helper.js';
import { startSmtpServer, type TestSmtpServer } from '../mail/smtp-server.helper.js';

const SCENARIO = `# Новая задача: письмо по-русски
description: Письмо о новой задаче
variables:
  название: string
  клиент: string
start: начало
blocks:
  начало:
    kind: Variable
    title: Сохранить параметры
    set:
      название: InputParameter(1)
      клиент: '"Фёдор Иванович"'
    exits: { next: письмо }
  письмо:
    kind: SendMail
    title: Письмо ответственному
    to: '«"Иван Петров" <ivan@example.ru>, Константинопольский Константин <konstantin.konstantinopolsky@example.ru>»'
    template: новая-задача
    exits: { success: конец, error: конец }
  конец:
    kind: Stop
`;

describe('a Cyrillic scenario folder through the CLI', () => {
  let dir: string;
  let smtp: TestSmtpServer;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'oktell-cyr-'));
    mkdirSync(join(dir, 'scenarios', 'templates'), { recursive: true });
    writeFileSync(join(dir, 'scenarios', 'НоваяЗадача.yaml'), SCENARIO);
    writeFileSync(join(dir, 'scenarios', 'templates', 'новая-задача.subject.njk'), 'Новая задача: {{ название }}\n');
    writeFileSync(join(dir, 'scenarios', 'templates', 'новая-задача.text.njk'), 'Здравствуйте!\nЗадача «{{ название }}» для клиента {{ клиент }}.\n');
    smtp = await startSmtpServer();
  });
  after(async () => {
    await smtp.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('validates a template named in Cyrillic, and a misspelt one gets the right name as a hint', () => {
    const ok = runCli(['validate'], { cwd: dir, unset: ['OKTELL_SCENARIOS'] });
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    writeFileSync(join(dir, 'scenarios', 'Опечатка.yaml'), SCENARIO.replace('template: новая-задача', 'template: новая-задачи'));
    try {
      const bad = runCli(['validate', '--json'], { cwd: dir, unset: ['OKTELL_SCENARIOS'] });
      assert.equal(bad.code, 1, bad.stdout + bad.stderr);
      const issues = (JSON.parse(bad.stdout) as { issues: Array<{ file: string; code: string; message: string; hint?: string }> }).issues;
      assert.deepEqual(issues.map((i) => [i.file.endsWith('Опечатка.yaml'), i.code, i.message, i.hint]), [
        [true, 'E_INVALID_TEMPLATE', 'mail template "новая-задачи" not found', 'did you mean "новая-задача"?'],
      ]);
    } finally {
      rmSync(join(dir, 'scenarios', 'Опечатка.yaml'));
    }
  });

  it('sends the letter over SMTP: subject, display name and text arrive exactly as written', async () => {
    const title = `Позвонить клиенту 📞 ${'очень длинное название задачи '.repeat(4)}конец`;
    const r = await runCliAsync(['run', 'НоваяЗадача', '-p', `1=${title}`, '--json', '-d', join(dir, 'var')], {
      cwd: dir,
      unset: ['OKTELL_SCENARIOS', 'OKTELL_DATA_DIR'],
      env: { SMTP_URL: `smtp://127.0.0.1:${smtp.port}` },
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const result = JSON.parse(r.stdout) as { scenario: string; status: string };
    assert.deepEqual([result.scenario, result.status], ['НоваяЗадача', 'completed']);
    assert.equal(smtp.letters.length, 1);
    const letter = await simpleParser(smtp.letters[0]!.raw);
    assert.equal(letter.subject, `Новая задача: ${title}`);
    const to = Array.isArray(letter.to) ? letter.to[0] : letter.to;
    assert.deepEqual(to?.value.map((a) => [a.name, a.address]), [
      ['Иван Петров', 'ivan@example.ru'],
      ['Константинопольский Константин', 'konstantin.konstantinopolsky@example.ru'],
    ]);
    assert.equal(letter.text, `Здравствуйте!\nЗадача «${title}» для клиента Фёдор Иванович.\n`);
    // The headers themselves are 7-bit (RFC 2047 words), and a line holding an encoded word is at most 76 characters
    // (RFC 2047, section 2): the long subject is folded into several, the first one after "Subject: " included.
    const head = smtp.letters[0]!.raw.toString('latin1').split('\r\n\r\n')[0]!;
    assert.ok(!/[^\x00-\x7f]/.test(head), head);
    assert.ok(/^Subject: =\?UTF-8\?B\?.*(?:\r\n .*){3}/m.test(head), head);
    assert.deepEqual(head.split('\r\n').filter((l) => l.includes('=?') && l.length > 76), []);
  });

  it('cuts a long printed value before an emoji, never between its two halves', () => {
    // shownValue cuts at 117 UTF-16 units: "…" and the quote, then 115 letters, then an emoji on units 117 and 118.
    const value = `${'д'.repeat(115)}😀 и дальше`;
    const r = runCli(['run', 'НоваяЗадача', '-p', `1=${value}`, '--dry-run'], { cwd: dir, unset: ['OKTELL_SCENARIOS'] });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const line = r.stdout.split('\n').find((l) => l.includes('начало Variable'));
    assert.ok(line, r.stdout);
    assert.ok(!line.includes('\uFFFD'), line);
    assert.ok(line.includes(`название="${'д'.repeat(115)}…`), line);
  });

  it('records a long value cut once: before its emoji, with the length of the whole value', () => {
    // The trace cuts a value at 256 UTF-16 units as the run goes; the run record must keep that cut, not cut the cut
    // text again (which said "… [cut: 285 characters in all]", the length of the cut text, with a second "…").
    const value = `${'д'.repeat(255)}😀 хвост`;
    const data = join(dir, 'recorded');
    const r = runCli(['run', 'НоваяЗадача', '-p', `1=${value}`, '--json', '-d', data], { cwd: dir, unset: ['OKTELL_SCENARIOS', 'OKTELL_DATA_DIR'] });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const runId = (JSON.parse(r.stdout) as { runId: string }).runId;
    const shown = runCli(['show', runId, '--json', '-d', data], { cwd: dir, unset: ['OKTELL_DATA_DIR'] });
    assert.equal(shown.code, 0, shown.stdout + shown.stderr);
    const run = JSON.parse(shown.stdout) as { trace: Array<{ changed?: Record<string, unknown> }> };
    assert.equal(run.trace[0]!.changed!['название'], `${'д'.repeat(255)}… [cut: ${value.length} characters in all]`);
  });
});
