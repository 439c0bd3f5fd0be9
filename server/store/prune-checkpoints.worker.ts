// The thread that checkpoints the SQLite store's WAL while a prune runs (see prune-checkpoints.ts). It has its own
// connection to the file and answers each request with one PASSIVE checkpoint: PASSIVE takes no lock a writer waits
// for, so the main thread goes on committing meanwhile.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { CheckpointAnswer, CheckpointRequest } from './prune-checkpoints.js';

const { file } = workerData as { file: string };
const db = new Database(file, { fileMustExist: true });
const port = parentPort!;
port.postMessage({ kind: 'ready' } satisfies CheckpointAnswer);
port.on('message', (m: CheckpointRequest) => {
  if (m.kind === 'stop') {
    db.close();
    port.close();
    return;
  }
  // An error is not caught: the thread ends with it, and the main thread checkpoints again itself.
  const row = (db.pragma('wal_checkpoint(PASSIVE)') as Array<{ busy: number; log: number; checkpointed: number }>)[0]!;
  const answer: CheckpointAnswer = { kind: 'done', log: row.log, checkpointed: row.checkpointed };
  port.postMessage(answer);
});
