// InputParameter (Входной параметр): copies numbered input parameters into variables.
import { z } from 'zod';
import type { BlockDefinition } from '../engine/index.js';

const schema = z.strictObject({ params: z.record(z.string(), z.number().int().min(1).max(100)) });

type Config = { pairs: Array<[string, number]> };

export const inputParameterBlock: BlockDefinition<z.infer<typeof schema>, Config> = {
  kind: 'InputParameter',
  oktellName: 'Входной параметр',
  description: 'Copies input parameters 1..N (what the web server or the caller passed) into variables.',
  exits: ['next'],
  schema,
  example: `saveParams:
  kind: InputParameter
  params:               # variable: parameter number
    address: 1
    body: 4
  exits: { next: check }`,
  compile(raw, cx) {
    return { pairs: Object.entries(raw.params).map(([name, n]) => [cx.variable(['params', name], name), n]) };
  },
  run(config, rt) {
    for (const [name, n] of config.pairs) rt.set(name, rt.inputParameter(n));
    return 'next';
  },
};
