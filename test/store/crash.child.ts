// Child process for the crash test: appends requests with jobs as fast as it can and prints each id once stored.
// Run as `node crash.child.js <db file>`; the parent kills it with SIGKILL in the middle. Without an argument it exits.
import { openSqliteStore } from '../../server/store/sqlite.store.js';

async function main(file: string): Promise<void> {
  const store = await openSqliteStore({ file });
  let n = 0;
  // Keeps many appends in flight, as a busy server does; each line is written only after its promise resolved.
  const worker = async (): Promise<never> => {
    for (;;) {
      const i = n++;
      const r = await store.recordRequest({
        inbox: {
          receivedAt: Date.now(),
          method: 'POST',
          path: `/hook/bpium?i=${i}`,
          headers: 'content-type: application/json',
          body: Buffer.from(JSON.stringify({ i, pad: 'x'.repeat(200) })),
          signature: 'valid',
          dedupKey: `crash:${i}`,
        },
        jobs: [{ scenario: 'Crash', params: { i } }],
      });
      if (r.duplicate) throw new Error('unexpected duplicate');
      // Pipes are written synchronously on Linux, so a printed line left this process before the next commit.
      process.stdout.write(`${r.inboxId} ${r.jobIds[0]} ${i}\n`);
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
}

const file = process.argv[2];
if (file) {
  main(file).catch((err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  });
}
