// `subject: '"Order {{orderId}}"'` (trial "nodered"): the way Node-RED's template node and shells put a value into
// text, which an expression does not do, so every letter carried the braces and no check said so. validate warns at
// the expression, with the text joined to the variable, and that expression gives the value meant.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseExpression } from '../../engine/index.js';
import { repoPath, tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

const SCENARIO = `variables:
  orderId: string
  total: number
blocks:
  mail:
    kind: SendMail
    to: '"a@example.com"'
    subject: '"Order {{orderId}}"'
    text: '"Total: \${msg.payload.total}, {{ unknown }} stays"'
`;

describe('validate: {{ name }} and \${name} in a text of an expression', () => {
  it('warns at each expression with the joined form, which is valid and names the variables', () => {
    const tmp = tempDir();
    try {
      const dir = join(tmp.dir, 'scenarios');
      mkdirSync(dir);
      writeFileSync(join(dir, 'Order.yaml'), SCENARIO);
      const r = runCli(['validate', '-s', dir], { cwd: tmp.dir });
      assert.equal(r.code, 0, 'a warning, not a problem');
      const lines = r.stdout.split('\n').filter((l) => l.startsWith('warning:'));
      assert.deepEqual(lines, [
        'warning: scenarios/Order.yaml:8:14: block mail of Order: the text "Order {{orderId}}" is used as written: {{orderId}} is not replaced in an expression (only in a mail template file); join the variable to the text: "Order " + [orderId]',
        'warning: scenarios/Order.yaml:9:11: block mail of Order: the text "Total: ${msg.payload.total}, {{ unknown }} stays" is used as written: ${msg.payload.total} is not replaced in an expression (only in a mail template file); join the variable to the text: "Total: " + [total] + ", {{ unknown }} stays"',
      ]);
      for (const line of lines) {
        const fix = / join the variable to the text: (.*)$/.exec(line)![1]!;
        const parsed = parseExpression(fix);
        assert.ok(parsed.ok, fix);
      }
    } finally {
      tmp.cleanup();
    }
  });
  it('the shipped scenarios have no such text', () => {
    const r = runCli(['validate', '-s', repoPath('scenarios')]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, /is not replaced in an expression/);
  });
});
