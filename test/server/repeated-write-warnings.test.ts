// The running server says what `validate` says about a WebRequest POST or PATCH without idempotencyKey that a retry
// may send again (the block's own attempts, WEB_REQUEST_ATTEMPTS, and a job's retries while `timeout` is unwired).
// Said at start (the banner's warnings and the log) and in the log again when an edit brings such a block in (hot
// reload), from the same function as validate's (scenarioWarnings), with the block's file:line:col.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { webRequestScenario } from '../warning-scenarios.helper.js';
import { startWarnings, warningAfterEdit } from './start-warnings.helper.js';

const REPEATED = 'without idempotencyKey';

describe('a POST or PATCH a retry may send again, told by the running server', () => {
  it('is named at start, in the banner warnings and the log, at the block\'s line and column, with WEB_REQUEST_ATTEMPTS as set', { timeout: 60_000 }, async () => {
    const { found } = await startWarnings(REPEATED, { 'Sweep.yaml': webRequestScenario('POST') }, { WEB_REQUEST_ATTEMPTS: '2' });
    assert.deepEqual(found, [
      'Sweep.yaml:4:3: block post of Sweep sends a POST without idempotencyKey; when the service does not answer in time (or answers 5xx, 408, 429) ' +
        'it is sent up to 2 times in one run (WEB_REQUEST_ATTEMPTS), and again on every retry when it runs as a job (a service task, an asynchronous start), as the "timeout" exit is not wired, ' +
        'though the service may have done the work each time: add idempotencyKey: true if the service honours an Idempotency-Key header (the same key on every attempt); ' +
        'else wire the "timeout" exit and set WEB_REQUEST_ATTEMPTS=1 to send it once',
    ]);
  });

  it('is not named for the shipped scenarios, and is named when an edit brings one in (hot reload)', { timeout: 60_000 }, async () => {
    const said = await warningAfterEdit(REPEATED, 'Sweep.yaml', webRequestScenario('PATCH', '', '{ success: done, error: done, timeout: done }'));
    assert.equal(
      said,
      'Sweep.yaml:4:3: block post of Sweep sends a PATCH without idempotencyKey; when the service does not answer in time (or answers 5xx, 408, 429) ' +
        'it is sent up to 3 times in one run (WEB_REQUEST_ATTEMPTS), though the service may have done the work each time: ' +
        'add idempotencyKey: true if the service honours an Idempotency-Key header (the same key on every attempt); else set WEB_REQUEST_ATTEMPTS=1 to send it once',
    );
  });
});
