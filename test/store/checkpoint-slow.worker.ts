// A fake checkpoint thread (no connection of its own) whose checkpoints never catch up, and whose seventh answer, to
// the checkpoint the prune makes with the store's commits held back (the first answer, then CATCH_UP_ROUNDS rounds),
// comes long after the hold has let go; every later answer says the WAL is empty. The main connection must not
// checkpoint while the thread's checkpoint is still under way (test/store/prune-checkpoints.test.ts).
import { parentPort } from 'node:worker_threads';
import { CATCH_UP_ROUNDS, HOLD_MS } from '../../server/store/prune-checkpoints.js';

const port = parentPort!;
let answers = 0;
port.postMessage({ kind: 'ready' });
port.on('message', (m: { kind: string }) => {
  if (m.kind === 'stop') {
    port.close();
    return;
  }
  const n = ++answers;
  if (n === CATCH_UP_ROUNDS + 2) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10 * HOLD_MS);
  const log = n <= CATCH_UP_ROUNDS + 1 ? 1_000_000 + n : 0;
  port.postMessage({ kind: 'done', log, checkpointed: 0 });
});
