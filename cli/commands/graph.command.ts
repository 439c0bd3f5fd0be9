// `oktell-emu graph`: the command line (arguments, options, help). What the command does is in ./graph.js, imported
// when the command runs, so that other commands, --help and --version do not pay for loading it.
import { Command, InvalidArgumentError } from 'commander';
import { CONFIG_FILE_HELP, SCENARIOS_FOLDER_HELP } from '../help-texts.js';

export function graphCommand(): Command {
  return new Command('graph')
    .description('draw a scenario as a Mermaid flowchart or an SVG (the console\'s diagram); an invalid one as far as it can be read, with its problems; exit 1 when it has problems')
    .argument('<scenario>', 'scenario name (file name without .yaml) or path to a scenario file')
    .option('-s, --scenarios <dir>', SCENARIOS_FOLDER_HELP)
    .option('--config <file>', CONFIG_FILE_HELP)
    .option('-f, --format <format>', 'mermaid (default) or svg', graphFormat, 'mermaid' as GraphFormat)
    .option('-o, --output <file>', 'write the diagram to this file instead of standard output')
    .action(async (arg: string, opts: { scenarios?: string; config?: string; format: GraphFormat; output?: string }) => (await import('./graph.js')).graphAction(arg, opts));
}

export type GraphFormat = 'mermaid' | 'svg';

export function graphFormat(value: string): GraphFormat {
  if (value !== 'mermaid' && value !== 'svg') throw new InvalidArgumentError('expected mermaid or svg');
  return value;
}
