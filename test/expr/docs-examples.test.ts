// Runs every example table of docs/expressions.md against the engine, so the documentation cannot rot.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseDateText, formatDefault } from '../../engine/expr/date-time.js';
import { ExpressionRuntimeError, listFunctions, parseExpression } from '../../engine/expr/index.js';
import { numberToText, type Value } from '../../engine/values.js';
import { createContext, MOSCOW } from './fixed-context.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const doc = readFileSync(`${root}docs/expressions.md`, 'utf8');

/** Rows of every markdown table whose header starts with `first`, as arrays of unescaped cells. */
function tables(first: string): Array<{ line: number; cells: string[] }> {
  const rows: Array<{ line: number; cells: string[] }> = [];
  const lines = doc.split('\n');
  let inTable = false;
  lines.forEach((line, i) => {
    if (!line.startsWith('|')) {
      inTable = false;
      return;
    }
    const cells = line
      .slice(1, line.trimEnd().length - 1)
      .split(/(?<!\\)\|/)
      .map((c) => c.trim().replace(/\\\|/g, '|'));
    if (cells[0] === first) {
      inTable = true;
      return;
    }
    if (inTable && !/^-+$/.test(cells[0] ?? '')) rows.push({ line: i + 1, cells });
  });
  return rows;
}

function code(cell: string | undefined): string {
  assert.ok(cell && cell.startsWith('`') && cell.endsWith('`'), `expected a backticked cell, got ${cell}`);
  return cell.slice(1, -1);
}

/** A value as the docs print it. */
function printed(v: Value): string {
  if (typeof v === 'string') return `"${v}"`;
  if (typeof v === 'number') return numberToText(v);
  if (v instanceof Date) return formatDefault(v, MOSCOW);
  return String(v);
}

function contextFromDoc() {
  const variables: Record<string, Value> = {};
  const params: Record<number, Value> = {};
  let now: Date | undefined;
  for (const { cells } of tables('Name')) {
    const [nameCell, type, valueCell] = cells;
    const name = code(nameCell);
    const raw = code(valueCell);
    const value: Value =
      type === 'string' ? raw.slice(1, -1)
      : type === 'number' ? Number(raw)
      : type === 'datetime' ? parseDateText(raw, MOSCOW)!
      : raw;
    assert.ok(value !== undefined, `cannot read context value ${raw}`);
    if (name === 'Now()') now = value as Date;
    else if (name.startsWith('InputParameter(')) params[Number(name.slice(15, -1))] = value;
    else variables[name.slice(1, -1)] = value;
  }
  return createContext(variables, { params, ...(now ? { now } : {}) });
}

describe('docs/expressions.md examples', () => {
  const ctx = contextFromDoc();
  const examples = tables('Expression').filter((r) => r.cells.length === 2);
  const loadErrors = tables('Expression').filter((r) => r.cells.length === 3);

  it('documents a context with variables, an input parameter and a fixed Now()', () => {
    assert.equal(ctx.getVariable('name'), 'Иван');
    assert.equal(ctx.inputParameter(2), '79001234567');
    assert.equal(ctx.now().toISOString(), '2024-03-15T09:30:45.123Z');
  });

  it('has many examples, each run below', () => {
    assert.ok(examples.length > 100, `only ${examples.length} examples found`);
    assert.ok(loadErrors.length >= 10);
  });

  for (const { line, cells } of examples) {
    const source = code(cells[0]);
    const expected = code(cells[1]);
    it(`line ${line}: ${source} gives ${expected}`, () => {
      const parsed = parseExpression(source);
      assert.ok(parsed.ok, `syntax error: ${parsed.ok ? '' : parsed.error.message}`);
      if (expected.startsWith('error: ')) {
        assert.throws(() => parsed.expr.evaluate(ctx), (e: unknown) => {
          assert.ok(e instanceof ExpressionRuntimeError);
          assert.ok(e.message.startsWith(expected.slice(7)), `message was: ${e.message}`);
          return true;
        });
      } else {
        assert.equal(printed(parsed.expr.evaluate(ctx)), expected);
      }
    });
  }

  for (const { line, cells } of loadErrors) {
    const source = code(cells[0]);
    it(`line ${line}: ${source} is refused at load time with its message and hint`, () => {
      const parsed = parseExpression(source);
      assert.ok(!parsed.ok, 'expected a syntax error');
      assert.equal(parsed.error.message, code(cells[1]));
      assert.equal(parsed.error.hint, code(cells[2]));
    });
  }

  it('shows every function in at least one example', () => {
    const used = new Set<string>();
    for (const { cells } of examples) {
      const p = parseExpression(code(cells[0]));
      if (p.ok) p.expr.functions.forEach((f) => used.add(f));
    }
    const missing = listFunctions().map((f) => f.name).filter((n) => !used.has(n));
    assert.deepEqual(missing, []);
  });

  it('lists every function in the function table', () => {
    const missing = listFunctions().filter((f) => !doc.includes(`\`${f.name}`) && !doc.includes(` \`${f.name}\``) && !doc.includes(`${f.name}\``));
    assert.deepEqual(missing.map((f) => f.name), []);
  });
});
