// A letter's template prints a computed number as the scenario's own text does: 0.3, not 0.30000000000000004.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

const SUM = `variables:
  price: number
  total: number
blocks:
  v:
    kind: Variable
    set: { price: 0.1, total: '[price] * 3' }
    exits: { next: s }
  s:
    kind: SendMail
    to: '"a@example.com"'
    subject: '"Итого: " + [total]'
    template: sum
    exits: { success: r }
  r: { kind: ReturnValue, values: { 1: '"Итого: " + [total]' } }
`;

describe('run --dry-run: numbers in a mail template', () => {
  it('print in the letter body as in the subject and the return value', () => {
    const tmp = tempDir();
    try {
      writeFileSync(join(tmp.dir, 'Sum.yaml'), SUM);
      mkdirSync(join(tmp.dir, 'templates'));
      writeFileSync(join(tmp.dir, 'templates', 'sum.text.njk'), 'Итого: {{ total }}\n');
      const r = runCli(['run', 'Sum', '--scenarios', tmp.dir, '--dry-run', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const run = JSON.parse(r.stdout) as { mails: Array<{ subject: string; text: string }> };
      assert.deepEqual(run.mails.map((m) => [m.subject, m.text]), [['Итого: 0.3', 'Итого: 0.3\n']]);
      const text = runCli(['run', 'Sum', '--scenarios', tmp.dir, '--dry-run']);
      assert.match(text.stdout, /│ Итого: 0\.3\n/);
    } finally {
      tmp.cleanup();
    }
  });
});
