// Cyrillic parameters of Web-API callers that do not write UTF-8: 1C and old PHP sites percent-encode windows-1251
// text (`%CF%F0%E8%E2%E5%F2` for «Привет»). A form that names its charset (windows-1251, cp1251, koi8-r: the labels a
// browser knows, as on the hook) is read in it, escapes and raw bytes alike. Escapes that are not UTF-8 where no
// charset is named (a query, an unlabelled form) are refused with 400 saying what arrived and how to send it,
// instead of starting the scenario with U+FFFD in place of the text. A form in a charset the server cannot read is
// refused in the Web-API's own answer (XML, the start result header). Two more ways integrators' parameters went
// astray: a UTF-8 byte order mark before a form (1C), and "&amp;" between parameters (PHP). Real server, real HTTP.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadServerConfig } from '../../server/config.js';
import { tempDir } from '../helpers.js';
import { AUTH, startTestServer, type TestServer } from './server-helpers.js';

const ECHO = `variables: { a: string, b: string }
blocks:
  begin: { kind: Start, param: a, exits: { next: more } }
  more: { kind: Variable, set: { b: InputParameter(2) }, exits: { next: ret } }
  ret: { kind: ReturnValue, values: { 1: '[a] + "|" + [b]' } }
`;

/** «Привет мир» in windows-1251, percent-encoded as 1C and PHP's urlencode write it (a space as +). */
const PRIVET_1251 = '%CF%F0%E8%E2%E5%F2+%EC%E8%F0';

describe('Web-API calls as 1C and PHP programs write them', { timeout: 60_000 }, () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ smtp: false, extraScenarios: { 'Echo.yaml': ECHO }, env: { SMTP_URL: '' } });
  });
  after(() => t.cleanup());

  const get = (path: string) => fetch(`${t.server.url}${path}`, { headers: { authorization: AUTH } });
  const post = (path: string, contentType: string, body: string | Buffer) => fetch(`${t.server.url}${path}`, { method: 'POST', headers: { authorization: AUTH, 'content-type': contentType }, body });

  it('a form labelled charset=windows-1251 (or cp1251, koi8-r) is read in that charset, escapes and raw bytes alike', async () => {
    const escaped = await post('/execsvcscriptplain', 'application/x-www-form-urlencoded; charset=windows-1251', `name=Echo&startparam1=${PRIVET_1251}&startparam2=a%2Bb`);
    assert.equal(escaped.status, 200);
    assert.equal(escaped.headers.get('x-oktell-start-result'), '0');
    assert.equal(await escaped.text(), 'Привет мир|a+b');
    const raw = await post('/execsvcscriptplain', 'application/x-www-form-urlencoded; charset=cp1251', Buffer.concat([Buffer.from('name=Echo&startparam1='), Buffer.from([0xcf, 0xf0, 0xe8, 0xe2, 0xe5, 0xf2])]));
    assert.equal(await raw.text(), 'Привет|');
    const koi8 = await post('/execsvcscriptplain', 'application/x-www-form-urlencoded; charset=koi8-r', 'name=Echo&startparam1=%F0%D2%C9%D7%C5%D4');
    assert.equal(await koi8.text(), 'Привет|');
  });

  it('windows-1251 escapes in a query or an unlabelled form are refused with 400, not run as U+FFFD', async () => {
    const runsBefore = (await t.server.store.listRuns({ scenario: 'Echo' })).items.length;
    const query = await get(`/execsvcscriptplain?name=Echo&startparam1=${PRIVET_1251}`);
    assert.equal(query.status, 400);
    assert.equal(query.headers.get('x-oktell-start-result'), '-1');
    assert.equal(await query.text(), '"startparam1" in the query is not UTF-8 text (%CF%F0%E8%E2%E5%F2%20%EC%E8%F0): text in another encoding, such as windows-1251, is not read as a guess; percent-encode the text as UTF-8 (П is %D0%9F), or POST the parameters as a form with Content-Type: application/x-www-form-urlencoded; charset=windows-1251; or have the server read such values in one charset (OKTELL_WEBAPI_FALLBACK_CHARSET=windows-1251)');
    const form = await post('/execsvcscript', 'application/x-www-form-urlencoded', `name=Echo&startparam2=${PRIVET_1251}`);
    assert.equal(form.status, 400);
    assert.match(await form.text(), /<property_simple key="startresult" value="-1" name="notstarted" \/>\n.*"startparam2" in the form is not UTF-8 text \(%CF%F0.*name the form's charset in its Content-Type/);
    // The scenario's name too: before, «Новая» in windows-1251 was "unknown service scenario "�����"".
    const name = await get('/execsvcscriptplain?name=%CD%EE%E2%E0%FF');
    assert.equal(name.status, 400);
    assert.match(await name.text(), /^"name" in the query is not UTF-8 text \(%CD%EE%E2%E0%FF\)/);
    // Nothing ran.
    assert.equal((await t.server.store.listRuns({ scenario: 'Echo' })).items.length, runsBefore);
  });

  it('UTF-8 escapes still arrive as text, and a key the Web-API does not read may hold any bytes', async () => {
    const res = await get('/execsvcscriptplain?name=Echo&startparam1=%D0%9F%D1%80%D0%B8%D0%B2%D0%B5%D1%82&utm=%FF');
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'Привет|');
  });

  it('parameters separated by "&amp;" (PHP\'s arg_separator.output, a URL copied from HTML) are refused, not dropped', async () => {
    const query = await get('/execsvcscriptplain?name=Echo&amp;startparam1=x&amp;startparam2=y');
    assert.equal(query.status, 400);
    assert.equal(query.headers.get('x-oktell-start-result'), '-1');
    assert.equal(await query.text(), '"amp;startparam1" in the query: the parameters are separated by "&amp;", HTML\'s escape of "&", where a bare "&" belongs (PHP\'s arg_separator.output set to "&amp;", or an address copied from a web page); send "startparam1" after a bare "&"');
    const form = await post('/execsvcscriptplain', 'application/x-www-form-urlencoded', 'name=Echo&amp;startparam2=y');
    assert.equal(form.status, 400);
    assert.match(await form.text(), /^"amp;startparam2" in the form: /);
    // A key of the caller's own that only starts so is still ignored.
    assert.equal((await get('/execsvcscriptplain?name=Echo&startparam1=x&amp;utm=1')).status, 200);
  });

  it('parameters separated by "&amp;amp;" (an address escaped for HTML twice) are refused the same way, naming that separator', async () => {
    const query = await get('/execsvcscriptplain?name=Echo&amp;amp;startparam1=x');
    assert.equal(query.status, 400);
    assert.equal(query.headers.get('x-oktell-start-result'), '-1');
    assert.equal(await query.text(), '"amp;amp;startparam1" in the query: the parameters are separated by "&amp;amp;", "&" escaped for HTML 2 times over, where a bare "&" belongs (PHP\'s arg_separator.output set to "&amp;", or an address copied from a web page); send "startparam1" after a bare "&"');
    const form = await post('/execsvcscript', 'application/x-www-form-urlencoded', 'name=Echo&AMP;amp;amp;Timeout=5');
    assert.equal(form.status, 400);
    assert.match(await form.text(), /<!\[CDATA\["AMP;amp;amp;Timeout" in the form: the parameters are separated by "&AMP;amp;amp;", "&" escaped for HTML 3 times over, .*send "Timeout" after a bare "&"\]\]>/);
    assert.equal((await get('/execsvcscriptplain?name=Echo&startparam1=x&amp;amp;utm=1')).status, 200);
  });

  it('a form whose parameters are separated by the numeric escapes "&#38;" or "&#x26;" is refused the same way', async () => {
    for (const [body, key] of [['name=Echo&#38;startparam1=x', '#38;startparam1'], ['name=Echo&#X26;StartParam1=x', '#X26;StartParam1'], ['name=Echo&#38;amp;startparam1=x', '#38;amp;startparam1']] as const) {
      const res = await post('/execsvcscriptplain', 'application/x-www-form-urlencoded', body);
      assert.equal(res.status, 400, body);
      assert.match(await res.text(), new RegExp(`^${JSON.stringify(key).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} in the form: the parameters are separated by `), body);
    }
  });

  it('timeout is decimal seconds: hexadecimal, exponents and spaces are refused as other text is', async () => {
    for (const bad of ['0x10', '1e2', '%205', '5%20', 'Infinity']) {
      const res = await get(`/execsvcscriptplain?name=Echo&timeout=${bad}`);
      assert.equal(res.status, 400, bad);
      assert.match(await res.text(), /^"timeout" must be a number of seconds above 0 and at most 600; got /);
    }
    for (const good of ['5', '0.5', '.5', '600', '10.']) assert.equal((await get(`/execsvcscriptplain?name=Echo&timeout=${good}`)).status, 200, good);
  });

  it('a UTF-8 byte order mark before a form (1C writes one by default) is not part of its first key', async () => {
    const res = await post('/execsvcscriptplain', 'application/x-www-form-urlencoded', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('name=Echo&startparam1=%D0%9F')]));
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'П|');
  });

  it('a form in a charset the server cannot read gets 415 in the Web-API\'s answer: XML and the start result', async () => {
    const res = await post('/execsvcscript', 'application/x-www-form-urlencoded; charset=x-unknown-cs', 'name=Echo');
    assert.equal(res.status, 415);
    assert.equal(res.headers.get('x-oktell-start-result'), '-1');
    assert.match(res.headers.get('content-type') ?? '', /^application\/xml/);
    assert.match(await res.text(), /<!\[CDATA\[the Web-API takes its parameters in the query or as a form \(application\/x-www-form-urlencoded\), not as a form in an unsupported charset "X-UNKNOWN-CS"/);
  });

  it('a form in ISO-2022-JP or UTF-16, whose characters can hold the bytes of "&" and "=", is refused with 415 saying so, not cut inside a character', async () => {
    const runsBefore = (await t.server.store.listRuns({ scenario: 'Echo' })).items.length;
    // う in ISO-2022-JP is ESC $ B 0x24 0x26: split on "&" before decoding, the value was cut in two.
    const jis = Buffer.concat([Buffer.from('name=Echo&startparam1='), Buffer.from([0x1b, 0x24, 0x42, 0x24, 0x26, 0x1b, 0x28, 0x42])]);
    const utf16 = Buffer.from('name=Echo&startparam1=\u2600', 'utf16le');
    for (const [label, body] of [['iso-2022-jp', jis], ['csISO2022JP', jis], ['utf-16le', utf16]] as const) {
      const res = await post('/execsvcscriptplain', `application/x-www-form-urlencoded; charset=${label}`, body);
      assert.equal(res.status, 415, label);
      assert.equal(res.headers.get('x-oktell-start-result'), '-1', label);
      assert.equal(
        await res.text(),
        `the Web-API takes its parameters in the query or as a form (application/x-www-form-urlencoded), not as a form in an unsupported charset "${label.toUpperCase()}": the bytes of "&", "=" and "%" can be part of a character in it, so a form in it cannot be split into its fields (send it in UTF-8, windows-1251 or another charset in which "&", "=" and "%" are always their ASCII bytes)`,
      );
    }
    assert.equal((await t.server.store.listRuns({ scenario: 'Echo' })).items.length, runsBefore, 'nothing ran');
  });

  it('a form in Shift_JIS, a multi-byte charset whose characters never hold those bytes, is read: ソ (0x83 0x5C) raw and escaped', async () => {
    const raw = Buffer.concat([Buffer.from('name=Echo&startparam1='), Buffer.from([0x83, 0x5c]), Buffer.from('&startparam2=%83%5C')]);
    const res = await post('/execsvcscriptplain', 'application/x-www-form-urlencoded; charset=shift_jis', raw);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'ソ|ソ');
  });
});

// The same callers on a server told to read values that are not UTF-8 in windows-1251 (OKTELL_WEBAPI_FALLBACK_CHARSET):
// how classic Oktell reads them is not documented, so the choice is the administrator's. UTF-8 is still read first, and
// a form that names its charset is read in it.
describe('Web-API values on a server with OKTELL_WEBAPI_FALLBACK_CHARSET=windows-1251', { timeout: 60_000 }, () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ smtp: false, extraScenarios: { 'Echo.yaml': ECHO }, env: { SMTP_URL: '', OKTELL_WEBAPI_FALLBACK_CHARSET: 'windows-1251' } });
  });
  after(() => t.cleanup());

  const get = (path: string) => fetch(`${t.server.url}${path}`, { headers: { authorization: AUTH } });
  const post = (path: string, contentType: string, body: string) => fetch(`${t.server.url}${path}`, { method: 'POST', headers: { authorization: AUTH, 'content-type': contentType }, body });

  it('windows-1251 escapes in a query and in an unlabelled form are read in windows-1251', async () => {
    const query = await get(`/execsvcscriptplain?name=Echo&startparam1=${PRIVET_1251}`);
    assert.equal(query.status, 200);
    assert.equal(await query.text(), 'Привет мир|');
    const form = await post('/execsvcscriptplain', 'application/x-www-form-urlencoded', `name=Echo&startparam2=${PRIVET_1251}`);
    assert.equal(await form.text(), '|Привет мир');
  });

  it('UTF-8 escapes are still UTF-8, and a labelled form is read in its own charset', async () => {
    assert.equal(await (await get('/execsvcscriptplain?name=Echo&startparam1=%D0%9F%D1%80%D0%B8%D0%B2%D0%B5%D1%82&startparam2=%CF%F0%E8%E2%E5%F2')).text(), 'Привет|Привет');
    assert.equal(await (await post('/execsvcscriptplain', 'application/x-www-form-urlencoded; charset=koi8-r', 'name=Echo&startparam1=%F0%D2%C9%D7%C5%D4')).text(), 'Привет|');
  });

  it('a form labelled charset=utf-8 whose values are not UTF-8 is refused, saying the label is wrong, not offering the setting it ignores', async () => {
    const res = await post('/execsvcscript', 'application/x-www-form-urlencoded; charset=UTF-8', `name=Echo&startparam1=${PRIVET_1251}`);
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('x-oktell-start-result'), '-1');
    const text = await res.text();
    assert.match(text, /"startparam1" in the form is not UTF-8 text \(%CF%F0%E8%E2%E5%F2%20%EC%E8%F0\), though the form's Content-Type says charset=utf-8: .*charset=windows-1251\)/);
    // The fallback is for values that name no charset: this server has it, and it did not apply.
    assert.doesNotMatch(text, /OKTELL_WEBAPI_FALLBACK_CHARSET/);
  });
});

describe('OKTELL_WEBAPI_FALLBACK_CHARSET is checked at start', () => {
  for (const [env, file, message] of [
    ['x-unknown', undefined, /OKTELL_WEBAPI_FALLBACK_CHARSET="x-unknown" is not a charset a form can be read in: give a label such as windows-1251/],
    ['utf-16le', undefined, /is not a charset a form can be read in/],
    ['iso-2022-jp', undefined, /is not a charset a form can be read in/],
    ['UTF8', undefined, /OKTELL_WEBAPI_FALLBACK_CHARSET="UTF8" names UTF-8, which every value is read in first/],
    [undefined, 'webApiFallbackCharset: nope\n', /oktell\.config\.yaml:1:\d+: webApiFallbackCharset "nope" is not a charset/],
  ] as const) {
    it(`${env ?? `the file's ${JSON.stringify(file)}`} stops the start with what to give`, () => {
      const tmp = tempDir('oktell-fallback-');
      try {
        if (file) writeFileSync(join(tmp.dir, 'oktell.config.yaml'), file);
        assert.throws(() => loadServerConfig({}, env ? { OKTELL_WEBAPI_FALLBACK_CHARSET: env } : {}, tmp.dir), message);
      } finally {
        tmp.cleanup();
      }
    });
  }
  it('a known label is kept in lower case; unset or blank leaves none', () => {
    assert.equal(loadServerConfig({}, { OKTELL_WEBAPI_FALLBACK_CHARSET: 'Windows-1251' }, '/nonexistent-dir').webApiFallbackCharset, 'windows-1251');
    assert.equal(loadServerConfig({}, { OKTELL_WEBAPI_FALLBACK_CHARSET: '  ' }, '/nonexistent-dir').webApiFallbackCharset, undefined);
    assert.equal(loadServerConfig({}, {}, '/nonexistent-dir').webApiFallbackCharset, undefined);
  });
});
