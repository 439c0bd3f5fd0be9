// Trial "Kestra": subject: '"Order {{ inputs.orderId }}"' and text: '"Body {{ outputs.fetch.body }}"' loaded without
// a word and sent the braces in every letter (validate's own hint for the unquoted form led there). validate now warns
// of Kestra's placeholders: with the value to write when the input is a variable of the scenario, and with where the
// value comes from when it is not; other templates' braces (Prometheus, Helm, Ansible) are left alone.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

function warningsOf(files: Record<string, string>): { code: number | null; warnings: string[]; out: string } {
  const tmp = tempDir('oktell-kestra-ph-');
  try {
    mkdirSync(join(tmp.dir, 'scenarios'));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(tmp.dir, 'scenarios', name), text);
    const r = runCli(['validate'], { cwd: tmp.dir });
    const out = r.stdout + r.stderr;
    return { code: r.code, warnings: out.split('\n').filter((l) => l.startsWith('warning:')), out };
  } finally {
    tmp.cleanup();
  }
}

describe('validate: Kestra placeholders in expression text', () => {
  it('warns at each text, with what to write', () => {
    const r = warningsOf({
      'Order.yaml': `variables:
  orderId: string
blocks:
  mail:
    kind: SendMail
    to: '"a@example.com"'
    subject: '"Order {{ inputs.orderId }}"'
    text: '"Body {{ outputs.fetch.body }}"'
`,
    });
    assert.equal(r.code, 0, 'warnings only');
    assert.equal(r.warnings.length, 2, r.out);
    assert.equal(r.warnings[0], `warning: scenarios/Order.yaml:7:15: block mail of Order: the text "Order {{ inputs.orderId }}" is used as written: {{ inputs.orderId }} is not replaced in an expression (only in a mail template file); write '"Order " + [orderId]' (braces meant as written give no warning when split: "{" + "{ inputs.orderId }}")`);
    assert.match(r.warnings[1]!, /^warning: scenarios\/Order\.yaml:8:12: block mail of Order: the text "Body \{\{ outputs\.fetch\.body \}\}" is used as written: \{\{ outputs\.fetch\.body \}\} is Kestra's and is not replaced in an expression .*another task's outputs do not exist here: .*see docs\/coming-from-kestra\.md/);
  });

  it("leaves other templates' braces alone", () => {
    const r = warningsOf({
      'Alert.yaml': `blocks:
  rule:
    kind: WebRequest
    url: '"http://alerts.test/rules"'
    method: PUT
    body: '"{{ labels.instance }} {{ .Values.image }} {{ item }} {{ input.x }} {{ outputs }}"'
    exits: { success: done }
  done:
    kind: Stop
`,
    });
    assert.equal(r.code, 0, r.out);
    assert.deepEqual(r.warnings, []);
  });

  it('a mail template reading {{ inputs.orderId }} or {{ outputs.fetch.body }}: not "declare inputs"', () => {
    const tmp = tempDir('oktell-kestra-ph-');
    try {
      mkdirSync(join(tmp.dir, 'scenarios', 'templates'), { recursive: true });
      writeFileSync(join(tmp.dir, 'scenarios', 'M.yaml'), `variables:\n  orderId: string\nblocks:\n  mail:\n    kind: SendMail\n    to: '"a@example.com"'\n    subject: '"x"'\n    template: order\n`);
      writeFileSync(join(tmp.dir, 'scenarios', 'templates', 'order.text.njk'), 'Order {{ inputs.orderId }}: {{ outputs.fetch.body }}\n');
      const r = runCli(['validate'], { cwd: tmp.dir });
      assert.equal(r.code, 1);
      const out = r.stdout + r.stderr;
      assert.match(out, /order\.text\.njk:1:10 E_UNKNOWN_TEMPLATE_VARIABLE template "order" uses "inputs", which scenario M does not declare \[block mail\]\n\s+hint: Kestra's inputs are the scenario's variables here: a template reads a declared variable by its own name, \{\{ orderId \}\} where Kestra wrote \{\{ inputs\.orderId \}\}/);
      assert.match(out, /uses "outputs", .*\n\s+hint: another task's outputs do not exist here/);
      assert.doesNotMatch(out, /declare inputs|declare outputs/);
    } finally {
      tmp.cleanup();
    }
  });
});
