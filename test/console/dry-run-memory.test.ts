// The console keeps dry-run results in memory for their result pages: by count alone (50), fifty dry runs of large
// webhooks held a quarter of a gigabyte until the process ended (security trial of 2026-12-05, L1). They are bounded by
// size too now: older results go first, the newest always stays. Real server, the console over HTTP.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { csrfToken, dryRunWebhook, get, startConsoleServer, taskWebhook } from './console-helpers.js';

describe('console dry-run results in memory', () => {
  let t: Awaited<ReturnType<typeof startConsoleServer>>;
  before(async () => {
    t = await startConsoleServer();
  });
  after(async () => t.cleanup());

  it('forty dry runs of a 250 KB webhook push the oldest results out before the count of 50 does; the newest stays', { timeout: 120_000 }, async () => {
    const csrf = await csrfToken(t.base);
    // A task description of ~250 KB (the form's field limit is 256 KB): the result holds it in the parameters, the
    // variables, the trace and the letters.
    const body = taskWebhook({ name: 'Большое описание', description: 'Ж'.repeat(120_000), responsible: ['2'] });
    const pages: string[] = [];
    for (let i = 0; i < 40; i++) pages.push(await dryRunWebhook(t, csrf, body));
    const first = await get(pages[0]!);
    assert.equal(first.status, 404);
    assert.match(await first.text(), /This dry-run result is gone \(the console keeps the last 50, and no more than 32 million characters of them as JSON, in memory\)/);
    const last = await get(pages.at(-1)!);
    assert.equal(last.status, 200);
    assert.match(await last.text(), /Started asynchronously: BpiumNewTask/);
  });
});
