// A retention shorter than the freshness window of signed webhooks, twice over: a timestamp is accepted up to the
// window either way, so a captured request is still accepted up to twice the window after it first came, while its
// delivery key (kept with its inbox entry) is pruned after the retention, and a replay then runs again. The start
// says so, for a Standard Webhooks route (its 5 minutes, or webhookMaxAgeMinutes) and for a Bpium-signed route with
// BPIUM_WEBHOOK_MAX_AGE_MINUTES; not when the retention covers it, nor for a Bpium route without a window.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { capturingLogger, startTestServer } from './server-helpers.js';

const WHSEC = `whsec_${Buffer.from('the replay window test key, 32 b').toString('base64')}`;

/** The start's warnings about the freshness window (the retry-window one also begins "the retention"). */
async function replayWarnings(env: Record<string, string>, config?: string): Promise<string[]> {
  const log = capturingLogger();
  const t = await startTestServer({ smtp: false, env: { OKTELL_MAX_ATTEMPTS: '1', ...env }, logger: log.logger, ...(config ? { config } : {}) });
  try {
    return log.lines.filter((l) => l.level === 'warn' && /freshness window/.test(l.msg ?? '')).map((l) => l.msg!);
  } finally {
    await t.cleanup();
  }
}

describe('retention shorter than the freshness window of signed webhooks', () => {
  it('a Standard Webhooks route: warned under 10 minutes (twice its 5), with the retention that covers it', { timeout: 60_000 }, async () => {
    // 0.005 days is 7.2 minutes.
    const [w, ...more] = await replayWarnings({ OKTELL_RETENTION_DAYS: '0.005' }, `webhookSecrets:\n  /pay/events: ${WHSEC}\n`);
    assert.deepEqual(more, []);
    assert.ok(w, 'a start warning');
    assert.match(w, /^the retention \(OKTELL_RETENTION_DAYS or retentionDays: 0\.005 days, about 7 min 12 s\) is shorter than twice the freshness window of signed webhooks \(the Standard Webhooks tolerance of 5 minutes; Standard Webhooks on \/pay\/events\): /);
    assert.match(w, /a captured signed request is still accepted up to 10 min after it first came, but its delivery key goes with its inbox entry .* and a replay after that runs its scenario again; set OKTELL_RETENTION_DAYS to at least 0\.007$/);
    assert.ok(!w.includes(WHSEC.slice(6)), 'the secret is not in it');
    // 0.007 days (about 10 min 5 s) covers it.
    assert.deepEqual(await replayWarnings({ OKTELL_RETENTION_DAYS: '0.007' }, `webhookSecrets:\n  /pay/events: ${WHSEC}\n`), []);
  });

  it('a Bpium-signed route: warned only with a freshness window (BPIUM_WEBHOOK_MAX_AGE_MINUTES) longer than half the retention', { timeout: 60_000 }, async () => {
    // The embedded emulator's route, /Bpium/NewTask, has a Bpium secret. A week's window, a 10-day retention.
    const [w] = await replayWarnings({ OKTELL_RETENTION_DAYS: '10', BPIUM_WEBHOOK_MAX_AGE_MINUTES: '10080' });
    assert.ok(w, 'a start warning');
    assert.match(w, /is shorter than twice the freshness window of signed webhooks \(BPIUM_WEBHOOK_MAX_AGE_MINUTES or webhookMaxAgeMinutes: 10080 minute\(s\); Bpium's timestamp on \/Bpium\/NewTask\): .*set OKTELL_RETENTION_DAYS to at least 14, or narrow the window$/);
    assert.deepEqual(await replayWarnings({ OKTELL_RETENTION_DAYS: '14', BPIUM_WEBHOOK_MAX_AGE_MINUTES: '10080' }), []);
    // No window on a Bpium route: nothing bounds a replay's age, and no retention would; not this warning.
    assert.deepEqual(await replayWarnings({ OKTELL_RETENTION_DAYS: '0.005' }), []);
  });
});
