// The `oktell-emu` command line: one program, one subcommand per file under cli/commands.
import { Command, CommanderError } from 'commander';
import pc from 'picocolors';
import { UsageError } from './config.js';
import { graphCommand } from './commands/graph.js';
import { runCommand } from './commands/run.js';
import { validateCommand } from './commands/validate.js';
import { outboxCommand } from './commands/outbox.js';
import { bpiumEmulatorCommand } from './commands/bpium-emulator.js';
import { demoCommand } from './commands/demo.js';
import { schemaCommand } from './commands/schema.js';
import { serveCommand } from './commands/serve.js';
import { testCommand } from './commands/test.js';
import { replayCommand, runsCommand, showCommand } from './commands/runs.js';
import { webhookCommand } from './commands/webhook.js';
import { tasksCommand } from './commands/tasks.js';

export function buildProgram(): Command {
  const program = new Command('oktell-emu')
    .description('Oktell service-scenario emulator: validate and run YAML scenarios, serve webhooks like Oktell\'s web server')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  for (const c of [serveCommand(), validateCommand(), runCommand(), testCommand(), graphCommand(), runsCommand(), showCommand(), replayCommand(), outboxCommand(), bpiumEmulatorCommand(), demoCommand(), webhookCommand(), schemaCommand(), tasksCommand()]) {
    program.addCommand(c.exitOverride());
  }
  silenceParseErrors(program);
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

/** Commander's own print of a parse error is left out: `main` prints it once, as text or JSON (--json). */
function silenceParseErrors(command: Command): void {
  command.configureOutput({ outputError: () => undefined });
  for (const sub of command.commands) silenceParseErrors(sub);
}

export async function main(argv: string[]): Promise<void> {
  quietOnClosedPipe(process.stdout);
  quietOnClosedPipe(process.stderr);
  const program = buildProgram();
  const json = argv.includes('--json');
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') {
        process.exitCode = 0;
        return;
      }
      fail(json, 'E_USAGE', e.message.replace(/^error: /, ''));
      return;
    }
    if (e instanceof UsageError) {
      fail(json, 'E_USAGE', e.message);
      return;
    }
    throw e;
  }
}

function fail(json: boolean, code: string, message: string) {
  if (json) process.stdout.write(`${JSON.stringify({ status: 'failed', error: { code, message } })}\n`);
  else process.stderr.write(`${pc.red('oktell-emu:')} ${message}\n`);
  process.exitCode = 2;
}
