// Loads one scenario file: YAML with positions → validated, compiled Scenario, or every problem found in it.
import { createHash } from 'node:crypto';
import { basename, extname } from 'node:path';
import { isMap, isScalar, isSeq, type YAMLMap } from 'yaml';
import { SCENARIO_ERROR_CODES as C, type ScenarioErrorCode, type ScenarioIssue, type SourceLocation } from './errors.js';
import { parseExpression, type CompiledExpression, type ExpressionSyntaxError } from './expr/index.js';
import { EXPRESSION_CHARS, quotedText, shownText } from './expr/syntax-error.js';
import { clipWhole } from './cut-text.js';
import { constantExpression } from './constant.js';
import { checkGraph, type GraphNode } from './graph.js';
import type { Block, BlockRegistry, CompileContext, Scenario, VariableDecl } from './model.js';
import type { DbDialect } from './ports.js';
import type { VarType } from './values.js';
import { lostNumber } from './yaml-numbers.js';
import { firstSyntaxProblem, textJoinFix, yamlSingleQuoted } from './yaml-syntax-hints.js';
import { invisibleCharacters } from './text-file.js';
import { closest } from './suggest.js';
import { allowedKeys, BLOCK_KEYS, keyMeant, reportSchemaIssues, wellFormedPart, type ZodIssueLike } from './schema-issues.js';
import { loadVariables, returnValueSlot } from './variables.js';
import { checkWellFormedProperties } from './well-formed.js';
import { YamlSource, keyOf, type PathSeg } from './yaml-source.js';

const TOP_KEYS = ['name', 'description', 'variables', 'start', 'blocks'] as const;

/**
 * The top-level keys of a Kestra flow (`id`, `namespace`, `tasks`, `triggers`, `errors`, …), which a Kestra user
 * writes first: what each is here, instead of the list of keys, in which the reader would look for them in vain.
 */
const KESTRA_TOP_KEYS: Readonly<Record<string, string>> = {
  id: "Kestra's flow id: a scenario is named by its file (OrderFlow.yaml is the scenario OrderFlow); remove id:",
  namespace: 'there are no namespaces: a scenario is one file of the scenarios folder; remove namespace:',
  tasks: "Kestra's tasks are blocks here: blocks: is a mapping of block id → block (kind: WebRequest, DbQuery, SendMail, …), and each block names the next in its exits rather than running in list order, e.g. blocks: { fetch: { kind: WebRequest, url: '[apiUrl]', exits: { success: mail } }, mail: { kind: SendMail, … } }",
  inputs: "a scenario's inputs are its input parameters: declare a variable for each under variables: and fill it from a Start block's param: (input parameter 1) or InputParameter(N) in a Variable block; the hook scenario HTTP404 gets a webhook's address as 1, headers as 2, method as 3, body as 4",
  triggers: 'triggers are not written in a scenario: a Webhook trigger is the hook scenario HTTP404 (run for every request to an address that is not the server\'s own; it starts this scenario with an AsyncScenario block), a Schedule trigger a service task under serviceTasks: in oktell.config.yaml (cron: or every:)',
  errors: "there is no errors: list: wire the error exit (and timeout, where the block has one) of each block that can fail to the blocks that handle it; a job the server gives up on starts the scenario DeadLetter once, with what died as its input parameters",
  outputs: "a scenario's outputs are its return values: a ReturnValue block (values: { 1: '[total]' })",
  labels: 'there are no labels: say what the scenario is for in description:',
  retry: 'retries are not a scenario\'s setting: the server runs a job again when it failed as retryable, up to OKTELL_MAX_ATTEMPTS attempts in all (workers.maxAttempts: in oktell.config.yaml; 16 by default), then it is a dead letter',
};
const BLOCK_META_KEYS = new Set<string>(BLOCK_KEYS);

export interface LoadOptions {
  registry: BlockRegistry;
  /** Time zone for converting initial values of datetime variables. */
  timeZone?: string;
  /** Database connections by name and dialect: DbQuery/DbProcedure blocks are checked against them when given. */
  databases?: Readonly<Record<string, DbDialect>>;
  /** Where `env:` of a variable declaration is looked up; default the process's environment. */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Told of every value read from outside the file's text (a variable's `env:` or `file:`), with what was read, so a
   * caller that keeps the result (the library's reload cache) knows what else it depends on.
   */
  onValueRead?(from: ValueSourceRef, value: string | undefined): void;
}

/** Where a variable's value is read from: an environment variable or a file. */
export interface ValueSourceRef {
  env?: string;
  file?: string;
}

/** How many times a scenario file's text has been parsed and checked in this process (tests count reloads by it). */
let textsLoaded = 0;
export function scenarioTextsLoaded(): number {
  return textsLoaded;
}

/**
 * What an invalid file still tells about its references to other files, so the library can check those in the same
 * pass instead of only after the file's own problems are fixed.
 */
export interface ScenarioReferences {
  name: string;
  /** Every variable name the file declares, including those whose declaration has a problem (reported already). */
  declared: ReadonlySet<string>;
  calls: Scenario['calls'];
  templates: Scenario['templates'];
}

/**
 * A block of a file with problems that could still be compiled (from its well-formed properties when it has problems
 * of its own), for the checks run beside the loader, such as preparing a DbQuery statement on its database.
 */
export interface CompiledBlock {
  block: Block;
  /** Its top-level properties with problems ('' for the block as a whole); empty when the block has none of its own. */
  faulty: ReadonlySet<string>;
}

/** Checks that could not run on a block because of the problems reported with it: they run once those are fixed. */
export interface DeferredCheck extends SourceLocation {
  block: string;
  /** Which checks, e.g. "its own checks" or "preparing its statement". */
  checks: string;
}

export type LoadResult =
  | { ok: true; scenario: Scenario }
  | { ok: false; issues: ScenarioIssue[]; references?: ScenarioReferences; compiled?: CompiledBlock[]; deferred?: DeferredCheck[] };

/** A scenario's version as runs record it: the first 12 hex digits of the SHA-256 of its file's text. */
export function scenarioVersion(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/** Scenario name from a file path: the file name without its extension, as Oktell names service scenarios. */
export function scenarioNameOf(file: string): string {
  return basename(file, extname(file));
}

/** What a scenario file that is not a mapping holds, in words: "the file is empty", "it is a list of 2 items". */
function whatTheFileHolds(text: string, root: unknown): string {
  if (root === null || root === undefined) return /\S/.test(text.replace(/^\uFEFF/, '')) ? 'the file holds only comments' : 'the file is empty';
  if (isSeq(root)) return `the file holds a list of ${root.items.length} item${root.items.length === 1 ? '' : 's'} (lines starting "- ")`;
  if (isScalar(root)) {
    const value = String(root.value);
    return `the file holds only the ${typeof root.value === 'string' ? 'text' : 'value'} ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  }
  return 'the file holds something else';
}

/**
 * Parses and validates one scenario file's text. Reports every problem found, not only the first.
 *
 * Characters no editor shows (a second byte-order mark, a NUL, another control character) are named where they are.
 * When the file is refused for other reasons they are its only problems: the YAML problems they make (a key read with
 * an invisible character in front) would hide them. When it loads all the same (one in a comment, a NUL inside a
 * title) they are warnings on the scenario (`textWarnings`): such a file loaded before they were looked for, and
 * refusing it now would answer its webhooks with 500 after an upgrade.
 */
export function loadScenarioText(file: string, text: string, opts: LoadOptions): LoadResult {
  const invisible = invisibleCharacters(text, 'a scenario file');
  const result = loadCheckedText(file, text, opts);
  if (!invisible.length) return result;
  const src = new YamlSource(file, text);
  const found: ScenarioIssue[] = invisible.map((c) => ({ ...src.at(c.offset), code: C.YAML_SYNTAX, message: c.message, hint: c.hint }));
  if (!result.ok) return { ok: false, issues: found };
  result.scenario.textWarnings = found;
  return result;
}

function loadCheckedText(file: string, text: string, opts: LoadOptions): LoadResult {
  textsLoaded++;
  const issues: ScenarioIssue[] = [];
  const src = new YamlSource(file, text);
  const report = (loc: SourceLocation, code: ScenarioErrorCode, message: string, hint?: string, block?: string) =>
    issues.push({ ...loc, code, message, ...(hint ? { hint } : {}), ...(block ? { block } : {}) });

  // One misplaced indent makes the YAML parser report every line after it: the first syntax error is the one to fix.
  const syntax = firstSyntaxProblem(src);
  const firstSyntax = src.doc.errors.find((e) => e.code !== 'DUPLICATE_KEY');
  for (const err of src.doc.errors) {
    if (err === firstSyntax && syntax) report(syntax.at, C.YAML_SYNTAX, syntax.message, syntax.hint);
    if (err.code !== 'DUPLICATE_KEY') continue;
    const dup = src.duplicateKey(err.pos[0]);
    // Oktell's Присвоение may set a variable on several lines; here `set:` is a mapping, so the key once.
    const inSet = dup?.parentKey === 'set';
    report(
      src.at(err.pos[0]),
      C.DUPLICATE_KEY,
      dup ? `duplicate key "${dup.key}" (first at line ${dup.first.line}, column ${dup.first.col})` : 'duplicate key in a mapping',
      inSet
        ? `a Variable block sets each variable once: nest the two expressions in one (the later one with the earlier in place of [${dup.key}]), or set it again in a second Variable block; the rest of the file is checked with the later line`
        : 'each key may appear once; rename or merge the two entries; the rest of the file is checked with the later one',
    );
  }
  // A duplicate key leaves a document the parser could read (the later entry wins), so the rest is still checked in
  // this pass; a syntax error leaves nothing to trust.
  if (syntax) return { ok: false, issues };

  const root = src.doc.contents;
  if (!isMap(root)) {
    // Every .yaml of the folder is read as a scenario; a list of `- match:` items is an HTTP fixture file put there.
    const fixtures = isSeq(root) && root.items.length > 0 && root.items.every((i) => isMap(i) && i.items.some((p) => keyOf(p) === 'match'));
    report(
      src.locate([]),
      C.NOT_A_MAPPING,
      `a scenario file must be a mapping with "variables", "start" and "blocks": ${whatTheFileHolds(text, root)}`,
      fixtures
        ? 'this looks like an --http-fixtures file: every .yaml in the scenarios folder is read as a scenario, so keep fixtures outside it'
        : isSeq(root)
          ? 'write the keys at the start of their lines, without "- " (variables:, start:, blocks:); see docs/scenario-format.md'
          : 'e.g. blocks: { done: { kind: Stop } }; see docs/scenario-format.md',
    );
    return { ok: false, issues };
  }
  const name = scenarioNameOf(file);
  /** A key that is a typo of "variables" while "variables" is missing: every variable then looks undeclared. */
  let variablesMisspelt = false;
  for (const pair of root.items) {
    const key = keyOf(pair);
    if (!(TOP_KEYS as readonly string[]).includes(key)) {
      const guess = closest(key, TOP_KEYS);
      if (guess === 'variables' && !root.items.some((p) => keyOf(p) === 'variables')) variablesMisspelt = true;
      // Own keys only: `constructor:` or `toString:` would otherwise find Object.prototype's function as the hint.
      const kestra = Object.hasOwn(KESTRA_TOP_KEYS, key) ? KESTRA_TOP_KEYS[key] : undefined;
      report(
        src.locate([key], { key: true }),
        C.UNKNOWN_KEY,
        `unknown top-level key "${key}"`,
        kestra ? `${kestra}; see docs/coming-from-kestra.md` : guess ? `did you mean "${guess}"? Known keys: ${TOP_KEYS.join(', ')}` : `known keys: ${TOP_KEYS.join(', ')}`,
      );
    }
  }
  let js: Record<string, unknown>;
  try {
    js = src.doc.toJS({ maxAliasCount: 100 }) as Record<string, unknown>;
  } catch (e) {
    // The yaml library refuses alias bombs ("billion laughs") while converting; that is a problem of the file.
    report(src.locate([]), C.YAML_SYNTAX, `YAML: ${firstLine((e as Error).message)}`, 'aliases (*name) may be used only a few times; write the values out');
    return { ok: false, issues };
  }
  if (js.name !== undefined && js.name !== name) {
    report(src.locate(['name']), C.SCENARIO_NAME, `"name: ${String(js.name)}" differs from the file name "${name}"`, `a scenario is named by its file; rename the file or remove "name"`);
  }

  // The scenario's description must be text: a list or a mapping there is a mistake (the JSON Schema editors check
  // files with says so too). An empty one is none, and a number or a yes/no is taken as its text, as they always were
  // loaded: refusing them now would refuse files that loaded before.
  if (js.description !== undefined && js.description !== null && typeof js.description === 'object') {
    report(src.locate(['description']), C.INVALID_PROPERTY, `"description" must be text, not ${Array.isArray(js.description) ? 'a list' : 'a mapping'}`, 'e.g. description: Sends a letter for every new task (quote it when it holds ": " or starts with [ or {)');
  }

  /** Variables declared without a valid type (reported already): reading them is not an unknown variable. */
  const untyped = new Set<string>();
  const variables = loadVariables(src, js.variables, opts, report, untyped);

  // Blocks
  const blocksNode = src.find(['blocks']).node;
  const blocks = new Map<string, Block>();
  const calls: Array<{ scenario: string; loc: SourceLocation; block: string }> = [];
  const templates: Array<{ name: string; loc: SourceLocation; block: string }> = [];
  const compiled: CompiledBlock[] = [];
  const deferred: DeferredCheck[] = [];
  /** Keys at the block ids' indent that are properties of the block above them (reported once, not as blocks). */
  const misplaced = new Set<string>();
  /** Keys named like a property of the block above whose value looks like a block without `kind` (reported already). */
  const kindless = new Set<string>();
  if (isSeq(blocksNode)) {
    // `- kind: Start` items: the blocks are there, without the ids exits lead to.
    report(src.locate(['blocks']), C.NOT_A_MAPPING, '"blocks" must be a mapping of block ids to blocks, not a list', 'give each block an id in place of its "- ", e.g. begin: { kind: Start, exits: { next: done } } (exits lead to ids)');
  } else if (blocksNode !== undefined && blocksNode !== null && !isMap(blocksNode) && !(isScalar(blocksNode) && blocksNode.value === null)) {
    report(src.locate(['blocks']), C.NOT_A_MAPPING, '"blocks" must be a mapping of block ids to blocks', 'e.g. blocks: { begin: { kind: Start } }');
  } else if (!isMap(blocksNode) || blocksNode.items.length === 0) {
    report(src.locate(['blocks']), C.MISSING_PROPERTY, 'a scenario needs "blocks": a mapping of block ids to blocks', 'add at least one block, e.g. a ReturnValue');
  } else {
    // A property written at the block ids' indent is said once, and read as its block's own from here on.
    for (const m of misplacedProperties(src, blocksNode as YAMLMap, js.blocks as Record<string, unknown>, opts.registry)) {
      if (m.blockLike) {
        // Its value reads as a block's: kept as the block it most likely is (exits leading to it find it), said once
        // here rather than again as a block with no kind.
        report(m.at, C.MISSING_PROPERTY, m.message, m.hint, m.key);
        kindless.add(m.key);
        continue;
      }
      report(m.at, C.YAML_SYNTAX, m.message, m.hint, m.owner);
      const rawBlocks = js.blocks as Record<string, unknown>;
      rawBlocks[m.owner] = { ...(rawBlocks[m.owner] as Record<string, unknown>), [m.key]: rawBlocks[m.key] };
      delete rawBlocks[m.key];
      src.alias(['blocks', m.owner, m.key], ['blocks', m.key]);
      misplaced.add(m.key);
    }
    // A duplicate block id is reported already; its later block is the one loaded, once.
    for (const id of new Set((blocksNode as YAMLMap).items.map(keyOf))) {
      if (misplaced.has(id) || kindless.has(id)) continue;
      const loaded = loadBlock(src, id, (js.blocks as Record<string, unknown>)[id], variables, untyped, opts.registry, report, calls, templates, opts.databases);
      if (loaded === 'deferred') deferred.push({ ...src.locate(['blocks', id], { key: true }), block: id, checks: 'its own checks' });
      else if (loaded) {
        compiled.push(loaded);
        if (loaded.faulty.size === 0) blocks.set(id, loaded.block);
      }
    }
  }

  // Start
  let start = typeof js.start === 'string' ? js.start : undefined;
  if (js.start !== undefined && typeof js.start !== 'string') {
    report(src.locate(['start']), C.INVALID_PROPERTY, '"start" must be a block id', 'e.g. start: saveParams');
  }
  const blockIds = isMap(blocksNode) ? [...new Set((blocksNode as YAMLMap).items.map(keyOf))].filter((id) => !misplaced.has(id)) : [];
  if (start === undefined) start = blockIds[0];
  // With no block at all (no "blocks:", or an empty one), that is the one problem reported, not the start too.
  else if (!blockIds.includes(start) && blockIds.length > 0) {
    const guess = closest(start, blockIds);
    report(src.locate(['start']), C.UNKNOWN_START, `start block "${start}" does not exist`, guess ? `did you mean "${guess}"?` : `known blocks: ${blockIds.join(', ')}`);
  }

  // Exits and graph checks
  if (start !== undefined && blockIds.length) {
    for (const id of blockIds) {
      const raw = (js.blocks as Record<string, unknown>)[id] as Record<string, unknown> | undefined;
      const exits = raw?.exits;
      // Exits not given as a mapping are reported with their block already.
      if (!exits || typeof exits !== 'object' || Array.isArray(exits)) continue;
      for (const [exit, target] of Object.entries(exits as Record<string, unknown>)) {
        if (target === null) continue;
        if (Array.isArray(target) && target.length > 0 && target.every((t) => typeof t === 'string')) {
          // `next: [a, b]`: several blocks for one exit, as if the run could go two ways at once.
          const [first, ...rest] = target as string[];
          report(src.locate(['blocks', id, 'exits', exit]), C.UNKNOWN_TARGET, `exit "${exit}" leads to a list (${target.join(', ')}): an exit leads to one block`,
            `write ${exit}: ${first}, and run ${rest.join(', ')} after it by leading ${first}'s exit there (blocks run one after another)`, id);
        } else if (typeof target !== 'string' || !blockIds.includes(target)) {
          const guess = typeof target === 'string' ? closest(target, blockIds) : undefined;
          report(src.locate(['blocks', id, 'exits', exit]), C.UNKNOWN_TARGET, `exit "${exit}" leads to ${typeof target === 'string' ? `"${target}"` : JSON.stringify(target)}, which is not a block of this scenario`, guess ? `did you mean "${guess}"?` : `known blocks: ${blockIds.join(', ')}`, id);
        }
      }
    }
    // The graph is checked whenever every block's exits could be read, whatever else is wrong in the file, so a loop
    // or an orphan block is reported in the same pass; a mistyped exit or target counts as the one it likely means.
    const graph = graphOf(js.blocks as Record<string, unknown>, blockIds, opts.registry);
    const graphStart = js.start !== undefined && typeof js.start !== 'string' ? undefined : blockIds.includes(start) ? start : closest(start, blockIds);
    if (graph && graphStart !== undefined) {
      for (const g of checkGraph(graphStart, graph)) {
        // A Start block no exit reaches, with start: naming another block: the likely mistake is start:.
        const skippedStart = g.code === C.UNREACHABLE_BLOCK && js.start !== undefined && graph.get(g.block)?.kind === 'Start';
        const hint = skippedStart ? `"start: ${graphStart}" skips the Start block "${g.block}": remove "start:", or write start: ${g.block}` : g.hint;
        report(src.locate(['blocks', g.block], { key: true }), g.code, g.message, hint, g.block);
      }
    }
  }

  if (variablesMisspelt) {
    // Said once, at the misspelt key: not again for every variable a block reads.
    for (let i = issues.length - 1; i >= 0; i--) if (issues[i]!.code === C.UNKNOWN_VARIABLE) issues.splice(i, 1);
  }
  if (issues.length) {
    // A list under variables: declares its names too (untyped), as reported there.
    const declared = new Set([...(js.variables && typeof js.variables === 'object' && !Array.isArray(js.variables) ? Object.keys(js.variables) : []), ...untyped]);
    return { ok: false, issues, references: { name, declared, calls, templates }, compiled, deferred };
  }
  const scenario: Scenario = {
    name,
    file,
    ...(typeof js.description === 'string' ? { description: js.description } : typeof js.description === 'number' || typeof js.description === 'boolean' ? { description: String(js.description) } : {}),
    version: scenarioVersion(text),
    variables,
    start: start!,
    blocks,
    calls,
    templates,
  };
  return { ok: true, scenario };
}

/**
 * The scenario's graph as written, for the graph checks; undefined when some block's exits cannot be read (a block
 * that is not a mapping, exits that are not a mapping): then the checks would report what that mistake causes.
 * An unknown exit name that resembles one of the kind's counts as that one (the fix its error suggests); an unknown
 * target that resembles a block is a guess, so the block is not reported as unreachable, yet no loop is built on it.
 */
function graphOf(raw: Record<string, unknown>, blockIds: readonly string[], registry: BlockRegistry): Map<string, GraphNode> | undefined {
  const nodes = new Map<string, GraphNode>();
  for (const id of blockIds) {
    const r = raw[id];
    if (!r || typeof r !== 'object' || Array.isArray(r)) return undefined;
    const b = r as Record<string, unknown>;
    const kind = typeof b.kind === 'string' ? b.kind : '';
    const def = registry.get(kind);
    // `exit:`, `exist:` or `transitions:` for `exits:` is reported as an unknown property meaning "exits": its exits are
    // those, so the blocks they lead to are not also reported as unreachable.
    const candidates = [...BLOCK_KEYS, ...(def ? allowedKeys(def.schema, []) : [])];
    const exitsKey = 'exits' in b ? 'exits' : Object.keys(b).find((k) => !BLOCK_META_KEYS.has(k) && keyMeant(k, candidates) === 'exits');
    const written = exitsKey === undefined ? undefined : b[exitsKey];
    if (written !== undefined && written !== null && (typeof written !== 'object' || Array.isArray(written))) return undefined;
    const exitNames = def?.exits;
    const exits: Record<string, string> = {};
    const guessed: string[] = [];
    let lostExit = false;
    const given = (written ?? {}) as Record<string, unknown>;
    for (const [key, value] of Object.entries(given)) {
      // `{ next isNewTask }` (the ":" left out): the exit it means, as the block's own check says.
      const run = value === null ? /^(\S+)\s+([^\s:]+)$/.exec(key) : null;
      const name = run && exitNames?.includes(run[1]!) ? run[1]! : key;
      const target = run && name !== key ? run[2]! : value;
      if (target === null) continue;
      if (typeof target !== 'string') {
        lostExit = true;
        continue;
      }
      const meant = !exitNames || exitNames.includes(name) ? name : exitMeant(name, exitNames);
      const exit = meant !== undefined && !(meant in given) ? meant : name;
      if (blockIds.includes(target)) exits[exit] = target;
      else {
        const guess = closest(target, blockIds);
        if (guess !== undefined) guessed.push(guess);
        else lostExit = true;
      }
    }
    nodes.set(id, { kind, exits, guessed, ...(exitNames ? { exitNames } : {}), jump: kind === 'AsyncScenario' && b.mode === 'jump', lostExit });
  }
  return nodes;
}

type Report = (loc: SourceLocation, code: ScenarioErrorCode, message: string, hint?: string, block?: string) => void;

/**
 * Exits as another kind of block, or another tool, names them: the exits of this kind each may mean, in order. `next`
 * on a Parser is its `success`, `success` on a Variable block its `next`, `yes` on a Condition its `true`.
 */
const EXIT_WORDS: Readonly<Record<string, readonly string[]>> = {
  next: ['success'], success: ['next'], ok: ['success', 'next', 'true'], done: ['success', 'next'], then: ['true', 'next'],
  fail: ['error'], failure: ['error'], failed: ['error'], catch: ['error'],
  yes: ['true'], no: ['false'], else: ['false'], otherwise: ['false'],
};

/** The exit among `exitNames` an unknown exit most likely means: a close spelling, else the one its word names. */
function exitMeant(exit: string, exitNames: readonly string[]): string | undefined {
  // Own keys only: `constructor` or `__proto__` as an exit would find Object's own and crash the load.
  const word = exit.toLowerCase();
  return closest(exit, exitNames) ?? (Object.hasOwn(EXIT_WORDS, word) ? EXIT_WORDS[word]!.find((e) => exitNames.includes(e)) : undefined);
}

/**
 * Keys under `blocks:` that are not blocks but a property of the block above them, written at the block ids' indent
 * (`  exits: { next: b }` under `  begin:` and its `    kind: Start`): a key that is a block property name (of the
 * block above's kind, or of any kind when that block has none), whose value is not a block with a `kind`, while the
 * block above does not have that property. Read as a block, it would have no kind and every block after the block
 * above would be unreachable; it is one indentation mistake.
 */
function misplacedProperties(
  src: YamlSource,
  blocksNode: YAMLMap,
  raw: Record<string, unknown>,
  registry: BlockRegistry,
): Array<{ key: string; owner: string; at: SourceLocation; message: string; hint: string; blockLike: boolean }> {
  const out: Array<{ key: string; owner: string; at: SourceLocation; message: string; hint: string; blockLike: boolean }> = [];
  const anyKind = [...registry.values()].flatMap((d) => allowedKeys(d.schema, []));
  let owner: { id: string; node: YAMLMap; props: Record<string, unknown> } | undefined;
  for (const pair of blocksNode.items) {
    const key = keyOf(pair);
    const value = raw[key];
    const isBlock = !!value && typeof value === 'object' && !Array.isArray(value) && typeof (value as Record<string, unknown>).kind === 'string';
    if (owner && !isBlock && !(key in owner.props)) {
      const def = typeof owner.props.kind === 'string' ? registry.get(owner.props.kind) : undefined;
      const names = [...BLOCK_KEYS, ...(def ? allowedKeys(def.schema, []) : anyKind)];
      if (names.includes(key)) {
        const first = owner.node.items[0]?.key as { range?: [number, number, number] } | null | undefined;
        const firstAt = first?.range ? src.at(first.range[0]) : undefined;
        const firstKey = owner.node.items[0] ? keyOf(owner.node.items[0]) : undefined;
        const flow = owner.node.flow === true || !firstAt;
        if (looksLikeBlock(key, value, def ? [def] : [...registry.values()])) {
          // A block named like a property (`timeout`, `rows`) that lacks its kind: which of the two it is, only the
          // author knows, so both fixes are named; it stays a block, and the next keys are judged against it.
          const kinds = kindsFitting(value as Record<string, unknown>, registry);
          out.push({
            key,
            owner: owner.id,
            at: src.locate(['blocks', key], { key: true }),
            message: `block "${key}" has no "kind" — or "${key}" is a property of block "${owner.id}" written at the block ids' indent`,
            hint: `its value looks like a block's: if "${key}" is a block (a block may be named like a property), add "kind:" to it${kinds}; if it belongs to "${owner.id}", ${
              flow ? `write ${owner.id}: { …, ${key}: … }` : `indent it like "${firstKey}" on line ${firstAt.line} (column ${firstAt.col}), with spaces`
            }`,
            blockLike: true,
          });
          owner = isMap(pair.value) ? { id: key, node: pair.value, props: value as Record<string, unknown> } : undefined;
          continue;
        }
        out.push({
          blockLike: false,
          key,
          owner: owner.id,
          at: src.locate(['blocks', key], { key: true }),
          message: flow
            ? `"${key}" looks like a property of block "${owner.id}": put it inside that block's { … }`
            : `"${key}" looks like a property of block "${owner.id}": indent it to column ${firstAt.col}`,
          hint: flow
            ? `a key at the block ids' indent starts a new block; write ${owner.id}: { …, ${key}: … }`
            : `a key at the block ids' indent starts a new block; indent "${key}" like "${firstKey}" on line ${firstAt.line} (column ${firstAt.col}), with spaces`,
        });
        owner.props = { ...owner.props, [key]: value };
        continue;
      }
    }
    owner = isMap(pair.value) && value && typeof value === 'object' && !Array.isArray(value) ? { id: key, node: pair.value, props: value as Record<string, unknown> } : undefined;
  }
  return out;
}

/**
 * Whether the value under a key named like a block property reads as a block rather than as that property: a mapping
 * with a block's own keys (`exits`, `title`, `description`, a `kind` that is no text, or `params`), or a mapping where
 * the property (of `defs`' kinds: the block above's, or any) takes none (`timeout: { … }`, `rows: { … }`).
 */
function looksLikeBlock(key: string, value: unknown, defs: ReadonlyArray<{ schema: unknown }>): boolean {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return false;
  if (Object.keys(value).some((k) => (BLOCK_KEYS as readonly string[]).includes(k) || k === 'params')) return true;
  // Of the block's own keys, only `exits` takes a mapping.
  if ((BLOCK_KEYS as readonly string[]).includes(key)) return key !== 'exits';
  return !defs.some((d) => propertySchemas(d.schema, key).some(takesMapping));
}

/** The schemas of property `key` of a block schema (an object, or a union of objects such as Condition's). */
function propertySchemas(schema: unknown, key: string): unknown[] {
  const s = schema as { shape?: Record<string, unknown>; def?: { options?: unknown[] } } | undefined;
  if (s?.shape) return key in s.shape ? [s.shape[key]] : [];
  return (s?.def?.options ?? []).flatMap((o) => propertySchemas(o, key));
}

/** Whether a zod schema accepts a mapping (an object, a record, anything); unknown forms are taken to. */
function takesMapping(schema: unknown): boolean {
  const d = (schema as { def?: { type?: string; innerType?: unknown; options?: unknown[]; in?: unknown } } | undefined)?.def;
  if (!d?.type) return true;
  switch (d.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
    case 'nonoptional':
      return takesMapping(d.innerType);
    case 'union':
      return (d.options ?? []).some(takesMapping);
    case 'pipe':
      return takesMapping(d.in);
    case 'string':
    case 'number':
    case 'int':
    case 'boolean':
    case 'bigint':
    case 'enum':
    case 'literal':
    case 'array':
    case 'tuple':
    case 'null':
    case 'date':
      return false;
    default:
      return true;
  }
}

/** `, e.g. kind: Variable` (or two or three kinds) when the value's other keys are those of so few kinds; else ''. */
function kindsFitting(value: Record<string, unknown>, registry: BlockRegistry): string {
  const own = Object.keys(value).filter((k) => !(BLOCK_KEYS as readonly string[]).includes(k));
  const fitting = own.length ? [...registry.values()].filter((d) => own.every((k) => allowedKeys(d.schema, []).includes(k))).map((d) => d.kind) : [];
  return fitting.length && fitting.length <= 3 ? `, e.g. kind: ${fitting.join(' or ')}` : '';
}

function loadBlock(
  src: YamlSource,
  id: string,
  raw: unknown,
  variables: ReadonlyMap<string, VariableDecl>,
  untyped: ReadonlySet<string>,
  registry: BlockRegistry,
  report: Report,
  calls: Array<{ scenario: string; loc: SourceLocation; block: string }>,
  templates: Array<{ name: string; loc: SourceLocation; block: string }>,
  databases?: Readonly<Record<string, DbDialect>>,
): CompiledBlock | 'deferred' | undefined {
  const base = ['blocks', id];
  const at = (path: readonly PathSeg[], key = false) => src.locate([...base, ...path], { key });
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    report(at([]), C.NOT_A_MAPPING, `block "${id}" must be a mapping with a "kind"`, 'e.g. kind: Variable', id);
    return undefined;
  }
  const r = raw as Record<string, unknown>;
  const known = [...registry.keys()];
  if (typeof r.kind !== 'string') {
    // `kind: [Variable]`: there is a kind, written as a list; `knd: Variable` or Oktell's `type: Variable`: a kind
    // under another key. Either way the fix is one line, said with the key where the kind was meant.
    if (Array.isArray(r.kind) && r.kind.length === 1 && typeof r.kind[0] === 'string') {
      report(at(['kind']), C.INVALID_PROPERTY, `"kind" of block "${id}" is a list`, `YAML reads an unquoted [${r.kind[0]}] as a list; write kind: ${r.kind[0]}`, id);
      return undefined;
    }
    const meant = r.kind === undefined ? kindUnderAnotherKey(r, known) : undefined;
    if (meant) {
      report(at([meant.key], true), C.MISSING_PROPERTY, `block "${id}" has no "kind"; "${meant.key}: ${meant.kind}" looks like it`, `write kind: ${meant.kind}`, id);
      return undefined;
    }
    // Kestra's `type: io.kestra.plugin.core.http.Request`: the kind it is here, or what takes its place.
    const kestra = r.kind === undefined && typeof r.type === 'string' ? kestraTypeHint(r.type, registry) : undefined;
    if (kestra) {
      report(at(['type'], true), C.MISSING_PROPERTY, `block "${id}" has no "kind"; "type: ${r.type as string}" is Kestra's`, kestra.kind ? `write kind: ${kestra.kind} in place of type: (${kestra.hint})` : kestra.hint, id);
      return undefined;
    }
    report(at([]), C.MISSING_PROPERTY, `block "${id}" has no "kind"`, `known kinds: ${known.join(', ')}`, id);
    return undefined;
  }
  const def = registry.get(r.kind);
  if (!def) {
    report(at(['kind']), C.UNKNOWN_KIND, `unknown block kind "${r.kind}"`, kindHint(r.kind, registry), id);
    return undefined;
  }
  /** Problems reported for this block so far; one reported twice (by the schema walk and the compile) is said once. */
  const said = new Set<string>();
  /** The top-level properties with problems ('' for the block as a whole). */
  const faulty = new Set<string>();
  const issue: Report = (loc, code, message, hint) => {
    const key = `${loc.line}:${loc.col}:${code}:${message}`;
    if (said.has(key)) return;
    said.add(key);
    report(loc, code, message, hint, id);
  };
  /** Runs a check of the property at `path`, marking the property faulty when the check reports a problem. */
  const checking = <T>(path: readonly PathSeg[], check: () => T): T => {
    const before = said.size;
    const result = check();
    if (said.size > before) faulty.add(String(path[0] ?? ''));
    return result;
  };
  for (const k of ['title', 'description'] as const) {
    if (r[k] !== undefined && typeof r[k] !== 'string') {
      faulty.add(k);
      issue(at([k]), C.INVALID_PROPERTY, `"${k}" must be text`);
    }
  }
  const exits: Record<string, string> = {};
  if (r.exits !== undefined && r.exits !== null) {
    if (typeof r.exits !== 'object' || Array.isArray(r.exits)) {
      issue(at(['exits']), C.INVALID_PROPERTY, '"exits" must map exit names to block ids', exitsHint(r.exits, def.kind, def.exits));
    } else {
      for (const [exit, target] of Object.entries(r.exits as Record<string, unknown>)) {
        // `{ next isNewTask }`: the ":" left out makes one key of both; said so, and the exit is taken as meant, so the
        // blocks after it are not reported as unreachable too.
        const run = target === null ? /^(\S+)\s+([^\s:]+)$/.exec(exit) : null;
        if (run && def.exits.includes(run[1]!)) {
          issue(at(['exits', exit], true), C.UNKNOWN_EXIT, `${def.kind} has no exit "${exit}": the ":" after "${run[1]}" is missing`, `write ${run[1]}: ${run[2]} (a colon and a space between the exit and the block id)`);
          exits[run[1]!] = run[2]!;
        } else if (!def.exits.includes(exit)) {
          const guess = exitMeant(exit, def.exits);
          issue(at(['exits', exit], true), C.UNKNOWN_EXIT, `${def.kind} has no exit "${exit}"`, def.exits.length ? `${guess ? `did you mean "${guess}"? ` : ''}exits of ${def.kind}: ${def.exits.join(', ')}` : `${def.kind} has no exits: remove "exits"`);
        } else if (typeof target === 'string') exits[exit] = target;
      }
    }
  }
  const cx: CompileContext = {
    blockId: id,
    ...(databases ? { databases } : {}),
    expression(path, value, expects) {
      // The location travels with the expression: a run-time failure points at this property, not only the block.
      // So does a way to place a character of it, asked only when a run fails (a call two lines down a |- value).
      const locate = typeof value === 'string' ? src.scalarLocator([...base, ...path]) : undefined;
      return { ...checking(path, () => compileProperty(src, [...base, ...path], value, variables, untyped, issue, expects)), at: at(path), ...(locate ? { locate } : {}) };
    },
    variable(path, name) {
      if (!variables.has(name) && !untyped.has(name)) {
        faulty.add(String(path[0] ?? ''));
        const guess = closest(name, [...variables.keys()]);
        // A variable named by a mapping key (set: { x: … }) is reported at the key; one given as a value at the value.
        const slot = returnValueSlot(name);
        // Return values are Oktell's service variables: declaring one would make an ordinary variable, and the
        // scenario would return nothing. Only a Variable block's `set:` assigns them by name.
        const hint =
          slot !== undefined
            ? `return value ${slot} is set by a Variable block's set: or a ReturnValue block: values: { ${slot}: … }`
            : guess
              ? `did you mean "${guess}"? Declare variables under "variables:"`
              : `declare it under "variables:", e.g. ${name}: string`;
        issue(at(path, path[path.length - 1] === name), C.UNKNOWN_VARIABLE, `unknown variable "${name}"`, hint);
      }
      return name;
    },
    variableType: (name) => variables.get(name)?.type,
    variableNames: () => variables.keys(),
    issue(path, code, message, hint, key, offset) {
      faulty.add(String(path[0] ?? ''));
      issue(offset === undefined ? at(path, key) : src.locateInScalar([...base, ...path], offset), code, message, hint);
    },
    locate: (path) => at(path),
    callsScenario(path, scenario) {
      calls.push({ scenario, loc: at(path), block: id });
    },
    usesTemplate(path, name) {
      templates.push({ name, loc: at(path), block: id });
    },
  };
  // Built as own properties: an assignment `props['__proto__'] = v` would set the object's prototype instead, so the
  // key went unreported and a mapping under it lent the block its properties.
  const props: Record<string, unknown> = Object.fromEntries(Object.entries(r).filter(([k]) => !BLOCK_META_KEYS.has(k)));
  let parsed = def.schema.safeParse(props);
  let compileCx = cx;
  if (!parsed.success) {
    const zodIssues = parsed.error.issues as unknown as ZodIssueLike[];
    reportSchemaIssues(zodIssues, [], props, def, at, issue);
    for (const zi of zodIssues) if (zi.path.length > 0 || zi.code !== 'unrecognized_keys') faulty.add(String(zi.path[0] ?? ''));
    // The block is still compiled without what is wrong (a wrong property, a wrong entry of a mapping, an unknown
    // key), so its own checks (two bodies, an unknown connection, a statement's parameters) report in this same
    // pass; checks that need a left-out property learn it is unknown through `omitted` and stay silent.
    const part = wellFormedPart(def.schema, zodIssues, props);
    const lenient = part && def.schema.safeParse(part.props);
    if (!part || !lenient?.success) {
      // A required property is missing or wrong, or no form fits: the block cannot be compiled, but its well-formed
      // properties are still checked one by one, so one wrongly shaped property does not hide the mistakes in the
      // others until it is fixed. What else the block checks waits for these fixes, which validate says.
      checkWellFormedProperties(def.schema, zodIssues, props, cx);
      return 'deferred';
    }
    // What was left out is still checked where it is well formed (an expression beside a wrong option).
    checkWellFormedProperties(def.schema, zodIssues, part.rest, cx);
    parsed = lenient;
    if (part.omitted.size) {
      compileCx = { ...cx, omitted: part.omitted };
      for (const o of part.omitted) faulty.add(o.split('.')[0]!);
    }
  }
  let config: unknown;
  try {
    config = def.compile(parsed.data, compileCx);
  } catch (e) {
    faulty.add('');
    issue(at([]), C.INVALID_PROPERTY, `could not compile ${def.kind}: ${(e as Error).message}`);
  }
  // Every problem of the block marks something faulty (an unknown key or exit: the block as a whole).
  if (said.size > 0 && faulty.size === 0) faulty.add('');
  const block: Block = {
    id,
    kind: def.kind,
    ...(typeof r.title === 'string' ? { title: r.title } : {}),
    ...(typeof r.description === 'string' ? { description: r.description } : {}),
    config,
    exits,
    def,
    loc: src.locate(base, { key: true }),
  };
  return { block, faulty };
}

/** A pasteable `exits:` for the list (`- next: c`) or bare (`exits: b`) forms, else the kind's exits. */
function exitsHint(exits: unknown, kind: string, names: readonly string[]): string {
  const listed = `exits of ${kind}: ${names.join(', ') || 'none'}`;
  let pairs: Array<[string, unknown]> | undefined;
  if (Array.isArray(exits) && exits.every((e) => e && typeof e === 'object' && !Array.isArray(e))) pairs = exits.flatMap((e) => Object.entries(e as object));
  else if (typeof exits === 'string' && names.length === 1) pairs = [[names[0]!, exits]];
  if (!pairs?.length || !pairs.every(([, t]) => typeof t === 'string' || t === null)) return listed;
  return `write exits: { ${pairs.map(([k, t]) => `${k}: ${t === null ? 'null' : String(t)}`).join(', ')} }; ${listed}`;
}

/** Names of blocks elsewhere (lower case) → the kind here, and how the hint says the name. */
const OTHER_KIND_NAMES: ReadonlyArray<readonly [RegExp, string, string]> = [
  [/^(?:sql|sql[- ]?(?:query|запрос)|query|select|db|database|dbselect|запрос)$/, 'DbQuery', 'an SQL query'],
  [/^(?:(?:stored[- ]?)?procedure|sp|exec|storedproc)$/, 'DbProcedure', 'a stored procedure'],
  [/^(?:https?(?:[- ]?request)?|web|rest|api|fetch|curl)$/, 'WebRequest', 'an HTTP request'],
  [/^(?:e-?mail|mail|send[- ]?e-?mail|e-?mail[- ]?send|smtp|письмо)$/, 'SendMail', 'a letter'],
  [/^(?:postgres(?:ql)?|mysql|mssql|microsoft[- ]?sql|execute[- ]?query)$/, 'DbQuery', 'an SQL statement on a database'],
  [/^(?:respond[- ]?to[- ]?webhook|respond)$/, 'ReturnValue', 'the answer to a webhook (return value 1 the body, 2 the status, 3 the content type)'],
  [/^(?:if|switch|branch|compare|условие)$/, 'Condition', 'a condition'],
  [/^(?:set|assign|assignment|let|var)$/, 'Variable', 'an assignment'],
  [/^(?:return|result|response|http[- ]?response)$/, 'ReturnValue', 'a return value (the answer to a webhook)'],
  [/^(?:change)$/, 'Variable', 'an assignment'],
  [/^(?:json)$/, 'Parser', 'reading values out of JSON'],
  [/^(?:end|exit|finish)$/, 'Stop', 'the end'],
];

/**
 * Names of blocks elsewhere (Node-RED's nodes, the usual words) for which no block exists here, and what takes their
 * place: the hint says so instead of only listing the kinds, in which the reader would look for them in vain.
 */
const NO_BLOCK_NAMES: ReadonlyArray<readonly [RegExp, string | ((registry: BlockRegistry) => string)]> = [
  [/^(?:inject|schedule|scheduler|schedule[- ]?trigger|cron|timer|interval)$/, 'no block starts a scenario on a schedule: a service task does, one entry under serviceTasks: in oktell.config.yaml with cron: or every: (docs/service-tasks.md)'],
  [/^(?:catch|try|on[- ]?error|error[- ]?handler)$/, (registry) => `there is no catch block: wire the error exit (and timeout, where the block has one) of each block that can fail (${kindsThatCanFail(registry).join(', ')}) to the blocks that handle the failure; an exit left unwired fails the run, which the server retries and then keeps as a dead letter (oktell-emu runs --status dead; replay)`],
  [/^(?:debug|log|print|trace)$/, 'there is no debug block: every run keeps a trace of its steps with the variables each changed (oktell-emu run prints it; oktell-emu show <runId> and the console show a recorded run)'],
  [/^(?:function|javascript|js|code|script)$/, 'no block runs code: compute values with expressions in a Variable block (set:) and branch with a Condition (docs/expressions.md)'],
  [/^(?:fail|throw|raise|abort|stop[- ]?and[- ]?error)$/, 'no block fails a run on purpose: end it with a ReturnValue that says why, then a Stop (in the hook scenario HTTP404 return value 2 a status such as 400 or 422 and 1 the reason, so the sender is told at once and nothing is started); a run the server should retry fails by itself, at an effect block whose error or timeout exit is left unwired, and a job it gives up on starts the scenario DeadLetter (docs/server.md#retries-and-dead-letters)'],
  [/^(?:error[- ]?(?:trigger|workflow))$/, 'there is no error trigger: a scenario named DeadLetter in the scenarios folder is the catch-all, started once for every job the server gives up on, with the job\'s id, scenario, last error, attempts and input parameters as its input parameters 1 to 5 (docs/server.md#retries-and-dead-letters); inside a scenario, wire the error exit of the block that can fail'],
  [/^(?:merge|wait|split[- ]?in[- ]?batches|loop[- ]?over[- ]?items|split[- ]?out|aggregate)$/, 'there is no block that merges, waits or loops over items: a scenario is one path of blocks; a loop is a Condition whose exit leads back, a pause between tries is the server\'s retry of a failed job, a wait until later a service task (docs/service-tasks.md)'],
  [/^(?:http[- ]?in|webhook|webhook[- ]?trigger|endpoint|route|listener)$/, 'no block receives a request: the server runs the hook scenario (HTTP404) for every request to an address that is not its own, with the address as input parameter 1, the headers as 2, the method as 3 and the body as 4 (docs/server.md)'],
];

/**
 * Kestra's task and trigger types, by their package and class (`io.kestra.plugin.core.http.Request`, the older
 * `io.kestra.core.tasks.…`, a plugin's `io.kestra.plugin.jdbc.sqlite.Query`): the kind that does the same here, or a
 * word the tables above know for what takes its place.
 */
const KESTRA_TYPES: ReadonlyArray<readonly [RegExp, { kind: string } | { word: string }]> = [
  [/\.http\.(?:request|download)$/, { kind: 'WebRequest' }],
  [/\.jdbc\.[a-z0-9]+\.(?:query|queries)$/, { kind: 'DbQuery' }],
  [/\.(?:mail|email)\.[a-z]*send$|\.notifications\.mail\./, { kind: 'SendMail' }],
  [/\.flow\.(?:if|switch)$/, { kind: 'Condition' }],
  [/\.flow\.(?:subflow|flow)$/, { kind: 'AsyncScenario' }],
  [/\.(?:output\.outputvalues|debug\.return)$/, { kind: 'Variable' }],
  [/\.(?:serdes\.json\.[a-z]+|transform\.jsonata\.[a-z]+)$/, { kind: 'Parser' }],
  [/\.trigger\.webhook$/, { word: 'webhook' }],
  [/\.trigger\.schedules?$/, { word: 'schedule' }],
  [/\.(?:log\.log|debug\.echo|log\.fetch)$/, { word: 'log' }],
  [/\.scripts\./, { word: 'script' }],
  [/\.executions?\.fail$/, { word: 'fail' }],
  [/\.flow\.(?:pause|sleep|foreach|foreachitem|eachsequential|eachparallel|parallel|loopuntil|sequential)$/, { word: 'wait' }],
];

/** The hint for a Kestra task or trigger type given as a kind (or under `type:`): the kind here, or what instead. */
function kestraTypeHint(type: string, registry: BlockRegistry): { kind?: string; hint: string } | undefined {
  const lower = type.trim().toLowerCase();
  if (!lower.startsWith('io.kestra.')) return undefined;
  const short = type.trim().split('.').slice(-2).join('.');
  const found = KESTRA_TYPES.find(([re]) => re.test(lower))?.[1];
  const def = found && 'kind' in found ? registry.get(found.kind) : undefined;
  if (def) return { kind: def.kind, hint: `Kestra's ${short} is kind: ${def.kind} here («${def.oktellName}»); see docs/coming-from-kestra.md` };
  const none = found && 'word' in found ? NO_BLOCK_NAMES.find(([re]) => re.test(found.word)) : undefined;
  if (none) return { hint: `Kestra's ${short}: ${typeof none[1] === 'string' ? none[1] : none[1](registry)}; see docs/coming-from-kestra.md` };
  return { hint: `${type.trim()} is a Kestra task type: a block's kind here is one of the kinds below (docs/coming-from-kestra.md maps Kestra's tasks to them)` };
}

/** The kinds of the registry whose blocks have an error exit, in its order: those a `catch` would have caught. */
function kindsThatCanFail(registry: BlockRegistry): string[] {
  return [...registry.values()].filter((d) => d.exits.includes('error')).map((d) => d.kind);
}

/**
 * The hint for an unknown kind: Oktell's own name of a kind (scenario-format.md titles each kind with it, so
 * «Присвоение» is typed), the kind a part of the name starts or is contained in (Return, Async, Mail), a typo.
 */
function kindHint(kind: string, registry: BlockRegistry): string {
  const known = [...registry.keys()];
  const list = `known kinds: ${known.join(', ')}`;
  // Kestra's task and trigger types (io.kestra.plugin.core.http.Request): the kind here, or what takes its place.
  const kestra = kestraTypeHint(kind, registry);
  if (kestra) return `${kestra.hint}; ${list}`;
  // n8n's node type as its workflow JSON writes it (n8n-nodes-base.webhook) is the node's name.
  const lower = kind.trim().toLowerCase().replace(/^n8n-nodes-base\./, '');
  // The whole name, its first words («Запрос к»… is ambiguous, so only a unique match counts), or the name with a
  // number after it («Возвращаемое значение 1»).
  const named = [...registry.values()].filter((d) => {
    const o = d.oktellName.toLowerCase();
    return o === lower || o.startsWith(`${lower} `) || lower.startsWith(`${o} `);
  });
  const oktell = named.length === 1 ? named[0] : named.find((d) => d.oktellName.toLowerCase() === lower);
  if (oktell) return `«${oktell.oktellName}» is kind: ${oktell.kind}`;
  const parts = lower.length >= 3 ? known.filter((k) => k.toLowerCase().includes(lower)) : [];
  if (parts.length === 1) return `did you mean "${parts[0]}"? ${list}`;
  // What other tools, and Oktell Studio's other wordings, call a block: the kind it is here (before a guess by
  // spelling, which makes "HTTP" a "Stop").
  const other = OTHER_KIND_NAMES.find(([re]) => re.test(lower));
  const meant = other && registry.get(other[1]);
  if (meant) return `did you mean "${meant.kind}"? ${other![2]} is kind: ${meant.kind} («${meant.oktellName}»); ${list}`;
  const none = NO_BLOCK_NAMES.find(([re]) => re.test(lower));
  if (none) return `${typeof none[1] === 'string' ? none[1] : none[1](registry)}; ${list}`;
  const guess = closest(kind, known);
  return `${guess ? `did you mean "${guess}"? ` : ''}${list}`;
}

/**
 * A block without `kind` whose key close to "kind" (`knd`, `Kind`) or Oktell's and other tools' words for it (`type`,
 * `component`) holds a known kind: that key, and the kind (its letter case corrected).
 */
function kindUnderAnotherKey(r: Record<string, unknown>, known: readonly string[]): { key: string; kind: string } | undefined {
  for (const [key, value] of Object.entries(r)) {
    if (typeof value !== 'string') continue;
    if (!(closest(key, ['kind']) === 'kind' || /^(type|component|block|kind)$/i.test(key))) continue;
    const kind = known.find((k) => k.toLowerCase() === value.trim().toLowerCase());
    if (kind) return { key, kind };
  }
  return undefined;
}

/** Compiles an expression-valued property and checks the variables it reads. */
function compileProperty(
  src: YamlSource,
  path: readonly PathSeg[],
  value: unknown,
  variables: ReadonlyMap<string, VariableDecl>,
  untyped: ReadonlySet<string>,
  issue: Report,
  expects?: VarType,
): CompiledExpression {
  if (typeof value === 'number') {
    const lost = lostNumber(src.sourceOf(path) ?? String(value), value, expects);
    if (lost) issue(src.locate(path), C.INVALID_EXPRESSION, lost.message, lost.hint);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) {
    return constantExpression(value);
  }
  if (typeof value !== 'string') {
    issue(src.locate(path), C.INVALID_EXPRESSION, 'expected an expression (text), a number or a boolean', 'e.g. [body] or "text" or 200');
    return constantExpression(null);
  }
  const parsed = parseExpression(value);
  if (!parsed.ok) {
    const e = parsed.error;
    const hint = e.opened !== undefined ? unclosedVariableHint(src, path, value, e.opened, variables) : yamlHint(src, path, value, e, variables);
    issue(src.locateInScalar(path, e.offset), C.INVALID_EXPRESSION, `${e.message} in expression ${expressionShown(value)}`, hint);
    return constantExpression(null);
  }
  for (const name of parsed.expr.variables) {
    if (!variables.has(name) && !untyped.has(name)) {
      const offset = Math.max(0, value.indexOf(name));
      const guess = closest(name, [...variables.keys()]);
      const slot = returnValueSlot(name);
      const hint =
        slot !== undefined
          ? `return value ${slot} can be set but not read (Oktell's service variables are write-only): keep the value in a variable of its own and read that`
          : NOT_A_VARIABLE_NAME.test(name)
            ? jsonAsTextHint(name, value)
            : /^(?:inputs|vars|outputs|trigger|execution)\./.test(name)
              ? `${kestraSource(name, variables)}; see docs/coming-from-kestra.md`
            : guess
              ? `did you mean [${guess}]?`
              : `declare it under "variables:", e.g. ${shownText(name)}: ${typeSuggested(name, value)}`;
      issue(src.locateInScalar(path, offset), C.UNKNOWN_VARIABLE, `unknown variable ${quotedText(name, '[', ']')}`, hint);
    }
  }
  return parsed.expr;
}

/**
 * The hint for a "[" met inside a variable name: the "[" before it left open, named by its line and column in the
 * file (an offset in a long expression is no help to find it), with the variable to write when the name after it is
 * a declared one (`[taskName + [x]` → `[taskName]`).
 */
function unclosedVariableHint(src: YamlSource, path: readonly PathSeg[], value: string, opened: number, variables: ReadonlyMap<string, VariableDecl>): string {
  const at = src.locateInScalar(path, opened);
  const name = /^[^+\-*/^=<>!,()"'«»&|[\]]*/.exec(value.slice(opened + 1))![0].trim();
  const fix = name && variables.has(name) ? `: write [${name}]` : ', e.g. [name]';
  return `the "[" at line ${at.line}, column ${at.col} is not closed: put "]" after the variable's name${fix}`;
}

/** Quotes, braces and colons: `[{"id": "2"}]` is JSON written in an expression, not a variable to declare. */
const NOT_A_VARIABLE_NAME = /["'{}:«»]/;

/** `[…]` reads a variable; JSON meant as a value is text, quoted «…» so that its own " stay inside (expressions.md). */
function jsonAsTextHint(name: string, value: string): string {
  const why = `[…] reads a variable, and ${shownText(name)} is not a variable name; JSON is written as text`;
  if (/[«»]/.test(name)) return `${why}, in quotes of a kind it does not contain`;
  const text = `«[${name}]»`;
  return value.trim() === `[${name}]` ? `${why}: write ${shownText(yamlSingleQuoted(text))}` : `${why}: write ${shownText(text)} in its place`;
}

/** The type an undeclared variable's use suggests, for the hint to declare it: number next to arithmetic, else string. */
function typeSuggested(name: string, source: string): 'number' | 'string' {
  const v = `\\[\\s*${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*\\]`;
  const arithmetic = new RegExp(`${v}\\s*[-*/<>]|[-*/<>]=?\\s*${v}|${v}\\s*\\+\\s*[\\d(]|\\d\\s*\\+\\s*${v}`);
  return arithmetic.test(source) ? 'number' : 'string';
}

/**
 * A hint written for the YAML file the expression sits in. YAML removes the quotes around a whole value
 * (`text: "Готово"` is the expression `Готово`), so a fix that needs expression quotes is shown in '…', and a bare
 * variable name gets its square brackets.
 */
export function yamlHint(src: YamlSource, path: readonly PathSeg[], value: string, e: ExpressionSyntaxError, variables: ReadonlyMap<string, VariableDecl>): string | undefined {
  const word = value.trim();
  if (variables.has(word)) {
    return `${quotedText(word)} is a variable: read it in square brackets, quoted for YAML: ${quotedText(word, "'[", "]'")}`;
  }
  const nodeRed = nodeRedHint(word);
  if (nodeRed) return nodeRed;
  const kestra = kestraHint(word, variables);
  if (kestra) return kestra;
  const n8n = n8nHint(word);
  if (n8n) return n8n;
  const style = src.scalarStyle(path);
  if (e.fix !== undefined && (style === 'PLAIN' || style === 'QUOTE_DOUBLE')) {
    // The whole corrected value only when it is right and short enough to show whole (a fix cut short is no fix to
    // copy); otherwise the expression's own hint, with YAML's quotes.
    if (e.fix.length <= EXPRESSION_CHARS && parseExpression(e.fix).ok) {
      // A value with a line break (`"[a] Итого\nруб"`, the \n YAML's escape) is given as YAML's "…" with the escape as
      // written: in '…' the break itself would split the line to paste in two.
      if (LINE_BREAK.test(e.fix)) return `write ${JSON.stringify(e.fix)} — ${ESCAPED_WHY}`;
      // Only a fix with quotes of its own needs the reason for the outer '…' (Mod(5, 2) does not).
      const why = /["']/.test(e.fix) ? ` — YAML drops the "…" around a whole value; the outer '…' keep them for the expression` : '';
      return `write ${yamlSingleQuoted(e.fix)}${why}`;
    }
    return `${e.hint ?? 'put text in quotes'}, and wrap the whole value in '…' so YAML keeps those quotes`;
  }
  // "reports@example.com": the "…" were meant as the text's quotes, and YAML took them (or, written bare, the text has
  // none). When the value as text is a valid expression (no variables, no quotes of its own to mix up), that is the fix.
  // `Bad order: + [x]`: unquoted text joined to a value; quoting only the text is the fix.
  const joined = style === 'PLAIN' || style === 'QUOTE_SINGLE' || style === 'QUOTE_DOUBLE' ? textJoinFix(value) : undefined;
  if (joined !== undefined && joined.length <= EXPRESSION_CHARS && LINE_BREAK.test(joined)) return `write ${JSON.stringify(joined)} — ${ESCAPED_WHY}`;
  if (joined !== undefined && joined.length <= EXPRESSION_CHARS) {
    return `write ${yamlSingleQuoted(joined)} — text in an expression needs its own quotes; the outer '…' keep them for YAML`;
  }
  const asText = `"${value}"`;
  if ((style === 'PLAIN' || style === 'QUOTE_DOUBLE') && !e.call && !/["[\]]/.test(value) && parseExpression(asText).ok) {
    if (LINE_BREAK.test(asText)) return asText.length <= EXPRESSION_CHARS ? `write ${JSON.stringify(asText)} — ${ESCAPED_WHY}` : e.hint;
    const why = style === 'QUOTE_DOUBLE' ? 'YAML drops the "…" around a whole value' : 'text needs its own quotes';
    // "1 000": thousands written with spaces are a number to the writer; it has no spaces in an expression.
    if (/^\d{1,3}( \d{3})+$/.test(word)) return `a number has no spaces: write ${word.replaceAll(' ', '')}, or ${yamlSingleQuoted(asText)} for text`;
    return `write ${shownText(yamlSingleQuoted(asText), EXPRESSION_CHARS)} — ${why}; the outer '…' keep them for the expression`;
  }
  return e.hint;
}


/**
 * Node-RED's ways of reading a value, written as an expression: `msg.payload.orderId`, `env.get("X")`,
 * `flow.get("x")` / `global.get("x")`. Quoting them as text (the usual hint for a bare word) would make a value that is
 * the words themselves; the hint says where the value comes from here instead.
 */
function nodeRedHint(word: string): string | undefined {
  const msg = /^msg\.([A-Za-z_$][\w$]*)((?:\.[A-Za-z_$][\w$]*)*)$/.exec(word);
  if (msg) {
    const json = msg[1] !== 'payload' ? '' : msg[2] ? ` a value inside the body: JsonGet([body], "${msg[2].slice(1)}") or a Parser block with mode: json, where body holds the text;` : ' the body is [body] once a variable body holds it;';
    return `msg is Node-RED's message: a scenario reads its input parameters instead (the hook scenario HTTP404 gets the address as InputParameter(1), the headers as 2, the method as 3, the body as text as 4; a scenario started by AsyncScenario, its params);${json} see docs/coming-from-node-red.md`;
  }
  const envGet = /^env\.get\(\s*["']([A-Za-z_][A-Za-z0-9_]*)["']\s*\)$/.exec(word);
  if (envGet) {
    return `env.get is Node-RED's: declare a variable that takes the value from the environment, under variables: ${envGet[1]!.toLowerCase()}: { type: string, env: ${envGet[1]} } (secret unless secret: false), and read it as '[${envGet[1]!.toLowerCase()}]'`;
  }
  if (/^(?:flow|global|context)\.(?:get|set)\(/.test(word)) {
    return 'flow, global and node context are Node-RED\'s: a variable lives for one run; keep a value between runs in a database table (a DbQuery block, on the SQLite connection main), see docs/coming-from-node-red.md';
  }
  return undefined;
}

/**
 * n8n's ways of reading a value, written where an expression belongs: `{{ $json.body.orderId }}`, `$env.API_TOKEN`,
 * `$now`, `$('Webhook').item.json`… The lexer stops at the `$` or the `{` and would hint to quote the text or to build
 * JSON, which gives a value that is the words themselves; the hint says where the value comes from here instead.
 */
function n8nHint(word: string): string | undefined {
  // n8n's `{{ … }}` around the whole value (its expression marks): the hint for what is inside, and the braces go.
  const braced = /^\{\{([\s\S]*)\}\}$/.exec(word);
  // Text in quotes is the writer's own ("Pay $now"): a `$` in it is no n8n expression, and another mistake is to hint.
  // The names in $env["X"], $node["X"] and $("X") stay, for the hints below.
  const inner = (braced ? braced[1]!.trim() : word).replace(/(?<!\$(?:env|node)\[\s*|\$\(\s*)(?:"[^"]*"|'[^']*'|«[^»]*»)/g, '""');
  const marks = braced ? "n8n's {{ }} are not written here: the whole value is the expression, so leave the braces out; " : '';
  const field = (path: string | undefined) => (path ? path.slice(1) : '');
  const json = /(?:^|[^\w$])\$json((?:\.[A-Za-z_\p{L}][\w\p{L}]*)*)/u.exec(inner);
  if (json) {
    const path = field(json[1]).replace(/^body\./, '');
    const value = path ? `JsonGet([body], "${path}") or a Parser block with mode: json (extract: { ${path.split('.').pop()}: $.${path} }), where body holds the text` : 'the body as text is [body] once a variable body holds InputParameter(4)';
    return `${marks}$json is n8n's item: a scenario reads its input parameters instead (the hook scenario HTTP404 gets the address as InputParameter(1), the headers as 2, the method as 3, the body as text as 4; a scenario started by AsyncScenario, its params); a value inside the body: ${value}; see docs/coming-from-n8n.md`;
  }
  const envRef = /(?:^|[^\w$])\$env(?:\.([A-Za-z_][A-Za-z0-9_]*)|\[\s*["']([A-Za-z_][A-Za-z0-9_]*)["']\s*\])/.exec(inner);
  if (envRef) {
    const name = (envRef[1] ?? envRef[2])!;
    return `${marks}$env is n8n's: declare a variable that takes the value from the environment, under variables: ${name.toLowerCase()}: { type: string, env: ${name} } (secret unless secret: false), and read it as '[${name.toLowerCase()}]'`;
  }
  const clock = /(?:^|[^\w$])\$(now|today)\b/.exec(inner);
  if (clock) return `${marks}$${clock[1]} is n8n's: write ${clock[1] === 'now' ? 'Now()' : 'Today()'} (the run's clock, in the run's time zone; FormatDate(Now(), "yyyy-MM-dd") for text)`;
  if (/(?:^|[^\w$])\$(?:\(|node\b|input\b|items?\b|vars\b|execution\b|workflow\b|prevNode\b|binary\b)/.test(inner)) {
    return `${marks}n8n's $ data (another node's output, the execution, $vars) does not exist here: each block puts what it gets into variables you name (a WebRequest's responseBody:, a Parser's extract:, a DbQuery's columns), read as [name]; settings come from variables with env: or file:; see docs/coming-from-n8n.md`;
  }
  if (braced) return `${marks}text in it needs quotes and a variable is read as [name]: '"Order " + [orderId]'`;
  return undefined;
}

/** Kestra's (Pebble's) `{{ … }}` with one of the names a flow reads: `{{ inputs.orderId }}`, `{{ outputs.fetch.body }}`, `{{ secret('X') }}`. */
export const KESTRA_PLACEHOLDER = /\{\{-?\s*((?:inputs|outputs|vars|trigger|execution|flow|taskrun|envs)\.[\w.\[\]'"-]+|(?:secret|kv|now)\s*\([^{}]*\))[^{}]*?-?\}\}/g;

/** Where the value a Kestra expression reads comes from here, by the name it starts with. */
export function kestraSource(ref: string, variables: { has(name: string): boolean }): string {
  const path = /^(inputs|vars)\.([A-Za-z_\p{L}][\w\p{L}]*)$/u.exec(ref);
  if (path) {
    const name = path[2]!;
    const declared = variables.has(name) ? `[${name}] (declared)` : `[${name}] once declared under variables:`;
    return path[1] === 'inputs'
      ? `Kestra's inputs are input parameters here: read ${declared}, filled from a Start block's param: (input parameter 1) or InputParameter(N)`
      : `Kestra's vars are variables here: read ${declared}`;
  }
  if (/^outputs\./.test(ref)) return "another task's outputs do not exist here: each block puts what it gets into variables you name (a WebRequest's responseBody:, a Parser's extract:, a DbQuery's columns or rows:), read as [name]";
  const secret = /^secret\s*\(\s*["']([A-Za-z_][A-Za-z0-9_]*)["']\s*\)$/.exec(ref);
  if (secret) return `a secret is a variable here that takes its value from the environment: under variables: ${secret[1]!.toLowerCase()}: { type: string, env: ${secret[1]} } (secret unless secret: false), read as [${secret[1]!.toLowerCase()}]`;
  if (/^trigger\./.test(ref)) return "the trigger's data are input parameters here: the hook scenario HTTP404 gets a webhook's body as InputParameter(4) (a value inside it: JsonGet([body], \"orderId\") or a Parser), a service task's scenario its due time as InputParameter(1)";
  if (/^now\s*\(/.test(ref)) return 'write Now() (the run\'s clock; FormatDate(Now(), "yyyy-MM-dd") for text)';
  if (/^kv\s*\(/.test(ref)) return 'there is no KV store: keep a value between runs in a table (a DbQuery block on the SQLite connection main)';
  return 'the execution, the flow and the task run are not read in an expression: every run is recorded with its id and trace (oktell-emu runs, show <runId>)';
}

/**
 * Kestra's `{{ inputs.orderId }}`, `{{ outputs.fetch.body }}` or `{{ secret('TOKEN') }}` where an expression belongs,
 * whole or inside a text (`http://api/orders/{{ inputs.orderId }}`): quoting it as text (the usual hint) would make a
 * value with the braces in it, sent as written. The hint says where the value comes from here, and for a text whose
 * placeholders are all inputs or vars, the expression to write.
 */
function kestraHint(word: string, variables: ReadonlyMap<string, VariableDecl>): string | undefined {
  const found = [...word.matchAll(KESTRA_PLACEHOLDER)];
  if (!found.length) return undefined;
  const braced = found.length === 1 && found[0]![0] === word;
  const marks = braced
    ? "Kestra's {{ }} are not written here: the whole value is the expression, so leave the braces out; "
    : "Kestra's {{ }} do not put a value into a text here: join the text in quotes and the value with +; ";
  // A text whose placeholders are all `inputs.x` or `vars.x`: the expression to write, each text quoted and joined.
  const names = found.map((m) => /^(?:inputs|vars)\.([A-Za-z_\p{L}][\w\p{L}]*)$/u.exec(m[1]!.trim())?.[1]);
  let fix: string | undefined;
  if (names.every((n) => n !== undefined) && !/["«»]/.test(word)) {
    const parts: string[] = [];
    let from = 0;
    found.forEach((m, i) => {
      if (m.index! > from) parts.push(JSON.stringify(word.slice(from, m.index!)));
      parts.push(`[${names[i]}]`);
      from = m.index! + m[0].length;
    });
    if (from < word.length) parts.push(JSON.stringify(word.slice(from)));
    const joined = parts.join(' + ');
    if (joined.length <= EXPRESSION_CHARS && !LINE_BREAK.test(joined) && parseExpression(joined).ok) fix = joined;
  }
  const where = kestraSource(found[0]![1]!.trim(), variables);
  return `${marks}${where}${fix ? `: write ${yamlSingleQuoted(fix)}` : ''}; see docs/coming-from-kestra.md`;
}

/** A line break or another control character, which a value to paste on one line cannot hold as it is. */
const LINE_BREAK = /[\u0000-\u001f\u007f]/;
/** Why a fix holding a line break is given in YAML's "…": its escapes (\n) are YAML's, the \" the expression's quotes. */
const ESCAPED_WHY = 'in YAML\'s "…" a \\n is the line break, as you wrote it, and a \\" is a quote the expression keeps';

/** The expression a syntax error names, as JSON text: whole when short, else its start, `…` and its length. */
function expressionShown(value: string): string {
  return value.length <= EXPRESSION_CHARS ? JSON.stringify(value) : `${JSON.stringify(`${clipWhole(value, EXPRESSION_CHARS)}…`)} (${value.length} characters)`;
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}

