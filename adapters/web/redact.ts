// Masks the secrets of a web request before it is logged, traced or recorded: credentials in headers and query.
import { jsonTooDeepAt, MAX_JSON_DEPTH } from '../../engine/json-depth.js';

const MASK = '***';

/**
 * Names that carry credentials, one rule for request headers, query parameters, form fields and JSON keys: a key
 * (`X-Api-Key`, `Api_Key`, `apikey`, `?key=`, `access_key_id`; `key` as a word or at the end, so not `keyword`), a
 * password (`pass`, `passwd`, `pwd`), authentication (`auth`, `Authorization`, `Authentication`), a credential, a
 * session, a signature (`signature`, or `sig` as a word: not `assignee`), a token or a secret, and cookies. Broad on
 * purpose: a name it catches wrongly (`?author=`, `passenger`) is only masked where the request is shown, never
 * changed where it is used. The keys that grant nothing (NOT_A_SECRET_KEY: `Idempotency-Key`…) are left out.
 */
const SECRET_NAME = /key$|(^|[-_.])key([-_.]|$)|pass|pwd|auth|credential|session|signature|(^|[-_.])sig([-_.]|$)|token|secret|^(set-)?cookie$/i;
/**
 * A "key" that names a request, a message or a place and grants nothing: `Idempotency-Key` (also `X-Idempotency-Key`,
 * `idempotency_key`, `idempotencyKey`), `Idempotence-Key`, a dedup(e)/deduplication key, `Sec-WebSocket-Key` (a
 * handshake nonce), a correlation, cache, routing or partition key. It is taken out of the name before SECRET_NAME
 * reads it, so the rest of the name still counts (`X-Session-Cache-Key`, `idempotency_key_secret` stay masked).
 */
const NOT_A_SECRET_KEY = /(?:idempoten(?:cy|ce)|dedup(?:e|lication)?|websocket|correlation|cache|routing|partition)[-_.]?key(?=$|[-_.])/gi;
/** A header value that is a credential whatever the header is called: `Bearer …` or `Basic …`. */
const CREDENTIAL_VALUE = /^\s*(bearer|basic)\s+\S/i;

/** Whether a header, query parameter, form field or JSON key is named like a credential (see SECRET_NAME, NOT_A_SECRET_KEY). */
export function isSecretName(name: string): boolean {
  // Most names (every header of a webhook, on each request) match nothing: only those that do are read again.
  return SECRET_NAME.test(name) && SECRET_NAME.test(name.replace(NOT_A_SECRET_KEY, ''));
}

/** Whether a header carries a credential: named like one, or (given its value) holding a Bearer or Basic credential. */
export function isSecretHeader(name: string, value?: string): boolean {
  return isSecretName(name) || (value !== undefined && CREDENTIAL_VALUE.test(value));
}

/** The headers with the values of secret ones replaced by `***`. */
export function maskHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, isSecretHeader(k, v) ? MASK : v]));
}

/**
 * The URL as text with secret query values and any user:password replaced by `***`. The query is masked as text
 * (maskQueryText), never re-serialised through searchParams, which would write a space sent as `%20` as `+`: the URL
 * recorded is the one sent, so it can be copied into curl.
 */
export function maskUrl(url: URL): string {
  const u = new URL(url.href);
  if (u.username || u.password) {
    u.username = MASK;
    u.password = '';
  }
  if (u.search) u.search = maskQueryText(u.search);
  return u.href;
}

/**
 * A request's address as sent (path and query, `/hook?token=…&id=7`) with the values of query parameters named like
 * secrets replaced by `***`; the path and every other byte as they were (no re-encoding), so the text still reads as
 * the request that came in. A name is compared percent-decoded (`%74oken` is `token`). `onMasked` gets each value
 * masked, as sent.
 */
export function maskQueryText(pathAndQuery: string, onMasked?: (value: string) => void): string {
  const q = pathAndQuery.indexOf('?');
  if (q < 0) return pathAndQuery;
  const query = pathAndQuery.slice(q + 1).replace(/(^|[&;])([^=&;#]*)=([^&;#]*)/g, (all, sep: string, name: string, value: string) => {
    if (!isSecretName(decodeQueryPart(name))) return all;
    onMasked?.(value);
    return `${sep}${name}=${MASK}`;
  });
  return `${pathAndQuery.slice(0, q + 1)}${query}`;
}

/** A query name or value percent-decoded (`+` as a space); as it is when it does not decode. */
export function decodeQueryPart(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    return name;
  }
}

/**
 * A URL that did not parse, as text, with what looks like a secret masked: the values of query parameters named like
 * secrets, and a `user:password@` before the host: after a scheme and `//` (or a `//` alone) by the rule of request
 * targets (maskUserinfo: a `/` or `?` left unencoded in the password is masked whole, a host's own path or query keeps
 * its `@`), and otherwise up to the first `@` before a `/`, after a special scheme with fewer slashes than two or
 * backslashes (`http:u:pw@host`, `http:/u:pw@host`, `http:\\u:pw@host`, which a URL parser reads as a login and a
 * password), or at the start of text without one. Leading spaces are kept and do not hide it. Linear in the text's
 * length: a caller that shows only the start of a long text masks the whole text, then cuts it (cut first, a
 * password longer than the cut loses its `@` and shows).
 */
export function maskUrlText(text: string): string {
  const lead = /^\s*/.exec(text)![0];
  const rest = text.slice(lead.length);
  // The login:password first: masked after the query, a `&token=` left unencoded in a password (`http://u:pw&token=x@…`)
  // took its `@` and the host as its value, and the password then had no `@` to end it. A `\` does not end it (a
  // parser reading it as a `/` would not take `http:u:pw\x@host` for a URL at all): masked whole.
  const unmasked = STARTS_WITH_AUTHORITY.test(rest)
    ? maskUserinfo(rest)
    : rest.replace(NO_AUTHORITY_USERINFO, (_all, scheme: string | undefined) => `${scheme ?? ''}${MASK}@`);
  // A name ends at the next `?` too: a text of a megabyte of `?` without an `=` is read once, not once per `?`. It is
  // compared percent-decoded, as maskQueryText compares it (`%74oken` is `token`).
  return lead + unmasked.replace(/([?&;]([^=&;#?]*)=)([^&;#]*)/g, (all, head: string, name: string) => (isSecretName(decodeQueryPart(name)) ? `${head}${MASK}` : all));
}

/**
 * A login:password at the start of text without an authority's `//`, up to the first `@` before a `/` or a space: after
 * a special scheme and any slashes or backslashes (`http:u:pw@host`, `http:\\u:pw@host`), or alone. The scheme's
 * slashes are taken as an atomic group (a lookahead and its backreference): `[/\\]*` giving back one `\` at a time to
 * the login, which may hold a `\` too, would make `http:` and 100 KB of `\` take seconds.
 */
const NO_AUTHORITY_USERINFO = /^(?:(?=((?:https?|wss?|ftp|file):[/\\]*))\1)?[^/@\s]*@/i;

/**
 * A URL's text as a message quotes it (JSON-quoted): its secrets masked (maskUrlText) over the whole text, then what
 * follows a `#` taken off (a fragment is never sent, and may be a secret's rest or a token: `…/../x#x?token=…`, a
 * redirect's `Location: /cb#access_token=…`), then its first `max` characters, so that a password longer than the cut
 * is not shown for want of its `@`. Masked before the `#` is looked for: a `#` in a password
 * (`http://u:7/X#pw@host/hook`) is masked with it, not cut there. For a URL that did not parse (a WebRequest url, a
 * redirect's Location): one rule for the block's messages and the web client's.
 */
export function quotedUrlText(text: string, max = 200): string {
  const masked = maskUrlText(text);
  const hash = masked.indexOf('#');
  return JSON.stringify((hash < 0 ? masked : masked.slice(0, hash)).slice(0, max));
}

/**
 * An address that a URL parser reads (a Bpium webhook subscription's URL, checked so when it was made) as it may be
 * shown: the text as written, with the login:password (maskUserinfo) and the values of query parameters named like
 * secrets (maskQueryText) as `***`, every other byte as it was. Text that a URL parser reads otherwise than it is
 * written (spaces or control characters around or in it, a backslash, a special scheme without its `//`:
 * `http:u:pw@host`, ` http://u:pw@host`) is shown as the parser reads it instead (maskUrl), so that the login and
 * password it finds are masked; text that does not parse, by maskUrlText.
 */
export function maskAddress(address: string): string {
  if (PLAIN_ADDRESS.test(address)) return maskQueryText(maskUserinfo(address));
  try {
    // The parser's form is masked by the rule of written text too: a `\` it reads as a `/` (`http://u\:pw@host/hook`,
    // host `u` and the path `/:pw@host/hook` to the parser) would leave the login:password in the path shown.
    return maskUserinfo(maskUrl(new URL(address)));
  } catch {
    return maskUrlText(address);
  }
}

/** An address read the same way as text and by a URL parser: a scheme and `//`, then no space, control character or backslash. */
const PLAIN_ADDRESS = /^[a-z][a-z0-9+.-]*:\/\/[^\s\x00-\x1f\x7f\\]*$/i;

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

/** The start of an address's authority: a scheme and `//` (`http://`), or `//` alone (a scheme-relative `//host/hook`). */
const AUTHORITY_START = String.raw`(?:[a-z][a-z0-9+.-]*:)?\/\/`;

/**
 * The scheme and the `user:password` of an absolute-form target (`http://user:pw@host/hook`) or of a scheme-relative
 * one (`//user:pw@host/hook`), up to the last `@` before the query or fragment, not to the first `/` as a URL parser
 * reads the authority: a password with a `/` left unencoded (`http://u:pa/ss@host/hook`, which WHATWG's parser refuses
 * or reads as host `u`, port and path `/ss@host/hook`) is taken whole, never shown in part as a host or a path. A path
 * with an `@` of its own (`http://host/a@b/c`, rare in a target sent to a proxy) is taken up to it: too much rather
 * than any of a password.
 */
export const ABSOLUTE_USERINFO = new RegExp(`^(${AUTHORITY_START})([^?#]*)@`, 'i');

/**
 * The authority a URL parser reads when it is a host and port followed by a path, a fragment without an `@` or nothing: `host`,
 * `host:8080`, `[::1]:80`. One followed by a `?` is not taken for a host when an `@` comes after it: `u:1234?x@host`
 * is as likely a login and a password of digits with a `?` in it as the host `u`, port 1234 and a query `x@host`
 * (a client writes `http://host:1234/?…`, with the path, anyway).
 */
const PLAIN_AUTHORITY = new RegExp(`^${AUTHORITY_START}(?:\\[[^\\]/?#@]*\\]|[^:/?#@[\\]]*)(?::\\d+)?(?=/|#[^@]*$|$)`, 'i');
/**
 * What PLAIN_AUTHORITY takes for a host, a port and a path when it may as well be a login and a password of digits
 * with a `/` and then a `?` or `#` left unencoded in it: `http://u:7/X?@host/hook`, read by a URL parser as host `u`,
 * port 7, path `/X` and the query `@host/hook`. Told apart by what follows the `?` or `#`: no `=` nor `&` (a query's
 * parameters), then an `@` and a host followed by a `/`. A query of parameters (`http://host:8080/hook?mail=a@b/c`)
 * and a fragment with no path after its `@` (`http://host:8080/hook#a@b`) keep their `@`. A password with a `=` or
 * `&` after its `?` (`http://u:7/X?a=b@host/hook`) still cannot be told from a query. Linear: each part's characters
 * exclude the delimiter that ends it.
 */
const PORT_LIKE_PASSWORD = new RegExp(`^${AUTHORITY_START}[^:/?#@[\\]]*:\\d+/[^?#@]*[?#][^=&@]*@[^/?#@]+/`, 'i');
/**
 * A login:password that runs past a `?` or a `#` left unencoded in it, to the last `@` of the address. A `#` ends
 * nothing here: a client never sends a fragment, and the server takes a scheme-relative `//u:pa#ss@host/hook` for a
 * path (Node's parser refuses a `#` before the `@` only in the absolute form).
 */
const USERINFO_PAST_QUERY = new RegExp(`^(${AUTHORITY_START})([\\s\\S]*)@`, 'i');

/**
 * A host that cannot be read as a login and password, as an address's authority begins: a name or an IPv4 address
 * without a port (there is no `:` for a password to follow), or an IP address (v4, or v6 in brackets) with one (no
 * login is an IP address). A name with a port (`host:8080`) is not one: it may as well be a login and a password of
 * digits (`u:1234`).
 */
const HOST_WITHOUT_PASSWORD = String.raw`(?:\[[^\]/?#@]*\](?::\d*)?|\d{1,3}(?:\.\d{1,3}){3}(?::\d*)?|[^:/?#@[\]\\]+)`;
/**
 * What ABSOLUTE_USERINFO took for a login:password when it is a host that cannot be one (HOST_WITHOUT_PASSWORD), a
 * `/` and a path with an `@` of its own and no `:` before it (`host/contacts/a@b`, `127.0.0.1:4055/to/a@b/c`): the
 * `@` is the path's. A `:` after the `/` (`u/ss:pw@host`, a login with a `/` in it) is still taken for a password.
 */
const HOST_THEN_PATH = new RegExp(`^${HOST_WITHOUT_PASSWORD}/[^:]*$`, 'i');
/**
 * An authority followed by a query or a fragment with no path between (`http://host?mail=a@b`,
 * `http://127.0.0.1:4055?a=b@host/hook`): a host that cannot be a login:password (HOST_WITHOUT_PASSWORD), or a name
 * and a port followed by a `?` and parameters (a `=` or `&` before the first `@`: `http://host:8080?mail=a@b`). A
 * name and digits followed by a `?` and no `=` nor `&` before the `@` (`http://u:1234?pw@host/hook`) is still taken
 * for a login and a password. Linear: each part's characters exclude the delimiter that ends it.
 */
const HOST_THEN_QUERY = new RegExp(`^${AUTHORITY_START}(?:${HOST_WITHOUT_PASSWORD}[?#]|[^:/?#@[\\]]*:\\d+\\?[^@=&]*[=&])`, 'i');
/** Text that starts with an authority: a scheme and `//`, or `//` alone. */
const STARTS_WITH_AUTHORITY = new RegExp(`^${AUTHORITY_START}`, 'i');

/**
 * The scheme (or `//`) and the `user:password` of an address's authority (ABSOLUTE_USERINFO), or null. A `?` left
 * unencoded in the password (`http://u:pw?x@host/hook`, which a URL parser reads as host `u`, port `pw` and the query
 * `x@host/hook`), or a `#` (`//u:pa#ss@host/hook`), does not end it unless what comes before it is a host and port
 * followed by a path (PLAIN_AUTHORITY), or what looks like one may be a password of digits (PORT_LIKE_PASSWORD): the
 * login:password then runs to the last `@`, too much rather than any of it. A host that cannot be a login:password
 * keeps the `@` of its path (`http://host/to/a@b/c`: HOST_THEN_PATH) and of a query or fragment right after it
 * (`http://host?mail=a@b`, `http://host:8080?mail=a@b`: HOST_THEN_QUERY), as does a plain host's query
 * (`http://host/hook?mail=a@b`). One rule for the server's log lines and stored addresses and the Bpium emulator's
 * hook URLs. Linear in the address's length (a megabyte of `@/?` is read in milliseconds).
 */
export function absoluteUserinfo(target: string): RegExpExecArray | null {
  const userinfo = ABSOLUTE_USERINFO.exec(target);
  if (userinfo) return HOST_THEN_PATH.test(userinfo[2]!) ? null : userinfo;
  if (PLAIN_AUTHORITY.test(target) && !PORT_LIKE_PASSWORD.test(target)) return null;
  return HOST_THEN_QUERY.test(target) ? null : USERINFO_PAST_QUERY.exec(target);
}

/**
 * The address with the `user:password` of its authority (absoluteUserinfo) written `***`: `http://***@host/hook`,
 * `//***@host/hook`; as it is when it has none. `onMasked` gets the login:password and the password alone, as sent.
 *
 * @example maskUserinfo('http://u:pa/ss@host/hook?id=7')  // 'http://***@host/hook?id=7'
 */
export function maskUserinfo(address: string, onMasked?: (secret: string) => void): string {
  const userinfo = absoluteUserinfo(address);
  if (!userinfo) return address;
  const pair = userinfo[2]!;
  if (onMasked) {
    onMasked(pair);
    const colon = pair.indexOf(':');
    if (colon >= 0) onMasked(pair.slice(colon + 1));
  }
  return `${userinfo[1]}${MASK}@${address.slice(userinfo[0].length)}`;
}

/**
 * A request body as the trace shows it: form fields and JSON keys named like secrets (`password`, `token`, `api_key`)
 * masked; other text as it is.
 */
export function maskBody(body: string, contentType: string | undefined): string {
  const type = (contentType ?? '').toLowerCase();
  if (type.startsWith('application/x-www-form-urlencoded')) {
    const form = new URLSearchParams(body);
    for (const name of [...new Set(form.keys())]) if (isSecretName(name)) form.set(name, MASK);
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
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, isSecretName(k) && typeof x !== 'object' ? MASK : maskJson(x)]));
  return v;
}
