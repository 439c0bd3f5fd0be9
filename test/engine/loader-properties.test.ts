// Properties of the scenario loader (fast-check): no text crashes loadScenarioText — arbitrary text, YAML-ish token
// soup, or a shipped scenario mutated at random — and every issue it reports carries a file, a line and a column ≥ 1,
// a known code and a message.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioText, SCENARIO_ERROR_CODES, type LoadResult } from '../../engine/index.js';
import { repoPath } from '../helpers.js';

const CODES = new Set<string>(Object.values(SCENARIO_ERROR_CODES));
const FILE = 'Prop.yaml';

/** Loads and checks the shape of the answer; returns it for further checks. */
function loadChecked(text: string): LoadResult {
  const r = loadScenarioText(FILE, text, { registry: defaultRegistry });
  if (r.ok) return r;
  assert.ok(r.issues.length > 0, 'a refusal names at least one problem');
  const lines = text.split(/\r\n|\r|\n/).length;
  for (const i of r.issues) {
    assert.equal(i.file, FILE);
    assert.ok(CODES.has(i.code), `known code: ${i.code}`);
    assert.ok(Number.isInteger(i.line) && i.line >= 1 && i.line <= lines + 1, `line ${i.line} of ${lines}`);
    assert.ok(Number.isInteger(i.col) && i.col >= 1, `column ${i.col}`);
    assert.equal(typeof i.message, 'string');
    assert.ok(i.message.length > 0);
  }
  return r;
}

const TOKENS = [
  ':', ': ', '-', '- ', ' ', '  ', '\n', '\n  ', '\n    ', '\t', '{', '}', '[', ']', ',', '"', "'", '#', '&a ', '*a', '!!str ', '!!map ', '|', '>', '?', '%', '@', '`',
  'variables', 'start', 'blocks', 'kind', 'exits', 'next', 'true', 'false', 'set', 'values', 'expression', 'description', 'name',
  'Start', 'Stop', 'Variable', 'Condition', 'ReturnValue', 'Parser', 'AsyncScenario', 'SendMail', 'Bpium', 'InputParameter',
  'string', 'number', 'json', 'datetime', 'a', 'b', '1', '0', '-1', '1e999', 'null', '~', '[a]', '[a] + 1', 'Upper(', ')', '"x"', '$.a[0]', 'Contains([a], "x")',
  '__proto__', 'constructor', 'toString', '\u0000', '\uFEFF', 'я', '\u{1F600}',
];

const yamlish = fc.array(fc.constantFrom(...TOKENS), { maxLength: 80 }).map((t) => t.join(''));

const SHIPPED = ['HTTP404.yaml', 'BpiumNewTask.yaml', 'BpiumTaskChat.yaml'].map((f) => readFileSync(repoPath('scenarios', f), 'utf8'));

/** One random edit of a text: cut a span, insert a token, duplicate or drop a line, or swap two lines. */
const mutation = fc.oneof(
  fc.record({ op: fc.constant('cut' as const), at: fc.nat(), len: fc.nat({ max: 40 }) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), token: fc.constantFrom(...TOKENS) }),
  fc.record({ op: fc.constant('dupLine' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('dropLine' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('swapLines' as const), at: fc.nat(), with: fc.nat() }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(text: string, m: Mutation): string {
  if (m.op === 'cut') {
    const at = m.at % (text.length + 1);
    return text.slice(0, at) + text.slice(at + m.len);
  }
  if (m.op === 'insert') {
    const at = m.at % (text.length + 1);
    return text.slice(0, at) + m.token + text.slice(at);
  }
  const lines = text.split('\n');
  const i = m.at % lines.length;
  if (m.op === 'dupLine') lines.splice(i, 0, lines[i]!);
  else if (m.op === 'dropLine') lines.splice(i, 1);
  else {
    const j = m.with % lines.length;
    [lines[i], lines[j]] = [lines[j]!, lines[i]!];
  }
  return lines.join('\n');
}

describe('scenario loader properties', () => {
  it('never throws on arbitrary text, and every issue has a location and a code', { timeout: 60_000 }, () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => {
        loadChecked(text);
      }),
      { numRuns: 400 },
    );
  });

  it('never throws on YAML-ish token soup, and every issue has a location and a code', { timeout: 60_000 }, () => {
    fc.assert(
      fc.property(yamlish, (text) => {
        loadChecked(text);
      }),
      { numRuns: 800 },
    );
  });

  it('never throws on a shipped scenario edited at random, and every issue has a location and a code', { timeout: 90_000 }, () => {
    fc.assert(
      fc.property(fc.constantFrom(...SHIPPED), fc.array(mutation, { minLength: 1, maxLength: 4 }), (text, edits) => {
        loadChecked(edits.reduce(mutate, text));
      }),
      { numRuns: 500 },
    );
  });

  it('loads the shipped scenarios unchanged (the mutations start from valid files)', () => {
    for (const text of SHIPPED) assert.equal(loadChecked(text).ok, true);
  });
});
