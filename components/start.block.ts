// Start (Старт): the scenario's entry; stores the start parameter (input parameter 1) in a variable.
import { z } from 'zod';
import type { BlockDefinition } from '../engine/index.js';
import { varName } from './common.js';

const schema = z.strictObject({ param: varName.optional() });

export const startBlock: BlockDefinition<z.infer<typeof schema>, { param?: string }> = {
  kind: 'Start',
  oktellName: 'Старт',
  description: 'Entry point; saves the start parameter (input parameter 1, or the value a caller passes) into a variable.',
  exits: ['next'],
  schema,
  example: `begin:
  kind: Start
  param: address        # «Параметр запуска»: receives input parameter 1
  exits: { next: check }`,
  compile: (raw, cx) => (raw.param ? { param: cx.variable(['param'], raw.param) } : {}),
  run(config, rt) {
    if (!config.param) return 'next';
    const value = rt.startParameter();
    // A call or jump without params: variables are shared by name, so the caller's value stays (not wiped to empty).
    if (value === undefined) rt.traceNote(`no start value passed: ${config.param} keeps its value`);
    else rt.set(config.param, value);
    return 'next';
  },
};
