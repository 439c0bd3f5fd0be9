// `subject: '"Order {{orderId}}"'` (trial "nodered"): the way Node-RED's template node and shells put a value into
// text, which an expression does not do, so every letter carried the braces and no check said so. validate warns at
// the text itself, with the whole value to write instead, in YAML, which pasted back loads and gives the value meant:
// also for a text inside a longer expression, a text holding quotes or a line break, and a number variable first.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
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

/** Each value on a line of its own (lines 16–22), so that a warning's line names the value to replace. */
const VALUES = `variables:
  orderId: { type: string, initial: A-1 }
  total: { type: number, initial: 5 }
  status: { type: string, initial: paid }
  a: string
  b: string
  c: string
  d: string
  e: string
  f: string
  g: string
blocks:
  set:
    kind: Variable
    set:
      a: '"Order {{orderId}}"'
      b: '"Order {{orderId}}: " + [status]'
      c: '«Order "{{orderId}}" is ready»'
      d: "'line1\\n{{orderId}}'"
      e: '"{{total}}" + [total]'
      f: '"Total: \${msg.payload.total}, {{ unknown }} stays"'
      g: '"{" + "{orderId}}"'
    exits: { next: done }
  done:
    kind: ReturnValue
    values: { 1: '[a]', 2: '[b]', 3: '[c]', 4: '[d]', 5: '[e]', 6: '[f]', 7: '[g]' }
`;

const warningsOf = (out: string) => out.split('\n').filter((l) => l.startsWith('warning:') && l.includes('is not replaced in an expression'));

describe('validate: {{ name }} and \${name} in a text of an expression', () => {
  it('warns at the text with the whole value to write, and how to keep braces that are meant', () => {
    const tmp = tempDir();
    try {
      const dir = join(tmp.dir, 'scenarios');
      mkdirSync(dir);
      writeFileSync(join(dir, 'Order.yaml'), SCENARIO);
      const r = runCli(['validate', '-s', dir], { cwd: tmp.dir });
      assert.equal(r.code, 0, 'a warning, not a problem');
      assert.deepEqual(warningsOf(r.stdout), [
        `warning: scenarios/Order.yaml:8:15: block mail of Order: the text "Order {{orderId}}" is used as written: {{orderId}} is not replaced in an expression (only in a mail template file); write '"Order " + [orderId]' (braces meant as written give no warning when split: "{" + "{orderId}}")`,
        `warning: scenarios/Order.yaml:9:12: block mail of Order: the text "Total: \${msg.payload.total}, {{ unknown }} stays" is used as written: \${msg.payload.total} is not replaced in an expression (only in a mail template file); write '"Total: " + [total] + ", {{ unknown }} stays"' (braces meant as written give no warning when split: "$" + "{msg.payload.total}")`,
      ]);
    } finally {
      tmp.cleanup();
    }
  });

  it('each value to write, pasted in place of the one warned of, loads without the warning and gives the text meant', () => {
    const tmp = tempDir();
    try {
      const dir = join(tmp.dir, 'scenarios');
      mkdirSync(dir);
      const file = join(dir, 'Values.yaml');
      writeFileSync(file, VALUES);
      const r = runCli(['validate', '-s', dir], { cwd: tmp.dir });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const warned = warningsOf(r.stdout);
      // One per value but g (the braces split), each at the column of its text's opening quote.
      assert.deepEqual(warned.map((w) => /^warning: scenarios\/Values\.yaml:(\d+:\d+):/.exec(w)?.[1]), ['16:11', '17:11', '18:11', '19:11', '20:11', '21:11']);
      const lines = VALUES.split('\n');
      for (const w of warned) {
        const line = Number(/:(\d+):\d+:/.exec(w)![1]);
        const written = / write (.*) \(braces meant as written/.exec(w)?.[1];
        assert.ok(written, w);
        const key = lines[line - 1]!.split(':')[0]!;
        assert.equal(typeof (parseYaml(`${key.trim()}: ${written}`) as Record<string, unknown>)[key.trim()], 'string', written);
        lines[line - 1] = `${key}: ${written}`;
      }
      writeFileSync(file, lines.join('\n'));
      const again = runCli(['validate', '-s', dir], { cwd: tmp.dir });
      assert.equal(again.code, 0, again.stdout + again.stderr);
      assert.deepEqual(warningsOf(again.stdout), []);
      const run = runCli(['run', 'Values', '-s', dir, '--dry-run', '--json'], { cwd: tmp.dir });
      assert.equal(run.code, 0, run.stdout + run.stderr);
      const values = (JSON.parse(run.stdout) as { returnValues: Record<string, unknown> }).returnValues;
      assert.deepEqual(values, {
        1: 'Order A-1',
        2: 'Order A-1: paid',
        3: 'Order "A-1" is ready',
        4: 'line1\nA-1',
        5: '55',
        6: 'Total: 5, {{ unknown }} stays',
        7: '{{orderId}}',
      });
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
