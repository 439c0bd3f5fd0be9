// The server reads its scenarios while the store opens (readScenarios) and hands the read to the scenario host, which
// reports what it found. A read started early must neither report anything itself nor fail on its own: whatever it
// found, a problem or a read that failed, comes out of createScenarioHost, the step that reported it before.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createScenarioHost, readScenarios } from '../../server/scenario-host.js';
import { tempDir } from '../helpers.js';
import { capturingLogger } from './server-helpers.js';

const tmp = tempDir('oktell-scenario-read-');
after(() => tmp.cleanup());

describe('scenarios read ahead of the scenario host', () => {
  it('a read that fails is reported by the host, not as an unhandled rejection in the meantime', async () => {
    const missing = join(tmp.dir, 'no-such-folder');
    const unhandled: unknown[] = [];
    const note = (e: unknown) => void unhandled.push(e);
    process.on('unhandledRejection', note);
    try {
      const read = readScenarios(missing, { timeZone: 'UTC' });
      // Other start steps run meanwhile (the store opens); the failed read waits for the host.
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(unhandled, []);
      await assert.rejects(createScenarioHost(missing, { timeZone: 'UTC', watch: false, firstRead: read }), { code: 'ENOENT' });
    } finally {
      process.off('unhandledRejection', note);
    }
  });

  it('the host reports the problems of the read it is given, and keeps its valid scenarios', async () => {
    const dir = join(tmp.dir, 'scenarios');
    mkdirSync(dir);
    writeFileSync(join(dir, 'Broken.yaml'), 'name: Broken\nblocks:\n  - bogus: 1\n');
    writeFileSync(join(dir, 'Fine.yaml'), 'start: s\nblocks:\n  s: { kind: Stop }\n');
    const read = readScenarios(dir, { timeZone: 'UTC' });
    await read.done;
    const { lines, logger } = capturingLogger();
    const host = await createScenarioHost(dir, { timeZone: 'UTC', watch: false, logger, firstRead: read });
    try {
      assert.deepEqual([...host.names()].sort(), ['Broken', 'Fine']);
      assert.ok(host.library().scenarios.has('Fine'), JSON.stringify(host.issues()));
      assert.ok(!host.library().scenarios.has('Broken'));
      const errors = lines.filter((l) => l.level === 'error');
      assert.ok(errors.length > 0 && errors.every((l) => l.obj.file === 'Broken.yaml'), JSON.stringify(lines));
      assert.equal(host.templates, read.templates);
    } finally {
      host.close();
    }
  });

  it('a read of another folder is refused', async () => {
    const read = readScenarios(join(tmp.dir, 'scenarios'), { timeZone: 'UTC' });
    await read.done;
    await assert.rejects(createScenarioHost(join(tmp.dir, 'other'), { timeZone: 'UTC', watch: false, firstRead: read }), /given to the host of/);
  });
});
