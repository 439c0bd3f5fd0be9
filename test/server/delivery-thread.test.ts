// The delivery thread: jobs run off the main thread (or on it with OKTELL_DELIVERY_THREAD=off), their log lines reach
// the server's logger, an edit of a scenario reaches the thread's copy, and the article's letter still arrives.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadServerConfig } from '../../server/config.js';
import type { ThreadedPool } from '../../server/delivery/threaded-pool.js';
import { COMPACT_THREAD_YOUNG_GENERATION_MB } from '../../server/heap.js';
import { capturingLogger, parsedLetters, postWebhook, runAsyncJob, startTestServer, taskWebhook, waitFor } from './server-helpers.js';

const echo = (text: string) => `start: r
blocks:
  r:
    kind: ReturnValue
    values: { 1: '"${text}"' }
`;


const modes: Array<{ name: string; env: Record<string, string>; worker: RegExp }> = [
  { name: 'on a delivery thread (OKTELL_DELIVERY_THREAD=on)', env: { OKTELL_DELIVERY_THREAD: 'on' }, worker: /^[^:]+:\d+\/t\d+:[0-9a-f]{8}$/ },
  { name: 'on the main thread (the default)', env: {}, worker: /^[^:]+:\d+:[0-9a-f]{8}$/ },
];

describe('the delivery thread', () => {
  for (const mode of modes) {
    it(`jobs run ${mode.name}: the letter arrives, logs reach the server's logger, edits reach the running copy`, { timeout: 30_000 }, async () => {
      const { lines, logger } = capturingLogger();
      const t = await startTestServer({ watch: true, env: mode.env, logger, extraScenarios: { 'Echo.yaml': echo('one') } });
      try {
        // The article's flow: the webhook's job sends the letter.
        const res = await postWebhook(t.server.url, taskWebhook({ name: 'Отчёт через поток', responsible: ['2'] }), t.secret);
        assert.equal(res.status, 200);
        await waitFor('the letter', () => t.smtp!.letters.length === 1);
        const [letter] = await parsedLetters(t.smtp!);
        assert.match(letter!.subject ?? '', /Отчёт через поток/);

        const runAsync = () => runAsyncJob(t, 'Echo');
        const first = await runAsync();
        assert.deepEqual(first.returnValues, { '1': 'one' });
        assert.match(first.workerId ?? '', mode.worker, `worker id ${first.workerId}`);
        // A thread's log lines travel by message and may land just after the job's row says it finished.
        const completed = await waitFor('the job log line to reach the logger given to startServer', () =>
          lines.find((l) => l.level === 'info' && l.obj.runId === first.id),
        );
        assert.equal(completed.msg, 'run Echo completed');

        writeFileSync(join(t.scenariosDir, 'Echo.yaml'), echo('two'));
        const v2 = await waitFor('the main thread to load the edit', () => {
          const v = t.server.host.library().scenarios.get('Echo')!.version;
          return v !== first.version ? v : undefined;
        });
        const second = await waitFor('a job to run the edited version', async () => {
          const run = await runAsync();
          return run.version === v2 ? run : undefined;
        });
        assert.deepEqual(second.returnValues, { '1': 'two' });
      } finally {
        await t.cleanup();
      }
    });
  }

  it('OKTELL_HEAP sizes the delivery thread: compact (the default) caps its young generation, v8 leaves V8 to size it', { timeout: 30_000 }, async () => {
    const cases: Array<{ env: Record<string, string>; young: (mb: number | undefined) => boolean; what: string }> = [
      { env: {}, young: (mb) => mb === COMPACT_THREAD_YOUNG_GENERATION_MB, what: `${COMPACT_THREAD_YOUNG_GENERATION_MB} MB` },
      { env: { OKTELL_HEAP: 'compact' }, young: (mb) => mb === COMPACT_THREAD_YOUNG_GENERATION_MB, what: `${COMPACT_THREAD_YOUNG_GENERATION_MB} MB` },
      // V8's own young generation on a 64-bit machine is larger than the compact cap.
      { env: { OKTELL_HEAP: 'v8' }, young: (mb) => mb !== undefined && mb > COMPACT_THREAD_YOUNG_GENERATION_MB, what: 'above the cap' },
    ];
    for (const c of cases) {
      const t = await startTestServer({ env: { OKTELL_DELIVERY_THREAD: 'on', ...c.env } });
      try {
        const limits = (t.server.workers as ThreadedPool).resourceLimits();
        assert.ok(c.young(limits?.maxYoungGenerationSizeMb), `${JSON.stringify(c.env)}: young generation ${limits?.maxYoungGenerationSizeMb} MB, expected ${c.what}`);
        assert.equal(t.server.config.heap, c.env.OKTELL_HEAP ?? 'compact');
      } finally {
        await t.cleanup();
      }
    }
  });

  it('OKTELL_HEAP takes compact or v8 and refuses anything else', () => {
    const read = (env: Record<string, string>) => loadServerConfig({}, env).heap;
    assert.equal(read({}), 'compact');
    assert.equal(read({ OKTELL_HEAP: ' V8 ' }), 'v8');
    assert.equal(read({ OKTELL_HEAP: '' }), 'compact');
    assert.throws(() => read({ OKTELL_HEAP: 'small' }), /OKTELL_HEAP="small" must be compact .* or v8/);
  });

  it('OKTELL_DELIVERY_THREAD takes on/off words and refuses anything else', () => {
    const read = (v: string | undefined) => loadServerConfig({}, v === undefined ? {} : { OKTELL_DELIVERY_THREAD: v }).workers.thread;
    assert.equal(read(undefined), false, 'off by default: one thread costs less CPU and memory per letter');
    for (const v of ['1', 'on', 'true', 'YES']) assert.equal(read(v), true, v);
    for (const v of ['0', 'off', 'false', 'no']) assert.equal(read(v), false, v);
    assert.throws(() => read('sometimes'), /OKTELL_DELIVERY_THREAD="sometimes" must be on or off/);
  });
});
