// /-/metrics counts the letters a scenario took to SendMail's error exit apart: a completed run with a refused letter
// (a recipient or the message refused) leaves nothing to retry or replay, so an operator needs to see it (trial s33,
// finding 3). A letter of a failed run (an outage, a wrong setting) is failed but not refused: its job holds it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Metrics, runTally } from '../../server/metrics.js';
import type { Store } from '../../server/store/store.port.js';

const store = { counts: async () => ({ jobs: {}, runs: {} }), oldestDueAt: async () => undefined } as unknown as Store;
const value = (page: string, metric: string) => Number(new RegExp(`^${metric.replace(/[{}"]/g, '\\$&')} (\\d+)$`, 'm').exec(page)?.[1]);

describe('oktell_letters_refused_total', () => {
  it('counts the failed letters of completed runs only', async () => {
    const m = new Metrics();
    // A run that went on through the error exit: one letter sent, one refused.
    m.run('completed', 0.1, runTally({ mails: [{ status: 'sent' }, { status: 'failed' }] }));
    // A run failed by its letter (a refused sender, a TLS certificate): failed, but kept by its dead job.
    m.run('failed', 0.1, runTally({ mails: [{ status: 'failed' }] }));
    const page = await m.render(store);
    assert.equal(value(page, 'oktell_letters_refused_total'), 1);
    assert.equal(value(page, 'oktell_letters_total{outcome="failed"}'), 2);
    assert.equal(value(page, 'oktell_letters_total{outcome="sent"}'), 1);
    assert.match(page, /^# TYPE oktell_letters_refused_total counter$/m);
  });
});
