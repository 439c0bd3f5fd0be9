// Trial "n8n": `subject: '"Order {{ $json.orderId }}"'` loaded without a word and sent the braces in every letter;
// validate warned of `{{orderId}}` only. It now warns of n8n's placeholders too: with the value to write when the name
// is a variable of the scenario, and with where the value comes from when it is not.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

const SCENARIO = `variables:
  orderId: string
blocks:
  mail:
    kind: SendMail
    to: '"a@example.com"'
    subject: '"Order {{ $json.orderId }}"'
    text: '"Total {{ $json.body.total }}"'
`;

describe('validate: n8n placeholders in expression text', () => {
  it('warns at each text, with what to write', () => {
    const tmp = tempDir('oktell-n8n-ph-');
    try {
      mkdirSync(join(tmp.dir, 'scenarios'));
      writeFileSync(join(tmp.dir, 'scenarios', 'Order.yaml'), SCENARIO);
      const r = runCli(['validate'], { cwd: tmp.dir });
      assert.equal(r.code, 0, 'warnings only');
      const lines = (r.stdout + r.stderr).split('\n').filter((l) => l.startsWith('warning:'));
      assert.equal(lines.length, 2, r.stdout + r.stderr);
      assert.equal(lines[0], `warning: scenarios/Order.yaml:7:15: block mail of Order: the text "Order {{ $json.orderId }}" is used as written: {{ $json.orderId }} is not replaced in an expression (only in a mail template file); write '"Order " + [orderId]' (braces meant as written give no warning when split: "{" + "{ $json.orderId }}")`);
      assert.equal(lines[1], `warning: scenarios/Order.yaml:8:12: block mail of Order: the text "Total {{ $json.body.total }}" is used as written: {{ $json.body.total }} is n8n's and is not replaced in an expression (only {{ name }} in a mail template file); read the value into a variable first (a Parser block with mode: json, extract: { total: $.total }, or JsonGet([body], "total") where body holds the text) and join it to the text: '"…" + [total]' (see docs/coming-from-n8n.md; braces meant as written give no warning when split: "{" + "{ $json.body.total }}")`);
    } finally {
      tmp.cleanup();
    }
  });

  // Review of the n8n batch: every {{ $… }} was taken for n8n's, so a Prometheus or Go template sent on as text
  // (`{{ $labels.instance }}`, `{{ $value }}`) was warned of as n8n data that does not exist here.
  it('leaves {{ $… }} alone that is no name of n8n: a Prometheus or Go template is text to send', () => {
    const tmp = tempDir('oktell-n8n-ph-');
    try {
      mkdirSync(join(tmp.dir, 'scenarios'));
      writeFileSync(
        join(tmp.dir, 'scenarios', 'Alert.yaml'),
        `blocks:
  rule:
    kind: WebRequest
    url: '"http://alerts.test/rules"'
    method: PUT
    body: '"summary: {{ $labels.instance }} is down ({{ $value }}); {{ $x := 1 }}"'
    exits: { success: done }
  done:
    kind: Stop
`,
      );
      const r = runCli(['validate'], { cwd: tmp.dir });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.deepEqual((r.stdout + r.stderr).split('\n').filter((l) => l.startsWith('warning:')), []);
    } finally {
      tmp.cleanup();
    }
  });
});
