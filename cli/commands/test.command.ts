// `oktell-emu test`: the command line (arguments, options, help). What the command does is in ./test.js, imported
// when the command runs, so that other commands, --help and --version do not pay for loading it.
import { Command } from 'commander';
import type { TestOpts } from './test.js';
import { CONFIG_FILE_HELP, SCENARIOS_FOLDER_HELP } from '../help-texts.js';

export function testCommand(): Command {
  return new Command('test')
    .description('run the cases of scenario test files (default: <scenarios>/tests); exit 0 when all pass')
    .argument('[paths...]', 'test files (*.test.yaml) or folders holding them')
    .option('-s, --scenarios <dir>', SCENARIOS_FOLDER_HELP)
    .option('--config <file>', CONFIG_FILE_HELP)
    .option('--json', 'print one JSON object with every case')
    .option('--reporter <name>', 'text (default) or junit (JUnit XML on stdout, for CI servers)', 'text')
    .option('--filter <text>', 'run only the cases whose name or file contains this text')
    .option('--update', 'rewrite the expectations of the failing selected cases from what the scenarios do now')
    .option('--watch', 'run again whenever a scenario, template or test file changes (Ctrl+C to stop)')
    .option('--from-run <runId>', 'write a test case from a run the server recorded, then run it')
    .option('--name <name>', 'with --from-run: the name of the new case')
    .option('--out <file>', 'with --from-run: the test file to add the case to (default <scenarios>/tests/recorded.test.yaml)')
    .option('--against-runs', 'replay the runs the server recorded against the scenarios now and list those that would go otherwise (writes nothing)')
    .option('--scenario <name>', 'with --against-runs: the runs of this scenario, also those another run started (default: the runs nothing started: webhooks, Web-API calls, service tasks)')
    .option('--since <time>', 'with --against-runs: runs started at or after: an ISO time or 30m, 2h, 7d')
    .option('--status <status>', 'with --against-runs: completed or failed (default: both)')
    .option('-n, --limit <n>', 'with --against-runs: how many runs, newest first (default 100, at most 1000)')
    .option('-d, --data-dir <dir>', 'with --from-run or --against-runs: the server\'s data folder (default $OKTELL_DATA_DIR, dataDir: of the configuration file, or ./var); a PostgreSQL store is named by $OKTELL_STORE')
    .action(async (paths: string[], opts: TestOpts) => (await import('./test.js')).testAction(paths, opts));
}
