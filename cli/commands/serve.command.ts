// `oktell-emu serve`: the command line (arguments, options, help). What the command does is in ./serve.js, imported
// when the command runs, so that other commands, --help and --version do not pay for loading it.
import { Command } from 'commander';
import { SCENARIOS_FOLDER_HELP } from '../help-texts.js';
import type { ServeOpts } from './serve.js';

export function serveCommand(): Command {
  return new Command('serve')
    .description("start the emulated Oktell web server (HTTP404 hook, Web-API, durable job queue)")
    .option('--port <port>', 'port (default $OKTELL_PORT, port: of the configuration file, or 4055)')
    .option('--host <host>', 'address to listen on (default $OKTELL_HOST, host: of the configuration file, or 0.0.0.0)')
    .option('-s, --scenarios <dir>', SCENARIOS_FOLDER_HELP)
    .option('-d, --data-dir <dir>', 'data folder (default $OKTELL_DATA_DIR, dataDir: of the configuration file, or ./var)')
    .option('--config <file>', 'configuration file (default $OKTELL_CONFIG or ./oktell.config.yaml)')
    .option('--bpium-emulator-port <port>', 'port of the embedded Bpium emulator, which then starts even if no scenario has a Bpium block (default $BPIUM_EMULATOR_PORT, bpiumEmulatorPort: of the configuration file, or 4056; with --port 0, a port the OS picks, as for the server)')
    .action(async (o: ServeOpts) => (await import('./serve.js')).serveAction(o));
}
