// `oktell-emu outbox` and `outbox show`: the command line (arguments, options, help). What the command does is in ./outbox.js, imported
// when the command runs, so that other commands, --help and --version do not pay for loading it.
import { Command, InvalidArgumentError } from 'commander';
import type { OutboxCommandIo } from './outbox.js';
import { CONFIG_FILE_HELP, SERVER_DATA_DIR_HELP } from '../help-texts.js';

/**
 * `outbox [--json] [--data-dir D] [--limit N]`. The outbox is `<data dir>/outbox`, the data dir being the flag, else
 * `OKTELL_DATA_DIR`, else `dataDir:` of the configuration file, else `./var`. Letters are listed oldest first; `--limit N` keeps the newest N.
 * `--json` prints one JSON array of `{ time, to, cc, subject, file, messageId }`.
 */
export function outboxCommand(io: OutboxCommandIo = {}): Command {
  return new Command('outbox')
    .description('list the letters stored in the outbox (.eml files written while SMTP_URL is unset), oldest first')
    .option('--json', 'print one JSON array, one object per letter')
    .option('-d, --data-dir <dir>', SERVER_DATA_DIR_HELP)
    .option('--config <file>', CONFIG_FILE_HELP)
    .option('-n, --limit <n>', 'show only the newest n letters', positiveInt)
    .action(async (opts: { json?: boolean; dataDir?: string; config?: string; limit?: number }) => (await import('./outbox.js')).outboxAction(io, opts))
    .addCommand(outboxShowCommand(io))
    // A group with an action of its own gets no `help` command from commander: listed as webhook's is.
    .helpCommand(true);
}

/** `outbox show <letter> [--json] [--data-dir D]`. */
function outboxShowCommand(io: OutboxCommandIo): Command {
  return new Command('show')
    .description('print one letter decoded: headers, the text part, the HTML part as text, the attachments')
    .argument('<letter>', 'a .eml file, a file name (or its beginning) from `oktell-emu outbox`, a Message-ID, or last')
    .option('--json', 'print one JSON object { file, headers, text, html, htmlAsText, attachments }')
    .option('-d, --data-dir <dir>', SERVER_DATA_DIR_HELP)
    .option('--config <file>', CONFIG_FILE_HELP)
    .action(async (ref: string, _opts: unknown, cmd: Command) => (await import('./outbox.js')).outboxShowAction(io, ref, _opts, cmd))
    .exitOverride();
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of 1 or more');
  return n;
}
