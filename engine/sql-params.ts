// Named parameters (`:phone`) in one SQL statement: found outside quotes and comments, so values are always bound
// and never spliced into the text. Shared by the DbQuery block (load-time checks) and the database adapters.

/** A statement cut at its parameters: `text[0] :names[0] text[1] :names[1] … text[n]`. */
export interface NamedSql {
  text: string[];
  names: string[];
}

/** A placeholder style the adapters do not bind (`?`, `$1`, `@x`): reported at load time, with its offset. */
export interface SqlPlaceholderProblem {
  offset: number;
  found: string;
}

const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;

/**
 * Splits `sql` at its `:name` parameters. Skips 'text', "identifiers", `-- comments`, `/* comments *\/`,
 * PostgreSQL's `$tag$ … $tag$` quoting and `::type` casts.
 * @example parseNamedSql('SELECT name FROM clients WHERE phone = :phone').names // ['phone']
 */
export function parseNamedSql(sql: string): NamedSql & { problems: SqlPlaceholderProblem[] } {
  const text: string[] = [];
  const names: string[] = [];
  const problems: SqlPlaceholderProblem[] = [];
  let chunk = 0;
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === "'" || c === '"' || c === '`') i = skipQuoted(sql, i, c);
    else if (c === '-' && sql[i + 1] === '-') i = lineEnd(sql, i);
    else if (c === '/' && sql[i + 1] === '*') i = commentEnd(sql, i);
    else if (c === '$') {
      const tag = /\$([A-Za-z_][A-Za-z0-9_]*)?\$/y;
      tag.lastIndex = i;
      const m = tag.exec(sql);
      if (m) {
        const close = sql.indexOf(m[0], i + m[0].length);
        i = close < 0 ? sql.length : close + m[0].length;
      } else {
        if (/\d/.test(sql[i + 1] ?? '')) problems.push({ offset: i, found: /\$\d+/.exec(sql.slice(i))![0] });
        i++;
      }
    } else if (c === ':' && sql[i + 1] === ':') i += 2;
    else if (c === ':') {
      NAME.lastIndex = i + 1;
      const m = NAME.exec(sql);
      if (m && sql[i - 1] !== ':') {
        text.push(sql.slice(chunk, i));
        names.push(m[0]);
        i = chunk = i + 1 + m[0].length;
      } else i++;
    } else if (c === '?') {
      problems.push({ offset: i, found: '?' });
      i++;
    } else if (c === '@' && /[A-Za-z_]/.test(sql[i + 1] ?? '')) {
      NAME.lastIndex = i + 1;
      problems.push({ offset: i, found: `@${NAME.exec(sql)?.[0] ?? ''}` });
      i++;
    } else i++;
  }
  text.push(sql.slice(chunk));
  return { text, names, problems };
}

function skipQuoted(sql: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === quote) {
      if (sql[i + 1] === quote) i += 2; // a doubled quote is the quote itself
      else return i + 1;
    } else i++;
  }
  return sql.length;
}

function lineEnd(sql: string, start: number): number {
  const n = sql.indexOf('\n', start);
  return n < 0 ? sql.length : n + 1;
}

function commentEnd(sql: string, start: number): number {
  const n = sql.indexOf('*/', start + 2);
  return n < 0 ? sql.length : n + 2;
}

/** The distinct parameter names of a statement, in order of first use. */
export function distinctNames(s: NamedSql): string[] {
  return [...new Set(s.names)];
}

/**
 * The statement with each parameter replaced by `placeholder(name, index)`, index counting distinct names from 1
 * (PostgreSQL: `$1`; a repeated name gets the same number).
 */
export function renderNamedSql(s: NamedSql, placeholder: (name: string, index: number) => string): string {
  const order = distinctNames(s);
  let out = s.text[0]!;
  s.names.forEach((n, i) => (out += placeholder(n, order.indexOf(n) + 1) + s.text[i + 1]!));
  return out;
}

const WRITE_WORDS = /\b(insert|update|delete|merge|replace|upsert|create|drop|alter|truncate|call|do|copy|grant|revoke|into|nextval|setval|lock|vacuum|reindex|attach|detach|pragma)\b/i;

/**
 * Whether a statement only reads: it starts with SELECT, WITH, VALUES, SHOW or EXPLAIN and names no writing
 * keyword outside quotes and comments. Anything else counts as a write and is journaled, so a retried run does not
 * repeat it. A SELECT that calls a function with side effects is not seen as a write: use DbProcedure for those.
 */
export function isReadOnlySql(s: NamedSql): boolean {
  const code = stripQuotedAndComments(s.text.join(' ? '));
  const first = /^\s*\(*\s*([A-Za-z]+)/.exec(code)?.[1]?.toLowerCase();
  if (!first || !['select', 'with', 'values', 'show', 'explain'].includes(first)) return false;
  return !WRITE_WORDS.test(code);
}

function stripQuotedAndComments(sql: string): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    let next: number;
    if (c === "'" || c === '"' || c === '`') next = skipQuoted(sql, i, c);
    else if (c === '-' && sql[i + 1] === '-') next = lineEnd(sql, i);
    else if (c === '/' && sql[i + 1] === '*') next = commentEnd(sql, i);
    else {
      out += c;
      i++;
      continue;
    }
    out += ' ';
    i = next;
  }
  return out;
}
