// How long a job is retried before it is a dead letter: the defaults ride out an outage of a few hours, the delays
// are settable from the environment as well as the file, refused at start when they make no sense, and the start
// log says the window in force.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { jobBackoff, loadServerConfig } from '../../server/config.js';
import { retrySchedule, retryWindowText } from '../../server/store/backoff.js';
import { tempDir } from '../helpers.js';
import { capturingLogger, startTestServer } from './server-helpers.js';

/** The workers' settings loaded from this environment and configuration file text (none when undefined). */
function workersOf(env: Record<string, string>, file?: string) {
  const tmp = tempDir('oktell-retry-');
  try {
    if (file !== undefined) writeFileSync(join(tmp.dir, 'oktell.config.yaml'), file);
    return loadServerConfig({}, env, tmp.dir).workers;
  } finally {
    tmp.cleanup();
  }
}

const S = 1000;
const MIN = 60 * S;

describe('retry settings', () => {
  it('by default a job is tried 16 times: 1 s ×3 up to 30 min, about 4 h 18 min of waits from the first attempt to the last', () => {
    const w = workersOf({});
    assert.deepEqual([w.maxAttempts, w.baseDelayMs, w.maxDelayMs], [16, 1 * S, 30 * MIN]);
    const schedule = retrySchedule(w.maxAttempts, jobBackoff(w));
    assert.deepEqual(schedule.delaysMs, [1 * S, 3 * S, 9 * S, 27 * S, 81 * S, 243 * S, 729 * S, ...Array<number>(8).fill(30 * MIN)]);
    assert.equal(schedule.windowMs, (1093 + 8 * 1800) * S);
    assert.equal(schedule.shortestWindowMs, Math.round((1093 + 8 * 1800) * S * 0.7));
    // The outage the newcomer saw dead-letter everything (about 20–30 minutes) is well inside even the shortest window.
    assert.ok(schedule.shortestWindowMs > 3 * 60 * MIN);
    assert.equal(retryWindowText(w.maxAttempts, jobBackoff(w)), "16 attempts, waiting about 4 h 18 min in all between them (at least 3 h 0 min with the jitter) plus the time the attempts themselves take (a SendMail's own SMTP tries, Bpium and WebRequest retries), then a dead letter");
  });

  it('the old schedule (8 attempts, cap 10 min) is said as the 16 minutes it was', () => {
    const old = { baseDelayMs: 1 * S, maxDelayMs: 10 * MIN };
    assert.equal(retrySchedule(8, jobBackoff(old)).windowMs, (1 + 3 + 9 + 27 + 81 + 243 + 600) * S);
    assert.equal(retryWindowText(8, jobBackoff(old)), "8 attempts, waiting about 16 min 4 s in all between them (at least 11 min 15 s with the jitter) plus the time the attempts themselves take (a SendMail's own SMTP tries, Bpium and WebRequest retries), then a dead letter");
    assert.equal(retryWindowText(1, jobBackoff(old)), '1 attempt, no retry: a job that fails as retryable is a dead letter at once');
  });

  it('OKTELL_RETRY_BASE_DELAY_MS and OKTELL_RETRY_MAX_DELAY_MS set the delays, over the file', () => {
    const w = workersOf({ OKTELL_RETRY_BASE_DELAY_MS: '5000', OKTELL_RETRY_MAX_DELAY_MS: '3600000' }, 'workers: { baseDelayMs: 50, maxDelayMs: 100 }\n');
    assert.deepEqual([w.baseDelayMs, w.maxDelayMs], [5 * S, 60 * MIN]);
    const fromFile = workersOf({ OKTELL_RETRY_BASE_DELAY_MS: ' ' }, 'workers: { baseDelayMs: 50, maxDelayMs: 100 }\n');
    assert.deepEqual([fromFile.baseDelayMs, fromFile.maxDelayMs], [50, 100], 'a blank variable leaves the file in force');
  });

  const refused: Array<[Record<string, string>, string | undefined, RegExp]> = [
    [{ OKTELL_RETRY_BASE_DELAY_MS: '0' }, undefined, /OKTELL_RETRY_BASE_DELAY_MS="0" must be a whole number, from 1 to 86400000/],
    [{ OKTELL_RETRY_BASE_DELAY_MS: '1s' }, undefined, /OKTELL_RETRY_BASE_DELAY_MS="1s" must be a whole number/],
    [{ OKTELL_RETRY_MAX_DELAY_MS: '86400001' }, undefined, /OKTELL_RETRY_MAX_DELAY_MS="86400001" must be a whole number, from 1 to 86400000/],
    [{ OKTELL_RETRY_BASE_DELAY_MS: '3600000' }, undefined, /^OKTELL_RETRY_BASE_DELAY_MS \(3600000 ms\) is above the default maxDelayMs \(1800000 ms\): the first retry delay must not exceed the longest one$/],
    [{ OKTELL_RETRY_MAX_DELAY_MS: '500' }, undefined, /^the default baseDelayMs \(1000 ms\) is above OKTELL_RETRY_MAX_DELAY_MS \(500 ms\)/],
    [{}, 'port: 4055\nworkers:\n  baseDelayMs: 5000\n  maxDelayMs: 2000\n', /^oktell\.config\.yaml:3:16: workers\.baseDelayMs \(5000 ms\) is above oktell\.config\.yaml:4:15: workers\.maxDelayMs \(2000 ms\)/],
    [{ OKTELL_RETRY_BASE_DELAY_MS: '5000' }, 'workers:\n  maxDelayMs: 2000\n', /^oktell\.config\.yaml:2:15: workers\.maxDelayMs \(2000 ms\) is below OKTELL_RETRY_BASE_DELAY_MS \(5000 ms\): the longest retry delay must not be shorter than the first one$/],
    [{}, 'workers:\n  maxDelayMs: 90000000\n', /^oktell\.config\.yaml:2:15: workers\.maxDelayMs: /],
  ];
  for (const [env, file, want] of refused) {
    it(`refused at start: ${JSON.stringify(env)}${file ? ` with ${JSON.stringify(file)}` : ''}`, () => {
      assert.throws(() => workersOf(env, file), (e: Error) => {
        assert.equal(e.name, 'ConfigError');
        assert.match(e.message, want);
        return true;
      });
    });
  }

  it('the start log says the window of the settings in force: the waits between attempts, and that the attempts\' own time comes on top', { timeout: 30_000 }, async () => {
    const { lines, logger } = capturingLogger();
    const t = await startTestServer({ smtp: false, logger, env: { OKTELL_MAX_ATTEMPTS: '4', OKTELL_RETRY_BASE_DELAY_MS: '2000', OKTELL_RETRY_MAX_DELAY_MS: '10000' } });
    try {
      const said = lines.find((l) => l.level === 'info' && l.msg?.startsWith('jobs that fail as retryable'));
      // The span is the waits only: what the attempts themselves take (operator trial L7: SendMail's SMTP tries made 4
      // attempts "over about 12 s" span 16 s) is said to come on top, not left out.
      assert.equal(
        said?.msg,
        "jobs that fail as retryable: 4 attempts, waiting about 18 s in all between them (at least 12.6 s with the jitter) plus the time the attempts themselves take (a SendMail's own SMTP tries, Bpium and WebRequest retries), then a dead letter (npx oktell-emu runs --status dead lists those)",
      );
      assert.deepEqual(said?.obj.retries, { maxAttempts: 4, baseDelayMs: 2000, maxDelayMs: 10000 });
    } finally {
      await t.cleanup();
    }
  });
});
