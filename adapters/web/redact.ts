// Masks the secrets of a web request before it is logged, traced or recorded: credentials in headers and query.
import { jsonTooDeepAt, MAX_JSON_DEPTH } from '../../engine/json-depth.js';

const MASK = '***';

/** Header names that carry credentials: Authorization, Cookie, and anything named like a token or a key. */
const SECRET_HEADER = /^(authorization|proxy-authorization|cookie|set-cookie)$|token|-key$|^key$|secret|password|api-?key/i;
/** Query parameter names that carry credentials (`?token=…`, `?api_key=…`, `?password=…`, `?sig=…`). */
const SECRET_PARAM = /token|key|secret|pass|pwd|sig|auth/i;

export function isSecretHeader(name: string): boolean {
  return SECRET_HEADER.test(name);
}

/** The headers with the values of secret ones replaced by `***`. */
export function maskHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, isSecretHeader(k) ? MASK : v]));
}

/** The URL as text with secret query values and any user:password replaced by `***`. */
export function maskUrl(url: URL): string {
  const u = new URL(url.href);
  if (u.username || u.password) {
    u.username = MASK;
    u.password = '';
  }
  for (const name of [...new Set(u.searchParams.keys())]) {
    if (SECRET_PARAM.test(name)) u.searchParams.set(name, MASK);
  }
  return u.href;
}

/**
 * A URL that did not parse, as text, with what looks like a secret masked: the values of query parameters named like
 * secrets, and a `user:password@` before the host.
 */
export function maskUrlText(text: string): string {
  return text
    .replace(/([?&;]([^=&;#]*)=)([^&;#]*)/g, (all, head: string, name: string) => (SECRET_PARAM.test(name) ? `${head}${MASK}` : all))
    .replace(/^([a-z][\w+.-]*:\/\/)?[^/@\s]*@/i, (_all, scheme: string | undefined) => `${scheme ?? ''}${MASK}@`);
}

/**
 * A settings address that did not parse (BPIUM_URL, `webhook send --url`), as an error message may quote it:
 * everything between the scheme and the last `@` (a login and password, however malformed) becomes `***`, and the
 * host stays, to say what to fix. Unlike maskUrlText it does not rely on the text looking like a URL
 * (`ht tp://u:pw@host`, `http://u:pa/ss@host`); such addresses have no other use for `@`.
 */
export function maskAddressLogin(text: string): string {
  const at = text.lastIndexOf('@');
  if (at < 0) return text;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(text)?.[0] ?? '';
  return `${scheme}${MASK}@${text.slice(at + 1)}`;
}

/**
 * A request body as the trace shows it: form fields and JSON keys named like secrets (`password`, `token`, `api_key`)
 * masked; other text as it is.
 */
export function maskBody(body: string, contentType: string | undefined): string {
  const type = (contentType ?? '').toLowerCase();
  if (type.startsWith('application/x-www-form-urlencoded')) {
    const form = new URLSearchParams(body);
    for (const name of [...new Set(form.keys())]) if (SECRET_PARAM.test(name)) form.set(name, MASK);
    return form.toString();
  }
  if (type.includes('json')) {
    // Too deep to parse cheaply (and to mask without overflowing the stack): not shown rather than shown unmasked.
    if (jsonTooDeepAt(body) >= 0) return `(JSON nested deeper than ${MAX_JSON_DEPTH} levels: not shown)`;
    try {
      return JSON.stringify(maskJson(JSON.parse(body) as unknown));
    } catch {
      return body;
    }
  }
  return body;
}

function maskJson(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(maskJson);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, SECRET_PARAM.test(k) && typeof x !== 'object' ? MASK : maskJson(x)]));
  return v;
}
