// A server edited for weeks: every saved edit of a scenario is a new version, kept for pinned replays. The versions
// no scenario runs any more are bounded (KEPT_VERSIONS); the running ones and the newest others stay available.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createScenarioHost, KEPT_VERSIONS } from '../../server/scenario-host.js';
import { tempDir } from '../helpers.js';

const scenario = (answer: string) => `start: begin
blocks:
  begin:
    kind: Start
    exits: { next: answer }
  answer:
    kind: ReturnValue
    values:
      1: '"${answer}"'
`;

test('the versions a host keeps for pinned replays stay bounded however often a scenario is edited', { timeout: 120_000 }, async () => {
  const dir = tempDir();
  try {
    const folder = join(dir.dir, 'scenarios');
    mkdirSync(folder);
    writeFileSync(join(folder, 'Other.yaml'), scenario('other'));
    writeFileSync(join(folder, 'Edited.yaml'), scenario('v0'));
    const host = await createScenarioHost(folder, { watch: false, timeZone: 'UTC' });
    const other = host.library().scenarios.get('Other')!.version;
    const seen: string[] = [host.library().scenarios.get('Edited')!.version];
    const edits = KEPT_VERSIONS + 100;
    for (let i = 1; i <= edits; i++) {
      writeFileSync(join(folder, 'Edited.yaml'), scenario(`v${i}`));
      await host.reload();
      seen.push(host.library().scenarios.get('Edited')!.version);
    }
    assert.equal(new Set(seen).size, edits + 1, 'each edit is a version of its own');
    const kept = seen.filter((v) => host.libraryWithVersion('Edited', v) !== undefined);
    // The running version and at most KEPT_VERSIONS others (Other's running version is not among them).
    assert.ok(kept.length <= KEPT_VERSIONS + 1, `${kept.length} versions of Edited kept after ${edits} edits`);
    // The newest are the ones kept: the running one, and the one before it for a replay pinned to it.
    assert.deepEqual(kept, seen.slice(seen.length - kept.length));
    assert.ok(kept.length >= 2);
    // A scenario never edited keeps its running version whatever the others' edits.
    assert.equal(host.libraryWithVersion('Other', other)?.scenarios.get('Other')?.version, other);
    host.close();
  } finally {
    dir.cleanup();
  }
});
