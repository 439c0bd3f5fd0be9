// Reading letters from the command line, through the real binary: `run` shows each letter's recipients, subject and
// text; `outbox show` prints one stored letter decoded (headers, text, HTML as text, attachments).
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { htmlToText } from '../../cli/html-text.js';
import { tempDir } from '../helpers.js';
import { runCli } from './cli-process.js';

const article = ['run', 'HTTP404', '-p', '1=/Bpium/NewTask', '-p', '4=@test/fixtures/record-created.json', '--bpium-fixtures', 'test/fixtures/bpium-users.yaml'];

describe('oktell-emu run without --json shows the letters', () => {
  it('recipients, subject and the text of each letter, under the run that wrote it', { timeout: 30_000 }, () => {
    const r = runCli([...article, '--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n').map((l) => l.trim());
    const at = lines.indexOf('mail dry-run to ivan.petrov@example.com');
    assert.ok(at > 0, r.stdout);
    assert.equal(lines[at + 1], 'subject Новая задача: Перезвонить клиенту');
    assert.equal(lines[at + 2], '│ Здравствуйте, Иван Петров!');
    assert.ok(lines.includes('│ Клиент просил перезвонить после 15:00.'), 'the task description, from the text part');
    assert.ok(lines.includes('mail dry-run to maria.smirnova@example.org'));
    assert.ok(lines.includes('│ Здравствуйте, Мария Смирнова!'));
  });
});

describe('oktell-emu outbox show', () => {
  it('prints the Date header as written, then the same moment in OKTELL_TZ with its offset, as outbox lists it; --json keeps the header alone', { timeout: 30_000 }, () => {
    const tmp = tempDir();
    try {
      const env = { OKTELL_DATA_DIR: tmp.dir, OKTELL_TZ: 'Asia/Kolkata' };
      assert.equal(runCli(article, env).code, 0);
      const shown = runCli(['outbox', 'show', 'last'], env);
      assert.equal(shown.code, 0, shown.stderr);
      const m = /^Date: +(\S.*\d\d:\d\d:\d\d [+-]\d{4}) \((\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+05:30)\)\n/.exec(shown.stdout);
      assert.ok(m, shown.stdout.split('\n')[0]);
      assert.equal(Date.parse(m[2]!), Date.parse(m[1]!), 'the same moment');
      const json = JSON.parse(runCli(['outbox', 'show', 'last', '--json'], env).stdout) as { headers: { date: string } };
      assert.equal(json.headers.date, m[1]);
    } finally {
      tmp.cleanup();
    }
  });

  it('prints a letter the run stored: decoded headers, its text exactly, its HTML as text', { timeout: 30_000 }, async () => {
    const tmp = tempDir();
    try {
      const run = runCli(article, { OKTELL_DATA_DIR: tmp.dir });
      assert.equal(run.code, 0, run.stderr);
      const list = JSON.parse(runCli(['outbox', '--json'], { OKTELL_DATA_DIR: tmp.dir }).stdout) as Array<{ file: string; to: string[]; messageId: string }>;
      const ivan = list.find((l) => l.to[0] === 'ivan.petrov@example.com')!;
      const parsed = await simpleParser(readFileSync(ivan.file));

      const name = ivan.file.split('/').pop()!;
      const shown = runCli(['outbox', 'show', name.replace(/\.eml$/, '')], { OKTELL_DATA_DIR: tmp.dir });
      assert.equal(shown.code, 0, shown.stderr);
      const out = shown.stdout;
      assert.match(out, /^Date: +\S.*\nFrom: +.*\nTo: +.*ivan\.petrov@example\.com.*\nSubject: +Новая задача: Перезвонить клиенту\nMessage-ID: +<.+>\nFile: +\S+\.eml\n/);
      const text = out.split('── text ──\n')[1]!.split('\n\n── HTML, as text ──')[0]!;
      assert.equal(text, parsed.text!.trimEnd());
      const htmlText = out.split('── HTML, as text ──\n')[1]!;
      assert.match(htmlText, /^Здравствуйте, Иван Петров!\n/);
      assert.match(htmlText, /Клиент просил перезвонить после 15:00\./);
      assert.doesNotMatch(htmlText, /<\/?[a-z]+[ >]/i, 'no markup left');

      // The same letter found by its Message-ID, and by `last` among the two; as JSON.
      const byId = JSON.parse(runCli(['outbox', 'show', ivan.messageId, '--json', '--data-dir', tmp.dir]).stdout) as { file: string; headers: Record<string, string>; text: string; attachments: unknown[] };
      assert.equal(byId.file, ivan.file);
      assert.equal(byId.headers.subject, 'Новая задача: Перезвонить клиенту');
      assert.deepEqual(byId.attachments, []);
      assert.equal(runCli(['outbox', 'show', 'last'], { OKTELL_DATA_DIR: tmp.dir }).code, 0);

      const none = runCli(['outbox', 'show', 'no-such-letter'], { OKTELL_DATA_DIR: tmp.dir });
      assert.equal(none.code, 2);
      assert.match(none.stderr, /no letter no-such-letter in .*outbox: give a \.eml file/);
      const both = runCli(['outbox', 'show', name.slice(0, 4)], { OKTELL_DATA_DIR: tmp.dir });
      assert.equal(both.code, 2);
      assert.match(both.stderr, /matches 2 letters/);
    } finally {
      tmp.cleanup();
    }
  });

  it('lists attachments with their decoded names, types and sizes; a file path works too', { timeout: 30_000 }, () => {
    const tmp = tempDir();
    try {
      const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
      const eml = [
        'From: =?UTF-8?B?' + b64('Бухгалтерия') + '?= <buh@example.com>',
        'To: ivan@example.com',
        'Subject: =?UTF-8?B?' + b64('Отчёт за ноябрь') + '?=',
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary="b1"',
        '',
        '--b1',
        'Content-Type: text/plain; charset=utf-8',
        'Content-Transfer-Encoding: quoted-printable',
        '',
        '=D0=A1=D0=BC. =D0=B2=D0=BB=D0=BE=D0=B6=D0=B5=D0=BD=D0=B8=D0=B5.',
        '--b1',
        'Content-Type: application/pdf; name="report.pdf"',
        'Content-Disposition: attachment; filename="report.pdf"',
        'Content-Transfer-Encoding: base64',
        '',
        b64(Buffer.alloc(3000, 7)).replace(/(.{76})/g, '$1\r\n'),
        '--b1',
        'Content-Type: text/csv; charset=utf-8',
        `Content-Disposition: attachment; filename*=utf-8''${encodeURIComponent('список.csv')}`,
        'Content-Transfer-Encoding: base64',
        '',
        b64('a,b\n1,2\n'),
        '--b1--',
        '',
      ].join('\r\n');
      const file = join(tmp.dir, 'report.eml');
      writeFileSync(file, eml);
      const r = runCli(['outbox', 'show', file]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^From: +Бухгалтерия <buh@example\.com>\nTo: +ivan@example\.com\nSubject: +Отчёт за ноябрь\n/);
      assert.match(r.stdout, /── text ──\nСм\. вложение\.\n/);
      assert.match(r.stdout, /── 2 attachments ──\nreport\.pdf  application\/pdf, 2\.9 KiB\nсписок\.csv  text\/csv, 8 B\n$/);
    } finally {
      tmp.cleanup();
    }
  });

  it('on an empty outbox says it is empty, for last or any name, instead of asking for "last"', () => {
    const tmp = tempDir();
    try {
      // A data folder with no outbox yet, then an empty outbox.
      for (const ref of ['last', '20250301-090001-000']) {
        if (ref !== 'last') mkdirSync(join(tmp.dir, 'outbox'));
        const r = runCli(['outbox', 'show', ref], { OKTELL_DATA_DIR: tmp.dir });
        assert.equal(r.code, 2, r.stdout);
        assert.match(r.stderr, /the outbox .*outbox is empty: no letters stored yet \(letters are stored there only while SMTP_URL is unset/);
        assert.doesNotMatch(r.stderr, /give a \.eml file/);
      }
    } finally {
      tmp.cleanup();
    }
  });
});

describe('HTML as text', () => {
  it('keeps paragraphs, line breaks, list items and link addresses; drops markup, styles and scripts; decodes entities', () => {
    const html = '<html><head><style>p{color:red}</style></head><body><h1>Задача</h1><p>Строка&nbsp;1<br>строка 2 &amp; ещё</p><ul><li>один</li><li>два</li></ul><p><a href="https://x.bpium.ru/11/5?a=1&amp;b=2">Открыть</a> · <a href="mailto:a@b.ru">a@b.ru</a></p><script>alert(1)</script></body></html>';
    assert.equal(htmlToText(html), 'Задача\n\nСтрока 1\nстрока 2 & ещё\n\n• один\n• два\n\nОткрыть <https://x.bpium.ru/11/5?a=1&b=2> · a@b.ru');
  });
});
