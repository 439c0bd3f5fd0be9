// A number or true/false written in quotes (`timeout: "10"`, `timeout: '"10"'`) is text to YAML: the problem says so,
// at the value, with the line to write instead of zod's "expected number, received string" and the whole example
// (trial 38 #12). Any block's numeric properties get it, not only WebRequest's.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioText } from '../../engine/index.js';
import { runCli } from '../cli/cli.helper.js';
import { tempDir } from '../helpers.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function issues(block: string): Array<[string, number, number, string, string | undefined]> {
  const text = `variables: { s: string, n: number }
blocks:
  b:
${block}
  r: { kind: ReturnValue, values: { 1: '"x"' } }
`;
  const r = loadScenarioText('Q.yaml', text, { registry: defaultRegistry });
  return r.ok ? [] : r.issues.map((i) => [i.code, i.line, i.col, i.message, i.hint]);
}

describe('a number or a boolean written in quotes', () => {
  it('WebRequest timeout, maxRedirects and idempotencyKey: the value to write, without quotes', () => {
    const got = issues(`    kind: WebRequest
    url: '"http://127.0.0.1:1/"'
    timeout: '"10"'
    maxRedirects: "3"
    idempotencyKey: "True"
    exits: { success: r, error: r, timeout: r }`);
    assert.deepEqual(got, [
      ['E_INVALID_PROPERTY', 6, 14, `"timeout": '"10"' is text, not a number of seconds`, 'write timeout: 10 (a number of seconds, without quotes)'],
      ['E_INVALID_PROPERTY', 7, 19, '"maxRedirects": "3" is text, not a number', 'write maxRedirects: 3 (a number, without quotes)'],
      ['E_INVALID_PROPERTY', 8, 21, '"idempotencyKey": "True" is text, not true or false', 'write idempotencyKey: true (true or false, without quotes)'],
    ]);
  });

  it('a database block\'s timeout and maxRows the same way', () => {
    const got = issues(`    kind: DbQuery
    sql: SELECT 1 AS one
    timeout: "2.5"
    maxRows: ' 100 '
    exits: { success: r, error: r }`);
    assert.deepEqual(
      got.sort((a, b) => a[1] - b[1]).map((g) => [g[1], g[3], g[4]]),
      [
        [6, '"timeout": "2.5" is text, not a number of seconds', 'write timeout: 2.5 (a number of seconds, without quotes)'],
        [7, '"maxRows": " 100 " is text, not a number', 'write maxRows: 100 (a number, without quotes)'],
      ],
    );
  });

  it('text that is no number keeps the general message, with the property\'s line of the example (trial 50, 55)', () => {
    const [only, ...rest] = issues(`    kind: WebRequest
    url: '"http://127.0.0.1:1/"'
    timeout: ten
    exits: { success: r, error: r, timeout: r }`);
    assert.deepEqual(rest, []);
    assert.equal(only![3], '"timeout": Invalid input: expected number, received string');
    assert.equal(only![4], 'e.g. timeout: 10 (seconds, per attempt)');
  });
});

describe('a number out of its range or not whole', () => {
  // Data-driven: the property as written, and the problem and fix said in words, not the schema's own wording
  // ("Too small: expected number to be >0", "expected int, received number"), found by a user trial.
  const cases: Array<{ block: string; line: number; message: string; hint: string }> = [
    { block: 'kind: WebRequest\n    url: \'"http://127.0.0.1:1/"\'\n    maxRedirects: 2.5', line: 6, message: '"maxRedirects": 2.5 is not a whole number', hint: 'write a whole number, e.g. 2' },
    { block: 'kind: WebRequest\n    url: \'"http://127.0.0.1:1/"\'\n    timeout: 0', line: 6, message: '"timeout": 0 is too small: it must be more than 0', hint: 'write a number above 0' },
    { block: 'kind: WebRequest\n    url: \'"http://127.0.0.1:1/"\'\n    maxRedirects: 21', line: 6, message: '"maxRedirects": 21 is too large: the most it takes is 20', hint: 'write 20 or less' },
    { block: 'kind: DbQuery\n    sql: SELECT 1 AS one\n    maxRows: 0', line: 6, message: '"maxRows": 0 is too small: the least it takes is 1', hint: 'write 1 or more' },
    // Far out of range, a whole-number setting is past its own bound and the safe integers' both: said once, with its own.
    { block: 'kind: WebRequest\n    url: \'"http://127.0.0.1:1/"\'\n    maxRedirects: 1e300', line: 6, message: '"maxRedirects": 1e+300 is too large: the most it takes is 20', hint: 'write 20 or less' },
    { block: 'kind: DbQuery\n    sql: SELECT 1 AS one\n    maxRows: -1e300', line: 6, message: '"maxRows": -1e+300 is too small: the least it takes is 1', hint: 'write 1 or more' },
  ];
  for (const c of cases) {
    it(c.message, () => {
      const exits = c.block.startsWith('kind: WebRequest') ? '{ success: r, error: r, timeout: r }' : '{ success: r, error: r }';
      const got = issues(`    ${c.block}\n    exits: ${exits}`);
      assert.deepEqual(got.map((g) => [g[0], g[1], g[3], g[4]]), [['E_INVALID_PROPERTY', c.line, c.message, c.hint]]);
    });
  }
});

describe('oktell-emu validate says a number far out of range once', () => {
  it('maxRedirects: 1e300 is one problem, at its line:col, with the fix', () => {
    const tmp = tempDir();
    try {
      mkdirSync(join(tmp.dir, 'scenarios'));
      writeFileSync(join(tmp.dir, 'scenarios', 'Far.yaml'), `blocks:\n  b:\n    kind: WebRequest\n    url: '"http://127.0.0.1:1/"'\n    maxRedirects: 1e300\n    exits: { success: r, error: r, timeout: r }\n  r: { kind: ReturnValue, values: { 1: '"x"' } }\n`);
      const r = runCli(['validate'], { cwd: tmp.dir });
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stdout, 'scenarios/Far.yaml:5:19 E_INVALID_PROPERTY "maxRedirects": 1e+300 is too large: the most it takes is 20 [block b]\n    hint: write 20 or less\n✗ 1 problem(s) in 1 file(s)\n');
    } finally {
      tmp.cleanup();
    }
  });
});
