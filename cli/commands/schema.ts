// `oktell-emu schema`: prints the JSON Schema of scenario files (generated from the block registry), or with
// `--tests` the one of scenario test files.
import { buildScenarioJsonSchema } from '../../components/json-schema.js';
import { defaultRegistry } from '../../components/registry.js';
import { buildTestFileJsonSchema } from '../testing/test-file.js';

export async function schemaAction(opts: { tests?: boolean }): Promise<void> {
  const schema = opts.tests ? buildTestFileJsonSchema() : buildScenarioJsonSchema(defaultRegistry);
  process.stdout.write(`${JSON.stringify(schema, null, 2)}\n`);
}

