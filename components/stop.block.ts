// Stop (Стоп): ends the scenario; in a called scenario returns to the caller unless told otherwise.
import { z } from 'zod';
import type { BlockDefinition } from '../engine/index.js';

const schema = z.strictObject({ returnControl: z.boolean().optional() });

export const stopBlock: BlockDefinition<z.infer<typeof schema>, { returnControl: boolean }> = {
  kind: 'Stop',
  oktellName: 'Стоп',
  description: 'Ends the scenario. With returnControl: false, a called scenario also ends its callers («Возврат управления: Нет»).',
  exits: [],
  schema,
  example: `done:
  kind: Stop
  returnControl: true   # «Возврат управления»: a called scenario returns to its caller`,
  compile: (raw) => ({ returnControl: raw.returnControl ?? true }),
  run: (config) => ({ control: 'stop', returnControl: config.returnControl }),
};
