// The explicit registry of block kinds: the loader accepts exactly these. Tests may pass another map.
import type { BlockDefinition, BlockRegistry } from '../engine/index.js';
import { asyncScenarioBlock } from './async-scenario.block.js';
import { bpiumBlock } from './bpium.block.js';
import { conditionBlock } from './condition.block.js';
import { dbProcedureBlock } from './db-procedure.block.js';
import { dbQueryBlock } from './db-query.block.js';
import { inputParameterBlock } from './input-parameter.block.js';
import { parserBlock } from './parser.block.js';
import { returnValueBlock } from './return-value.block.js';
import { sendMailBlock } from './send-mail.block.js';
import { startBlock } from './start.block.js';
import { stopBlock } from './stop.block.js';
import { variableBlock } from './variable.block.js';
import { webRequestBlock } from './web-request.block.js';

export const blockDefinitions: ReadonlyArray<BlockDefinition<any, any>> = [
  startBlock,
  stopBlock,
  inputParameterBlock,
  variableBlock,
  conditionBlock,
  asyncScenarioBlock,
  parserBlock,
  bpiumBlock,
  sendMailBlock,
  dbQueryBlock,
  dbProcedureBlock,
  webRequestBlock,
  returnValueBlock,
];

export const defaultRegistry: BlockRegistry = new Map(blockDefinitions.map((d) => [d.kind, d]));
