// Recursive-descent parser: tokens → syntax tree, with Oktell's precedence and positioned, hinted errors.
import type { BinaryOperator, Node } from './ast.js';
import type { Operator, Token } from './lexer.js';
import { tokenize } from './lexer.js';
import { digitGroupsAsText } from './digit-groups.js';
import { closeFunctionNames, findFunction, MULTI_WORD_NAMES } from './registry.js';
import { EXPRESSION_CHARS, quotedText, shownText, syntaxError, type ExpressionSyntaxError } from './syntax-error.js';

/** Deepest nesting of parentheses, calls, unary operators and ^ chains (keeps recursion far from the stack limit). */
export const MAX_NESTING = 100;
/** Tallest syntax tree (long operator chains): compiled closures nest this deep when evaluated. */
export const MAX_HEIGHT = 500;
/** Most arguments of one call (Min, Max): a call is evaluated with its arguments spread, which has a stack limit. */
export const MAX_ARGS = 500;

/** Thrown inside the parser to unwind to `parseToTree`; never escapes it. */
class SyntaxFailure {
  constructor(readonly error: ExpressionSyntaxError) {}
}

export function parseToTree(source: string): { ok: true; tree: Node } | { ok: false; error: ExpressionSyntaxError } {
  const lexed = tokenize(source, MULTI_WORD_NAMES);
  if (!lexed.ok) return lexed;
  const digits = digitGroupsAsText(source, lexed.tokens);
  if (digits) return { ok: false, error: digits };
  try {
    return { ok: true, tree: new Parser(source, lexed.tokens).parseWhole() };
  } catch (e) {
    if (e instanceof SyntaxFailure) return { ok: false, error: e.error };
    throw e;
  }
}

const COMPARISONS: ReadonlySet<Operator> = new Set(['=', '<>', '<', '>', '<=', '>=']);

class Parser {
  private pos = 0;
  private nesting = 0;
  private readonly heights = new WeakMap<Node, number>();

  constructor(
    private readonly source: string,
    private readonly tokens: Token[],
  ) {}

  parseWhole(): Node {
    if (this.peek().kind === 'eof') {
      this.fail('the expression is empty', 0, 0, 'write a value: "" for empty text, 0, or [variable]');
    }
    const tree = this.parseOr();
    const t = this.peek();
    if (t.kind !== 'eof') this.failTrailing(t);
    return tree;
  }

  // ---- precedence levels, loosest first -----------------------------------------------------------------------

  private parseOr(): Node {
    let left = this.parseAnd();
    while (this.isOp('or')) {
      const t = this.next();
      left = this.binary('or', t, left, this.parseAnd());
    }
    return left;
  }

  private parseAnd(): Node {
    let left = this.parseNot();
    while (this.isOp('and')) {
      const t = this.next();
      left = this.binary('and', t, left, this.parseNot());
    }
    return left;
  }

  private parseNot(): Node {
    if (!this.isOp('not')) return this.parseComparison();
    const t = this.next();
    const operand = this.nested(() => this.parseNot());
    return this.unary('not', operand, t.start);
  }

  private parseComparison(): Node {
    const left = this.parseAdditive();
    const t = this.peek();
    if (t.kind !== 'op' || !COMPARISONS.has(t.op)) return left;
    this.next();
    const node = this.binary(t.op as BinaryOperator, t, left, this.parseAdditive());
    const again = this.peek();
    if (again.kind === 'op' && COMPARISONS.has(again.op)) {
      this.fail('comparisons cannot be chained', again.start, again.end - again.start, 'join two comparisons with and: [a] < [b] and [b] < [c]');
    }
    return node;
  }

  private parseAdditive(): Node {
    let left = this.parseMultiplicative();
    for (let t = this.peek(); t.kind === 'op' && (t.op === '+' || t.op === '-'); t = this.peek()) {
      this.next();
      left = this.binary(t.op, t, left, this.parseMultiplicative());
    }
    return left;
  }

  private parseMultiplicative(): Node {
    let left = this.parsePower();
    for (let t = this.peek(); t.kind === 'op' && (t.op === '*' || t.op === '/'); t = this.peek()) {
      this.next();
      left = this.binary(t.op, t, left, this.parsePower());
    }
    return left;
  }

  /** `^` is right-associative: 2 ^ 3 ^ 2 = 2 ^ 9. Its operands are unary expressions, so -2 ^ 2 = 4. */
  private parsePower(): Node {
    const base = this.parseUnary();
    if (!this.isOp('^')) return base;
    const t = this.next();
    return this.binary('^', t, base, this.nested(() => this.parsePower()));
  }

  private parseUnary(): Node {
    if (this.isOp('not')) {
      // `not` where an operand is expected ([a] = not [b]) binds to that operand only.
      const t = this.next();
      return this.unary('not', this.nested(() => this.parseUnary()), t.start);
    }
    if (!this.isOp('-')) return this.parsePrimary();
    const t = this.next();
    const operand = this.nested(() => this.parseUnary());
    if (operand.type === 'literal' && typeof operand.value === 'number') {
      return { type: 'literal', value: -operand.value, start: t.start, end: operand.end };
    }
    return this.unary('-', operand, t.start);
  }

  private parsePrimary(): Node {
    const t = this.next();
    switch (t.kind) {
      case 'number':
        return { type: 'literal', value: t.value, start: t.start, end: t.end };
      case 'string':
        return { type: 'literal', value: t.value, start: t.start, end: t.end };
      case 'variable':
        return { type: 'variable', name: t.name, start: t.start, end: t.end };
      case 'keyword':
        if (t.word === 'true' || t.word === 'false') return { type: 'literal', value: t.word === 'true', start: t.start, end: t.end };
        return this.fail(`${quotedText(this.text(t))} needs a value before it`, t.start, t.end - t.start, `${t.word} joins two conditions: [a] > 1 ${t.word} [b] < 5`);
      case '(': {
        if (this.peek().kind === ')') this.fail('empty parentheses', t.start, this.peek().end - t.start, 'put an expression inside, or remove them');
        const inner = this.nested(() => this.parseOr());
        const close = this.peek();
        if (close.kind !== ')') {
          if (close.kind === 'eof') this.fail('missing ")" for this "("', t.start, 1, 'close every ( with )');
          this.failExpected('")"', close);
        }
        this.next();
        return inner;
      }
      case 'name':
        return this.peek().kind === '(' ? this.parseCall(t) : this.failUnquoted(t);
      case 'eof': {
        const prev = this.tokens[this.pos - 2];
        if (prev) this.fail(`missing a value after ${quotedText(this.text(prev))}`, prev.start, prev.end - prev.start, 'complete the expression, e.g. [a] + 1');
        return this.fail('the expression is empty', 0, 0);
      }
      case ')':
        return this.fail('expected a value, found ")"', t.start, 1, 'there may be an extra ")" or a missing value before it');
      case ',':
        return this.fail('expected a value, found ","', t.start, 1, 'a comma separates function arguments; is an argument missing?');
      case 'op': {
        this.failOperatorSlip(t);
        return this.fail(`expected a value, found ${quotedText(this.text(t))}`, t.start, t.end - t.start,
          t.op === '=' && t.start === 0 ? 'an expression does not start with "="; write just the value, e.g. [a] + 1' : 'an operator needs a value on each side');
      }
    }
  }

  /** Operators from other languages typed as two touching operators (=<, =>, ===, ><): the one meant, in place. */
  private failOperatorSlip(t: Token & { kind: 'op' }): void {
    const prev = this.tokens[this.tokens.indexOf(t) - 1];
    if (prev?.kind !== 'op' || prev.end !== t.start) return;
    const typed = this.source.slice(prev.start, t.end);
    const meant = ({ '=<': '<=', '=>': '>=', '===': '=', '!==': '<>', '><': '<>' } as Record<string, string>)[typed];
    if (!meant) return;
    const fix = `${this.source.slice(0, prev.start)}${meant}${this.source.slice(t.end)}`;
    this.fail(`"${typed}" is not an operator`, prev.start, t.end - prev.start, `did you mean ${meant}? ${shownText(fix, EXPRESSION_CHARS)}`, fix);
  }

  private parseCall(nameTok: Token & { kind: 'name' }): Node {
    const def = findFunction(nameTok.text);
    const nameLen = nameTok.end - nameTok.start;
    if (!def) {
      const close = closeFunctionNames(nameTok.text);
      if (close.length) this.failCall(`unknown function ${quotedText(nameTok.text)}`, nameTok.start, nameLen, `did you mean ${close.join(', ')}?`);
      this.fail(`unknown function ${quotedText(nameTok.text)}`, nameTok.start, nameLen, 'see docs/expressions.md for the list of functions');
    }
    const open = this.next();
    const args: Node[] = [];
    if (this.peek().kind === ')') {
      this.next();
    } else {
      for (;;) {
        if (args.length === MAX_ARGS) {
          const t = this.peek();
          this.failCall(`${def!.name} has more than ${MAX_ARGS} arguments`, t.start, t.end - t.start, 'split the list, e.g. Max(Max(a, b, …), Max(…))');
        }
        args.push(this.nested(() => this.parseOr()));
        const t = this.next();
        if (t.kind === ')') break;
        if (t.kind === ',') {
          if (this.peek().kind === ')') this.fail('missing argument after ","', t.start, 1, `signature: ${def!.signature}`);
          continue;
        }
        if (t.kind === 'eof') this.fail(`missing ")" to close ${def!.name}(`, open.start, 1, `signature: ${def!.signature}`);
        this.pos--;
        this.failExpected(`"," or ")" in ${def!.name}(…)`, t);
      }
    }
    const end = this.tokens[this.pos - 1]!.end;
    const d = def!;
    if (args.length < d.minArgs || args.length > d.maxArgs) {
      const want = d.minArgs === d.maxArgs ? `${d.minArgs}` : d.maxArgs === Infinity ? `at least ${d.minArgs}` : `${d.minArgs} to ${d.maxArgs}`;
      this.failCall(`${d.name} takes ${want} argument${want === '1' ? '' : 's'}, got ${args.length}`, nameTok.start, nameLen, `signature: ${d.signature}`);
    }
    const problem = d.check?.(args);
    if (problem) {
      const a = args[problem.arg]!;
      this.failCall(problem.message, a.start, a.end - a.start, problem.hint);
    }
    const node: Node = { type: 'call', def: d, args, start: nameTok.start, end, nameEnd: nameTok.end };
    this.heights.set(node, 1 + Math.max(0, ...args.map((a) => this.height(a))));
    return node;
  }

  // ---- errors --------------------------------------------------------------------------------------------------

  private failUnquoted(first: Token & { kind: 'name' }, afterValue = false): never {
    if (!afterValue && findFunction(first.text)) {
      const f = findFunction(first.text)!;
      this.failCall(`function ${f.name} needs parentheses`, first.start, first.end - first.start, `call it as ${f.signature}`);
    }
    const before0 = this.tokens[this.tokens.indexOf(first) - 1];
    const after0 = this.peek();
    if (afterValue && /^(mod|div)$/i.test(first.text) && before0 && after0.kind !== 'eof') {
      // Pascal's and Basic's `a mod b`: the language has the function instead.
      const isMod = first.text.toLowerCase() === 'mod';
      const left = this.source.slice(before0.start, before0.end);
      const right = this.source.slice(after0.start, after0.end);
      const example = isMod ? `Mod(${left}, ${right})` : `Floor(${left} / ${right})`;
      const whole = before0.start === 0 && after0.end === this.source.length;
      this.fail(`there is no ${first.text} operator`, first.start, first.end - first.start, `write ${shownText(example, EXPRESSION_CHARS)}`, whole ? example : undefined);
    }
    let end = first.end;
    for (;;) {
      const t = this.peek();
      const after = this.tokens[this.pos + 1];
      if (t.kind === 'name' || t.kind === 'number') end = this.next().end;
      // A hyphenated word (every-minute) is one text: quoting only "every" would leave "every"-minute, a new error.
      // So is a content type or a path of words (application/json, text/plain): "application"/json would be another.
      else if (t.kind === 'op' && (t.op === '-' || t.op === '/') && t.start === end && (after?.kind === 'name' || after?.kind === 'number') && after.start === t.end) {
        this.next();
        end = this.next().end;
      } else break;
    }
    const words = this.source.slice(first.start, end);
    const quoted = words.includes('"') ? `«${words}»` : `"${words}"`;
    /** The same as a message shows it (a long text cut, with its length). */
    const shown = words.includes('"') ? quotedText(words, '«', '»') : quotedText(words);
    const before = this.tokens[this.tokens.indexOf(first) - 1];
    // "every"-minute: a quoted word, a "-" and a word, nothing between them (what quoting only "every" of every-minute
    // gave): one text quoted in part. The whole of it goes in the quotes; "every" - minute, spaced, is a subtraction.
    // The same for a "/" ("application"/json, from quoting only "application" of application/json).
    const text = this.tokens[this.tokens.indexOf(first) - 2];
    if (!afterValue && before?.kind === 'op' && (before.op === '-' || before.op === '/') && before.end === first.start && text?.kind === 'string' && text.end === before.start) {
      const whole = `${text.value}${before.op}${words}`;
      const requoted = whole.includes('"') ? `«${whole}»` : `"${whole}"`;
      return this.fail(`text quoted only up to the "${before.op}": ${shownText(this.source.slice(text.start, end))}`, text.start, end - text.start,
        `quote it whole: ${shownText(requoted)}`, `${this.source.slice(0, text.start)}${requoted}${this.source.slice(end)}`);
    }
    if (afterValue && before?.kind === 'string' && before.end === first.start) {
      return this.fail(`unquoted text ${shown} right after a closing quote`, first.start, end - first.start,
        'to put a quote inside text, quote the whole text with another kind: \'…\', "…" or «…»');
    }
    // The corrected expression, so that a caller writing it into another language (YAML) can show it whole.
    const head = this.source.slice(0, first.start);
    const tail = this.source.slice(end);
    if (afterValue) {
      const fix = `${head}${head.endsWith(' ') ? '' : ' '}+ ${quoted}${tail}`;
      return this.fail(`unquoted text ${shown} after a value`, first.start, end - first.start, `put text in quotes and join it with +, e.g. … + ${shown}`, fix);
    }
    return this.fail(`unquoted text ${shown}`, first.start, end - first.start, `put text in quotes: ${shown}`, `${head}${quoted}${tail}`);
  }

  private failTrailing(t: Token): never {
    const len = t.end - t.start;
    switch (t.kind) {
      case ')':
        return this.fail('unmatched ")"', t.start, 1, 'remove it or add the "(" it closes');
      case ',': {
        // 1,5 outside a call: a decimal comma, as Russian writes it (inside a call it would be two arguments).
        const before = this.tokens[this.pos - 1];
        const after = this.tokens[this.pos + 1];
        if (before?.kind === 'number' && before.end === t.start && after?.kind === 'number' && after.start === t.end && /^\d+$/.test(this.text(after))) {
          const meant = `${this.text(before)}.${this.text(after)}`;
          const written = `${this.text(before)},${this.text(after)}`;
          return this.fail(`unexpected "," in ${shownText(written)}`, t.start, 1,
            `a decimal is written with a dot: ${shownText(meant)} (numeric text may use a comma: Num(${quotedText(written)}))`,
            `${this.source.slice(0, before.start)}${meant}${this.source.slice(after.end)}`);
        }
        return this.fail('unexpected ","', t.start, 1, 'a comma only separates function arguments: Max(1, 2)');
      }
      case 'name':
        this.next();
        return this.failUnquoted(t, true);
      default:
        return this.fail(`missing operator before ${quotedText(this.text(t))}`, t.start, len, 'join values with an operator, e.g. [a] + " " + [b]');
    }
  }

  private failExpected(what: string, t: Token): never {
    if (t.kind === 'eof') this.fail(`expected ${what} but the expression ended`, t.start, 0);
    return this.fail(`expected ${what}, found ${quotedText(this.text(t))}`, t.start, t.end - t.start,
      t.kind === 'name' ? 'quote text: "text"; join values with +' : 'check for a missing comma or operator');
  }

  private fail(message: string, offset: number, length: number, hint?: string, fix?: string): never {
    throw new SyntaxFailure(syntaxError(message, offset, length, hint, fix));
  }

  /** A mistake in a function call (see ExpressionSyntaxError.call). */
  private failCall(message: string, offset: number, length: number, hint?: string): never {
    throw new SyntaxFailure({ ...syntaxError(message, offset, length, hint), call: true });
  }

  // ---- helpers -------------------------------------------------------------------------------------------------

  private peek(): Token {
    return this.tokens[this.pos]!;
  }

  private next(): Token {
    const t = this.tokens[this.pos]!;
    if (t.kind !== 'eof') this.pos++;
    else this.pos = this.tokens.length;
    return t;
  }

  private isOp(op: Operator): boolean {
    const t = this.peek();
    return (t.kind === 'op' && t.op === op) || (t.kind === 'keyword' && t.word === op);
  }

  private text(t: Token): string {
    return this.source.slice(t.start, t.end);
  }

  private nested<T>(parse: () => T): T {
    if (++this.nesting > MAX_NESTING) {
      const t = this.peek();
      this.fail(`the expression is nested too deeply (more than ${MAX_NESTING} levels)`, t.start, t.end - t.start, 'split it into several blocks with intermediate variables');
    }
    try {
      return parse();
    } finally {
      this.nesting--;
    }
  }

  private height(n: Node): number {
    return this.heights.get(n) ?? 1;
  }

  private checkHeight(node: Node): Node {
    const h = node.type === 'binary' ? 1 + Math.max(this.height(node.left), this.height(node.right)) : node.type === 'unary' ? 1 + this.height(node.operand) : 1;
    if (h > MAX_HEIGHT) {
      this.fail(`the expression is too long (more than ${MAX_HEIGHT} chained operations)`, node.start, node.end - node.start, 'split it into several blocks with intermediate variables');
    }
    this.heights.set(node, h);
    return node;
  }

  private binary(op: BinaryOperator, opTok: Token, left: Node, right: Node): Node {
    return this.checkHeight({ type: 'binary', op, left, right, start: left.start, end: right.end, opStart: opTok.start, opEnd: opTok.end });
  }

  private unary(op: '-' | 'not', operand: Node, start: number): Node {
    return this.checkHeight({ type: 'unary', op, operand, start, end: operand.end });
  }
}
