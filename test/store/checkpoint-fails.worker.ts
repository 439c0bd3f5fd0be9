// A checkpoint thread that breaks: it says it is ready, then answers its first checkpoint request by throwing, which
// ends the thread with an error in the middle of the prune (test/store/prune-checkpoints.test.ts).
import { parentPort } from 'node:worker_threads';

parentPort!.postMessage({ kind: 'ready' });
parentPort!.once('message', () => {
  throw new Error('the checkpoint thread broke on purpose');
});
