// How `run` prints values for a person: the scenario's own text rule (dates as dd.MM.yyyy HH:mm:ss in the run's time
// zone, numbers without float noise or invented digits), text in quotes; `--json` keeps the raw values.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { printRun } from '../../cli/format.js';
import type { RunResult, Value } from '../../engine/index.js';

function printed(values: Record<string, Value>, timeZone: string): string {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  const child = { runId: 'c1', scenario: 'Child', version: 'v', status: 'completed', returnValues: values, variables: {}, mails: [], bpiumCalls: [], asyncStarted: [], trace: [], steps: 0, startedAt: '2026-12-01T00:00:00Z', durationMs: 1 };
  const run = {
    ...child,
    runId: 'r1',
    scenario: 'S',
    trace: [{ step: 1, scenario: 'S', block: 'r', kind: 'ReturnValue', exit: 'next', ms: 0, changed: values }],
    asyncStarted: [{ block: 'r', scenario: 'Child', params: {}, result: child }],
  } as unknown as RunResult;
  printRun(run, out, 0, timeZone);
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[\d+m/g, '');
}

describe('run output: values', () => {
  const cases: Array<[string, Value, string, string]> = [
    ['a date in the run\'s zone, as its text form', new Date('2024-03-16T06:30:00Z'), 'Europe/Moscow', 'x=16.03.2024 09:30:00'],
    ['the same instant in another zone', new Date('2024-03-16T06:30:00Z'), 'Asia/Vladivostok', 'x=16.03.2024 16:30:00'],
    ['a decimal without float noise', 0.1 * 3, 'UTC', 'x=0.3'],
    ['an integer beyond 2^53 without invented digits', 123456789012345678, 'UTC', 'x=1.23456789012346e+17'],
    ['text in quotes', 'Иван', 'UTC', 'x="Иван"'],
    ['a boolean bare', true, 'UTC', 'x=true'],
    ['the empty value', null, 'UTC', 'x=null'],
  ];
  for (const [name, value, zone, expected] of cases) {
    it(name, () => {
      const text = printed({ x: value }, zone);
      const lines = text.split('\n');
      assert.ok(lines.some((l) => l.includes(`ReturnValue → next ${expected}`)), text);
      assert.ok(lines.some((l) => /^\s*return values /.test(l) && l.endsWith(` ${expected}`)), text);
      // A started child's values use the same zone.
      assert.equal(lines.filter((l) => /return values /.test(l) && l.endsWith(` ${expected}`)).length, 2, text);
    });
  }
});
