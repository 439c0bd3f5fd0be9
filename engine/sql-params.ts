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

/**
 * A parameter's name after its `:`. Past ASCII, any character is part of it, as SQLite's and PostgreSQL's own
 * tokenizers take every non-ASCII character into an identifier: `:имя`, `:名前` are parameters (the block's
 * `params` names are letters of any script, digits and `_`), and `:имя—` is the name `имя—`, not `:имя` before a dash
 * (which the database would have read as that longer name anyway).
 */
const NAME = /[A-Za-z_\u0080-\u{10ffff}][A-Za-z0-9_\u0080-\u{10ffff}]*/uy;

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
    } else if (c === '@' && /[A-Za-z_\u0080-\uffff]/.test(sql[i + 1] ?? '')) {
      NAME.lastIndex = i + 1;
      problems.push({ offset: i, found: `@${NAME.exec(sql)?.[0] ?? ''}` });
      i++;
    } else i++;
  }
  text.push(sql.slice(chunk));
  return { text, names, problems };
}

/**
 * Where quoted text that opens at `start` ends. A doubled quote is the quote itself; in PostgreSQL's `E'…'` (the quote
 * right after a lone E) a backslash also escapes the next character, so `E'it\'s'` is one text.
 */
function skipQuoted(sql: string, start: number, quote: string): number {
  const escapes = quote === "'" && (sql[start - 1] === 'E' || sql[start - 1] === 'e') && !/[A-Za-z0-9_$]/.test(sql[start - 2] ?? '');
  let i = start + 1;
  while (i < sql.length) {
    if (escapes && sql[i] === '\\') i += 2;
    else if (sql[i] === quote) {
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

/** Where a block comment ends: at the first `*\/` (SQLite), or, `nested`, at the one that closes it (PostgreSQL). */
function commentEnd(sql: string, start: number, nested = false): number {
  if (!nested) {
    const n = sql.indexOf('*/', start + 2);
    return n < 0 ? sql.length : n + 2;
  }
  let depth = 0;
  for (let i = start; i < sql.length - 1; i++) {
    if (sql[i] === '/' && sql[i + 1] === '*') depth++, i++;
    else if (sql[i] === '*' && sql[i + 1] === '/') {
      i++;
      if (--depth === 0) return i + 1;
    }
  }
  return sql.length;
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

/** A row lock of a SELECT (`FOR UPDATE`, `FOR NO KEY UPDATE`): it changes nothing, and ends with the statement. */
const ROW_LOCK = /\bfor\s+(?:no\s+key\s+)?update\b/gi;

/**
 * Whether a statement only reads: it starts with SELECT, WITH, VALUES, SHOW or EXPLAIN, writes no table
 * (`sqlWrites`: not `WITH … MERGE`, nor a `WITH x AS (DELETE … RETURNING …)`) and names no other writing keyword
 * outside quotes and comments. Anything else counts as a write and is journaled, so a retried run does not repeat it.
 * `SELECT … FOR UPDATE` only reads: each statement commits on its own, so its lock ends with it. A SELECT that calls a
 * function with side effects is not seen as a write: use DbProcedure for those.
 */
export function isReadOnlySql(s: NamedSql): boolean {
  const sql = s.text.join(' ? ');
  // Where the two dialects read a statement differently (PostgreSQL nests block comments, SQLite does not), it only
  // reads if it reads either way: a write must never hide in what one of them takes for a comment or a text.
  return [false, true].every((nested) => readsOnly(sql, blankTextAndComments(sql, nested, false)));
}

function readsOnly(sql: string, code: string): boolean {
  const first = /^\s*\(*\s*([A-Za-z]+)/.exec(code)?.[1]?.toLowerCase();
  if (!first || !['select', 'with', 'values', 'show', 'explain'].includes(first)) return false;
  // A second statement (PostgreSQL runs several in one query that has no parameters) is not looked into.
  if (/;\s*\S/.test(code)) return false;
  const writes = sqlWrites(sql);
  if (writes.tables.length || writes.procedure) return false;
  return !WRITE_WORDS.test(code.replace(ROW_LOCK, ' '));
}

/** The first words of a statement that begins, ends or marks a transaction, in SQLite or PostgreSQL. */
const TRANSACTION_CONTROL = /^(begin|start\s+transaction|commit|end|rollback|abort|savepoint|release|prepare\s+transaction)\b/i;

/**
 * The transaction control a statement holds (`COMMIT`, `BEGIN`, `ROLLBACK TO …`, also as a second statement after a
 * `;`), as written in upper case, or undefined. Each statement of a block commits on its own, and a dry run runs them
 * in a transaction it rolls back at the end: a COMMIT there would keep the dry run's writes, and a BEGIN on a pooled
 * connection would leave the next runs' statements in a transaction nobody commits.
 * @example sqlTransactionControl(parseNamedSql('COMMIT')) // 'COMMIT'
 */
export function sqlTransactionControl(s: NamedSql): string | undefined {
  const sql = s.text.join(' ? ');
  for (const nested of [false, true]) {
    const parts = blankTextAndComments(sql, nested, false).split(';');
    // SQLite's CREATE TRIGGER … BEGIN …; END holds its own statements: its END is not a transaction's.
    // Only a trigger: after a CREATE TABLE (or INDEX, VIEW…) a `; COMMIT` is transaction control as anywhere.
    if (/^\s*create\s+(?:temp\s+|temporary\s+)?trigger\b/i.test(parts[0]!)) continue;
    for (const part of parts) {
      const m = TRANSACTION_CONTROL.exec(part.trim().replace(/^\(+\s*/, ''));
      if (m) return m[1]!.replace(/\s+/g, ' ').toUpperCase();
    }
  }
  return undefined;
}

/** What a statement's text says it writes: the one reading shared by the DbQuery block and `test --from-run`. */
export interface SqlWrites {
  /**
   * The tables it writes, lower case and without the quotes a name may have ("orders", `orders`, [orders]), schema
   * kept (`main.orders`): INSERT, REPLACE, UPDATE, DELETE, MERGE INTO, TRUNCATE, COPY … FROM, after a `WITH …` of
   * its own or inside one (`WITH x AS (DELETE FROM queue … RETURNING *) INSERT INTO done …`: queue and done).
   */
  tables: string[];
  /** Whether it makes rows: INSERT, REPLACE, COPY … FROM, a MERGE with `WHEN NOT MATCHED THEN INSERT`. */
  makesRows: boolean;
  /**
   * Whether it may write tables its text does not name: it calls a procedure (CALL, EXEC, EXECUTE), runs code (DO),
   * makes, changes or drops a table (CREATE, ALTER, DROP, SELECT … INTO), explains a write by running it (EXPLAIN
   * ANALYZE), or holds a second statement.
   */
  procedure: boolean;
}

const IDENT_PART = '(?:[A-Za-z_][A-Za-z0-9_$]*|"(?:[^"]|"")+"|`[^`]+`|\\[[^\\]]+\\])';
const QUALIFIED = `(?:${IDENT_PART}\\s*\\.\\s*){0,2}${IDENT_PART}`;
/** A statement (or a WITH's part) that writes the table it names next; PostgreSQL's `ONLY` is not the name. */
const WRITES_TABLE = new RegExp(`(insert(?: or \\w+)? into|replace into|update(?: or \\w+)?|delete from|merge into) (?:only )?(${QUALIFIED})`, 'iy');
const COPY_FROM = new RegExp(`copy (${QUALIFIED})(?: ?\\([^)]*\\))? from\\b`, 'iy');
const TRUNCATE = new RegExp(`truncate(?: table)? ((?:only )?${QUALIFIED}\\*?(?: ?, ?(?:only )?${QUALIFIED}\\*?)*)`, 'iy');

/**
 * A statement that may write tables its text does not name as written: a procedure (CALL, EXEC, EXECUTE), code (DO), a
 * table made, changed or dropped (CREATE … AS, ALTER, DROP), a write run to be explained (EXPLAIN ANALYZE).
 */
const MAY_WRITE_ANY = /^(?:(?:call|exec|execute|do|create|alter|drop|explain analyze)\b|explain \()/i;

/** PostgreSQL's `SELECT … INTO new_table FROM …`, which makes a table: an INTO outside parentheses in a SELECT. */
function selectInto(main: string): boolean {
  if (!/^select\b/i.test(main)) return false;
  let depth = 0;
  for (let i = 0; i < main.length; i++) {
    const c = main[i]!;
    if (c === '"' || c === '`') i = skipQuoted(main, i, c) - 1;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (depth === 0 && /^into\b/i.test(main.slice(i, i + 5)) && /\s/.test(main[i - 1] ?? '')) return true;
  }
  return false;
}

/** What `statement` writes, from its text (comments, quoted text and a `WITH …` before the verb do not hide it). */
export function sqlWrites(statement: string): SqlWrites {
  // Read as SQLite and as PostgreSQL (which nests block comments); where they differ, what either finds counts.
  const flat = withoutTextAndComments(statement, false);
  const nested = withoutTextAndComments(statement, true);
  const a = writesOf(flat);
  if (nested === flat) return a;
  const b = writesOf(nested);
  return { tables: [...new Set([...a.tables, ...b.tables])], makesRows: a.makesRows || b.makesRows, procedure: a.procedure || b.procedure };
}

function writesOf(text: string): SqlWrites {
  const tables = new Set<string>();
  let makesRows = false;
  const main = statementStart(text);
  for (const at of [main, ...openings(text)]) {
    WRITES_TABLE.lastIndex = COPY_FROM.lastIndex = TRUNCATE.lastIndex = at;
    const write = WRITES_TABLE.exec(text);
    const copy = write ? null : COPY_FROM.exec(text);
    const truncate = write || copy ? null : TRUNCATE.exec(text);
    if (write) tables.add(tableName(write[2]!));
    if (copy) tables.add(tableName(copy[1]!));
    if (truncate) for (const name of truncate[1]!.replace(/(^|,\s*)only /gi, '$1').match(new RegExp(QUALIFIED, 'g'))!) tables.add(tableName(name));
    const verb = write?.[1]!.split(' ')[0]!.toLowerCase();
    if (copy || verb === 'insert' || verb === 'replace' || (verb === 'merge' && /\bthen insert\b/i.test(text))) makesRows = true;
  }
  return { tables: [...tables], makesRows, procedure: MAY_WRITE_ANY.test(text.slice(main)) || /;\s*\S/.test(text) || selectInto(text.slice(main)) };
}

/** A table's name as `sqlWrites` gives it: its parts unquoted, joined by dots, lower case. */
function tableName(written: string): string {
  const unquoted = (part: string) => (part.startsWith('"') ? part.slice(1, -1).replaceAll('""', '"') : /^[`[]/.test(part) ? part.slice(1, -1) : part);
  return written.match(new RegExp(IDENT_PART, 'g'))!.map(unquoted).join('.').toLowerCase();
}

/** The statement with its comments (`nested`: PostgreSQL's nesting) and its quoted text emptied, each run of spaces one space. */
function withoutTextAndComments(sql: string, nested: boolean): string {
  return blankTextAndComments(sql, nested, true).replace(/\s+/g, ' ').trim();
}

/** Where the statement proper starts: after a leading `WITH name AS (…), …`, its parentheses matched; else 0. */
function statementStart(text: string): number {
  const start = /^with(?: recursive)? /i.exec(text);
  if (!start) return 0;
  let depth = 0;
  for (let i = start[0].length; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"' || c === '`') i = skipQuoted(text, i, c) - 1;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (depth === 0 && /[a-z]/i.test(c) && /[\s)]/.test(text[i - 1] ?? ' ')) {
      const word = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(text.slice(i))![0].toLowerCase();
      if (['insert', 'replace', 'update', 'delete', 'merge', 'select', 'values'].includes(word)) return i;
      i += word.length - 1;
    }
  }
  return 0;
}

/** Where the text inside each parenthesis starts (a WITH's part may write), quoted names skipped. */
function openings(text: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"' || c === '`') i = skipQuoted(text, i, c) - 1;
    else if (c === '(') out.push(text[i + 1] === ' ' ? i + 2 : i + 1);
  }
  return out;
}

/**
 * What the character at `offset` of `sql` is part of: code, a comment, or a quoted text ('…', $tag$…$tag$), given with
 * the text's inside (`inner`: from after its opening quote to before its closing one). Read as SQLite reads comments.
 */
export function sqlPartAt(sql: string, offset: number): { kind: 'code' } | { kind: 'comment' } | { kind: 'text'; inner: string } {
  let i = 0;
  while (i < sql.length && i <= offset) {
    const c = sql[i]!;
    const tag = dollarTag(sql, i);
    let next: number;
    let open = 1;
    let kind: 'text' | 'comment';
    if (c === "'") (next = skipQuoted(sql, i, c)), (kind = 'text');
    else if (tag) {
      const close = sql.indexOf(tag, i + tag.length);
      next = close < 0 ? sql.length : close + tag.length;
      open = tag.length;
      kind = 'text';
    } else if (c === '-' && sql[i + 1] === '-') (next = lineEnd(sql, i)), (kind = 'comment');
    else if (c === '/' && sql[i + 1] === '*') (next = commentEnd(sql, i)), (kind = 'comment');
    else if (c === '"' || c === '`') {
      i = skipQuoted(sql, i, c);
      continue;
    } else {
      i++;
      continue;
    }
    if (offset < next) return kind === 'comment' ? { kind } : { kind, inner: sql.slice(i + open, Math.max(i + open, next - open)) };
    i = next;
  }
  return { kind: 'code' };
}

/**
 * The statement with its comments (`nested`: PostgreSQL's nesting) and its quoted text ('…', E'…', $tag$…$tag$)
 * blanked out: the one reading of where text and comments are that every check here shares. With `keepNames` a quoted
 * name ("…", `…`) stays as it is and a text leaves `''` in its place; without, names are blanked too.
 */
function blankTextAndComments(sql: string, nested: boolean, keepNames: boolean): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    const tag = dollarTag(sql, i);
    let next: number;
    if (c === "'") next = skipQuoted(sql, i, c);
    else if (tag) {
      const close = sql.indexOf(tag, i + tag.length);
      next = close < 0 ? sql.length : close + tag.length;
    } else if (c === '-' && sql[i + 1] === '-') next = lineEnd(sql, i);
    else if (c === '/' && sql[i + 1] === '*') next = commentEnd(sql, i, nested);
    else if (c === '"' || c === '`') {
      next = skipQuoted(sql, i, c);
      out += keepNames ? sql.slice(i, next) : ' ';
      i = next;
      continue;
    } else {
      out += c;
      i++;
      continue;
    }
    out += keepNames && (c === "'" || tag) ? " '' " : ' ';
    i = next;
  }
  return out;
}

/** The `$tag$` (or `$$`) that opens dollar-quoted text at `i`, if one does; a tag does not follow a name's letter (`price$1`). */
function dollarTag(sql: string, i: number): string | undefined {
  if (sql[i] !== '$' || /[A-Za-z0-9_]/.test(sql[i - 1] ?? '')) return undefined;
  return /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 64))?.[0];
}
