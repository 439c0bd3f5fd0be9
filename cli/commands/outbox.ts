// `oktell-emu outbox`: lists the letters stored in the local outbox (written while SMTP_URL is unset).
import { Command, InvalidArgumentError } from 'commander';
import { join, resolve } from 'node:path';
import { listOutbox, listOutboxPage, type OutboxEntry } from '../../adapters/mail/outbox.adapter.js';

async function listAll(dir: string): Promise<{ entries: OutboxEntry[]; total: number }> {
  const entries = await listOutbox(dir);
  return { entries, total: entries.length };
}

/** Where the command reads its settings and writes its output; tests pass their own. */
export interface OutboxCommandIo {
  env?: NodeJS.ProcessEnv;
  write?: (text: string) => void;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of 1 or more');
  return n;
}

function clip(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text.padEnd(width) : `${chars.slice(0, width - 1).join('')}…`;
}

function formatTable(entries: OutboxEntry[]): string {
  const rows = entries.map((e) => ({
    time: e.time.replace('T', ' ').replace(/\.\d{3}Z$/, 'Z'),
    to: [...e.to, ...e.cc.map((c) => `cc:${c}`)].join(', ') || '(no recipient)',
    subject: e.subject || '(no subject)',
    file: e.file.split(/[\\/]/).pop() ?? e.file,
  }));
  // Columns as wide as their longest value, capped so one long subject does not push the file name off screen.
  const width = (pick: (r: (typeof rows)[number]) => string, cap: number) => Math.min(cap, Math.max(...rows.map((r) => [...pick(r)].length)));
  const toWidth = width((r) => r.to, 40);
  const subjectWidth = width((r) => r.subject, 60);
  return rows.map((r) => `${r.time}  ${clip(r.to, toWidth)}  ${clip(r.subject, subjectWidth)}  ${r.file}\n`).join('');
}

/**
 * `outbox [--json] [--data-dir D] [--limit N]`. The outbox is `<data dir>/outbox`, the data dir being the flag, else
 * `OKTELL_DATA_DIR`, else `./var`. Letters are listed oldest first; `--limit N` keeps the newest N.
 * `--json` prints one JSON array of `{ time, to, cc, subject, file, messageId }`.
 */
export function outboxCommand(io: OutboxCommandIo = {}): Command {
  return new Command('outbox')
    .description('list the letters stored in the outbox (.eml files written while SMTP_URL is unset), oldest first')
    .option('--json', 'print one JSON array, one object per letter')
    .option('-d, --data-dir <dir>', 'data folder (default $OKTELL_DATA_DIR or ./var)')
    .option('-n, --limit <n>', 'show only the newest n letters', positiveInt)
    .action(async (opts: { json?: boolean; dataDir?: string; limit?: number }) => {
      const env = io.env ?? process.env;
      const write = io.write ?? ((text: string) => void process.stdout.write(text));
      const dir = join(resolve(opts.dataDir ?? env.OKTELL_DATA_DIR ?? './var'), 'outbox');
      // With --limit only the newest files are opened (the names alone give their order).
      const { entries, total } = opts.limit !== undefined ? await listOutboxPage(dir, { limit: opts.limit }) : await listAll(dir);
      if (opts.json) {
        write(`${JSON.stringify(entries, null, 2)}\n`);
        return;
      }
      if (total === 0) {
        write(`The outbox ${dir} is empty: no letters stored yet.\n`);
        return;
      }
      write(formatTable(entries));
      const shown = entries.length < total ? `${entries.length} of ${total}` : `${total}`;
      write(`${shown} letter${total === 1 ? '' : 's'} in ${dir} (open a .eml file with any mail client)\n`);
    });
}
