// The YAML parser speaks its own jargon ("Unexpected scalar at node end", "Block scalar header includes extra
// characters"). For the slips integrators make most often when they type expressions into YAML, the line at fault
// tells what was meant, and the hint proposes the line to paste instead.
import type { SourceLocation } from './errors.js';
import { parseExpression } from './expr/index.js';
import type { YamlSource } from './yaml-source.js';

/** The first syntax error of a file, said as `loadScenarioText` and the test-file loader report it. */
export interface SyntaxProblem {
  at: SourceLocation;
  message: string;
  hint: string;
}

/**
 * The syntax error to fix first in `src` (duplicate keys aside), with a hint, or undefined when there is none. One
 * misplaced indent makes the parser report every line after it, so the others are only counted in the hint.
 */
export function firstSyntaxProblem(src: YamlSource): SyntaxProblem | undefined {
  const errors = src.doc.errors.filter((e) => e.code !== 'DUPLICATE_KEY');
  const first = errors[0];
  if (!first) return undefined;
  const loc = src.at(first.pos[0]);
  const parserSays = first.message.split('\n')[0]!;
  const more = errors.length - 1;
  const after = more > 0 ? `; the parser reports ${more} more error${more > 1 ? 's' : ''} after this one, most often caused by it` : '';
  const known = yamlSyntaxHint(src.text, parserSays, loc);
  return {
    at: known?.at ? { ...loc, ...known.at } : loc,
    message: `YAML syntax: ${known?.message ?? parserSays}`,
    hint: known ? `${known.hint}${after}` : `check indentation, colons and quotes around this place${after}`,
  };
}

export interface SyntaxHint {
  hint: string;
  /** A better place than the parser's, when it points at a line start rather than the offending key. */
  at?: { line: number; col: number };
  /** The parser's message said of that better place, when its own describes what the slip made of the line above. */
  message?: string;
}

/** `key: value` on one line, the key plain (block mappings and list items `- key: value`). */
const KEY_VALUE = /^(\s*(?:-\s+)?)([^\s#'"{[][^:#]*?):[ \t]+(.*?)\s*$/;

/**
 * A hint for YAML syntax error `message` reported at `loc` in `text`, or undefined when the line does not show one
 * of the known slips.
 */
export function yamlSyntaxHint(text: string, message: string, loc: SourceLocation): SyntaxHint | undefined {
  const lines = text.split(/\r\n|\r|\n/);
  const line = lines[loc.line - 1] ?? '';
  if (/^Tabs are not allowed/.test(message)) {
    return { hint: `replace the tab at ${loc.line}:${loc.col} with spaces: YAML indents with spaces only` };
  }
  if (/^All mapping items must start at the same column/.test(message)) return indentHint(lines, loc.line);
  // `exits: { next: b }}`: a closing bracket with nothing open before it.
  const stray = /^Unexpected flow-(map|seq)-end token/.exec(message);
  if (stray) {
    const [close, open] = stray[1] === 'map' ? ['}', '{'] : [']', '['];
    return { hint: `this ${close} closes no ${open}: remove it`, message: `${close} without a ${open} before it` };
  }
  // A key indented less than the other keys of a list item: the parser expects another `- ` item there.
  if (/^Sequence item without - indicator/.test(message)) return indentHint(lines, loc.line);
  if (/^Nested mappings are not allowed in compact mappings/.test(message)) return colonInValueHint(line) ?? deeperKeyHint(lines, loc.line);
  if (/^Implicit keys need to be on a single line/.test(message)) return strayLineHint(line, loc.line);
  // A quoted text never closed: the parser notices at the end of the file; the opening quote is the slip.
  const missing = /^Missing closing (["'])quote/.exec(message);
  if (missing) return unclosedQuoteHint(lines, loc.line, missing[1] as '"' | "'");
  if (/^A block sequence may not be used as an implicit map key/.test(message)) return listAmongKeysHint(lines, loc.line);
  // `subject: 'Задача 'Поставка''`: the ' inside ends the single-quoted text early.
  if (/^Unexpected .* at node end/.test(message)) {
    const apostrophe = apostropheHint(line, loc.col - 1);
    if (apostrophe) return apostrophe;
  }
  // `{ equals: { 1: done }` with its last } missing: the parser notices on a later line; the opener is the slip.
  const unclosed = /^Flow (map|sequence) in block collection must be sufficiently indented and end with a ([}\]])/.exec(message);
  if (unclosed) {
    const open = unclosedOpener(lines, loc.line, unclosed[2] === '}' ? '{' : '[');
    if (open) {
      return {
        hint: `the ${open.char} on line ${open.line} (column ${open.col}) is not closed: end it with ${unclosed[2]} on that line (a ${unclosed[1] === 'map' ? '{ … }' : '[ … ]'} written on one line closes on it)`,
        at: { line: open.line, col: open.col },
        message: `${unclosed[2] === '}' ? '{' : '['} without its ${unclosed[2]}`,
      };
    }
  }
  // The same two slips as a value of a `{ 1: … }` map, the form the docs use.
  if (/flow sequence|flow collection|^Unexpected .* at node end/.test(message)) {
    const flow = flowMapHint(line, loc.col - 1);
    if (flow) return flow;
  }
  const kv = KEY_VALUE.exec(line);
  if (!kv) return undefined;
  const [, , key, value] = kv as unknown as [string, string, string, string];
  if (/^Block scalar header includes extra characters/.test(message) && /^[>|]/.test(value)) {
    return {
      hint: `YAML reads a value starting with ${value[0]} as a block of text; quote it: ${key}: ${yamlSingleQuoted(value)}`,
    };
  }
  // `expression: [total] > 0`: a value starting with [ is a YAML list, and what follows its ] breaks it.
  if (/flow sequence|flow collection|^Unexpected .* at node end/.test(message) && value.startsWith('[')) {
    return { hint: `${LIST_HINT}${key}: ${yamlSingleQuoted(withoutComment(value, value.indexOf(']')))}` };
  }
  if (/^Unexpected .* at node end/.test(message) && value.startsWith('"')) {
    const close = closingQuote(value);
    if (close > 0 && close < value.length - 1) {
      const expression = withoutComment(value, close);
      const whole = quotedWhole(expression);
      return {
        hint: `${TEXT_HINT}${key}: ${yamlSingleQuoted(whole?.fix ?? expression)}${whole?.note ?? ''}`,
      };
    }
  }
  return undefined;
}

/** The two slips' hints, before the line to write: a value starting with [, and one starting with " that goes on. */
const LIST_HINT = 'YAML reads a value starting with [ as a list; quote the expression: ';
const TEXT_HINT = 'YAML ends a value that starts with " at its closing quote; wrap the whole expression in single quotes: ';
/** Said after the line when a text quoted up to a "-" ("every"-minute) is quoted whole in it. */
function quotedWholeNote(op: string): string {
  return ` (the text quoted whole, not only up to its "${op}", which the expression reads as ${op === '/' ? 'a division' : 'a minus'})`;
}

/**
 * `"every"-minute` (a text quoted only up to its "-", as quoting only "every" of every-minute gave): the expression
 * with the text quoted whole, as the expression's own error proposes, so that the line the hint gives loads.
 */
function quotedWhole(expression: string): { fix: string; note: string } | undefined {
  const parsed = parseExpression(expression);
  const op = parsed.ok ? undefined : /^text quoted only up to the "([-/])"/.exec(parsed.error.message)?.[1];
  if (parsed.ok || parsed.error.fix === undefined || op === undefined) return undefined;
  return parseExpression(parsed.error.fix).ok ? { fix: parsed.error.fix, note: quotedWholeNote(op) } : undefined;
}

/** A value of a `{ … }` map with [ ] inside it (`Trim([g]) + 1`), before the line to write. */
const FLOW_BRACKET_HINT = 'inside { … } YAML reads [ and ] as the start and end of a list, also within a value; quote the expression: ';

/** A `key: value` entry of a `{ … }` map written on one line: where its value is, from and to (untrimmed end). */
interface FlowEntry {
  from: number;
  to: number;
}

/**
 * The values of the `{ … }` maps on `line` (any depth), read as an integrator means them: commas and brackets inside
 * an expression's quotes or ( ) and [ ] are no separators. Undefined when the line does not read so (a bracket
 * closed by the wrong kind); a comment after the maps ends the line.
 */
function flowEntries(line: string): { entries: FlowEntry[]; end: number } | undefined {
  const entries: FlowEntry[] = [];
  const open: Array<{ char: string; from?: number }> = [];
  const KEY = /\s*[^\s:,{}[\]'"#]+:[ \t]+/y;
  const startEntry = (at: number): number => {
    KEY.lastIndex = at;
    const top = open[open.length - 1]!;
    top.from = KEY.test(line) ? KEY.lastIndex : undefined;
    return top.from ?? at;
  };
  const endEntry = (at: number): void => {
    const top = open[open.length - 1]!;
    if (top.from !== undefined && top.from < at) entries.push({ from: top.from, to: at });
  };
  let quote = '';
  let i = 0;
  for (; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (quote === '"' && c === '\\') i++;
      else if (c === quote && quote === "'" && line[i + 1] === "'") i++;
      else if (c === quote) quote = '';
      continue;
    }
    const top = open[open.length - 1];
    if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) break;
    if (c === '"' || c === "'") quote = c;
    else if (c === '[' || c === '(') open.push({ char: c });
    else if (c === ']' || c === ')') {
      if (top?.char !== (c === ']' ? '[' : '(')) return undefined;
      open.pop();
    } else if (c === '{') {
      open.push({ char: c });
      i = startEntry(i + 1) - 1;
    } else if (top?.char === '{' && (c === ',' || c === '}')) {
      endEntry(i);
      if (c === '}') open.pop();
      else i = startEntry(i + 1) - 1;
    }
  }
  return { entries, end: i };
}

/**
 * `values: { 1: [g] + 1 }` or `{ 1: "ok " + [g] }`: YAML reads the value as a list or a quoted text with more after
 * it; in `{ 1: Trim([g]) + 1 }` the [ breaks the plain value. When the parser's error at `col` (from 0) is in such a value, the line with every such value of it quoted.
 */
function flowMapHint(line: string, col: number): SyntaxHint | undefined {
  const read = flowEntries(line);
  if (!read) return undefined;
  const { entries, end } = read;
  const broken = (e: FlowEntry): 'list' | 'text' | 'plain' | undefined => {
    const value = line.slice(e.from, e.to).trimEnd();
    // `Trim([g]) + 1`: inside { … } a [ or ] breaks a plain value wherever it stands, within its "…" too.
    if (/^[^[\]"'{]/.test(value) && /[[\]]/.test(value)) return 'plain';
    const close = value.startsWith('[') ? closingBracket(value) : value.startsWith('"') ? closingQuote(value) : -1;
    if (close <= 0 || close === value.length - 1) return undefined;
    return value.startsWith('[') ? 'list' : 'text';
  };
  const at = entries.find((e) => e.from <= col && col <= e.to);
  const kind = at && broken(at);
  if (!kind) return undefined;
  let fixed = line;
  let requoted = '';
  for (const e of [...entries].reverse()) {
    if (!broken(e)) continue;
    const value = line.slice(e.from, e.to).trimEnd();
    const whole = quotedWhole(value);
    if (whole) requoted = whole.note;
    fixed = fixed.slice(0, e.from) + yamlSingleQuoted(whole?.fix ?? value) + fixed.slice(e.from + value.length);
  }
  // Without a comment after the map, and without the `- ` of a list item, as the other hints give `key: value`.
  const pasted = fixed.slice(0, end + fixed.length - line.length).trim().replace(/^-\s+/, '');
  return {
    hint: `${kind === 'list' ? LIST_HINT : kind === 'plain' ? FLOW_BRACKET_HINT : TEXT_HINT}${pasted}${requoted}`,
  };
}

/**
 * The last `{` (or `[`) left open on the lines before line `before`, outside quotes and comments, back to the first
 * line that closes all it opens; undefined when none is.
 */
function unclosedOpener(lines: readonly string[], before: number, char: '{' | '['): { char: string; line: number; col: number } | undefined {
  const close = char === '{' ? '}' : ']';
  for (let n = before - 1; n >= 1; n--) {
    const text = lines[n - 1]!;
    const opened: number[] = [];
    let quote = '';
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (quote) {
        if (c === quote) quote = '';
        continue;
      }
      if (c === '"' || c === "'") quote = c;
      else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) break;
      else if (c === char) opened.push(i);
      else if (c === close) opened.pop();
    }
    if (opened.length) return { char, line: n, col: opened[0]! + 1 };
  }
  return undefined;
}

/** The key a line starts (after a list item's `- `, whose key is at the column after it) and its column from 0. */
function keyOfLine(line: string): { key: string; col: number } | undefined {
  const m = /^(\s*(?:-\s+)?)([^\s:#]+)\s*:/.exec(line);
  return m ? { key: m[2]!, col: m[1]!.length } : undefined;
}

/**
 * A mapping item indented differently from the items above it: say which column the mapping's items are at. Of the
 * keys above, back to the first one left of it (its parent), the one nearest its column is the one it goes with.
 */
function indentHint(lines: readonly string[], reported: number): SyntaxHint | undefined {
  // The parser may point at the blank line or the comment before the key (a block id indented a space off).
  let lineNo = reported;
  while (lineNo <= lines.length && isBlankOrComment(lines[lineNo - 1]!)) lineNo++;
  const here = keyOfLine(lines[lineNo - 1] ?? '');
  if (!here) return undefined;
  // A key with a nested block under it (`isTaskChat:` and its `kind:` below) is not at or right of that block.
  const below = nextKeyLine(lines, lineNo);
  const childCol = below && below.col > here.col && /:\s*(#.*)?$/.test(lines[lineNo - 1]!) ? below.col : Infinity;
  let best: { key: string; col: number; line: number } | undefined;
  for (let n = lineNo - 1; n >= 1; n--) {
    const above = lines[n - 1]!;
    if (isBlankOrComment(above)) continue;
    const key = keyOfLine(above);
    if (!key) break;
    if (key.col < childCol && (!best || Math.abs(key.col - here.col) < Math.abs(best.col - here.col))) best = { ...key, line: n };
    if (key.col <= here.col) break;
  }
  if (!best) return undefined;
  // `set:` with its first entry left at its own column and the next entry indented right: the first one is the slip.
  const parent = previousKeyLine(lines, best.line);
  if (parent && parent.col === best.col && parent.empty && here.col > best.col) return firstEntryOffHint(best, here, parent);
  const hint = hintTo(here, best, lineNo);
  // The first key of a mapping sets its column: when that one is the odd one out, the fix is there. The keys after
  // the reported one tell which: at the first key's column, the reported one is off; at its column, the first key.
  // (A list item's first key is placed by its "- ", which the keys after it line up with: not the one off.)
  if (hint && parent && !/^\s*-\s/.test(lines[best.line - 1]!) && parent.col < best.col && parent.col < here.col && parent.line === best.line - 1 - blankRun(lines, best.line)) {
    const after = { first: 0, here: 0 };
    for (let n = lineNo + 1; n <= lines.length; n++) {
      if (isBlankOrComment(lines[n - 1]!)) continue;
      const col = indentOf(lines[n - 1]!);
      if (col < Math.min(here.col, best.col)) break;
      if (col === best.col) after.first++;
      else if (col === here.col) after.here++;
    }
    // With no key after it to tell, the usual two spaces under the parent do.
    if (after.first > 0 || (after.here === 0 && best.col === parent.col + 2)) return hint;
    if (after.here > 0 || here.col === parent.col + 2) {
      return { ...hint, hint: `indent "${best.key}" on line ${best.line} like "${here.key}"${after.here > 0 ? ' and the keys after it' : ''} (column ${here.col + 1}), with spaces: the first key of a mapping sets the column of the rest`, at: { line: best.line, col: best.col + 1 } };
    }
    hint.hint += `; or, if "${best.key}" is the one off (the first key of a mapping sets the column of the rest), indent "${best.key}" on line ${best.line} like "${here.key}" (column ${here.col + 1})`;
  }
  return hint;
}

/**
 * `set:` with its first entry left at its own column and the next entry indented right: the first entry is the slip,
 * pointed at, with the column of the entry after it.
 */
function firstEntryOffHint(first: { key: string; col: number; line: number }, next: { key: string; col: number }, parent: { key: string; line: number }): SyntaxHint {
  return {
    hint: `indent "${first.key}" on line ${first.line} like "${next.key}" (column ${next.col + 1}), with spaces: it belongs under "${parent.key}" on line ${parent.line}`,
    at: { line: first.line, col: first.col + 1 },
    message: 'All mapping items must start at the same column',
  };
}

function isBlankOrComment(line: string): boolean {
  return line.trim() === '' || line.trimStart().startsWith('#');
}

/** The spaces before a line's first character. */
function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

/** How many blank or comment lines are right above line `lineNo`. */
function blankRun(lines: readonly string[], lineNo: number): number {
  let n = 0;
  while (lineNo - 1 - n >= 1 && isBlankOrComment(lines[lineNo - 2 - n]!)) n++;
  return n;
}

/** The next line after `lineNo` that is not blank or a comment, with its indentation. */
function nextKeyLine(lines: readonly string[], lineNo: number): { col: number } | undefined {
  for (let n = lineNo + 1; n <= lines.length; n++) {
    const line = lines[n - 1]!;
    if (isBlankOrComment(line)) continue;
    return { col: indentOf(line) };
  }
  return undefined;
}

/** The key line above line `lineNo` (blank and comment lines skipped), and whether its value is empty (`set:`). */
function previousKeyLine(lines: readonly string[], lineNo: number): { key: string; col: number; line: number; empty: boolean } | undefined {
  for (let n = lineNo - 1; n >= 1; n--) {
    const line = lines[n - 1]!;
    if (isBlankOrComment(line)) continue;
    const key = keyOfLine(line);
    if (!key) return undefined;
    return { ...key, line: n, empty: /:\s*(#.*)?$/.test(line) };
  }
  return undefined;
}

function hintTo(here: { key: string; col: number }, like: { key: string; col: number; line: number }, lineNo: number): SyntaxHint | undefined {
  if (like.col === here.col) return undefined;
  return {
    hint: `indent "${here.key}" like "${like.key}" on line ${like.line} (column ${like.col + 1}), with spaces`,
    at: { line: lineNo, col: here.col + 1 },
    message: 'All mapping items must start at the same column',
  };
}

/** Keys whose value is text as written (not an expression): `"Step: " + [x]` there would be taken literally. */
const TEXT_KEYS: ReadonlySet<string> = new Set(['title', 'description', 'name', 'sql']);

/** `subject: Сделка: Поставка`: the second ": " makes YAML read a key inside the value; quoting keeps it text. */
function colonInValueHint(line: string): SyntaxHint | undefined {
  const kv = KEY_VALUE.exec(line);
  if (!kv) return undefined;
  const [, , key, written] = kv as unknown as [string, string, string, string];
  if (!/: /.test(written) || /^["'{[|>]/.test(written)) return undefined;
  // In a plain value " #" starts a comment: it stays a comment after the quoted value.
  const hash = written.indexOf(' #');
  const value = hash >= 0 ? written.slice(0, hash).trimEnd() : written;
  const comment = hash >= 0 ? `  ${written.slice(hash + 1)}` : '';
  if (!/: /.test(value)) return undefined;
  // A title, a description or a statement is text as written, not an expression: quoted whole, as it is meant.
  const joined = TEXT_KEYS.has(key.trim()) ? undefined : textJoinFix(value);
  if (joined !== undefined) {
    return { hint: `YAML reads ": " inside a value as a new key; quote the value, and its text for the expression: ${key}: ${yamlSingleQuoted(joined)}${comment}` };
  }
  return { hint: `YAML reads ": " inside a value as a new key; quote the value: ${key}: ${yamlSingleQuoted(value)}${comment}` };
}

/**
 * `Bad order: + [reason]`: unquoted text joined with + to a value. The fix quotes the text (with one space after a
 * label's colon, meant to part it from the value), when the value alone does not parse and the fix does.
 * Undefined when it is not that slip.
 */
export function textJoinFix(value: string): string | undefined {
  // A line break (a double-quoted "…\n…") or another control character would go into the hint's '…' as it is: pasted,
  // YAML folds or refuses it, so no whole value is offered for such a text.
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) return undefined;
  const m = /^([^"«»[\]()+]*?)(\s*)\+\s*(\S.*)$/s.exec(value.trim());
  if (!m || !/[^\s\d.,-]/.test(m[1]!) || !/[[(]/.test(m[3]!)) return undefined;
  const [, text, space, rest] = m as unknown as [string, string, string, string];
  if (parseExpression(value).ok) return undefined;
  // `Total: + [sum]` reads as a label and its value, so the space stays; `Кусок текста + [x]` joins without one.
  const fix = `"${text}${space.length > 0 && /[:;,—–-]$/.test(text) ? ' ' : ''}" + ${rest}`;
  return parseExpression(fix).ok ? fix : undefined;
}

/** Where a quoted value may start: at the start of a line's value, after `key: `, `- `, `{`, `[` or `,`. */
const VALUE_START = /(?:^|[:{[,]|^\s*-)\s*$/;

/**
 * The index on `line` just after the text quoted with `quote` that starts at `from` ends (`''` is a ' inside '…',
 * `\` escapes inside "…"), or -1 when it does not end on the line.
 */
function quotedEnd(line: string, from: number, quote: '"' | "'"): number {
  for (let i = from + 1; i < line.length; i++) {
    if (quote === '"' && line[i] === '\\') i++;
    else if (quote === "'" && line[i] === "'" && line[i + 1] === "'") i++;
    else if (line[i] === quote) return i + 1;
  }
  return -1;
}

/**
 * A value quoted with `quote` that is never closed: the last one opened on the lines up to `lineNo` that does not
 * close on its line (a quoted text may go on over lines, but then it closes on a later one, and this one did not).
 */
function unclosedQuoteHint(lines: readonly string[], lineNo: number, quote: '"' | "'"): SyntaxHint | undefined {
  let open: { line: number; col: number } | undefined;
  for (let n = 1; n <= Math.min(lineNo, lines.length); n++) {
    const text = lines[n - 1]!;
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) break;
      if ((c !== '"' && c !== "'") || !VALUE_START.test(text.slice(0, i))) continue;
      const end = quotedEnd(text, i, c);
      if (end < 0) {
        if (c === quote) open = { line: n, col: i + 1 };
        break;
      }
      i = end - 1;
    }
  }
  if (!open) return undefined;
  const inside = quote === "'" ? `a ' inside it is written ''` : `a " inside it is written \\"`;
  return {
    hint: `the ${quote} on line ${open.line} (column ${open.col}) starts a quoted text that is never closed: end it with ${quote} (${inside})`,
    at: open,
    message: `${quote} without its closing ${quote}`,
  };
}

/**
 * `'it's'`: YAML ends a single-quoted text at its second ', and what follows breaks the line; inside '…' a ' is
 * written ''. When the parser's error at `col` (from 0) comes right after such a quote, the line with each ' inside
 * the text doubled, the text running to the ' that ends the value.
 */
function apostropheHint(line: string, col: number): SyntaxHint | undefined {
  if (line[col - 1] !== "'" || !/[^\s,}\]#]/.test(line[col] ?? '')) return undefined;
  // The opening quote: the last ' before the error that starts a value.
  let from = -1;
  for (let i = col - 2; i >= 0; i--) {
    if (line[i] === "'" && VALUE_START.test(line.slice(0, i))) {
      from = i;
      break;
    }
  }
  if (from < 0) return undefined;
  // The quote that ends the value: the next ' followed by the end of the line, a comment, or the end of a { } or [ ] entry.
  let to = -1;
  for (let i = col; i < line.length; i++) {
    if (line[i] === "'" && /^\s*(?:$|[,}\]]|#)/.test(line.slice(i + 1))) {
      to = i;
      break;
    }
  }
  if (to < 0) return undefined;
  const fixed = line.slice(0, from) + yamlSingleQuoted(line.slice(from + 1, to).replaceAll("''", "'")) + line.slice(to + 1);
  return { hint: `inside '…' YAML reads a ' as the end of the text; write a ' inside it twice: ${fixed.trim().replace(/^-\s+/, '')}` };
}

/**
 * `- next` among a block's `key: value` lines: YAML cannot put a list item in a mapping. Name the line and the
 * mapping's own key (the first key above left of the dash: a key at the dash's column is one of the mapping's lines,
 * not its owner), or say it is the file's top level, and the two ways out.
 */
function listAmongKeysHint(lines: readonly string[], lineNo: number): SyntaxHint | undefined {
  const line = lines[lineNo - 1] ?? '';
  const dash = /^(\s*)-(?:\s|$)/.exec(line);
  if (!dash) return undefined;
  const col = dash[1]!.length;
  let owner = 'at the top level of the file';
  for (let n = lineNo - 1; n >= 1; n--) {
    const above = lines[n - 1]!;
    if (isBlankOrComment(above)) continue;
    const key = keyOfLine(above);
    if (!key || key.col >= col) continue;
    owner = `of "${key.key}" (line ${n})`;
    break;
  }
  return {
    hint: `line ${lineNo} ("${line.trim()}") is a list item among the "key: value" lines ${owner}: a list needs a key of its own, written alone on the line above the items (\`items:\`) with the items indented under it; or write the item as "key: value"`,
    at: { line: lineNo, col: col + 1 },
    message: 'a list item where a "key: value" line was expected',
  };
}

/** A line of a mapping that is no `key: value` and no `- item`: YAML takes it for the start of a key. */
function strayLineHint(line: string, lineNo: number): SyntaxHint | undefined {
  const text = line.trim();
  if (!text || text.includes(':') || text.startsWith('-') || text.startsWith('#')) return undefined;
  return { hint: `line ${lineNo} ("${text}") is neither "key: value" nor a list item "- …": remove it, or end a key with ":"` };
}

/**
 * A key indented further than the `key: value` line above it: YAML reads it as more of that value's text (`kind:
 * ReturnValue values: …`) and reports the line above. Point at the key instead, as for a key indented too little.
 */
function deeperKeyHint(lines: readonly string[], lineNo: number): SyntaxHint | undefined {
  const above = lines[lineNo - 1] ?? '';
  // The key of a list item (`- name: …`) is at the column after its `- `.
  const m = /^(\s*(?:-\s+)?)([^\s:#'"{[-][^\s:#]*)\s*:/.exec(above);
  if (!m) return undefined;
  const aboveIndent = m[1]!.length;
  const aboveKey = m[2]!;
  for (let n = lineNo + 1; n <= lines.length; n++) {
    const line = lines[n - 1]!;
    if (isBlankOrComment(line)) continue;
    const indent = indentOf(line);
    const key = /^\s*([^\s:#]+)\s*:/.exec(line)?.[1];
    if (indent <= aboveIndent || !key) return undefined;
    // `set:` with its first entry left at its own column and the next entry indented right: the first one is the slip.
    const parent = previousKeyLine(lines, lineNo);
    if (parent && parent.empty && parent.col === aboveIndent && !m[1]!.includes('-')) return firstEntryOffHint({ key: aboveKey, col: aboveIndent, line: lineNo }, { key, col: indent }, parent);
    return {
      hint: `indent "${key}" like "${aboveKey}" on line ${lineNo} (column ${aboveIndent + 1}), with spaces`,
      at: { line: n, col: indent + 1 },
      message: 'All mapping items must start at the same column',
    };
  }
  return undefined;
}

/** Index of the quote closing the double-quoted text that starts `value` (YAML escapes with \). */
function closingQuote(value: string): number {
  for (let i = 1; i < value.length; i++) {
    if (value[i] === '\\') i++;
    else if (value[i] === '"') return i;
  }
  return -1;
}

/** Index of the ] closing the [ that starts `value` (brackets inside the expression's quotes not counted), or -1. */
function closingBracket(value: string): number {
  let depth = 0;
  let quote = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '[') depth++;
    else if (c === ']' && --depth === 0) return i;
  }
  return -1;
}

/** The value without a trailing YAML comment: " #" after the last quote of the expression. */
function withoutComment(value: string, from: number): string {
  const lastQuote = value.lastIndexOf('"');
  const hash = value.indexOf(' #', Math.max(from, lastQuote));
  return (hash >= 0 ? value.slice(0, hash) : value).trimEnd();
}

/** A YAML single-quoted scalar: the only escape is '' for '. */
export function yamlSingleQuoted(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
