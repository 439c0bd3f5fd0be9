// `oktell-emu run <Scenario> -p N=value …`: runs a scenario (for real, or --dry-run) and shows what it did.
import { Command } from 'commander';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  attachChildResults,
  createInProcessStarter,
  formatIssue,
  randomIds,
  runScenario,
  type EnginePorts,
  type RunResult,
  type Value,
} from '../../engine/index.js';
import { loadBpiumFixtures } from '../../adapters/fixtures/bpium-fixtures.adapter.js';
import { loadHttpFixtures } from '../../adapters/fixtures/http-fixtures.adapter.js';
import { buildPorts } from '../../adapters/ports.js';
import { maxEffectsFromEnv } from '../../server/config.js';
import { runWrite } from '../../server/run-record.js';
import { applyMigrations, scratchMigrated } from '../../adapters/db/migrations.js';
import { databaseDialects, type DatabaseSettings } from '../../adapters/db/settings.js';
import { dataDir, dataDirArg, loadLibrary, scenariosDir, serverSettings, timeZone, UsageError } from '../config.js';
import { printRun } from '../format.js';
import { withStore } from '../store.js';

interface RunOpts {
  param: string[];
  dryRun?: boolean;
  json?: boolean;
  scenarios?: string;
  bpiumFixtures?: string;
  httpFixtures?: string;
  dataDir?: string;
  trace?: boolean;
}

export function runCommand(): Command {
  return new Command('run')
    .description('run a service scenario with input parameters; --dry-run sends no mail, makes no Bpium write, rolls back database changes and sends only GET/HEAD/OPTIONS web requests')
    .argument('<scenario>', 'scenario name (file name without .yaml)')
    .option('-p, --param <N=value>', 'input parameter N (repeatable); N=@file reads a file; N=@@text passes "@text"', collect, [])
    .option('--dry-run', 'no mail is sent, no Bpium write is made, database statements are rolled back, web requests other than GET/HEAD/OPTIONS are recorded, not sent; async starts are followed inline')
    .option('--json', 'print exactly one JSON object with the result')
    .option('-s, --scenarios <dir>', 'scenarios folder (default $OKTELL_SCENARIOS or ./scenarios)')
    .option('--bpium-fixtures <file>', 'answer Bpium reads from a fixture file instead of BPIUM_URL (a fake Bpium)')
    .option('--http-fixtures <file>', 'answer WebRequest blocks from a fixture file (method + URL with * → status, headers, body)')
    .option('--data-dir <dir>', 'data folder for the outbox (default $OKTELL_DATA_DIR or ./var)')
    .option('--no-trace', 'do not record the step trace')
    .action(async (name: string, opts: RunOpts) => {
      // Parsed once: a file given as -p N=@file may be a pipe that can be read only once.
      const params = parseParams(opts.param);
      const result = await runFromCli(name, params, opts);
      const recorded = opts.dryRun ? undefined : await recordLiveRun(result, params, opts.dataDir);
      if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
      else {
        printRun(result, process.stdout);
        if (recorded) process.stderr.write(`recorded in ${recorded}: npx oktell-emu show ${result.runId}${dataDirArg(dataDir(opts.dataDir))}\n`);
      }
      process.exitCode = result.status === 'completed' ? 0 : 1;
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Parses `N=value`, `N=@file`, `N=@@literal`. */
export function parseParams(specs: string[]): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (const spec of specs) {
    const m = /^(\d{1,2})=([\s\S]*)$/.exec(spec);
    if (!m || Number(m[1]) < 1) throw new UsageError(`-p ${spec}: expected N=value with N from 1, e.g. -p 1=/Bpium/NewTask or -p 4=@body.json`);
    const raw = m[2]!;
    if (raw.startsWith('@@')) out[m[1]!] = raw.slice(1);
    else if (raw.startsWith('@')) {
      try {
        out[m[1]!] = readFileSync(resolve(raw.slice(1)), 'utf8');
      } catch (e) {
        throw new UsageError(`-p ${m[1]}=${raw}: cannot read ${raw.slice(1)}: ${(e as Error).message}`);
      }
    } else out[m[1]!] = raw;
  }
  return out;
}

function readHttpFixtures(file: string) {
  try {
    return loadHttpFixtures(resolve(file));
  } catch (e) {
    throw new UsageError(`--http-fixtures: ${(e as Error).message}`);
  }
}

async function runFromCli(name: string, params: Record<string, Value>, opts: RunOpts): Promise<RunResult> {
  const dir = scenariosDir(opts.scenarios);
  // The data folder (for the outbox), databases and web-request allow-list as the server would have them.
  const settings = serverSettings({ dataDir: opts.dataDir });
  // A dry run keeps nothing: a database with migrations still to apply (or not created yet) is used through a
  // migrated scratch copy, removed when the run ends.
  const scratch = opts.dryRun ? mkdtempSync(join(tmpdir(), 'oktell-dry-run-db-')) : undefined;
  let databases: DatabaseSettings;
  try {
    // The tables the scenarios expect (scenarios/db/<connection>/*.sql), as the server applies them at start.
    if (scratch) databases = scratchMigrated(resolve(dir, 'db'), settings.databases, scratch);
    else {
      databases = settings.databases;
      applyMigrations(resolve(dir, 'db'), databases);
    }
  } catch (e) {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
    throw new UsageError((e as Error).message);
  }
  try {
    return await runWithDatabases(name, params, opts, dir, settings, databases);
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

async function runWithDatabases(name: string, params: Record<string, Value>, opts: RunOpts, dir: string, settings: ReturnType<typeof serverSettings>, databases: DatabaseSettings): Promise<RunResult> {
  const { library, templates } = await loadLibrary(dir, undefined, timeZone(), databaseDialects(databases));
  if (!library.scenarios.has(name)) {
    if (library.issues.length) throw new UsageError(`scenarios are invalid:\n${library.issues.map(formatIssue).join('\n')}`);
    throw new UsageError(`unknown scenario "${name}"; known: ${[...library.scenarios.keys()].join(', ')}`);
  }
  let maxEffects: number | undefined;
  try {
    maxEffects = maxEffectsFromEnv(process.env);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const limits = maxEffects ? { limits: { maxEffects } } : {};
  const built = buildPorts({
    env: process.env,
    dataDir: settings.dataDir,
    templates,
    ids: randomIds,
    bpium: opts.bpiumFixtures ? { kind: 'port', port: loadBpiumFixtures(resolve(opts.bpiumFixtures)) } : { kind: 'env' },
    ...(opts.httpFixtures ? { httpFixtures: readHttpFixtures(opts.httpFixtures) } : {}),
    webRequest: settings.webRequest,
    noMail: opts.dryRun === true,
    databases,
    // A dry run's statements run in a transaction rolled back when it ends (async runs it follows included).
    rollBackDatabases: opts.dryRun === true,
  });
  const tz = timeZone();
  const ports: EnginePorts = { ...built.ports, asyncStarter: undefined as never };
  const starter = createInProcessStarter(randomIds, (req, runId) =>
    runScenario(library, req.scenario, { params: req.params, variables: req.variables, runId, dryRun: opts.dryRun === true, trace: opts.trace !== false, timeZone: tz, ports, ...limits }),
  );
  ports.asyncStarter = starter;
  try {
    const result = await runScenario(library, name, { params, dryRun: opts.dryRun === true, trace: opts.trace !== false, timeZone: tz, ports, ...limits });
    return attachChildResults(result, await starter.drain());
  } finally {
    await built.close();
  }
}

/**
 * A live run made real effects, so it is kept like the server's runs: in the data folder's store (or the configured
 * PostgreSQL), with trigger `cli`, and each async run it started with trigger `async` under it, so `runs`, `show`
 * and the console find them. A dry run changed nothing and is not recorded. Returns where it went, or undefined when
 * the store could not take it (said on stderr; the run itself stands).
 */
async function recordLiveRun(result: RunResult, params: Record<string, Value>, dir: string | undefined): Promise<string | undefined> {
  try {
    const { store: setting, dataDir: folder } = serverSettings({ dataDir: dir });
    const postgres = setting.kind === 'postgres';
    // Like the outbox of a live run, the store's file goes into the data folder, made if need be.
    if (!postgres) mkdirSync(folder, { recursive: true });
    return await withStore({ dataDir: dir }, async (store) => {
      const write = async (r: RunResult, trigger: 'cli' | 'async', p: Record<string, Value>, parentRunId: string | null): Promise<void> => {
        await store.recordRun(runWrite(r, { trigger, params: p, parentRunId }));
        for (const a of r.asyncStarted) if (a.result) await write(a.result, 'async', a.params, r.runId);
      };
      await write(result, 'cli', params, null);
      return postgres ? 'the PostgreSQL store' : join(folder, 'oktell.sqlite');
    });
  } catch (e) {
    process.stderr.write(`oktell-emu: the run was not recorded: ${(e as Error).message}\n`);
    return undefined;
  }
}
