// `oktell-emu schema`: prints the JSON Schema of scenario files (generated from the block registry).
import { Command } from 'commander';
import { buildScenarioJsonSchema } from '../../components/json-schema.js';
import { defaultRegistry } from '../../components/registry.js';

export function schemaCommand(): Command {
  return new Command('schema')
    .description('print the JSON Schema of scenario files, for editors')
    .action(() => {
      process.stdout.write(`${JSON.stringify(buildScenarioJsonSchema(defaultRegistry), null, 2)}\n`);
    });
}
