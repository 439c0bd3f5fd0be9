// Reads a nunjucks template's syntax tree: which context variables it uses, unsafe property lookups, error places.
import nunjucks from 'nunjucks';

/** The parts of a nunjucks AST node this module reads (nunjucks' `nodes` module has no published types). */
export interface NjNode {
  typename: string;
  lineno: number;
  colno: number;
  fields: string[];
  children?: NjNode[];
  value?: unknown;
  [field: string]: unknown;
}

/** One read of a context variable, 1-based position. */
export interface VariableUse {
  name: string;
  line: number;
  col: number;
}

const parser = (nunjucks as unknown as { parser: { parse(src: string, extensions?: unknown[], opts?: object): NjNode } }).parser;

/** Parses template source; throws nunjucks' TemplateError (with `lineno`/`colno` when it knows them). */
export function parseTemplate(src: string, opts: { trimBlocks?: boolean; lstripBlocks?: boolean } = {}): NjNode {
  return parser.parse(src, [], opts);
}

// Globals nunjucks defines itself; a template may use them without a scenario variable.
const NUNJUCKS_GLOBALS = new Set(['range', 'cycler', 'joiner']);
// Names that reach Object/Function internals: no mail template needs them.
const FORBIDDEN_PROPERTIES = new Set(['constructor', '__proto__', 'prototype', '__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__']);

function isNode(x: unknown): x is NjNode {
  return typeof x === 'object' && x !== null && typeof (x as NjNode).typename === 'string';
}

function symbolNames(target: unknown): string[] {
  if (!isNode(target)) return [];
  if (target.typename === 'Symbol') return [String(target.value)];
  return (target.children ?? []).flatMap(symbolNames);
}

/** Calls `visit` on every node, depth first. */
function forEachNode(node: unknown, visit: (n: NjNode) => void): void {
  if (Array.isArray(node)) {
    for (const n of node) forEachNode(n, visit);
    return;
  }
  if (!isNode(node)) return;
  visit(node);
  if (node.children) forEachNode(node.children, visit);
  else for (const f of node.fields) forEachNode(node[f], visit);
  if (node.typename === 'Set') forEachNode(node.body, visit); // `{% set x %}…{% endset %}` keeps its body outside `fields`
}

/**
 * Top-level context variables a template reads, every occurrence in source order. Loop variables, `set` targets,
 * macro arguments, imported names, filter and test names, dictionary keys and nunjucks' own globals are left out;
 * so is `x` in `x is defined` / `x is undefined`, where a missing variable is expected.
 * Limits: a `set` inside an `if` counts as set for the rest of the template; included or imported templates are
 * not followed.
 */
export function collectVariableUses(root: NjNode): VariableUse[] {
  const uses: VariableUse[] = [];
  const walk = (node: unknown, scope: Set<string>): void => {
    if (Array.isArray(node)) {
      for (const n of node) walk(n, scope);
      return;
    }
    if (!isNode(node)) return;
    switch (node.typename) {
      case 'Symbol': {
        const name = String(node.value);
        if (!scope.has(name) && !NUNJUCKS_GLOBALS.has(name)) uses.push({ name, line: node.lineno + 1, col: node.colno + 1 });
        return;
      }
      case 'For':
      case 'AsyncEach':
      case 'AsyncAll': {
        walk(node.arr, scope);
        const inner = new Set([...scope, ...symbolNames(node.name), 'loop']);
        walk(node.body, inner);
        walk(node.else_, scope);
        return;
      }
      case 'Set':
        walk(node.value, scope);
        walk(node.body, scope);
        for (const t of (node.targets as unknown[]) ?? []) for (const n of symbolNames(t)) scope.add(n);
        return;
      case 'Macro':
      case 'Caller': {
        const inner = new Set([...scope, 'caller']);
        for (const arg of (node.args as NjNode | undefined)?.children ?? []) {
          if (arg.typename === 'Symbol') inner.add(String(arg.value));
          else if (arg.typename === 'KeywordArgs') {
            for (const pair of arg.children ?? []) {
              inner.add(String((pair.key as NjNode).value));
              walk(pair.value, scope);
            }
          }
        }
        walk(node.body, inner);
        if (node.typename === 'Macro' && isNode(node.name)) scope.add(String(node.name.value));
        return;
      }
      case 'Import':
        walk(node.template, scope);
        for (const n of symbolNames(node.target)) scope.add(n);
        return;
      case 'FromImport':
        walk(node.template, scope);
        for (const item of (node.names as NjNode | undefined)?.children ?? []) {
          // `from "m" import a, b as c`: a Symbol, or a Pair of the name and its alias.
          const bound = item.typename === 'Pair' ? item.value : item;
          for (const n of symbolNames(bound)) scope.add(n);
        }
        return;
      case 'Filter':
      case 'FilterAsync':
        walk(node.args, scope);
        return;
      case 'Is': {
        const test = node.right as NjNode | undefined;
        const testName = test?.typename === 'Symbol' ? String(test.value) : test?.typename === 'FunCall' ? String((test.name as NjNode).value) : '';
        const guarded = (testName === 'defined' || testName === 'undefined') && (node.left as NjNode | undefined)?.typename === 'Symbol';
        if (!guarded) walk(node.left, scope);
        if (test?.typename === 'FunCall') walk(test.args, scope);
        return;
      }
      case 'Pair':
        if ((node.key as NjNode | undefined)?.typename !== 'Symbol') walk(node.key, scope);
        walk(node.value, scope);
        return;
      case 'Super':
        return;
      case 'Block':
        // `{% block name %}`: the name is the block's, not a variable; `{{ super() }}` in it renders the block of the
        // template extended (the tree is parsed, not transformed: nunjucks turns that call into a Super node later).
        // The same scope otherwise: a `set` in the block counts after it, as before.
        if (scope.has('super')) walk(node.body, scope);
        else {
          scope.add('super');
          walk(node.body, scope);
          scope.delete('super');
        }
        return;
      default:
        if (node.children) walk(node.children, scope);
        else for (const f of node.fields) walk(node[f], scope);
    }
  };
  walk(root, new Set());
  return uses;
}

/**
 * The places (1-based `line:col`) of the variables a template prints as they are (`printed`: `{{ name }}`, with no
 * filter, test, operator or property lookup), and of those it only tests (`tested`: `{% if name %}`, which prints
 * nothing of the value). Every other read of a variable (`{{ name | upper }}`, a loop over it, `{% set x = name %}`)
 * may change what reaches the output, so it is in neither; nor is a `{{ name }}` whose output is taken by something
 * else (`{% set x %}…{% endset %}`, `{% filter upper %}…{% endfilter %}`, a macro's body), as only the bodies of `if`
 * and `for` are followed.
 */
export function outputPlaces(root: NjNode): { printed: Set<string>; tested: Set<string> } {
  const places = new Set<string>();
  const tested = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!isNode(node)) return;
    switch (node.typename) {
      case 'Root':
      case 'NodeList':
        walk(node.children);
        return;
      case 'If':
      case 'IfAsync': {
        const cond = node.cond as NjNode | undefined;
        if (cond?.typename === 'Symbol') tested.add(`${cond.lineno + 1}:${cond.colno + 1}`);
        walk(node.body);
        walk(node.else_);
        return;
      }
      case 'For':
      case 'AsyncEach':
      case 'AsyncAll':
        walk(node.body);
        walk(node.else_);
        return;
      case 'Output':
        for (const c of node.children ?? []) if (c.typename === 'Symbol') places.add(`${c.lineno + 1}:${c.colno + 1}`);
        return;
      default:
    }
  };
  walk(root);
  return { printed: places, tested };
}

/**
 * Whether a template pulls in another (`include`, `extends`, `import`, `from … import`): what that one reads is not
 * in this tree, so a caller that must know every variable the output was made from has to assume all of them.
 */
export function readsOtherTemplates(root: NjNode): boolean {
  let found = false;
  forEachNode(root, (n) => {
    if (n.typename === 'Include' || n.typename === 'Extends' || n.typename === 'Import' || n.typename === 'FromImport') found = true;
  });
  return found;
}

/** A tag that pulls in another template file, and the name it gives as written (undefined when made at render). */
export interface PulledInPart {
  tag: 'include' | 'import' | 'extends';
  /** The name as text in the tag (`"parts/sig.njk"`), or undefined for one an expression makes (`{% include kind %}`). */
  name?: string;
  /** `{% include "x" ignore missing %}`: a part that is not there is no problem. */
  ignoreMissing: boolean;
  /**
   * Pulled in whenever the file is rendered: the tag is not inside an `if`, a loop, a macro, a `block` or a `switch`,
   * any of which may leave it out (a part that includes itself behind one of those can end).
   */
  unconditional: boolean;
  /**
   * Inside a `block` and nothing else that may leave it out: pulled in whenever the file is rendered in place (as the
   * template, included or imported) and extends nothing, as its blocks are then rendered where they stand; not known
   * when the file is extended (the file extending it may put a block of its own in that one's place).
   */
  inBlock: boolean;
  /** 1-based place of the name in the tag (of the tag's word when the name is an expression). */
  line: number;
  col: number;
}

// Nodes whose body may be rendered zero times, or only when something calls it (a `block`: see PulledInPart.inBlock).
const MAY_SKIP_BODY = new Set(['If', 'InlineIf', 'For', 'AsyncEach', 'AsyncAll', 'Macro', 'Caller', 'Switch', 'Case', 'FilterAsync', 'CallExtension', 'CallExtensionAsync']);

/** The `include`, `import`, `from … import` and `extends` tags of a template, in source order. */
export function pulledInParts(root: NjNode): PulledInPart[] {
  const found: PulledInPart[] = [];
  const walk = (node: unknown, guarded: boolean, inBlock: boolean): void => {
    if (Array.isArray(node)) {
      for (const n of node) walk(n, guarded, inBlock);
      return;
    }
    if (!isNode(node)) return;
    const tag = node.typename === 'Include' ? 'include' : node.typename === 'Extends' ? 'extends' : node.typename === 'Import' || node.typename === 'FromImport' ? 'import' : undefined;
    if (tag) {
      const t = node.template as NjNode | undefined;
      const literal = t?.typename === 'Literal' && typeof t.value === 'string';
      const at = literal ? t! : node;
      found.push({ tag, ...(literal ? { name: t!.value as string } : {}), ignoreMissing: node.ignoreMissing === true, unconditional: !guarded && !inBlock, inBlock: !guarded && inBlock, line: at.lineno + 1, col: at.colno + 1 });
    }
    const inner = guarded || MAY_SKIP_BODY.has(node.typename);
    const block = inBlock || node.typename === 'Block';
    if (node.children) walk(node.children, inner, block);
    else for (const f of node.fields) walk(node[f], inner, block);
    if (node.typename === 'Set') walk(node.body, inner, block);
  };
  walk(root, false, false);
  return found;
}

/** `a.constructor`, `a["__proto__"]` and the like, which could reach JavaScript internals from a template. */
export function findForbiddenLookups(root: NjNode): VariableUse[] {
  const found: VariableUse[] = [];
  forEachNode(root, (n) => {
    if (n.typename !== 'LookupVal') return;
    const key = n.val as NjNode | undefined;
    if (key?.typename === 'Literal' && FORBIDDEN_PROPERTIES.has(String(key.value))) {
      found.push({ name: String(key.value), line: key.lineno + 1, col: key.colno + 1 });
    }
  });
  return found;
}

/** Dotted text of a simple expression (`user.name`), or undefined for anything more complex. */
function expressionText(n: NjNode | undefined): string | undefined {
  if (!n) return undefined;
  if (n.typename === 'Symbol') return String(n.value);
  if (n.typename === 'LookupVal') {
    const target = expressionText(n.target as NjNode);
    const key = n.val as NjNode;
    if (target === undefined) return undefined;
    return key.typename === 'Literal' ? (typeof key.value === 'number' ? `${target}[${key.value}]` : `${target}.${String(key.value)}`) : `${target}[…]`;
  }
  return undefined;
}

/**
 * The expression printed by the `{{ … }}` that starts at 1-based `line`/`col` (where nunjucks reports a null or
 * undefined output), as dotted text, when it is a plain variable or property path.
 */
export function outputExpressionAt(root: NjNode, line: number, col: number): string | undefined {
  let text: string | undefined;
  forEachNode(root, (n) => {
    if (text !== undefined || n.typename !== 'Output' || n.lineno + 1 !== line || n.colno + 1 !== col) return;
    const printed = (n.children ?? []).filter((c) => c.typename !== 'TemplateData');
    if (printed.length === 1) text = expressionText(printed[0]);
  });
  return text;
}

/** Filter names used in a template (checked against the environment's filters at load time). */
export function collectFilterNames(root: NjNode): VariableUse[] {
  const found: VariableUse[] = [];
  forEachNode(root, (n) => {
    if ((n.typename === 'Filter' || n.typename === 'FilterAsync') && isNode(n.name)) {
      found.push({ name: String(n.name.value), line: n.name.lineno + 1, col: n.name.colno + 1 });
    }
  });
  return found;
}
