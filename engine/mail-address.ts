// E-mail address lists: splitting and validating what a scenario or a webhook gives as recipients.

const LOCAL_ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+";
const LOCAL_PART = new RegExp(`^${LOCAL_ATOM}(?:\\.${LOCAL_ATOM})*$`);
// A label of letters (any script, so IDN domains pass) and digits, hyphens inside only.
const DOMAIN_LABEL = /^[\p{L}\p{N}](?:[\p{L}\p{N}\p{M}-]*[\p{L}\p{N}\p{M}])?$/u;
const FORBIDDEN_CHARS = /[\r\n\0]/;

/** Checks one bare address such as `ivan@example.com` or `иван@пример.рф`'s domain part. Returns a reason or null. */
function addressProblem(address: string): string | null {
  if (address.length > 254) return 'is longer than 254 characters';
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return 'is not of the form name@domain';
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (local.length > 64) return 'has a part before @ longer than 64 characters';
  if (!LOCAL_PART.test(local)) return 'has characters not allowed before @';
  const labels = domain.split('.');
  if (labels.length < 2 && domain.toLowerCase() !== 'localhost') return 'has a domain without a dot';
  for (const label of labels) {
    if (label.length === 0 || label.length > 63 || !DOMAIN_LABEL.test(label)) return `has an invalid domain "${domain}"`;
  }
  return null;
}

/** Splits on `,` and `;` that stand outside double quotes and angle brackets. */
function splitList(text: string): string[] {
  const parts: string[] = [];
  let current = '';
  let inQuotes = false;
  let inAngle = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (inQuotes && ch === '\\' && i + 1 < text.length) {
      current += ch + text[i + 1]!;
      i++;
      continue;
    }
    if (ch === '"' && !inAngle) inQuotes = !inQuotes;
    else if (ch === '<' && !inQuotes) inAngle = true;
    else if (ch === '>' && !inQuotes) inAngle = false;
    if ((ch === ',' || ch === ';') && !inQuotes && !inAngle) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}

function unquoteName(raw: string): string {
  const name = raw.trim();
  if (name.length >= 2 && name.startsWith('"') && name.endsWith('"')) {
    return name.slice(1, -1).replace(/\\(.)/g, '$1');
  }
  return name;
}

/** Formats a mailbox as `"Name" <address>` (quoted so any punctuation in the name is safe) or a bare address. */
export function formatAddress(name: string, address: string): string {
  if (!name) return address;
  return `"${name.replace(/["\\]/g, (c) => `\\${c}`)}" <${address}>`;
}

/** Takes the bare address out of `Name <address>` or returns the text as is. */
export function bareAddress(mailbox: string): string {
  const m = /<([^<>]*)>\s*$/.exec(mailbox);
  return (m ? m[1]! : mailbox).trim();
}

/**
 * Splits a recipient list typed by a person or taken from data: addresses separated by `,` or `;`, each either bare
 * or with a display name. Every address is validated; a CR, LF or NUL anywhere makes the list invalid. Empty items
 * (a trailing `;`) are skipped, so an empty text gives an empty list.
 *
 * @example parseAddressList('Иван <ivan@example.com>; petr@example.org')
 * // { ok: true, addresses: ['"Иван" <ivan@example.com>', 'petr@example.org'] }
 */
export function parseAddressList(text: string): { ok: true; addresses: string[] } | { ok: false; error: string } {
  if (FORBIDDEN_CHARS.test(text)) {
    return { ok: false, error: `address list ${JSON.stringify(text)} contains a line break or NUL character` };
  }
  const addresses: string[] = [];
  for (const item of splitList(text)) {
    const entry = item.trim();
    if (entry === '') continue;
    let name = '';
    let address = entry;
    const angle = /^([^<>]*)<([^<>]*)>$/.exec(entry);
    if (angle) {
      name = unquoteName(angle[1]!);
      address = angle[2]!.trim();
    } else if (/[<>"\s]/.test(entry)) {
      return { ok: false, error: `${JSON.stringify(entry)} is not an e-mail address (expected name@domain or Name <name@domain>)` };
    }
    if (/[\x00-\x1f\x7f-\x9f]/.test(name)) {
      return { ok: false, error: `the display name in ${JSON.stringify(entry)} contains a control character` };
    }
    const problem = addressProblem(address);
    if (problem) return { ok: false, error: `address ${JSON.stringify(address)} ${problem}` };
    addresses.push(formatAddress(name, address));
  }
  return { ok: true, addresses };
}

