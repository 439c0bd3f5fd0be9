// `--from-run` and databases: the rows a recorded run's DbQuery reads got become the case's `db:` data set, so the
// case finds in its fresh test database what the run found in the real one.
//
// The trace of a read keeps its statement as written, its parameters (secrets masked, long values cut), the result's
// columns and, up to 16 KiB, its rows. That is enough to write the rows back for a plain single-table SELECT: the
// result columns map to the table's (`name AS clientName` → name), and the WHERE's `column = :param` equalities
// give the columns that selected the row (`phone = :phone` → phone; `sent_at IS NULL` → NULL). Anything else (joins, expressions, OR, LIKE,
// masked parameters) is not guessed: it is named in the comment above the case for the author to add.
import type { JsonValue } from '../../engine/index.js';

/** One DbQuery read as its trace step keeps it. */
export interface RecordedRead {
  scenario: string;
  block: string;
  connection: string;
  statement: string;
  params: Record<string, JsonValue>;
  columns: string[];
  /** Absent when the rows were over the trace's limit. */
  rows: Array<Record<string, JsonValue>> | undefined;
  rowCount: number;
}

export type RowsAsData = { sql: string[]; table: string } | { reason: string };

const IDENT = '[A-Za-z_][A-Za-z0-9_]*';
/** Words that end a FROM table name rather than name its alias. */
const CLAUSES = /^(where|order|group|limit|having|union|join|inner|left|right|cross|natural|on|window|offset)$/i;

/** INSERT statements that give the test database the rows `read` returned, or why they cannot be written. */
export function rowsAsData(read: RecordedRead): RowsAsData {
  if (!read.rows) return { reason: `its ${read.rowCount} row(s) are over the size the trace keeps` };
  // A row lock at its end (FOR UPDATE … SKIP LOCKED) changes nothing the rows say.
  const sql = read.statement
    .replace(/--[^\n]*/g, ' ')
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/;$/, '')
    .trim()
    .replace(/ for (?:no key update|update|share|key share)(?: of [^;]*?)?(?: nowait| skip locked)?$/i, '');
  const m = new RegExp(`^select (?:all )?(.+?) from (${IDENT}(?:\\.${IDENT})?)(?: (?:as )?(${IDENT}))?(?: (where .*|order .*|limit .*|group .*))?$`, 'i').exec(sql);
  if (!m || (m[3] && CLAUSES.test(m[3]))) return { reason: 'not a plain SELECT from one table' };
  const [, list, table, , rest] = m as unknown as [string, string, string, string | undefined, string | undefined];
  if (/\b(join|union)\b/i.test(rest ?? '') || /^distinct\b/i.test(list)) return { reason: 'not a plain SELECT from one table' };
  const columns = columnMap(list, read.columns);
  if (typeof columns === 'string') return { reason: columns };
  const where = whereEqualities(rest ?? '', read.params);
  if (typeof where === 'string') return { reason: where };
  const statements = new Set<string>();
  for (const row of read.rows) {
    const values = new Map<string, JsonValue>(Object.entries(where));
    for (const [resultColumn, tableColumn] of columns) if (resultColumn in row) values.set(tableColumn, row[resultColumn]!);
    const names = [...values.keys()];
    // OR IGNORE: a row a migration (or another read) already gives is not an error, and is not doubled.
    statements.add(`INSERT OR IGNORE INTO ${table} (${names.join(', ')}) VALUES (${names.map((n) => literal(values.get(n)!)).join(', ')});`);
  }
  return { sql: [...statements], table };
}

/** Result column → table column, from the select list; a message when an item is an expression. */
function columnMap(list: string, resultColumns: string[]): Array<[string, string]> | string {
  if (list.includes('(')) return 'its select list computes values (a function or an expression)';
  const out: Array<[string, string]> = [];
  for (const raw of list.split(',').map((s) => s.trim())) {
    if (raw === '*' || new RegExp(`^${IDENT}\\.\\*$`).test(raw)) {
      for (const c of resultColumns) out.push([c, c]);
      continue;
    }
    const item = new RegExp(`^(?:${IDENT}\\.)?(${IDENT})(?:(?: as)? (${IDENT}))?$`, 'i').exec(raw);
    if (!item) return `its select list has "${raw}", which is not a column`;
    out.push([item[2] ?? item[1]!, item[1]!]);
  }
  return out;
}

/** The WHERE's `column = :param` (or `= 'text'`, `= 12`, `IS NULL`) conditions joined by AND, as column → value. */
function whereEqualities(rest: string, params: Record<string, JsonValue>): Record<string, JsonValue> | string {
  const where = /^where (.*?)(?: (?:order|group|limit) .*)?$/i.exec(rest)?.[1];
  const out: Record<string, JsonValue> = {};
  if (!where) return out;
  for (const cond of where.split(/ and /i).map((s) => s.trim().replace(/^\((.*)\)$/, '$1'))) {
    // `sent_at IS NULL` chose rows whose column is empty: written so, as a loop over the unsent rows found them.
    const isNull = new RegExp(`^(?:${IDENT}\\.)?(${IDENT}) is null$`, 'i').exec(cond);
    if (isNull) {
      out[isNull[1]!] = null;
      continue;
    }
    const m = new RegExp(`^(?:${IDENT}\\.)?(${IDENT}) ?= ?(:${IDENT}|'(?:[^']|'')*'|-?\\d+(?:\\.\\d+)?)$`, 'i').exec(cond);
    if (!m) return `its WHERE has "${cond}", which is not a column = value condition`;
    const [, column, value] = m as unknown as [string, string, string];
    if (value.startsWith(':')) {
      const v = params[value.slice(1)];
      if (v === undefined) return `its parameter ${value} is not in the record`;
      if (v === '***' || (typeof v === 'string' && /… \(\d+ chars\)$/.test(v))) return `its parameter ${value} was masked or cut in the record`;
      out[column] = v;
    } else out[column] = value.startsWith("'") ? value.slice(1, -1).replaceAll("''", "'") : Number(value);
  }
  return out;
}

/** A JSON value as an SQLite literal; text in single quotes with quotes doubled. */
function literal(v: JsonValue): string {
  if (v === null) return 'NULL';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? '1' : '0';
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  return `'${text.replaceAll("'", "''")}'`;
}

/** A row an INSERT of one row writes, as its trace step tells it: its table (as `sqlWrites` names it) and column → value. */
export interface InsertedRow {
  table: string;
  /** The columns whose value the record shows (a literal, or a parameter neither masked nor cut). */
  values: Map<string, JsonValue>;
}

const NAME_PART = `(?:"(?:[^"]|"")+"|\`[^\`]+\`|${IDENT})`;
/** A literal of a VALUES list: text, a number, NULL, TRUE or FALSE. */
const LITERAL = /^(?:'((?:[^']|'')*)'|(-?\d+(?:\.\d+)?)|(null)|(true|false))$/i;

/**
 * The row `INSERT [OR …] INTO t (a, b) VALUES (:a, 'x')` (or REPLACE INTO) writes, with the values its parameters had
 * in the record; undefined for any other statement (several rows, INSERT … SELECT, no column list). A value that is an
 * expression, or a parameter masked (`***`) or cut, is left out of `values`: it cannot be compared.
 * @example insertedRow("INSERT INTO ticks (due, label) VALUES ('2026-01-05', :label)", { label: 'A-1' }) // ticks: due, label
 */
export function insertedRow(statement: string, params: Record<string, JsonValue>): InsertedRow | undefined {
  const sql = statement.replace(/--[^\n]*/g, ' ').replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\s+/g, ' ').trim().replace(/;$/, '').trim();
  const m = new RegExp(`^(?:insert(?: or \\w+)?|replace) into (${NAME_PART}(?: ?\\. ?${NAME_PART})?)(?: as ${IDENT})? ?\\(([^()]*)\\) ?values ?\\((.*)\\)(?: on conflict .*| returning .*)?$`, 'i').exec(sql);
  if (!m) return undefined;
  const columns = m[2]!.split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1').toLowerCase());
  const items = splitTopLevel(m[3]!);
  if (!items || items.length !== columns.length) return undefined;
  const values = new Map<string, JsonValue>();
  columns.forEach((column, i) => {
    const item = items[i]!;
    const param = new RegExp(`^:(${IDENT})$`).exec(item);
    if (param) {
      const v = params[param[1]!];
      if (v !== undefined && v !== '***' && !(typeof v === 'string' && /… \(\d+ chars\)$/.test(v))) values.set(column, v);
      return;
    }
    const lit = LITERAL.exec(item);
    if (!lit) return;
    values.set(column, lit[1] !== undefined ? lit[1].replaceAll("''", "'") : lit[2] !== undefined ? Number(lit[2]) : lit[3] ? null : lit[4]!.toLowerCase() === 'true');
  });
  const table = m[1]!.split(/ ?\. ?/).map((p) => (/^["`]/.test(p) ? p.slice(1, -1).replaceAll('""', '"') : p)).join('.').toLowerCase();
  return { table, values };
}

/** The items of one VALUES row split at its top-level commas (not those inside quotes or parentheses); undefined when it is several rows. */
function splitTopLevel(list: string): string[] | undefined {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    const c = list[i]!;
    if (c === "'") {
      for (i++; i < list.length && !(list[i] === "'" && list[i + 1] !== "'"); i += list[i] === "'" ? 2 : 1);
    } else if (c === '(') depth++;
    else if (c === ')' && --depth < 0) return undefined;
    else if (c === ',' && depth === 0) {
      out.push(list.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(list.slice(start).trim());
  return out;
}
