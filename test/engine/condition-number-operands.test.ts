// A Condition's operand given as a YAML number (`right: 0.0000001`) is compared as the number written. The block
// joins its operands into one expression, and a small or large number turned into text the JavaScript way is in
// exponent form (1e-7), which expressions refuse: the scenario was refused with the hint to write 0.0000001, which it
// already did.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultRegistry } from '../../components/registry.js';
import fc from 'fast-check';
import { fixedClock, loadScenarioText, numberSource, parseExpression, randomIds, runScenario, type Scenario } from '../../engine/index.js';

const scenario = (a: string, right: string) => `variables:
  a: { type: number, initial: ${a} }
blocks:
  start: { kind: Start, exits: { next: c } }
  c:
    kind: Condition
    left: "[a]"
    operator: ">"
    right: ${right}
    exits: { true: yes, false: no }
  yes: { kind: ReturnValue, values: { 1: '"greater"' }, exits: { next: done } }
  no: { kind: ReturnValue, values: { 1: '"not greater"' }, exits: { next: done } }
  done: { kind: Stop }
`;

describe('a Condition operand written as a YAML number', () => {
  const rows: Array<[a: string, right: string, expected: string]> = [
    ['0.0000002', '0.0000001', 'greater'],
    ['0.00000005', '0.0000001', 'not greater'],
    ['0.0000002', '1.5e-7', 'greater'],
    ['-0.0000002', '-0.0000001', 'not greater'],
    ['0', '-0.0000001', 'greater'],
    ['5', '1e21', 'not greater'],
    ['3', '2.5', 'greater'],
  ];
  for (const [a, right, expected] of rows) {
    it(`[a] = ${a} > right: ${right} is "${expected}"`, async () => {
      const loaded = loadScenarioText('Cmp.yaml', scenario(a, right), { registry: defaultRegistry });
      assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.issues));
      const scenarios = new Map<string, Scenario>([[loaded.scenario.name, loaded.scenario]]);
      const r = await runScenario({ dir: '.', scenarios, issues: [] }, 'Cmp', {
        ports: { clock: fixedClock(new Date('2026-12-01T09:00:00Z')), ids: randomIds, asyncStarter: { start: async () => ({ runId: 'x' }) } },
      });
      assert.equal(r.status, 'completed', JSON.stringify(r.error));
      assert.equal(r.returnValues[1], expected);
    });
  }

  it('numberSource writes a number in the plain digits an expression reads back as the same number', () => {
    for (const [n, text] of [[1e-7, '0.0000001'], [-1.5e-7, '-0.00000015'], [1e21, '1000000000000000000000'], [42, '42'], [-0.5, '-0.5']] as const) {
      assert.equal(numberSource(n), text);
      assert.equal(Number(numberSource(n)), n);
    }
    assert.equal(numberSource(1e-300), 'Num("1e-300")', 'too long to write out: read from its text by Num');
  });

  it('numberSource gives, for any finite number, an expression whose value is that number (property)', () => {
    const ctx = { getVariable: () => null, inputParameter: () => '', now: () => new Date(0), timeZone: 'UTC', substrBase: 0 as const };
    const check = (d: number) => {
      const parsed = parseExpression(numberSource(d));
      assert.ok(parsed.ok, `${d} as ${numberSource(d)}: ${!parsed.ok && parsed.error.message}`);
      assert.ok(parsed.expr.constant);
      assert.equal(parsed.expr.evaluate(ctx), d === 0 ? 0 : d);
    };
    for (const d of [1e-40, -1.5e30, 123456789012345680000, 86176556798438700, 5e-324, -Number.MAX_VALUE, 3.3433439736894235e-13]) check(d);
    fc.assert(fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (d) => check(d)), { numRuns: 5000 });
    fc.assert(fc.property(fc.integer({ min: -30, max: 30 }), fc.integer({ min: 1, max: 17 }), fc.double({ min: 1, max: 9.99, noNaN: true }), (e, p, m) => check(Number(m.toPrecision(p)) * 10 ** e)), { numRuns: 5000 });
  });

  it('a Condition operand 1.5e30 or 1e-40 (YAML numbers) is compared as that number', async () => {
    for (const [a, right, expected] of [['2e30', '1.5e30', 'greater'], ['1e30', '1.5e30', 'not greater'], ['0', '1e-40', 'not greater'], ['1e-30', '1e-40', 'greater']]) {
      const loaded = loadScenarioText('Cmp.yaml', scenario(a!, right!), { registry: defaultRegistry });
      assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.issues));
      const scenarios = new Map<string, Scenario>([[loaded.scenario.name, loaded.scenario]]);
      const r = await runScenario({ dir: '.', scenarios, issues: [] }, 'Cmp', {
        ports: { clock: fixedClock(new Date('2026-12-01T09:00:00Z')), ids: randomIds, asyncStarter: { start: async () => ({ runId: 'x' }) } },
      });
      assert.equal(r.status, 'completed', JSON.stringify(r.error));
      assert.equal(r.returnValues[1], expected, `${a} > ${right}`);
    }
  });
});
