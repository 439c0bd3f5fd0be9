// Test files (`tests/*.test.yaml` next to the scenarios): their schema, and loading them with every problem located
// at file:line:col, like scenario files. A test file is data: it is parsed, never compiled or evaluated.
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { z } from 'zod';
import {
  closest,
  coerceToType,
  ExpressionRuntimeError,
  SCENARIO_ERROR_CODES as C,
  YamlSource,
  type PathSeg,
  type ScenarioErrorCode,
  type ScenarioIssue,
  type SourceLocation,
  type Value,
  type VariableDecl,
  type VarType,
} from '../../engine/index.js';
import type { BpiumFixtureFile } from '../../adapters/fixtures/bpium-fixtures.adapter.js';
import { httpFixturesSchema, type HttpFixture } from '../../adapters/fixtures/http-fixtures.adapter.js';
import { mailFixtureSchema, type MailFixture } from '../../adapters/fixtures/mail-fixtures.adapter.js';
import { compilePattern } from '../../components/re2-pattern.js';
import { isMatcher } from './expectations.js';

export const TEST_FILE_SUFFIXES = ['.test.yaml', '.test.yml'];

/** The clock a case sees when neither it nor its file sets one: fixed, so letters with dates never change. */
export const DEFAULT_TEST_CLOCK = '2026-01-01T09:00:00Z';
export const DEFAULT_TEST_TIME_ZONE = 'Europe/Moscow';

// ── Schema ─────────────────────────────────────────────────────────────────────────────────────────────────────
// One zod schema checks the files and, through z.toJSONSchema, is the JSON Schema editors get: the two cannot drift.

const matcher = z.union([
  z.strictObject({ equals: z.unknown() }).describe('the value equals this exactly (no subset matching inside)'),
  z.strictObject({ contains: z.unknown() }).describe('text: contains this text; list: has an item matching this'),
  z.strictObject({ matches: z.string() }).describe('text matching this regular expression, read as the Parser reads its patterns (JavaScript syntax run on RE2: no lookaround, no backreferences)'),
  z
    .strictObject({ edges: z.strictObject({ first: z.array(z.unknown()), last: z.array(z.unknown()), length: z.number().int().min(0) }).partial() })
    .describe('list: its first items match `first`, its last ones `last`, it has `length` items; the items between are not checked'),
]);
const text = z.union([z.string(), matcher]);
const addresses = z.union([z.array(z.union([z.string(), matcher])), matcher]);

const mailExpect = z
  .object({ to: addresses, cc: addresses, bcc: addresses, subject: text, text, html: text, status: z.string(), performed: z.boolean() })
  .partial()
  .catchall(z.unknown())
  .describe('a letter: only the fields named are checked');

const dbCallExpect = z
  .object({ connection: z.string(), statement: text, params: z.record(z.string(), z.unknown()), status: z.string(), rowCount: z.number(), code: z.string() })
  .partial()
  .catchall(z.unknown())
  .describe('a database statement: only the fields named are checked');

const bpiumCallExpect = z
  .object({ method: z.string(), catalogId: z.string(), recordId: z.string(), status: z.string(), performed: z.boolean() })
  .partial()
  .catchall(z.unknown())
  .describe('a Bpium call: only the fields named are checked');

const httpCallExpect = z
  .object({ method: z.string(), url: text, status: z.number(), outcome: z.string(), performed: z.boolean() })
  .partial()
  .catchall(z.unknown())
  .describe('a web request: only the fields named are checked');

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
}

const expectation: z.ZodType<Expectation> = z
  .strictObject({
    status: z.enum(['completed', 'failed']).describe('how the run ended'),
    returnValues: z.record(z.string(), z.unknown()).describe('return values by number; only those named are checked'),
    error: z.record(z.string(), z.unknown()).describe('the failure: code, message, block, retryable'),
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
    variables: z.record(z.string(), z.unknown()).describe('variables when the run ended; only those named are checked'),
  })
  .partial();

const paramValue = z.union([z.string(), z.number(), z.boolean()]);
const params = z
  .record(z.string().regex(/^[1-9]\d?$/, 'an input parameter number from 1'), paramValue)
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
        records: z.record(z.string(), z.record(z.string(), z.unknown())),
      }).partial(),
    ),
    failures: z
      .record(z.string(), z.union([z.literal(404), z.literal(429), z.literal(500), z.number().int(), z.enum(['timeout', 'network'])]))
      .describe('"<catalogId>/<recordId>" (or "<catalogId>/*" for searches): 404 | 429 | 500 | timeout | network'),
  })
  .partial({ failures: true });
const bpium = z
  .union([z.string().describe('a fixture file, relative to the test file'), bpiumFixture])
  .describe('the fake Bpium the case talks to (as --bpium-fixtures of `run`); none: a Bpium block fails');

const db = z
  .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'a connection name'), z.string())
  .describe('a known data set: connection → SQL (or "@file.sql", relative to the test file) run on a fresh SQLite database of that name before the case, after scenarios/db/<connection>/*.sql');
const http = z
  .union([z.string().describe('a fixture file, relative to the test file'), httpFixturesSchema])
  .describe('canned answers of web services (as --http-fixtures of `run`); a request none matches fails with HTTP_NO_FIXTURE');

const mail = mailFixtureSchema.describe('the mail server of the case: letters are never sent, but those named under failures fail as it would make them');

const clock = z.union([
  z.string().describe('the fixed time the case runs at, ISO 8601, e.g. 2026-11-28T09:00:00Z'),
  z
    .strictObject({
      start: z.string().describe('the time the run starts at, ISO 8601'),
      reads: z.array(z.string()).describe('the times the run\'s later reads of the clock (Now()) get, in order; past the last, the clock stays at it'),
    })
    .describe('a clock that moves as a recorded run\'s did (--from-run writes it)'),
]);
const timeZone = z.string().describe('IANA time zone for dates in expressions and templates, e.g. Europe/Moscow');
const maxEffects = z
  .number()
  .int()
  .min(1)
  .describe('the per-run cap on effects (letters, Bpium calls, async starts), as the server\'s maxEffectsPerRun (default $OKTELL_MAX_EFFECTS, else 100)');

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
  expect: expectation.describe('what the run must do; what is not named is not checked'),
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
  maxEffects: maxEffects.optional().describe('the effect cap of every case that sets none (default $OKTELL_MAX_EFFECTS, else 100)'),
  cases: z.array(testCase).min(1).describe('the cases, run in order of the file'),
});

type RawFile = z.infer<typeof testFile>;

export function buildTestFileJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://github.com/oktell-emulator/oktell-emulator/schema/scenario-test.schema.json',
    title: 'Oktell emulator scenario test file',
    description: 'Cases that run scenarios with fixed inputs and check what they did. See docs/testing-scenarios.md.',
    ...(z.toJSONSchema(testFile, { unrepresentable: 'any', io: 'input' }) as Record<string, unknown>),
  };
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

export interface TestFile {
  /** As shown in reports (relative to the working directory). */
  file: string;
  path: string;
  source: YamlSource;
  scenariosDir: string;
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
  const shown = relative(process.cwd(), path) || path;
  const issues: ScenarioIssue[] = [];
  const report = (at: { file: string; line: number; col: number }, code: ScenarioErrorCode, message: string, hint?: string) =>
    issues.push({ ...at, code, message, ...(hint ? { hint } : {}) });
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return { ok: false, issues: [{ file: shown, line: 1, col: 1, code: C.READ_FAILED, message: `cannot read the test file: ${(e as Error).message}` }] };
  }
  const src = new YamlSource(shown, text);
  for (const err of src.doc.errors) {
    report(src.at(err.pos[0]), err.code === 'DUPLICATE_KEY' ? C.DUPLICATE_KEY : C.YAML_SYNTAX, `YAML: ${err.message.split('\n')[0]}`);
  }
  if (issues.length) return { ok: false, issues };
  let raw: unknown;
  try {
    raw = src.doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    report(src.locate([]), C.YAML_SYNTAX, `YAML: ${(e as Error).message.split('\n')[0]}`);
    return { ok: false, issues };
  }
  const parsed = testFile.safeParse(raw);
  if (!parsed.success) {
    for (const zi of flattenIssues(parsed.error.issues as unknown as ZodIssue[])) {
      const path = zi.path.filter((p): p is string | number => typeof p !== 'symbol');
      if (zi.code === 'unrecognized_keys') {
        for (const key of zi.keys ?? []) {
          const known = knownKeysAt(path);
          const guess = closest(key, known);
          report(src.locate([...path, key], { key: true }), C.UNKNOWN_KEY, `unknown key "${key}"`, `${guess ? `did you mean "${guess}"? ` : ''}see docs/testing-scenarios.md`);
        }
      } else if (valueAt(raw, path) === undefined) {
        report(src.locate(path.slice(0, -1)), C.MISSING_PROPERTY, `"${path.join('.')}" is required`, 'see docs/testing-scenarios.md');
      } else {
        report(src.locate(path), C.INVALID_PROPERTY, `"${path.join('.')}": ${zi.message}`, 'see docs/testing-scenarios.md');
      }
    }
    return { ok: false, issues };
  }
  const data: RawFile = parsed.data;
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
  const fileBpium = checked(() => (data.bpium !== undefined ? readFixture(data.bpium, base, src, ['bpium'], report) : undefined));
  const fileHttp = checked(() => (data.http !== undefined ? readHttpFixture(data.http, base, src, ['http'], report) : undefined));
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
    const bpium = own(c.bpium, () => readFixture(c.bpium!, base, src, at('bpium'), report), fileBpium);
    const http = own(c.http, () => readHttpFixture(c.http!, base, src, at('http'), report), fileHttp);
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
      blocked: issues.length > before || fileDb.bad || bpium.bad || http.bad || clock.bad || timeZone.bad,
    };
  });
  return { ok: true, file: { file: shown, path, source: src, scenariosDir, cases, issues } };
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
    issues.push({
      ...file.source.locate(['cases', c.index, 'scenario']),
      code: C.UNKNOWN_SCENARIO,
      message: `unknown scenario "${c.scenario}" in ${relative(process.cwd(), file.scenariosDir) || '.'}`,
      hint: guess ? `did you mean "${guess}"?` : `known: ${names.join(', ')}`,
    });
  }
  return issues;
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
export function variableProblems(file: TestFile, declared: (scenario: string) => ReadonlyMap<string, VariableDecl> | undefined): VariableProblems {
  const issues: ScenarioIssue[] = [];
  const cases = new Set<number>();
  for (const c of file.cases) {
    const vars = declared(c.scenario);
    if (!vars) continue;
    const names = [...vars.keys()];
    for (const [name, value] of Object.entries(c.variables)) {
      const at = ['cases', c.index, 'variables', name];
      const decl = vars.get(name);
      if (!decl) {
        const guess = closest(name, names);
        issues.push({
          ...file.source.locate(at),
          code: C.INVALID_PROPERTY,
          message: `scenario "${c.scenario}" has no variable "${name}"`,
          hint: guess ? `did you mean "${guess}"?` : `its variables: ${names.join(', ') || '(none)'}`,
        });
      } else {
        const refused = typeRefuses(value, decl.type, c.timeZone);
        if (refused === undefined) continue;
        issues.push({
          ...file.source.locate(at),
          code: C.INVALID_PROPERTY,
          message: `variable "${name}" of scenario "${c.scenario}" is of type ${decl.type} and cannot hold ${JSON.stringify(value)}: ${refused}`,
          hint: `give a value of type ${decl.type}, e.g. ${name}: ${TYPE_EXAMPLES[decl.type]}`,
        });
      }
      cases.add(c.index);
    }
  }
  return { issues, cases };
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

/** `@file` reads a file relative to the test file; `@@text` is the literal `@text`; anything else is itself. */
function readParams(raw: Record<string, string | number | boolean>, base: string, src: YamlSource, at: PathSeg[], report: Report): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (const [n, v] of Object.entries(raw)) {
    if (typeof v === 'string' && v.startsWith('@@')) out[n] = v.slice(1);
    else if (typeof v === 'string' && v.startsWith('@')) {
      try {
        out[n] = readFileSync(resolve(base, v.slice(1)), 'utf8');
      } catch (e) {
        report(src.locate([...at, n]), C.READ_FAILED, `parameter ${n}: cannot read ${v.slice(1)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'a path after @ is relative to the test file');
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
        out[name] = { sql: readFileSync(resolve(base, v.slice(1)), 'utf8'), at: place, from: v.slice(1) };
      } catch (e) {
        report(place, C.READ_FAILED, `db.${name}: cannot read ${v.slice(1)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'a path after @ is relative to the test file');
      }
    }
  }
  return out;
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

/** A fixture file named in a test file (relative to it), checked with `schema`; problems reported at `at`. */
function readFixtureFile<T extends z.ZodType>(file: string, schema: T, what: string, flag: string, base: string, src: YamlSource, at: PathSeg[], report: Report): z.infer<T> | undefined {
  const path = resolve(base, file);
  let data: unknown;
  try {
    data = new YamlSource(path, readFileSync(path, 'utf8')).doc.toJS();
  } catch (e) {
    report(src.locate(at), C.READ_FAILED, `cannot read the ${what} fixture ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'the path is relative to the test file');
    return undefined;
  }
  const ok = schema.safeParse(data);
  if (!ok.success) {
    const first = ok.error.issues[0]!;
    report(src.locate(at), C.INVALID_PROPERTY, `the ${what} fixture ${file} is invalid at "${first.path.join('.')}": ${first.message}`, `see "${flag}" in docs/cli.md`);
    return undefined;
  }
  return ok.data;
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
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
  } catch {
    report(src.locate(at), C.INVALID_PROPERTY, `unknown time zone "${value}"`, 'use an IANA name such as Europe/Moscow or UTC');
  }
  return value;
}

interface ZodIssue {
  code: string;
  path: PropertyKey[];
  message: string;
  keys?: string[];
  errors?: ZodIssue[][];
}

/**
 * For a union, keeps the issues of the branch that came closest (prefixed with the union's path). A branch of another
 * type than the value (the file name of "a file name or a list", given a list) is the farthest, whatever its count:
 * a list with one bad field must be told about that field, at its line.
 */
function flattenIssues(issues: ZodIssue[]): ZodIssue[] {
  return issues.flatMap((zi) => {
    if (zi.code !== 'invalid_union' || !zi.errors?.length) return [zi];
    const ofTheType = zi.errors.filter((branch) => !branch.some((b) => b.code === 'invalid_type' && b.path.length === 0));
    const best = (ofTheType.length ? ofTheType : zi.errors).reduce((a, b) => (b.length < a.length ? b : a));
    return flattenIssues(best.map((b) => ({ ...b, path: [...zi.path, ...b.path] })));
  });
}

function valueAt(obj: unknown, path: readonly PathSeg[]): unknown {
  let cur = obj;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

/** Keys known at a place of a test file, for "did you mean" hints. */
function knownKeysAt(path: readonly PathSeg[]): string[] {
  const last = path.filter((p) => typeof p === 'string').at(-1);
  if (path.length === 0) return Object.keys(testFile.shape);
  if (path.length === 2 && path[0] === 'cases') return Object.keys(testCase.shape);
  if (last === 'expect' || last === 'result') return ['status', 'returnValues', 'error', 'mails', 'bpiumCalls', 'dbCalls', 'httpCalls', 'asyncStarted', 'path', 'variables'];
  if (last === 'asyncStarted') return ['scenario', 'params', 'result'];
  return [];
}
