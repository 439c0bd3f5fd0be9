// A WebRequest url that is a constant the client refuses on every run (a user and password in it, no http:// or
// https://, another scheme, a port out of range) is a load error at the url, with the fix, instead of HTTP_BAD_URL at
// run time. A url computed from variables is still checked when it is sent (web-request.test.ts, refusals).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioText } from '../../engine/index.js';
import { runCli } from '../cli/cli.helper.js';
import { tempDir } from '../helpers.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A scenario whose WebRequest url (line 5, the value at column 10) is `url`. */
function scenario(url: string): string {
  return `variables: { base: string, path: string, code: string }\nblocks:\n  call:\n    kind: WebRequest\n    url: ${url}\n    errorCode: code\n`;
}

describe('a constant WebRequest url that every run would refuse is refused at load, at the url', () => {
  const refused: Array<[string, string, string]> = [
    [
      `'"http://user:pw@127.0.0.1:4157/x"'`,
      'the url is refused on every run (HTTP_BAD_URL): the URL carries a user or password: give them in "auth" instead',
      `write the URL without them, url: '"http://127.0.0.1:4157/x"', and give them as auth: { user: …, password: … }`,
    ],
    [
      `'"crm.example.ru/api"'`,
      'the url is refused on every run (HTTP_BAD_URL): not an absolute URL: "crm.example.ru/api" (it must start with http:// or https://)',
      `write url: '"https://crm.example.ru/api"' (or http:// for a service without TLS)`,
    ],
    [
      `'"crm.example.ru" + "/api"'`,
      'the url is refused on every run (HTTP_BAD_URL): not an absolute URL: "crm.example.ru/api" (it must start with http:// or https://)',
      `write url: '"https://crm.example.ru/api"' (or http:// for a service without TLS)`,
    ],
    [
      `'"ftp://x.example.ru/"'`,
      'the url is refused on every run (HTTP_BAD_URL): only http and https URLs can be requested, not ftp:',
      'a WebRequest calls http:// and https:// URLs only',
    ],
    [
      `'"http://127.0.0.1:99999/"'`,
      'the url is refused on every run (HTTP_BAD_URL): the port 99999 is out of range (1–65535): "http://127.0.0.1:99999/"',
      'correct the URL',
    ],
  ];
  for (const [url, message, hint] of refused) {
    it(`url: ${url}`, () => {
      const r = loadScenarioText('Web.yaml', scenario(url), { registry: defaultRegistry });
      assert.deepEqual(r.ok ? [] : r.issues.map((i) => [i.code, i.line, i.col, i.block, i.message, i.hint]), [['E_INVALID_PROPERTY', 5, 10, 'call', message, hint]]);
    });
  }
  for (const url of [`'"https://crm.example.ru/api"'`, `'"http://127.0.0.1:4157" + "/x"'`, `'[base] + "/x"'`]) {
    it(`url: ${url} loads (a good constant, or one computed from variables)`, () => {
      const r = loadScenarioText('Web.yaml', scenario(url), { registry: defaultRegistry });
      assert.equal(r.ok, true, JSON.stringify(!r.ok && r.issues));
    });
  }
  it('oktell-emu validate names the file:line:col and the fix, and exits 1', () => {
    const tmp = tempDir();
    try {
      mkdirSync(join(tmp.dir, 'scenarios'));
      writeFileSync(join(tmp.dir, 'scenarios', 'Web.yaml'), scenario(`'"crm.example.ru/api"'`));
      const r = runCli(['validate'], { cwd: tmp.dir });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout, /^scenarios\/Web\.yaml:5:10 E_INVALID_PROPERTY the url is refused on every run \(HTTP_BAD_URL\): not an absolute URL: "crm\.example\.ru\/api"/m);
      assert.ok(r.stdout.includes(`hint: write url: '"https://crm.example.ru/api"' (or http:// for a service without TLS)`), r.stdout);
    } finally {
      tmp.cleanup();
    }
  });
});

// A url computed from variables that begins with a text written in it: that text alone settles some refusals.
describe('a WebRequest url whose leftmost + operand is a text every run would refuse is refused at load, at the url', () => {
  const refused: Array<[string, string, string]> = [
    [
      `'"crm.example.ru/api/" + [path]'`,
      'the url is refused on every run (HTTP_BAD_URL): it begins with "crm.example.ru/api/", not with http:// or https://',
      `write url: '"https://crm.example.ru/api/" + [path]' (or http:// for a service without TLS)`,
    ],
    [
      `'(" crm.example.ru/" + [path]) + "?x=1"'`,
      'the url is refused on every run (HTTP_BAD_URL): it begins with "crm.example.ru/", not with http:// or https://',
      `write url: '(" https://crm.example.ru/" + [path]) + "?x=1"' (or http:// for a service without TLS)`,
    ],
    [
      `'"ftp://x.example.ru/" + [path]'`,
      'the url is refused on every run (HTTP_BAD_URL): only http and https URLs can be requested, not ftp:',
      'a WebRequest calls http:// and https:// URLs only',
    ],
    [
      `'"http://user:pw@crm.example.ru/" + [path]'`,
      'the url is refused on every run (HTTP_BAD_URL): the URL carries a user or password: give them in "auth" instead',
      `write the URL without them, url: '"http://crm.example.ru/" + [path]', and give them as auth: { user: …, password: … }`,
    ],
  ];
  for (const [url, message, hint] of refused) {
    it(`url: ${url}`, () => {
      const r = loadScenarioText('Web.yaml', scenario(url), { registry: defaultRegistry });
      assert.deepEqual(r.ok ? [] : r.issues.map((i) => [i.code, i.line, i.col, i.block, i.message, i.hint]), [['E_INVALID_PROPERTY', 5, 10, 'call', message, hint]]);
    });
  }
  // Texts that may still become http:// or https://, a url that starts with a variable or a function, a + that is not
  // the leftmost (the text is not where the URL begins), and an empty user.
  for (const url of [`'"https://crm.example.ru/" + [path]'`, `'"HTTP://crm.example.ru/" + [path]'`, `'"http" + [base]'`, `'"https:/" + [base]'`, `'[base] + "/x"'`, `'Trim([base]) + "/x"'`, `'[base] + "crm.example.ru"'`, `'"http://:@" + [base]'`, `'" " + [base]'`]) {
    it(`url: ${url} loads`, () => {
      const r = loadScenarioText('Web.yaml', scenario(url), { registry: defaultRegistry });
      assert.equal(r.ok, true, JSON.stringify(!r.ok && r.issues));
    });
  }
  it('the hint\'s url loads, and oktell-emu validate names the file:line:col and the fix, and exits 1', () => {
    const fixed = loadScenarioText('Web.yaml', scenario(`'"https://crm.example.ru/api/" + [path]'`), { registry: defaultRegistry });
    assert.equal(fixed.ok, true, JSON.stringify(!fixed.ok && fixed.issues));
    const tmp = tempDir();
    try {
      mkdirSync(join(tmp.dir, 'scenarios'));
      writeFileSync(join(tmp.dir, 'scenarios', 'Web.yaml'), scenario(`'"crm.example.ru/api/" + [path]'`));
      const r = runCli(['validate'], { cwd: tmp.dir });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout, /^scenarios\/Web\.yaml:5:10 E_INVALID_PROPERTY the url is refused on every run \(HTTP_BAD_URL\): it begins with "crm\.example\.ru\/api\/", not with http:\/\/ or https:\/\//m);
      assert.ok(r.stdout.includes(`hint: write url: '"https://crm.example.ru/api/" + [path]' (or http:// for a service without TLS)`), r.stdout);
    } finally {
      tmp.cleanup();
    }
  });
});
