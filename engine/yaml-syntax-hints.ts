// The YAML parser speaks its own jargon ("Unexpected scalar at node end", "Block scalar header includes extra
// characters"). For the slips integrators make most often when they type expressions into YAML, the line at fault
// tells what was meant, and the hint proposes the line to paste instead.
import type { SourceLocation } from './errors.js';

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
  if (/^Nested mappings are not allowed in compact mappings/.test(message)) return deeperKeyHint(lines, loc.line);
  const kv = KEY_VALUE.exec(line);
  if (!kv) return undefined;
  const [, , key, value] = kv as unknown as [string, string, string, string];
  if (/^Block scalar header includes extra characters/.test(message) && /^[>|]/.test(value)) {
    return {
      hint: `YAML reads a value starting with ${value[0]} as a block of text; quote it: ${key}: ${singleQuoted(value)}`,
    };
  }
  if (/^Unexpected .* at node end/.test(message) && value.startsWith('"')) {
    const close = closingQuote(value);
    if (close > 0 && close < value.length - 1) {
      const expression = withoutComment(value, close);
      return {
        hint: `YAML ends a value that starts with " at its closing quote; wrap the whole expression in single quotes: ${key}: ${singleQuoted(expression)}`,
      };
    }
  }
  return undefined;
}

/** A mapping item indented differently from the item above it: say which column the mapping's items are at. */
function indentHint(lines: readonly string[], lineNo: number): SyntaxHint | undefined {
  const line = lines[lineNo - 1] ?? '';
  const indent = line.length - line.trimStart().length;
  const key = /^\s*([^\s:#]+)\s*:/.exec(line)?.[1];
  for (let n = lineNo - 1; n >= 1; n--) {
    const above = lines[n - 1]!;
    if (above.trim() === '' || above.trimStart().startsWith('#')) continue;
    const aboveIndent = above.length - above.trimStart().length;
    const aboveKey = /^\s*([^\s:#]+)\s*:/.exec(above)?.[1];
    if (aboveIndent === indent || !aboveKey || !key) return undefined;
    return {
      hint: `indent "${key}" like "${aboveKey}" on line ${n} (column ${aboveIndent + 1}), with spaces`,
      at: { line: lineNo, col: indent + 1 },
    };
  }
  return undefined;
}

/**
 * A key indented further than the `key: value` line above it: YAML reads it as more of that value's text (`kind:
 * ReturnValue values: …`) and reports the line above. Point at the key instead, as for a key indented too little.
 */
function deeperKeyHint(lines: readonly string[], lineNo: number): SyntaxHint | undefined {
  const above = lines[lineNo - 1] ?? '';
  const aboveIndent = above.length - above.trimStart().length;
  const aboveKey = /^\s*([^\s:#'"{[-][^\s:#]*)\s*:/.exec(above)?.[1];
  if (!aboveKey) return undefined;
  for (let n = lineNo + 1; n <= lines.length; n++) {
    const line = lines[n - 1]!;
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const indent = line.length - line.trimStart().length;
    const key = /^\s*([^\s:#]+)\s*:/.exec(line)?.[1];
    if (indent <= aboveIndent || !key) return undefined;
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

/** The value without a trailing YAML comment: " #" after the last quote of the expression. */
function withoutComment(value: string, from: number): string {
  const lastQuote = value.lastIndexOf('"');
  const hash = value.indexOf(' #', Math.max(from, lastQuote));
  return (hash >= 0 ? value.slice(0, hash) : value).trimEnd();
}

function singleQuoted(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
