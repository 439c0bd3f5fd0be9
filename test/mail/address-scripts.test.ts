// Recipients as a Bpium users catalog in other scripts holds them: display names with quotes, commas and angle
// brackets inside the quotes, internationalised domains, and a mailbox whose part before @ is not ASCII (which needs
// SMTPUTF8, which this client does not speak: refused, and the reason says so).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAddressList } from '../../engine/mail-address.js';

describe('recipients in other scripts', () => {
  const accepted: [string, string[]][] = [
    ['"Иван <директор>" <ivan@example.com>', ['"Иван <директор>" <ivan@example.com>']],
    ['"Wang <CEO>, 王" <wang@example.com>; "מנהל > 2" <m@example.com>', ['"Wang <CEO>, 王" <wang@example.com>', '"מנהל > 2" <m@example.com>']],
    ['"Иванов, Иван \\"Ваня\\"" <ivan@example.com>', ['"Иванов, Иван \\"Ваня\\"" <ivan@example.com>']],
    ['"a \\" <b>" <x@example.com>', ['"a \\" <b>" <x@example.com>']],
    ['محمد أبو علي <m@مثال.com>', ['"محمد أبو علي" <m@مثال.com>']],
    ['王小明 👨‍👩‍👧‍👦 <wang@пример.рф>', ['"王小明 👨‍👩‍👧‍👦" <wang@пример.рф>']],
    // What a copy from a web page leaves at the edges, unseen: a zero-width space, a no-break space, a BOM.
    ['ivan@example.com\u200b', ['ivan@example.com']],
    ['\ufeff"Иван" <\u200bivan@example.com\u00a0>; \u2060petr@example.org\u200d', ['"Иван" <ivan@example.com>', 'petr@example.org']],
    // A quote left open is part of the name, as before.
    ['"Ivan <ivan@example.com>', ['"\\"Ivan" <ivan@example.com>']],
  ];
  for (const [list, want] of accepted) {
    it(`takes ${list}`, () => {
      assert.deepEqual(parseAddressList(list), { ok: true, addresses: want });
    });
  }

  const refused: [string, RegExp][] = [
    ['петя@example.com', /address "петя@example.com" has non-ASCII characters before @: such a mailbox needs SMTPUTF8, which this mail client does not use/],
    ['Петя <петя@пример.рф>', /address "петя@пример.рф" has non-ASCII characters before @.*only the domain may be non-ASCII: it is sent as punycode/],
    ['用户@example.com', /needs SMTPUTF8/],
    ['boss@@example.com', /address "boss@@example.com" has characters not allowed before @$/],
    ['Ivan <CEO> <ivan@example.com>', /is not an e-mail address/],
    // A label that passes 63 characters only in punycode: no such domain; a server would take it and bounce it later.
    [`ivan@${'пример'.repeat(10)}.рф`, /has a domain "(пример){10}\.рф" with a part longer than 63 characters once written in punycode, as mail servers need it \("xn--e1a[a-z0-9]+"\): no such domain can exist$/],
    // An invisible character inside an address is refused, and the reason shows it.
    ['ivan@exam\u200bple.com', /^address "ivan@exam\\u200bple\.com" has an invalid domain "exam\\u200bple\.com"$/],
    ['iv\u00a0an@example.com', /^"iv\\u00a0an@example\.com" is not an e-mail address/],
    ['"x\u202e" <ivan@example.com\u202egro>', /^address "ivan@example\.com\\u202egro" has an invalid domain "example\.com\\u202egro"$/],
    ['"x" <a<b@example.com>', /is not an e-mail address/],
    ['"Иван\r\nBcc: evil@example.com" <ivan@example.com>', /contains a line break or NUL character/],
  ];
  for (const [list, reason] of refused) {
    it(`refuses ${JSON.stringify(list)} and says why`, () => {
      const r = parseAddressList(list);
      assert.equal(r.ok, false);
      assert.match((r as { error: string }).error, reason);
    });
  }
});
