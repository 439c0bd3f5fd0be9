// The running server says what `validate` says about a WebRequest POST or PATCH without idempotencyKey that a retry
// may send again (the block's own attempts, WEB_REQUEST_ATTEMPTS, and a job's retries while `timeout` is unwired).
// Said at start (the banner's warnings and the log) and in the log again when an edit brings such a block in (hot
// reload), from the same function as validate's (scenarioWarnings), with the block's file:line:col.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { saveByRename } from '../helpers.js';
import { webRequestScenario } from '../warning-scenarios.helper.js';
import { capturingLogger, startTestServer, waitFor } from './server-helpers.js';

const REPEATED = 'without idempotencyKey';

describe('a POST or PATCH a retry may send again, told by the running server', () => {
  it('is named at start, in the banner warnings and the log, at the block\'s line and column, with WEB_REQUEST_ATTEMPTS as set', { timeout: 60_000 }, async () => {
    const log = capturingLogger();
    const t = await startTestServer({ smtp: false, logger: log.logger, extraScenarios: { 'Sweep.yaml': webRequestScenario('POST') }, env: { SMTP_URL: '', WEB_REQUEST_ATTEMPTS: '2' } });
    try {
      const found = t.server.warnings.filter((w) => w.includes(REPEATED));
      assert.deepEqual(found, [
        'Sweep.yaml:4:3: block post of Sweep sends a POST without idempotencyKey; when the service does not answer in time (or answers 5xx, 408, 429) ' +
          'it is sent up to 2 times in one run (WEB_REQUEST_ATTEMPTS), and again on every retry when it runs as a job (a service task, an asynchronous start), as the "timeout" exit is not wired, ' +
          'though the service may have done the work each time: add idempotencyKey: true if the service honours an Idempotency-Key header (the same key on every attempt); ' +
          'else wire the "timeout" exit and set WEB_REQUEST_ATTEMPTS=1 to send it once',
      ]);
      assert.ok(log.lines.some((l) => l.level === 'warn' && l.msg === found[0]), 'and logged');
    } finally {
      await t.cleanup();
    }
  });

  it('is not named for the shipped scenarios, and is named when an edit brings one in (hot reload)', { timeout: 60_000 }, async () => {
    const log = capturingLogger();
    const t = await startTestServer({ smtp: false, watch: true, logger: log.logger, env: { SMTP_URL: '' } });
    try {
      assert.deepEqual(t.server.warnings.filter((w) => w.includes(REPEATED)), []);
      assert.ok(!log.lines.some((l) => l.msg?.includes(REPEATED)));
      saveByRename(join(t.scenariosDir, 'Sweep.yaml'), webRequestScenario('PATCH', '', '{ success: done, error: done, timeout: done }'));
      const said = await waitFor('the warning after the edit', () => log.lines.find((l) => l.level === 'warn' && l.msg?.includes(REPEATED)));
      assert.equal(
        said.msg,
        'Sweep.yaml:4:3: block post of Sweep sends a PATCH without idempotencyKey; when the service does not answer in time (or answers 5xx, 408, 429) ' +
          'it is sent up to 3 times in one run (WEB_REQUEST_ATTEMPTS), though the service may have done the work each time: ' +
          'add idempotencyKey: true if the service honours an Idempotency-Key header (the same key on every attempt); else set WEB_REQUEST_ATTEMPTS=1 to send it once',
      );
    } finally {
      await t.cleanup();
    }
  });
});
