// `oktell-emu run`: the command line (arguments, options, help). What the command does is in ./run.js, imported
// when the command runs, so that other commands, --help and --version do not pay for loading it.
import { Command } from 'commander';
import { CONFIG_FILE_HELP, SCENARIOS_FOLDER_HELP } from '../help-texts.js';
import type { RunOpts } from './run.js';

export function runCommand(): Command {
  return new Command('run')
    .description('run a service scenario with input parameters; --dry-run sends no mail, makes no Bpium write, rolls back database changes and sends only GET/HEAD/OPTIONS web requests')
    .argument('<scenario>', 'scenario name (file name without .yaml) or path to a scenario file (its folder is then the scenarios folder)')
    .option('-p, --param <N=value>', 'input parameter N (repeatable); N=@file reads a file, N=@- standard input; N=@@text passes "@text"', collect, [])
    .option('--dry-run', 'no mail is sent, no Bpium write is made, database statements are rolled back, web requests other than GET/HEAD/OPTIONS are recorded, not sent; async starts are followed inline')
    .option('--json', 'print exactly one JSON object with the result')
    .option('-s, --scenarios <dir>', SCENARIOS_FOLDER_HELP)
    .option('--config <file>', CONFIG_FILE_HELP)
    .option('--bpium-fixtures <file>', 'answer Bpium reads from a fixture file instead of BPIUM_URL (a fake Bpium)')
    .option('--http-fixtures <file>', 'with --dry-run: answer WebRequest blocks from a fixture file (method + URL with * → status, headers, body)')
    .option('-d, --data-dir <dir>', 'data folder: the outbox, the embedded databases, the runs a live run records (default $OKTELL_DATA_DIR, dataDir: of the configuration file, or ./var)')
    .option('--no-trace', 'do not record the step trace')
    .option('--now <time>', 'with --dry-run: the time Now() gives during the run, e.g. 2024-03-15T18:05 or "15.03.2024 18:05" (wall time in the run\'s zone unless it ends in Z or +03:00)')
    .option('--tz <zone>', 'the run\'s time zone, an IANA name such as Asia/Yekaterinburg (default $OKTELL_TZ, else Europe/Moscow)')
    .action(async (name: string, opts: RunOpts) => (await import('./run.js')).runAction(name, opts));
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
