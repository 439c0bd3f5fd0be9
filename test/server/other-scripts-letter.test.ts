// An integrator whose data is in other scripts, end to end: a signed Bpium webhook whose task name mixes Chinese,
// Arabic and Hebrew with numbers, a ZWJ emoji family, NFD accents, a lone surrogate and a CR LF; employees in the Bpium
// emulator whose e-mail field holds a quoted name with a comma and angle brackets at an internationalised domain, a
// mailbox with Cyrillic before @, and a header injection. The real server sends through a real SMTP server on loopback.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parsedLetters, postWebhook, startTestServer, waitFor, type TestServer } from './server-helpers.js';

describe('a new task in other scripts, through the real server', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(async () => t.cleanup());

  it('sends the letter the data meant, refuses the mailbox SMTPUTF8 would need and the injection, and says why', async () => {
    const emu = t.server.emulator!;
    const auth = `Basic ${Buffer.from(`${emu.login}:${emu.password}`).toString('base64')}`;
    const addUser = async (name: string, email: string) => {
      const res = await fetch(`${emu.url}/catalogs/3/records`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: auth }, body: JSON.stringify({ values: { '1': name, '2': email } }) });
      assert.equal(res.status, 200);
      return String(((await res.json()) as { id: string | number }).id);
    };
    const wang = await addUser('王小明', '"Wang <CEO>, 王小明" <wang@пример.рф>');
    const petya = await addUser('Петя', 'петя@example.com');
    const evil = await addUser('Ё', 'x@example.com\r\nBcc: evil@example.com');

    const name = 'مهمة 2024 — משימה 15 任务 👨‍👩‍👧‍👦 Cafe\u0301 \ud800\r\nBcc: evil@example.com';
    const body = JSON.stringify({
      timestamp: '1',
      hook: { id: '1', event: 'record.created', sequenceId: 600601 },
      payload: { catalogId: '11', recordId: '77', values: { '2': name, '3': 'שלום <script>alert(1)</script> & 123', '4': [{ id: wang }, { id: petya }, { id: evil }] } },
      user: { id: '1' },
    });
    assert.match(body, /\\ud800/, 'the lone surrogate travels as a JSON escape');
    const res = await postWebhook(t.server.url, body, t.secret);
    assert.equal(res.status, 200);
    await waitFor('the letter', () => t.smtp!.letters.length >= 1);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(t.smtp!.letters.length, 1, 'one letter: the Cyrillic mailbox and the injection are refused');
    const [letter] = t.smtp!.letters;
    // smtp-server shows the envelope's punycode domain decoded; the header on the wire is ASCII.
    assert.deepEqual(letter!.rcptTo, ['wang@пример.рф']);
    const head = letter!.raw.toString('latin1').split('\r\n\r\n')[0]!;
    assert.ok(!/[^\x20-\x7e\r\n]/.test(head), 'the header is 7-bit');
    assert.match(head, /<wang@xn--e1afmkfd\.xn--p1ai>/);
    assert.doesNotMatch(head, /^Bcc:/im, 'no header from the data');

    const [mail] = await parsedLetters(t.smtp!);
    const to = Array.isArray(mail!.to) ? mail!.to[0]! : mail!.to!;
    assert.deepEqual(to.value.map((v) => [v.name, v.address]), [['Wang <CEO>, 王小明', 'wang@пример.рф']]);
    const shown = name.replace('\ud800', '\ufffd').replace('\r\n', ' ');
    assert.equal(mail!.subject, `Новая задача: ${shown}`);
    assert.ok(mail!.text!.includes('Здравствуйте, 王小明!'), mail!.text);
    assert.ok(mail!.text!.includes('مهمة 2024 — משימה 15 任务 👨‍👩‍👧‍👦 Cafe\u0301 \ufffd'), mail!.text);
    assert.ok(mail!.text!.includes('שלום <script>alert(1)</script> & 123'), mail!.text);
    assert.ok(String(mail!.html).includes('שלום &lt;script&gt;alert(1)&lt;/script&gt; &amp; 123'), 'the HTML escapes the data');

    const done = await waitFor('the run of BpiumNewTask', async () => {
      const runs = await t.server.store.listRuns({ scenario: 'BpiumNewTask', limit: 5 });
      const r = runs.items.find((x) => x.status === 'completed');
      return r ? t.server.store.getRun(r.id) : undefined;
    });
    const summary = String((done!.returnValues as Record<string, unknown> | null)?.['1'] ?? '');
    assert.match(summary, /^notified 1 of 3; /);
    assert.match(summary, new RegExp(`user ${petya}: invalid to address: address "петя@example.com" has non-ASCII characters before @: such a mailbox needs SMTPUTF8`));
    assert.match(summary, new RegExp(`user ${evil}: invalid to address: address list .* contains a line break or NUL character`));
  });
});
