// Runs one test case: a dry run of its scenario with the case's parameters, fake Bpium and web services, fresh
// databases, fixed clock and time zone, following every async start inline, then the subset match of its expectation.
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { applyMigrations, createDatabasePort, MigrationError, type ClosableDatabasePort, type DatabaseSettings } from '../../adapters/db/index.js';
import { createFixtureBpium } from '../../adapters/fixtures/bpium-fixtures.adapter.js';
import { createFixtureWeb } from '../../adapters/fixtures/http-fixtures.adapter.js';
import { createFixtureMailer } from '../../adapters/fixtures/mail-fixtures.adapter.js';
import { refusalBeforeSending } from '../../adapters/web/client.js';
import {
  attachChildResults,
  closest,
  createInProcessStarter,
  startedRunInputs,
  fixedClock,
  parseNamedSql,
  runScenario,
  SCENARIO_ERROR_CODES as C,
  RUN_ERROR_CODES as R,
  type ClockPort,
  type ScenarioIssue,
  type EnginePorts,
  type IdPort,
  type RunResult,
  type ScenarioLibrary,
} from '../../engine/index.js';
import { loadLibrary } from '../config.js';
import { match, observe, unexpectedRunErrors, withCallNotes, type Mismatch, type Observed, type RunErrorAt } from './expectations.js';
import { blocksReached, knownConnections, type DataSet, type TableRead, type TestCase, type TestClock } from './test-file.js';

/** Loaded scenario folders, one per folder and time zone (templates format dates in the case's zone). */
export class LibraryCache {
  private readonly loaded = new Map<string, ReturnType<typeof loadLibrary>>();

  get(dir: string, timeZone: string): ReturnType<typeof loadLibrary> {
    const key = `${timeZone}\u0000${dir}`;
    let entry = this.loaded.get(key);
    if (!entry) {
      entry = loadLibrary(dir, undefined, timeZone);
      this.loaded.set(key, entry);
    }
    return entry;
  }
}

export interface CaseOutcome {
  observed: Observed;
  mismatches: Mismatch[];
  /** Of a failing case: the runs of its tree that failed where it did not expect them to, with their errors. */
  runErrors: RunErrorAt[];
  durationMs: number;
  /** A run of the case's tree reached a scenario whose file is invalid (and so failed there). */
  reachedInvalid?: true;
}

/**
 * The case's databases could not be prepared: its `db:` data set (or a migration before it) fails. A problem of the
 * test file or the scenarios folder, located, not a result of the scenario: the case does not run.
 */
export class CaseSetupError extends Error {
  override name = 'CaseSetupError';
  constructor(readonly issue: ScenarioIssue) {
    super(issue.message);
  }
}

/** Ids count up per case, so a dry-run Bpium create gets the same made-up id every time. */
function sequentialIds(): IdPort {
  let n = 0;
  return { newId: () => `test-${++n}` };
}

/** The server's settings a case runs with, from the environment; undefined: the engine's defaults. */
export interface CaseDefaults {
  /** The effect cap of a case whose file sets none (OKTELL_MAX_EFFECTS, else the configuration file's maxEffectsPerRun). */
  maxEffects?: number;
  /** Milliseconds a run's Parser regex extractions may search in all (OKTELL_REGEX_BUDGET_MS, else regexBudgetMs), as on the server. */
  regexBudgetMs?: number;
  /** The position SubStr calls the first character (OKTELL_SUBSTR_BASE, else substrBase), as on the server. */
  substrBase?: 0 | 1;
  /**
   * The hosts WebRequest blocks may reach (WEB_REQUEST_ALLOW_HOSTS), as on the server: a request elsewhere, or to a
   * link-local address (refused live with or without a list), takes `error` with HTTP_HOST_REFUSED, fixture or not.
   */
  allowHosts?: readonly string[];
  /**
   * The connections `serve` opens on PostgreSQL, each with where that is set (`oktell.config.yaml:3:8 (databases.crm)`,
   * `OKTELL_DB_CRM`): a case runs them on SQLite too, and a data set that fails on one says so.
   */
  postgresConnections?: Readonly<Record<string, string>>;
  /** Scenarios of the folder whose file is there but does not load: a run reaching one fails, saying it is invalid. */
  invalidScenarios?: ReadonlySet<string>;
}

export async function runCase(c: TestCase, library: ScenarioLibrary, templates: EnginePorts['templates'], defaults: CaseDefaults = {}): Promise<CaseOutcome> {
  const t0 = performance.now();
  const data = caseDatabases(c, library.dir, knownConnections(library), defaults.postgresConnections ?? {});
  let outcome: CaseOutcome;
  try {
    outcome = await runWith(c, library, templates, data.port, t0, defaults, data.tables);
  } finally {
    await data.close();
  }
  // A migration that failed on the case's first statement: the run only saw a failing statement, the cause is the file's.
  const failure = data.setupFailure();
  if (failure) throw failure;
  return outcome;
}

interface CaseDatabases {
  port: ClosableDatabasePort;
  /** The statements that read what `expect.tables` names, checked against the fresh databases before the run. */
  tables: TableSql[];
  close(): Promise<void>;
  /** The setup problem met when the databases were made on first use, if any. */
  setupFailure(): CaseSetupError | undefined;
}

/**
 * The case's databases: `main`, every connection a block of the folder names or a migrations folder has, and every
 * connection its `db:` names, as the server has them configured. A case with a `db:` data set gets them at once, so
 * that a data set the database refuses is reported even when the scenario never reaches a statement. Any other case
 * gets them on its first statement: most cases touch no database, and a temporary folder with SQLite files and the
 * migrations for each costs more than the run itself.
 */
function caseDatabases(c: TestCase, scenariosDir: string, used: readonly string[], postgres: Readonly<Record<string, string>>): CaseDatabases {
  const connections = [...new Set(['main', ...used, ...Object.keys(c.db), ...c.tables.map((t) => t.connection)])];
  // Rows expected after the run are read from the databases even when the scenario never reaches a statement.
  if (Object.keys(c.db).length || c.tables.length) return { ...freshDatabases(c, scenariosDir, connections, postgres), setupFailure: () => undefined };
  return onFirstStatement(connections, () => freshDatabases(c, scenariosDir, connections, postgres));
}

/** A port that makes the databases when a statement first needs them; `dialect` is known without them (SQLite). */
function onFirstStatement(connections: readonly string[], make: () => { port: ClosableDatabasePort; close(): Promise<void> }): CaseDatabases {
  let made: { port: ClosableDatabasePort; close(): Promise<void> } | undefined;
  let failure: CaseSetupError | undefined;
  const open = (): ClosableDatabasePort => {
    if (failure) throw failure;
    if (!made) {
      try {
        made = make();
      } catch (e) {
        if (e instanceof CaseSetupError) failure = e;
        throw e;
      }
    }
    return made.port;
  };
  const port: ClosableDatabasePort = {
    dialect: (name) => (connections.includes(name) ? 'sqlite' : undefined),
    query: (connection, statement, params, opts) => open().query(connection, statement, params, opts),
    procedure: (connection, name, params, opts) => open().procedure(connection, name, params, opts),
    rollsBack: true,
    close: async () => made?.close(),
  };
  return { port, close: port.close, tables: [], setupFailure: () => failure };
}

/**
 * Fresh SQLite databases for the case's `connections`, with the scenarios' migrations and the case's data applied,
 * reached through a port that rolls back like any dry run's.
 */
function freshDatabases(c: TestCase, scenariosDir: string, connections: readonly string[], postgres: Readonly<Record<string, string>>): { port: ClosableDatabasePort; close(): Promise<void>; tables: TableSql[] } {
  const dir = mkdtempSync(join(tmpdir(), 'oktell-test-db-'));
  const settings: DatabaseSettings = {};
  for (const name of connections) settings[name] = { dialect: 'sqlite', path: join(dir, `${name}.sqlite`) };
  const port = createDatabasePort(settings, { rollsBack: true });
  const close = async () => {
    await port.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    try {
      applyMigrations(join(scenariosDir, 'db'), settings);
    } catch (e) {
      if (e instanceof MigrationError) throw new CaseSetupError(migrationIssue(e));
      throw e;
    }
    for (const [name, sets] of Object.entries(c.db)) {
      const s = settings[name]!;
      if (s.dialect !== 'sqlite') continue;
      const db = new Database(s.path);
      try {
        for (const set of sets) {
          try {
            db.exec(set.sql);
          } catch (e) {
            throw new CaseSetupError(dataSetIssue(name, set, (e as Error).message, scenariosDir, postgres[name]));
          }
        }
      } finally {
        db.close();
      }
    }
    return { port, close, tables: tableStatements(c.tables, settings, scenariosDir) };
  } catch (e) {
    void close();
    throw e;
  }
}

/** What reads one entry of `expect.tables` after the run. */
interface TableSql {
  read: TableRead;
  sql: string;
}

/** A table expectation reads at most this many rows; more is a difference of its own. */
const MAX_TABLE_ROWS = 10_000;

/**
 * The statement reading each entry of `expect.tables`, checked on the fresh database (migrations and data sets applied)
 * before the run, so a table that is not there or a query that would not read is the test file's problem, at its line:
 * a table's rows ordered by its primary key (rowid when it has none), its name quoted as an identifier; a query as
 * written, once SQLite has said it only reads (a statement that writes, a second statement or a parameter is refused).
 */
function tableStatements(reads: readonly TableRead[], settings: DatabaseSettings, scenariosDir: string): TableSql[] {
  const out: TableSql[] = [];
  const byConnection = new Map<string, TableRead[]>();
  for (const r of reads) byConnection.set(r.connection, [...(byConnection.get(r.connection) ?? []), r]);
  for (const [connection, list] of byConnection) {
    const s = settings[connection];
    if (s?.dialect !== 'sqlite') continue;
    // A connection no migration or data set touched has no file yet: an empty one, as its first statement would make.
    if (!existsSync(s.path)) new Database(s.path).close();
    // Read-only: nothing done here can change the database the case then runs on.
    const db = new Database(s.path, { readonly: true, fileMustExist: true });
    try {
      for (const read of list) out.push({ read, sql: read.query !== undefined ? checkedQuery(db, read) : tableQuery(db, read, scenariosDir) });
    } finally {
      db.close();
    }
  }
  return out;
}

/** `SELECT * FROM "<table>" ORDER BY <primary key>`, or the problem of a table the fresh database does not have. */
function tableQuery(db: Database.Database, read: TableRead, scenariosDir: string): string {
  const found = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name = ? COLLATE NOCASE").get(read.name) as { name: string } | undefined;
  if (!found) {
    const tables = (db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name").all() as Array<{ name: string }>).map((t) => t.name);
    const guess = closest(read.name, tables);
    const migrations = `${relative(process.cwd(), join(scenariosDir, 'db', read.connection)) || '.'}/*.sql`;
    throw new CaseSetupError({
      ...read.at,
      code: C.INVALID_PROPERTY,
      message: `expect.tables.${read.connection}.${read.name}: the case's "${read.connection}" database has no table "${read.name}"`,
      hint: `${guess ? `did you mean "${guess}"? ` : ''}its tables: ${tables.join(', ') || '(none)'} (made by ${migrations} and the case's db: data set); for the rows of a query, write { query: SELECT …, rows: […] }`,
    });
  }
  const keys = (db.prepare('SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk').all(found.name) as Array<{ name: string }>).map((k) => quoteIdentifier(k.name));
  return `SELECT * FROM ${quoteIdentifier(found.name)} ORDER BY ${keys.length ? keys.join(', ') : 'rowid'}`;
}

/** A query of `expect.tables` as written, once the fresh database has prepared it and said it only reads. */
function checkedQuery(db: Database.Database, read: TableRead): string {
  const refuse = (why: string, hint: string) => {
    throw new CaseSetupError({ ...(read.queryAt ?? read.at), code: C.INVALID_PROPERTY, message: `expect.tables.${read.connection}.${read.name}.query: ${why}`, hint });
  };
  const sql = read.query!;
  const example = 'e.g. query: SELECT id, sent_at FROM orders WHERE sent_at IS NOT NULL ORDER BY id';
  let stmt: Database.Statement;
  try {
    stmt = db.prepare(sql);
  } catch (e) {
    return refuse(`the case's "${read.connection}" database refuses it: ${(e as Error).message}`, `a query here is SQLite SQL, run after the case's run on its database; ${example}`);
  }
  if (!stmt.reader || !stmt.readonly) return refuse('it does not only read', `a query of expect.tables reads rows (SELECT, or WITH … SELECT) and changes nothing; ${example}`);
  const placeholders = parseNamedSql(sql);
  const first = placeholders.names.length ? `:${placeholders.names[0]}` : placeholders.problems[0]?.found;
  if (first !== undefined) return refuse(`it has a parameter (${first}), which nothing here gives a value`, `write the values into the query; ${example}`);
  return sql;
}

/** An SQLite identifier in double quotes, a quote inside it doubled. */
function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * The rows each entry of `expect.tables` reads, through the case's own connections (which see the run's writes, not
 * yet rolled back), as `Observed.tables` has them; a read that fails or reads too many rows is a difference.
 */
async function readTables(databases: ClosableDatabasePort, tables: readonly TableSql[]): Promise<{ tables: NonNullable<Observed['tables']>; mismatches: Mismatch[] }> {
  const out: NonNullable<Observed['tables']> = {};
  const mismatches: Mismatch[] = [];
  for (const { read, sql } of tables) {
    const place = ['tables', read.connection, read.name];
    try {
      const r = await databases.query(read.connection, parseNamedSql(sql), {}, { timeoutMs: 10_000, maxRows: MAX_TABLE_ROWS });
      if (r.truncated) {
        mismatches.push({ place, expected: `at most ${MAX_TABLE_ROWS} row(s)`, actual: `${r.rowCount} row(s): read fewer, with { query: SELECT … WHERE …, rows: […] }` });
        continue;
      }
      (out[read.connection] ??= {})[read.name] = read.query !== undefined ? { query: read.query, rows: r.rows } : r.rows;
    } catch (e) {
      mismatches.push({ place, expected: 'its rows', actual: `an error reading them: ${(e as Error).message}` });
    }
  }
  return { tables: out, mismatches };
}

/** A data set the fresh database refuses, at its `db.<connection>` entry, with what usually causes it. */
function dataSetIssue(connection: string, set: DataSet, message: string, scenariosDir: string, postgresAt?: string): ScenarioIssue {
  // The migrations of the case's own scenarios folder, as the command's other paths are shown (from the current folder).
  const migrations = `${relative(process.cwd(), join(scenariosDir, 'db', connection)) || '.'}/*.sql`;
  // Its tables are on the PostgreSQL database, which a case never opens: the SQLite one has only what the migrations make.
  const hint = postgresAt !== undefined
    ? `"${connection}" is PostgreSQL (${postgresAt}), but a case never opens it: it runs every connection on a fresh SQLite database of its own, which has only the tables of ${migrations} (serve applies none of them to PostgreSQL, and says so at its start); create the tables the scenarios read there, in SQL SQLite takes, and fill them here`
    : /UNIQUE constraint failed/i.test(message)
    ? `the row is there already (a migration, ${migrations}, or an earlier data set inserts it too): leave it out here or write INSERT OR IGNORE`
    : /no such table/i.test(message)
      ? `a data set fills tables: create the table in a migration (${migrations}), which every case's database gets first`
      : `the data set is SQLite SQL, run on a fresh "${connection}" database after the migrations (${migrations})`;
  return {
    ...set.at,
    code: C.DATA_SET,
    message: `db.${connection}${set.from ? ` (${set.from})` : ''}: the data set fails on a fresh "${connection}" database: ${message}`,
    hint,
  };
}

/** A migration that fails on an empty database: every case of the folder needs it, so it is the file's problem. */
function migrationIssue(e: MigrationError): ScenarioIssue {
  return {
    file: e.file ? relative(process.cwd(), e.file) || e.file : 'scenarios/db',
    line: 1,
    col: 1,
    code: C.DATA_SET,
    message: `the migration fails on a fresh test database: ${e.message}`,
    hint: 'each case starts from empty SQLite databases with the migrations applied; fix the file (`oktell-emu run` applies it the same way)',
  };
}

/** The case's clock: its start, then the recorded readings in turn, then the last one for good. */
function replayClock(clock: TestClock): ClockPort {
  const times = [clock.start, ...clock.reads];
  let next = 0;
  return {
    now() {
      const t = times[Math.min(next, times.length - 1)]!;
      next++;
      return new Date(t.getTime());
    },
  };
}

/**
 * A run that reached a scenario whose file is in the folder but invalid says so, instead of the server's words for a
 * job that waits for an edit to be fixed ("is not loaded (known: …); fix or restore its file and the job runs again").
 */
function explainInvalid(r: RunResult, invalid: ReadonlySet<string> | undefined): RunResult {
  if (!invalid?.size) return r;
  const asyncStarted = r.asyncStarted.map((a) => (a.result ? { ...a, result: explainInvalid(a.result, invalid) } : a));
  const name = r.error?.code === R.UNKNOWN_SCENARIO ? /^scenario "(.+?)" is not loaded/.exec(r.error.message)?.[1] : undefined;
  if (r.status !== 'failed' || name === undefined || !invalid.has(name)) return { ...r, asyncStarted };
  return { ...r, asyncStarted, error: { ...r.error, message: `scenario "${name}" ${REACHED_INVALID}` } };
}

const REACHED_INVALID = 'is invalid (its problems are listed with its file), and the run reached it';
const reachedInvalid = (r: RunResult): boolean => (r.status === 'failed' && r.error.message.endsWith(REACHED_INVALID)) || r.asyncStarted.some((a) => a.result !== undefined && reachedInvalid(a.result));

async function runWith(c: TestCase, library: ScenarioLibrary, templates: EnginePorts['templates'], databases: ClosableDatabasePort, t0: number, defaults: CaseDefaults, tables: readonly TableSql[]): Promise<CaseOutcome> {
  const ids = sequentialIds();
  const ports: EnginePorts = {
    databases,
    // A fresh copy per case: a dry-run write must not leak into the next case.
    ...(c.bpium ? { bpium: createFixtureBpium(structuredClone(c.bpium)) } : {}),
    // Web services only from the case's fixtures: a test never reaches the network (unmatched: HTTP_NO_FIXTURE). What
    // the server's client would refuse before sending is refused as it would be.
    web: createFixtureWeb(c.http ?? [], undefined, (spec) => refusalBeforeSending(spec.url, defaults.allowHosts)),
    // Letters are rendered, never sent; those the case's mail fixture names fail as the SMTP server would make them.
    ...(c.mail ? { mailer: createFixtureMailer(c.mail) } : {}),
    ...(templates ? { templates } : {}),
    clock: replayClock(c.clock),
    ids,
    ...(defaults.regexBudgetMs !== undefined ? { regexBudgetMs: defaults.regexBudgetMs } : {}),
    ...(defaults.substrBase !== undefined ? { substrBase: defaults.substrBase } : {}),
    asyncStarter: undefined as never,
  };
  const maxEffects = c.maxEffects ?? defaults.maxEffects;
  const opts = { dryRun: true, timeZone: c.timeZone, ports, ...(maxEffects !== undefined ? { limits: { maxEffects } } : {}) };
  // The runs it starts read a fixed clock at the case's start: the recorded times are those of the case's own run.
  const childOpts = { ...opts, ports: { ...ports, clock: fixedClock(c.clock.start) } };
  // The case's variables: preset every scenario of the run that declares them, in place of their initial values: the
  // case's own, those it calls or jumps to (where the run does not have the variable yet) and those it starts (where
  // the start copied no value of that name). A name the case's own scenario declares is its own: a scenario it starts
  // gets that one only as a live start passes it (same type, copyVariables not false), not the case's value converted
  // to another type or past copyVariables: false, which production never does.
  const own = library.scenarios.get(c.scenario)?.variables;
  const reachedOnly = Object.fromEntries(Object.entries(c.variables).filter(([name]) => !own?.has(name)));
  const presets = { calleeVariables: reachedOnly };
  const starter = createInProcessStarter(ids, (req, runId) => {
    const started = startedRunInputs(req);
    return runScenario(library, req.scenario, { ...childOpts, ...presets, ...started, variables: { ...reachedOnly, ...started.variables }, runId });
  });
  ports.asyncStarter = starter;
  childOpts.ports.asyncStarter = starter;
  const result = explainInvalid(attachChildResults(await runScenario(library, c.scenario, { ...opts, ...presets, params: c.params, variables: c.variables }), await starter.drain()), defaults.invalidScenarios);
  // Read before the databases are closed, which rolls the run's writes back.
  const read = tables.length ? await readTables(databases, tables) : undefined;
  const observed: Observed = { ...observe(result), ...(read ? { tables: read.tables } : {}) };
  // A table that could not be read is told once, by why, not also as rows that are missing.
  const unread = (m: Mismatch) => read?.mismatches.some((r) => r.place.every((p, i) => m.place[i] === p)) ?? false;
  const mismatches = [...withPathNotes(withCallNotes(match(c.expect, observed), observed).filter((m) => !unread(m)), c.expect, observed, library), ...(read?.mismatches ?? [])];
  // The mismatches say that the case failed; a run error it did not expect usually says why.
  const runErrors = mismatches.length ? unexpectedRunErrors(c.expect, observed) : [];
  return { observed, mismatches, runErrors, durationMs: Math.round((performance.now() - t0) * 10) / 10, ...(reachedInvalid(result) ? { reachedInvalid: true as const } : {}) };
}

/**
 * A difference in a path (`path[1]: expected "isNewTsk" got "isNewTask"`) whose expected step is no block of the run's
 * scenario, nor of a scenario it calls, jumps to or starts, gets a line saying so, with the block it likely means: no
 * run can go through it, so the expectation is mistyped, or names a block renamed since (`--update` rewrites it).
 */
function withPathNotes(mismatches: Mismatch[], expect: unknown, observed: Observed, library: ScenarioLibrary): Mismatch[] {
  return mismatches.map((m) => {
    const at = m.at ?? m.place;
    const k = at.indexOf('path');
    if (k === -1) return m;
    // The run the path is of: the case's own, or one it started (asyncStarted, i, result, …).
    let run: Observed | undefined = observed;
    for (let i = 0; i < k; i += 3) {
      if (at[i] !== 'asyncStarted' || typeof at[i + 1] !== 'number' || at[i + 2] !== 'result') return m;
      run = run?.asyncStarted[at[i + 1] as number]?.result;
    }
    if (!run || !library.scenarios.has(run.scenario)) return m;
    let value: unknown = expect;
    for (const seg of at) value = value !== null && typeof value === 'object' ? (value as Record<string | number, unknown>)[seg] : undefined;
    const blocks = blocksReached(library, run.scenario);
    const unknown = [...new Set(stepIds(value))].filter((id) => !blocks.has(id));
    if (!unknown.length) return m;
    const others = library.calls?.get(run.scenario)?.length ? ' nor of a scenario it starts' : '';
    const notes = unknown.map((id) => {
      const guess = closest(id, blocks);
      return `"${id}" is not a block of scenario "${run.scenario}"${others}${guess ? `: did you mean "${guess}"?` : ''}`;
    });
    return { ...m, detail: [...notes, ...(m.detail ?? [])] };
  });
}

/** The block ids an expected path (or one step of it) names: a step, a list, `{ equals: […] }`, `{ edges }`. */
function stepIds(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  if (value === null || typeof value !== 'object') return [];
  if ('equals' in value) return stepIds(value.equals);
  if ('edges' in value && value.edges !== null && typeof value.edges === 'object') {
    const edges = value.edges as { first?: unknown; last?: unknown };
    return [...stepIds(edges.first), ...stepIds(edges.last)];
  }
  return [];
}
