// --from-run and time: a run whose later step read Now() after the clock had moved on becomes a case that replays
// the times the run read; a run whose database statement timed out on another program's lock is written with the
// command saying that step cannot be replayed. Runs are real engine runs recorded in a real SQLite store; the case
// is written and run by the real binary (`oktell-emu test --from-run`).
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createDatabasePort } from '../../adapters/db/index.js';
import { loadLibrary } from '../../cli/config.js';
import { createInProcessStarter, randomIds, runScenario, type ClockPort, type EnginePorts } from '../../engine/index.js';
import { runWrite } from '../../server/run-record.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

const STAMP = `description: Reads the database, then stamps the time
variables:
  n: number
  at: string
start: begin
blocks:
  begin:
    kind: Start
    exits: { next: read }
  read:
    kind: DbQuery
    sql: SELECT 1 AS n
    # Long enough for a loaded machine (0.2 s once timed out a case's SELECT 1 while other suites ran), short enough
    # for the locked case, which waits it out.
    timeout: 2
    exits: { success: stamp, error: failed, timeout: busy }
  stamp:
    kind: Variable
    set: { at: Now() }
    exits: { next: answer }
  answer:
    kind: ReturnValue
    values: { 1: "[at]" }
  failed:
    kind: ReturnValue
    values: { 1: '"failed"' }
  busy:
    kind: ReturnValue
    values: { 1: '"busy"' }
`;

/** A clock that moves on 2 s each time it is read, as a real one does across a slow database query. */
function steppingClock(start: string): ClockPort {
  let t = new Date(start).getTime();
  return {
    now() {
      const d = new Date(t);
      t += 2000;
      return d;
    },
  };
}

/** Runs Stamp live against `dbFile` and records it in the store of `dataDir`; returns its run id. */
async function recordStampRun(dir: string, dataDir: string, dbFile: string): Promise<{ runId: string; returned: unknown }> {
  const { library, templates } = await loadLibrary(join(dir, 'scenarios'), undefined, 'Europe/Moscow');
  const databases = createDatabasePort({ main: { dialect: 'sqlite', path: dbFile } });
  const ports: EnginePorts = {
    databases,
    templates,
    clock: steppingClock('2026-11-28T15:12:36.725Z'),
    ids: randomIds,
    asyncStarter: createInProcessStarter(randomIds, async () => {
      throw new Error('Stamp starts nothing');
    }),
  };
  try {
    const result = await runScenario(library, 'Stamp', { params: {}, timeZone: 'Europe/Moscow', ports });
    const store = await openSqliteStore({ file: join(dataDir, 'oktell.sqlite') });
    try {
      await store.recordRun(runWrite(result, { trigger: 'cli', params: {} }));
    } finally {
      await store.close();
    }
    return { runId: result.runId, returned: result.returnValues['1'] };
  } finally {
    await databases.close();
  }
}

function setUp() {
  const tmp = tempDir();
  mkdirSync(join(tmp.dir, 'scenarios', 'tests'), { recursive: true });
  writeFileSync(join(tmp.dir, 'scenarios', 'Stamp.yaml'), STAMP);
  const dataDir = join(tmp.dir, 'var');
  mkdirSync(dataDir);
  return { tmp, dataDir, dbFile: join(tmp.dir, 'live.sqlite') };
}

describe('--from-run replays the times the run read', () => {
  it('Now() read after the clock moved on gets that later time in the case too: the written case passes', async () => {
    const { tmp, dataDir, dbFile } = setUp();
    try {
      const { runId, returned } = await recordStampRun(tmp.dir, dataDir, dbFile);
      // The live run's Now() is later than its start: the case must not expect the start's time.
      assert.equal(returned, '28.11.2026 18:12:38');
      const r = runCli(['test', '--from-run', runId, '--name', 'stamped', '--data-dir', dataDir], { cwd: tmp.dir, unset: ['OKTELL_SCENARIOS', 'OKTELL_DATA_DIR'] });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /✓ .*recorded\.test\.yaml › stamped/);
      const written = readFileSync(join(tmp.dir, 'scenarios', 'tests', 'recorded.test.yaml'), 'utf8');
      assert.match(written, /clock:\n\s+start: 2026-11-28T15:12:36\.725Z\n\s+reads: \[ ?"?2026-11-28T15:12:38\.725Z"? ?\]/);
    } finally {
      tmp.cleanup();
    }
  });

  it('a hand-written clock with reads: the start, then each reading in turn, then the last one', () => {
    const { tmp } = setUp();
    try {
      writeFileSync(
        join(tmp.dir, 'scenarios', 'tests', 'clock.test.yaml'),
        `cases:
  - name: moving clock
    scenario: Stamp
    clock: { start: "2026-01-01T09:00:00Z", reads: ["2026-01-01T09:00:05Z"] }
    expect: { returnValues: { 1: { contains: "12:00:05" } } }
  - name: bad reading
    scenario: Stamp
    clock: { start: "2026-01-01T09:00:00Z", reads: [soon] }
    expect: { status: completed }
`,
      );
      const r = runCli(['test', 'scenarios/tests/clock.test.yaml'], { cwd: tmp.dir, unset: ['OKTELL_SCENARIOS'] });
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stdout, /✓ .*clock\.test\.yaml › moving clock/);
      assert.match(r.stderr, /clock\.test\.yaml:8:53 E_INVALID_PROPERTY "soon" is not a date and time/);
    } finally {
      tmp.cleanup();
    }
  });

  it('a statement that timed out on another program\'s lock is named as a step the case cannot replay', async () => {
    const { tmp, dataDir, dbFile } = setUp();
    const holder = new Database(dbFile);
    let recorded: { runId: string; returned: unknown };
    try {
      holder.exec('CREATE TABLE t (x); BEGIN EXCLUSIVE; INSERT INTO t VALUES (1)');
      recorded = await recordStampRun(tmp.dir, dataDir, dbFile);
    } finally {
      holder.close();
    }
    try {
      assert.equal(recorded.returned, 'busy');
      const r = runCli(['test', '--from-run', recorded.runId, '--name', 'locked', '--data-dir', dataDir], { cwd: tmp.dir, unset: ['OKTELL_SCENARIOS', 'OKTELL_DATA_DIR'] });
      assert.match(r.stdout, /! cannot be replayed: main: SELECT 1 AS n \(block read of Stamp\) took its timeout way \(.*exit "timeout"\)/);
      const written = readFileSync(join(tmp.dir, 'scenarios', 'tests', 'recorded.test.yaml'), 'utf8');
      assert.match(written, /What the case cannot replay[^\n]*\n\s*#\s+- main: SELECT 1 AS n \(block read of Stamp\) took its timeout way/);
    } finally {
      tmp.cleanup();
    }
  });
});
