// The CLI's tables pad by terminal columns: an emoji or a CJK character takes two, a combining mark or a zero-width
// joiner none. The outbox table with such subjects keeps its `file` column in one place on every line, and so do the
// columns of `runs` (its runs, queued jobs and dead letters) with such scenario names.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { createOutboxMailer } from '../../adapters/mail/outbox.adapter.js';
import { outboxCommand } from '../../cli/commands/outbox.command.js';
import { runColumns } from '../../cli/commands/runs.js';
import { displayWidth, fitColumns } from '../../cli/text-width.js';

/** Columns as a terminal draws these tests' texts: the emoji and CJK used here take two, every other character one. */
const columns = (s: string) => [...s].reduce((n, c) => n + (/[\u3040-\u9fff\u{1f300}-\u{1faff}]/u.test(c) ? 2 : 1), 0);

describe('terminal width of text', () => {
  it('counts wide characters as two columns and joiners and marks as none', () => {
    assert.equal(displayWidth('Новая задача'), 12);
    assert.equal(displayWidth('😀'), 2);
    assert.equal(displayWidth('日本語'), 6);
    assert.equal(displayWidth('한국어'), 6);
    assert.equal(displayWidth('ｶﾀｶﾅ'), 4, 'halfwidth katakana is narrow');
    assert.equal(displayWidth('ＡＢ'), 4, 'fullwidth Latin is wide');
    assert.equal(displayWidth('👨‍👩‍👧'), 2, 'a ZWJ family is one emoji');
    assert.equal(displayWidth('🇷🇺'), 2, 'a flag');
    assert.equal(displayWidth('❤️'), 2, 'a text symbol with the emoji selector');
    assert.equal(displayWidth('1\ufe0f\u20e3'), 2, 'a keycap: an ASCII digit with the emoji selector');
    assert.equal(displayWidth('e\u0301'), 1, 'a combining accent');
    assert.equal(displayWidth('a\u200bb'), 2, 'a zero-width space');
  });

  it('cuts between graphemes and fills the column exactly', () => {
    assert.equal(fitColumns('日本語の件名', 6), '日本… ');
    assert.equal(fitColumns('ab😀cd', 4), 'ab… ');
    assert.equal(fitColumns('😀', 4), '😀  ');
    assert.equal(displayWidth(fitColumns('👨‍👩‍👧👨‍👩‍👧👨‍👩‍👧', 5)), 5);
  });

  it('pads the columns of runs by terminal columns', () => {
    const a = runColumns('2026-12-02T11:11:23+03:00', 'completed', '新しいタスク😀', 'http', '12 ms');
    const b = runColumns('2026-12-02T11:11:23+03:00', 'completed', 'Letters', 'http', '12 ms');
    assert.equal(columns(a.slice(0, a.indexOf('http'))), columns(b.slice(0, b.indexOf('http'))));
    assert.equal(columns(a), columns(b));
  });
});

describe('outbox table with emoji and CJK subjects', { timeout: 20_000 }, () => {
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'oktell-width-'));
    let t = Date.parse('2025-05-01T08:00:00Z');
    const mailer = createOutboxMailer({ dir: join(dataDir, 'outbox'), from: 'robot@example.com', clock: { now: () => new Date((t += 60_000)) } });
    for (const subject of ['Задача 😀😀 готова', '新しいタスク: 電話する', 'Plain subject', '😀'.repeat(40)]) {
      await mailer.send({ to: ['ivan@example.com'], cc: [], bcc: [], subject, text: 'x' });
    }
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  it('keeps the file column in one place on every line', async () => {
    let out = '';
    await outboxCommand({ env: {}, write: (t) => void (out += t) }).exitOverride().parseAsync(['--data-dir', dataDir], { from: 'user' });
    const lines = stripVTControlCharacters(out).trimEnd().split('\n').slice(0, 5);
    const at = (line: string, text: string) => columns(line.slice(0, line.indexOf(text)));
    const header = at(lines[0]!, 'file');
    assert.ok(header > 0);
    for (const line of lines.slice(1)) assert.equal(at(line, '20250501-'), header, line);
    assert.match(lines[4]!, /😀… {3}20250501-/, 'a subject cut at the cap ends with … and a space where a half emoji would be');
  });
});
