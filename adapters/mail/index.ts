// Picks the mailer from the environment: SMTP when SMTP_URL is set, otherwise the local .eml outbox.
import { join, resolve } from 'node:path';
import type { LoggerPort, MailerPort, OutageLogPort } from '../../engine/ports.js';
import { envSetting, type Env } from '../../engine/env.js';
import { DEFAULT_MAIL_FROM } from './compose.js';
import { createOutboxMailer } from './outbox.adapter.js';
import { UNKNOWN_OUTCOME_POLICIES, createSmtpMailer, type UnknownOutcomePolicy } from './smtp.adapter.js';
import { MailConfigError, parseSmtpUrl } from './smtp-url.js';
import { senderAddress } from './message.js';

export { DEFAULT_MAIL_FROM, REFERENCE_HEADER } from './compose.js';
export { DEFAULT_MAIL_LIMITS, MAIL_SAFETY_CODES, buildSafeMessage, parseAddressList, sanitizeSubject } from './message.js';
export type { MailLimits } from './message.js';
export { createOutboxMailer, listOutbox, listOutboxPage, readOutboxEntry } from './outbox.adapter.js';
export type { OutboxEntry, OutboxMailerOptions, OutboxPage } from './outbox.adapter.js';
export { DEFAULT_PENDING_MARK_MS, DEFAULT_SMTP_RETRY, createSmtpMailer } from './smtp.adapter.js';
export type { SmtpMailer, SmtpMailerOptions, SmtpReceipt, UnknownOutcomePolicy } from './smtp.adapter.js';
export { MailConfigError, parseSmtpUrl } from './smtp-url.js';
export { TemplateRenderError, createTemplateRenderer } from './templates.js';
export type { TemplateIssue, TemplateRenderer, TemplateVariableUse } from './templates.js';

/** The outbox folder inside a data directory. */
export function outboxDir(dataDir: string): string {
  return join(resolve(dataDir), 'outbox');
}

/**
 * Builds the mailer the environment asks for:
 * - `SMTP_URL` set and not blank → SMTP (`kind: 'smtp'`), see `createSmtpMailer`;
 * - otherwise → `.eml` files in `<dataDir>/outbox` (`kind: 'outbox'`).
 * `MAIL_FROM` is the sender (default `Oktell emulator <oktell@localhost>`). `describe` is safe to log (no password).
 * Throws `MailConfigError` for a malformed SMTP_URL or MAIL_FROM, or a wrong SMTP_MAX_CONNECTIONS,
 * SMTP_UNKNOWN_OUTCOME or SMTP_PENDING_MARK_MS (also when SMTP_URL is unset).
 *
 * @example
 * const { mailer, describe } = createMailerFromEnv(process.env, { dataDir: './var' });
 * logger.info({}, `mail: ${describe}`);
 */
export function createMailerFromEnv(
  env: Env,
  opts: { dataDir: string; logger?: LoggerPort; outages?: OutageLogPort },
): { mailer: MailerPort & { close(): Promise<void> }; kind: 'smtp' | 'outbox'; describe: string } {
  const from = envSetting(env, 'MAIL_FROM')?.trim() ?? DEFAULT_MAIL_FROM;
  const url = envSetting(env, 'SMTP_URL')?.trim();
  const logger = opts.logger ? { logger: opts.logger } : {};
  // Checked with SMTP_URL unset too: a wrong value in an env file should not wait to be found until SMTP is switched on.
  const max = smtpMaxConnections(env);
  const unknown = smtpUnknownOutcome(env);
  const markMs = smtpPendingMarkMs(env);
  if (url) {
    const smtp = createSmtpMailer({
      url,
      from,
      ...logger,
      ...(opts.outages ? { outages: opts.outages } : {}),
      ...(max !== undefined ? { maxConnections: max } : {}),
      ...(unknown ? { unknownOutcome: unknown } : {}),
      ...(markMs !== undefined ? { pendingMarkMs: markMs } : {}),
    });
    return { mailer: smtp, kind: 'smtp', describe: `SMTP ${smtp.describe}, from ${from}` };
  }
  const dir = outboxDir(opts.dataDir);
  const outbox = createOutboxMailer({ dir, from, ...logger });
  return {
    mailer: { send: (m, o) => outbox.send(m, o), close: async () => undefined },
    kind: 'outbox',
    describe: `outbox ${dir} (SMTP_URL is not set: letters are stored as .eml files, not sent), from ${from}`,
  };
}

/** SMTP_MAX_CONNECTIONS, or undefined when unset; anything but a whole number from 1 to 100 is refused. */
function smtpMaxConnections(env: Env): number | undefined {
  const max = envSetting(env, 'SMTP_MAX_CONNECTIONS')?.trim();
  if (max === undefined) return undefined;
  if (!(/^\d+$/.test(max) && Number(max) >= 1 && Number(max) <= 100)) throw new MailConfigError(`SMTP_MAX_CONNECTIONS must be a whole number from 1 to 100, got "${max}"`);
  return Number(max);
}

/** SMTP_UNKNOWN_OUTCOME, or undefined when unset; anything but one of the policies is refused. */
function smtpUnknownOutcome(env: Env): UnknownOutcomePolicy | undefined {
  const unknown = envSetting(env, 'SMTP_UNKNOWN_OUTCOME')?.trim();
  if (unknown === undefined) return undefined;
  if (!UNKNOWN_OUTCOME_POLICIES.includes(unknown as UnknownOutcomePolicy)) {
    throw new MailConfigError(`SMTP_UNKNOWN_OUTCOME must be ${UNKNOWN_OUTCOME_POLICIES.join(' or ')}, got "${unknown}"`);
  }
  return unknown as UnknownOutcomePolicy;
}

/**
 * SMTP_PENDING_MARK_MS, or undefined when unset: a whole number of milliseconds from 1 to 600000 (the wait for the
 * reply to a letter's end; 0 would turn the client's idle timer off, and more than the wait could never mark).
 */
function smtpPendingMarkMs(env: Env): number | undefined {
  const ms = envSetting(env, 'SMTP_PENDING_MARK_MS')?.trim();
  if (ms === undefined) return undefined;
  if (!(/^\d+$/.test(ms) && Number(ms) >= 1 && Number(ms) <= 600_000)) {
    throw new MailConfigError(`SMTP_PENDING_MARK_MS must be a whole number of milliseconds from 1 to 600000, got "${ms}"`);
  }
  return Number(ms);
}

/**
 * Throws the `MailConfigError` that `createMailerFromEnv` would throw for these settings, without making a mailer
 * (which would make the outbox folder or an SMTP pool): `serve` checks its settings before it touches anything.
 */
export function checkMailSettings(env: Env): void {
  const url = envSetting(env, 'SMTP_URL')?.trim();
  if (url) parseSmtpUrl(url);
  smtpMaxConnections(env);
  smtpUnknownOutcome(env);
  smtpPendingMarkMs(env);
  senderAddress(envSetting(env, 'MAIL_FROM')?.trim() ?? DEFAULT_MAIL_FROM);
}
