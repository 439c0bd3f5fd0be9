// A file with many control characters (a scenario saved as UTF-16 holds a NUL for every ASCII letter; here a comment
// full of them, so the file still loads) is read in a bounded time, with one warning per character naming how many
// more places hold it. The places were gathered by copying the list
// at each one, so a 40 KB file took a minute and this one would take hours. The load runs in a worker thread, ended
// if it has not answered long after a load takes: a synchronous loop cannot be cut by the test's own timeout, and the
// bound is far above any machine's time for the load, not a duration measured.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';

const worker = `
  const { parentPort, workerData } = require('node:worker_threads');
  (async () => {
    const { defaultRegistry } = await import(workerData.registry);
    const { loadScenarioText } = await import(workerData.engine);
    const text = 'start: s\\n# ' + 'abcd\\0'.repeat(210000) + '\\nblocks: { s: { kind: Stop } }\\n';
    const r = loadScenarioText('/tmp/Many.yaml', text, { registry: defaultRegistry });
    const issues = r.ok ? r.scenario.textWarnings : r.issues;
    parentPort.postMessage({ ok: r.ok, issues: issues.map((i) => [i.code, i.line, i.col, i.message]) });
  })();
`;

describe('a scenario file with many control characters', () => {
  it('is read in a bounded time, naming each character once with the count of its places', { timeout: 120_000 }, async () => {
    const w = new Worker(worker, {
      eval: true,
      workerData: { registry: new URL('../../components/registry.js', import.meta.url).href, engine: new URL('../../engine/index.js', import.meta.url).href },
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      const got = await Promise.race([
        new Promise<{ ok: boolean; issues: unknown[] }>((resolve, reject) => {
          w.once('message', resolve);
          w.once('error', reject);
        }),
        new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), 60_000))),
      ]);
      assert.ok(got, 'the load of the file answered');
      // In a comment the NULs leave the file loadable: it loads, with one warning per character.
      assert.equal(got.ok, true);
      assert.deepEqual(got.issues, [['E_YAML_SYNTAX', 2, 7, 'the file holds a NUL character (U+0000), which editors do not show (here and in 209999 more place(s))']]);
    } finally {
      clearTimeout(timer);
      await w.terminate();
    }
  });
});
