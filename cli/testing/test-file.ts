// Test files (`tests/*.test.yaml` next to the scenarios): their schema, and loading them with every problem located
// at file:line:col, like scenario files. A test file is data: it is parsed, never compiled or evaluated.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import {
  blocksOfScenarios,
  closest,
  coerceToType,
  connectionsOfBlocks,
  decodeTextFile,
  ExpressionRuntimeError,
  readBodyFile,
  SCENARIO_ERROR_CODES as C,
  firstSyntaxProblem,
  invisibleCharacters,
  scenarioNameOf,
  YamlSource,
  type PathSeg,
  type Scenario,
  type ScenarioBlock,
  type ScenarioErrorCode,
  type ScenarioIssue,
  type ScenarioLibrary,
  type SourceLocation,
  type Value,
  type VariableDecl,
  type VarType,
} from '../../engine/index.js';
import type { BpiumFixtureFile } from '../../adapters/fixtures/bpium-fixtures.adapter.js';
import { httpFixturesSchema, type HttpFixture } from '../../adapters/fixtures/http-fixtures.adapter.js';
import { mailFixtureSchema, type MailFixture } from '../../adapters/fixtures/mail-fixtures.adapter.js';
import { forYamlEditors } from '../../components/json-schema.js';
import { compilePattern } from '../../components/re2-pattern.js';
import { isMatcher } from './expectations.js';
import { formProblems, saidAs, type FormProblem } from './form-problems.js';
import { isTimeZone, timeZoneGuess } from '../../engine/suggest.js';

export const TEST_FILE_SUFFIXES = ['.test.yaml', '.test.yml'];

/** The clock a case sees when neither it nor its file sets one: fixed, so letters with dates never change. */
export const DEFAULT_TEST_CLOCK = '2026-01-01T09:00:00Z';
export const DEFAULT_TEST_TIME_ZONE = 'Europe/Moscow';

// ── Schema ─────────────────────────────────────────────────────────────────────────────────────────────────────
// One zod schema checks the files and, through z.toJSONSchema, is the JSON Schema editors get: the two cannot drift.

/** How a problem names a matcher, any of the four. */
const MATCHER = 'a matcher ({ equals | contains | matches | edges: … })';
const matcher = z.union([
  saidAs(z.strictObject({ equals: z.unknown() }).describe('the value equals this exactly (no subset matching inside)'), MATCHER),
  saidAs(z.strictObject({ contains: z.unknown() }).describe('text: contains this text; list: has an item matching this'), MATCHER),
  saidAs(z.strictObject({ matches: z.string() }).describe('text matching this regular expression, read as the Parser reads its patterns (JavaScript syntax run on RE2: no lookaround, no backreferences)'), MATCHER),
  saidAs(z
    .strictObject({ edges: z.strictObject({ first: z.array(z.unknown()), last: z.array(z.unknown()), length: z.number().int().min(0) }).partial() })
    .describe('list: its first items match `first`, its last ones `last`, it has `length` items; the items between are not checked'), MATCHER),
]);
const text = z.union([z.string(), matcher]);
/** A letter's `to`, `cc` or `bcc`: one address (the list of that one), the list, or a matcher. */
const addresses = z.union([
  saidAs(z.string().describe('one address: the letter has exactly this one'), 'an address'),
  saidAs(z.array(z.union([z.string(), matcher])).describe('the addresses, in order'), 'a list of addresses'),
  matcher,
]);
/** A field of a recorded item: its value, or a matcher for it. */
const field = <T extends z.ZodType>(value: T) => z.union([value, matcher]);

// The items of mails, bpiumCalls, dbCalls and httpCalls have the fields of the run's records, no others: a key none of
// them has (`catalog` for `catalogId`) would be expected of every item and fail as "got nothing" without a hint.
const mailExpect = z
  .strictObject({ to: addresses, cc: addresses, bcc: addresses, subject: text, text, html: text, status: field(z.string()), performed: field(z.boolean()), block: field(z.string()), error: text })
  .partial()
  .describe('a letter: only the fields named are checked');

const dbCallExpect = z
  .strictObject({
    connection: field(z.string()),
    statement: text,
    params: z.record(z.string(), z.unknown()),
    status: field(z.string()),
    rowCount: field(z.number()),
    code: field(z.string()),
    rolledBack: field(z.boolean()),
    block: field(z.string()),
    error: text,
  })
  .partial()
  .describe('a database statement: only the fields named are checked');

const bpiumCallExpect = z
  .strictObject({
    method: field(z.string()),
    catalogId: field(z.string()),
    recordId: field(z.string()),
    status: field(z.string()),
    performed: field(z.boolean()),
    httpStatus: field(z.number()),
    attempts: field(z.number()),
    block: field(z.string()),
    error: text,
  })
  .partial()
  .describe('a Bpium call: only the fields named are checked');

const httpCallExpect = z
  .strictObject({ method: field(z.string()), url: text, body: text, status: field(z.number()), outcome: field(z.string()), performed: field(z.boolean()), attempts: field(z.number()), block: field(z.string()), error: text })
  .partial()
  .describe('a web request: only the fields named are checked');

// The failure of a run has these fields, no others: `cod:` or `retriable:` would be expected of it and fail as "got
// nothing" without a hint.
const errorExpect = z
  .strictObject({
    code: field(z.string()),
    message: text,
    block: field(z.string()),
    retryable: field(z.boolean()),
    scenario: field(z.string()),
    file: text,
    line: field(z.number()),
    col: field(z.number()),
  })
  .partial()
  .describe('the failure: code, message, block, retryable (and scenario, file, line, col of the failing block); only the fields named are checked');

// `tables`: rows of the case's databases once its run has ended (read before they are rolled back). A table's rows
// are all of them, ordered by its primary key (else rowid); a query's are what it reads, in its order.
const row = z.record(z.string(), z.unknown()).describe('a row: column → value (or a matcher); only the columns named are checked');
const rows = z.array(row);
const tableExpect = z.union([
  saidAs(rows.describe('every row of the table, ordered by its primary key (rowid when it has none); a list must have the same length'), 'a list of rows'),
  matcher,
  saidAs(z
    .strictObject({
      query: z.string().min(1).describe('a statement that only reads (SELECT or WITH … SELECT), run on the case\'s database after the run'),
      rows: z.union([rows, matcher]).describe('the rows it reads, in its order'),
    })
    .describe('the rows a query reads; the key is a name of your own'), '{ query: …, rows: […] }'),
]);
const tablesExpect = z
  .record(
    z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'a connection name'),
    z.record(z.string().min(1), tableExpect).describe('table name → its rows, or a name of your own → { query, rows }'),
  )
  .describe('rows of the case\'s databases after its run (before they are rolled back): connection → table → rows');

/** A return value or variable: scalars only (a run's values are), so a mapping there is a matcher or a mistake. */
const expectedValue = z.union([z.string(), z.number(), z.boolean(), z.null(), matcher]);

export interface Expectation {
  status?: 'completed' | 'failed';
  returnValues?: Record<string, unknown>;
  error?: Record<string, unknown>;
  mails?: unknown;
  bpiumCalls?: unknown;
  dbCalls?: unknown;
  httpCalls?: unknown;
  asyncStarted?: Array<{ scenario?: string; params?: Record<string, unknown>; result?: Expectation }>;
  path?: unknown;
  variables?: Record<string, unknown>;
  /** Of the case's own expectation only (the databases are the case's, not a started run's): connection → name → rows. */
  tables?: Record<string, Record<string, unknown>>;
}

const expectationObject = z
  .strictObject({
    status: z.enum(['completed', 'failed']).describe('how the run ended'),
    returnValues: z.union([matcher, z.record(z.string(), expectedValue)]).describe('return values by number; only those named are checked'),
    error: errorExpect,
    mails: z.union([z.array(mailExpect), matcher]).describe('every letter, in order (a list must have the same length)'),
    bpiumCalls: z.union([z.array(bpiumCallExpect), matcher]).describe('every Bpium call, in order'),
    dbCalls: z.union([z.array(dbCallExpect), matcher]).describe('every database statement (DbQuery, DbProcedure), in order; all rolled back'),
    httpCalls: z.union([z.array(httpCallExpect), matcher]).describe('every web request (WebRequest block), in order'),
    get asyncStarted() {
      return z
        .array(
          z.strictObject({
            scenario: z.string(),
            params: z.record(z.string(), z.unknown()),
            result: expectation.describe('what the started scenario did'),
          }).partial(),
        )
        .describe('every asynchronous start, in order, with what the started scenario did');
    },
    path: z.union([z.array(z.string()), matcher]).describe('the ids of the blocks the run went through, in order'),
    variables: z.union([matcher, z.record(z.string(), expectedValue)]).describe('variables when the run ended; only those named are checked'),
  })
  .partial();
const expectation: z.ZodType<Expectation> = expectationObject;
/** A case's own expectation: a started run's (`asyncStarted[].result`) has no `tables`, its databases being the case's. */
const caseExpectation = expectationObject.extend({ tables: tablesExpect.optional() });

const paramValue = z.union([z.string(), z.number(), z.boolean()]);
const params = z
  .record(z.string().regex(/^[1-9]\d?$/, 'an input parameter number, 1 to 99'), paramValue)
  .describe('input parameters by number; "@file" reads a file next to the test file, "@@text" passes "@text"');

const variables = z
  .record(z.string().min(1), paramValue)
  .describe('values the case\'s scenario starts with instead of its variables\' initial ones (a gateway address, a setting); names it must declare');

const bpiumFixture = z
  .strictObject({
    catalogs: z.record(
      z.string(),
      z.strictObject({
        name: z.string(),
        fields: z.array(z.strictObject({ id: z.string(), name: z.string(), type: z.string() })),
        records: saidAs(z.record(z.string(), z.record(z.string(), z.unknown())), 'a mapping of record id → its field values'),
      }).partial(),
    ),
    failures: z
      .record(z.string(), z.union([z.literal(404), z.literal(429), z.literal(500), saidAs(z.number().int(), 'another HTTP status'), z.enum(['timeout', 'network'])]))
      .describe('"<catalogId>/<recordId>" (or "<catalogId>/*" for searches, "<catalogId>/structure" for the read of its structure): 404 | 429 | 500 | timeout | network'),
  })
  .partial({ failures: true });
const bpium = z
  .union([saidAs(z.string().describe('a fixture file, relative to the test file'), 'a fixture file name'), saidAs(bpiumFixture, 'the fixture itself (catalogs:, failures:)')])
  .describe('the fake Bpium the case talks to (as --bpium-fixtures of `run`); none: a Bpium block fails');

const db = z
  .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'a connection name'), z.string())
  .describe('a known data set: connection → SQL (or "@file.sql", relative to the test file) run on a fresh SQLite database of that name before the case, after scenarios/db/<connection>/*.sql');
const http = z
  .union([saidAs(z.string().describe('a fixture file, relative to the test file'), 'a fixture file name'), saidAs(httpFixturesSchema, 'a list of fixtures (- match: …)')])
  .describe('canned answers of web services (as --http-fixtures of `run`); a request none matches fails with HTTP_NO_FIXTURE');

const mail = mailFixtureSchema.describe('the mail server of the case: letters are never sent, but those named under failures fail as it would make them');

/**
 * A time of `clock:` as text, whose date part editors check (`pattern`, in the JSON Schema only): the loader's own check
 * (checkTime) says what is wrong in its words, so zod takes any text.
 */
const isoTime = (description: string) => z.string().meta({ description, pattern: '^\\d{4}-\\d{2}-\\d{2}' });
const clock = z.union([
  saidAs(isoTime('the fixed time the case runs at, ISO 8601, e.g. 2026-11-28T09:00:00Z'), 'a date and time (ISO 8601)'),
  saidAs(z
    .strictObject({
      start: isoTime('the time the run starts at, ISO 8601'),
      reads: z.array(isoTime('a time, ISO 8601')).describe('the times the run\'s later reads of the clock (Now()) get, in order; past the last, the clock stays at it'),
    })
    .describe('a clock that moves as a recorded run\'s did (--from-run writes it)'), '{ start: …, reads: […] }'),
]);
const timeZone = z.string().describe('IANA time zone for dates in expressions and templates, e.g. Europe/Moscow');
const maxEffects = z
  .number()
  .int()
  .min(1)
  .describe('the per-run cap on effects (letters, Bpium calls, web requests, database statements, async starts), as the server\'s maxEffectsPerRun (default $OKTELL_MAX_EFFECTS, else maxEffectsPerRun of the configuration file, else 100)');

const testCase = z.strictObject({
  name: z.string().min(1).describe('shown in the report; unique in the file'),
  scenario: z.string().min(1).describe('the scenario to run'),
  params: params.optional(),
  variables: variables.optional(),
  bpium: bpium.optional(),
  db: db.optional(),
  http: http.optional(),
  mail: mail.optional(),
  clock: clock.optional(),
  timeZone: timeZone.optional(),
  maxEffects: maxEffects.optional(),
  expect: caseExpectation.describe('what the run must do; what is not named is not checked'),
});

const testFile = z.strictObject({
  description: z.string().optional(),
  scenarios: z.string().optional().describe('the scenarios folder, relative to this file (default: the folder holding tests/)'),
  bpium: bpium.optional().describe('the fake Bpium of every case that sets none'),
  db: db.optional().describe('data every case starts from (a case\'s own db: runs after it)'),
  http: http.optional().describe('the web services of every case that sets none'),
  mail: mail.optional().describe('the mail server of every case that sets none'),
  clock: clock.optional().describe(`the clock of every case that sets none (default ${DEFAULT_TEST_CLOCK})`),
  timeZone: timeZone.optional().describe(`the time zone of every case that sets none (default ${DEFAULT_TEST_TIME_ZONE})`),
  maxEffects: maxEffects.optional().describe('the effect cap of every case that sets none (default $OKTELL_MAX_EFFECTS, else maxEffectsPerRun of the configuration file, else 100)'),
  cases: z.array(testCase).min(1).describe('the cases, run in order of the file'),
});

type RawFile = z.infer<typeof testFile>;

export function buildTestFileJsonSchema(): Record<string, unknown> {
  return forYamlEditors({
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://github.com/oktell-emulator/oktell-emulator/schema/scenario-test.schema.json',
    title: 'Oktell emulator scenario test file',
    description: 'Cases that run scenarios with fixed inputs and check what they did. See docs/testing-scenarios.md.',
    // The matcher, allowed at most places, once under $defs rather than written out at each.
    ...(z.toJSONSchema(testFile, { unrepresentable: 'any', io: 'input', reused: 'ref' }) as Record<string, unknown>),
  });
}

// ── Loading ────────────────────────────────────────────────────────────────────────────────────────────────────

export interface TestCase {
  index: number;
  name: string;
  scenario: string;
  params: Record<string, Value>;
  /** Values the case's scenario starts with instead of the initial ones of its variables. */
  variables: Record<string, Value>;
  bpium: BpiumFixtureFile | undefined;
  /** SQL per connection run on fresh databases before the case: the file's, then the case's. */
  db: Record<string, DataSet[]>;
  http: HttpFixture[] | undefined;
  /** Letters the case's mail server fails; undefined: none fail. */
  mail: MailFixture | undefined;
  clock: TestClock;
  timeZone: string;
  /** The case's or the file's cap; undefined: the command's default. */
  maxEffects: number | undefined;
  expect: Expectation;
  /** The tables and queries `expect.tables` names, read from the case's databases when its run has ended. */
  tables: TableRead[];
  /** A problem of the test file concerns this case (listed in the file's `issues`): it does not run. */
  blocked: boolean;
}

/**
 * The times a case's run reads: `start` when it starts, then each of `reads` in turn (a recorded run's readings), then
 * the last one again. A plain `clock:` is a start with no reads: a fixed clock.
 */
export interface TestClock {
  start: Date;
  reads: Date[];
}

/** One `db:` entry: its SQL and where it is written, so a failing data set is reported at its line. */
export interface DataSet {
  sql: string;
  /** The `db.<connection>` entry in the test file. */
  at: SourceLocation;
  /** `@file.sql` as written, when the SQL came from a file. */
  from?: string;
}

/** A table or query of `expect.tables`, with where the test file names it (its problems are reported there). */
export interface TableRead {
  connection: string;
  /** The key: the table's name, or the test's own name for a query. */
  name: string;
  /** Of the query form: its SQL. */
  query?: string;
  /** The key `expect.tables.<connection>.<name>`. */
  at: SourceLocation;
  /** The key `expect.tables.<connection>`. */
  connectionAt: SourceLocation;
  /** Of the query form: where its `query:` text is. */
  queryAt?: SourceLocation;
}

export interface TestFile {
  /** As shown in reports (relative to the working directory). */
  file: string;
  path: string;
  source: YamlSource;
  scenariosDir: string;
  /** The file's own `scenarios:` key, as written, when it has one. */
  scenariosKey?: string;
  cases: TestCase[];
  /** Problems found once the form was right (@files, fixtures, clocks, …); the cases they concern are `blocked`. */
  issues: ScenarioIssue[];
}

/** A file whose form is wrong does not load (`ok: false`, every form problem at once); one that loads may have issues. */
export type TestFileLoad = { ok: true; file: TestFile } | { ok: false; issues: ScenarioIssue[] };

/**
 * Parses and checks a test file; the scenario names and variables are checked by `unknownScenarios` and
 * `variableProblems` once its folder is loaded, in the same round as the file's own issues.
 */
export function loadTestFile(path: string, defaultScenariosDir: string): TestFileLoad {
  let bytes: Buffer;
  const shown = relative(process.cwd(), path) || path;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    return { ok: false, issues: [{ file: shown, line: 1, col: 1, code: C.READ_FAILED, message: `cannot read the test file: ${(e as Error).message}` }] };
  }
  const read = decodeTextFile(bytes);
  if (!read.ok) return { ok: false, issues: [{ file: shown, line: read.line, col: read.col, code: C.YAML_SYNTAX, message: read.message, hint: read.hint }] };
  return loadTestText(read.text, path, defaultScenariosDir);
}

/**
 * `loadTestFile` on text already in memory, as if it were the file `path` (which need not exist: @files and fixture
 * files are read relative to its folder, and problems are located in it): `test --against-runs` checks and runs the
 * case `--from-run` would write without writing it.
 */
export function loadTestText(text: string, path: string, defaultScenariosDir: string): TestFileLoad {
  const shown = relative(process.cwd(), path) || path;
  const issues: ScenarioIssue[] = [];
  const report = (at: { file: string; line: number; col: number }, code: ScenarioErrorCode, message: string, hint?: string) =>
    issues.push({ ...at, code, message, ...(hint ? { hint } : {}) });
  const src = new YamlSource(shown, text);
  if (!readable(src, report, 'a test file')) return { ok: false, issues };
  let raw: unknown;
  try {
    raw = src.doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    report(src.locate([]), C.YAML_SYNTAX, `YAML: ${(e as Error).message.split('\n')[0]}`);
    return { ok: false, issues };
  }
  const parsed = testFile.safeParse(raw);
  let data: RawFile;
  /** Form problems of inline `http:` and `bpium:` fixtures, set aside by the fixture's place (`inlineAt`). */
  let inline: InlineProblems = new Map();
  if (parsed.success) data = parsed.data;
  else {
    const problems = formProblems(parsed.error.issues, raw, testFile);
    const apart = withoutInlineFixtureProblems(problems, raw);
    if (!apart) {
      reportForm(problems, src, report);
      // In the order of the file, as a loaded file's problems are.
      return { ok: false, issues: issues.sort((a, b) => a.line - b.line || a.col - b.col) };
    }
    ({ data, inline } = apart);
  }
  // The form is right: from here a problem keeps only the cases it concerns from running — its own case, or, for a
  // file-wide setting, the cases that use it (those without their own). The file still loads, so its scenario names
  // and variables are checked in the same round.
  const checked = <T>(read: () => T): { value: T; bad: boolean } => {
    const before = issues.length;
    const value = read();
    return { value, bad: issues.length > before };
  };
  const base = dirname(path);
  const scenariosDir = data.scenarios !== undefined ? resolve(base, data.scenarios) : defaultScenariosDir;
  if (data.scenarios !== undefined && !isFolder(scenariosDir)) {
    // Every case runs that folder: none can run. Said at the key, not as a usage error of the command.
    report(
      src.locate(['scenarios']),
      C.INVALID_PROPERTY,
      `scenarios: ${data.scenarios}: no folder ${relative(process.cwd(), scenariosDir) || scenariosDir}`,
      `the path is relative to the test file (${relative(process.cwd(), base) || '.'}); or leave the key out, and the file runs the scenarios of the folder that holds its tests/ folder (or --scenarios)`,
    );
    return { ok: false, issues };
  }
  /** An inline fixture whose form was wrong: its problems, reported now, keep the cases using it from running. */
  const setAside = (where: number | 'file', key: InlineFixtureKey): { value: undefined; bad: boolean } | undefined => {
    const problems = inline.get(inlineAt(where, key));
    return problems && checked((): undefined => void reportForm(problems, src, report));
  };
  const fileBpium = setAside('file', 'bpium') ?? checked(() => (data.bpium !== undefined ? readFixture(data.bpium, base, src, ['bpium'], report) : undefined));
  const fileHttp = setAside('file', 'http') ?? checked(() => (data.http !== undefined ? readHttpFixture(data.http, base, src, ['http'], report) : undefined));
  const fileClock = checked(() => (data.clock !== undefined ? checkClock(data.clock, src, ['clock'], report) : { start: new Date(DEFAULT_TEST_CLOCK), reads: [] }));
  const fileDb = checked(() => readDb(data.db ?? {}, base, src, ['db'], report));
  const fileTz = checked(() => (data.timeZone !== undefined ? checkTimeZone(data.timeZone, src, ['timeZone'], report) : DEFAULT_TEST_TIME_ZONE));
  /** The case's own setting when it has one, else the file's (and whether that one has a problem). */
  const own = <T>(value: unknown, read: () => T, file: { value: T; bad: boolean }): { value: T; bad: boolean } => (value !== undefined ? checked(read) : file);
  const names = new Set<string>();
  const cases: TestCase[] = data.cases.map((c, i) => {
    const at = (...p: PathSeg[]): PathSeg[] => ['cases', i, ...p];
    const before = issues.length;
    if (names.has(c.name)) report(src.locate(at('name')), C.INVALID_PROPERTY, `two cases are named "${c.name}"`, 'names pick cases for --filter and --update: make them unique');
    names.add(c.name);
    checkRegexes(c.expect, at('expect'), src, report);
    const params = readParams(c.params ?? {}, base, src, at('params'), report);
    const db = mergeDb(fileDb.value, readDb(c.db ?? {}, base, src, at('db'), report));
    const bpium = setAside(i, 'bpium') ?? own(c.bpium, () => readFixture(c.bpium!, base, src, at('bpium'), report), fileBpium);
    const http = setAside(i, 'http') ?? own(c.http, () => readHttpFixture(c.http!, base, src, at('http'), report), fileHttp);
    const clock = own(c.clock, () => checkClock(c.clock!, src, at('clock'), report), fileClock);
    const timeZone = own(c.timeZone, () => checkTimeZone(c.timeZone!, src, at('timeZone'), report), fileTz);
    return {
      index: i,
      name: c.name,
      scenario: c.scenario,
      params,
      variables: c.variables ?? {},
      bpium: bpium.value,
      db,
      http: http.value,
      mail: c.mail ?? data.mail,
      clock: clock.value,
      timeZone: timeZone.value,
      maxEffects: c.maxEffects ?? data.maxEffects,
      expect: c.expect,
      tables: tableReads(c.expect.tables ?? {}, src, at('expect', 'tables')),
      blocked: issues.length > before || fileDb.bad || bpium.bad || http.bad || clock.bad || timeZone.bad,
    };
  });
  return { ok: true, file: { file: shown, path, source: src, scenariosDir, ...(data.scenarios !== undefined ? { scenariosKey: data.scenarios } : {}), cases, issues: once(issues) } };
}

/**
 * Reports the duplicate keys and the first syntax error of a test or fixture file, as the scenario loader does (the
 * same hints; the errors the first one causes only counted); false when the file cannot be trusted. A file that does
 * not parse and holds characters no editor shows (Ctrl-Z, the end-of-file mark DOS tools write after the last line; a
 * NUL; a second byte-order mark) has those named at their places instead, as a scenario file has: the YAML error they
 * make ("Implicit map keys need to be followed by map values" at the last line) says nothing of them. `kind` names the
 * file in the hint ("a test file").
 */
function readable(src: YamlSource, report: Report, kind: string): boolean {
  const invisible = src.doc.errors.length ? invisibleCharacters(src.text, kind) : [];
  if (invisible.length) {
    for (const c of invisible) report(src.at(c.offset), C.YAML_SYNTAX, c.message, c.hint);
    return false;
  }
  let ok = true;
  for (const err of src.doc.errors) {
    if (err.code !== 'DUPLICATE_KEY') continue;
    const dup = src.duplicateKey(err.pos[0]);
    report(src.at(err.pos[0]), C.DUPLICATE_KEY, dup ? `duplicate key "${dup.key}" (first at line ${dup.first.line}, column ${dup.first.col})` : 'duplicate key in a mapping', 'each key may appear once');
    ok = false;
  }
  const syntax = firstSyntaxProblem(src);
  if (syntax) report(syntax.at, C.YAML_SYNTAX, syntax.message, syntax.hint);
  return ok && !syntax;
}

/** The keys, of the file and of a case, whose inline fixture's form mistakes stop only the cases using that fixture. */
const INLINE_FIXTURE_KEYS = ['bpium', 'http'] as const;
type InlineFixtureKey = (typeof INLINE_FIXTURE_KEYS)[number];
/** Form problems of inline fixtures, by the fixture's place (`inlineAt`). */
type InlineProblems = Map<string, FormProblem[]>;
/** The place of an inline fixture: `key` of case `where`, or of the file. */
const inlineAt = (where: number | 'file', key: InlineFixtureKey): string => `${where}.${key}`;

/**
 * When every problem of a file's form is inside an inline fixture (`http:` or `bpium:`, a case's or the file's), the
 * file without those fixtures, which then has the right form, and the problems set aside by where they were: they
 * keep only the cases using that fixture from running (a misspelt `stauts` in one case's `http:` list, or `recods` in
 * its `bpium:` catalog, stops that case, not the file). Undefined when any problem is elsewhere: the file's form is
 * wrong, and none of its cases runs.
 */
function withoutInlineFixtureProblems(problems: FormProblem[], raw: unknown): { data: RawFile; inline: InlineProblems } | undefined {
  const inline: InlineProblems = new Map();
  const places: Array<{ where: number | 'file'; key: InlineFixtureKey }> = [];
  const keyOf = (seg: unknown) => INLINE_FIXTURE_KEYS.find((k) => k === seg);
  for (const p of problems) {
    const inCase = p.path[0] === 'cases' && typeof p.path[1] === 'number';
    const where = inCase ? (p.path[1] as number) : 'file';
    const key = keyOf(inCase ? p.path[2] : p.path[0]);
    if (key === undefined) return undefined;
    const at = inlineAt(where, key);
    if (!inline.has(at)) places.push({ where, key });
    inline.set(at, [...(inline.get(at) ?? []), p]);
  }
  if (!inline.size) return undefined;
  const trimmed = structuredClone(raw) as Record<string, unknown> & { cases: Array<Record<string, unknown>> };
  for (const { where, key } of places) delete (where === 'file' ? trimmed : trimmed.cases[where]!)[key];
  const again = testFile.safeParse(trimmed);
  return again.success ? { data: again.data, inline } : undefined;
}

/** Problems of a file's form, each at its place in `src`: an unknown or refused key at the key, the others at the value. */
function reportForm(problems: FormProblem[], src: YamlSource, report: Report): void {
  for (const p of problems) {
    if (p.kind === 'unknown-key') report(src.locate([...p.path, p.key], { key: true }), C.UNKNOWN_KEY, p.message, p.hint);
    else if (p.kind === 'missing') report(src.locate(p.path.slice(0, -1)), C.MISSING_PROPERTY, p.message, p.hint);
    else if (p.kind === 'bad-key') report(src.locate(p.path, { key: true }), C.INVALID_PROPERTY, p.message, p.hint);
    else report(src.locate(p.path), C.INVALID_PROPERTY, p.message, p.hint);
  }
}

/** A fixture file several cases name is reported once. */
function once(issues: ScenarioIssue[]): ScenarioIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.file}:${i.line}:${i.col} ${i.code} ${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Cases naming a scenario the folder does not have, located at their `scenario:`. A scenario whose file is there but
 * invalid (`invalid`: its name) is not unknown: its own problems are reported with the folder, so the file gets one
 * line per such scenario, at the first case running it.
 */
export function unknownScenarios(file: TestFile, known: Iterable<string>, invalid: Iterable<string> = []): ScenarioIssue[] {
  const names = [...known];
  const broken = new Set(invalid);
  const issues: ScenarioIssue[] = [];
  const said = new Set<string>();
  for (const c of file.cases) {
    if (names.includes(c.scenario) || said.has(c.scenario)) continue;
    if (broken.has(c.scenario)) {
      said.add(c.scenario);
      const count = file.cases.filter((k) => k.scenario === c.scenario).length;
      issues.push({
        ...file.source.locate(['cases', c.index, 'scenario']),
        code: C.INVALID_PROPERTY,
        message: `scenario "${c.scenario}" is invalid (its problems are listed with its file): ${count === 1 ? 'its case' : `the ${count} cases running it`} cannot run`,
        hint: `fix it; \`oktell-emu validate\` lists the problems`,
      });
      continue;
    }
    const guess = closest(c.scenario, names);
    const folder = relative(process.cwd(), file.scenariosDir) || '.';
    // Nothing close: maybe the file tests another folder. Said once a file, with where this folder came from.
    const where = guess || said.has(WHERE) ? '' : folderSource(file, folder);
    if (where) said.add(WHERE);
    issues.push({
      ...file.source.locate(['cases', c.index, 'scenario']),
      code: C.UNKNOWN_SCENARIO,
      message: `unknown scenario "${c.scenario}" in ${folder}`,
      hint: guess ? `did you mean "${guess}"?` : `known: ${names.join(', ') || 'none'}${where}`,
    });
  }
  return issues;
}

function isFolder(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** A key of `said` no scenario name can be: the folder's source was told. */
const WHERE = '\0where';

/**
 * Why the cases of `file` run the scenarios of `folder`, when it is not the folder holding the file's `tests/`: its
 * `scenarios:` key, or the command's scenarios folder for a file outside a `tests/` folder (the likely slip).
 */
function folderSource(file: TestFile, folder: string): string {
  if (file.scenariosKey !== undefined) return `; this file's scenarios: ${file.scenariosKey} names ${folder}`;
  if (resolve(file.path).startsWith(join(file.scenariosDir, 'tests') + sep)) return '';
  return `; the file is in no tests/ folder of ${folder}, so it runs the command's scenarios folder (--scenarios, OKTELL_SCENARIOS, scenarios: of the configuration file, else ./scenarios): name the folder of its scenarios with --scenarios, or with scenarios: at the top of the file`;
}

/** Problems of cases' `variables:`, with the indexes of the cases they keep from running. */
export interface VariableProblems {
  issues: ScenarioIssue[];
  cases: Set<number>;
}

/**
 * Case `variables:` the run would silently ignore, located in the test file: a name the case's scenario does not
 * declare (at its name), or a value its variable's type cannot hold (at the value) — the run keeps the variable's
 * initial value for both, as it does for a variable an async start copies, so the case would test something else.
 */
export function variableProblems(
  file: TestFile,
  declared: (scenario: string) => ReadonlyMap<string, VariableDecl> | undefined,
  declaredByReached: (scenario: string, variable: string) => ReadonlyArray<{ scenario: string; decl: VariableDecl }> = () => [],
): VariableProblems {
  const issues: ScenarioIssue[] = [];
  const cases = new Set<number>();
  for (const c of file.cases) {
    const vars = declared(c.scenario);
    if (!vars) continue;
    const names = [...vars.keys()];
    for (const [name, value] of Object.entries(c.variables)) {
      const at = ['cases', c.index, 'variables', name];
      const decl = vars.get(name);
      // The case's own scenario, or else the scenarios it calls, jumps to or starts (a service's address in the
      // scenario the hook starts): the preset goes to every one that declares the name.
      const owners = decl ? [{ scenario: c.scenario, decl }] : declaredByReached(c.scenario, name);
      if (!owners.length) {
        const guess = closest(name, names);
        issues.push({
          ...file.source.locate(at),
          code: C.INVALID_PROPERTY,
          message: `scenario "${c.scenario}" has no variable "${name}"`,
          hint: guess ? `did you mean "${guess}"?` : `its variables: ${names.join(', ') || '(none)'}`,
        });
      } else {
        const refusal = owners.map((o) => ({ ...o, refused: typeRefuses(value, o.decl.type, c.timeZone) })).find((o) => o.refused !== undefined);
        if (!refusal) continue;
        issues.push({
          ...file.source.locate(at),
          code: C.INVALID_PROPERTY,
          message: `variable "${name}" of scenario "${refusal.scenario}" is of type ${refusal.decl.type} and cannot hold ${JSON.stringify(value)}: ${refusal.refused}`,
          hint: `give a value of type ${refusal.decl.type}, e.g. ${name}: ${TYPE_EXAMPLES[refusal.decl.type]}`,
        });
      }
      cases.add(c.index);
    }
  }
  return { issues, cases };
}

/**
 * Every problem of a loaded test file that needs its scenarios: unknown case variables and presets their type refuses
 * (`variableProblems`), variables an expectation names that its scenario does not have, and `db:` connections no
 * scenario uses; with the cases they keep from running.
 */
export function libraryProblems(file: TestFile, library: ScenarioLibrary): VariableProblems {
  const presets = variableProblems(
    file,
    (name) => library.scenarios.get(name)?.variables,
    (scenario, variable) =>
      [...reached(library, scenario, (s) => (s.name !== scenario && s.variables.has(variable) ? [s.name] : []))].map((name) => ({ scenario: name, decl: library.scenarios.get(name)!.variables.get(variable)! })),
  );
  const issues = [...presets.issues];
  const cases = new Set(presets.cases);
  for (const c of file.cases) {
    const found = [
      ...expectedVariableProblems(file, library, c.scenario, c.expect, ['cases', c.index, 'expect']),
      ...connectionProblems(file, library, c),
      ...tableConnectionProblems(library, c),
    ];
    if (found.length) cases.add(c.index);
    issues.push(...found);
  }
  return { issues: once(issues), cases };
}

/**
 * `expect.variables` (and a started scenario's `result.variables`) naming a variable its scenario does not declare
 * (nor any scenario it calls or jumps to, whose variables the run ends with too): it would fail as "got nothing",
 * however the scenario behaves.
 */
function expectedVariableProblems(file: TestFile, library: ScenarioLibrary, scenario: string | undefined, expect: Expectation | undefined, at: PathSeg[]): ScenarioIssue[] {
  if (!expect) return [];
  const issues: ScenarioIssue[] = [];
  const names = scenario !== undefined && library.scenarios.has(scenario) ? variablesReached(library, scenario) : undefined;
  // A matcher of the whole (`variables: { equals: {…} }`) names no variable by its keys.
  if (names && !isMatcher(expect.variables)) {
    for (const name of Object.keys(expect.variables ?? {})) {
      if (names.includes(name)) continue;
      const guess = closest(name, names);
      issues.push({
        ...file.source.locate([...at, 'variables', name], { key: true }),
        code: C.INVALID_PROPERTY,
        message: `scenario "${scenario}" has no variable "${name}"`,
        hint: guess ? `did you mean "${guess}"?` : `its variables: ${names.join(', ') || '(none)'}`,
      });
    }
  }
  (expect.asyncStarted ?? []).forEach((a, i) => issues.push(...expectedVariableProblems(file, library, a.scenario, a.result, [...at, 'asyncStarted', i, 'result'])));
  return issues;
}

/** The block ids of `scenario` and of the scenarios it calls, jumps to or starts, through any number of them. */
export function blocksReached(library: ScenarioLibrary, scenario: string): Set<string> {
  return reached(library, scenario, (s) => s.blocks.keys());
}

/** The variables of `scenario` and of the scenarios it starts, through any number of starts. */
function variablesReached(library: ScenarioLibrary, scenario: string): string[] {
  return [...reached(library, scenario, (s) => s.variables.keys())];
}

/** What `of` gives for `scenario` and for every scenario it reaches through the library's calls, each once. */
function reached(library: ScenarioLibrary, scenario: string, of: (s: Scenario) => Iterable<string>): Set<string> {
  const seen = new Set<string>();
  const found = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    const s = library.scenarios.get(name);
    if (s) for (const x of of(s)) found.add(x);
    for (const next of library.calls?.get(name) ?? []) visit(next);
  };
  visit(scenario);
  return found;
}

/**
 * `db:` entries (the file's, for each case using them, and the case's own) naming a connection no scenario of the
 * folder uses, nor a migrations folder: a typo (`mian`) fills a database no statement reads, or fails for want of the
 * migrations' tables.
 */
function connectionProblems(file: TestFile, library: ScenarioLibrary, c: TestCase): ScenarioIssue[] {
  const known = knownConnections(library);
  const issues: ScenarioIssue[] = [];
  for (const [name, sets] of Object.entries(c.db)) {
    if (known.includes(name)) continue;
    const guess = closest(name, known);
    for (const set of sets) {
      issues.push({
        ...set.at,
        code: C.UNKNOWN_CONNECTION,
        message: `db.${name}: no scenario uses a connection named "${name}"`,
        hint: `${guess ? `did you mean "${guess}"? ` : ''}the scenarios' connections: ${known.join(', ')} (a DbQuery or DbProcedure block's connection:, or a folder of migrations under db/)`,
      });
    }
  }
  return issues;
}

/**
 * `expect.tables` naming a connection the case has no database for (no scenario of the folder uses it, no migrations
 * folder has it, no `db:` fills it): there is nothing to read, and a typo would otherwise fail as "no such table".
 */
function tableConnectionProblems(library: ScenarioLibrary, c: TestCase): ScenarioIssue[] {
  const known = [...new Set([...knownConnections(library), ...Object.keys(c.db)])];
  const said = new Set<string>();
  const issues: ScenarioIssue[] = [];
  for (const t of c.tables) {
    if (known.includes(t.connection) || said.has(t.connection)) continue;
    said.add(t.connection);
    const guess = closest(t.connection, known);
    issues.push({
      ...t.connectionAt,
      code: C.UNKNOWN_CONNECTION,
      message: `expect.tables.${t.connection}: the case has no database named "${t.connection}"`,
      hint: `${guess ? `did you mean "${guess}"? ` : ''}the case's connections: ${known.join(', ')} (a DbQuery or DbProcedure block's connection:, a folder of migrations under db/, or the case's db:)`,
    });
  }
  return issues;
}

/** `main`, the connections of the folder's DbQuery and DbProcedure blocks, and those with migrations (db/<name>/). */
export function knownConnections(library: ScenarioLibrary): string[] {
  const blocks: ScenarioBlock[] = [
    ...blocksOfScenarios(library.scenarios.values()),
    // The blocks of files with problems: a connection being edited is still known.
    ...(library.compiled ?? []).map((c) => ({ scenario: scenarioNameOf(c.block.loc.file), block: c.block })),
  ];
  const names = new Set(['main', ...connectionsOfBlocks(blocks).keys()]);
  try {
    for (const d of readdirSync(join(library.dir, 'db'), { withFileTypes: true })) if (d.isDirectory()) names.add(d.name);
  } catch {
    // No migrations folder: no connection from there.
  }
  return [...names];
}

/** A value of each type as a test file writes it, for hints. */
const TYPE_EXAMPLES: Record<VarType, string> = { number: '10', string: 'some text', datetime: '2026-11-28T09:00:00Z', json: '\'{"id": 2}\'' };

/** Why a variable of `type` cannot hold `value` (the run's own conversion refusing it); undefined when it can. */
function typeRefuses(value: Value, type: VarType, timeZone: string): string | undefined {
  try {
    coerceToType(value, type, timeZone);
    return undefined;
  } catch (e) {
    // Only the conversion's refusal: a time zone the case gets wrong is a problem of its own, reported at its line.
    if (e instanceof ExpressionRuntimeError) return e.message;
    return undefined;
  }
}

type Report = (at: { file: string; line: number; col: number }, code: ScenarioErrorCode, message: string, hint?: string) => void;

/**
 * The hint for a file a test file names (`@webhooks/one-responsible.json`, a fixture, a data set) that could not be
 * read: the closest existing path when the name looks mistyped, segment by segment from `base` (`webhook/` →
 * `webhooks/`, `one-responsibel.json` → `one-responsible.json`), written as the test file would write it (`prefix`:
 * `@` or nothing); else `fallback`.
 */
function missingFileHint(e: unknown, base: string, written: string, prefix: string, fallback: string): string {
  if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return fallback;
  const guess = closestPath(base, written);
  return guess !== undefined ? `did you mean "${prefix}${guess}"? (${fallback})` : fallback;
}

/** `written` (relative to `base`, or absolute) with each segment that is not there replaced by its closest neighbour. */
function closestPath(base: string, written: string): string | undefined {
  const parts = written.split(/[\\/]/);
  let dir = resolve(base, written.startsWith('/') ? '/' : '.');
  let changed = false;
  const out: string[] = [];
  for (const [i, part] of parts.entries()) {
    const last = i === parts.length - 1;
    if (part === '' || part === '.' || part === '..') {
      out.push(part);
      dir = resolve(dir, part || '.');
      continue;
    }
    const here = statSync(join(dir, part), { throwIfNoEntry: false });
    if (here && (last ? here.isFile() : here.isDirectory())) {
      out.push(part);
      dir = join(dir, part);
      continue;
    }
    let names: string[];
    try {
      names = readdirSync(dir, { withFileTypes: true }).filter((d) => (last ? d.isFile() : d.isDirectory())).map((d) => d.name);
    } catch {
      return undefined;
    }
    const guess = closest(part, names);
    if (guess === undefined) return undefined;
    out.push(guess);
    dir = join(dir, guess);
    changed = true;
  }
  return changed ? out.join('/') : undefined;
}

/** `@file` reads a file relative to the test file; `@@text` is the literal `@text`; anything else is itself. */
function readParams(raw: Record<string, string | number | boolean>, base: string, src: YamlSource, at: PathSeg[], report: Report): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (const [n, v] of Object.entries(raw)) {
    if (typeof v === 'string' && v.startsWith('@@')) out[n] = v.slice(1);
    else if (typeof v === 'string' && v.startsWith('@')) {
      try {
        const read = readBodyFile(resolve(base, v.slice(1)));
        // Saved in windows-1251 or as UTF-16, the body would reach the run as "�����": refused at its first such byte.
        if (read.ok) out[n] = read.text;
        else report(src.locate([...at, n]), C.YAML_SYNTAX, `parameter ${n}: ${v.slice(1)}:${read.line}:${read.col}: ${read.message}: a parameter is text, and read as UTF-8 its letters would be U+FFFD (�)`, read.hint);
      } catch (e) {
        report(src.locate([...at, n]), C.READ_FAILED, `parameter ${n}: cannot read ${v.slice(1)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, missingFileHint(e, base, v.slice(1), '@', 'a path after @ is relative to the test file'));
      }
    } else out[n] = v;
  }
  return out;
}

/** `db:` values: SQL text, or `@file.sql` relative to the test file; each with the place of its entry. */
function readDb(raw: Record<string, string>, base: string, src: YamlSource, at: PathSeg[], report: Report): Record<string, DataSet> {
  const out: Record<string, DataSet> = {};
  for (const [name, v] of Object.entries(raw)) {
    const place = src.locate([...at, name]);
    if (!v.startsWith('@')) out[name] = { sql: v, at: place };
    else {
      try {
        const read = decodeTextFile(readFileSync(resolve(base, v.slice(1))));
        // Saved in windows-1251 or as UTF-16, its rows would hold U+FFFD (or SQLite say "unrecognized token").
        if (!read.ok) report(place, C.YAML_SYNTAX, `db.${name}: ${v.slice(1)}:${read.line}:${read.col}: ${read.message}`, read.hint);
        else out[name] = { sql: read.text, at: place, from: v.slice(1) };
      } catch (e) {
        report(place, C.READ_FAILED, `db.${name}: cannot read ${v.slice(1)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, missingFileHint(e, base, v.slice(1), '@', 'a path after @ is relative to the test file'));
      }
    }
  }
  return out;
}

/** The entries of `expect.tables`, in the order of the file, each with its place. */
function tableReads(raw: Record<string, Record<string, unknown>>, src: YamlSource, at: PathSeg[]): TableRead[] {
  return Object.entries(raw).flatMap(([connection, tables]) =>
    Object.entries(tables).map(([name, value]): TableRead => {
      const place = src.locate([...at, connection, name], { key: true });
      const query = value !== null && typeof value === 'object' && 'query' in value && typeof value.query === 'string' ? value.query : undefined;
      return { connection, name, at: place, connectionAt: src.locate([...at, connection], { key: true }), ...(query !== undefined ? { query, queryAt: src.locate([...at, connection, name, 'query']) } : {}) };
    }),
  );
}

function mergeDb(file: Record<string, DataSet>, own: Record<string, DataSet>): Record<string, DataSet[]> {
  const out: Record<string, DataSet[]> = {};
  for (const part of [file, own]) for (const [name, set] of Object.entries(part)) (out[name] ??= []).push(set);
  return out;
}

function readFixture(value: string | z.infer<typeof bpiumFixture>, base: string, src: YamlSource, at: PathSeg[], report: Report): BpiumFixtureFile | undefined {
  if (typeof value !== 'string') return value as BpiumFixtureFile;
  return readFixtureFile(value, bpiumFixture, 'Bpium', '--bpium-fixtures', base, src, at, report) as BpiumFixtureFile | undefined;
}

function readHttpFixture(value: string | HttpFixture[], base: string, src: YamlSource, at: PathSeg[], report: Report): HttpFixture[] | undefined {
  if (typeof value !== 'string') return value;
  return readFixtureFile(value, httpFixturesSchema, 'HTTP', '--http-fixtures', base, src, at, report);
}

/**
 * A fixture file named in a test file (relative to it), checked with `schema`. A file it cannot read is reported at
 * `at`; a mistake inside it at its own line in the fixture file, the hint naming the line of the test file using it.
 */
function readFixtureFile<T extends z.ZodType>(file: string, schema: T, what: string, flag: string, base: string, src: YamlSource, at: PathSeg[], report: Report): z.infer<T> | undefined {
  const path = resolve(base, file);
  let fixture: YamlSource;
  try {
    const shown = relative(process.cwd(), path) || path;
    const read = decodeTextFile(readFileSync(path));
    if (!read.ok) {
      // Saved in windows-1251 or as UTF-16: its Cyrillic names and values would be U+FFFD, the case testing other data.
      const user = src.locate(at);
      report({ file: shown, line: read.line, col: read.col }, C.YAML_SYNTAX, read.message, `${read.hint}; the ${what} fixture of ${user.file}:${user.line}:${user.col}`);
      return undefined;
    }
    fixture = new YamlSource(shown, read.text);
  } catch (e) {
    report(src.locate(at), C.READ_FAILED, `cannot read the ${what} fixture ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, missingFileHint(e, base, file, '', 'the path is relative to the test file'));
    return undefined;
  }
  const user = src.locate(at);
  return checkedFixture(fixture, schema, `the ${what} fixture of ${user.file}:${user.line}:${user.col}; see "${flag}" in docs/cli.md`, report);
}

/**
 * A fixture file's text checked with `schema`: its YAML, then its form, each problem at its own line and column, the
 * hint ending with `usedBy` (what uses the file, where its form is described).
 */
function checkedFixture<T extends z.ZodType>(fixture: YamlSource, schema: T, usedBy: string, report: Report): z.infer<T> | undefined {
  const inFixture: Report = (place, code, message, hint) => report(place, code, message, hint ? `${hint}; ${usedBy}` : usedBy);
  if (!readable(fixture, inFixture, 'a fixture file')) return undefined;
  let data: unknown;
  try {
    data = fixture.doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    inFixture(fixture.locate([]), C.YAML_SYNTAX, `YAML: ${(e as Error).message.split('\n')[0]}`);
    return undefined;
  }
  const ok = schema.safeParse(data);
  if (!ok.success) {
    reportForm(formProblems(ok.error.issues, data, schema, usedBy), fixture, report);
    return undefined;
  }
  return ok.data;
}

/** A fixture file of `run`, checked: its value, or each problem at its file:line:col with the fix. */
export type FixtureFileCheck<T> = { ok: true; fixture: T } | { ok: false; issues: ScenarioIssue[] };

/**
 * A fixture file given to `run` (`--bpium-fixtures`, `--http-fixtures`), checked as a test file's fixture is: a file
 * it cannot read, an empty one (`example` says what to write), a YAML mistake, a misspelt key, a wrong value, each at
 * its file:line:col with the fix, before anything runs.
 */
function checkRunFixtureFile<T extends z.ZodType>(path: string, schema: T, kind: { what: string; a: string; flag: string; example: string }): FixtureFileCheck<z.infer<T>> {
  const { what, a, flag, example } = kind;
  const shown = relative(process.cwd(), path) || path;
  const issues: ScenarioIssue[] = [];
  const report: Report = (at, code, message, hint) => issues.push({ ...at, code, message, ...(hint ? { hint } : {}) });
  const see = `see "${flag}" in docs/cli.md`;
  let text: string;
  try {
    const read = decodeTextFile(readFileSync(path));
    // Saved in windows-1251 or as UTF-16: its Cyrillic names and values would be U+FFFD.
    if (!read.ok) return { ok: false, issues: [{ file: shown, line: read.line, col: read.col, code: C.YAML_SYNTAX, message: read.message, hint: read.hint }] };
    text = read.text;
  } catch (e) {
    return { ok: false, issues: [{ file: shown, line: 1, col: 1, code: C.READ_FAILED, message: `cannot read the ${what} fixture file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, hint: 'the path is relative to the current folder' }] };
  }
  if (!text.replace(/#.*$/gm, '').trim()) {
    return { ok: false, issues: [{ file: shown, line: 1, col: 1, code: C.MISSING_PROPERTY, message: `the ${what} fixture file is empty`, hint: `${example}; ${see}` }] };
  }
  const fixture = checkedFixture(new YamlSource(shown, text), schema, `${a} ${what} fixture file: ${see}`, report);
  return fixture !== undefined && !issues.length ? { ok: true, fixture } : { ok: false, issues };
}

/** The Bpium fixture file of `run --bpium-fixtures` (a misspelt `recods`, a failure that is no status or kind…). */
export function checkBpiumFixtureFile(path: string): FixtureFileCheck<BpiumFixtureFile> {
  const r = checkRunFixtureFile(path, bpiumFixture, {
    what: 'Bpium',
    a: 'a',
    flag: '--bpium-fixtures',
    example: 'give it catalogs: with the records Bpium is to answer, e.g. catalogs: { "3": { records: { "2": { "1": Иван } } } }',
  });
  return r.ok ? { ok: true, fixture: r.fixture as BpiumFixtureFile } : r;
}

/**
 * The HTTP fixture file of `run --http-fixtures`, the list a test file's `http:` names: a misspelt `stauts`, a
 * `match` whose first word is no method (`GETT https://…`, which would match nothing) are refused as in a test file.
 */
export function checkHttpFixtureFile(path: string): FixtureFileCheck<HttpFixture[]> {
  return checkRunFixtureFile(path, httpFixturesSchema, {
    what: 'HTTP',
    a: 'an',
    flag: '--http-fixtures',
    example: 'give it a list of canned answers, e.g. - match: GET https://crm.example.ru/clients/*',
  });
}

/** Every `{ matches }` anywhere in an expectation (return values and variables hold any value) must compile. */
function checkRegexes(v: unknown, at: PathSeg[], src: YamlSource, report: Report): void {
  if (Array.isArray(v)) return v.forEach((item, i) => checkRegexes(item, [...at, i], src, report));
  if (!v || typeof v !== 'object') return;
  if (isMatcher(v) && 'matches' in v) {
    const place = [...at, 'matches'];
    if (typeof v.matches !== 'string') return report(src.locate(place), C.INVALID_PROPERTY, 'matches: the regular expression must be text', 'e.g. matches: "^notified \\d+ of \\d+$"');
    // Compiled as the Parser compiles its patterns (RE2, JavaScript's dialect): what a scenario refuses is refused
    // here too, at the construct.
    const compiled = compilePattern(v.matches, '');
    if (!compiled.ok) {
      const { offset, message, hint } = compiled.problem;
      report(src.locateInScalar(place, offset), C.INVALID_REGEX, `invalid regular expression: ${message}`, hint);
    }
    return;
  }
  for (const [k, child] of Object.entries(v)) checkRegexes(child, [...at, k], src, report);
}

function checkClock(value: string | { start: string; reads: string[] }, src: YamlSource, at: PathSeg[], report: Report): TestClock {
  if (typeof value === 'string') return { start: checkTime(value, src, at, report), reads: [] };
  return { start: checkTime(value.start, src, [...at, 'start'], report), reads: value.reads.map((r, i) => checkTime(r, src, [...at, 'reads', i], report)) };
}

function checkTime(value: string, src: YamlSource, at: PathSeg[], report: Report): Date {
  const d = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(d.getTime())) {
    report(src.locate(at), C.INVALID_PROPERTY, `"${value}" is not a date and time`, 'write it in ISO 8601, e.g. 2026-11-28T09:00:00Z');
  }
  return d;
}

function checkTimeZone(value: string, src: YamlSource, at: PathSeg[], report: Report): string {
  if (!isTimeZone(value)) report(src.locate(at), C.INVALID_PROPERTY, `unknown time zone "${value}"`, `${timeZoneGuess(value)}use an IANA name such as Europe/Moscow or UTC`);
  return value;
}
