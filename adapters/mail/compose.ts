// Turns a checked MailMessage into nodemailer's message options; shared by the SMTP and the outbox adapters.
import * as crypto from 'node:crypto';
import type { SendMailOptions } from 'nodemailer';
import type { MailMessage } from '../../engine/ports.js';
import { bareAddress } from './message.js';

/** Default sender when MAIL_FROM is unset. */
export const DEFAULT_MAIL_FROM = 'Oktell emulator <oktell@localhost>';

/** Header carrying `MailMessage.reference` (run id and step), for tracing a letter back to its run. */
export const REFERENCE_HEADER = 'X-Oktell-Reference';

function messageIdDomain(from: string): string {
  const domain = bareAddress(from).split('@')[1] ?? '';
  return /^[A-Za-z0-9.-]+$/.test(domain) ? domain.toLowerCase() : 'oktell-emulator.local';
}

/** node's one-shot `crypto.hash` (Node 20.12 and later), else a Hash object. */
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;
function sha256Hex(text: string): string {
  return oneShot ? oneShot('sha256', text, 'hex') : crypto.createHash('sha256').update(text).digest('hex');
}

/**
 * A Message-ID for the letter. With a step's key (the job's, the same for every attempt and replay; else the run id
 * and step) it is derived from that key and the letter's recipients, subject and body, so the same letter re-sent
 * for the same step, by a retry or a replay too, carries the same id (a mail client can spot the duplicate), while
 * two different letters from one block visited twice still differ. Without either it is random.
 */
export function makeMessageId(safe: MailMessage, defaultFrom: string): string {
  const from = safe.from ?? defaultFrom;
  let local: string;
  const key = safe.messageKey ?? safe.reference;
  if (key) {
    // Each part followed by a NUL, hashed as one text: the same bytes as hashing them one by one, in one call.
    const text = `${[key, from, ...safe.to, '|', ...safe.cc, '|', ...safe.bcc, '|', safe.subject, safe.text ?? '', safe.html ?? ''].join('\0')}\0`;
    local = `${sha256Hex(text).slice(0, 32)}.oktell`;
  } else {
    local = `${crypto.randomUUID()}.oktell`;
  }
  return `<${local}@${messageIdDomain(from)}>`;
}

/** nodemailer options for a letter that `buildSafeMessage` has already checked. */
export function toSendMailOptions(safe: MailMessage, defaultFrom: string, messageId: string, date?: Date): SendMailOptions {
  const options: SendMailOptions = {
    from: safe.from ?? defaultFrom,
    to: safe.to,
    subject: safe.subject,
    messageId,
    xMailer: 'oktell-emulator',
    // nodemailer would read a path or URL given as content; these letters only carry strings, refuse anything else.
    disableFileAccess: true,
    disableUrlAccess: true,
  };
  if (safe.cc.length > 0) options.cc = safe.cc;
  if (safe.bcc.length > 0) options.bcc = safe.bcc;
  if (safe.text !== undefined) options.text = safe.text;
  if (safe.html !== undefined) options.html = safe.html;
  if (safe.reference) options.headers = { [REFERENCE_HEADER]: safe.reference };
  if (date) options.date = date;
  return options;
}
