// Builds the JSON Schema of scenario files from the block registry, so editors validate and complete them.
import { z } from 'zod';
import type { BlockRegistry } from '../engine/index.js';
import { VAR_TYPES } from '../engine/index.js';

type Json = Record<string, unknown>;

export function buildScenarioJsonSchema(registry: BlockRegistry): Json {
  const blockVariants = [...registry.values()].map((def) => {
    const props = z.toJSONSchema(def.schema, { unrepresentable: 'any', io: 'input' }) as Json;
    const shape = withMeta(props, def.kind, def.exits);
    return {
      title: `${def.kind} (${def.oktellName})`,
      description: def.description,
      if: { properties: { kind: { const: def.kind } }, required: ['kind'] },
      then: shape,
    };
  });
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://github.com/oktell-emulator/oktell-emulator/schema/scenario.schema.json',
    title: 'Oktell emulator scenario',
    description: 'A service scenario: variables, a start block and blocks joined by named exits. See docs/scenario-format.md.',
    type: 'object',
    additionalProperties: false,
    required: ['blocks'],
    properties: {
      name: { type: 'string', description: 'Optional; must equal the file name without .yaml' },
      description: { type: 'string' },
      start: { type: 'string', description: 'Id of the first block (default: the first block in the file)' },
      variables: {
        type: 'object',
        description: 'Variables by name. Names may hold spaces and Cyrillic, but not [ ] \\',
        additionalProperties: {
          oneOf: [
            { enum: [...VAR_TYPES] },
            {
              type: 'object',
              additionalProperties: false,
              required: ['type'],
              properties: {
                type: { enum: [...VAR_TYPES] },
                initial: { type: ['string', 'number', 'boolean'] },
                description: { type: 'string' },
                env: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description: "Environment variable of the server holding the initial value (secret unless secret: false)" },
                file: { type: 'string', minLength: 1, description: 'File holding the initial value, without its final line break (secret unless secret: false)' },
                secret: { type: 'boolean', description: 'Runs record the value as ***' },
              },
            },
          ],
        },
      },
      blocks: {
        type: 'object',
        description: 'Blocks by id',
        additionalProperties: {
          type: 'object',
          required: ['kind'],
          properties: { kind: { enum: [...registry.keys()] } },
          allOf: blockVariants,
        },
      },
    },
  };
}

/** Adds the common block keys (kind, title, description, exits) to a block kind's property schema. */
function withMeta(props: Json, kind: string, exits: readonly string[]): Json {
  const meta = {
    kind: { const: kind },
    title: { type: 'string', description: 'Oktell «Имя»: shown in diagrams' },
    description: { type: 'string', description: 'Oktell «Описание»' },
    exits: {
      type: 'object',
      description: `Exits (transitions) of ${kind} to block ids; an exit left out ends the scenario`,
      additionalProperties: false,
      properties: Object.fromEntries(exits.map((e) => [e, { type: ['string', 'null'] }])),
    },
  };
  const clean = { ...props };
  delete clean.$schema;
  if (Array.isArray(clean.anyOf)) {
    return { anyOf: (clean.anyOf as Json[]).map((v) => withMeta(v, kind, exits)) };
  }
  return { ...clean, properties: { ...meta, ...(clean.properties as Json) } };
}
