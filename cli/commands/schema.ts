// `oktell-emu schema`: prints the JSON Schema of scenario files (generated from the block registry), or with
// `--tests` the one of scenario test files.
import { Command } from 'commander';
import { buildScenarioJsonSchema } from '../../components/json-schema.js';
import { defaultRegistry } from '../../components/registry.js';
import { buildTestFileJsonSchema } from '../testing/test-file.js';

export function schemaCommand(): Command {
  return new Command('schema')
    .description('print the JSON Schema of scenario files (--tests: of test files), for editors')
    .option('--tests', 'the schema of scenario test files (*.test.yaml) instead')
    .action((opts: { tests?: boolean }) => {
      const schema = opts.tests ? buildTestFileJsonSchema() : buildScenarioJsonSchema(defaultRegistry);
      process.stdout.write(`${JSON.stringify(schema, null, 2)}\n`);
    });
}
