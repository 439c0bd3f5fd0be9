// A validate-time check that each DbQuery statement prepares on its connection, where that connection can be
// reached. The scenario loader is synchronous and must not depend on a database being up, so this runs only in
// `oktell-emu validate`: nothing is kept (SQLite: the connection's pending migrations are applied inside a transaction
// that is rolled back; PostgreSQL: Parse and Describe inside a transaction that is rolled back). The only statements
// executed are the scenarios' own CREATE TABLE statements without parameters, in that transaction, so what uses them
// prepares. A block's `into:` is compared with the columns the statement returns: on SQLite those of the prepared
// statement, on PostgreSQL those the server describes for it (Parse and Describe, without Execute).
import Database from 'better-sqlite3';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { closest, renderNamedSql, SCENARIO_ERROR_CODES as C, YamlSource, type CompiledBlock, type DeferredCheck, type NamedSql, type ScenarioIssue, type ScenarioLibrary } from '../../engine/index.js';
import { appliedMigrations, migrationFix } from './migrations.js';
import { connectionSettingFailure } from './postgres.js';
import { fromCwd, migrationFiles, migrationSql, type DatabaseSettings, type PostgresSetting } from './settings.js';

/** Statements a connection could not check: all of them, or, with `block`, the one of that block. */
export interface UncheckedStatements {
  connection: string;
  reason: string;
  block?: DeferredCheck;
}

/** One statement to check, and where its block is written. */
interface Statement {
  connection: string;
  statement: NamedSql;
  /** The block's `into:` (variable → column), to compare with the statement's result columns; absent when it has a problem of its own. */
  into?: Array<[string, string]>;
  issue: Omit<ScenarioIssue, 'code' | 'message'>;
}

export interface PrepareReport {
  issues: ScenarioIssue[];
  /**
   * Connections whose statements were not checked, and why (unreachable, no such connection…); with `block`, only
   * that block's statement (a table it uses was locked, the database took too long on it).
   */
  skipped: UncheckedStatements[];
  /** Statements not prepared because their block's statement or connection has a problem reported already. */
  deferred: DeferredCheck[];
}

/**
 * A block's problems that make preparing its statement pointless or misleading: in the statement itself (a `?`
 * placeholder, a parameter missing), in its connection, or in the block as a whole (an unknown default connection).
 * Problems elsewhere (a bad maxRows, an unused parameter, another block) do not stop the check.
 */
const SPOILS_THE_STATEMENT = ['sql', 'connection', ''];

const CONNECT_TIMEOUT_MS = 3000;
/** PostgreSQL cannot guess a parameter's type from the text alone (`SELECT :x`): that is not the author's mistake. */
const PG_INDETERMINATE_TYPE = '42P18';
const PG_SYNTAX_ERROR = '42601';
/** The server gave up waiting for a lock (`lock_timeout`), or on the statement (`statement_timeout`). */
const PG_LOCK_NOT_AVAILABLE = '55P03';
const PG_QUERY_CANCELED = '57014';
/**
 * How long the PostgreSQL check lets the server wait for a lock a statement needs, and spend on one statement. The
 * server ends the wait itself (no session is left waiting behind a lock), that statement is noted as unchecked, and
 * the others are still checked. Both are below the client's own limit (ANSWER_TIMEOUT_MS) for one round trip.
 */
const PG_LOCK_WAIT_MS = 2000;
const PG_STATEMENT_MS = 4000;

/** The PostgreSQL check stopped on a connection that stopped answering; `issues` and `skipped` are what it found before. */
class CheckCut extends Error {
  constructor(
    message: string,
    readonly issues: ScenarioIssue[],
    readonly skipped: UncheckedStatements[] = [],
  ) {
    super(message);
  }
}

/**
 * Prepares every DbQuery statement of the library on its connection. `scenariosDir` holds `db/<connection>/*.sql`:
 * an SQLite file that does not exist yet is checked against an in-memory database built from those migrations.
 * @example await checkStatementsPrepare(library, config.databases, './scenarios') // { issues: [], skipped: [] }
 */
export async function checkStatementsPrepare(library: ScenarioLibrary, settings: DatabaseSettings, scenariosDir: string): Promise<PrepareReport> {
  const byConnection = new Map<string, Statement[]>();
  const report: PrepareReport = { issues: [], skipped: [], deferred: [] };
  // The statements of files with problems elsewhere are prepared too, in the same pass as those problems.
  const blocks: CompiledBlock[] = [
    ...[...library.scenarios.values()].flatMap((s) => [...s.blocks.values()].map((block) => ({ block, faulty: new Set<string>() }))),
    ...(library.compiled ?? []),
  ];
  for (const { block, faulty } of blocks) {
    if (block.kind !== 'DbQuery') continue;
    if (SPOILS_THE_STATEMENT.some((p) => faulty.has(p))) {
      report.deferred.push({ ...block.loc, block: block.id, checks: 'preparing its statement' });
      continue;
    }
    const c = block.config as { connection: string; statement: NamedSql; into?: Array<[string, string]> };
    const list = byConnection.get(c.connection) ?? [];
    const into = c.into && !faulty.has('into') ? { into: c.into } : {};
    list.push({ connection: c.connection, statement: c.statement, ...into, issue: { ...block.loc, block: block.id } });
    byConnection.set(c.connection, list);
  }
  // The SQLite connections with migrations are checked too when no statement uses them: a file their database
  // refuses stops the server's start, so it is a problem here.
  for (const connection of migrationFolders(scenariosDir)) if (settings[connection]?.dialect === 'sqlite' && !byConnection.has(connection)) byConnection.set(connection, []);
  for (const [connection, statements] of byConnection) {
    const s = settings[connection];
    try {
      if (!s) report.skipped.push({ connection, reason: 'no such connection is configured' });
      else if (s.dialect === 'sqlite') {
        const checked = checkSqlite(s.path, connection, join(scenariosDir, 'db', connection), statements);
        report.issues.push(...checked.issues);
        report.deferred.push(...checked.deferred);
      } else {
        const checked = await checkPostgres(s, connection, statements);
        report.issues.push(...checked.issues);
        report.skipped.push(...checked.skipped);
      }
    } catch (e) {
      // The problems found before the connection stopped answering are kept.
      if (e instanceof CheckCut) {
        report.issues.push(...e.issues);
        report.skipped.push(...e.skipped);
      }
      // Down, locked or refusing us: the statements stay unchecked and validation goes on (the message has no URL).
      report.skipped.push({ connection, reason: (e as Error).message });
    }
  }
  return report;
}

/**
 * A statement that creates a table and takes no parameters (`CREATE TABLE IF NOT EXISTS log …`, as Oktell scenarios
 * often begin): the check runs it, inside its rolled-back transaction, so the statements that use the table prepare
 * as they will at run time.
 */
function makesSchema(s: Statement): boolean {
  // One CREATE TABLE, nothing else: an index build or an ALTER would lock a real table for the check's length, and a
  // second statement (a COMMIT) could end the check's transaction and keep what it ran.
  const text = s.statement.text[0]!.trim().replace(/;\s*$/, '');
  return s.statement.names.length === 0 && /^CREATE\s+(TEMP(ORARY)?\s+)?TABLE\s/i.test(text) && !text.includes(';');
}

/** The statements that make schema first, then the others, each group in the order written. */
function orderedForCheck(statements: Statement[]): Statement[] {
  return [...statements.filter(makesSchema), ...statements.filter((s) => !makesSchema(s))];
}

function problem(s: Statement, message: string, sentOffset?: number, missing?: MissingName, known?: () => KnownNames): ScenarioIssue {
  return { ...s.issue, ...statementPlace(s, message, sentOffset, missing), code: C.SQL_PREPARE, message: `the statement does not prepare on connection "${s.connection}": ${message}`, hint: SYNTAX.test(message) ? SYNTAX_HINT : nameHint(missing, known) };
}

/** A table or column the database says it does not have. */
interface MissingName {
  kind: 'table' | 'column';
  name: string;
  /** The table the column was wanted in, when the database says (SQLite's INSERT column list). */
  table?: string;
}

/** The tables (and views) of a connection's database, and their columns, for a did-you-mean. */
interface KnownNames {
  tables: string[];
  columns: Array<{ table: string; column: string }>;
  /**
   * The columns of the table an INSERT lists the missing column for, as the database resolves its name (PostgreSQL:
   * schema-qualified or on the search_path); without it they are picked from `columns` by the table's name.
   */
  ownColumns?: Array<{ table: string; column: string }>;
}

/** A syntax error of either database: the names are not what is wrong, so the advice about them would mislead. */
const SYNTAX = /syntax error|incomplete input|unrecognized token/i;
const SYNTAX_HINT = 'check the SQL at the place shown: a misspelt keyword, a missing comma or parenthesis, or syntax of another database (the connection\'s is SQLite or PostgreSQL)';

const NAMES_HINT = 'check the table and column names against the database (or its migrations in db/<connection>/*.sql)';

/** "did you mean" the closest table or column the database has, then the general advice. */
function nameHint(missing: MissingName | undefined, known: (() => KnownNames) | undefined): string {
  if (!missing || !known) return NAMES_HINT;
  const bare = missing.name.split('.').pop()!;
  const names = known();
  if (missing.kind === 'table') {
    const guess = closest(bare, names.tables);
    return guess ? `did you mean the table "${guess}"? ${NAMES_HINT}` : NAMES_HINT;
  }
  // A column an INSERT names must be one of its table's: the closest of those (all of them when the table is not found).
  const table = missing.table?.split('.').pop()!.toLowerCase();
  const own = names.ownColumns ?? names.columns.filter((c) => c.table.toLowerCase() === table);
  const guess = closest(bare, (own.length > 0 ? own : names.columns).map((c) => c.column));
  const tables = (own.length > 0 ? own : names.columns).filter((c) => c.column === guess).map((c) => c.table);
  return guess ? `did you mean the column "${guess}" (${tables.length > 1 ? 'tables' : 'table'} ${tables.join(', ')})? ${NAMES_HINT}` : NAMES_HINT;
}

/**
 * SQLite's `no such table: x` / `no such column: x`, and `table t has no column named x` (a column an INSERT lists;
 * its messages are English only).
 */
function sqliteMissing(message: string): MissingName | undefined {
  const m = /no such (table|column): ([\w.]+)/.exec(message);
  if (m) return { kind: m[1] as MissingName['kind'], name: m[2]! };
  const listed = SQLITE_NO_COLUMN_NAMED.exec(message);
  return listed ? { kind: 'column', name: listed[2]!, table: listed[1]! } : undefined;
}

/** SQLite's answer to an INSERT listing a column its table does not have: `table ticks has no column named lable`. */
const SQLITE_NO_COLUMN_NAMED = /^table (.+) has no column named (.+)$/;

/** The tables and columns of an SQLite database as the check sees it (migrations and CREATE TABLE statements applied). */
function sqliteNames(db: Database.Database): KnownNames {
  const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'`).pluck().all() as string[];
  const columns = tables.flatMap((table) => (db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all(table) as string[]).map((column) => ({ table, column })));
  return { tables, columns };
}

/**
 * PostgreSQL's undefined table (42P01) or column (42703), named by the identifier at the error's position in the
 * statement as sent: the message is in the server's language.
 */
function postgresMissing(code: string, sent: string, offset: number | undefined): MissingName | undefined {
  if ((code !== '42P01' && code !== '42703') || offset === undefined) return undefined;
  const m = /^(?:"[^"]+"|[A-Za-z_][\w$]*)(?:\.(?:"[^"]+"|[A-Za-z_][\w$]*))*/.exec(sent.slice(offset));
  if (!m) return undefined;
  const name = m[0].split('.').pop()!.replace(/^"|"$/g, '');
  if (code === '42P01') return { kind: 'table', name };
  const table = insertListing(sent, offset);
  return { kind: 'column', name, ...(table !== undefined ? { table } : {}) };
}

const PG_NAME = '(?:"(?:[^"]|"")+"|[A-Za-z_][\\w$]*)';

/**
 * The table, as written (`ticks`, `crm."Ticks"`), of the INSERT whose column list holds `offset` of the statement as
 * sent; undefined when the offset is elsewhere (a WHERE, a SELECT feeding the INSERT).
 */
function insertListing(sent: string, offset: number): string | undefined {
  const into = new RegExp(`\\bINSERT\\s+INTO\\s+(${PG_NAME}(?:\\s*\\.\\s*${PG_NAME})?)(?:\\s+AS\\s+${PG_NAME})?\\s*\\(`, 'gi');
  for (let m = into.exec(sent); m; m = into.exec(sent)) {
    const start = m.index + m[0].length;
    const end = sent.indexOf(')', start);
    if (offset >= start && (end < 0 || offset < end)) return m[1]!.replace(/\s+/g, '');
  }
  return undefined;
}

/**
 * The columns of `table` (as written in the statement) as PostgreSQL resolves the name: in its schema when qualified,
 * else the first table of that name on the search_path; undefined when there is none.
 */
async function postgresColumnsOf(client: import('pg').Client, table: string): Promise<Array<{ table: string; column: string }> | undefined> {
  const rows = (await client.query<{ t: string; c: string }>(
    `SELECT c.relname AS t, a.attname AS c FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
      WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [table],
  )).rows;
  return rows.length ? rows.map((r) => ({ table: r.t, column: r.c })) : undefined;
}

/**
 * Where in the block's `sql` the database's complaint points: PostgreSQL's error position when it gives one (the same
 * in any server language), else the table or column the message names (SQLite's `no such table: tasks`; a column an
 * INSERT lists that its table lacks, `missing.table`, in that list), the word a syntax error is near, else the
 * statement's first character, on its own line in a `sql: |` block. Undefined when the file cannot be read again (the
 * block's place is used then).
 */
function statementPlace(s: Statement, message: string, sentOffset?: number, missing?: MissingName): { line: number; col: number } | undefined {
  try {
    const src = new YamlSource(s.issue.file, readFileSync(s.issue.file, 'utf8'));
    const path = ['blocks', s.issue.block!, 'sql'];
    const { node } = src.find(path);
    const text = node && 'value' in node && typeof node.value === 'string' ? node.value : undefined;
    if (text === undefined) return undefined;
    if (sentOffset !== undefined) {
      // "at end of input" points just past the text: its last written character then.
      const at = src.locateInScalar(path, Math.min(writtenOffset(s.statement, sentOffset), text.trimEnd().length - 1));
      return { line: at.line, col: at.col };
    }
    const named = /no such (?:table|column): ([\w.]+)|(?:relation|column) "([^"]+)" does not exist|near "([^"]+)": syntax error|syntax error at or near "([^"]+)"/.exec(message);
    // A column an INSERT lists that its table lacks: the table is known (SQLite says it), see below.
    const listedIn = missing?.table;
    const word = listedIn !== undefined ? missing!.name : named && (named[1] ?? named[2] ?? named[3] ?? named[4]);
    const bare = word?.includes('.') && !new RegExp(`\\b${escapeRegExp(word)}\\b`, 'i').test(text) ? word.split('.').pop()! : word;
    const pattern = bare ? new RegExp(`(?<![\\w.])${escapeRegExp(bare)}(?!\\w)`, 'i') : undefined;
    // A column an INSERT lists is looked for in that list first: the same name may be written before it (a WITH part).
    const from = listedIn !== undefined ? columnListStart(text, listedIn) : 0;
    const after = pattern && from > 0 ? text.slice(from).search(pattern) : -1;
    const found = after >= 0 ? from + after : pattern ? text.search(pattern) : -1;
    const first = text.search(/\S/);
    const at = src.locateInScalar(path, found >= 0 ? found : Math.max(first, 0));
    return { line: at.line, col: at.col };
  } catch {
    return undefined;
  }
}

/**
 * The `into:` columns the prepared statement does not return: that variable would keep its value on every run (the
 * run only notes it in the trace). Matched ignoring case, as the run matches them. On SQLite, a statement whose
 * columns depend on the table as it is when it runs (`SELECT *`, `t.*`, `RETURNING *`: a column added later by a
 * scenario's own ALTER or by hand) is not judged, so a column it may return then is never reported. PostgreSQL's
 * answer lists the columns `*` stands for in the database being checked (`everyColumnKnown`), so there it is judged.
 */
function intoProblems(s: Statement, columns: string[], { everyColumnKnown = false } = {}): ScenarioIssue[] {
  if (!s.into?.length || (!everyColumnKnown && selectsEveryColumn(s.statement))) return [];
  const have = new Set(columns.map((c) => c.toLowerCase()));
  const issues: ScenarioIssue[] = [];
  for (const [variable, column] of s.into) {
    if (have.has(column.toLowerCase())) continue;
    const where = intoPlace(s, variable);
    if (columns.length === 0) {
      issues.push({ ...s.issue, ...where, code: C.SQL_PREPARE, message: `into: the statement returns no rows on connection "${s.connection}", so "${variable}" would keep its value on every run (column "${column}")`, hint: `remove it from into:, or make the statement return the column: … RETURNING ${column}` });
      continue;
    }
    const guess = closest(column, columns);
    const fix = guess ? `did you mean "${guess}"? write into: { ${variable}: ${guess} }, or name the column in the SQL: … AS ${column}` : `take one of its columns, e.g. into: { ${variable}: ${columns[0]} }, or name the column in the SQL: … AS ${column}`;
    issues.push({ ...s.issue, ...where, code: C.SQL_PREPARE, message: `into: the statement returns no column "${column}" on connection "${s.connection}" (its columns: ${columns.join(', ')}), so "${variable}" would keep its value on every run`, hint: fix });
  }
  return issues;
}

/** A result list that takes a table's columns as they are at run time: `SELECT *`, `SELECT t.*`, `RETURNING *`. */
function selectsEveryColumn(statement: NamedSql): boolean {
  // Without literals, quoted names and comments, so a '*' inside them does not count (a false match only skips the check).
  const text = statement.text.join(' ? ').replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|\/\*[\s\S]*?\*\//g, ' ');
  return /(?:\bSELECT(?:\s+(?:DISTINCT|ALL))?|\bRETURNING|,|\.)\s*\*/i.test(text);
}

/** Where the column of `into: { variable: column }` is written; undefined when the file cannot be read again. */
function intoPlace(s: Statement, variable: string): { line: number; col: number } | undefined {
  try {
    const src = new YamlSource(s.issue.file, readFileSync(s.issue.file, 'utf8'));
    const path = ['blocks', s.issue.block!, 'into', variable];
    if (!src.find(path).node) return undefined;
    const at = src.locate(path);
    return { line: at.line, col: at.col };
  } catch {
    return undefined;
  }
}

/** Where the column list of `INSERT INTO <table> (…)` begins in the statement's text; 0 when it is not found. */
function columnListStart(text: string, table: string): number {
  const name = escapeRegExp(table.split('.').pop()!);
  const m = new RegExp(`\\bINTO\\s+(?:(?:"[^"]+"|\\w+)\\.)?(?:"${name}"|${name})(?:\\s+AS\\s+\\w+)?\\s*\\(`, 'i').exec(text);
  return m ? m.index + m[0].length : 0;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The connections `<scenariosDir>/db/` has a folder of migrations for. */
function migrationFolders(scenariosDir: string): string[] {
  const dir = join(scenariosDir, 'db');
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && migrationFiles(join(dir, e.name)).length > 0)
    .map((e) => e.name);
}

function checkSqlite(path: string, connection: string, migrationsDir: string, statements: Statement[]): { issues: ScenarioIssue[]; deferred: DeferredCheck[] } {
  const exists = existsSync(path);
  const db = exists ? new Database(path, { fileMustExist: true, timeout: CONNECT_TIMEOUT_MS }) : new Database(':memory:');
  try {
    db.exec('BEGIN');
    try {
      const done = appliedMigrations(db);
      // The server applies these at its next start; the statements are checked as they will run then.
      for (const f of migrationFiles(migrationsDir)) {
        if (done.has(f)) continue;
        try {
          db.exec(migrationSql(join(migrationsDir, f)));
        } catch (e) {
          // `serve` and `run` stop on this file: a problem at the file, and the statements wait for it (the tables
          // they use may be the file's).
          const reason = (e as Error).message;
          const database = `${fromCwd(path)}${exists ? '' : ', a fresh database: the file does not exist yet'}`;
          return {
            issues: [{ file: fromCwd(join(migrationsDir, f)), line: 1, col: 1, code: C.MIGRATION, message: `the migration does not apply to connection "${connection}" (database ${database}): ${reason}`, hint: migrationFix(reason) }],
            deferred: statements.map((s) => ({ file: s.issue.file, line: s.issue.line, col: s.issue.col, block: s.issue.block ?? '', checks: 'preparing its statement' })),
          };
        }
      }
      const issues: ScenarioIssue[] = [];
      let names: KnownNames | undefined;
      // Tables the scenarios make themselves first (inside the transaction), so a statement using one prepares.
      for (const s of orderedForCheck(statements)) {
        try {
          const sql = renderNamedSql(s.statement, (n) => `:${n}`);
          if (makesSchema(s)) db.prepare(sql).run();
          else {
            const prepared = db.prepare(sql);
            issues.push(...intoProblems(s, prepared.reader ? prepared.columns().map((c) => c.name) : []));
          }
        } catch (e) {
          issues.push(problem(s, (e as Error).message, undefined, sqliteMissing((e as Error).message), () => (names ??= sqliteNames(db))));
        }
      }
      return { issues, deferred: [] };
    } finally {
      if (db.inTransaction) db.exec('ROLLBACK');
    }
  } finally {
    db.close();
  }
}

async function checkPostgres(s: PostgresSetting, connection: string, statements: Statement[]): Promise<{ issues: ScenarioIssue[]; skipped: UncheckedStatements[] }> {
  // Loaded here: only a check against a PostgreSQL database needs the driver.
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: s.url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (e) {
    // A setting the run would fail on too (a login refused, no such database): what happened and which setting to check.
    const wrong = connectionSettingFailure(e, connection, s);
    throw new Error(`cannot connect: ${wrong ? `${wrong.what}; ${wrong.fix}` : ((e as { code?: string }).code ?? (e as Error).message)}`);
  }
  const issues: ScenarioIssue[] = [];
  const skipped: UncheckedStatements[] = [];
  let names: KnownNames | undefined;
  try {
    await inTime(client.query('BEGIN'));
    await inTime(client.query(`SET LOCAL lock_timeout = ${PG_LOCK_WAIT_MS}; SET LOCAL statement_timeout = ${PG_STATEMENT_MS}`));
    for (const s of orderedForCheck(statements)) {
      await inTime(client.query('SAVEPOINT oktell_check'));
      const sql = renderNamedSql(s.statement, (_n, i) => `$${i}`);
      try {
        if (makesSchema(s)) await inTime(client.query(sql));
        else issues.push(...intoProblems(s, await inTime(client.query(new DescribeStatement(sql)).columns), { everyColumnKnown: true }));
        await inTime(client.query('RELEASE SAVEPOINT oktell_check'));
      } catch (e) {
        const { code, position } = e as { code?: string; position?: string };
        // No SQLSTATE: the connection is gone or the database does not answer; this and the later statements stay unchecked.
        if (!code) throw new CheckCut((e as Error).message, issues, skipped);
        await inTime(client.query('ROLLBACK TO SAVEPOINT oktell_check'));
        if (code === PG_LOCK_NOT_AVAILABLE || code === PG_QUERY_CANCELED) {
          const reason = code === PG_LOCK_NOT_AVAILABLE ? `another session held a lock on a table it uses for ${PG_LOCK_WAIT_MS / 1000} s` : `the database spent more than ${PG_STATEMENT_MS / 1000} s on it`;
          skipped.push({ connection: s.connection, reason, block: { file: s.issue.file, line: s.issue.line, col: s.issue.col, block: s.issue.block ?? '', checks: 'preparing its statement' } });
        } else if (code !== PG_INDETERMINATE_TYPE && !severalCommands(code, position, s.statement)) {
          const missing = postgresMissing(code, sql, renderedOffset(position));
          if (missing) names ??= await inTime(postgresNames(client));
          // A column an INSERT lists: the closest of that table's own columns, as on SQLite.
          const own = missing?.table !== undefined ? await inTime(postgresColumnsOf(client, missing.table)) : undefined;
          const known = names && { ...names, ...(own ? { ownColumns: own } : {}) };
          issues.push(problem(s, (e as Error).message, renderedOffset(position), missing, known && (() => known)));
        }
      }
    }
    await inTime(client.query('ROLLBACK'));
    return { issues, skipped };
  } catch (e) {
    throw e instanceof CheckCut ? e : new CheckCut((e as Error).message, issues, skipped);
  } finally {
    // With a round trip still waiting (a database gone quiet), end() closes the socket, and the server rolls back.
    await client.end().catch(() => undefined);
  }
}

/**
 * PostgreSQL prepares one command at a time; without parameters the run sends the text as it is, so several commands
 * in one statement are no problem there. Told by its SQLSTATE and the missing position (a syntax error always has
 * one), not by its text, which is in the server's language (`lc_messages`).
 */
export function severalCommands(code: string, position: string | undefined, statement: NamedSql): boolean {
  return code === PG_SYNTAX_ERROR && position === undefined && statement.names.length === 0;
}

/** PostgreSQL's error position (1-based, in the statement as sent) as a 0-based offset; undefined without one. */
function renderedOffset(position: string | undefined): number | undefined {
  const n = Number(position);
  return position !== undefined && Number.isInteger(n) && n > 0 ? n - 1 : undefined;
}

/** The tables, views and columns of the schemas on the check's search_path. */
async function postgresNames(client: import('pg').Client): Promise<KnownNames> {
  const rows = (await client.query<{ t: string; c: string | null }>(
    `SELECT t.table_name AS t, c.column_name AS c
       FROM information_schema.tables t
       LEFT JOIN information_schema.columns c ON c.table_schema = t.table_schema AND c.table_name = t.table_name
      WHERE t.table_schema = ANY (current_schemas(false))`,
  )).rows;
  return { tables: [...new Set(rows.map((r) => r.t))], columns: rows.filter((r) => r.c !== null).map((r) => ({ table: r.t, column: r.c! })) };
}

/**
 * Where an offset in the statement as sent to PostgreSQL (`:name` written as `$1`) is in the statement as written:
 * inside a placeholder it is the `:` of its parameter.
 */
export function writtenOffset(statement: NamedSql, sent: number): number {
  const order = [...new Set(statement.names)];
  let inSent = 0;
  let inWritten = 0;
  for (let i = 0; i < statement.text.length; i++) {
    const piece = statement.text[i]!;
    if (sent < inSent + piece.length) return inWritten + (sent - inSent);
    inSent += piece.length;
    inWritten += piece.length;
    const name = statement.names[i];
    if (name === undefined) break;
    const placeholder = `$${order.indexOf(name) + 1}`.length;
    if (sent < inSent + placeholder) return inWritten;
    inSent += placeholder;
    inWritten += 1 + name.length;
  }
  return inWritten;
}

/** How long one round trip of the PostgreSQL check may take: a statement waiting for a lock is not waited for. */
const ANSWER_TIMEOUT_MS = 5000;

/**
 * The answer, or an error (without SQLSTATE) when none comes in time. The caller then ends the client, which closes
 * the socket under the round trip still waiting; its failure then is ignored.
 */
function inTime<T>(answer: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      answer.catch(() => undefined);
      reject(new Error(`the database gave no answer within ${ANSWER_TIMEOUT_MS / 1000} s (a lock held on a table a statement uses?)`));
    }, ANSWER_TIMEOUT_MS);
  });
  return Promise.race([answer, late]).finally(() => clearTimeout(timer));
}

/**
 * The columns a statement returns, asked of PostgreSQL without running it: Parse and Describe of the unnamed
 * statement, then Sync, and no Bind or Execute. The server analyses the statement (its tables, columns and types,
 * refused with the error a run would get) and answers RowDescription with the result columns, or NoData for a
 * statement that returns no rows; then ReadyForQuery. Given to `client.query` as a pg "submittable" (as pg-cursor
 * is), so it waits its turn in the client's queue and the client routes the answers here: ReadyForQuery without a
 * RowDescription before it means NoData (no columns); an ErrorResponse ends it with that error.
 */
class DescribeStatement {
  readonly columns: Promise<string[]>;
  private names: string[] = [];
  private settle!: { resolve: (columns: string[]) => void; reject: (e: Error) => void };

  constructor(private readonly text: string) {
    this.columns = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
  }

  submit(connection: import('pg').Connection): void {
    connection.parse({ name: '', text: this.text, types: [] }, false);
    connection.describe({ type: 'S', name: '' }, false);
    connection.sync();
  }

  handleRowDescription(message: { fields: Array<{ name: string }> }): void {
    this.names = message.fields.map((f) => f.name);
  }

  handleReadyForQuery(): void {
    this.settle.resolve(this.names);
  }

  handleError(e: Error): void {
    this.settle.reject(e);
  }
}
