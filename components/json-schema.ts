// Builds the JSON Schema of scenario files from the block registry, so editors validate and complete them.
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { BlockRegistry } from '../engine/index.js';
import { VAR_TYPES } from '../engine/index.js';
import { PROPERTY_DOCS } from './property-docs.js';

type Json = Record<string, unknown>;

export function buildScenarioJsonSchema(registry: BlockRegistry): Json {
  /** Definitions of every kind's schema (WebRequest's nested `json`), under names of that kind, at the root. */
  const $defs: Json = {};
  const blockVariants = [...registry.values()].map((def) => {
    const props = hoistDefs(z.toJSONSchema(def.schema, { unrepresentable: 'any', io: 'input' }) as Json, def.kind, $defs);
    const shape = withMeta(described(props, PROPERTY_DOCS[def.kind] ?? {}), def.kind, def.exits);
    return {
      title: `${def.kind} (${def.oktellName})`,
      description: def.description,
      if: { properties: { kind: { const: def.kind } }, required: ['kind'] },
      // The kind's description on `kind` itself too: editors show a hover of the value's own schema.
      then: withKindDescription(shape, `${def.kind} (${def.oktellName}): ${def.description}`),
    };
  });
  return forYamlEditors({
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://github.com/oktell-emulator/oktell-emulator/schema/scenario.schema.json',
    title: 'Oktell emulator scenario',
    description: 'A service scenario: variables, a start block and blocks joined by named exits. See docs/scenario-format.md.',
    type: 'object',
    additionalProperties: false,
    required: ['blocks'],
    properties: {
      name: { type: 'string', description: 'Optional; must equal the file name without .yaml' },
      description: { type: ['string', 'number', 'boolean', 'null'], description: 'What the scenario does, as text (an empty one is none)' },
      start: { type: 'string', description: 'Id of the first block (default: the first block in the file)' },
      variables: {
        type: 'object',
        description: 'Variables by name. Names may hold spaces and Cyrillic, but not [ ] \\',
        // The loader's rule of names (engine/variables.ts): no [ ] \\, no space at either end.
        propertyNames: { type: 'string', pattern: VARIABLE_NAME },
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
              // One place to read the value from.
              not: { required: ['env', 'file'] },
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
    ...(Object.keys($defs).length ? { $defs } : {}),
  });
}

/**
 * Moves the `$defs` of one kind's generated schema (zod writes one for a recursive shape, WebRequest's `json`) to the
 * root's, named `<kind>.<name>`: a `$ref` of `#/$defs/…` is resolved against the root of the whole file, so left inside
 * the kind's `then` it would point at nothing, and an editor refuses every scenario ("$ref cannot be resolved").
 */
function hoistDefs(schema: Json, kind: string, $defs: Json): Json {
  const own = schema.$defs as Json | undefined;
  if (!own) return schema;
  const renamed = (ref: string) => ref.replace(/^#\/\$defs\/(.+)$/, (_, name: string) => `#/$defs/${kind}.${name}`);
  const rewrite = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(rewrite);
    if (!v || typeof v !== 'object') return v;
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, k === '$ref' && typeof x === 'string' ? renamed(x) : rewrite(x)]));
  };
  for (const [name, d] of Object.entries(own)) $defs[`${kind}.${name}`] = rewrite(d);
  const rest = { ...schema };
  delete rest.$defs;
  return rewrite(rest) as Json;
}

/** The one pattern of numbered keys (input parameters, return values): 1 to 99. */
const NUMBERED = '^[1-9]\\d?$';

/**
 * A JSON Schema as YAML editors need it. JSON's keys are always text, but a YAML key is typed: `2:` of
 * `values: { 2: 200 }` is the number 2, `true:` a boolean, and the YAML language server checks `propertyNames` against
 * the key as typed, so `propertyNames: { type: string }` (what zod writes for every record) would mark every numbered
 * key red. The loader reads a key as its text, so a key's rule here is its text's: a numbered key (1 to 99) is the
 * text or the whole number, a key with no rule but text is any scalar, and the other rules (a pattern, a length) keep
 * their text form and take a number or boolean only when its text fits them. Keys given as `$ref`s are written out.
 */
export function forYamlEditors<T extends Json>(schema: T): T {
  const root = schema;
  const resolve = (s: Json): Json => {
    const ref = s.$ref;
    if (typeof ref !== 'string' || !ref.startsWith('#/')) return s;
    const target = ref.slice(2).split('/').reduce<unknown>((o, k) => (o as Json | undefined)?.[k.replace(/~1/g, '/').replace(/~0/g, '~')], root) as Json | undefined;
    if (!target) return s;
    const rest = { ...s };
    delete rest.$ref;
    return { ...resolve(target), ...rest };
  };
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (!v || typeof v !== 'object') return v;
    const out: Json = {};
    for (const [k, x] of Object.entries(v)) {
      if (k === 'propertyNames' && x && typeof x === 'object') {
        const keys = yamlKeys(resolve(x as Json));
        if (keys) out[k] = keys;
      } else out[k] = walk(x);
    }
    return typedNames(out);
  };
  return walk(schema) as T;
}

/**
 * A closed mapping (`additionalProperties: false`) some of whose names YAML reads as no text (Condition's exits `true`
 * and `false`): the YAML language server takes the key `true:` for the boolean, which matches no name of `properties`,
 * and would call it "not allowed". Such a mapping lists its names, typed and as text, under `propertyNames` instead.
 */
function typedNames(schema: Json): Json {
  const props = schema.properties as Json | undefined;
  if (schema.additionalProperties !== false || !props || schema.propertyNames) return schema;
  const typed = Object.keys(props).map((n) => parseYaml(n) as unknown).filter((v) => typeof v !== 'string');
  if (!typed.length) return schema;
  const { additionalProperties: _closed, ...open } = schema;
  return { ...open, propertyNames: { enum: [...Object.keys(props), ...typed] } };
}

/** The rule of a mapping's keys for typed YAML keys (see forYamlEditors); undefined when any key is right. */
function yamlKeys(names: Json): Json | undefined {
  if (names.type !== 'string') return names;
  const { type: _text, ...rules } = names;
  if (!Object.keys(rules).length) return undefined;
  const others: Json[] = [];
  if (rules.pattern === NUMBERED) others.push({ type: 'integer', minimum: 1, maximum: 99 });
  else {
    const fits = (text: string) => (typeof rules.pattern !== 'string' || new RegExp(rules.pattern, 'u').test(text)) && (typeof rules.minLength !== 'number' || text.length >= rules.minLength);
    if (Object.keys(rules).every((r) => r === 'pattern' || r === 'minLength')) {
      if (fits('1') && fits('-1.5')) others.push({ type: 'number' });
      if (fits('true') && fits('false')) others.push({ type: 'boolean' });
    }
  }
  return others.length ? { anyOf: [names, ...others] } : names;
}

/** A variable's name as the loader takes it: no "[", "]" or "\\", nothing blank at either end. */
const VARIABLE_NAME = '^[^\\[\\]\\\\\\s](?:[^\\[\\]\\\\]*[^\\[\\]\\\\\\s])?$';

/** A kind's property schema (an object, or a union of forms) with each property's line of `docs` as its description. */
function described(props: Json, docs: Readonly<Record<string, string>>): Json {
  if (Array.isArray(props.anyOf)) return { ...props, anyOf: (props.anyOf as Json[]).map((v) => described(v, docs)) };
  const own = (props.properties ?? {}) as Json;
  const properties = Object.fromEntries(Object.entries(own).map(([k, v]) => [k, docs[k] && !(v as Json).description ? { description: docs[k], ...(v as Json) } : v]));
  return { ...props, properties };
}

/** `shape` (a kind's properties, or a union of forms) with `description` on its `kind`. */
function withKindDescription(shape: Json, description: string): Json {
  if (Array.isArray(shape.anyOf)) return { ...shape, anyOf: (shape.anyOf as Json[]).map((v) => withKindDescription(v, description)) };
  const props = shape.properties as Json;
  return { ...shape, properties: { ...props, kind: { ...(props.kind as Json), description } } };
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
      properties: Object.fromEntries(exits.map((e) => [e, { type: ['string', 'null'], description: `Id of the block the ${e} exit leads to (null: the scenario ends)` }])),
    },
  };
  const clean = { ...props };
  delete clean.$schema;
  if (Array.isArray(clean.anyOf)) {
    return { anyOf: (clean.anyOf as Json[]).map((v) => withMeta(v, kind, exits)) };
  }
  return { ...clean, properties: { ...meta, ...(clean.properties as Json) } };
}
