// The scenario versions a job's effect journal records, and the retry that stops before its first effect when the
// scenario was edited so that the journal could miss what an earlier attempt did (a renamed effect block). The case
// of the operator trial s33 (finding 9): a letter left pending by a cut-off attempt, the block renamed by an upgrade.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultRegistry } from '../../components/registry.js';
import { createInProcessStarter } from '../../engine/in-process-starter.js';
import { loadScenarioLibrary, randomIds, runScenario, systemClock, type EffectJournalPort, type JsonValue, type MailerPort, type RunResult, type ScenarioLibrary } from '../../engine/index.js';
import { scenarioShape, VERSIONS_KEY } from '../../engine/journal-versions.js';
import { tempDir } from '../helpers.js';

const V1 = `start: notify
blocks:
  notify:
    kind: SendMail
    to: '"ivan@example.com"'
    subject: '"письмо"'
    text: '"t"'
    exits: { success: done }
  done:
    kind: ReturnValue
    values: { 1: '"sent"' }
`;
const RENAMED = V1.replace('start: notify', 'start: notifyMail').replace('  notify:\n', '  notifyMail:\n');
const RETEXTED = V1.replace(`'"sent"'`, `'"sent v2"'`);

async function library(text: string): Promise<ScenarioLibrary> {
  const t = tempDir();
  try {
    writeFileSync(join(t.dir, 'Letter.yaml'), text);
    const lib = await loadScenarioLibrary(t.dir, { registry: defaultRegistry });
    assert.deepEqual(lib.issues, []);
    return lib;
  } finally {
    t.cleanup();
  }
}

/** A journal in memory, written at once (as the store's own port is). */
function memoryJournal(): EffectJournalPort & { entries: Map<string, JsonValue> } {
  const entries = new Map<string, JsonValue>();
  return {
    entries,
    get: async (run, step) => entries.get(`${run}|${step}`),
    put: async (run, step, value) => void entries.set(`${run}|${step}`, value),
  };
}

/** A mailer that counts letters; `cutOff`: the letter is handed over, marked pending, and the attempt dies waiting. */
function mailer(cutOff: boolean): MailerPort & { sent: number } {
  const m = {
    sent: 0,
    async send(_message: unknown, opts?: { onOutcomePending?(p: { messageId: string }): void }) {
      m.sent++;
      if (cutOff) {
        opts?.onOutcomePending?.({ messageId: '<1@test>' });
        // Not an EffectError: as a process killed in the wait leaves it, the mark stays.
        throw new Error('the process was cut off');
      }
      return { messageId: `<${m.sent}@test>`, transport: 'smtp' };
    },
  };
  return m;
}

function run(lib: ScenarioLibrary, journal: EffectJournalPort, mail: MailerPort, epoch = 0): Promise<RunResult> {
  return runScenario(lib, 'Letter', {
    journalKey: 'job-1',
    journalEpoch: epoch,
    ports: { journal, mailer: mail, clock: systemClock, ids: randomIds, asyncStarter: createInProcessStarter(randomIds, () => Promise.reject(new Error('none'))) },
  });
}

describe('a retry after its scenario was edited', () => {
  it('does not send a letter left pending again when the upgrade renamed its block (trial s33, finding 9)', async () => {
    const v1 = await library(V1);
    const v2 = await library(RENAMED);
    const journal = memoryJournal();
    const first = await run(v1, journal, mailer(true));
    assert.equal(first.status, 'failed');
    assert.deepEqual(journal.entries.get(`job-1|${VERSIONS_KEY}`), { epoch: 0, scenarios: { Letter: [first.version, scenarioShape(v1.scenarios.get('Letter')!)] } }, 'recorded with the mark');

    const retry = mailer(false);
    const second = await run(v2, journal, retry);
    assert.equal(retry.sent, 0, 'the letter is not sent a second time');
    assert.equal(second.status, 'failed');
    assert.equal(second.error?.code, 'R_SCENARIO_CHANGED');
    assert.equal(second.error?.retryable, false);
    assert.match(second.error!.message, new RegExp(`Letter \\(version ${first.version} then, ${v2.scenarios.get('Letter')!.version} now\\)`));

    // A replay (the job's replay count, the journal's epoch, is 1 now) is the operator's decision: it runs.
    const replay = mailer(false);
    const third = await run(v2, journal, replay, 1);
    assert.equal(third.status, 'completed');
    assert.equal(replay.sent, 1);
  });

  it('still stops at the pending mark when the edit changed what the blocks say only', async () => {
    const journal = memoryJournal();
    await run(await library(V1), journal, mailer(true));
    const retry = mailer(false);
    const second = await run(await library(RETEXTED), journal, retry);
    assert.equal(retry.sent, 0);
    assert.equal(second.error?.code, 'R_EFFECT_UNKNOWN', 'the mark found by the unchanged block id, as before');
  });

  it('records the version beside the outcome of an effect made', async () => {
    const journal = memoryJournal();
    const ok = await run(await library(V1), journal, mailer(false));
    assert.equal(ok.status, 'completed');
    assert.deepEqual([...journal.entries.keys()].sort(), [`job-1|${VERSIONS_KEY}`, 'job-1|Letter:notify#1']);
  });
});
