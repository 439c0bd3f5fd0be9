// `oktell-emu outbox`: lists the letters stored in the local outbox (written while SMTP_URL is unset).
import type { Command } from 'commander';
import { statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import pc from 'picocolors';
import { decodeAddressHeader, decodeHeaderWords } from '../../adapters/mail/header-reader.js';
import { listOutbox, listOutboxPage, readOutboxEntry, type OutboxEntry } from '../../adapters/mail/outbox.adapter.js';
import { readLetter, type LetterBodies } from '../../server/console/eml-reader.js';
import { existingDataDir, storeSettings, UsageError } from '../config.js';
import { isoInZone } from '../../server/tasks/schedule.js';
import { htmlToText } from '../html-text.js';
import { terminalText } from '../format.js';
import { displayWidth, fitColumns, padEndColumns } from '../text-width.js';

async function listAll(dir: string): Promise<{ entries: OutboxEntry[]; total: number }> {
  const entries = await listOutbox(dir);
  return { entries, total: entries.length };
}

/** Where the command reads its settings and writes its output; tests pass their own. */
export interface OutboxCommandIo {
  env?: NodeJS.ProcessEnv;
  write?: (text: string) => void;
}

/** The table, times in the server's zone with their offset (as `runs`, `show`, `tasks` and the console print them). */
function formatTable(entries: OutboxEntry[], zone: string): string {
  const rows = entries.map((e) => ({
    time: Number.isFinite(Date.parse(e.time)) ? isoInZone(Date.parse(e.time), zone) : e.time || '?',
    // Recipients and subjects come from the letters (from webhook data, often): escaped, as `show` prints them.
    to: e.problem ? '?' : terminalText([...e.to, ...e.cc.map((c) => `cc:${c}`)].join(', ')) || '(no recipient)',
    // A file that could not be read: its row says so, and why is printed below the table (too long for a column).
    subject: e.problem ? '(not read: see below)' : terminalText(e.subject) || '(no subject)',
    file: terminalText(e.file.split(/[\\/]/).pop() ?? e.file),
  }));
  // Columns as wide as their longest value in terminal columns, capped so one long subject does not push the file name off screen.
  const width = (pick: (r: (typeof rows)[number]) => string, cap: number) => Math.min(cap, Math.max(...rows.map((r) => displayWidth(pick(r)))));
  const toWidth = Math.max(width((r) => r.to, 40), 'to'.length);
  const subjectWidth = Math.max(width((r) => r.subject, 60), 'subject'.length);
  const timeWidth = Math.max(...rows.map((r) => displayWidth(r.time)));
  // A header line names the columns, as `runs` does; dimmed on a terminal.
  const header = pc.dim(`${padEndColumns('time', timeWidth)}  ${fitColumns('to', toWidth)}  ${fitColumns('subject', subjectWidth)}  file`);
  return [header, ...rows.map((r) => `${padEndColumns(r.time, timeWidth)}  ${fitColumns(r.to, toWidth)}  ${fitColumns(r.subject, subjectWidth)}  ${r.file}`)].map((l) => `${l}\n`).join('');
}

export async function outboxAction(io: OutboxCommandIo, opts: { json?: boolean; dataDir?: string; config?: string; limit?: number }): Promise<void> {
  const env = io.env ?? process.env;
  const write = io.write ?? ((text: string) => void process.stdout.write(text));
  const settings = storeSettings({ dataDir: opts.dataDir, config: opts.config }, env);
  const dir = join(existingDataDir(settings.dataDir), 'outbox');
  // With --limit only the newest files are opened (the names alone give their order).
  const { entries, total } = opts.limit !== undefined ? await listOutboxPage(dir, { limit: opts.limit }) : await listAll(dir);
  if (opts.json) {
    write(`${JSON.stringify(entries, null, 2)}\n`);
    return;
  }
  if (total === 0) {
    // A server with SMTP_URL sends its letters and stores none here: said, so "empty" is not read as "nothing sent".
    write(
      `The outbox ${dir} is empty: no letters stored yet. It keeps letters only while no SMTP server is configured ` +
        '(SMTP_URL unset); with SMTP_URL set they go to that server, and the letters of each run are in `npx oktell-emu show <run>` ' +
        '(the console\'s run pages; counts in /-/metrics as oktell_letters_total).\n',
    );
    return;
  }
  write(formatTable(entries, settings.timeZone));
  for (const e of entries) if (e.problem) write(`${pc.yellow('!')} ${terminalText(basename(e.file))} is ${terminalText(e.problem)}\n`);
  const shown = entries.length < total ? `${entries.length} of ${total}` : `${total}`;
  write(`${shown} letter${total === 1 ? '' : 's'} in ${dir} (read one: npx oktell-emu outbox show <file>; or open the .eml file in any mail client)\n`);
}


/** The headers `outbox show` prints, in this order, when the letter has them. */
const SHOWN_HEADERS = ['date', 'from', 'reply-to', 'to', 'cc', 'bcc', 'subject', 'message-id'];

/** A decoded letter: headers (encoded words and raw UTF-8 decoded), text, HTML and its text form, attachments. */
export interface ShownLetter {
  file: string;
  headers: Record<string, string>;
  text: string | null;
  html: string | null;
  htmlAsText: string | null;
  attachments: NonNullable<LetterBodies['attachments']>;
}

function decodedHeader(raw: string): string {
  return decodeHeaderWords(Buffer.from(raw, 'latin1').toString('utf8'));
}

/** Headers of mailboxes: a decoded display name is quoted again where it needs it (see decodeAddressHeader). */
const ADDRESS_HEADERS = ['from', 'reply-to', 'to', 'cc', 'bcc'];

function decodedAddresses(raw: string): string {
  return decodeAddressHeader(Buffer.from(raw, 'latin1').toString('utf8'));
}

/**
 * Finds a letter: a path to a file, else in the outbox a file name (with or without `.eml`), a unique beginning of
 * one, a Message-ID (with or without the angle brackets), or `last` for the newest.
 */
async function findLetter(ref: string, dir: string): Promise<string> {
  try {
    if (statSync(ref).isFile()) return resolve(ref);
  } catch {
    // Not a path: look in the outbox.
  }
  existingDataDir(dirname(dir));
  const entries = await listOutbox(dir);
  // An empty outbox is the answer whatever was asked for (a server with SMTP_URL set stores nothing here).
  if (!entries.length) throw new UsageError(`the outbox ${dir} is empty: no letters stored yet (letters are stored there only while SMTP_URL is unset; with it set they go to the SMTP server)`);
  if (ref === 'last') return entries[entries.length - 1]!.file;
  const bare = ref.replace(/^<(.*)>$/, '$1');
  const exact = entries.find((e) => basename(e.file) === ref || basename(e.file) === `${ref}.eml` || e.messageId === `<${bare}>`);
  if (exact) return exact.file;
  const byPrefix = entries.filter((e) => basename(e.file).startsWith(ref));
  if (byPrefix.length === 1) return byPrefix[0]!.file;
  if (byPrefix.length > 1) throw new UsageError(`${ref} matches ${byPrefix.length} letters in ${dir}: ${byPrefix.slice(0, 5).map((e) => basename(e.file)).join(', ')}${byPrefix.length > 5 ? ', …' : ''}`);
  throw new UsageError(`no letter ${ref} in ${dir}: give a .eml file, a file name from \`oktell-emu outbox\`, a Message-ID, or last`);
}

/** Why the letter `file` of the outbox `dir` cannot be read (`OutboxEntry.problem`); undefined for a readable one, or a file elsewhere. */
async function listOutboxProblem(file: string, dir: string): Promise<string | undefined> {
  if (dirname(file) !== resolve(dir)) return undefined;
  return (await readOutboxEntry(dir, basename(file)))?.problem;
}

export async function showLetter(file: string): Promise<ShownLetter> {
  const letter = await readLetter(file);
  const headers: Record<string, string> = {};
  for (const [name, value] of letter.headers) if (SHOWN_HEADERS.includes(name)) headers[name] = ADDRESS_HEADERS.includes(name) ? decodedAddresses(value) : decodedHeader(value);
  return {
    file,
    headers,
    text: letter.text ?? null,
    html: letter.html ?? null,
    htmlAsText: letter.html !== undefined ? htmlToText(letter.html) : null,
    attachments: letter.attachments ?? [],
  };
}

function size(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

const LABELS: Record<string, string> = { date: 'Date', from: 'From', 'reply-to': 'Reply-To', to: 'To', cc: 'Cc', bcc: 'Bcc', subject: 'Subject', 'message-id': 'Message-ID' };

/**
 * The Date header as written, followed by the same moment in the server's zone with its offset, as `outbox`, `runs`
 * and `show` print times (the header itself is UTC): `Thu, 03 Dec 2026 02:10:22 +0000 (2026-12-03T05:10:22+03:00)`.
 */
function shownDate(header: string, zone: string | undefined): string {
  const ms = Date.parse(header);
  if (zone === undefined || !Number.isFinite(ms)) return header;
  return `${header} ${pc.dim(`(${isoInZone(ms, zone)})`)}`;
}

export function formatLetter(l: ShownLetter, zone?: string): string {
  const out: string[] = [];
  for (const name of SHOWN_HEADERS) {
    const value = l.headers[name];
    // A decoded header (an encoded word) may hold any character: escaped, as every letter text the CLI prints.
    if (value !== undefined) out.push(`${pc.bold(`${LABELS[name]}:`.padEnd(12))}${name === 'date' ? shownDate(terminalText(value), zone) : terminalText(value)}`);
  }
  out.push(`${pc.bold('File:'.padEnd(12))}${terminalText(l.file)}`);
  // The bodies keep their lines; their other control characters are escaped.
  if (l.text !== null) out.push('', pc.dim('── text ──'), terminalText(l.text.trimEnd(), true));
  if (l.htmlAsText !== null) out.push('', pc.dim('── HTML, as text ──'), terminalText(l.htmlAsText, true));
  if (l.text === null && l.htmlAsText === null) out.push('', pc.dim('(no text or HTML part)'));
  if (l.attachments.length) {
    out.push('', pc.dim(`── ${l.attachments.length} attachment${l.attachments.length === 1 ? '' : 's'} ──`));
    for (const a of l.attachments) out.push(`${terminalText(String(a.filename))}  ${pc.dim(`${terminalText(String(a.contentType))}, ${size(a.bytes)}`)}`);
  }
  return `${out.join('\n')}\n`;
}

export async function outboxShowAction(io: OutboxCommandIo, ref: string, _opts: unknown, cmd: Command): Promise<void> {
  const opts = cmd.optsWithGlobals<{ json?: boolean; dataDir?: string; config?: string }>();
  const env = io.env ?? process.env;
  const write = io.write ?? ((text: string) => void process.stdout.write(text));
  const settings = storeSettings({ dataDir: opts.dataDir, config: opts.config }, env);
  const dir = join(settings.dataDir, 'outbox');
  const file = await findLetter(ref, dir);
  const bad = await listOutboxProblem(file, dir);
  if (bad) throw new UsageError(`the letter ${file} is ${bad}`, 'E_FILE');
  const letter = await showLetter(file);
  write(opts.json ? `${JSON.stringify(letter, null, 2)}\n` : formatLetter(letter, settings.timeZone));
}

