// One word of a shell command line, for the commands the CLI and the server print for the user to paste.

/** `text` as one word of a shell command line: as it is when plain, else in single quotes. */
export function shellWord(text: string): string {
  return /^[\w./:@%+=,-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * What to do about a full disk, with the commands that show it for `dir` (quoted, so that they paste as they are): a
 * disk runs out of blocks (df -h) or of files (df -i, inodes), and either refuses a write with the same ENOSPC.
 */
export function freeSpaceHint(dir: string): string {
  const d = shellWord(dir);
  return `free space there (df -h ${d} for room, df -i ${d} for files)`;
}

/** What to do about a quota the user has used up (EDQUOT): the disk itself may have room, so df tells nothing. */
export function quotaHint(): string {
  return `free some of this user's files on that disk or have its quota raised (quota -s shows it; df does not)`;
}

/**
 * The disk holding `dir` refused a write for lack of room, by the errno that said so: `EDQUOT` is this user's quota,
 * anything else (ENOSPC, SQLite's SQLITE_FULL) the disk itself.
 */
export function noRoomLine(dir: string, code: string | undefined): string {
  return code === 'EDQUOT' ? `the disk quota of this user is exceeded on the disk holding ${dir}: ${quotaHint()}` : `the disk holding ${dir} is full: ${freeSpaceHint(dir)}`;
}
