// User trial: n8n's per-node retry keys on a block (retryOnFail:, maxTries:, waitBetweenTries:) got the generic
// "unknown property" hint listing the block's properties. Retries are no block's setting here: the hint names where
// they are set (the block's own per-call retries, where it has them, and the job's attempts). Through the real binary.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../cli/cli.helper.js';
import { tempDir } from '../helpers.js';

const SCENARIO = `variables: { name: string }
blocks:
  call:
    kind: WebRequest
    method: GET
    url: '"https://example.com/"'
    retryOnFail: true
    maxTries: 5
    exits: { success: mail, error: mail, timeout: mail }
  mail:
    kind: SendMail
    to: '"a@example.com"'
    subject: '"s"'
    text: '"b"'
    waitBetweenTries: 1000
    exits: { success: find, error: find }
  find:
    kind: Bpium
    method: findRecord
    catalog: '"3"'
    fields: { name: 1 }
    maxTries: 2
    exits: { success: done, error: done }
  done: { kind: Stop }
`;

const JOB = 'then the server runs the whole job again when it failed as retryable, up to OKTELL_MAX_ATTEMPTS attempts in all (workers.maxAttempts: in oktell.config.yaml; 16 by default';

describe("n8n's retry keys on a block", () => {
  it('validate names where retries are set, at each key', () => {
    const t = tempDir();
    try {
      writeFileSync(join(t.dir, 'Retry.yaml'), SCENARIO);
      const r = runCli(['validate', t.dir], { cwd: t.dir });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const lines = r.stdout.split('\n');
      const hintAt = (where: string) => {
        const i = lines.findIndex((l) => l.startsWith(`Retry.yaml:${where} E_UNKNOWN_KEY`));
        assert.ok(i >= 0, `no E_UNKNOWN_KEY at ${where} in\n${r.stdout}`);
        return lines[i + 1]!.trim();
      };
      const web = /^hint: retries are not a block's setting here: remove (retryOnFail|maxTries):; an outage \(5xx, 408, 429, no answer\) is retried within the call first: WEB_REQUEST_ATTEMPTS \(3 in all; environment only\), and a WebRequest whose timeout exit is wired is not retried by the job; /;
      assert.match(hintAt('7:5'), web);
      assert.match(hintAt('8:5'), web);
      assert.match(hintAt('15:5'), /^hint: retries are not a block's setting here: remove waitBetweenTries:; an SMTP outage is retried within the send first \(3 tries in all, no setting\); /);
      assert.match(hintAt('22:5'), /^hint: retries are not a block's setting here: remove maxTries:; a 429, 5xx or network error is retried within the call first: BPIUM_RETRY_ATTEMPTS \(3 in all\); /);
      for (const w of ['7:5', '8:5', '15:5', '22:5']) {
        assert.ok(hintAt(w).includes(JOB), hintAt(w));
        assert.doesNotMatch(hintAt(w), /properties of every block/);
      }
      assert.match(r.stdout, /✗ 4 problem\(s\) in 1 file\(s\)/);
    } finally {
      t.cleanup();
    }
  });
});
