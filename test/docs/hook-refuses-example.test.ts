// The example of docs/server.md "Refusing a bad request" (a hook that parses the body and answers 400 with a JSON
// reason) is extracted and run through `oktell-emu test`: it loads, refuses as the page says and starts nothing, and
// a good body is answered 200 and starts ShopOrder with it.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../cli/cli.helper.js';
import { repoPath, tempDir } from '../helpers.js';

const SHOP_ORDER = `variables: { body: string }
blocks:
  begin: { kind: Start, param: body, exits: { next: done } }
  done: { kind: ReturnValue, values: { 1: '"got " + [body]' } }
`;

const TESTS = `cases:
  - name: a field missing
    scenario: HTTP404
    params: { 1: /Shop/Order, 4: '{"orderNo": "A-1"}' }
    expect:
      returnValues: { equals: { 1: '{"error": "no match for \`$.amount\` (required for amount)"}', 2: 400, 3: application/json } }
      asyncStarted: []
  - name: not JSON
    scenario: HTTP404
    params: { 1: /Shop/Order, 4: 'orderNo=A-1' }
    expect:
      returnValues: { 1: { contains: '{"error": "the document is not valid JSON: ' }, 2: 400 }
      asyncStarted: []
  - name: an amount of 0
    scenario: HTTP404
    params: { 1: /Shop/Order, 4: '{"orderNo": "A-1", "amount": 0}' }
    expect:
      returnValues: { 1: '{"error": "amount must be more than 0"}', 2: 400 }
      asyncStarted: []
  - name: a good order
    scenario: HTTP404
    params: { 1: /Shop/Order, 4: '{"orderNo": "A-1", "amount": 5}' }
    expect:
      returnValues: { equals: { 1: accepted A-1, 2: 200 } }
      asyncStarted:
        - { scenario: ShopOrder, params: { 1: '{"orderNo": "A-1", "amount": 5}' }, result: { status: completed } }
  - name: another address
    scenario: HTTP404
    params: { 1: /other, 4: '{}' }
    expect:
      returnValues: { equals: {} }
`;

describe('docs/server.md: the hook that refuses a bad request', () => {
  it('loads, answers 400 with the reason as JSON, and 200 for a good body, starting ShopOrder', () => {
    const doc = readFileSync(repoPath('docs', 'server.md'), 'utf8');
    const example = /\*\*Refusing a bad request\.\*\*[\s\S]*?```yaml\n# file: HTTP404\.yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    assert.ok(example, 'the page has the example');
    const tmp = tempDir();
    try {
      const scenarios = join(tmp.dir, 'scenarios');
      mkdirSync(join(scenarios, 'tests'), { recursive: true });
      writeFileSync(join(scenarios, 'HTTP404.yaml'), example);
      writeFileSync(join(scenarios, 'ShopOrder.yaml'), SHOP_ORDER);
      writeFileSync(join(scenarios, 'tests', 'hook.test.yaml'), TESTS);
      const validate = runCli(['validate', '-s', scenarios], { cwd: tmp.dir });
      assert.equal(validate.code, 0, validate.stdout + validate.stderr);
      const r = runCli(['test', '-s', scenarios], { cwd: tmp.dir });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /5 passed, 0 failed/);
    } finally {
      tmp.cleanup();
    }
  });
});
