// `oktell-emu outbox show` with display names that hold a comma, quotes or angle brackets, in other scripts: each
// mailbox is printed as it must be written to mean one recipient. Decoded as plain text, the encoded name
// `Wang <CEO>, 王小明` would print as `Wang <CEO>, 王小明 <wang@…>`: two recipients, one of them "CEO".
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodeAddressHeader } from '../../adapters/mail/header-reader.js';
import { createOutboxMailer } from '../../adapters/mail/outbox.adapter.js';
import { parseAddressList } from '../../engine/mail-address.js';
import { tempDir } from '../helpers.js';
import { runCli } from './cli-process.js';

const MAILBOXES = [
  '"Wang <CEO>, 王小明" <wang@example.com>',
  '"Иванов, Иван \\"Ваня\\"" <ivan@example.com>',
  '"محمد (أبو علي); 2024" <m@example.com>',
  '"👨‍👩‍👧‍👦 family" <f@example.com>',
  'plain@example.com',
];

describe('outbox show: display names in other scripts', () => {
  const cases: [string, string][] = [
    // As nodemailer writes them (Q encoding, a comma as =2C), and as the SMTP writer does (B words).
    ['=?UTF-8?Q?=E7=8E=8B=E5=B0=8F=E6=98=8E=2C_=22Wang?= =?UTF-8?Q?=22?= <wang@example.com>', '"王小明, \\"Wang\\"" <wang@example.com>'],
    ['=?UTF-8?B?0JjQstCw0L3QvtCyLCDQmNCy0LDQvQ==?= <ivan@example.com>, petr@example.org', '"Иванов, Иван" <ivan@example.com>, petr@example.org'],
    ['"Ivan, Jr." <ivan@example.com>', '"Ivan, Jr." <ivan@example.com>'],
    ['=?UTF-8?B?0JjQstCw0L0=?= <ivan@example.com>', 'Иван <ivan@example.com>'],
    ['undisclosed-recipients:;', 'undisclosed-recipients:;'],
  ];
  for (const [header, shown] of cases) {
    it(`shows ${header} as ${shown}`, () => {
      assert.equal(decodeAddressHeader(header), shown);
    });
  }

  it('prints each recipient of a stored letter so that it reads back as the same mailboxes', { timeout: 30_000 }, async () => {
    const tmp = tempDir();
    try {
      const mailer = createOutboxMailer({ dir: join(tmp.dir, 'outbox'), from: '"Робот, отдел продаж" <robot@example.com>' });
      await mailer.send({ to: MAILBOXES, cc: [], bcc: [], subject: 'Имена', text: 'x' });
      const shown = runCli(['outbox', 'show', 'last'], { OKTELL_DATA_DIR: tmp.dir });
      assert.equal(shown.code, 0, shown.stderr);
      const header = (name: string) => new RegExp(`^${name}: +(.*)$`, 'm').exec(shown.stdout)?.[1];
      const to = parseAddressList(header('To')!);
      assert.deepEqual(to, { ok: true, addresses: MAILBOXES }, header('To'));
      assert.deepEqual(parseAddressList(header('From')!), { ok: true, addresses: ['"Робот, отдел продаж" <robot@example.com>'] }, header('From'));
    } finally {
      tmp.cleanup();
    }
  });
});
