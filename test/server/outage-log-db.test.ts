// The log of a database outage, folded (server/log-folding.ts): connection "crm" goes to a loopback port where nothing
// listens (ECONNREFUSED) while three jobs use up their attempts, then a TCP relay to the test PostgreSQL opens on that
// port and a fourth job's statement is answered. The outage is named by the connection, never by its URL (a password).
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { testPostgres } from '../store/postgres.helper.js';
import { assertFoldedOutage } from './outage-log.helper.js';
import { AUTH, capturingLogger, startTestServer, waitFor } from './server-helpers.js';

const JOBS = 3;
const ATTEMPTS = 3;

/** A port nothing listens on (one the OS gave and took back). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Relays every connection on `port` to PostgreSQL at `to`. */
async function relay(port: number, to: URL): Promise<{ server: Server; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((a) => {
    const b = connect(Number(to.port || 5432), to.hostname);
    for (const s of [a, b]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    a.pipe(b).pipe(a);
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return { server, sockets };
}

describe('the log of a database outage', async () => {
  const pg = await testPostgres();
  it('has the first failure in full, summaries that add up, each dead letter, and the recovery once', { timeout: 120_000, skip: pg.skip }, async () => {
    const real = new URL(pg.url!);
    const port = await freePort();
    const via = new URL(real.href);
    via.hostname = '127.0.0.1';
    via.port = String(port);
    const scenario = `variables: { n: number }
start: ask
blocks:
  ask: { kind: DbQuery, connection: crm, sql: 'SELECT 1 AS n', rowCount: n, exits: { success: done } }
  done: { kind: ReturnValue, values: { 1: '[n]' } }
`;
    const log = capturingLogger();
    const t = await startTestServer({
      logger: log.logger,
      extraScenarios: { 'Ask.yaml': scenario },
      env: { OKTELL_LOG_REPEATS_MS: '1000', OKTELL_DB_CRM: via.href },
      config: `workers: { baseDelayMs: 50, maxDelayMs: 200, maxAttempts: ${ATTEMPTS} }\n`,
    });
    let up: Awaited<ReturnType<typeof relay>> | undefined;
    try {
      const start = async () => {
        const res = await fetch(`${t.server.url}/execsvcscriptplain?name=Ask&async=1`, { headers: { authorization: AUTH } });
        assert.equal(res.status, 200, `${await res.text()} ${JSON.stringify(log.lines.slice(-5))}`);
      };
      for (let i = 0; i < JOBS; i++) await start();

      const dead = await waitFor('every job a dead letter', async () => {
        const items = (await t.server.store.listJobs({ status: 'dead' })).items;
        return items.length === JOBS ? items : undefined;
      }, 90_000);
      up = await relay(port, real);
      await start();
      await waitFor('the job after the outage', async () => (await t.server.store.listJobs({ status: 'succeeded' })).items.length === 1, 30_000);
      await t.server.close(2000);

      assertFoldedOutage(log.lines, { scenario: 'Ask', target: 'database "crm"', kind: 'ECONNREFUSED', jobs: JOBS, attempts: ATTEMPTS, deadJobIds: dead.map((j) => j.id) });
    } finally {
      await t.cleanup();
      if (up) {
        for (const s of up.sockets) s.destroy();
        up.server.close();
      }
    }
  });
});
