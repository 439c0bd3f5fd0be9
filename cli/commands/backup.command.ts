// `oktell-emu backup <file>`: the command line (arguments, options, help). What the command does is in ./backup.js,
// imported when the command runs, so that other commands, --help and --version do not pay for loading it.
import { Command } from 'commander';
import { CONFIG_FILE_HELP, STORE_DATA_DIR_HELP } from '../help-texts.js';

export function backupCommand(): Command {
  return new Command('backup')
    .description('write a consistent copy of the SQLite store (oktell.sqlite) to <file>, also while the server runs; with a PostgreSQL store, print the pg_dump command to use')
    .argument('<file>', 'the copy to write (its folder must exist); an existing file is refused unless --force')
    .option('--force', 'replace <file> when it exists')
    .option('--json', 'print what was copied as one JSON object')
    .option('--config <file>', CONFIG_FILE_HELP)
    .option('-d, --data-dir <dir>', STORE_DATA_DIR_HELP)
    .action(async (file: string, o: { force?: boolean; json?: boolean; dataDir?: string; config?: string }) => (await import('./backup.js')).backupAction(file, o));
}
