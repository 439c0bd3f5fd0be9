// A store that cannot take a started job (full, locked, closed) is a passing condition: the AsyncScenario block that
// asked for the start fails as a retryable effect, never as an internal error that a job would not retry.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { defaultRegistry } from '../../components/registry.js';
import { fixedClock, loadScenarioText, randomIds, runScenario, type Scenario, type ScenarioLibrary } from '../../engine/index.js';
import { enqueueingStarter } from '../../server/starters.js';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { tempDir } from '../helpers.js';

const CHILD = `start: done
blocks:
  done: { kind: Stop }
`;

const PARENT = `start: start
blocks:
  start:
    kind: AsyncScenario
    scenario: Child
    exits: { next: done }
  done: { kind: Stop }
`;

function library(): ScenarioLibrary {
  const scenarios = new Map<string, Scenario>();
  for (const [name, text] of [['Parent', PARENT], ['Child', CHILD]] as const) {
    const loaded = loadScenarioText(`${name}.yaml`, text, { registry: defaultRegistry });
    assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.issues));
    scenarios.set(name, (loaded as { scenario: Scenario }).scenario);
  }
  return { dir: '.', scenarios, issues: [] };
}

describe('enqueueingStarter when the store refuses the job', () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  async function runWithClosedStore() {
    const store = await openSqliteStore({ file: path.join(tmp.dir, 'closed.sqlite') });
    await store.close();
    const starter = enqueueingStarter(randomIds, store, { test: true }, undefined, { byRunningJob: true });
    return runScenario(library(), 'Parent', { ports: { clock: fixedClock(new Date('2026-12-02T09:00:00Z')), ids: randomIds, asyncStarter: starter } });
  }

  it('fails the run as a retryable effect failure that names the store, not as an internal error', async () => {
    const r = await runWithClosedStore();
    assert.equal(r.status, 'failed');
    assert.equal(r.error?.code, 'R_EFFECT_TRANSIENT');
    assert.equal(r.error?.retryable, true);
    assert.match(r.error!.message, /the store could not queue "Child": the store is closed/);
  });
});
