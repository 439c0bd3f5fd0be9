// `oktell-emu serve` (npm start): the emulated Oktell web server, with the embedded Bpium emulator and outbox by default.
import pc from 'picocolors';
import { startServer } from '../../server/serve.js';
import { hookUser, rightsOf, type OktellUser } from '../../server/auth.js';
import { constants as osConstants } from 'node:os';
import { join, resolve } from 'node:path';
import { dataDirArg, shellWord, UnavailableError, UsageError } from '../config.js';
import { MigrationError, migrationFailureText } from '../../adapters/db/migrations.js';
import { ConfigError, hookSecret, type StoreSetting } from '../../server/config.js';
import { envSetting } from '../../engine/env.js';
import { redactPostgresUrl } from '../../server/store/postgres.url.js';
import { processStartOf, removeServerFile, serverFilePath, STORE_FILE, writeServerFile, writeStoreFile, type ServerFile, type ServerFileStore } from '../server-file.js';
import { DEMO_PASSWORD, type BpiumEmulator } from '../../bpium-emulator/index.js';
import { DamagedStoreError } from '../../server/store/sqlite-check.js';
import type { ServiceTask } from '../../server/tasks/definitions.js';
import { isoInZone } from '../../server/tasks/schedule.js';
import { isStandardSecret, STANDARD_TOLERANCE_MS } from '../../server/standard-webhooks.js';

export interface ServeOpts {
  port?: string;
  host?: string;
  scenarios?: string;
  dataDir?: string;
  config?: string;
  bpiumEmulatorPort?: string;
}

export async function serveAction(o: ServeOpts): Promise<void> {
  const port = o.port !== undefined ? portNumber(o.port, '--port') : undefined;
  const emuPort = o.bpiumEmulatorPort !== undefined ? portNumber(o.bpiumEmulatorPort, '--bpium-emulator-port') : undefined;
  // Signals are taken from the start: one that arrives while the server is still starting (it listens before its
  // delivery thread is ready) stops it cleanly once it has started.
  let stopOnSignal: ((signal: string) => void) | undefined;
  let pendingSignal: string | undefined;
  const onSignal = (signal: string) => (stopOnSignal ? stopOnSignal(signal) : (pendingSignal ??= signal));
  const handlers = (['SIGTERM', 'SIGINT', 'SIGHUP'] as const).map((signal) => {
    const handler = () => onSignal(signal);
    process.once(signal, handler);
    return [signal, handler] as const;
  });
  let server;
  try {
    server = await startServer({
      ...(port !== undefined ? { port } : {}),
      ...(o.host ? { host: o.host } : {}),
      ...(o.scenarios ? { scenarios: o.scenarios } : {}),
      ...(o.dataDir ? { dataDir: o.dataDir } : {}),
      ...(o.config ? { config: o.config } : {}),
      ...(emuPort !== undefined ? { bpiumEmulatorPort: emuPort } : {}),
      runsCommand: (c) => storeBanner(c.store, c.dataDir, process.env, c.configFile).runs,
    });
  } catch (e) {
    // The start failed: a signal from now on ends the process as usual instead of waiting for a server.
    for (const [signal, handler] of handlers) process.removeListener(signal, handler);
    if (e instanceof ConfigError || e instanceof DamagedStoreError) throw new UsageError(e.message);
    // A migration the database refuses is a mistake in the scenarios folder (exit 2, as `run` says it); one that
    // waited in vain for another program's lock is not (exit 1: try again later).
    if (e instanceof MigrationError) throw e.busy ? new UnavailableError(e.message, 'E_DB_LOCKED') : new UsageError(migrationFailureText(e));
    throw e;
  }
  const signedPaths = Object.keys(server.config.webhookSecrets).sort();
  // `demo` and `webhook send` read the addresses from here, so other ports than the defaults need no flags there.
  // The store too, so that a command given only this folder (an operator's shell without OKTELL_STORE) is refused
  // rather than answered from an empty SQLite file there.
  const storeEntry = serverFileStore(server.config.store, process.env, server.config.configFile);
  // Neither file is needed to serve (only other commands read them): one that cannot be written (a full disk) is a
  // warning naming it, the cause and the fix, and the server goes on, rather than a crash after "listening".
  const unwritten: string[] = [];
  const tryWrite = (file: string, write: () => void) => {
    try {
      write();
    } catch (e) {
      unwritten.push(unwritableFile(file, e, storeEntry.kind === 'postgres'));
    }
  };
  // Its start too, where /proc tells it: a file left by a killed server whose pid another process got is told apart.
  const ownStart = processStartOf(process.pid);
  tryWrite(serverFilePath(server.config.dataDir), () => writeServerFile(server.config.dataDir, { pid: process.pid, ...(ownStart !== undefined ? { processStart: ownStart } : {}), url: server.url, ...emulatorEntry(server.emulator), signedPaths, startedAt: new Date().toISOString(), store: storeEntry, scenariosDir: resolve(server.config.scenariosDir), maxAttempts: server.config.workers.maxAttempts, timeZone: server.config.timeZone, ...(server.config.configPath !== undefined ? { configFile: resolve(server.config.configPath) } : {}) }));
  // serve.json goes when the server stops; store.json stays, so the refusal outlives the server.
  tryWrite(join(server.config.dataDir, STORE_FILE), () => writeStoreFile(server.config.dataDir, storeEntry));
  const u = hookUser(server.users)!;
  const rights = (x: OktellUser) => rightsOf(x).join(', ');
  const lib = server.host.library();
  const out = process.stderr;
  out.write(`\n${pc.bold('Oktell emulator')} listening on ${pc.cyan(server.listening)}\n`);
  out.write(`  console    ${server.url}/-/console/\n`);
  for (const w of [...server.warnings, ...unwritten]) out.write(`  ${pc.yellow(`warning    ${w}`)}\n`);
  out.write(`  scenarios  ${server.config.scenariosDir} (${lib.scenarios.size} loaded${lib.issues.length ? pc.red(`, ${lib.issues.length} problem(s): run npx oktell-emu validate`) : ''})\n`);
  out.write(`  data       ${server.config.dataDir}\n`);
  const store = storeBanner(server.config.store, server.config.dataDir, process.env, server.config.configFile);
  out.write(`  store      ${store.line}\n`);
  out.write(`  mail       ${server.mail.describe}\n`);
  if (server.config.serviceTasks.length) out.write(`  tasks      ${tasksLine(server.config.serviceTasks)} ${pc.dim(`(${tasksCommandHint(store, server.config.configFile, server.config.scenariosDir)}: last and next runs${store.note ? `; ${store.note}` : ''})`)}\n`);
  const notStarted = server.emulatorNotStarted ? `embedded emulator not started: ${server.emulatorNotStarted} ${pc.dim('(a restart after adding one starts it; --bpium-emulator-port starts it anyway)')}` : undefined;
  // The emulator's password is printed only when it is the public demo one; one set with BPIUM_PASSWORD is a secret of
  // the user's and is only named, as `oktell-emu bpium-emulator` names it: this banner goes to logs too.
  const emulatorPassword = server.emulator?.password === DEMO_PASSWORD ? DEMO_PASSWORD : '(BPIUM_PASSWORD)';
  out.write(`  bpium      ${server.emulator ? `embedded emulator ${server.emulator.url} (login ${server.emulator.login} / ${emulatorPassword})` : (server.bpium?.baseUrl ?? notStarted ?? 'not configured')}\n`);
  // The password is shown once, when it is made, and only to a person: when stderr is not a terminal it is a log
  // (systemd, Docker, `2> file`), and a log must not hold a secret. Otherwise the banner only says where it is kept.
  const shownPassword = server.config.generatedUser?.created && out.isTTY === true ? u.password : undefined;
  if (server.config.generatedUser?.created && shownPassword === undefined) {
    out.write(`  user       ${pc.bold(u.login)} ${pc.dim(`(generated; the password is in ${server.config.generatedUser.file}, mode 600, and is not printed because stderr is not a terminal; rights ${rights(u)}; set OKTELL_USERS to choose)`)}\n`);
  } else if (server.config.generatedUser?.created) {
    out.write(`  user       ${pc.bold(u.login)} / ${pc.bold(u.password)} ${pc.dim(`(generated; kept in ${server.config.generatedUser.file}; shown only now; rights ${rights(u)}; set OKTELL_USERS to choose, e.g. a hook-only login for a webhook sender: bpium[hook]:PASSWORD)`)}\n`);
  } else if (server.config.generatedUser) {
    out.write(`  user       ${pc.bold(u.login)} ${pc.dim(`(generated earlier; the password is in ${server.config.generatedUser.file}; rights ${rights(u)}; set OKTELL_USERS to choose)`)}\n`);
  } else {
    out.write(`  users      ${server.users.map((x) => `${x.login} (${rights(x)}${x.rights ? '' : ': none given, so all'})`).join(', ')}\n`);
  }
  // The commands suggested below read ./var unless told otherwise: they name another data folder so they work as printed.
  const dirArg = dataDirArg(server.config.dataDir);
  const body = JSON.stringify({ timestamp: '1700000000', hook: { id: '1', event: 'record.created', sequenceId: 1 }, payload: { catalogId: '11', recordId: '1', values: { '2': 'Тестовая задача', '3': 'Описание', '4': [{ id: '2', title: 'Иван Петров' }] } }, user: { id: '1' } });
  // A secret nobody configured (the one made for the embedded emulator) is named by its file, so that a 401 on that
  // path can be traced to it; the secret itself is never printed.
  const generated = server.generatedWebhookSecret;
  const secretSource = generated ? `; the secret of ${generated.path} was generated for the embedded Bpium emulator and is kept in ${generated.file} (webhookSecrets or BPIUM_WEBHOOK_SECRET to choose your own)` : '';
  const named = (paths: string[]): string => [...paths.filter((p) => p !== '*'), ...(paths.includes('*') ? ['every path'] : [])].join(', ');
  const standardPaths = signedPaths.filter((p) => isStandardSecret(server.config.webhookSecrets[p]!));
  const bpiumPaths = signedPaths.filter((p) => !standardPaths.includes(p));
  if (bpiumPaths.length) out.write(`  signed     ${named(bpiumPaths)} ${pc.dim(`(X-Hook-Signature required; npx oktell-emu webhook send signs${secretSource})`)}\n`);
  if (standardPaths.length) out.write(`  signed     ${named(standardPaths)} ${pc.dim(`(Standard Webhooks: webhook-id, webhook-timestamp and a v1 webhook-signature required, the timestamp within ${(server.config.webhookMaxAgeMs ?? STANDARD_TOLERANCE_MS) / 60_000} minute(s); a webhook-id seen before is answered as a duplicate)`)}\n`);
  out.write('\nTry it:\n');
  // `demo` drives the embedded emulator: with BPIUM_URL there is none, and the hint would only fail. Said as the
  // command itself, not `npm run demo`: that script is the repository's, and an installed package has none.
  // Both follow the article's flow: the hook scenario hands /Bpium/NewTask to BpiumNewTask. A folder of one's own
  // without that scenario would answer them with the hook's 404, so they are left out and the reason said.
  const newTask = lib.scenarios.has('BpiumNewTask') && lib.scenarios.has(server.config.hook.scenario);
  if (!newTask) out.write(`  ${pc.dim(`# demo and the /Bpium/NewTask webhook need the scenarios BpiumNewTask and ${server.config.hook.scenario} (the hook scenario), which ${server.config.scenariosDir} does not both have`)}\n`);
  if (newTask && server.emulator) out.write(`  ${pc.dim('# the article’s flow, end to end, through the embedded Bpium emulator:')}\n  npx oktell-emu demo${dirArg}\n`);
  if (newTask) out.write(tryWebhookLines({ secrets: server.config.webhookSecrets, emulator: server.emulator !== undefined, login: u.login, password: shownPassword, url: server.url, body, webhookSendArgs: `${dirArg}${configArg(server.config.configFile)}` }));
  // With SMTP_URL the outbox stays empty: the letters are in the runs (and the mailboxes).
  if (server.mail.kind === 'outbox') out.write(`  npx oktell-emu outbox${dirArg}        ${pc.dim('# letters written to the outbox')}\n`);
  const where = server.mail.kind === 'outbox' ? '' : ' (letters go over SMTP; show <runId> lists them)';
  out.write(`  ${store.runs}          ${pc.dim(`# runs, their status and retries${where}${store.note ? `; ${store.note}` : ''}`)}\n\n`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    out.write(`${signal}: finishing running jobs, then stopping… (${signal === 'SIGINT' ? 'Ctrl-C' : 'the signal'} again to stop now)\n`);
    forceOnSecondSignal(out);
    removeServerFile(server.config.dataDir);
    server.close().then(
      (report) => {
        if (!report.unrecorded) return process.exit(0);
        // Not a clean stop: effects were made that the store did not record, as after a kill; the exit status says
        // so as a forced stop's does (128 + the signal's number), and the log names the jobs.
        out.write(`${signal}: stopped, not cleanly: ${report.unrecorded} job(s) made effects (${report.letters} letter(s)) the store did not record (it refused the writes or did not answer them until the end of the grace period); they are made again when those jobs run again (job ids in the log)\n`);
        process.exit(128 + (osConstants.signals[signal as 'SIGTERM'] ?? 0));
      },
      (e: unknown) => {
        out.write(`error while stopping: ${(e as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  stopOnSignal = stop;
  if (pendingSignal) stop(pendingSignal);
  await new Promise(() => undefined);
}


/**
 * The banner's lines that post a webhook, true for the configuration: an unsigned `curl` to /Bpium/NewTask when no
 * secret covers it; otherwise `webhook send`, which signs with the secret the server checks (read from the same
 * settings), and a `curl` to another path only when that path is not signed too (a secret for every path signs it).
 */
export function tryWebhookLines(o: { secrets: Readonly<Record<string, string>>; emulator: boolean; login: string; password: string | undefined; url: string; body: string; webhookSendArgs: string }): string {
  const signed = (path: string) => hookSecret(o.secrets, path, path) !== undefined;
  const curl = `curl -u '${o.login}:${o.password ?? 'PASSWORD'}'`;
  if (!signed('/Bpium/NewTask')) {
    return `  ${pc.dim(o.emulator ? '# or post a webhook yourself:' : '# post a webhook:')}\n  ${curl} -H 'Content-Type: application/json' --data '${o.body}' ${o.url}/Bpium/NewTask\n`;
  }
  const who = o.emulator ? 'the embedded emulator signs its webhooks; ' : '';
  const everyPath = signed('/anything');
  let text = `  ${pc.dim(`# /Bpium/NewTask requires X-Hook-Signature (${who}webhook send signs with the secret the server checks, read from the same settings):`)}\n`;
  text += `  echo '${o.body}' | npx oktell-emu webhook send --fresh${o.webhookSendArgs} /Bpium/NewTask -\n`;
  if (!everyPath) text += `  ${pc.dim('# other paths are not signed:')}\n  ${curl} ${o.url}/anything   ${pc.dim('# → 404 from HTTP404')}\n`;
  return text;
}

/** ` --config <file>` for a command typed in this folder, when the server read a configuration file other than ./oktell.config.yaml. */
function configArg(configFile: string | undefined, cwd = process.cwd()): string {
  return configFile === undefined || resolve(cwd, 'oktell.config.yaml') === configFile ? '' : ` --config ${shellWord(configFile)}`;
}

/**
 * A second stop signal while the server waits for its running jobs stops it at once, as a kill would (the jobs cut off
 * are taken up again, their journaled effects replayed, as after a kill): said, and exit 128 + the signal's number
 * (130 for a second Ctrl-C), not Node's silent default.
 */
function forceOnSecondSignal(out: NodeJS.WritableStream): void {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      out.write(`${signal} again: stopping now, without waiting for the running jobs (they are taken up again, as after a kill)\n`);
      process.exit(128 + (osConstants.signals[signal] ?? 0));
    });
  }
}

/** Causes of a failed write an operator can act on, in words, with what to do. */
const WRITE_CAUSES: Record<string, [string, string]> = {
  ENOSPC: ['no space left on its disk', 'free space there (df -h for room, df -i for files)'],
  EDQUOT: ["this user's disk quota is exceeded", "free some of this user's files there or have its quota raised (quota -s shows it)"],
  EROFS: ['its file system is read-only', 'make the data folder writable'],
  EACCES: ['permission denied', "give the server's user write access to the data folder"],
  EPERM: ['permission denied', "give the server's user write access to the data folder"],
};

/**
 * The warning for a file of the data folder `serve` could not write (serve.json, store.json): the file, the cause and
 * the fix, and what goes without it. Only other commands read these files, so the server goes on serving.
 */
export function unwritableFile(file: string, e: unknown, postgres: boolean): string {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  const [cause, fix] = WRITE_CAUSES[code] ?? [(e as Error).message ?? String(e), 'check the data folder'];
  const without = file.endsWith(STORE_FILE) ? `commands given only this folder may not find the PostgreSQL store` : `commands that find this server through it (demo, webhook send, tasks run) need its address given${postgres ? ', and those given only this folder may not find the PostgreSQL store' : ''}`;
  return `cannot write ${file}: ${cause}${code && !cause.includes(code) ? ` (${code})` : ''}; the server runs without it, but ${without}; ${fix}, and it is written at the next start`;
}

function portNumber(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`${flag} ${v}: not a port number`);
  return n;
}

/** The banner's account of the service tasks, so the configuration is seen to be read: each with its schedule and next due time. */
export function tasksLine(tasks: readonly ServiceTask[], now = Date.now()): string {
  const described = tasks.map((t) => {
    const next = t.enabled ? t.schedule.next(now) : undefined;
    const when = !t.enabled ? 'disabled' : next === undefined ? 'no due time ahead' : `next ${isoInZone(next, t.timeZone)}`;
    return { text: `${t.name} (${t.schedule.text}, ${when})`, next: next ?? Infinity };
  });
  if (described.length <= BANNER_TASKS) return described.map((d) => d.text).join(', ');
  // A schedule of dozens of tasks (one report per customer) would make one line of thousands of characters: the
  // banner names the ones due first and counts the others, which `oktell-emu tasks` lists.
  const first = [...described].sort((a, b) => a.next - b.next).slice(0, BANNER_TASKS);
  return `${described.length} tasks, the first due: ${first.map((d) => d.text).join(', ')}, and ${described.length - BANNER_TASKS} more`;
}

/** Tasks the start banner describes one by one. */
const BANNER_TASKS = 5;

/**
 * The `tasks` command the banner suggests, naming what this server was started with so it works as printed in a new
 * shell: the store as `runs` names it (`--data-dir`, or OKTELL_STORE/OKTELL_CONFIG with PostgreSQL), the
 * configuration file that holds the schedule, and the scenarios folder the tasks' scenarios are checked against.
 */
export function tasksCommandHint(store: { runs: string }, configFile: string | undefined, scenariosDir: string, cwd = process.cwd()): string {
  const base = store.runs.replace(/npx oktell-emu runs/, 'npx oktell-emu tasks');
  const named = base.includes('OKTELL_CONFIG=') || configFile === undefined || resolve(cwd, 'oktell.config.yaml') === configFile;
  const config = named ? '' : ` --config ${shellWord(configFile)}`;
  const scenarios = resolve(cwd, 'scenarios') === scenariosDir ? '' : ` --scenarios ${shellWord(scenariosDir)}`;
  return `${base}${config}${scenarios}`;
}

/**
 * The banner's `store` line, and a `runs` command that reads that store when typed in this folder: with SQLite the
 * data folder's file; with PostgreSQL the same OKTELL_STORE (masked: `note` says to put the password back) or the
 * same configuration file, since `--data-dir` alone would read a local file and answer "no runs recorded yet".
 */
export function storeBanner(store: StoreSetting, dataDir: string, env: NodeJS.ProcessEnv, configFile?: string, cwd = process.cwd()): { line: string; runs: string; note?: string } {
  if (store.kind === 'sqlite') return { line: join(dataDir, 'oktell.sqlite'), runs: `npx oktell-emu runs${dataDirArg(dataDir)}` };
  const shown = redactPostgresUrl(store.url);
  const line = `${shown} (PostgreSQL, shared with every instance using it)`;
  if (envSetting(env, 'OKTELL_STORE') !== undefined) {
    return { line, runs: `OKTELL_STORE=${shellWord(shown)} npx oktell-emu runs`, ...(shown !== store.url ? { note: 'the password in place of ***' } : {}) };
  }
  const inHere = configFile === undefined || resolve(cwd, 'oktell.config.yaml') === configFile;
  return { line, runs: `${inHere ? '' : `OKTELL_CONFIG=${shellWord(configFile)} `}npx oktell-emu runs` };
}

/** The store as `serve.json` names it: its kind, and for PostgreSQL the URL masked and the configuration file that named it. */
export function serverFileStore(store: StoreSetting, env: NodeJS.ProcessEnv, configFile: string | undefined): ServerFileStore {
  if (store.kind === 'sqlite') return { kind: 'sqlite' };
  const fromFile = envSetting(env, 'OKTELL_STORE') === undefined && configFile !== undefined;
  return { kind: 'postgres', url: redactPostgresUrl(store.url), ...(fromFile ? { configFile } : {}) };
}

/**
 * The embedded emulator as `serve.json` names it, for `run`'s hint on how to use it: its address and login, and
 * whether its password is the public demo one (the password itself is not written).
 */
function emulatorEntry(emulator: BpiumEmulator | undefined): Pick<ServerFile, 'bpiumEmulator' | 'bpiumEmulatorLogin' | 'bpiumEmulatorDemoAccount'> {
  if (!emulator) return {};
  return { bpiumEmulator: emulator.url, bpiumEmulatorLogin: emulator.login, bpiumEmulatorDemoAccount: emulator.password === DEMO_PASSWORD };
}
