// E-mail address lists: splitting and validating what a scenario or a webhook gives as recipients.
import { domainToASCII, domainToUnicode } from 'node:url';

const LOCAL_ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+";
const LOCAL_PART = new RegExp(`^${LOCAL_ATOM}(?:\\.${LOCAL_ATOM})*$`);
// A label of letters (any script, so IDN domains pass) and digits, hyphens inside only.
const DOMAIN_LABEL = /^[\p{L}\p{N}](?:[\p{L}\p{N}\p{M}-]*[\p{L}\p{N}\p{M}])?$/u;
const FORBIDDEN_CHARS = /[\r\n\0]/;
/** A domain's label as it is sent: letters, digits and hyphens inside (punycode's `xn--` included). */
const ASCII_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;

/** Checks one bare address such as `ivan@example.com` or `иван@пример.рф`'s domain part. Returns a reason or null. */
function addressProblem(address: string): string | null {
  if (address.length > 254) return 'is longer than 254 characters';
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return 'is not of the form name@domain';
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (local.length > 64) return 'has a part before @ longer than 64 characters';
  if (!LOCAL_PART.test(local)) {
    // An internationalised mailbox (RFC 6531) can only travel to a server that takes SMTPUTF8, and on to every server
    // after it; the letters are written 7-bit clean instead, and refuse it at once, whatever the server offers.
    if (/[^\x00-\x7f]/.test(local)) {
      return 'has non-ASCII characters before @: such a mailbox needs SMTPUTF8, which this mail client does not use (it writes every letter in ASCII); use an ASCII address for this person (only the domain may be non-ASCII: it is sent as punycode)';
    }
    return 'has characters not allowed before @';
  }
  const labels = domain.split('.');
  if (labels.length < 2 && domain.toLowerCase() !== 'localhost') return 'has a domain without a dot';
  for (const label of labels) {
    if (label.length === 0 || label.length > 63 || !DOMAIN_LABEL.test(label)) return `has an invalid domain ${shown(domain)}`;
  }
  if (/[^\x00-\x7f]/.test(domain)) {
    // An internationalised domain travels as punycode (see asciiAddress in adapters/mail/mime.ts), which is longer
    // than the text: a label can pass 63 characters only then, and a mail server would take the letter and bounce
    // it later, unseen by the run.
    const ascii = domainToASCII(domain);
    if (!ascii) return `has a domain ${shown(domain)} that cannot be written in ASCII (punycode), as mail servers need it`;
    // The mapping browsers use (UTS #46) writes some letters and digits as ASCII punctuation: U+1F102 🄂 as `1,` and
    // U+2474 ⑴ as `(1)`. Sent so, `ivan@a🄂b.com` is `ivan@a1,b.com` in To, which a mail client reads as two recipients,
    // and `ivan@a⑴b.com` is `ivan@a(1)b.com`, read as `ivan@ab.com` with a comment, while RCPT TO names another.
    const asciiLabels = ascii.split('.');
    if (asciiLabels.length !== labels.length || !asciiLabels.every((l) => ASCII_LABEL.test(l))) {
      const odd = [...domain].filter((c) => /[^\x00-\x7f]/.test(c) && /[^A-Za-z0-9.-]/.test(domainToUnicode(c).replace(/[^\x00-\x7f]/g, '')));
      return `has a domain ${shown(domain)} that is written ${JSON.stringify(ascii)} in ASCII (punycode), as mail servers need it, which is not a domain name${odd.length ? ` (${odd.map((c) => `${shown(c)} becomes ${JSON.stringify(domainToUnicode(c))}`).join(', ')})` : ''}`;
    }
    const long = asciiLabels.find((l) => l.length > 63);
    if (long) return `has a domain ${shown(domain)} with a part longer than 63 characters once written in punycode, as mail servers need it ("${long}"): no such domain can exist`;
    if (local.length + 1 + ascii.length > 254) return `is longer than 254 characters once its domain is written in punycode (${ascii})`;
  }
  return null;
}

/**
 * Splits an address list on the separators (`,` and `;` by default) that stand outside double quotes and angle
 * brackets; `open` says whether a quote or a bracket was left open at the end.
 */
export function splitAddressList(text: string, separators = ',;'): { parts: string[]; open: boolean } {
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
    if (separators.includes(ch) && !inQuotes && !inAngle) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return { parts, open: inQuotes || inAngle };
}

function unquoteName(raw: string): string {
  const name = raw.trim();
  if (name.length >= 2 && name.startsWith('"') && name.endsWith('"')) {
    return name.slice(1, -1).replace(/\\(.)/g, '$1');
  }
  return name;
}

/**
 * `Name <address>` split into the name and the address: the `<` and `>` around the address are the only ones outside a
 * quoted name, so a quoted name may hold them (`"Иван <директор>" <ivan@example.com>`, as RFC 5322 allows and a mail
 * client writes). Null when the entry is not of that form.
 */
export function angleAddress(entry: string): { name: string; address: string } | null {
  if (!entry.endsWith('>')) return null;
  let open = -1;
  let inQuotes = false;
  for (let i = 0; i < entry.length - 1; i++) {
    const ch = entry[i]!;
    if (inQuotes && ch === '\\') i++;
    else if (ch === '"' && open < 0) inQuotes = !inQuotes;
    else if (!inQuotes && ch === '>') return null;
    else if (!inQuotes && ch === '<') {
      if (open >= 0) return null;
      open = i;
    }
  }
  // A quote left open (`"Ivan <ivan@example.com>`) is a name with a quote in it, as it always was taken.
  if (inQuotes) {
    const plain = /^([^<>]*)<([^<>]*)>$/.exec(entry);
    return plain ? { name: plain[1]!, address: plain[2]! } : null;
  }
  if (open < 0) return null;
  const address = entry.slice(open + 1, -1);
  return /[<>]/.test(address) ? null : { name: entry.slice(0, open), address };
}

/** Formats a mailbox as `"Name" <address>` (quoted so any punctuation in the name is safe) or a bare address. */
export function formatAddress(name: string, address: string): string {
  if (!name) return address;
  return `"${name.replace(/["\\]/g, (c) => `\\${c}`)}" <${address}>`;
}

/**
 * Characters a copy from a web page or a spreadsheet leaves around an address without anyone seeing them: spaces
 * (no-break ones too, which `trim` takes) and the zero-width space, joiners and word joiner (which it does not).
 */
const INVISIBLE = /[\s\u200b-\u200d\u2060]/;

/**
 * The text without invisible characters at its ends. A loop, not `/^[…]+|[…]+$/`: that pattern tries the second
 * branch from every character of a run of spaces inside the text, and an entry with 40,000 spaces in its name took
 * seconds (a megabyte of them, from a webhook, hours).
 */
function trimInvisible(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && INVISIBLE.test(text[start]!)) start++;
  while (end > start && INVISIBLE.test(text[end - 1]!)) end--;
  return text.slice(start, end);
}

/**
 * A text quoted for an error message with what cannot be seen written out: control characters (as JSON does),
 * format characters (a zero-width space U+200B, a bidirectional mark or override) and spaces other than the plain one
 * (a no-break space U+00A0) as `\uXXXX`, so that `address "ivan@exam\u200bple.com"` shows why it is refused.
 */
function shown(text: string): string {
  return JSON.stringify(text).replace(/[\p{Cf}\p{Zs}\p{Zl}\p{Zp}]/gu, (c) => {
    const cp = c.codePointAt(0)!;
    if (c === ' ') return c;
    return cp > 0xffff ? `\\u{${cp.toString(16)}}` : `\\u${cp.toString(16).padStart(4, '0')}`;
  });
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
    return { ok: false, error: `address list ${shown(text)} contains a line break or NUL character` };
  }
  const addresses: string[] = [];
  for (const item of splitAddressList(text).parts) {
    const entry = trimInvisible(item);
    if (entry === '') continue;
    let name = '';
    let address = entry;
    const angle = angleAddress(entry);
    if (angle) {
      name = unquoteName(angle.name);
      address = trimInvisible(angle.address);
    } else if (/[<>"\s]/.test(entry)) {
      return { ok: false, error: `${shown(entry)} is not an e-mail address (expected name@domain or Name <name@domain>)` };
    }
    if (/[\x00-\x1f\x7f-\x9f]/.test(name)) {
      return { ok: false, error: `the display name in ${shown(entry)} contains a control character` };
    }
    const problem = addressProblem(address);
    if (problem) return { ok: false, error: `address ${shown(address)} ${problem}` };
    addresses.push(formatAddress(name, address));
  }
  return { ok: true, addresses };
}

