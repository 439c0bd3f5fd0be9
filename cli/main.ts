// The `oktell-emu` command line: one program, one subcommand per file under cli/commands.
import { Command, CommanderError } from 'commander';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import pc from 'picocolors';
import { UnavailableError, UsageError } from './errors.js';
import { terminalText } from './terminal-text.js';
import { freeSpaceHint, quotaHint } from './shell-word.js';
import { graphCommand } from './commands/graph.command.js';
import { runCommand } from './commands/run.command.js';
import { validateCommand } from './commands/validate.command.js';
import { outboxCommand } from './commands/outbox.command.js';
import { bpiumEmulatorCommand } from './commands/bpium-emulator.command.js';
import { demoCommand } from './commands/demo.command.js';
import { schemaCommand } from './commands/schema.command.js';
import { serveCommand } from './commands/serve.command.js';
import { testCommand } from './commands/test.command.js';
import { cancelCommand, pauseCommand, replayCommand, resumeCommand, runsCommand, showCommand } from './commands/runs.command.js';
import { webhookCommand } from './commands/webhook.command.js';
import { tasksCommand } from './commands/tasks.command.js';
import { backupCommand } from './commands/backup.command.js';
import { addHelpExamples } from './help-examples.js';
import { asksJunit, junitRefusal } from './testing/junit-xml.js';

export function buildProgram(): Command {
  const program = new Command('oktell-emu')
    .description('Oktell service-scenario emulator: validate and run YAML scenarios, serve webhooks like Oktell\'s web server')
    .version('0.1.0')
    // Read by bin/oktell-emu.js (and picocolors) before parsing; declared here so that the help lists them.
    .option('--color', 'colours even when the output is not a terminal (as FORCE_COLOR=1); with every command')
    .option('--no-color', 'no colours (as NO_COLOR=1); with every command')
    .exitOverride();
  for (const c of [serveCommand(), validateCommand(), runCommand(), testCommand(), graphCommand(), runsCommand(), showCommand(), replayCommand(), cancelCommand(), pauseCommand(), resumeCommand(), outboxCommand(), bpiumEmulatorCommand(), demoCommand(), webhookCommand(), schemaCommand(), tasksCommand(), backupCommand()]) {
    program.addCommand(c.exitOverride());
  }
  silenceParseErrors(program);
  addHelpExamples(program);
  return program;
}

/**
 * Output piped into a reader that stops early (`runs | head -3`) ends in EPIPE on the next write: the reader has all it
 * wanted, so the command stops there, quietly, as other command-line tools do, instead of dying with a stack.
 */
function quietOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  });
}

/** The command whose line could not be parsed, so that the message can point at that command's --help. */
const failedCommand = new WeakMap<CommanderError, Command>();

/**
 * Commander's own print of a parse error is left out: `main` prints it once, as text or JSON (--json). Each command
 * notes itself on the error it throws.
 */
function silenceParseErrors(command: Command): void {
  command.configureOutput({ outputError: () => undefined });
  command.exitOverride((e) => {
    failedCommand.set(e, command);
    throw e;
  });
  for (const sub of command.commands) silenceParseErrors(sub);
}

/** `oktell-emu tasks run`: the names from the program down to the command. */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * A parse error on one line, as every usage mistake is: commander's message (its quotes made ours), its suggestion
 * `(Did you mean one of a, b?)` folded into `(did you mean a or b?)`, and where the right usage is.
 */
export function parseErrorLine(e: CommanderError, command: Command | undefined): string {
  const [first = '', ...rest] = e.message.replace(/^error: /, '').split('\n');
  // The unknown name is taken whole (it may hold a quote itself); other messages have only commander's own quotes.
  const named = /^unknown (command|option) '(.*)'$/.exec(first);
  let text = named ? `unknown ${named[1]} "${named[2]}"` : first.replace(/'([^'\n]*)'/g, '"$1"').replace(/\.$/, '');
  // A word after a command that only has subcommands (`tasks frob`) is a mistyped subcommand, not an argument.
  if (e.code === 'commander.excessArguments' && command?.commands.length && !command.registeredArguments.length) {
    text = `unknown command "${command.args[0]}" for ${commandPath(command)} (its commands: ${command.commands.map((c) => c.name()).join(', ')})`;
  }
  const suggested = /^\(Did you mean (?:one of )?(.*)\?\)$/.exec(rest.join(' ').trim());
  if (suggested) {
    const names = suggested[1]!.split(', ');
    text += ` (did you mean ${names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}` : names[0]}?)`;
  }
  return `${text}; see ${command ? commandPath(command) : 'oktell-emu'} --help`;
}

/**
 * `oktell-emu help run` is read as `oktell-emu run --help`, and `tasks help run` (`outbox help show`, `webhook help send`)
 * as `tasks run --help`, whether or not the group has an action of its own (commander gives a help command only to a
 * group without one). A name that is not a command (`help runz`, `tasks help frob`) is read as that name alone, so it
 * gets the one-line error with the nearest commands that `oktell-emu runz` gets, instead of the whole help and exit 0.
 */
function helpAsOption(program: Command, argv: string[]): string[] {
  const [node = '', script = '', ...words] = argv;
  const named = (parent: Command, name: string | undefined) => parent.commands.find((c) => c.name() === name || c.aliases().includes(name ?? ''));
  const group = named(program, words[0]);
  const at = words[0] === 'help' ? 0 : words[1] === 'help' && group?.commands.length ? 1 : -1;
  const name = words[at + 1];
  if (at < 0 || name === undefined) return argv;
  const before = words.slice(0, at);
  const rest = words.slice(at + 2);
  return named(at === 0 ? program : group!, name) ? [node, script, ...before, name, ...rest, '--help'] : [node, script, ...before, name];
}

export async function main(argv: string[]): Promise<void> {
  quietOnClosedPipe(process.stdout);
  quietOnClosedPipe(process.stderr);
  const program = buildProgram();
  const json = argv.includes('--json');
  // `test --reporter junit > junit.xml` that cannot run still writes a report saying why (see fail).
  junit = !json && asksJunit(argv.slice(2));
  try {
    await program.parseAsync(helpAsOption(program, argv));
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') {
        // Help asked for exits 0; help shown because a command is missing (`oktell-emu`, `oktell-emu webhook`,
        // printed on stderr) is a usage error, so a script whose command word came out empty does not pass.
        process.exitCode = e.exitCode === 0 ? 0 : 2;
        return;
      }
      fail(json, 'E_USAGE', parseErrorLine(e, failedCommand.get(e)));
      return;
    }
    if (e instanceof UsageError) {
      fail(json, e.code, e.message, e.details);
      return;
    }
    if (e instanceof UnavailableError) {
      fail(json, e.code, e.message, {}, 1);
      return;
    }
    const { StoreOpenError, StoreUnavailableError, configurationError, RefusedLinkError } = await serviceErrors();
    // Run as root, a symbolic link in a service's data folder (a secret file, the outbox) is not followed: one line
    // naming it, why and the fix, exit 2, as for a setting.
    if (e instanceof RefusedLinkError) {
      fail(json, e.code, e.message);
      return;
    }
    // The store named by the configuration cannot be opened: one line, not the driver's stack.
    if (e instanceof StoreOpenError) {
      fail(json, 'E_STORE', e.message, {}, e.usage ? 2 : 1);
      return;
    }
    // The store refuses the call (its quota is near, the disk is full, it is locked, no connection slot): one line,
    // exit 1, saying whether a read or a write was refused and what to do; try later.
    if (e instanceof StoreUnavailableError) {
      const { storeRefusalLine } = await import('./store-refusal-line.js');
      fail(json, 'E_STORE', storeRefusalLine(e), {}, 1);
      return;
    }
    if (configurationError(e)) {
      fail(json, 'E_USAGE', e.message);
      return;
    }
    if (fileSystemError(e)) {
      // A full disk is no mistake in the call: exit 1, as for a store that refuses writes; try again once there is room.
      fail(json, 'E_FILE', fileErrorLine(e), {}, e.code === 'ENOSPC' || e.code === 'EDQUOT' ? 1 : 2);
      return;
    }
    throw e;
  }
}

/**
 * The errors of the parts a command runs (the store, the settings, the mail and Bpium addresses), loaded only when a
 * command failed: their modules are the command's own, so that `--version`, `--help` and other commands skip them.
 */
async function serviceErrors() {
  const [{ StoreOpenError }, { StoreUnavailableError }, { ConfigError }, { MailConfigError }, { BpiumConfigError }, { DamagedStoreError }, { RefusedLinkError }] = await Promise.all([
    import('../server/store/store-open.js'),
    import('../server/store/store.errors.js'),
    import('../server/config.js'),
    import('../adapters/mail/smtp-url.js'),
    import('../adapters/bpium/url.js'),
    import('../server/store/sqlite-check.js'),
    import('../adapters/private-file.js'),
  ]);
  /**
   * A setting (or a file a setting names) that is wrong, thrown by whichever part reads it: one line naming the
   * setting and exit 2, as docs/cli.md promises, for every command, not a stack trace.
   */
  const configurationError = (e: unknown): e is Error => e instanceof ConfigError || e instanceof MailConfigError || e instanceof BpiumConfigError || e instanceof DamagedStoreError;
  return { StoreOpenError, StoreUnavailableError, configurationError, RefusedLinkError };
}

/**
 * A file or folder named on the command line (`graph -o`, `test --out`) that the system refuses: a mistake in the
 * command, said in one line with the path, exit 2, instead of Node's stack. Only errors that name a path are such;
 * anything else is a bug and keeps its stack.
 */
function fileSystemError(e: unknown): e is NodeJS.ErrnoException & { path: string; code: string } {
  const f = e as NodeJS.ErrnoException;
  return e instanceof Error && typeof f.code === 'string' && typeof f.syscall === 'string' && typeof f.path === 'string';
}

const FILE_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or folder',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'it is a folder, not a file',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: "this user's disk quota is exceeded",
  EEXIST: 'it already exists',
};

function fileErrorLine(e: NodeJS.ErrnoException & { path: string; code: string }): string {
  const action = e.syscall === 'mkdir' ? 'create the folder' : e.syscall === 'scandir' ? 'read the folder' : e.syscall === 'open' ? 'open' : `${e.syscall}`;
  // The usual slip: an output file in a folder that is not there.
  const reason =
    e.code === 'ENOENT' && e.syscall === 'open' && !existsSync(dirname(e.path)) ? `the folder ${dirname(e.path)} does not exist`
    : (FILE_ERRORS[e.code] ?? e.message);
  // A full disk (or quota) is fixed outside the command: say where. A quota is the user's, not the disk's: df shows
  // the disk, which may have room.
  const fix = e.code === 'ENOSPC' ? `: ${freeSpaceHint(dirname(e.path))} and try again` : e.code === 'EDQUOT' ? `: ${quotaHint()} and try again` : '';
  return `cannot ${action} ${e.path}: ${reason} (${e.code})${fix}`;
}

/**
 * The SQLite driver's compiled part is missing when its install script did not run (`npm install --ignore-scripts`,
 * or an npm that refuses scripts not approved). Whichever part met it wraps the driver's message (a list of a dozen
 * paths it tried) in its own words, which then blame a data folder or a migration: said once, in one line, with the fix.
 */
export function driverMissingLine(message: string): string | undefined {
  if (!/Could not locate the bindings file/.test(message) || !/better[-_]sqlite3/.test(message)) return undefined;
  return 'the SQLite driver (better-sqlite3) is installed without its compiled part: its install script did not run (npm install --ignore-scripts, or npm refusing scripts not approved); run npm rebuild better-sqlite3 where oktell-emulator is installed';
}

/** The command line asks for a JUnit report (`test --reporter junit`): a refusal is written as one, too. */
let junit = false;

function fail(json: boolean, code: string, given: string, details: Readonly<Record<string, unknown>> = {}, exitCode = 2) {
  const message = driverMissingLine(given) ?? given;
  if (junit) process.stdout.write(junitRefusal(code, message));
  if (json) process.stdout.write(`${JSON.stringify({ status: 'failed', error: { code, message, ...details } })}\n`);
  // A message may quote stored data (a scenario's name, a webhook's path, a server's error): escaped as every command
  // escapes it; --json keeps the real characters, which JSON carries.
  else process.stderr.write(`${pc.red('oktell-emu:')} ${terminalText(message, true)}\n`);
  process.exitCode = exitCode;
}
