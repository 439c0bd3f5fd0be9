// `oktell-emu validate`: the command line (arguments, options, help). What the command does is in ./validate.js, imported
// when the command runs, so that other commands, --help and --version do not pay for loading it.
import { Command } from 'commander';
import { CONFIG_FILE_HELP, SCENARIOS_FOLDER_HELP } from '../help-texts.js';

export function validateCommand(): Command {
  return new Command('validate')
    .description('check scenario files (default: every scenario in the scenarios folder); exit 0 when all are valid')
    .argument('[paths...]', 'scenario files or folders')
    .option('-s, --scenarios <dir>', SCENARIOS_FOLDER_HELP)
    .option('--config <file>', CONFIG_FILE_HELP)
    .option('--json', 'print the problems as one JSON object')
    .option('-d, --data-dir <dir>', 'data folder whose databases the DbQuery statements are prepared against (default $OKTELL_DATA_DIR, dataDir: of the configuration file, or ./var), as run --data-dir uses it')
    .option('-w, --watch', 'keep running: validate again on every save of a scenario or template, print only what changed')
    .action(async (paths: string[], opts: { scenarios?: string; config?: string; json?: boolean; watch?: boolean; dataDir?: string }) => (await import('./validate.js')).validateAction(paths, opts));
}
