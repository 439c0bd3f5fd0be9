// JSON from request data nests at most MAX_JSON_DEPTH (256) levels (security review s30, M1): a 5 MB body of nested
// brackets held the server's thread for seconds in JSON.parse. A deeper document is refused by a one-pass scan before
// parsing: the Parser takes its error exit, JsonGet/JsonCount and a json variable fail the run, each with a message
// naming the limit. A document at the limit still parses, and brackets inside strings do not count.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { createFixtureBpium, type BpiumFixtureFile } from '../../adapters/fixtures/bpium-fixtures.adapter.js';
import { maskBody } from '../../adapters/web/redact.js';
import { fixedClock, jsonTooDeepAt, MAX_JSON_DEPTH, randomIds, runScenario, type EnginePorts } from '../../engine/index.js';
import { createContext, run } from '../expr/fixed-context.js';
import { repoPath } from '../helpers.js';
import { libraryOfText } from '../scenario-text.helper.js';

/** `{"a":[[…1…]]}`: the object is one level, so `levels` in all. */
function nested(levels: number): string {
  const arrays = levels - 1;
  return `{"a":${'['.repeat(arrays)}1${']'.repeat(arrays)}}`;
}
/** A shallow document whose strings hold far more brackets than the limit, escaped quotes among them. */
const BRACKETS_IN_STRINGS = `{"a":"${'[{'.repeat(5000)}","b":["\\"${'['.repeat(5000)}\\\\"],"c":2}`;
const LIMIT_TEXT = /deeper than 256 levels \(at character \d+\), the limit for JSON a scenario reads/;

const ports: EnginePorts = { clock: fixedClock(new Date('2026-12-01T09:00:00Z')), ids: randomIds, asyncStarter: { start: async () => ({ runId: 'x' }) } };

async function runText(yaml: string, variables: Record<string, string>, bpium?: EnginePorts['bpium']) {
  const { library, name } = libraryOfText('Depth.yaml', yaml);
  return runScenario(library, name, { variables, ports: { ...ports, ...(bpium ? { bpium } : {}) } });
}

const PARSER = `variables: { doc: string, a: string, c: number, err: string }
start: p
blocks:
  p: { kind: Parser, mode: json, document: '[doc]', extract: { a: $.a, c: { path: $.c } }, errorVariable: err, exits: { success: ok, error: bad } }
  ok: { kind: ReturnValue, values: { 1: '"ok " + [c]' } }
  bad: { kind: ReturnValue, values: { 1: '"error: " + [err]' } }
`;

describe('the JSON nesting limit', () => {
  it('the scan counts [ and { outside strings and stops at the first one too many', () => {
    assert.equal(MAX_JSON_DEPTH, 256);
    assert.equal(jsonTooDeepAt(nested(256)), -1);
    assert.equal(jsonTooDeepAt(nested(257)), 5 + 255, 'the offset of the 257th bracket');
    assert.equal(jsonTooDeepAt(`[${'[]'.repeat(100_000)}]`), -1, 'many brackets side by side are 2 levels');
    assert.equal(jsonTooDeepAt(BRACKETS_IN_STRINGS), -1);
    assert.equal(jsonTooDeepAt(`{"a":"\\\\"${'['.repeat(300)}`), 9 + 255, 'the string "\\\\" ends at its second quote');
  });

  it('the Parser reads a document at the limit', async () => {
    const r = await runText(PARSER, { doc: nested(256).replace('{', '{"c":7,') });
    assert.equal(r.status, 'completed', JSON.stringify(r.status === 'failed' && r.error));
    assert.equal(r.returnValues['1'], 'ok 7');
  });

  it('the Parser takes its error exit for a document one level deeper, with the limit in the reason', async () => {
    const r = await runText(PARSER, { doc: nested(257).replace('{', '{"c":7,') });
    assert.equal(r.status, 'completed');
    assert.match(String(r.returnValues['1']), /^error: the document nests arrays and objects deeper than 256 levels \(at character 267\)/);
  });

  it('the Parser counts no bracket inside a string', async () => {
    const r = await runText(PARSER, { doc: BRACKETS_IN_STRINGS });
    assert.equal(r.returnValues['1'], 'ok 2');
  });

  it('JsonGet and JsonCount fail on a document deeper than the limit, and read one at it', () => {
    const ctx = createContext({ at: nested(256), over: nested(257), str: BRACKETS_IN_STRINGS });
    assert.equal(run('JsonCount([at], "$.a")', ctx), 1);
    assert.equal(run('JsonGet([str], "$.c")', ctx), 2);
    assert.throws(() => run('JsonGet([over], "$.a")', ctx), (e: Error) => /^JsonGet: text "\{/.test(e.message) && LIMIT_TEXT.test(e.message));
    assert.throws(() => run('JsonCount([over])', ctx), (e: Error) => /^JsonCount: /.test(e.message) && LIMIT_TEXT.test(e.message));
  });

  it('a run that puts a too-deep text into a json variable fails with the limit in its message', async () => {
    const yaml = `variables: { doc: string, j: json }
start: v
blocks:
  v: { kind: Variable, set: { j: '[doc]' }, exits: { next: r } }
  r: { kind: ReturnValue, values: { 1: 'JsonCount([j])' } }
`;
    const ok = await runText(yaml, { doc: nested(256) });
    assert.equal(ok.returnValues['1'], 1);
    const r = await runText(yaml, { doc: nested(257) });
    assert.equal(r.status, 'failed');
    if (r.status === 'failed') assert.match(r.error.message, LIMIT_TEXT);
  });

  it('a Bpium filter or filtersJson deeper than the limit takes the error exit with BPIUM_BAD_JSON; within the limit it is sent', async () => {
    const fixture = parse(readFileSync(repoPath('test', 'fixtures', 'bpium-users.yaml'), 'utf8')) as BpiumFixtureFile;
    const find = (filter: string) => `variables: { doc: string, code: string, answer: json }
start: f
blocks:
  f: { kind: Bpium, method: findRecord, catalog: 3, ${filter}, answer: answer, errorCode: code, exits: { success: ok, error: bad } }
  ok: { kind: ReturnValue, values: { 1: '"ok"' } }
  bad: { kind: ReturnValue, values: { 1: '"error " + [code]' } }
`;
    for (const filter of ['filters: { "2": \'[doc]\' }', "filtersJson: '[doc]'"]) {
      const over = await runText(find(filter), { doc: `{"2":${nested(257)}}` }, createFixtureBpium(fixture));
      assert.equal(over.returnValues['1'], 'error BPIUM_BAD_JSON', filter);
      assert.match(JSON.stringify(over.trace), LIMIT_TEXT, filter);
      const at = await runText(find(filter), { doc: `{"2":${nested(255)}}` }, createFixtureBpium(fixture));
      // Sent: the fake Bpium, as the emulator, refuses an object as the filter of a text field with 400.
      assert.equal(at.returnValues['1'], 'error 400', `${filter}: sent, and refused as Bpium refuses it`);
    }
  });

  it('a WebRequest JSON body deeper than the limit is not shown in the trace (it cannot be masked cheaply); one at it is masked', () => {
    assert.equal(maskBody(`{"password":"p","a":${nested(257)}}`, 'application/json'), '(JSON nested deeper than 256 levels: not shown)');
    assert.equal(maskBody(`{"password":"p","a":${nested(255)}}`, 'application/json'), `{"password":"***","a":${nested(255)}}`);
  });
});
