// The bidirectional marks (U+200E, U+200F, U+061C) in stored text reach the operator's terminal escaped, as the
// overrides and isolates do: a webhook body with a RIGHT-TO-LEFT MARK, kept as a run's return value, is printed as
// `\u200f` by `runs` and `show`, and in an error line; `--json` keeps the real characters. (A path reaches the
// scenario percent-encoded, so the body carries them here.)
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { terminalText } from '../../cli/format.js';
import { postWebhook, startTestServer, type TestServer } from '../server/server-helpers.js';
import { runCliAsync } from './cli.helper.js';

/** Answers any request with its body as return value 1. */
const ECHO_BODY = `variables: { address: string }
start: save
blocks:
  save:
    kind: Variable
    set:
      address: InputParameter(4)
    exits: { next: answer }
  answer:
    kind: ReturnValue
    values: { 1: '[address]', 2: 200 }
`;

/** Every bidirectional control character: the marks, the embeddings and overrides, the isolates. */
const BIDI = ['\u200e', '\u200f', '\u061c', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069'];
const RAW_BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

describe('terminalText escapes every bidirectional control character', () => {
  for (const c of BIDI) {
    const hex = c.charCodeAt(0).toString(16).padStart(4, '0');
    it(`U+${hex.toUpperCase()}`, () => assert.equal(terminalText(`1${c}00`), `1\\u${hex}00`));
  }
  it('right-to-left letters themselves stay as they are', () => assert.equal(terminalText('שלום مرحبا'), 'שלום مرحبا'));
});

describe('a webhook body with a bidirectional mark, as the CLI prints it (a real server)', () => {
  let t: TestServer;
  let runId: string;
  // /pay/1‏00 with a RIGHT-TO-LEFT MARK between the digits, drawn "/pay/001" where it is obeyed.
  before(async () => {
    t = await startTestServer({ extraScenarios: { 'HTTP404.yaml': ECHO_BODY } });
    const res = await postWebhook(t.server.url, '/pay/1\u200f00\u061c\u200e', undefined, '/echo');
    assert.equal(res.status, 200, await res.text());
    runId = res.headers.get('x-oktell-run-id')!;
  });
  after(async () => t.cleanup());

  it('runs: the outcome column writes the marks as \\u200f, \\u061c, \\u200e', { timeout: 60_000 }, async () => {
    const r = await runCliAsync(['runs', '--data-dir', t.dataDir, '-n', '5']);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, RAW_BIDI, JSON.stringify(r.stdout));
    assert.match(r.stdout, /\/pay\/1\\u200f00\\u061c\\u200e/);
  });

  it('show: the return value writes them escaped', { timeout: 60_000 }, async () => {
    const r = await runCliAsync(['show', runId, '--data-dir', t.dataDir]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, RAW_BIDI, JSON.stringify(r.stdout));
    assert.match(r.stdout, /return values 1="\/pay\/1\\u200f00\\u061c\\u200e"/);
  });

  it('runs --json and show --json keep the real characters, as valid JSON', { timeout: 60_000 }, async () => {
    const list = await runCliAsync(['runs', '--data-dir', t.dataDir, '-n', '5', '--json']);
    assert.equal(list.code, 0, list.stderr);
    const rows = JSON.parse(list.stdout) as Array<{ id: string; outcome?: string }>;
    assert.equal(rows.find((x) => x.id === runId)?.outcome, '/pay/1\u200f00\u061c\u200e; value 2: 200');
    const shown = await runCliAsync(['show', runId, '--data-dir', t.dataDir, '--json']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /\/pay\/1\u200f00\u061c\u200e/);
    JSON.parse(shown.stdout);
  });

  it('an error line quoting the text escapes it too (main prints every refusal through terminalText)', { timeout: 60_000 }, async () => {
    const r = await runCliAsync(['show', `01\u200fabc\u2067`, '--data-dir', t.dataDir]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.doesNotMatch(r.stderr, RAW_BIDI, JSON.stringify(r.stderr));
    assert.match(r.stderr, /^oktell-emu: .*01\\u200fabc\\u2067/);
    const j = await runCliAsync(['show', `01\u200fabc`, '--data-dir', t.dataDir, '--json']);
    assert.match((JSON.parse(j.stdout) as { error: { message: string } }).error.message, /01\u200fabc/);
  });
});
