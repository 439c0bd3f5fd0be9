// Math functions: rounding, absolute value, min/max, remainder, roots, logarithms, trigonometry.
import { ExpressionRuntimeError } from '../runtime-error.js';
import { defineFunction, finite, int, literal, num, type FunctionDef } from './function-def.js';

/** Rounds half away from zero (2.5 → 3, -2.5 → -3), tolerant of binary noise (1.005 → 1.01). */
export function roundHalfAwayFromZero(x: number, digits: number): number {
  // A number with no fraction left at that scale (2^52 and beyond) is its own rounding: scaling it would only add
  // noise (Round(1e20, 2) was 100000000000000020000) or overflow (Round(1e300, 15) failed as "not finite").
  const scaled = digits >= 0 ? Math.abs(x) * 10 ** digits : Math.abs(x) / 10 ** -digits;
  if (!(scaled < 2 ** 52)) return x === 0 ? 0 : x;
  const a = Math.abs(x) * (1 + Number.EPSILON);
  const r = digits >= 0
    ? (Math.round(a * 10 ** digits) / 10 ** digits) * Math.sign(x)
    : Math.round(a / 10 ** -digits) * 10 ** -digits * Math.sign(x);
  return r === 0 ? 0 : r;
}

function unary(name: string, description: string, fn: (x: number) => number, aliases: string[] = [], domain?: (x: number) => string | undefined): FunctionDef {
  return defineFunction({
    name, aliases, signature: `${name}(number)`, minArgs: 1, maxArgs: 1, description,
    call: (_ctx, v) => {
      const x = num(v!, name);
      const bad = domain?.(x);
      if (bad) throw new ExpressionRuntimeError(name, bad);
      return finite(fn(x), name, `result of ${name}(${x}) is not a finite number`);
    },
  });
}

function extreme(name: 'Min' | 'Max', pick: (a: number, b: number) => number): FunctionDef {
  return defineFunction({
    name, signature: `${name}(number, …)`, minArgs: 1, maxArgs: Infinity,
    description: `The ${name === 'Min' ? 'smallest' : 'largest'} of the numbers.`,
    call: (_ctx, ...xs) => {
      let best = num(xs[0]!, name);
      for (let i = 1; i < xs.length; i++) best = pick(best, num(xs[i]!, name));
      return best;
    },
  });
}

export const MATH_FUNCTIONS: FunctionDef[] = [
  defineFunction({
    name: 'Round', signature: 'Round(number, digits?)', minArgs: 1, maxArgs: 2,
    description: 'Rounds half away from zero to digits decimal places (default 0; negative digits round to tens, hundreds…).',
    check: (args) => {
      const d = literal(args[1]);
      return typeof d === 'number' && (!Number.isInteger(d) || Math.abs(d) > 15)
        ? { arg: 1, message: `Round: digits must be a whole number from -15 to 15, got ${d}`, hint: 'e.g. Round([sum], 2)' }
        : undefined;
    },
    call: (_ctx, v, digits) => {
      const x = num(v!, 'Round');
      const d = digits === undefined ? 0 : int(digits, 'Round');
      if (Math.abs(d) > 15) throw new ExpressionRuntimeError('Round', `digits must be from -15 to 15, got ${d}`);
      return finite(roundHalfAwayFromZero(x, d), 'Round', 'the result is not a finite number');
    },
  }),
  unary('Abs', 'Absolute value.', Math.abs),
  unary('Floor', 'Largest whole number not greater than the number.', Math.floor),
  unary('Ceil', 'Smallest whole number not less than the number.', Math.ceil, ['Ceiling']),
  extreme('Min', Math.min),
  extreme('Max', Math.max),
  defineFunction({
    name: 'Mod', signature: 'Mod(number, divisor)', minArgs: 2, maxArgs: 2,
    description: 'Remainder of the division (takes the sign of the number).',
    call: (_ctx, a, b) => {
      const d = num(b!, 'Mod');
      if (d === 0) throw new ExpressionRuntimeError('Mod', 'division by zero');
      return num(a!, 'Mod') % d;
    },
  }),
  unary('Sqrt', 'Square root.', Math.sqrt, [], (x) => (x < 0 ? `cannot take the square root of a negative number (${x})` : undefined)),
  unary('Log10', 'Decimal logarithm.', Math.log10, [], (x) => (x <= 0 ? `the logarithm needs a number greater than 0, got ${x}` : undefined)),
  unary('Sin', 'Sine of an angle in radians.', Math.sin),
  unary('Cos', 'Cosine of an angle in radians.', Math.cos),
];
