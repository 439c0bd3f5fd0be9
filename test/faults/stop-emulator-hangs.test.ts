// A graceful stop while the embedded Bpium emulator cannot finish closing: a webhook subscription of the emulator
// points at a receiver (a raw TCP server of the test) that takes the connection and the POST and never answers, so
// the delivery in flight waits for its own timeout (10 s), and the emulator's close waits for that delivery. The
// emulator's HTTP connections cannot hold it (its close cuts them all): a delivery in flight is what can. The stop
// must not wait for it: it ends with the delivery still open, a warning names the emulator, the store closes cleanly
// (the stop record counts the queue), and the store opened again holds every webhook the server acknowledged.
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { capturingLogger, postWebhook, startTestServer, taskWebhook, waitFor } from '../server/server-helpers.js';

/** A webhook receiver that reads what it is sent and never answers (nor closes), as one that hangs. */
async function silentReceiver(): Promise<{ url: string; requests: () => string[]; open: () => number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const received: string[] = [];
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => sockets.delete(socket));
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
      if (text.includes('\r\n\r\n') && !received.includes(text)) received.push(text);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    requests: () => received.map((r) => r.slice(0, r.indexOf('\r\n'))),
    open: () => sockets.size,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

describe('a stop while the embedded Bpium emulator cannot finish closing', () => {
  it('the stop does not wait for its webhook delivery in flight; the emulator is named, the store closes cleanly and keeps what was acknowledged', { timeout: 60_000 }, async () => {
    const receiver = await silentReceiver();
    const log = capturingLogger();
    const t = await startTestServer({ logger: log.logger });
    try {
      const emulator = t.server.emulator;
      assert.ok(emulator, 'the server runs the embedded emulator');
      // A webhook the server acknowledges (its job sends a letter), before the stop.
      const res = await postWebhook(t.server.url, taskWebhook({ name: 'задача до остановки', responsible: ['2'] }), t.secret);
      assert.equal(res.status, 200);
      await waitFor('the job to succeed', async () => (await t.server.store.counts()).jobs.succeeded === 1, 20_000);

      // A user created through the emulator's API (a catalog without the seed's subscription) (by the server's own Bpium client) fires the subscription: the
      // delivery's POST reaches the receiver, which keeps it unanswered.
      // Its URL has credentials and a token in the query, which no log line may show.
      const subscribed = new URL(`${receiver.url}?token=tok-SECRET-1`);
      subscribed.username = 'hookuser';
      subscribed.password = 'pw-SECRET-2';
      const hookId = emulator.addWebhook({ catalogId: '3', events: ['record.created'], url: subscribed.toString() });
      await t.server.bpium!.createRecord('3', { '1': 'Пётр Сидоров', '2': 'petr.sidorov@example.com' });
      await waitFor('the delivery to reach the receiver', () => receiver.requests().length === 1, 10_000);
      assert.deepEqual(receiver.requests(), ['POST /hook?token=tok-SECRET-1 HTTP/1.1']);

      // The test's timeout bounds the stop in any case; what shows that it did not wait for the delivery is that the
      // delivery is still in flight when it has ended: its connection open, its outcome not recorded.
      const report = await t.server.close(500);
      const said = log.lines.map((l) => `${l.level} ${l.msg ?? ''}`).join('\n');
      assert.deepEqual(report, { unfinished: 0, unrecorded: 0, effects: 0, letters: 0 }, said);
      assert.equal(receiver.open(), 1, 'the delivery is still waiting for its answer');
      assert.deepEqual(emulator.deliveries({ hookId }), [], 'no outcome of the delivery was recorded before the stop ended');

      // Named with what it waited for: the delivery, by where it posts.
      const emulatorLeft = `the embedded Bpium emulator (1 webhook delivery still waiting for an answer: ${receiver.url})`;
      const named = log.lines.find((l) => l.level === 'warn' && (l.msg ?? '').startsWith('not closed cleanly: '));
      assert.ok(named, `a warning says what was not closed:\n${said}`);
      assert.equal(named.msg, `not closed cleanly: ${emulatorLeft} did not finish closing within 1 s after the grace period; the stop went on without waiting for it (its connections end with the process); nothing acknowledged is lost by this`);
      assert.deepEqual(named.obj.notClosed, [emulatorLeft]);
      assert.deepEqual(named.obj.webhooks, [receiver.url]);
      assert.ok(!JSON.stringify(log.lines).includes('SECRET'), `no log line holds the subscription's credentials or token:\n${said}`);
      // The store's last steps came: the queue was counted and the store closed.
      assert.ok(!log.lines.some((l) => /the store did not answer/.test(l.msg ?? '')), said);
      const stopped = log.lines.find((l) => /^stopped/.test(l.msg ?? ''));
      assert.ok(stopped, said);
      assert.equal(stopped.level, 'info');
      assert.equal(stopped.obj.queued, 0);

      // Opened again (the store's lock given up): the acknowledged webhook and its job are there, nothing lost.
      const store = await openSqliteStore({ file: join(t.dataDir, 'oktell.sqlite') });
      try {
        const counts = await store.counts();
        assert.equal(counts.inbox.total, 1);
        assert.equal(counts.jobs.succeeded, 1);
        assert.equal(counts.jobs.queued + counts.jobs.running, 0);
      } finally {
        await store.close();
      }
      assert.equal(t.smtp!.letters.length, 1);
    } finally {
      // The receiver gone, the delivery fails and the emulator's close finishes (its database closed) before the
      // folder is removed.
      await receiver.close();
      await t.server.emulator?.settled();
      await t.cleanup();
    }
  });
});
