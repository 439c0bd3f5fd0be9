// How an address is shown once its secrets are masked, one row per address: the login:password and the values of
// query parameters named like secrets become `***`, every other byte stays as sent, and nothing else is masked or
// dropped. The rules are adapters/web/redact.ts's; hookAddress and loggedTarget are the server's uses of them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as redact from '../../adapters/web/redact.js';
import { hookAddress } from '../../server/hook-request.js';
import { loggedTarget, type LoggedTarget } from '../../server/log-target.js';

describe('a request target as stored and shown (hookAddress)', () => {
  const rows: Array<[string, string]> = [
    // An "@" in a query right after the host (no path): the host and the query stay, a token in it is masked.
    ['http://host?mail=a@b.example', 'http://host?mail=a@b.example'],
    ['http://host:8080?mail=a@b.example&id=7', 'http://host:8080?mail=a@b.example&id=7'],
    ['http://127.0.0.1:4055?a=b@host/hook&token=SECRET123', 'http://127.0.0.1:4055?a=b@host/hook&token=***'],
    ['https://example.com?a=b@host/hook&token=SECRET123', 'https://example.com?a=b@host/hook&token=***'],
    ['http://[::1]?a=b@c', 'http://[::1]?a=b@c'],
    ['http://host#a@b', 'http://host#a@b'],
    // An "@" in the path of a host that cannot be a login:password (no port, or an IP address).
    ['http://host/contacts/a@b.example/hook?token=SECRET123', 'http://host/contacts/a@b.example/hook?token=***'],
    ['http://127.0.0.1:4055/contacts/a@b.example', 'http://127.0.0.1:4055/contacts/a@b.example'],
    ['http://[::1]:4055/to/a@b', 'http://[::1]:4055/to/a@b'],
    // A login:password with nothing after the host, or only a query or fragment.
    ['https://user:SECRET456@example.com', 'https://***@example.com'],
    ['https://user:SECRET456@example.com:8443', 'https://***@example.com:8443'],
    ['http://user:SECRET456@example.com?token=SECRET123&id=7', 'http://***@example.com?token=***&id=7'],
    ['//user:SECRET456@example.com', '//***@example.com'],
    // Still masked whole: a password with a "/" or "?" left unencoded, a login with a "/" before its ":", and a name
    // and port that may be a login and a password of digits.
    ['http://u:pa/SECRET456@host/hook', 'http://***@host/hook'],
    ['http://u/ss:SECRET456@host/hook', 'http://***@host/hook'],
    ['http://u:1234?SECRET456@host/hook', 'http://***@host/hook'],
    ['http://u:7/X?SECRET456@host/hook', 'http://***@host/hook'],
    ['http://host:8080/to/a@b/c', 'http://***@b/c'],
    // Nothing to mask: as sent, byte for byte.
    ['http://host/path?x=1&q=a%20b+c', 'http://host/path?x=1&q=a%20b+c'],
  ];
  for (const [target, stored] of rows) {
    it(JSON.stringify(target), () => {
      assert.equal(hookAddress(target).stored, stored);
    });
  }
});

describe('a request target as a log line names it (loggedTarget)', () => {
  const rows: Array<[string, LoggedTarget]> = [
    ['http://127.0.0.1:4055?mail=a@b.example&token=SECRET123', { path: '/', query: ['mail', 'token'] }],
    ['https://example.com?a=b@host/hook&token=SECRET123', { path: '/', query: ['a', 'token'] }],
    ['http://host/contacts/a@b.example/hook?token=SECRET123', { path: '/contacts/a@b.example/hook', query: ['token'] }],
    ['http://user:SECRET456@example.com', { path: '/' }],
    ['http://u:pa/SECRET456@host/hook?id=7', { path: '/hook', query: ['id'] }],
  ];
  for (const [target, logged] of rows) {
    it(JSON.stringify(target), () => {
      assert.deepEqual(loggedTarget(target), logged);
    });
  }
});

describe('a URL that did not parse, as text (maskUrlText) and as a message quotes it (quotedUrlText)', () => {
  const rows: Array<[string, string]> = [
    ['http://host?mail=a@b.example', 'http://host?mail=a@b.example'],
    // A special scheme without its "//" (a URL parser still reads a login and a password there): the scheme stays.
    ['http:user:SECRET456@example.com:99999', 'http:***@example.com:99999'],
    ['http:/user:SECRET456@example.com/x', 'http:/***@example.com/x'],
    ['http:\\\\user:SECRET456@example.com/x', 'http:\\\\***@example.com/x'],
    // Spaces before the text do not hide its login:password.
    [' https://user:SECRET456@example.com:99999', ' https://***@example.com:99999'],
    ['user:SECRET456@example.com/x', '***@example.com/x'],
    ['http://u:pa/SECRET456@x.example.ru/cb?token=SECRET123&id=7', 'http://***@x.example.ru/cb?token=***&id=7'],
    // A `&name=` left unencoded in a password: its `@` is not taken for that parameter's value (the port does not parse).
    ['http://u:SECRET456&token=@example.com:99999/x', 'http://***@example.com:99999/x'],
    ['http:u:SECRET456&token=@example.com:99999/x', 'http:***@example.com:99999/x'],
    // A `\` in a password after a special scheme without its `//` does not end it.
    ['http:u:SECRET456\\x@example.com:99999/x', 'http:***@example.com:99999/x'],
    // A query name is compared percent-decoded, as in a target that parsed.
    ['http://example.com:99999/cb?tok%65n=SECRET123&id=7', 'http://example.com:99999/cb?tok%65n=***&id=7'],
  ];
  for (const [text, masked] of rows) {
    it(JSON.stringify(text), () => {
      assert.equal(redact.maskUrlText(text), masked);
    });
  }
  it('a quoted URL has its secrets masked, no fragment and at most 200 characters', () => {
    assert.equal(redact.quotedUrlText('http://u:pa/SECRET456@x.example.ru/cb?token=SECRET123#access_token=SECRET789'), '"http://***@x.example.ru/cb?token=***"');
    assert.equal(redact.quotedUrlText(`http://u:${'SECRET456'.repeat(30)}@x.example.ru:99999/cb`), '"http://***@x.example.ru:99999/cb"');
    assert.equal(redact.quotedUrlText(`https://x.example.ru:99999/${'a'.repeat(300)}`), JSON.stringify(`https://x.example.ru:99999/${'a'.repeat(300)}`.slice(0, 200)));
  });
});

describe('an address that parses, as shown (maskAddress: Bpium webhook subscriptions)', () => {
  const rows: Array<[string, string]> = [
    ['http://127.0.0.1:4055/Bpium/NewTask?token=SECRET123&id=7', 'http://127.0.0.1:4055/Bpium/NewTask?token=***&id=7'],
    ['http://u:SECRET456@127.0.0.1:4055/hook?api_key=SECRET123&q=a%20b', 'http://***@127.0.0.1:4055/hook?api_key=***&q=a%20b'],
    ['https://user:SECRET456@example.com', 'https://***@example.com'],
    ['HTTP://Host.example:8080/a/../b?x=1', 'HTTP://Host.example:8080/a/../b?x=1'],
    // Text a URL parser reads otherwise than written: shown as the parser reads it, its login:password masked.
    ['http:u:SECRET456@127.0.0.1:4055/hook?token=SECRET123', 'http://***@127.0.0.1:4055/hook?token=***'],
    [' http://u:SECRET456@127.0.0.1:4055/hook', 'http://***@127.0.0.1:4055/hook'],
    ['http:\\\\u:SECRET456@127.0.0.1:4055/hook', 'http://***@127.0.0.1:4055/hook'],
    ['http://127.0.0.1:4055/hook?to\tken=SECRET123', 'http://127.0.0.1:4055/hook?token=***'],
    // A password with a "/" left unencoded (a parser reads host "localhost", port and the rest as a path).
    ['http://localhost:4999/SECRET456@127.0.0.1:4055/hook', 'http://***@127.0.0.1:4055/hook'],
    // A "\" a parser reads as a "/" before the password: masked as the written text would be, not shown in the path.
    ['http://u\\:SECRET456@127.0.0.1:4055/hook', 'http://***@127.0.0.1:4055/hook'],
  ];
  for (const [address, shown] of rows) {
    it(JSON.stringify(address), () => {
      assert.equal(redact.maskAddress(address), shown);
    });
  }
});
