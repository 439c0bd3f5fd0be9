// A real run of the article's BpiumNewTask on Bpium's one-line webhook body, recorded in a SQLite store, for the
// tests of `test --from-run`.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createFixtureBpium } from '../../adapters/fixtures/bpium-fixtures.adapter.js';
import { loadLibrary } from '../../cli/config.js';
import { createInProcessStarter, fixedClock, randomIds, runScenario, type EnginePorts } from '../../engine/index.js';
import { runWrite } from '../../server/run-record.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { repoPath } from '../helpers.js';

/** The webhook body as Bpium sends it: JSON on one line. */
export const articleBody = JSON.stringify(JSON.parse(readFileSync(repoPath('test', 'fixtures', 'record-created.json'), 'utf8')));

/** Runs the article's BpiumNewTask on `body` and records the run in a SQLite store of `dataDir`. */
export async function recordArticleRun(dataDir: string): Promise<string> {
  const { library, templates } = await loadLibrary(repoPath('scenarios'), undefined, 'Europe/Moscow');
  const ports: EnginePorts = {
    bpium: createFixtureBpium({ catalogs: { '3': { records: { '2': { '1': 'Иван Петров', '2': 'ivan.petrov@example.com' }, '3': { '1': 'Мария', '2': 'maria@example.org' } } } } }),
    templates,
    clock: fixedClock(new Date('2026-11-30T07:15:00Z')),
    ids: randomIds,
    asyncStarter: createInProcessStarter(randomIds, async () => {
      throw new Error('BpiumNewTask starts nothing');
    }),
  };
  const result = await runScenario(library, 'BpiumNewTask', { params: { 1: articleBody }, dryRun: true, timeZone: 'Europe/Moscow', ports });
  assert.equal(result.status, 'completed');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const store = await openSqliteStore({ file: join(dataDir, 'oktell.sqlite') });
  try {
    await store.recordRun(runWrite(result, { trigger: 'cli', params: { 1: articleBody } }));
  } finally {
    await store.close();
  }
  return result.runId;
}

