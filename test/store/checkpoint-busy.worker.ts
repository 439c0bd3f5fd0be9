// A fake checkpoint thread (no connection of its own): its first answer says the WAL is past any limit, every later
// one is SQLite's -1, a checkpoint that could not run because another connection was making one. The prune must not
// read -1 as "caught up" (test/store/prune-checkpoints.test.ts).
import { parentPort } from 'node:worker_threads';

const port = parentPort!;
let answers = 0;
port.postMessage({ kind: 'ready' });
port.on('message', (m: { kind: string }) => {
  if (m.kind === 'stop') {
    port.close();
    return;
  }
  const log = answers++ === 0 ? 1_000_000 : -1;
  port.postMessage({ kind: 'done', log, checkpointed: log });
});
