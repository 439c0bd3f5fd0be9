// YAML reads `+79001234567`, `012345` and `12345678901234567890` as numbers before any expression sees them, so a
// phone number, a postcode or an ID typed without quotes would silently lose its "+", its leading zeros or its last
// digits. The source text of the scalar is still known: when the number it became does not give that text back, the
// value is refused with the quoted form to paste.
import type { VarType } from './values.js';

export interface LostNumber {
  message: string;
  hint: string;
}

/** Significant digits a number keeps exactly (IEEE double, as the expressions print them). */
const EXACT_DIGITS = 15;

/**
 * What YAML's reading of `source` as `value` loses, when it matters. `expects` is the type the value is stored as,
 * when known: a number variable keeps 007 as 7 on purpose, a string variable needs the text as written. Elsewhere
 * (a WebRequest query or JSON body, a ReturnValue, a comparison) a leading "+" or zero is surely text.
 */
export function lostNumber(source: string, value: number, expects?: VarType): LostNumber | undefined {
  const text = source.trim();
  const printed = String(value);
  if (text === printed) return undefined;
  // A YAML number's text has no quote of its own, so it can be wrapped as it is.
  const quoted = `'"${text}"'`;
  const plain = /^[-+]?\d+(\.\d+)?$/.test(text);
  const what = (lost: string, numberToo = true) => ({
    message: `${text} is read by YAML as the number ${printed}: ${lost}`,
    hint:
      expects === 'number' ? `if it is an ID or a phone number, keep it as text: declare a string variable and write ${quoted}`
      : `for text write ${quoted}${numberToo ? `; for the number write ${printed}` : ''}`,
  });
  if (plain && significantDigits(text) > EXACT_DIGITS) return what(`a number keeps only ${EXACT_DIGITS} significant digits, so the digits after them are lost`, false);
  if (expects === 'number' || expects === 'datetime') return undefined;
  if (plain && text.startsWith('+')) return what('the "+" is lost');
  if (plain && /^-?0\d/.test(text)) return what('the leading zeros are lost');
  if (expects === 'string') return what('the text is not kept as written');
  return undefined;
}

function significantDigits(text: string): number {
  const digits = text.replace(/^[-+]/, '').replace('.', '');
  const fraction = text.includes('.') ? text.split('.')[1]! : '';
  // Leading zeros never count; trailing zeros of a whole number count (12345678901234567890 needs every one).
  const trimmed = digits.replace(/^0+/, '');
  return fraction ? trimmed.replace(/0+$/, '').length : trimmed.length;
}
