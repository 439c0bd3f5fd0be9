// Escape sequences in webhook data (clear the screen, recolour, set the window title) reach the operator's terminal
// only escaped: `show` of a hook's run (a Parser note, a letter's recipients, subject and text), `webhook send` (the
// hook's answer), `outbox` and `outbox show` (a stored letter) and `run --dry-run`, through the real binary against a
// real server, a real SMTP server on loopback and the local outbox. Line breaks of a body stay line breaks.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { parsedLetters, postWebhook, startTestServer, USER, waitFor, type TestServer } from '../server/server-helpers.js';
import { runCliAsync } from './cli.helper.js';
import { runCli } from './cli-process.js';

/** The hook scenario: a JSON body's subject, text and recipient make a letter on /mail, its `answer` is the answer; a body that is not JSON is answered as it came. */
const HOOK = `variables: { address: string, body: string, to: string, subject: string, text: string, answer: string, parseError: string }
start: save
blocks:
  save:
    kind: Variable
    set:
      address: InputParameter(1)
      body: InputParameter(4)
    exits: { next: parse }
  parse:
    kind: Parser
    mode: json
    document: '[body]'
    extract: { to: $.to, subject: $.subject, text: $.text, answer: $.answer }
    errorVariable: parseError
    exits: { success: isMail, error: echo }
  echo:
    kind: ReturnValue
    values: { 1: '[body]', 2: 200 }
  isMail:
    kind: Condition
    expression: Contains([address], "/mail")
    exits: { true: mail, false: answer }
  mail:
    kind: SendMail
    to: '[to]'
    subject: '[subject]'
    text: '[text]'
    exits: { success: answer, error: answer }
  answer:
    kind: ReturnValue
    values: { 1: '[answer]', 2: 200 }
`;

const ESC = '\u001b';
const BEL = '\u0007';
/**
 * C1's one-character CSI: the run keeps a letter's subject as the scenario gave it (shown by show and run, escaped),
 * while the composer makes it a space in the letter itself and refuses it in a display name.
 */
const CSI = '\u009b';
/** A raw body that is not JSON: the Parser's note quotes it. */
const RAW = `zz${ESC}[2J${ESC}]0;PWN${BEL}`;
const LETTER = {
  to: `"Ivan" <ivan@example.com>`,
  subject: `ESC${ESC}[31mRED${ESC}]0;TITLE${BEL} end${CSI}2J`,
  text: `body ${ESC}[2J${ESC}[31mcleared\nsecond line`,
  answer: `R${ESC}[2J${ESC}]0;T${BEL}z\nline 2`,
};

/** No control character but the line break reaches the terminal. */
function assertNoControls(out: string, what: string): void {
  assert.doesNotMatch(out, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/, `${what} prints a control character raw:\n${JSON.stringify(out)}`);
}

describe('webhook text in the CLI output is escaped (a real server, a real SMTP server)', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ extraScenarios: { 'HTTP404.yaml': HOOK } });
  });
  after(async () => t.cleanup());

  it('show: the Parser note quoting a raw body, the letter subject and its text lines', { timeout: 60_000 }, async () => {
    const raw = await postWebhook(t.server.url, RAW, undefined, '/echo');
    assert.equal(raw.status, 200);
    const rawRun = raw.headers.get('x-oktell-run-id')!;
    const shownRaw = await runCliAsync(['show', rawRun, '--data-dir', t.dataDir]);
    assert.equal(shownRaw.code, 0, shownRaw.stderr);
    assertNoControls(shownRaw.stdout, 'show (a Parser note)');
    assert.match(shownRaw.stdout, /note .*zz\\u001b\[2J\\u001b\]0;PWN\\u0007/);

    const mail = await postWebhook(t.server.url, JSON.stringify(LETTER), undefined, '/mail');
    assert.equal(mail.status, 200);
    const [letter] = await waitFor('the letter', async () => ((await parsedLetters(t.smtp!)).length ? parsedLetters(t.smtp!) : undefined));
    assert.match(letter!.text!, /second line/, 'the letter went out over SMTP');
    const shown = await runCliAsync(['show', mail.headers.get('x-oktell-run-id')!, '--data-dir', t.dataDir]);
    assert.equal(shown.code, 0, shown.stderr);
    assertNoControls(shown.stdout, 'show (a letter)');
    assert.match(shown.stdout, /mail sent to "?Ivan"? <ivan@example\.com> · ESC\\u001b\[31mRED\\u001b\]0;TITLE\\u0007 end\\u009b2J\n/);
  });

  it('webhook send: the answer body, escaped, its line break kept', { timeout: 60_000 }, async () => {
    const tmp = tempDir();
    try {
      const file = join(tmp.dir, 'letter.json');
      writeFileSync(file, JSON.stringify({ ...LETTER, to: 'maria@example.org' }));
      const sent = await runCliAsync(['webhook', 'send', '/mail', file, '--url', t.server.url, '--user', `${USER.login}:${USER.password}`, '--data-dir', t.dataDir]);
      assert.equal(sent.code, 0, sent.stdout + sent.stderr);
      assertNoControls(sent.stdout, 'webhook send');
      assert.match(sent.stdout, /\nbody: R\\u001b\[2J\\u001b\]0;T\\u0007z\nline 2\n/);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('webhook text in letters kept in the outbox, and in a dry run, is escaped', () => {
  it('outbox and outbox show: recipients, subject and text (its lines kept) of a letter a webhook wrote', { timeout: 60_000 }, async () => {
    const t = await startTestServer({ smtp: false, extraScenarios: { 'HTTP404.yaml': HOOK } });
    try {
      const mail = await postWebhook(t.server.url, JSON.stringify(LETTER), undefined, '/mail');
      assert.equal(mail.status, 200);
      const list = await runCliAsync(['outbox', '--data-dir', t.dataDir]);
      assert.equal(list.code, 0, list.stderr);
      assertNoControls(list.stdout, 'outbox');
      assert.match(list.stdout, / ivan@example\.com +ESC \[31mRED \]0;TITLE +end 2J /, 'the subject as the composer wrote it (C0 and C1 made spaces)');
      const shown = await runCliAsync(['outbox', 'show', 'last', '--data-dir', t.dataDir]);
      assert.equal(shown.code, 0, shown.stderr);
      assertNoControls(shown.stdout, 'outbox show');
      assert.match(shown.stdout, /\nSubject: +ESC \[31mRED \]0;TITLE +end 2J\n/);
      assert.match(shown.stdout, /\nTo: +"?Ivan"? <ivan@example\.com>\n/);
      assert.match(shown.stdout, /\n── text ──\nbody \\u001b\[2J\\u001b\[31mcleared\nsecond line\n/);
      const run = await runCliAsync(['show', mail.headers.get('x-oktell-run-id')!, '--data-dir', t.dataDir]);
      assertNoControls(run.stdout, 'show (a letter kept in the outbox)');
      assert.match(run.stdout, /· ESC\\u001b\[31mRED\\u001b\]0;TITLE\\u0007 end\\u009b2J\n/);
    } finally {
      await t.cleanup();
    }
  });

  it('run --dry-run: the note, the letter (recipient, subject, text lines) and the answer', { timeout: 60_000 }, () => {
    const tmp = tempDir();
    try {
      writeFileSync(join(tmp.dir, 'HTTP404.yaml'), HOOK);
      writeFileSync(join(tmp.dir, 'raw.txt'), RAW);
      writeFileSync(join(tmp.dir, 'letter.json'), JSON.stringify(LETTER));
      const data = join(tmp.dir, 'var');
      const raw = runCli(['run', 'HTTP404', '--scenarios', tmp.dir, '--data-dir', data, '-p', '1=/echo', '-p', `4=@${join(tmp.dir, 'raw.txt')}`, '--dry-run']);
      assert.equal(raw.code, 0, raw.stdout + raw.stderr);
      assertNoControls(raw.stdout, 'run --dry-run (a Parser note)');
      assert.match(raw.stdout, /note .*zz\\u001b\[2J\\u001b\]0;PWN\\u0007/);
      const mail = runCli(['run', 'HTTP404', '--scenarios', tmp.dir, '--data-dir', data, '-p', '1=/mail', '-p', `4=@${join(tmp.dir, 'letter.json')}`, '--dry-run']);
      assertNoControls(mail.stdout, 'run --dry-run (a letter)');
      assert.equal(mail.code, 0, mail.stdout + mail.stderr);
      assert.match(mail.stdout, /mail dry-run to "?Ivan"? <ivan@example\.com>\n/);
      assert.match(mail.stdout, /\n +subject ESC\\u001b\[31mRED\\u001b\]0;TITLE\\u0007 end\\u009b2J\n +│ body \\u001b\[2J\\u001b\[31mcleared\n +│ second line\n/);
    } finally {
      tmp.cleanup();
    }
  });
});
