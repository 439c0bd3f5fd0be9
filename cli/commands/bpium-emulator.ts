// `oktell-emu bpium-emulator`: runs the local Bpium emulator (REST API + webhooks) until SIGINT/SIGTERM.
import { InvalidArgumentError } from 'commander';
import { portNumber } from './bpium-emulator.command.js';
import { resolve } from 'node:path';
import pc from 'picocolors';
import type { LoggerPort } from '../../engine/ports.js';
import { DEFAULT_EMULATOR_PORT, DEMO_LOGIN, DEMO_PASSWORD, emulatorAccount, SeedError, startBpiumEmulator, type BpiumEmulatorOptions } from '../../bpium-emulator/index.js';
import { envSetting } from '../../engine/env.js';
import { maskAddress } from '../../adapters/web/redact.js';
import { dataDir, UsageError } from '../config.js';
import { portInUse } from '../../server/start-checks.js';
import { dataFolderHeld } from '../../server/data-lock.js';
import { readServerFile, serverFilePath } from '../server-file.js';

/** Where the command reads its settings and writes its output; tests pass their own. */
export interface BpiumEmulatorCommandIo {
  env?: NodeJS.ProcessEnv;
  write?: (text: string) => void;
  /** Where warnings go (default standard error). */
  warn?: (text: string) => void;
  /** Resolves when the emulator should stop; default: the first SIGINT or SIGTERM. */
  stopSignal?: () => Promise<void>;
}

export interface BpiumEmulatorFlags {
  port?: number;
  /** The deprecated `-p` (now `--param` of run and test); read as --port, with a warning. */
  p?: number;
  host?: string;
  dataDir?: string;
  seed?: string;
  webhookUrl?: string;
  webhookSecret?: string;
}


/**
 * Settings from flags, then the environment, then defaults: port `--port` > BPIUM_EMULATOR_PORT > 4056;
 * data dir `--data-dir` > OKTELL_DATA_DIR > ./var; account BPIUM_LOGIN/BPIUM_PASSWORD else demo@example.com/demo;
 * webhook target `--webhook-url` > BPIUM_EMULATOR_WEBHOOK_URL with `--webhook-secret` > BPIUM_WEBHOOK_SECRET.
 */
export function resolveEmulatorSettings(flags: BpiumEmulatorFlags, env: NodeJS.ProcessEnv): BpiumEmulatorOptions {
  const envPort = envSetting(env, 'BPIUM_EMULATOR_PORT')?.trim();
  let port = DEFAULT_EMULATOR_PORT;
  if (flags.port !== undefined) port = flags.port;
  else if (envPort !== undefined) {
    try {
      port = portNumber(envPort);
    } catch {
      throw new InvalidArgumentError(`BPIUM_EMULATOR_PORT must be a port number, got ${JSON.stringify(envPort)}`);
    }
  }
  const options: BpiumEmulatorOptions = {
    port,
    host: flags.host ?? '127.0.0.1',
    dataDir: dataDir(flags.dataDir, env),
    ...emulatorAccount(env),
  };
  if (flags.seed) options.seedFile = resolve(flags.seed);
  // A blank variable (spaces too) is unset, as everywhere.
  const webhookUrl = flags.webhookUrl ?? envSetting(env, 'BPIUM_EMULATOR_WEBHOOK_URL');
  if (webhookUrl) {
    const secret = flags.webhookSecret ?? envSetting(env, 'BPIUM_WEBHOOK_SECRET');
    if (!secret) throw new InvalidArgumentError('a webhook URL needs a secret too (--webhook-secret or BPIUM_WEBHOOK_SECRET)');
    options.webhookTarget = { url: webhookUrl, secret };
  }
  return options;
}

/** Prints webhook deliveries as readable lines; other messages go out only as warnings and errors. */
function consoleLogger(write: (text: string) => void): LoggerPort {
  const line = (colour: (s: string) => string) => (obj: object, msg?: string) => {
    const o = obj as { event?: string; sequenceId?: number; recordId?: string; url?: string; status?: number; error?: string; ms?: number };
    const detail = o.event ? ` ${o.event} #${o.sequenceId} record ${o.recordId} → ${o.url}: ${o.status !== undefined ? `HTTP ${o.status}` : o.error} (${o.ms} ms)` : '';
    write(`${colour(msg ?? '')}${detail}\n`);
  };
  return { debug: () => undefined, info: line(pc.green), warn: line(pc.yellow), error: line(pc.red) };
}

/**
 * Refuses a data folder whose running server has its embedded emulator on it: both would use the same
 * bpium-emulator.sqlite, and this one would take over the seed webhook the server's emulator posts with. A server
 * started with BPIUM_URL (no embedded emulator) shares the folder with a standalone emulator as before. The server is
 * known from its `serve.json`; with the SQLite store its lock must also be held, so an old file whose pid was reused
 * refuses nothing.
 */
export function refuseServedFolder(dataDir: string): void {
  const running = readServerFile(dataDir);
  if (!running?.bpiumEmulator) return;
  if (running.store?.kind !== 'postgres' && !dataFolderHeld(dataDir)) return;
  // A PostgreSQL server holds the folder's lock shared, which dataFolderHeld does not see (it looks for a SQLite
  // server's): only its pid tells (with its start, where /proc has it), and without /proc a reused pid would keep
  // refusing.
  const stale = running.store?.kind === 'postgres' ? ` (if no such server runs, its serve.json is left over: remove ${serverFilePath(dataDir)})` : '';
  throw new UsageError(
    `the data folder ${dataDir} is in use by the server with pid ${running.pid} (${running.url}), whose embedded Bpium emulator (${running.bpiumEmulator}) keeps its data there: use that emulator, stop that server first, or give this one another data folder (--data-dir or OKTELL_DATA_DIR)${stale}`,
  );
}

function waitForSignal(): Promise<void> {
  return new Promise((resolveStop) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolveStop();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

export async function bpiumEmulatorAction(io: BpiumEmulatorCommandIo, flags: BpiumEmulatorFlags): Promise<void> {
  const env = io.env ?? process.env;
  const write = io.write ?? ((text: string) => void process.stdout.write(text));
  const warn = io.warn ?? ((text: string) => void process.stderr.write(text));
  if (flags.p !== undefined) {
    warn(pc.yellow('oktell-emu: bpium-emulator -p is deprecated and will be removed: use --port (-p means --param in run)\n'));
    flags.port ??= flags.p;
  }
  const settings = resolveEmulatorSettings(flags, env);
  refuseServedFolder(settings.dataDir);
  let emulator;
  try {
    emulator = await startBpiumEmulator({ ...settings, logger: consoleLogger(write) });
  } catch (e) {
    // A seed the user wrote, or a port in use, is theirs to fix: the message and exit 2, not a stack.
    if (e instanceof SeedError) throw new UsageError(e.message);
    throw portInUse(e, 'the Bpium emulator', '--port or BPIUM_EMULATOR_PORT');
  }
  const usingDemo = settings.login === DEMO_LOGIN && settings.password === DEMO_PASSWORD;
  write(`${pc.bold('Bpium emulator')} listening on ${pc.cyan(emulator.url)}\n`);
  write(`  login ${emulator.login} / ${usingDemo ? emulator.password : '(BPIUM_PASSWORD)'}\n`);
  write(`  data  ${emulator.dataFile}\n`);
  for (const hook of emulator.webhooks()) {
    const shown = maskAddress(hook.url);
    write(`  webhook ${hook.id}: catalog ${hook.catalogId} ${hook.events.join(',')} → ${shown}\n`);
  }
  write(pc.dim('Press Ctrl+C to stop.\n'));
  await (io.stopSignal ?? waitForSignal)();
  await emulator.close();
  write('Bpium emulator stopped.\n');
}

