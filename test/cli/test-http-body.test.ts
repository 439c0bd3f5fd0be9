// `oktell-emu test`: an httpCalls item can check the body a WebRequest sent (`body`, text or a matcher), as the step's
// trace keeps it, so a case for a push integration tests the payload, not only the method and status (trial 40). The
// real binary on a scenarios folder in a temporary directory; the POST is answered by the case's fixture.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

const PUSH = `variables: { orderNo: string, amount: number }
start: begin
blocks:
  begin:
    kind: Start
    param: orderNo
    exits: { next: post }
  post:
    kind: WebRequest
    method: POST
    url: '"https://fulfil.example.ru/orders"'
    json: { orderNo: '[orderNo]', amount: 1500.5, token: '"s3cr3t-value"' }
    idempotencyKey: true
    exits: { success: again }
  again:
    kind: WebRequest
    method: GET
    url: '"https://fulfil.example.ru/orders"'
    query: { no: '[orderNo]' }
`;

const FIXTURES = `    http:
      - match: POST https://fulfil.example.ru/orders
        status: 201
      - match: GET https://fulfil.example.ru/orders*
        status: 200
`;

describe('test: the body a web request sent', () => {
  it('passes on the JSON sent (contains, matches, exact text), and fails naming the body sent', () => {
    const tmp = tempDir('oktell-test-http-body-');
    try {
      const scenarios = join(tmp.dir, 'scenarios');
      mkdirSync(join(scenarios, 'tests'), { recursive: true });
      writeFileSync(join(scenarios, 'Push.yaml'), PUSH);
      writeFileSync(
        join(scenarios, 'tests', 'push.test.yaml'),
        `cases:
  - name: the order is sent
    scenario: Push
    params: { 1: A-1 }
${FIXTURES}    expect:
      httpCalls:
        - { method: POST, status: 201, body: { contains: '"orderNo":"A-1"' } }
        - { method: GET }
  - name: the amount and the masked token
    scenario: Push
    params: { 1: A-2 }
${FIXTURES}    expect:
      httpCalls:
        - body: '{"orderNo":"A-2","amount":1500.5,"token":"***"}'
        - { method: GET }
  - name: a wrong order number is named with the body sent
    scenario: Push
    params: { 1: A-3 }
${FIXTURES}    expect:
      httpCalls:
        - { body: { matches: '"orderNo":"A-1"' } }
        - { method: GET }
`,
      );
      const r = runCli(['test', '--scenarios', scenarios]);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /✓ .*the order is sent/);
      assert.match(r.stdout, /✓ .*the amount and the masked token/);
      assert.match(r.stdout, /✗ .*a wrong order number/);
      assert.match(r.stdout, /push\.test\.yaml:36:19 httpCalls\[0\]\.body: expected text matching \/"orderNo":"A-1"\/ got "\{\\"orderNo\\":\\"A-3\\",\\"amount\\":1500\.5,\\"token\\":\\"\*\*\*\\"\}"/);
      assert.match(r.stdout, /2 passed, 1 failed/);
      assert.equal(r.stderr, '');
    } finally {
      tmp.cleanup();
    }
  });
});
