// Instances sharing one PostgreSQL store each decide on the dead-letter catch-all for themselves: a start whose
// catch-all (scenario, attempts, or off) is not the one of the instance that started before it on the store says so,
// naming both and the settings to make alike; a start with the same one says nothing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dropSchema, randomSchemaName, testPostgres, urlWithSchema } from '../store/postgres.helper.js';
import { capturingLogger, startTestServer } from './server-helpers.js';

const pg = await testPostgres();
const DEAD_LETTER = `description: Tells the admin.
start: begin
blocks:
  begin: { kind: Start, exits: { next: done } }
  done: { kind: Stop }
`;

describe('the dead-letter catch-all of instances sharing a PostgreSQL store', { ...(pg.skip ? { skip: pg.skip } : {}) }, () => {
  it('a start with another catch-all than the instance before it warns, naming both; the same one says nothing', { timeout: 90_000 }, async () => {
    const schema = randomSchemaName('dlshared');
    const store = urlWithSchema(pg.url!, schema);
    /** The catch-all warnings of one start on the shared schema with `env` (and DeadLetter.yaml when `file`). */
    const start = async (env: Record<string, string>, file: boolean) => {
      const log = capturingLogger();
      const t = await startTestServer({ smtp: false, logger: log.logger, env: { OKTELL_STORE: store, ...env }, ...(file ? { extraScenarios: { 'DeadLetter.yaml': DEAD_LETTER } } : {}) });
      await t.cleanup();
      return log.lines.filter((l) => l.level === 'warn' && /^the dead-letter catch-all of this instance/.test(l.msg ?? ''));
    };
    try {
      assert.deepEqual(await start({}, true), [], 'the first instance on the store has none to compare with');
      assert.deepEqual(await start({}, true), [], 'the same catch-all');
      const off = await start({ OKTELL_DEAD_LETTER_SCENARIO: 'off' }, true);
      assert.equal(off.length, 1);
      assert.equal(
        off[0]!.msg,
        'the dead-letter catch-all of this instance (off) is not the one of the instance that started before it on this PostgreSQL store (DeadLetter, 5 attempts): each instance decides for itself whether a job it gives up on starts the catch-all, which one and with how many attempts; give every instance the same OKTELL_DEAD_LETTER_SCENARIO (or the same DeadLetter.yaml) and OKTELL_DEAD_LETTER_MAX_ATTEMPTS (docs/scaling.md)',
      );
      const fewer = await start({ OKTELL_DEAD_LETTER_MAX_ATTEMPTS: '2' }, true);
      assert.match(fewer[0]?.msg ?? '', /^the dead-letter catch-all of this instance \(DeadLetter, 2 attempts\) is not the one of the instance that started before it on this PostgreSQL store \(off\)/);
      assert.deepEqual(await start({ OKTELL_DEAD_LETTER_MAX_ATTEMPTS: '2' }, true), []);
    } finally {
      await dropSchema(pg.url!, schema);
    }
  });
});
