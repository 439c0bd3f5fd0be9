// One word of a shell command line, for the commands the CLI and the server print for the user to paste.

/** `text` as one word of a shell command line: as it is when plain, else in single quotes. */
export function shellWord(text: string): string {
  return /^[\w./:@%+=,-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** What to do about a full disk, with the command that shows it for `dir` (quoted, so that it pastes as it is). */
export function freeSpaceHint(dir: string): string {
  return `free space there (df -h ${shellWord(dir)})`;
}
