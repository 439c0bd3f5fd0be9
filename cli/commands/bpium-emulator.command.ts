// `oktell-emu bpium-emulator`: the command line (arguments, options, help). What the command does is in ./bpium-emulator.js, imported
// when the command runs, so that other commands, --help and --version do not pay for loading it.
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_EMULATOR_PORT } from '../../bpium-emulator/default-port.js';
import type { BpiumEmulatorCommandIo, BpiumEmulatorFlags } from './bpium-emulator.js';
import { EMULATOR_DATA_DIR_HELP } from '../help-texts.js';

/** `bpium-emulator [--port P] [--host H] [--data-dir D] [--seed F] [--webhook-url U --webhook-secret S]`. */
export function bpiumEmulatorCommand(io: BpiumEmulatorCommandIo = {}): Command {
  return new Command('bpium-emulator')
    .description('run a local Bpium emulator: REST API /api/v1 with demo data and webhooks to the Oktell server')
    .option('--port <port>', `port (default $BPIUM_EMULATOR_PORT or ${DEFAULT_EMULATOR_PORT})`, portNumber)
    // `-p` is `--param` elsewhere (run); here it was --port. Still read so, with a warning, but no longer listed.
    .addOption(new Option('-p <port>', 'deprecated: use --port').argParser(portNumber).hideHelp())
    .option('--host <host>', 'address to listen on (default 127.0.0.1)')
    .option('-d, --data-dir <dir>', EMULATOR_DATA_DIR_HELP)
    .option('--seed <file>', 'YAML seed used when the database is new (default bpium-emulator/seed.yaml)')
    .option('--webhook-url <url>', 'the Oktell server the seed webhooks written as a path post to (its origin and credentials; each keeps its path) (default $BPIUM_EMULATOR_WEBHOOK_URL or http://127.0.0.1:4055)')
    .option('--webhook-secret <secret>', 'signing secret for those webhooks (default $BPIUM_WEBHOOK_SECRET)')
    .action(async (flags: BpiumEmulatorFlags) => (await import('./bpium-emulator.js')).bpiumEmulatorAction(io, flags));
}

export function portNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number 0-65535');
  return n;
}
