// /-/metrics while the store cannot be read (operator trial 51): the page is still answered 200, whole and well formed,
// with `oktell_store_up 0` and the job gauges left out, instead of a 503 that made Prometheus lose every series (the
// process's own counters too) and showed a store outage as the target being down. A scrape is no request the store
// refused either: it is not counted in oktell_store_unavailable_total, not logged as a refused request whose sender
// must send it again (nor kept by /-/health as a refused write).
// Real parts: the server on a PostgreSQL schema reached through a TCP proxy the test ends (connections refused) or
// freezes (nothing answers, as behind a partition).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dropSchema, randomSchemaName, testPostgres, urlWithSchema } from '../store/postgres.helper.js';
import { freezableProxy, viaProxy } from '../faults/frozen-proxy.helper.js';
import { AUTH, capturingLogger, startTestServer, waitFor } from './server-helpers.js';

const pg = await testPostgres();

/** Sample lines whose family has no `# HELP` or `# TYPE` line, and lines that are neither a comment nor a sample. */
function malformed(page: string): string[] {
  const help = new Set<string>();
  const type = new Map<string, string>();
  const bad: string[] = [];
  for (const line of page.split('\n')) {
    if (line === '') continue;
    let m = /^# HELP (\w+) /.exec(line);
    if (m) {
      help.add(m[1]!);
      continue;
    }
    m = /^# TYPE (\w+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (m) {
      type.set(m[1]!, m[2]!);
      continue;
    }
    m = /^(\w+)(\{[^}]*\})? -?[0-9.e+-]+$/.exec(line);
    if (!m) {
      bad.push(line);
      continue;
    }
    const family = type.get(m[1]!) === undefined ? m[1]!.replace(/_(bucket|sum|count)$/, '') : m[1]!;
    if (!help.has(family) || !type.has(family)) bad.push(line);
  }
  return bad;
}

const sample = (page: string, name: string) => new RegExp(`^${name.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(page)?.[1];

async function scrape(url: string): Promise<{ status: number; page: string }> {
  const res = await fetch(`${url}/-/metrics`, { headers: { authorization: AUTH } });
  return { status: res.status, page: await res.text() };
}

describe('/-/metrics while the store cannot be read', () => {
  it('answers 200 with oktell_store_up 0 and without the job gauges, counts no refusal', { timeout: 90_000, skip: pg.skip }, async () => {
    const pgUrl = new URL(pg.url!);
    const proxy = await freezableProxy({ host: pgUrl.hostname, port: Number(pgUrl.port || 5432) });
    const schema = randomSchemaName('mdown');
    const log = capturingLogger();
    const t = await startTestServer({ smtp: false, logger: log.logger, env: { OKTELL_STORE: urlWithSchema(viaProxy(pg.url!, proxy), schema) } });
    try {
      let r = await scrape(t.server.url);
      assert.equal(r.status, 200);
      assert.equal(sample(r.page, 'oktell_store_up'), '1');
      assert.equal(sample(r.page, 'oktell_jobs{status="dead"}'), '0');
      assert.match(r.page, /^# TYPE oktell_store_up gauge$/m);

      // The database goes away: its connections end and new ones are refused.
      await proxy.destroy();
      for (let i = 0; i < 3; i++) {
        r = await scrape(t.server.url);
        assert.equal(r.status, 200, r.page);
        assert.equal(sample(r.page, 'oktell_store_up'), '0', r.page);
        assert.doesNotMatch(r.page, /^oktell_jobs\{/m, 'no job count the store did not give');
        assert.doesNotMatch(r.page, /^oktell_queue_oldest_due_seconds /m);
        assert.equal(sample(r.page, 'oktell_webhooks_received_total'), '0', "the process's own counters are still there");
        assert.equal(sample(r.page, 'oktell_store_unavailable_total'), '0', 'a scrape is not a refused request');
        assert.deepEqual(malformed(r.page), []);
      }
      assert.ok(!log.lines.some((l) => /^request refused with 503/.test(l.msg ?? '')), `no scrape is logged as a refused request: ${JSON.stringify(log.lines.map((l) => l.msg))}`);
      assert.ok(!log.lines.some((l) => l.obj.path === '/-/metrics' && l.obj.status === 503));
    } finally {
      await proxy.destroy().catch(() => undefined);
      await t.cleanup();
      await dropSchema(pg.url!, schema);
    }
  });

  it('answers within its bound with oktell_store_up 0 while the store does not answer at all', { timeout: 90_000, skip: pg.skip }, async () => {
    const pgUrl = new URL(pg.url!);
    const proxy = await freezableProxy({ host: pgUrl.hostname, port: Number(pgUrl.port || 5432) });
    const schema = randomSchemaName('mhang');
    const t = await startTestServer({ smtp: false, env: { OKTELL_STORE: urlWithSchema(viaProxy(pg.url!, proxy), schema) } });
    try {
      assert.equal(sample((await scrape(t.server.url)).page, 'oktell_store_up'), '1');
      proxy.freeze();
      // Without a bound of its own the scrape waited for the store for ever (the test's timeout ended it).
      const r = await waitFor('a scrape answered while the store hangs', async () => {
        const s = await scrape(t.server.url);
        return sample(s.page, 'oktell_store_up') === '0' ? s : undefined;
      }, 30_000);
      assert.equal(r.status, 200);
      assert.doesNotMatch(r.page, /^oktell_jobs\{/m);
      assert.deepEqual(malformed(r.page), []);
    } finally {
      await proxy.destroy();
      await t.cleanup();
      await dropSchema(pg.url!, schema);
    }
  });
});
