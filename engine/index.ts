// The engine's public surface: components, adapters, the server and the CLI import only from here.
export * from './errors.js';
export * from './values.js';
export type * from './ports.js';
export type * from './model.js';
export { parseExpression, ExpressionRuntimeError, listFunctions } from './expr/index.js';
export type { CompiledExpression, EvalContext, ExpressionSyntaxError } from './expr/index.js';
export { checkJsonPath, queryJsonPath } from './jsonpath.js';
export { jsonText, isStackOverflow } from './json-text.js';
export { loadScenarioText, scenarioNameOf, type LoadOptions, type LoadResult } from './loader.js';
export { defaultOf } from './variables.js';
export { outlineOfScenario, outlineOfText, unwiredEnd, blockDetail, EXIT_END_LABELS, type ScenarioOutline, type OutlineBlock, type OutlineExit, type ExitEnd } from './outline.js';
export { loadScenarioLibrary, listScenarioFiles, SCENARIO_EXTENSIONS, type ScenarioLibrary, type TemplateChecker, type LibraryOptions } from './library.js';
export { runScenario, DEFAULT_LIMITS, DEFAULT_MAX_EFFECTS, type EnginePorts, type RunOptions, type RunLimits } from './interpreter.js';
export { createInProcessStarter, attachChildResults, type InProcessStarter } from './in-process-starter.js';
export { systemClock, fixedClock, randomIds } from './defaults.js';
export { parseAddressList, formatAddress, bareAddress } from './mail-address.js';
export { YamlSource, keyOf, type PathSeg } from './yaml-source.js';
export { closest } from './suggest.js';
