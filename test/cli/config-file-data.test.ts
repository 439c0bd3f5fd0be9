// The commands that read the server's data (runs, show, replay, outbox, tasks, test --from-run, a live run's record)
// find it where the server keeps it when that place comes from oktell.config.yaml (`dataDir:`, `store:`), not only
// from --data-dir and the environment.
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoPath, tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';
import { openPostgresStore } from '../../server/store/postgres.store.js';
import { dropSchema, randomSchemaName, urlWithSchema } from '../store/postgres.helper.js';

const PG_URL = process.env.OKTELL_TEST_PG_URL;

describe('CLI commands read the data folder and store of oktell.config.yaml', () => {
  it('dataDir: a live run records there, and runs, show and outbox read it there', () => {
    const tmp = tempDir();
    try {
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), 'dataDir: kept\n');
      const cli = (args: string[]) => runCli(args, { cwd: tmp.dir, env: { OKTELL_SCENARIOS: repoPath('scenarios') }, unset: ['OKTELL_DATA_DIR', 'OKTELL_STORE', 'OKTELL_CONFIG'] });
      const run = cli(['run', 'HTTP404', '-p', '1=/Bpium/NewTask', '-p', `4=@${repoPath('test', 'fixtures', 'record-created.json')}`, '--bpium-fixtures', repoPath('test', 'fixtures', 'bpium-users.yaml'), '--json']);
      assert.equal(run.code, 0, run.stderr);
      const root = JSON.parse(run.stdout) as { runId: string; asyncStarted: Array<{ runId: string }> };
      assert.ok(existsSync(join(tmp.dir, 'kept', 'oktell.sqlite')), 'the run was recorded in the configured folder');
      assert.ok(!existsSync(join(tmp.dir, 'var')), 'nothing went to ./var');

      const runs = cli(['runs', '--json']);
      assert.equal(runs.code, 0, runs.stderr);
      assert.deepEqual((JSON.parse(runs.stdout) as Array<{ id: string }>).map((r) => r.id).sort(), [root.runId, root.asyncStarted[0]!.runId].sort());
      const shown = cli(['show', root.runId, '--json']);
      assert.equal(shown.code, 0, shown.stderr);
      assert.equal((JSON.parse(shown.stdout) as { scenario: string }).scenario, 'HTTP404');
      const outbox = cli(['outbox', '--json']);
      assert.equal(outbox.code, 0, outbox.stderr);
      assert.equal((JSON.parse(outbox.stdout) as unknown[]).length, 2, 'the two letters of the live run');

      // --config names the file from any working folder, as serve --config does (relative paths in it are read from
      // the working folder, so this one is absolute).
      writeFileSync(join(tmp.dir, 'absolute.yaml'), `dataDir: ${JSON.stringify(join(tmp.dir, 'kept'))}\n`);
      const fromElsewhere = (args: string[]) => runCli([...args, '--config', join(tmp.dir, 'absolute.yaml')], { cwd: repoPath('test'), env: { OKTELL_SCENARIOS: repoPath('scenarios') }, unset: ['OKTELL_DATA_DIR', 'OKTELL_STORE', 'OKTELL_CONFIG'] });
      for (const args of [['runs', '--json'], ['show', root.runId, '--json'], ['outbox', '--json'], ['replay', root.runId]]) {
        const r = fromElsewhere(args);
        assert.ok(!/unknown option/.test(r.stderr), `${args[0]} takes --config: ${r.stderr}`);
        if (args[0] !== 'replay') assert.equal(r.code, 0, `${args[0]}: ${r.stderr}`);
      }
      assert.match(fromElsewhere(['replay', root.runId]).stderr, /recorded by `oktell-emu run`, not a queued job/, 'replay read the configured store: it knows the run');

      // --data-dir still wins over the file.
      const elsewhere = cli(['runs', '--data-dir', join(tmp.dir, 'nowhere')]);
      assert.equal(elsewhere.code, 2);
      assert.match(elsewhere.stderr, /no data folder .*nowhere/);
    } finally {
      tmp.cleanup();
    }
  });

  it('a mistake in the file is named at its line and column, with exit 2', () => {
    const tmp = tempDir();
    try {
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), 'dataDri: kept\n');
      const r = runCli(['runs'], { cwd: tmp.dir, unset: ['OKTELL_DATA_DIR', 'OKTELL_STORE', 'OKTELL_CONFIG'] });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /oktell\.config\.yaml:1:1: unknown key "dataDri" .*did you mean "dataDir"/);
    } finally {
      tmp.cleanup();
    }
  });

  it('store: a postgres:// URL in the file is the store runs reads (no data folder needed)', { skip: PG_URL ? false : 'set OKTELL_TEST_PG_URL to run it' }, async () => {
    const tmp = tempDir();
    // A schema a server has migrated: the CLI reads a store, it does not make one.
    const schema = randomSchemaName('cfg');
    const url = urlWithSchema(PG_URL!, schema);
    await (await openPostgresStore({ url })).close();
    try {
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), `store: ${url}\n`);
      const r = runCli(['runs', '--json', '--limit', '1'], { cwd: tmp.dir, unset: ['OKTELL_DATA_DIR', 'OKTELL_STORE', 'OKTELL_CONFIG'] });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), []);
    } finally {
      tmp.cleanup();
      await dropSchema(PG_URL!, schema);
    }
  });
});
