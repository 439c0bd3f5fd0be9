// How a request's target (`/hook?token=…&id=7`, or the absolute form `http://user:pw@host/hook?…`) appears in a log
// line: its path, and the names of its query parameters without their values. One rule for every line that names a
// request (the request line, refused logins, refused webhooks, refused bodies, unexpected errors), so that a token a
// client puts into the query (`?token=`, `?key=`, `?sig=`, `?password=`, or a name nobody foresaw) never reaches the
// log, whatever the parameter is called, while the line still says which parameters came.
import { absoluteUserinfo, decodeQueryPart } from '../adapters/web/redact.js';

// The rule that finds a login:password in a target is redact.ts's, shared with the stored address (hook-request.ts)
// and the Bpium emulator's hook URLs.
export { ABSOLUTE_USERINFO, absoluteUserinfo, maskUserinfo } from '../adapters/web/redact.js';

/** The fields a log line names a request's target by: `path`, and `query` only when the target has a query. */
export interface LoggedTarget {
  /** The path alone: no scheme, host or login:password of an absolute-form target, no query, no fragment. */
  path: string;
  /** The query's parameter names in the order sent, decoded; a part without a value (no `=`, or only `=`s after the name) as `(N chars)`. */
  query?: string[];
}

/** Parameter names listed at most; more are counted in one last entry (`(+N more)`). */
const MAX_NAMES = 20;
/** A name longer than this is cut (`…`): names are short, and a long one may be data. */
const MAX_NAME_CHARS = 40;

/**
 * The target of a request as a log line names it: the path (the scheme, host and any `user:password@` of an
 * absolute-form target left out) and the query's parameter names, never their values. A part of the query with no
 * value (`?SECRET123`, a bare token; `?c2VjcmV0=`, one in base64 with its padding) is counted, not shown: `(9 chars)`. Control characters are escaped (`\x1b`), so
 * a target cannot drive the operator's terminal.
 *
 * @example loggedTarget('/Bpium/NewTask?token=abc&id=7')  // { path: '/Bpium/NewTask', query: ['token', 'id'] }
 * @example loggedTarget('http://u:pw@host/hook?x')        // { path: '/hook', query: ['(1 chars)'] }
 * @example loggedTarget('//u:pw@host/hook')               // { path: '//***@host/hook' }
 */
export function loggedTarget(target: string): LoggedTarget {
  let rest = target;
  const userinfo = absoluteUserinfo(rest);
  // An absolute-form target loses its scheme and host below, the login:password with them; a scheme-relative one
  // (`//u:pw@host/hook`) is a path to the server, logged as it is with the login:password as `***`.
  if (userinfo) rest = userinfo[1]! + (userinfo[1] === '//' ? '***@' : '') + rest.slice(userinfo[0].length);
  const absolute = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(rest);
  if (absolute) rest = rest.slice(absolute[0].length);
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);
  const q = rest.indexOf('?');
  const path = printable(q >= 0 ? rest.slice(0, q) : rest) || '/';
  if (q < 0) return { path };
  const names: string[] = [];
  const parts = rest.slice(q + 1).split(/[&;]/).filter((p) => p !== '');
  for (const part of parts.slice(0, MAX_NAMES)) {
    const eq = part.indexOf('=');
    // No value (`?SECRET`, or `?c2VjcmV0==` whose `=` are a bare base64 token's padding): the part is counted, as it
    // may be the token itself; only a name followed by a value is shown.
    if (eq < 0 || /^=*$/.test(part.slice(eq + 1))) {
      names.push(`(${charCount(decodeQueryPart(part))} chars)`);
      continue;
    }
    const name = decodeQueryPart(part.slice(0, eq));
    const cut = firstChars(name, MAX_NAME_CHARS);
    names.push(printable(cut === undefined ? name : `${cut}…`));
  }
  if (parts.length > MAX_NAMES) names.push(`(+${parts.length - MAX_NAMES} more)`);
  return names.length ? { path, query: names } : { path };
}

/** A pair of UTF-16 surrogates: one character of a text, two of its `length`. */
const SURROGATE_PAIR = /[\uD800-\uDBFF][\uDC00-\uDFFF]/g;

/** The characters (code points) of a text, as `[...text].length` counts them, without an array of a megabyte's worth. */
function charCount(text: string): number {
  return (text.length + text.replace(SURROGATE_PAIR, '').length) / 2;
}

/** The first `max` characters (code points) of a text longer than that; undefined when it is not. Reads no further. */
function firstChars(text: string, max: number): string | undefined {
  if (text.length <= max) return undefined;
  let cut = '';
  let n = 0;
  for (const ch of text) {
    if (n++ === max) return cut;
    cut += ch;
  }
  return undefined;
}

/**
 * The log fields of a request's `where` (what auth.ts and the throttle pass on): its path and, when it has one, the
 * query's names, as loggedTarget made them.
 */
export function targetFields(where: LoggedTarget): LoggedTarget {
  return where.query ? { path: where.path, query: where.query } : { path: where.path };
}

/**
 * Request text for a log line with C0/C1 control characters (ESC, BEL, CR, …) written as `\xNN`: the readable log
 * prints values without quotes, and a terminal would obey them.
 */
export function printable(text: string): string {
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
