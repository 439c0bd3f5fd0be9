// The PostgreSQL store's connections when the database stops answering without closing them: a network partition
// that drops packets, or a failover after which the old host is simply gone. New connections work again once the
// database is back, but nothing ever ends the old ones. Before, a write transaction or a read in flight on such a
// connection waited for ever (no statement_timeout can end a statement the server does not hear): both write slots
// stayed taken, every later write queued behind them, webhooks hung, and /-/health went on saying ok, long after the
// database was back. Now a call without an answer past the statement timeout (plus a margin) closes its connection
// and fails as `io`, so the writes behind it go on a fresh one.
// Real parts: a real PostgreSQL behind a TCP proxy of the test that hangs its connections (pg-proxy.helper.ts).
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { answeredWithin, noAnswerBound, openPostgresStore } from '../../server/store/postgres.store.js';
import { StoreUnavailableError } from '../../server/store/store.errors.js';
import type { InboxEntry } from '../../server/store/store.port.js';
import { outageProxy, throughProxy } from '../scale/pg-proxy.helper.js';
import { waitFor } from '../server/server-helpers.js';
import { dropSchema, randomSchemaName, testPostgres, urlWithSchema } from './postgres.helper.js';

const pg = await testPostgres();

const inbox = (dedupKey: string) => ({
  receivedAt: Date.now(),
  method: 'POST',
  path: '/hook',
  hookId: 'hook',
  headers: 'content-type: text/plain',
  body: Buffer.from(dedupKey),
  remoteAddress: '127.0.0.1',
  signature: 'absent' as const,
  dedupKey,
  response: { status: 200, body: 'ok' },
});

/**
 * A store on a schema of its own, reached through a proxy of the test (statement timeout 1 s, so its silence bound is
 * 6 s); `done` lets the proxy pass again, closes the store (bounded: a close would wait for a write that never ends),
 * the proxy, and drops the schema.
 */
async function storeBehindProxy() {
  const target = new URL(pg.url!);
  const proxy = await outageProxy({ host: target.hostname, port: Number(target.port || 5432) });
  const schema = randomSchemaName('silent');
  const store = await openPostgresStore({ url: urlWithSchema(throughProxy(pg.url!, proxy), schema), statementTimeoutMs: 1000, connectTimeoutMs: 2000 });
  const done = async () => {
    await proxy.pass();
    await Promise.race([store.close(), new Promise((r) => setTimeout(r, 5000).unref())]);
    await proxy.close();
    await dropSchema(pg.url!, schema).catch(() => undefined);
  };
  return { proxy, store, done };
}

describe('the PostgreSQL store when its connections stop answering', { skip: pg.skip }, () => {
  it('a write and a read left without an answer fail as io, and the store works on fresh connections once the database is back', { timeout: 60_000 }, async () => {
    const { proxy, store, done } = await storeBehindProxy();
    try {
      const before = await store.recordRequest({ inbox: inbox('before') });
      assert.equal(before.duplicate, false);
      // Several open connections in the pool, idle: the calls below are sent on them. (Reads of inbox entries, each
      // on a connection of its own: look-ups of delivery keys asked at once share one.)
      const found = await Promise.all([1, 2, 3].map(() => store.getInboxEntry(before.inboxId)));
      assert.deepEqual(found.map((f) => f?.responseStatus), [200, 200, 200]);

      await proxy.hang();
      const settled = (p: Promise<unknown>) => {
        const s: { done?: boolean; error?: unknown } = {};
        p.then(
          () => (s.done = true),
          (e: unknown) => ((s.done = true), (s.error = e)),
        );
        return s;
      };
      // Sent on the pool's open connections, which the database will never answer.
      const write = settled(store.recordRequest({ inbox: inbox('during') }));
      const read = settled(store.findByDedupKey('before'));
      await new Promise((r) => setTimeout(r, 300));
      // The database is back for new connections; the old ones stay silent for ever.
      await proxy.heal();

      await waitFor('the write left without an answer to fail', () => write.done, 40_000);
      assert.ok(write.error instanceof StoreUnavailableError, String(write.error));
      assert.equal(write.error.reason, 'io');
      await waitFor('the read left without an answer to fail', () => read.done, 40_000);
      assert.ok(read.error instanceof StoreUnavailableError, String(read.error));
      assert.equal(read.error.reason, 'io');

      // The writes after them go on fresh connections: the store works again.
      // (The connections opened with the silent ones are not used again: this write gets a fresh one.)
      const after = settled(store.recordRequest({ inbox: inbox('after') }));
      await waitFor('the write after the database came back', () => after.done, 30_000);
      assert.equal(after.error, undefined);
      assert.equal((await store.findByDedupKey('after'))?.responseStatus, 200);
    } finally {
      await done();
    }
  });

  it('closes the sockets of the connections opened before the silence, not only their sessions: none is left open for TCP to give up on', { timeout: 60_000 }, async () => {
    const { proxy, store, done } = await storeBehindProxy();
    try {
      const before = await store.recordRequest({ inbox: inbox('before') });
      assert.equal(before.duplicate, false);
      await Promise.all([1, 2, 3, 4].map(() => store.getInboxEntry(before.inboxId)));
      // The sockets of every connection the pool holds before the database goes silent (pg-pool's own list).
      const pool = (store as unknown as { pool: { _clients: Array<{ connection: { stream: Socket } }> } }).pool;
      const old = pool._clients.map((c) => c.connection.stream);
      assert.ok(old.length >= 3, `connections before: ${old.length}`);

      await proxy.hang();
      const read = store.findByDedupKey('before').then(
        () => undefined,
        (e: unknown) => e,
      );
      await new Promise((r) => setTimeout(r, 300));
      await proxy.heal();
      const error = await read;
      assert.ok(error instanceof StoreUnavailableError && error.reason === 'io', String(error));
      await store.recordRequest({ inbox: inbox('after') });

      // A goodbye (pg's Terminate, then FIN) on a silent connection leaves its socket open until the peer answers,
      // which it never does here: the process would not exit after its store closed. Each is closed outright.
      await waitFor('every socket opened before the silence to be closed', () => old.every((s) => s.destroyed), 5000).catch(() => undefined);
      assert.deepEqual(
        old.map((s) => s.destroyed),
        old.map(() => true),
      );
    } finally {
      await done();
    }
  });
});

describe('the PostgreSQL store when one of its connections stops answering', { skip: pg.skip }, () => {
  it('closes the connections not heard since, and keeps those the database answered meanwhile', { timeout: 60_000 }, async () => {
    // No proxy: one connection is made silent by holding its socket's reads, so what the database sends it stays
    // unread, while the others go on. Statement timeout 1 s, silence bound 3 s: a connection that heard the database
    // in the last 2 s before the silence was found got an answer after the silent one's stopped, and works.
    const schema = randomSchemaName('silent1');
    const store = await openPostgresStore({ url: urlWithSchema(pg.url!, schema), statementTimeoutMs: 1000, noAnswerMs: 3000 });
    type Client = { connection: { stream: Socket } };
    const pool = (store as unknown as { pool: { _clients: Client[]; _idle: Array<{ client: Client }> } }).pool;
    try {
      const before = await store.recordRequest({ inbox: inbox('before') });
      assert.equal(before.duplicate, false);
      await Promise.all([1, 2, 3, 4].map(() => store.getInboxEntry(before.inboxId)));
      const old = pool._clients.map((c) => c.connection.stream);
      assert.ok(old.length >= 4, `connections before: ${old.length}`);
      // The connection the pool hands out next (its idle list is a stack) stops hearing the database.
      const silent = pool._idle.at(-1)!.client.connection.stream;
      silent.pause();
      // A read that takes its connection at once (a delivery key's look-up waits for the next turn).
      const read = store.getInboxEntry(before.inboxId).then(
        () => undefined,
        (e: unknown) => e,
      );
      let failed: unknown;
      void read.then((e) => (failed = e));
      // Meanwhile two readers at a time keep being answered on two other connections.
      const started = performance.now();
      while (failed === undefined && performance.now() - started < 10_000) {
        assert.deepEqual((await Promise.all([1, 2].map((): Promise<InboxEntry | undefined> => store.getInboxEntry(before.inboxId)))).map((f) => f?.responseStatus), [200, 200]);
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(failed instanceof StoreUnavailableError && failed.reason === 'io', String(failed));
      assert.ok(silent.destroyed, 'the silent connection is closed');
      // Those two go on being used (one in use when the silence was found would have been closed at its checkout).
      for (let i = 0; i < 3; i++) await Promise.all([1, 2].map(() => store.getInboxEntry(before.inboxId)));
      const kept = old.filter((s) => !s.destroyed);
      assert.equal(kept.length, 2, `connections open before the silence and kept: ${kept.length} of ${old.length}`);
      assert.ok(
        old.filter((s) => s !== silent && s.destroyed).length >= 1,
        'an idle connection not heard since the silence began is closed',
      );
    } finally {
      await Promise.race([store.close(), new Promise((r) => setTimeout(r, 5000).unref())]);
      await dropSchema(pg.url!, schema).catch(() => undefined);
    }
  });
});

describe('the silence bound of the PostgreSQL store', () => {
  it('is the statement timeout plus 5 s, none when statements have no timeout, or as given', () => {
    assert.deepEqual(
      [noAnswerBound({}), noAnswerBound({ statementTimeoutMs: 1000 }), noAnswerBound({ statementTimeoutMs: 0 }), noAnswerBound({ statementTimeoutMs: 0, noAnswerMs: 60_000 }), noAnswerBound({ noAnswerMs: 0 })],
      // A statement timeout of 0 is none in PostgreSQL: a bound of 5 s would cut a long statement still running.
      [35_000, 6000, 0, 60_000, 0],
    );
  });

  it('lets a connection heard within its margin over the statement timeout (5 s by default) be kept, none without one', () => {
    assert.deepEqual(
      [answeredWithin({}), answeredWithin({ statementTimeoutMs: 1000, noAnswerMs: 3000 }), answeredWithin({ statementTimeoutMs: 0, noAnswerMs: 60_000 }), answeredWithin({ noAnswerMs: 20_000 }), answeredWithin({ noAnswerMs: 0 })],
      [5000, 2000, 0, 0, 0],
    );
  });
});
