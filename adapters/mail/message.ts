// Message safety: splits and validates address lists and turns a composed letter into one safe to hand to a transport.
import { EffectError } from '../../engine/errors.js';
import type { MailMessage } from '../../engine/ports.js';

/** Caps applied to every outgoing letter. */
export interface MailLimits {
  /** Recipients counted over To, Cc and Bcc together. */
  maxRecipients: number;
  /** Subject length in characters (code points), after line breaks were collapsed. */
  maxSubjectLength: number;
  /** Size of text plus HTML body in UTF-8 bytes. */
  maxBodyBytes: number;
}

/** Defaults: 50 recipients, a 500-character subject, 1 MiB of body (text and HTML together). */
export const DEFAULT_MAIL_LIMITS: Readonly<MailLimits> = Object.freeze({
  maxRecipients: 50,
  maxSubjectLength: 500,
  maxBodyBytes: 1024 * 1024,
});

/** `details.code` values of the `EffectError`s thrown by `buildSafeMessage`. */
export const MAIL_SAFETY_CODES = {
  INVALID_ADDRESS: 'MAIL_INVALID_ADDRESS',
  NO_RECIPIENTS: 'MAIL_NO_RECIPIENTS',
  TOO_MANY_RECIPIENTS: 'MAIL_TOO_MANY_RECIPIENTS',
  SUBJECT_TOO_LONG: 'MAIL_SUBJECT_TOO_LONG',
  BODY_TOO_LARGE: 'MAIL_BODY_TOO_LARGE',
} as const;

import { bareAddress, formatAddress, parseAddressList } from '../../engine/mail-address.js';
import { MailConfigError } from './smtp-url.js';

export { bareAddress, formatAddress, parseAddressList };

/**
 * Collapses CR, LF, TAB and other control characters (C0, DEL, C1 — U+009B starts a terminal escape sequence on its
 * own) into single spaces, so a subject can never start a header nor drive the terminal of whoever reads it.
 */
export function sanitizeSubject(subject: string): string {
  return subject.replace(/[\x00-\x1f\x7f-\x9f\u2028\u2029]+/g, ' ').trim();
}

function permanent(code: string, message: string): EffectError {
  return new EffectError('permanent', message, { code });
}

function safeList(field: string, list: readonly string[]): string[] {
  const out: string[] = [];
  for (const entry of list) {
    const parsed = parseAddressList(entry);
    if (!parsed.ok) throw permanent(MAIL_SAFETY_CODES.INVALID_ADDRESS, `invalid ${field} address: ${parsed.error}`);
    out.push(...parsed.addresses);
  }
  return out;
}

/**
 * Checks and cleans a letter before any transport sees it: every address re-validated (a list in one entry is split),
 * the subject made single-line, the reference stripped of control characters, and the limits enforced.
 * Throws `EffectError('permanent')` with `details.code` from `MAIL_SAFETY_CODES` on a violation.
 *
 * @example buildSafeMessage({ to: ['ivan@example.com'], cc: [], bcc: [], subject: 'Hi\r\nBcc: x@evil', text: 'x' })
 * // subject becomes 'Hi Bcc: x@evil' (one line, no new header)
 */
export function buildSafeMessage(m: MailMessage, limits: Partial<MailLimits> = {}): MailMessage {
  const lim: MailLimits = { ...DEFAULT_MAIL_LIMITS, ...limits };
  const to = safeList('To', m.to);
  const cc = safeList('Cc', m.cc);
  const bcc = safeList('Bcc', m.bcc);
  const total = to.length + cc.length + bcc.length;
  if (total === 0) throw permanent(MAIL_SAFETY_CODES.NO_RECIPIENTS, 'the letter has no recipients');
  if (total > lim.maxRecipients) {
    throw permanent(
      MAIL_SAFETY_CODES.TOO_MANY_RECIPIENTS,
      `the letter has ${total} recipients, more than the limit of ${lim.maxRecipients}`,
    );
  }
  let from: string | undefined;
  if (m.from !== undefined && m.from.trim() !== '') {
    const parsed = safeList('From', [m.from]);
    if (parsed.length !== 1) throw permanent(MAIL_SAFETY_CODES.INVALID_ADDRESS, 'the From field must hold exactly one address');
    from = parsed[0];
  }
  const subject = sanitizeSubject(m.subject ?? '');
  const subjectLength = [...subject].length;
  if (subjectLength > lim.maxSubjectLength) {
    throw permanent(
      MAIL_SAFETY_CODES.SUBJECT_TOO_LONG,
      `the subject has ${subjectLength} characters, more than the limit of ${lim.maxSubjectLength}`,
    );
  }
  const bodyBytes = Buffer.byteLength(m.text ?? '', 'utf8') + Buffer.byteLength(m.html ?? '', 'utf8');
  if (bodyBytes > lim.maxBodyBytes) {
    throw permanent(
      MAIL_SAFETY_CODES.BODY_TOO_LARGE,
      `the body has ${bodyBytes} bytes, more than the limit of ${lim.maxBodyBytes}`,
    );
  }
  const safe: MailMessage = { to, cc, bcc, subject };
  if (from !== undefined) safe.from = from;
  if (m.text !== undefined) safe.text = m.text;
  if (m.html !== undefined) safe.html = m.html;
  if (m.text === undefined && m.html === undefined) safe.text = '';
  if (m.reference !== undefined) {
    const reference = m.reference.replace(/[\x00-\x1f\x7f]+/g, '').slice(0, 200);
    if (reference) safe.reference = reference;
  }
  // Only hashed into the Message-ID, never written out as it is.
  if (m.messageKey) safe.messageKey = m.messageKey;
  return safe;
}

/** MAIL_FROM as the one address it must be: anything else is a MailConfigError that says what was found. */
export function senderAddress(from: string): string {
  const parsed = parseAddressList(from);
  if (!parsed.ok || parsed.addresses.length !== 1) {
    throw new MailConfigError(`MAIL_FROM must be one address such as "Oktell <oktell@example.com>": ${parsed.ok ? `found ${parsed.addresses.length}` : parsed.error}`);
  }
  return parsed.addresses[0]!;
}
