// The console's outbox page with a letter file it cannot read: a folder where a file should be, a file without read
// permission (as the server's non-root user), a symbolic link (as root, which does not follow links there). The page
// answered 500 as a whole; now it lists the other letters and marks the bad one with why, and that letter's own page
// says why. As root, an outbox folder that is a symbolic link is refused with why (its owner could point it at /etc).
// Real server on a temp data folder, letters written as .eml files the way the outbox writes them.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { get, startConsoleServer, textOf, type ConsoleServer } from './console-helpers.js';

const asRoot = process.getuid?.() === 0;

/** A letter as the outbox writes it, under an outbox file name for `n` (0-59 seconds past the minute). */
function letter(dir: string, n: number, subject: string): string {
  const name = `20261201-1200${String(n).padStart(2, '0')}-000-00000${n % 10}-0000000${n % 10}.eml`;
  writeFileSync(join(dir, name), `From: oktell@localhost\r\nTo: ivan${n}@example.com\r\nSubject: ${subject}\r\nMessage-ID: <m${n}@localhost>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello ${n}\r\n`, { mode: 0o600 });
  return name;
}

describe('the outbox page with a letter it cannot read', () => {
  let t: ConsoleServer;
  let outbox: string;
  const names: Record<string, string> = {};

  before(async () => {
    t = await startConsoleServer();
    outbox = join(t.dataDir, 'outbox');
    mkdirSync(outbox, { recursive: true });
    names.first = letter(outbox, 1, 'First letter');
    names.folder = `20261201-120002-000-000002-00000002.eml`;
    mkdirSync(join(outbox, names.folder)); // a folder where a letter should be
    names.bad = letter(outbox, 3, 'Unreadable letter');
    if (asRoot) {
      // Root reads any file whatever its mode: a link to a file outside is what it must not read.
      const secret = join(t.dataDir, 'root-only.txt');
      writeFileSync(secret, 'Subject: root only secret\r\n\r\nsecret\r\n', { mode: 0o600 });
      const link = join(outbox, names.bad);
      renameSync(link, `${link}.gone`);
      symlinkSync(secret, link);
    } else chmodSync(join(outbox, names.bad), 0o000);
    names.last = letter(outbox, 4, 'Last letter');
  });
  after(async () => t?.cleanup());

  it('lists the readable letters and marks each bad one with why', { timeout: 30_000 }, async () => {
    const res = await get(`${t.base}/outbox`);
    const html = await res.text();
    assert.equal(res.status, 200, html);
    const text = textOf(html);
    assert.match(text, /First letter/);
    assert.match(text, /Last letter/);
    assert.match(html, new RegExp(`href="/-/console/outbox/${names.first}"`));
    assert.match(text, /2 of the letters below cannot be read; each says why/);
    assert.match(text, new RegExp(`${names.folder} a folder, not a letter file: move it out of the outbox`));
    if (asRoot) {
      assert.match(text, new RegExp(`${names.bad} a symbolic link \\(to [^)]*root-only\\.txt\\): not followed while running as root`));
      assert.doesNotMatch(text, /root only secret/);
    } else assert.match(text, new RegExp(`${names.bad} unreadable: permission denied \\(owner uid \\d+, mode 000\\)`));
  });

  it("a bad letter's own page says why; a good one opens as ever", { timeout: 30_000 }, async () => {
    const folder = await get(`${t.base}/outbox/${names.folder}`);
    assert.equal(folder.status, 500);
    assert.match(textOf(await folder.text()), new RegExp(`The letter ${names.folder} in .*outbox is a folder, not a letter file`));
    const bad = await get(`${t.base}/outbox/${names.bad}`);
    const badText = textOf(await bad.text());
    assert.equal(bad.status, 500);
    assert.match(badText, asRoot ? /is a symbolic link/ : /permission denied/);
    assert.doesNotMatch(badText, /root only secret/);
    const good = await get(`${t.base}/outbox/${names.last}`);
    assert.equal(good.status, 200);
    assert.match(textOf(await good.text()), /Hello 4/);
  });
});

describe('an outbox folder that is a symbolic link, the server running as root', { skip: asRoot ? false : 'needs root: links are followed for any other user' }, () => {
  let t: ConsoleServer;

  before(async () => {
    t = await startConsoleServer();
  });
  after(async () => t?.cleanup());

  it('the outbox page and a letter page refuse it with why and what to do, reading nothing there', { timeout: 30_000 }, async () => {
    const elsewhere = join(t.dataDir, 'elsewhere');
    mkdirSync(elsewhere);
    const name = letter(elsewhere, 5, 'Letter behind the link');
    symlinkSync(elsewhere, join(t.dataDir, 'outbox'));
    const res = await get(`${t.base}/outbox`);
    const text = textOf(await res.text());
    assert.equal(res.status, 500);
    assert.match(text, /the outbox .*outbox is a symbolic link \(to .*elsewhere\): oktell-emu running as root does not follow it/);
    assert.match(text, /Fix: make it a real folder/);
    assert.doesNotMatch(text, /Letter behind the link/);
    const one = await get(`${t.base}/outbox/${name}`);
    const oneText = textOf(await one.text());
    assert.equal(one.status, 500);
    assert.match(oneText, /is a symbolic link/);
    assert.doesNotMatch(oneText, /Hello 5/);
  });
});
