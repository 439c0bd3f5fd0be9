// `oktell-emu schema`: the command line (arguments, options, help). What the command does is in ./schema.js, imported
// when the command runs, so that other commands, --help and --version do not pay for loading it.
import { Command } from 'commander';

export function schemaCommand(): Command {
  return new Command('schema')
    .description('print the JSON Schema of scenario files (--tests: of test files), for editors')
    .option('--tests', 'the schema of scenario test files (*.test.yaml) instead')
    .action(async (opts: { tests?: boolean }) => (await import('./schema.js')).schemaAction(opts));
}
