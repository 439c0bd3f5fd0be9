// InputParameter (Входной параметр): copies numbered input parameters into variables.
import { z } from 'zod';
import type { BlockDefinition, SourceLocation } from '../engine/index.js';

const schema = z.strictObject({ params: z.record(z.string(), z.number().int().min(1).max(100)) });

/** Variable, parameter number, and where the pair is written (a value that does not fit is reported there). */
type Config = { pairs: Array<[string, number, SourceLocation]> };

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
    return { pairs: Object.entries(raw.params).map(([name, n]) => [cx.variable(['params', name], name), n, cx.locate(['params', name])]) };
  },
  run(config, rt) {
    for (const [name, n, at] of config.pairs) rt.set(name, rt.inputParameter(n), { from: `parameter ${n}`, at });
    return 'next';
  },
};
