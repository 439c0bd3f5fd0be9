// `oktell-emu tasks` and `tasks run`: the command line (arguments, options, help). What the command does is in ./tasks.js, imported
// when the command runs, so that other commands, --help and --version do not pay for loading it.
import { Command } from 'commander';
import { SCENARIOS_FOLDER_HELP, STORE_DATA_DIR_HELP } from '../help-texts.js';
import type { TaskFlags } from './tasks.js';

export function tasksCommand(): Command {
  const common = (c: Command) => c.option('--config <file>', 'configuration file (default $OKTELL_CONFIG or ./oktell.config.yaml)').option('-d, --data-dir <dir>', STORE_DATA_DIR_HELP).option('-s, --scenarios <dir>', SCENARIOS_FOLDER_HELP);
  const cmd = common(new Command('tasks').description('list the service tasks: schedule, last run, next three due times'))
    // A group with an action of its own gets no `help` command from commander: listed as webhook's is.
    .helpCommand(true)
    .option('--json', 'print JSON')
    .action(async (o: TaskFlags) => (await import('./tasks.js')).tasksAction(o));
  cmd.addCommand(
    common(new Command('run').description('start a service task now (a normal job, marked manual; a running server runs it)').argument('<name>', 'the task'))
      .option('--json', 'print the queued run as JSON, as POST /-/tasks/NAME/run answers')
      // `tasks` has the same options, and commander gives an option to the parent wherever it stands on the line
      // (`tasks run r --data-dir X` as well as `tasks --data-dir X run r`): read both levels, the subcommand's first.
      .action(async (name: string, _o: TaskFlags, command: Command) => (await import('./tasks.js')).tasksRunAction(name, _o, command))
      .exitOverride(),
  );
  return cmd;
}
