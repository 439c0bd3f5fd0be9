// `oktell-emu validate` warns about a WebRequest POST or PATCH without idempotencyKey that an outage would send
// again (the block's own attempts, and the job's retries while `timeout` is unwired), with the ways to send it once;
// not about one that cannot be repeated or carries a key.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { webRequestScenario as sweep } from '../warning-scenarios.helper.js';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

function validate(text: string, env: Record<string, string> = {}): { code: number | null; stdout: string; warnings: string[] } {
  const tmp = tempDir();
  try {
    mkdirSync(join(tmp.dir, 'scenarios'));
    writeFileSync(join(tmp.dir, 'scenarios', 'Sweep.yaml'), text);
    const r = runCli(['validate'], { cwd: tmp.dir, env: { NO_COLOR: '1', ...env } });
    const json = JSON.parse(runCli(['validate', '--json'], { cwd: tmp.dir, env }).stdout) as { warnings?: string[] };
    return { code: r.code, stdout: r.stdout + r.stderr, warnings: json.warnings ?? [] };
  } finally {
    tmp.cleanup();
  }
}

describe('oktell-emu validate: a POST an outage would send again', () => {
  it('a POST without idempotencyKey and with timeout unwired: the count, the job retries and both ways out, as a warning', () => {
    const r = validate(sweep('POST'));
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /^✓ 1 scenario file\(s\) valid$/m);
    assert.deepEqual(r.warnings, [
      'scenarios/Sweep.yaml:4:3: block post of Sweep sends a POST without idempotencyKey; when the service does not answer in time (or answers 5xx, 408, 429) ' +
        'it is sent up to 3 times in one run (WEB_REQUEST_ATTEMPTS), and again on every retry when it runs as a job (a service task, an asynchronous start), as the "timeout" exit is not wired, ' +
        'though the service may have done the work each time: add idempotencyKey: true if the service honours an Idempotency-Key header (the same key on every attempt); ' +
        'else wire the "timeout" exit and set WEB_REQUEST_ATTEMPTS=1 to send it once',
    ]);
    assert.match(r.stdout, /^warning: scenarios\/Sweep\.yaml:4:3: block post of Sweep sends a POST without idempotencyKey/m);
  });

  it('a PATCH with timeout wired is repeated only by the block’s attempts; WEB_REQUEST_ATTEMPTS=1 then leaves nothing to say', () => {
    const text = sweep('PATCH', '', '{ success: done, error: done, timeout: done }');
    assert.deepEqual(validate(text).warnings.map((w) => w.replace(/; when.*it is sent /, ' … ').replace(/, though.*?: /, ' … ')), [
      'scenarios/Sweep.yaml:4:3: block post of Sweep sends a PATCH without idempotencyKey … up to 3 times in one run (WEB_REQUEST_ATTEMPTS) … add idempotencyKey: true if the service honours an Idempotency-Key header (the same key on every attempt); else set WEB_REQUEST_ATTEMPTS=1 to send it once',
    ]);
    assert.deepEqual(validate(text, { WEB_REQUEST_ATTEMPTS: '1' }).warnings, []);
  });

  it('no warning for a POST with idempotencyKey: true, nor for a GET or a PUT', () => {
    assert.deepEqual(validate(sweep('POST', 'idempotencyKey: true')).warnings, []);
    assert.deepEqual(validate(sweep('GET')).warnings, []);
    assert.deepEqual(validate(sweep('PUT')).warnings, []);
  });
});
