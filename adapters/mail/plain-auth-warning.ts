// A start-time warning for an SMTP_URL whose login will be refused by the client itself: a user over smtp:// to a
// host that is not this machine, with neither TLS required nor ?plainAuth=true. Such a login is made only after
// STARTTLS (smtp-client.ts); a server that offers none — a relay inside the network, as mailpit — fails every letter
// with ETLS, a permanent failure. Said at the start, before the first letter fails.
import { envSetting, type Env } from '../../engine/env.js';
import { isLoopbackHost } from './smtp-client.js';
import { describeSmtpEndpoint, MailConfigError, parseSmtpUrl, type SmtpEndpoint } from './smtp-url.js';

/**
 * The warning for `env.SMTP_URL`, or undefined when the login cannot be refused that way (no user, smtps://,
 * ?requireTLS=true, ?plainAuth=true, a loopback host) or SMTP_URL is unset. The URL is shown with its password hidden.
 * A malformed SMTP_URL gives none here: building the mailer stops the start with its own message.
 *
 * @example plainAuthWarning({ SMTP_URL: 'smtp://robot:pw@mailpit:1025' })  // 'SMTP_URL smtp://robot:***@mailpit:1025 … logs in …'
 */
export function plainAuthWarning(env: Env): string | undefined {
  const url = envSetting(env, 'SMTP_URL')?.trim();
  if (url === undefined) return undefined;
  let e: SmtpEndpoint;
  try {
    e = parseSmtpUrl(url);
  } catch (err) {
    if (err instanceof MailConfigError) return undefined;
    throw err;
  }
  if (!e.user || e.secure || e.requireTLS || e.plainAuth || isLoopbackHost(e.host)) return undefined;
  const afterStartTls = e.ignoreTLS
    ? 'the password is sent only after STARTTLS, which ?ignoreTLS=true turns off, so every letter fails'
    : `the password is sent only after STARTTLS, so if ${e.host} offers none every letter fails`;
  return (
    `SMTP_URL ${describeSmtpEndpoint(e)} logs in as ${e.user} over smtp:// to ${e.host}, which is not this machine, without ?plainAuth=true: ` +
    `${afterStartTls} at once with ETLS, not retried (SendMail takes no exit: the job is a dead letter at once, to replay after the fix). Fix: use TLS (smtps://, or a server with STARTTLS and ` +
    `?requireTLS=true, which also silences this warning), or, on a trusted network only, add ?plainAuth=true to SMTP_URL ` +
    `to allow the login in clear (docs/mail.md, "Upgrading")`
  );
}
