// Files that hold secrets (the SQLite stores keep webhook bodies, secrets and credentials) are created readable by
// their owner only, whatever the umask; SQLite then gives its -wal and -shm files the same mode.
import { closeSync, openSync } from 'node:fs';

/** Creates `file` empty with mode 0600 unless it exists already (an existing file keeps its mode). */
export function createPrivateFile(file: string): void {
  try {
    closeSync(openSync(file, 'wx', 0o600));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}
