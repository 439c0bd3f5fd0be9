// How the effect journal is read for one step: its outcome first, else a pending mark under the mark's own key, or a
// mark the build of 2026-12-02 kept at the step's own key; a mark older than the job's latest replay stops nothing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { markKey, readJournal, type JournalRead } from '../../engine/pending-effects.js';
import type { JsonValue } from '../../engine/index.js';

const STEP = 'BpiumNewTask:notify#1';
const pending = (epoch: number) => ({ $effect: 'pending', epoch, detail: { messageId: '<a@b>' } });

const cases: Array<{ name: string; journal: Record<string, JsonValue>; epoch?: number; want: JournalRead }> = [
  { name: 'nothing written', journal: {}, want: { kind: 'none' } },
  { name: 'an outcome', journal: { [STEP]: { messageId: '<a@b>' } }, want: { kind: 'outcome', value: { messageId: '<a@b>' } } },
  { name: 'a mark under its own key', journal: { [markKey(STEP)]: pending(0) }, want: { kind: 'pending', detail: { messageId: '<a@b>' } } },
  { name: 'an outcome beside its mark wins', journal: { [STEP]: { messageId: '<a@b>' }, [markKey(STEP)]: pending(0) }, want: { kind: 'outcome', value: { messageId: '<a@b>' } } },
  { name: 'a withdrawn mark', journal: { [markKey(STEP)]: { $effect: 'not-made' } }, want: { kind: 'none' } },
  { name: 'a mark from before the latest replay', journal: { [markKey(STEP)]: pending(0) }, epoch: 1, want: { kind: 'none' } },
  { name: "a mark at the step's own key (the build of 2026-12-02)", journal: { [STEP]: pending(2) }, epoch: 2, want: { kind: 'pending', detail: { messageId: '<a@b>' } } },
  { name: "a withdrawal at the step's own key (the build of 2026-12-02)", journal: { [STEP]: { $effect: 'not-made' } }, want: { kind: 'none' } },
  { name: 'an outcome under the mark key is no mark', journal: { [markKey(STEP)]: 'sent' }, want: { kind: 'none' } },
];

describe('reading the effect journal for a step', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const asked: string[] = [];
      const got = await readJournal(async (k) => (asked.push(k), c.journal[k]), STEP, c.epoch ?? 0);
      assert.deepEqual(got, c.want);
      assert.equal(asked[0], STEP, "the step's own key is read first");
    });
  }

  it("the mark's key differs from every step key (an older build reading the step's key never sees it)", () => {
    assert.notEqual(markKey(STEP), STEP);
    assert.doesNotMatch(markKey(STEP), /#\d+$/, 'step keys end in #<visit>');
  });
});
