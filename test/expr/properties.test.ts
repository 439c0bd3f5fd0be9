// Property tests: parsing never throws and points inside the source; well-formed expressions evaluate or fail cleanly.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ExpressionRuntimeError, parseExpression } from '../../engine/expr/index.js';
import { createContext } from './fixed-context.js';

const ALPHABET = [...'[]()"\'«»,+-*/^=<>!&|; \t0123456789.abcxyzАБВабв_$\\'];

describe('parseExpression on arbitrary text', () => {
  it('never throws, and every error points inside the source', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (source) => {
        const r = parseExpression(source);
        if (!r.ok) {
          assert.equal(r.error.code, 'E_INVALID_EXPRESSION');
          assert.ok(r.error.offset >= 0 && r.error.offset <= source.length, `offset ${r.error.offset} outside ${source.length}`);
          assert.ok(r.error.offset + r.error.length <= source.length, 'span ends inside the source');
          assert.ok(r.error.message.length > 0);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on text made of expression characters', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...ALPHABET), { maxLength: 40 }).map((cs) => cs.join('')), (source) => {
        const r = parseExpression(source);
        if (!r.ok) {
          assert.ok(r.error.offset >= 0 && r.error.offset + r.error.length <= source.length);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

/** A small grammar of well-formed expressions over a few variables and functions. */
const { expr } = fc.letrec<{ expr: string; atom: string; call: string }>((tie) => ({
  atom: fc.oneof(
    fc.integer({ min: -1000, max: 1000 }).map(String),
    fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }).map((d) => String(Math.abs(d)).replace(/e.*$/, '')),
    fc.string({ maxLength: 6 }).filter((s) => !s.includes('"')).map((s) => `"${s}"`),
    fc.string({ maxLength: 6 }).filter((s) => !s.includes("'")).map((s) => `'${s}'`),
    fc.string({ maxLength: 6 }).filter((s) => !s.includes('»')).map((s) => `«${s}»`),
    fc.constantFrom('[n]', '[ s ]', '[date]', '[json]', '[empty]', '[Имя клиента]', '[missing]', 'true', 'false', 'Now()', 'Today()', 'InputParameter(2)'),
  ),
  call: fc.oneof(
    fc.tuple(fc.constantFrom('Num', 'Str', 'Length', 'Upper', 'Trim', 'Abs', 'Floor', 'Sqrt', 'Log10', 'Sin', 'IsEmpty', 'Digits', 'ToDate', 'JsonString', 'UrlEncode', 'HtmlEscape', 'Round'), tie('expr'))
      .map(([f, a]) => `${f}(${a})`),
    fc.tuple(fc.constantFrom('Contains', 'Left', 'Right', 'IndexOf', 'SubStr', 'Min', 'Max', 'Mod', 'AddDays', 'AddHours', 'IfEmpty', 'PadLeft'), tie('expr'), tie('expr'))
      .map(([f, a, b]) => `${f}(${a}, ${b})`),
    fc.tuple(fc.constantFrom('If', 'Replace', 'SubStr'), tie('expr'), tie('expr'), tie('expr')).map(([f, a, b, c]) => `${f}(${a}, ${b}, ${c})`),
    // Literal arguments checked at load time get valid literals (or a computed value, checked at run time).
    fc.tuple(fc.constantFrom('JsonGet', 'JsonCount'), tie('expr'), fc.constantFrom('"a"', '"a[2].b"', "'$.a[0]'", '""', '[s]', '[s] + ".."'))
      .map(([f, a, p]) => `${f}(${a}, ${p})`),
    fc.tuple(tie('expr'), fc.constantFrom('"dd.MM.yyyy"', '"HH:mm:ss.fff"', '"yy-M-d"', '[s]', '[s] + "hh"')).map(([a, f]) => `FormatDate(${a}, ${f})`),
    fc.tuple(fc.constantFrom('"days"', '"h"', '"ms"', '[s]'), tie('expr'), tie('expr')).map(([u, a, b]) => `DateDiff(${u}, ${a}, ${b})`),
  ),
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    tie('atom'),
    tie('atom'),
    tie('call'),
    fc.tuple(tie('expr'), fc.constantFrom('+', '-', '*', '/', '^', 'and', 'or', '&&', '||'), tie('expr')).map(([a, op, b]) => `${a} ${op} ${b}`),
    fc.tuple(tie('expr'), fc.constantFrom('=', '<>', '<', '>', '<=', '>=', '==', '!='), tie('expr')).map(([a, op, b]) => `(${a} ${op} ${b})`),
    tie('expr').map((a) => `(${a})`),
    tie('expr').map((a) => `-(${a})`),
    tie('expr').map((a) => `not (${a})`),
  ),
}));

describe('well-formed expressions', () => {
  const ctx = createContext(
    { n: 5, s: 'abc', date: new Date('2024-03-15T06:30:00Z'), json: '{"a":[1,2,{"b":"c"}]}', empty: '', 'Имя клиента': 'Пётр' },
    { params: { 2: '79001234567' } },
  );

  it('always parse, and evaluate to a value or an ExpressionRuntimeError', () => {
    fc.assert(
      fc.property(expr, (source) => {
        const r = parseExpression(source);
        assert.ok(r.ok, `${source}: ${r.ok ? '' : `${r.error.message} at ${r.error.offset}`}`);
        try {
          const v = r.expr.evaluate(ctx);
          assert.ok(v === null || ['string', 'number', 'boolean'].includes(typeof v) || v instanceof Date, `odd value ${String(v)}`);
          if (typeof v === 'number') assert.ok(Number.isFinite(v), `non-finite result of ${source}`);
        } catch (e) {
          assert.ok(e instanceof ExpressionRuntimeError, `${source} threw ${String(e)}`);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('give the same value on every evaluation of one compiled expression', () => {
    fc.assert(
      fc.property(expr, (source) => {
        const r = parseExpression(source);
        assert.ok(r.ok);
        const once = (): unknown => {
          try {
            return r.expr.evaluate(ctx);
          } catch (e) {
            return (e as Error).message;
          }
        };
        assert.deepEqual(once(), once());
      }),
      { numRuns: 500 },
    );
  });
});
