// Phone numbers and dates typed without quotes: `8-800-555-35-35` and `2024-03-15` are valid arithmetic
// (8 - 800 - 555 - 35 - 35 = -1417), so without this check they would silently compute instead of being text.
// Digit groups joined by "-" (or dates by "/") with no spaces around the operator are read as text typed without
// quotes and refused with the quoted form as the fix; subtraction written with spaces (`10 - 5`) is untouched.
import type { Token } from './lexer.js';
import { quotedText, shownText, syntaxError, type ExpressionSyntaxError } from './syntax-error.js';

/** A run of number tokens joined by one operator with nothing between them: `8-800-555`, `15/03/2024`. */
interface Chain {
  start: number;
  end: number;
  op: '-' | '/';
  groups: number;
}

/**
 * The first chain of digit groups that is most likely text: the whole expression (`8-800-555-35-35`, `+7-900-…`,
 * `12-5`, `15/03/2024`), or, inside a longer expression, three or more groups joined by "-" (`2024-03-15`).
 */
export function digitGroupsAsText(source: string, tokens: readonly Token[]): ExpressionSyntaxError | undefined {
  const body = tokens.filter((t) => t.kind !== 'eof');
  for (const chain of chains(source, body)) {
    const whole = chain.start === body[0]!.start && chain.end === body[body.length - 1]!.end;
    const likelyText = chain.op === '-' ? (whole ? chain.groups >= 2 : chain.groups >= 3) : whole && chain.groups >= 3;
    if (!likelyText) continue;
    const text = source.slice(chain.start, chain.end);
    const spaced = text.replace(/^\+/, '').replaceAll(chain.op, ` ${chain.op} `);
    const as = chain.op === '-' ? 'a subtraction' : 'a division';
    const groups = text.replace(/^\+/, '').split(chain.op).map(Number);
    const result = chain.op === '-' ? ` = ${groups.reduce((a, b) => a - b)}` : '';
    return syntaxError(
      `${shownText(text)} is read as ${as}, ${shownText(spaced)}${result}; digits joined by "${chain.op}" are most often a phone number or a date`,
      chain.start,
      chain.end - chain.start,
      `if it is text, quote it: ${quotedText(text)}; if you mean ${as}, put spaces around "${chain.op}": ${shownText(spaced)}`,
      whole ? `"${text}"` : undefined,
    );
  }
  return undefined;
}

function chains(source: string, tokens: readonly Token[]): Chain[] {
  const found: Chain[] = [];
  const isDigits = (t: Token | undefined): t is Token => t?.kind === 'number' && /^\d+$/.test(source.slice(t.start, t.end));
  let i = 0;
  while (i < tokens.length) {
    const first = tokens[i]!;
    // A leading "+" touching the first group belongs to a phone number (+7-900-…).
    const plus = first.kind === 'op' && first.op === '+' && i === 0 && isDigits(tokens[1]) && tokens[1].start === first.end;
    const head = plus ? tokens[1] : first;
    if (!isDigits(head)) {
      i++;
      continue;
    }
    // The head's own index (not tokens.indexOf(head), a search from the start for every number: quadratic in a long
    // expression of numbers, seconds at load time for 100,000 of them).
    let j = plus ? i + 1 : i;
    let op: '-' | '/' | undefined;
    let groups = 1;
    for (;;) {
      const o = tokens[j + 1];
      const next = tokens[j + 2];
      if (o?.kind !== 'op' || (o.op !== '-' && o.op !== '/') || (op && o.op !== op)) break;
      if (o.start !== tokens[j]!.end || !isDigits(next) || next.start !== o.end) break;
      op = o.op;
      groups++;
      j += 2;
    }
    if (op) found.push({ start: first.start, end: tokens[j]!.end, op, groups });
    i = j + 1;
  }
  return found;
}
