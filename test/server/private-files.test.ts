// The data folder, the outbox's letters and the databases DbQuery makes hold webhook data and employees' addresses:
// they are created readable by their owner only, as the store is, whatever the umask (review s25, S2).
import assert from 'node:assert/strict';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sqliteDriver } from '../../adapters/db/sqlite.js';
import { parseNamedSql } from '../../engine/index.js';
import { runCli } from '../cli/cli.helper.js';
import { tempDir } from '../helpers.js';
import { postWebhook, startTestServer, taskWebhook, waitFor } from './server-helpers.js';

const modeOf = (path: string): string => (statSync(path).mode & 0o777).toString(8);

describe('files the server creates are private', () => {
  let umask: number;
  before(() => {
    umask = process.umask(0o022);
  });
  after(() => process.umask(umask));

  it('the data folder (0700), the outbox (0700) and each letter (0600)', { timeout: 60_000 }, async () => {
    const server = await startTestServer({ smtp: false, env: { OKTELL_DELIVERY_THREAD: 'off' } });
    try {
      const res = await postWebhook(server.server.url, taskWebhook({ name: 'Задача', responsible: ['2'] }), server.secret);
      assert.equal(res.status, 200);
      const outbox = join(server.dataDir, 'outbox');
      const letter = await waitFor('the letter', () => {
        try {
          return readdirSync(outbox).find((f) => f.endsWith('.eml'));
        } catch {
          return undefined;
        }
      }, 30_000);
      assert.equal(modeOf(server.dataDir), '700');
      assert.equal(modeOf(outbox), '700');
      assert.equal(modeOf(join(outbox, letter)), '600');
    } finally {
      await server.cleanup();
    }
  });

  it('a SQLite database DbQuery opens, and the folder made for it', async () => {
    const tmp = tempDir();
    try {
      const file = join(tmp.dir, 'db', 'main.sqlite');
      const driver = sqliteDriver(file, false);
      await driver.query(parseNamedSql('CREATE TABLE notifications (email TEXT)'), {}, { timeoutMs: 1000, maxRows: 10 });
      await driver.close();
      assert.equal(modeOf(file), '600');
      assert.equal(modeOf(join(tmp.dir, 'db')), '700');
    } finally {
      tmp.cleanup();
    }
  });
});

describe('a data folder the CLI makes for the embedded emulator\'s secret is private', () => {
  let umask: number;
  before(() => {
    umask = process.umask(0o022);
  });
  after(() => process.umask(umask));

  it('webhook send to a folder not there yet makes it 0700, its secret file 0600, as serve would', () => {
    const tmp = tempDir();
    try {
      const dataDir = join(tmp.dir, 'var');
      writeFileSync(join(tmp.dir, 'body.json'), '{"hook":{"sequenceId":1}}');
      // Nothing listens on port 1: the command fails to send (exit 1) after reading the secret as serve would.
      const r = runCli(['webhook', 'send', '/Bpium/NewTask', 'body.json', '--url', 'http://127.0.0.1:1', '-u', 'a:b', '-d', dataDir], { cwd: tmp.dir, env: { NO_COLOR: '1' } });
      assert.equal(r.code, 1, r.stderr);
      assert.equal(modeOf(dataDir), '700');
      assert.equal(modeOf(join(dataDir, 'bpium-webhook-secret')), '600');
    } finally {
      tmp.cleanup();
    }
  });
});
