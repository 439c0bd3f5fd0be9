// Security finding S5: a Parser in regex mode matches an administrator's pattern over the request body. With
// JavaScript's backtracking engine a pattern with nested quantifiers, (a+)+$, over a crafted body of a few dozen
// characters kept the server's one thread busy for minutes (no deadline interrupts a synchronous match): every
// webhook and the health check stalled. Patterns now run on RE2, linear in the text. The server runs as its own
// process, so the old behaviour makes this test fail (the request is abandoned) instead of freezing the test runner.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startServeProcess } from '../cli/cli-process.js';
import { tempDir } from '../helpers.js';

const SNIFF = `variables: { body: string, nested: number, words: number, lead: string }
start: save
blocks:
  save:
    kind: InputParameter
    params: { body: 4 }
    exits: { next: parse }
  parse:
    kind: Parser
    mode: regex
    document: '[body]'
    extract:
      nested: { pattern: '(a+)+$', function: count }
      words: { pattern: '(\\w+\\s?)*$', function: count }
      lead: '^(a{3})'
    exits: { success: answer }
  answer:
    kind: ReturnValue
    values: { 1: '[nested] + "|" + [words] + "|" + [lead]', 2: 200 }
`;

describe('a Parser regex with nested quantifiers over a crafted body (S5)', () => {
  it('answers the request with the matches, and the server keeps answering', { timeout: 120_000 }, async () => {
    const tmp = tempDir();
    const scenarios = join(tmp.dir, 'scenarios');
    mkdirSync(scenarios);
    writeFileSync(join(scenarios, 'Sniff.yaml'), SNIFF);
    const serve = await startServeProcess({ dataDir: join(tmp.dir, 'var'), args: ['--scenarios', scenarios], env: { OKTELL_USERS: 'u:p', OKTELL_HOOK_SCENARIO: 'Sniff' } });
    try {
      // 40 KB of "a" that almost match: the "!" at the end makes a backtracking engine try every split of the run.
      const body = `${'a'.repeat(40_000)}!`;
      const authorization = `Basic ${Buffer.from('u:p').toString('base64')}`;
      // Not a speed check: a guard so a stalled server fails this test instead of hanging it.
      const res = await fetch(`${serve.url}/sniff`, { method: 'POST', headers: { authorization, 'content-type': 'text/plain' }, body, signal: AbortSignal.timeout(60_000) });
      assert.equal(res.status, 200);
      // (a+)+$ finds nothing (the text ends in "!"), (\w+\s?)*$ finds the empty match at the end, ^(a{3}) its group.
      assert.equal(await res.text(), '0|1|aaa');
      assert.equal((await fetch(`${serve.url}/-/health`, { signal: AbortSignal.timeout(60_000) })).status, 200);
    } finally {
      await serve.stop();
      tmp.cleanup();
    }
  });
});
