// AsyncScenario (Запуск сценария): starts another service scenario asynchronously, calls it, or jumps to it.
import { z } from 'zod';
import type { BlockDefinition, CompiledExpression, Value } from '../engine/index.js';
import { expr } from './common.js';

const schema = z.strictObject({
  scenario: z.string().min(1),
  mode: z.enum(['async', 'call', 'jump']).optional(),
  params: z.record(z.string().regex(/^[1-9]\d?$/, 'input parameter numbers are 1..99'), expr).optional(),
  copyVariables: z.boolean().optional(),
});

type Config = {
  scenario: string;
  mode: 'async' | 'call' | 'jump';
  params: Array<[string, CompiledExpression]>;
  copyVariables: boolean;
};

export const asyncScenarioBlock: BlockDefinition<z.infer<typeof schema>, Config> = {
  kind: 'AsyncScenario',
  oktellName: 'Запуск сценария',
  description:
    'async: starts another service scenario with input parameters and does not wait; call: runs it as a function with shared variables and comes back; jump: this scenario ends and the other goes on with its variables.',
  exits: ['next'],
  effect: true,
  schema,
  example: `startTask:
  kind: AsyncScenario
  scenario: BpiumNewTask
  mode: async            # async | call | jump
  params:                # input parameters of the started scenario
    1: '[body]'
  exits: { next: ack }`,
  compile(raw, cx) {
    cx.callsScenario(['scenario'], raw.scenario);
    const mode = raw.mode ?? 'async';
    const params = Object.entries(raw.params ?? {}).map(([n, source]): [string, CompiledExpression] => [n, cx.expression(['params', n], source)]);
    if (mode !== 'async' && params.some(([n]) => n !== '1')) {
      cx.issue(['params'], 'E_INVALID_PROPERTY', `in ${mode} mode only parameter 1 (the start parameter) can be passed`, 'variables are shared by name; set them before the call');
    }
    return { scenario: raw.scenario, mode, params, copyVariables: raw.copyVariables ?? true };
  },
  async run(config, rt) {
    const params: Record<string, Value> = {};
    for (const [n, e] of config.params) params[n] = rt.evaluate(e);
    // Without params 1 no start value is passed: variables are shared, and the callee's Start keeps the caller's value.
    if (config.mode === 'call') return { control: 'call', scenario: config.scenario, startParam: params['1'], exit: 'next' };
    if (config.mode === 'jump') return { control: 'jump', scenario: config.scenario, startParam: params['1'] };
    const variables = config.copyVariables ? rt.snapshot(config.scenario) : {};
    const { value } = await rt.effect(async () => {
      const carriesSecret = rt.secretCarriers(params, variables);
      const { runId } = await rt.asyncStarter.start({ scenario: config.scenario, params, variables, parentRunId: rt.runId, parentBlock: rt.blockId, ...(carriesSecret ? { carriesSecret } : {}) });
      return runId;
    });
    rt.recordAsyncStart({ scenario: config.scenario, params, runId: value });
    rt.traceEffect({ started: config.scenario, runId: value });
    return 'next';
  },
};
