// `oktell-emu demo`: the command line (arguments, options, help). What the command does is in ./demo.js, imported
// when the command runs, so that other commands, --help and --version do not pay for loading it.
import { Command } from 'commander';
import type { DemoCommandIo } from './demo.js';
import { CONFIG_FILE_HELP, SERVER_DATA_DIR_HELP } from '../help-texts.js';

/** `demo [--title T] [--description D] [--responsible ID] [--data-dir D] [--config F]` against BPIUM_URL or the local emulator. */
export function demoCommand(io: DemoCommandIo = {}): Command {
  return new Command('demo')
    .description('create a task in the Bpium emulator (Задачи) and show the webhook it sent to the Oktell server')
    .option('--title <text>', 'task name', 'Позвонить клиенту')
    .option('--description <text>', 'task description', 'Клиент просил перезвонить после обеда.')
    .option('--responsible <id>', 'employee id in catalog 3 (default: the first one with an e-mail, other than the API account)')
    .option('--url <url>', 'the Bpium emulator (default $BPIUM_URL, else port $BPIUM_EMULATOR_PORT on 127.0.0.1, else the one the running `serve` of the data folder started, else bpiumEmulatorPort of the configuration file or 4056)')
    .option('-d, --data-dir <dir>', SERVER_DATA_DIR_HELP)
    .option('--config <file>', CONFIG_FILE_HELP)
    .action(async (flags: { title: string; description: string; responsible?: string; url?: string; dataDir?: string; config?: string }) => (await import('./demo.js')).demoAction(io, flags));
}
