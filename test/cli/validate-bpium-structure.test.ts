// `oktell-emu validate` warns when a Bpium `filters` or `values` entry is a plain string variable (review security35,
// L3): the block sends text that looks like a JSON array or object as structure, so text from a request could widen
// a filter or point a linked field elsewhere. The warning names file:line:col and the ways out; a json or number
// variable, a literal, text written around the variable, and the suggested filtersJson/valuesJson with JsonString do
// not warn. `InputParameter(n)` (or an alias) as the whole entry is request text just the same and warns alike.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { bpiumScenario as scenario } from '../warning-scenarios.helper.js';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

function validate(text: string): { code: number | null; stdout: string; warnings: string[] } {
  const tmp = tempDir();
  try {
    mkdirSync(join(tmp.dir, 'scenarios'));
    writeFileSync(join(tmp.dir, 'scenarios', 'Find.yaml'), text);
    const r = runCli(['validate'], { cwd: tmp.dir, env: { NO_COLOR: '1' } });
    const json = JSON.parse(runCli(['validate', '--json'], { cwd: tmp.dir }).stdout) as { warnings?: string[] };
    return { code: r.code, stdout: r.stdout + r.stderr, warnings: json.warnings ?? [] };
  } finally {
    tmp.cleanup();
  }
}

const FILTER_EFFECT = 'sent to Bpium as query structure, not as one value, so whoever supplies that text (a webhook, a parameter) can widen or rewrite the filter';
const VALUE_EFFECT = 'sent to Bpium as field structure, not as text, so whoever supplies that text (a webhook, a parameter) can set the field to records or users of their choice';
const warning = (at: string, property: 'filters' | 'values', field: string, effect: string) => {
  const whole = property === 'filters' ? 'filtersJson' : 'valuesJson';
  return (
    `scenarios/Find.yaml:${at}: block find of Find: ${property} entry ${field} is [userId], a string variable; text in it that looks like a JSON array or object (["1","2"], {"$or": …}) is ${effect}: ` +
    `declare userId as json if it is meant to hold structure (several ids, linked records), as number if it holds one numeric id; if it is text, give the whole ${property} as ${whole} and the value with JsonString, ` +
    `e.g. ${whole}: '«{"${field}": » + JsonString([userId]) + «}»', which Bpium gets as the text itself`
  );
};

/** The same warning for a start parameter read directly (`expression`, as written): request text as the run got it. */
const parameterWarning = (at: string, property: 'filters' | 'values', field: string, effect: string, expression: string) => {
  const whole = property === 'filters' ? 'filtersJson' : 'valuesJson';
  return (
    `scenarios/Find.yaml:${at}: block find of Find: ${property} entry ${field} is ${expression}, a start parameter as the run got it (request text); text in it that looks like a JSON array or object (["1","2"], {"$or": …}) is ${effect}: ` +
    `set it into a json variable (a Variable block) and give that if it is meant to hold structure (several ids, linked records), into a number variable if it holds one numeric id; if it is text, give the whole ${property} as ${whole} and the value with JsonString, ` +
    `e.g. ${whole}: '«{"${field}": » + JsonString(${expression}) + «}»', which Bpium gets as the text itself`
  );
};

const CASES: Array<{ name: string; method: string; props: string; warnings: string[] }> = [
  { name: 'a filter on a string variable', method: 'findRecord', props: `filters: { 4: '[userId]' }`, warnings: [warning('8:19', 'filters', '4', FILTER_EFFECT)] },
  { name: 'the same, spaced, in block form, beside a safe entry', method: 'findRecord', props: `filters:\n  2: '"open"'\n  4: '[ userId ]'`, warnings: [warning('10:10', 'filters', '4', FILTER_EFFECT)] },
  { name: 'a value of a string variable', method: 'createRecord', props: `values: { 5: '[userId]', 2: '"Задача"' }`, warnings: [warning('8:18', 'values', '5', VALUE_EFFECT)] },
  { name: 'an updateRecord value keyed by field name', method: 'updateRecord', props: `record: '"7"'\nvalues: { Ответственный: '[userId]' }`, warnings: [warning('9:30', 'values', 'Ответственный', VALUE_EFFECT)] },
  { name: 'a json variable: structure on purpose', method: 'findRecord', props: `filters: { 4: '[ids]' }`, warnings: [] },
  { name: 'a number variable', method: 'findRecord', props: `filters: { 4: '[userNumber]' }`, warnings: [] },
  { name: 'a literal', method: 'createRecord', props: `values: { 4: '«[{"id":"2"}]»' }`, warnings: [] },
  { name: 'text written around the variable', method: 'createRecord', props: `values: { 2: '"Задача от " + [userId]' }`, warnings: [] },
  { name: 'the suggested filtersJson', method: 'findRecord', props: `filtersJson: '«{"4": » + JsonString([userId]) + «}»'`, warnings: [] },
  { name: 'the suggested valuesJson', method: 'createRecord', props: `valuesJson: '«{"5": » + JsonString([userId]) + «}»'`, warnings: [] },
  { name: 'a filter on InputParameter(1)', method: 'findRecord', props: `filters: { 4: 'InputParameter(1)' }`, warnings: [parameterWarning('8:19', 'filters', '4', FILTER_EFFECT, 'InputParameter(1)')] },
  { name: 'a value of the Russian alias, spaced', method: 'createRecord', props: `values: { 5: ' ВходнойПараметр( 2 ) ', 2: '"Задача"' }`, warnings: [parameterWarning('8:18', 'values', '5', VALUE_EFFECT, 'ВходнойПараметр( 2 )')] },
  { name: 'the alias with a space, keyed by field name', method: 'updateRecord', props: `record: '"7"'\nvalues: { Ответственный: 'Входной параметр(1)' }`, warnings: [parameterWarning('9:30', 'values', 'Ответственный', VALUE_EFFECT, 'Входной параметр(1)')] },
  { name: 'a parameter whose number is a variable', method: 'findRecord', props: `filters: { 4: 'InputParameter([userNumber])' }`, warnings: [parameterWarning('8:19', 'filters', '4', FILTER_EFFECT, 'InputParameter([userNumber])')] },
  { name: 'text written around a parameter', method: 'createRecord', props: `values: { 2: '"Задача от " + InputParameter(1)' }`, warnings: [] },
  { name: 'a parameter through another function', method: 'findRecord', props: `filters: { 4: 'Trim(InputParameter(1))' }`, warnings: [] },
  { name: 'the suggested filtersJson with a parameter', method: 'findRecord', props: `filtersJson: '«{"4": » + JsonString(InputParameter(1)) + «}»'`, warnings: [] },
];

describe('oktell-emu validate: Bpium filters and values that request text could turn into structure', () => {
  for (const c of CASES) {
    it(`${c.name}: ${c.warnings.length ? 'a warning with its place and the fix' : 'no warning'}; the file is valid`, () => {
      const r = validate(scenario(c.method, c.props));
      assert.equal(r.code, 0, r.stdout);
      assert.match(r.stdout, /^✓ 1 scenario file\(s\) valid$/m);
      assert.deepEqual(r.warnings, c.warnings);
      for (const w of c.warnings) assert.ok(r.stdout.includes(`warning: ${w}\n`), r.stdout);
    });
  }
});
