// Two servers on one PostgreSQL schema behind a load balancer: a console form one of them rendered is accepted by the
// other, because the secret of the form tokens is kept in the shared store, not in each server's data folder.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { querySchema, dropSchema, randomSchemaName, testPostgres, urlWithSchema } from '../store/postgres.helper.js';
import { AUTH, csrfToken, readUserJob, startConsoleServer, type ConsoleServer } from './console-helpers.js';

const pg = await testPostgres();

function replayOn(t: ConsoleServer, jobId: string, csrf: string): Promise<Response> {
  return fetch(`${t.base}/jobs/${jobId}/replay`, {
    method: 'POST',
    headers: { authorization: AUTH, 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
    body: new URLSearchParams({ csrf, confirm: '1' }).toString(),
    redirect: 'manual',
  });
}

describe('the console on two servers sharing a PostgreSQL store', () => {
  it('a Replay form rendered by server A is accepted by server B; both keep one secret in the store, none in their folders', { skip: pg.skip, timeout: 60_000 }, async () => {
    const schema = randomSchemaName('csrf');
    const store = urlWithSchema(pg.url!, schema);
    // Started together, as a deployment does: the first to write the secret wins and both read that one.
    const [a, b] = await Promise.all([startConsoleServer({}, { OKTELL_STORE: store }), startConsoleServer({}, { OKTELL_STORE: store })]);
    try {
      const failed = await readUserJob(a, '77');
      assert.equal(failed.status, 'failed');
      const tokenOfA = await csrfToken(a.base);
      const res = await replayOn(b, failed.jobId, tokenOfA);
      assert.equal(res.status, 303, `B accepted A's form: ${res.status} ${await res.text()}`);
      assert.equal(await csrfToken(b.base), tokenOfA, 'both servers give a login the same token');
      assert.equal((await b.server.store.getJob(failed.jobId))!.replayCount, 1, 'the job was sent back to the queue');
      // A forged token is still refused by either.
      assert.equal((await replayOn(a, failed.jobId, `${tokenOfA.slice(0, -2)}xx`)).status, 403);

      // One secret, and the dead-letter catch-all setting each start records (no secret: a scenario's name or off).
      const rows = await querySchema<{ name: string }>(pg.url!, schema, 'SELECT name FROM shared_settings ORDER BY name');
      assert.deepEqual(rows.map((r) => r.name), ['console-csrf-secret', 'deadLetterCatchAll']);
      for (const t of [a, b]) assert.equal(existsSync(join(t.dataDir, 'console-csrf-secret')), false, 'no secret file in a data folder');
    } finally {
      await Promise.all([a.cleanup(), b.cleanup()]);
      await dropSchema(pg.url!, schema);
    }
  });
});
