// connectionsOfBlocks: the database connections a list of blocks names, each with its scenarios, which the server's
// start-up warnings (loaded scenarios) and `test`'s check of data sets (files with problems too) both read.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectionsOfBlocks, type ScenarioBlock } from '../../engine/index.js';

const db = (scenario: string, kind: string, connection?: unknown): ScenarioBlock => ({ scenario, block: { kind, config: connection === undefined ? undefined : { connection } } });

describe('connectionsOfBlocks', () => {
  it('names each connection of a DbQuery or DbProcedure once, with its scenarios once each, in the order met', () => {
    const used = connectionsOfBlocks([
      db('Report', 'DbQuery', 'main'),
      db('Notify', 'DbProcedure', 'crm'),
      db('Report', 'DbQuery', 'main'),
      db('Audit', 'DbQuery', 'main'),
      // Not a database block, no config (a block of a file with problems), not a name: no connection.
      db('Other', 'WebRequest', 'ledger'),
      db('Broken', 'DbQuery'),
      db('Odd', 'DbQuery', 7),
    ]);
    assert.deepEqual([...used], [
      ['main', ['Report', 'Audit']],
      ['crm', ['Notify']],
    ]);
  });
});
