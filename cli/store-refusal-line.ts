// The one line a command prints when the store refuses its call (a full disk, a lock held too long, no connection
// slot): what was refused (a read or a write), the store's own words and, where the cause is known, what to do.
import type { StoreUnavailableError } from '../server/store/store.errors.js';
import { freeSpaceHint } from './shell-word.js';
import { noConnectionSlotHint } from '../server/store/store-open.js';

/** The line (without the `oktell-emu: ` prefix) for a store refusal. */
export function storeRefusalLine(e: StoreUnavailableError): string {
  const what = e.read ? `the store did not answer the read (${e.reason})` : `the store refuses the write (${e.reason})`;
  return `${what}: ${e.message}${storeRefusalFix(e)}`;
}

function storeRefusalFix(e: StoreUnavailableError): string {
  // SQLite's bare words for a full disk name no place and no way out: the disk holding the store (or the quota), named
  // by its data folder, quoted for the shell in the df commands, as the server's line names it (store-refusal.ts).
  if (e.reason === 'full' && /SQLITE_FULL/.test(e.message) && !/quota|OKTELL_STORE_MAX_PAGES/.test(e.message)) {
    const tail = e.read ? '' : '; nothing of it was stored';
    if (e.dataDir) return `: the disk holding the data folder ${e.dataDir} is full (or the store is at OKTELL_STORE_MAX_PAGES): ${freeSpaceHint(e.dataDir)} and run the command again${tail}`;
    return `: the disk holding the store is full (or the store is at OKTELL_STORE_MAX_PAGES): free space there (df -h on the data folder for room, df -i for files) and run the command again${tail}`;
  }
  if (/\(55P03\)/.test(e.message)) {
    return "; another PostgreSQL session holds a lock on the store's tables (LOCK TABLE, a long transaction): SELECT pid, state, query FROM pg_stat_activity WHERE pid IN (SELECT unnest(pg_blocking_pids(pid)) FROM pg_stat_activity) names it while something waits for it; end that transaction and run the command again";
  }
  if (/\(53300\)/.test(e.message)) {
    return `; ${noConnectionSlotHint(e.message)}, and run the command again`;
  }
  return '';
}
