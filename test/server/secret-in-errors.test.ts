// A run that fails on a secret's value: the error messages quote the value they could not use (cut to 40 characters
// and escaped as JSON text, and V8's JSON errors show a stretch of the text around the mistake). None of those forms
// is the secret as it is, so masking by the whole value missed them and the record, the console and the log held most
// of the secret. They are masked too; the test runs a real server and looks for any 8 characters of the secrets.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AUTH, capturingLogger, startTestServer, waitFor } from './server-helpers.js';

const LONG = 'sk_live_Q7w2Xe9rT4yU1iO8pA5sD3fG6hJ0kL2zX9cV7bN4mQ1';
const QUOTED = '{"key": tok_R8v1Z}';
/** Percent escapes that are not UTF-8: UrlDecode's error quotes the run of escapes, a stretch from inside the secret. */
const PERCENT = 'pk_%C3%28%A0%A1%FE%FF%80%81%9F_Zt';
/** A run of escapes longer than the 40 characters a message quotes: quoted cut, `"%FE…%A7%…"`. */
const PERCENT_LONG = 'pk_%FE%FF%80%81%9F%A0%A1%A2%A3%A4%A5%A6%A7%A8%A9%AA_end';
const ENV = 'OKTELL_TEST_ERROR_SECRET';

/** Every run reads the secret where it does not fit: a number, a JSON text (JsonGet), a Parser's document. */
const scenario = (set: string) => `variables:
  long: { type: string, env: ${ENV}_LONG }
  quoted: { type: string, env: ${ENV}_QUOTED }
  percent: { type: string, env: ${ENV}_PERCENT }
  percentLong: { type: string, env: ${ENV}_PERCENT_LONG }
  n: number
  j: json
  out: string
start: s
blocks:
${set}
`;
const SCENARIOS: Record<string, string> = {
  'LongNumber.yaml': scenario(`  s:\n    kind: Variable\n    set: { n: '[long]' }`),
  'LongJson.yaml': scenario(`  s:\n    kind: Variable\n    set: { j: 'JsonGet([long], "a")' }`),
  'QuotedJson.yaml': scenario(`  s:\n    kind: Variable\n    set: { j: 'JsonGet([quoted], "a")' }`),
  // The secret inside a longer value: the cut quote and the JSON error's stretch begin before it.
  'BearerNumber.yaml': scenario(`  s:\n    kind: Variable\n    set: { n: '"Bearer " + [long]' }`),
  'BearerJson.yaml': scenario(`  s:\n    kind: Variable\n    set: { j: 'JsonGet("[1, " + [long] + "]", "a")' }`),
  'PercentDecode.yaml': scenario(`  s:\n    kind: Variable\n    set: { out: 'UrlDecode([percent])' }`),
  'PercentLongDecode.yaml': scenario(`  s:\n    kind: Variable\n    set: { out: 'UrlDecode([percentLong])' }`),
  'LongParser.yaml': scenario(`  s:\n    kind: Parser\n    mode: json\n    document: '[long]'\n    extract: { out: $.a }\n    exits: { success: r, error: r }\n  r:\n    kind: ReturnValue\n    values: { 1: '"parsed"' }`),
};

/** Whether `text` holds any 8 characters in a row of either secret, escaped as JSON or not. */
function leaks(text: string): string | undefined {
  for (const secret of [LONG, QUOTED, JSON.stringify(QUOTED).slice(1, -1), PERCENT, PERCENT_LONG]) {
    for (let i = 0; i + 8 <= secret.length; i++) if (text.includes(secret.slice(i, i + 8))) return secret.slice(i, i + 8);
  }
  return undefined;
}

describe('a secret in the error messages of a run', () => {
  it('is masked in the run record, the console and the log, in every form a message quotes it', { timeout: 60_000 }, async () => {
    const log = capturingLogger();
    const t = await startTestServer({ smtp: false, logger: log.logger, extraScenarios: SCENARIOS, env: { [`${ENV}_LONG`]: LONG, [`${ENV}_QUOTED`]: QUOTED, [`${ENV}_PERCENT`]: PERCENT, [`${ENV}_PERCENT_LONG`]: PERCENT_LONG } });
    try {
      for (const name of ['LongNumber', 'LongJson', 'QuotedJson', 'BearerNumber', 'BearerJson', 'PercentDecode', 'PercentLongDecode', 'LongParser']) {
        const res = await fetch(`${t.server.url}/execsvcscriptplain?name=${name}`, { headers: { authorization: AUTH } });
        const answer = await res.text();
        assert.equal(leaks(answer), undefined, `the Web-API answer of ${name}: ${answer}`);
        const id = res.headers.get('x-oktell-run-id')!;
        const stored = await waitFor(`the record of run ${id}`, () => t.server.store.getRun(id));
        const record = JSON.stringify(stored);
        // The run failed (or, for the Parser, noted its error) where the secret was read: the message is there, masked.
        if (name.startsWith('Percent')) assert.match(record, /the bytes \\"\*\*\*\\" at character \d+ are not UTF-8 text/, record);
        else assert.match(record, name === 'LongParser' ? /not valid JSON/ : /cannot convert text \\"(Bearer )?\*\*\*…?\\"|\*\*\*(\\")?[^"]*is not valid JSON/, record);
        assert.equal(leaks(record), undefined, `the record of ${name}: ${record}`);
        const page = await (await fetch(`${t.server.url}/-/console/runs/${id}`, { headers: { authorization: AUTH } })).text();
        assert.equal(leaks(page), undefined, `the console page of ${name}`);
      }
      const lines = JSON.stringify(log.lines);
      assert.equal(leaks(lines), undefined, `the log: ${lines}`);
    } finally {
      await t.cleanup();
    }
  });
});
