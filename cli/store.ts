// The server's store, opened by the commands that read or queue into it (runs, show, replay, tasks, test --from-run,
// a live run's record), from the same configuration the server reads.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { openSqliteStore } from '../server/store/sqlite.store.js';
import type { Store } from '../server/store/store.port.js';
import { existingDataDir, serverSettings, type ServerFlags, type ServerSettings } from './config.js';

/**
 * The store the server uses, from the same configuration (`serverSettings`): PostgreSQL when OKTELL_STORE or the config
 * file's `store:` names one, else the SQLite file in the data folder (--data-dir, OKTELL_DATA_DIR, `dataDir:`), which
 * must exist (exit 2 otherwise). A command that only reads passes `noStore`: when the folder has no store file yet,
 * that is its answer, and no file is created just to be read. Jobs queued through it (`tasks run`) get the attempts
 * the server gives its own (workers.maxAttempts, OKTELL_MAX_ATTEMPTS), not the store's built-in default. A command
 * that has read the configuration already passes it as `config`; `fn` gets it either way.
 */
export async function withStore<T>(
  flags: ServerFlags,
  fn: (store: Store, config: ServerSettings) => Promise<T>,
  noStore?: (folder: string) => T | Promise<T>,
  config: ServerSettings = serverSettings(flags),
): Promise<T> {
  let store: Store;
  const defaultMaxAttempts = config.workers.maxAttempts;
  if (config.store.kind === 'postgres') {
    store = await (await import('../server/store/postgres.store.js')).openPostgresStore({ url: config.store.url, defaultMaxAttempts });
  } else {
    const file = join(existingDataDir(config.dataDir), 'oktell.sqlite');
    if (noStore && !existsSync(file)) return noStore(dirname(file));
    store = await openSqliteStore({ file, defaultMaxAttempts });
  }
  try {
    return await fn(store, config);
  } finally {
    await store.close();
  }
}
