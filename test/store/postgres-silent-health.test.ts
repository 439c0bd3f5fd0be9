// /-/health while the PostgreSQL store's database stops answering without closing anything (a partition that drops
// packets). Before, health looked only at writes the store had refused, so it answered 200 "ok" until the first
// webhook's store call gave up (the statement timeout plus 5 s: 35 s by default), and for ever when no webhook came.
// Now it sends a probe of its own, bounded by HEALTH_STORE_MS: 503 saying the store does not answer within that bound,
// 200 again once it answers; one probe in flight at a time, however often the balancers ask.
// Real parts: the server (or the store) on a PostgreSQL schema reached through a TCP proxy of the test that hangs its
// connections (pg-proxy.helper.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openPostgresStore } from '../../server/store/postgres.store.js';
import { HEALTH_STORE_MS, storeProbe } from '../../server/store-probe.js';
import { outageProxy, throughProxy } from '../scale/pg-proxy.helper.js';
import { startTestServer, waitFor } from '../server/server-helpers.js';
import { dropSchema, randomSchemaName, testPostgres, urlWithSchema } from './postgres.helper.js';

const pg = await testPostgres();

async function health(url: string): Promise<{ status: number; body: { status: string; problems?: string[] }; ms: number }> {
  const started = performance.now();
  const res = await fetch(`${url}/-/health`);
  return { status: res.status, body: (await res.json()) as { status: string; problems?: string[] }, ms: performance.now() - started };
}

async function proxyToPostgres() {
  const target = new URL(pg.url!);
  return outageProxy({ host: target.hostname, port: Number(target.port || 5432) });
}

describe('/-/health while the PostgreSQL store does not answer', { skip: pg.skip }, () => {
  it('answers 503 saying so within its own bound, not after the store gives up, and 200 once the database answers', { timeout: 60_000 }, async () => {
    const proxy = await proxyToPostgres();
    const schema = randomSchemaName('hsilent');
    const t = await startTestServer({ smtp: false, env: { OKTELL_STORE: urlWithSchema(throughProxy(pg.url!, proxy), schema) } });
    try {
      const before = await health(t.server.url);
      assert.equal(before.status, 200, JSON.stringify(before.body));
      assert.equal(before.body.status, 'ok');

      await proxy.hang();
      const hungAt = performance.now();
      // A balancer asking every few hundred ms, two at a time: each answer comes within the bound (plus a margin),
      // and within it after the silence began they say the store does not answer (the store itself would give up
      // only after 35 s, with no webhook to find it out).
      let failing: Awaited<ReturnType<typeof health>> | undefined;
      while (!failing && performance.now() - hungAt < HEALTH_STORE_MS + 4000) {
        const answers = await Promise.all([health(t.server.url), health(t.server.url)]);
        for (const a of answers) assert.ok(a.ms < HEALTH_STORE_MS + 1500, `a health check answered in ${Math.round(a.ms)} ms`);
        failing = answers.find((a) => a.status === 503);
        if (!failing) await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(failing, `/-/health still answered 200 ${Math.round(performance.now() - hungAt)} ms after the database stopped answering`);
      assert.equal(failing.body.status, 'failing');
      assert.ok(
        failing.body.problems?.some((p) => /^the store has not answered for \d+(\.\d)? s \(a database that stopped answering/.test(p)),
        JSON.stringify(failing.body.problems),
      );
      // Asked again while the probe still hangs: the same answer at once, from the probe under way.
      const again = await health(t.server.url);
      assert.equal(again.status, 503);
      assert.ok(again.ms < 1000, `answered in ${Math.round(again.ms)} ms`);

      // The partition ends (its connections reset): health says ok again.
      await proxy.pass();
      await waitFor('/-/health to answer 200 once the database answers', async () => (await health(t.server.url)).status === 200, 15_000);
    } finally {
      await proxy.pass();
      await t.cleanup();
      await proxy.close();
      await dropSchema(pg.url!, schema).catch(() => undefined);
    }
  });

  it('keeps one probe in flight: checks while it hangs wait for its outcome instead of sending another', { timeout: 60_000 }, async () => {
    const proxy = await proxyToPostgres();
    const schema = randomSchemaName('hprobe');
    const store = await openPostgresStore({ url: urlWithSchema(throughProxy(pg.url!, proxy), schema), statementTimeoutMs: 1000, connectTimeoutMs: 2000 });
    let pings = 0;
    const ping = store.ping.bind(store);
    store.ping = () => {
      pings++;
      return ping();
    };
    const probe = storeProbe(store, 500);
    try {
      assert.equal(await probe(), undefined);
      assert.equal(pings, 1);

      await proxy.hang();
      pings = 0;
      const first = await Promise.all(Array.from({ length: 10 }, () => probe()));
      for (const p of first) assert.match(p ?? '', /^the store has not answered for 0\.[5-9] s/);
      for (let i = 0; i < 5; i++) assert.match((await probe()) ?? '', /^the store has not answered for/);
      assert.equal(pings, 1, 'one probe sent while the store hangs');

      await proxy.pass();
      await waitFor('the probe to find the store answering again', async () => (await probe()) === undefined, 15_000);
      assert.ok(pings >= 2 && pings <= 4, `probes sent: ${pings}`);
    } finally {
      await proxy.pass();
      await Promise.race([store.close(), new Promise((r) => setTimeout(r, 5000).unref())]);
      await proxy.close();
      await dropSchema(pg.url!, schema).catch(() => undefined);
    }
  });
});
