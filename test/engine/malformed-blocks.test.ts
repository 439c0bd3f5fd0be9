// Every block kind, every property given a value of the wrong shape in turn, and every required property left out:
// the loader compiles a block from its well-formed part even when its schema check failed (CompileContext.omitted),
// so a compile function written for schema-valid input meets partial input here. Loading must never throw or turn a
// compile crash into a problem ("could not compile …"), every problem must point into the file, and the wrong
// property must be reported at its own line, once, with no second problem elsewhere that only follows from it.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { blockDefinitions, defaultRegistry } from '../../components/registry.js';
import { loadScenarioText, SCENARIO_ERROR_CODES, type BlockDefinition, type ScenarioIssue } from '../../engine/index.js';
import { tempDir } from '../helpers.js';
import { runCli } from '../cli/cli.helper.js';

/** The variables every test file declares, one of each type an output property may need. */
const VARIABLES = 'variables: { s: string, n: number, j: json, d: datetime }';
/** Lines before the block's first property: variables, blocks:, the block id, its kind. */
const FIRST_PROPERTY_LINE = 5;
/** Connections the loader is told of, so that DbQuery and DbProcedure check theirs. */
const DATABASES = { main: 'sqlite', crm: 'postgres' } as const;

/**
 * Valid blocks of each kind, property → YAML value on one line. Several per kind where properties exclude or depend on
 * each other (a body with a POST, a record with getRecord), so that the checks joining them meet a wrong partner.
 */
const VALID: Record<string, Array<Record<string, string>>> = {
  Start: [{ param: 's' }],
  Stop: [{ returnControl: 'false' }],
  InputParameter: [{ params: '{ s: 1, n: 2 }' }],
  Variable: [{ set: `{ s: '"x"', n: '[n] + 1' }` }],
  Condition: [{ expression: `'[n] > 1'` }, { left: `'[s]'`, operator: 'contains', right: `'"x"'` }],
  AsyncScenario: [{ scenario: 'Other', mode: 'call', params: `{ 1: '[s]' }`, copyVariables: 'false' }],
  Parser: [
    { mode: 'json', document: `'[s]'`, extract: `{ s: $.a, n: { path: '$.b[*]', function: count, index: 0, required: true } }`, errorVariable: 's' },
    { mode: 'regex', document: `'[s]'`, extract: `{ s: '(\\d+)', n: { pattern: 'a(b)', group: 1 } }`, flags: 'i' },
  ],
  Bpium: [
    { method: 'getRecord', catalog: `'"3"'`, record: `'[s]'`, fields: '{ s: 2 }', answer: 'j', errorCode: 's', timeout: '10' },
    { method: 'findRecord', catalog: `'"3"'`, filters: `{ 2: '[s]' }`, search: `'"x"'`, sortField: '2', sortOrder: 'desc', index: '0', fields: '{ n: 1 }' },
    { method: 'findRecord', catalog: `'"3"'`, filtersJson: `'"[]"'` },
    { method: 'createRecord', catalog: `'"3"'`, values: `{ 2: '[s]' }`, newId: 's' },
    { method: 'updateRecord', catalog: `'"3"'`, record: `'[s]'`, valuesJson: `'"{}"'` },
  ],
  SendMail: [
    { to: `'[s]'`, cc: `'"a@example.com"'`, bcc: `'"b@example.com"'`, subject: `'"Hi"'`, text: `'[s]'`, errorVariable: 's' },
    { to: `'[s]'`, subject: `'"Hi"'`, html: `'"<p>x</p>"'` },
    { to: `'[s]'`, template: 'hello' },
  ],
  DbQuery: [
    { connection: 'main', sql: 'SELECT :p AS s', params: `{ p: '[s]' }`, into: '{ s: s }', rows: 'j', rowCount: 'n', errorCode: 's', maxRows: '10', timeout: '5' },
  ],
  DbProcedure: [
    { connection: 'crm', procedure: 'register_call', params: `{ phone: '[s]' }`, into: '{ s: id }', rows: 'j', rowCount: 'n', errorCode: 's', maxRows: '5', timeout: '5' },
  ],
  ReturnValue: [{ values: `{ 1: '"OK"', 2: 200 }` }],
  WebRequest: [
    {
      method: 'POST',
      url: `'"https://example.com/api"'`,
      query: `{ a: '[s]' }`,
      headers: `{ X-Id: '[s]' }`,
      json: `{ to: '[s]', nested: { n: '[n]' } }`,
      auth: `{ bearer: '[s]' }`,
      timeout: '10',
      maxRedirects: '2',
      idempotencyKey: 'true',
      cookies: 'true',
      status: 'n',
      responseBody: 's',
      responseHeaders: 'j',
      errorCode: 's',
    },
    { method: 'PUT', url: `'"https://example.com/api"'`, body: `'[s]'`, contentType: 'text/plain' },
    { method: 'PATCH', url: `'"https://example.com/api"'`, form: `{ a: '[s]' }`, idempotencyKey: 'true', headers: `{ Authorization: '"x"' }` },
    { url: `'"https://example.com/api"'`, auth: `{ user: '"u"', password: '"p"' }` },
  ],
};

/**
 * Values of the wrong shape for a property whose valid value is `valid` (each is skipped where the property's own
 * schema accepts it). A mapping property gets its first entry made wrong, beside its good ones: the loader leaves out
 * that entry alone (`params.p`), which the checks comparing entries with other properties must know.
 */
function wrongValues(valid: unknown): Record<string, string> {
  const entry = (bad: unknown) => {
    if (!valid || typeof valid !== 'object' || Array.isArray(valid)) return stringify({ x: bad }, { collectionStyle: 'flow' }).trim();
    const [first] = Object.keys(valid);
    return stringify({ ...valid, [first!]: bad }, { collectionStyle: 'flow' }).trim();
  };
  return {
    'a list': '[a, b]',
    'a number': '42',
    // Keyed by a declared variable: a key that is a variable name (extract, into) is not a second mistake.
    'a mapping': '{ s: 1 }',
    'a boolean': 'true',
    'an empty value': 'null',
    'an unknown word': 'bogus_value',
    'a mapping with a wrong entry': entry([1]),
    'a mapping with an empty entry': entry(null),
  };
}

/** The parts of a zod 4 schema read here, as engine/schema-issues.ts reads them. */
interface SchemaLike {
  shape?: Record<string, SchemaLike>;
  def?: { options?: SchemaLike[] };
  safeParse(value: unknown): { success: boolean };
}

/** The object schema a valid block fits: the kind's schema, or the form of a union (Condition) it takes. */
function formOf(def: BlockDefinition<unknown, unknown>, props: Record<string, unknown>): SchemaLike {
  const schema = def.schema as unknown as SchemaLike;
  if (schema.shape) return schema;
  const form = schema.def?.options?.find((o) => o.safeParse(props).success);
  assert.ok(form?.shape, `${def.kind}: no object form of its schema fits ${JSON.stringify(props)}`);
  return form;
}

/** The properties of a form, from its schema, with whether each is required (a default makes one optional). */
function propertiesOf(form: SchemaLike): Array<{ name: string; schema: SchemaLike; required: boolean }> {
  return Object.entries(form.shape!).map(([name, schema]) => ({ name, schema, required: !schema.safeParse(undefined).success }));
}

/** The keys every block has, read by the loader beside the kind's schema; exits lead to a Stop block after it. */
function blockKeysOf(def: BlockDefinition<unknown, unknown>): Record<string, string> {
  return { title: `'A block'`, description: `'What it does'`, ...(def.exits.length ? { exits: `{ ${def.exits[0]}: end }` } : {}) };
}

/** What the loader accepts for those keys, to tell a wrong value from a right one. */
function blockKeySchemas(def: BlockDefinition<unknown, unknown>): Record<string, SchemaLike> {
  // An exit leading nowhere (null) ends the scenario; not every exit need be given.
  const exits = def.exits.length ? z.partialRecord(z.enum(def.exits as [string, ...string[]]), z.string().nullable()).nullable() : z.null();
  return { title: z.string(), description: z.string(), exits } as unknown as Record<string, SchemaLike>;
}

function fileOf(kind: string, props: Record<string, string>): string {
  const lines = Object.entries(props).map(([k, v]) => `    ${k}: ${v}`);
  const end = 'exits' in props ? '  end: { kind: Stop }\n' : '';
  return `${VARIABLES}\nblocks:\n  b:\n    kind: ${kind}\n${lines.join('\n')}\n${end}`;
}

function load(text: string): ScenarioIssue[] {
  const r = loadScenarioText('Fuzz.yaml', text, { registry: defaultRegistry, databases: DATABASES });
  return r.ok ? [] : r.issues;
}

const KNOWN_CODES = new Set<string>(Object.values(SCENARIO_ERROR_CODES));
/** What the loader makes of an exception thrown by a block's compile (engine/loader.ts): a crash, not a finding. */
const INTERNAL = /could not compile/;

/** What is wrong with the problems reported for `text`, beyond what a particular case adds. */
function sanityProblems(text: string, issues: ScenarioIssue[]): string[] {
  const lines = text.split('\n');
  const out: string[] = [];
  for (const i of issues) {
    const line = lines[i.line - 1];
    if (i.file !== 'Fuzz.yaml' || line === undefined || i.col < 1 || i.col > line.length + 1) out.push(`outside the file: ${show(i)}`);
    if (!KNOWN_CODES.has(i.code)) out.push(`unknown code: ${show(i)}`);
    if (INTERNAL.test(i.message)) out.push(`internal error: ${show(i)}`);
  }
  return out;
}

function show(i: ScenarioIssue): string {
  return `${i.line}:${i.col} ${i.code} ${i.message}`;
}

/** Loads `text`, which must not throw, and returns the issues with the problems a crash or a bad place would be. */
function loadChecked(text: string): { issues: ScenarioIssue[]; problems: string[] } {
  let issues: ScenarioIssue[];
  try {
    issues = load(text);
  } catch (e) {
    return { issues: [], problems: [`loading threw: ${(e as Error).stack}`] };
  }
  return { issues, problems: sanityProblems(text, issues) };
}

interface Variant {
  def: BlockDefinition<unknown, unknown>;
  name: string;
  props: Record<string, string>;
  form: SchemaLike;
}

const variants: Variant[] = blockDefinitions.flatMap((def) => {
  // A kind missing here fails the coverage test below.
  const list = VALID[def.kind] ?? [];
  return list.map((props, n) => {
    const parsed = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, parse(v) as unknown]));
    return { def, name: list.length > 1 ? `${def.kind} #${n + 1}` : def.kind, props: { ...props, ...blockKeysOf(def) }, form: formOf(def, parsed) };
  });
});

describe('a block with one property of the wrong shape', () => {
  it('every kind of the registry is covered, and every property of each is in some valid block', () => {
    assert.deepEqual(new Set(variants.map((v) => v.def.kind)), new Set(defaultRegistry.keys()));
    for (const v of variants) assert.deepEqual(load(fileOf(v.def.kind, v.props)).map(show), [], `${v.name} is valid as written`);
    for (const def of blockDefinitions) {
      const schema = def.schema as unknown as SchemaLike;
      for (const form of schema.shape ? [schema] : (schema.def?.options ?? [])) {
        const given = variants.filter((v) => v.form === form).flatMap((v) => Object.keys(v.props));
        const untested = propertiesOf(form).filter((p) => !given.includes(p.name)).map((p) => p.name);
        assert.deepEqual(untested, [], `${def.kind}: properties in no valid block of VALID`);
      }
    }
  });

  for (const v of variants) {
    describe(v.name, () => {
      // Each property is made wrong in the valid blocks that give it, so only that property is wrong.
      const keys = Object.entries(blockKeySchemas(v.def)).map(([name, schema]) => ({ name, schema, required: false }));
      for (const p of [...propertiesOf(v.form), ...keys].filter((q) => q.name in v.props)) {
        it(`${p.name}: never a crash, reported at its own line and nowhere else`, () => {
          const problems: string[] = [];
          const line = FIRST_PROPERTY_LINE + Object.keys(v.props).indexOf(p.name);
          for (const [what, yaml] of Object.entries(wrongValues(parse(v.props[p.name]!)))) {
            const text = fileOf(v.def.kind, { ...v.props, [p.name]: yaml });
            const { issues, problems: bad } = loadChecked(text);
            problems.push(...bad.map((b) => `${what} ${yaml}: ${b}`));
            // A value the property accepts (42 for an expression) is not a wrong one: only the checks above apply.
            if (p.schema.safeParse(parse(yaml)).success) continue;
            // `{ s: 1 }` for an object property (auth) is two facts: the key s is unknown, and what the form needs is
            // missing; anything else said twice at the line is the same fault again.
            const here = issues.filter((i) => i.line === line && !(i.code === 'E_UNKNOWN_KEY' && i.message.startsWith('unknown property "s"')));
            const elsewhere = issues.filter((i) => i.line !== line);
            if (here.length === 0) problems.push(`${what} ${yaml}: not reported at line ${line}: ${issues.map(show).join('; ') || 'no problem at all'}`);
            // An exit's name and its target are judged apart (`s: 1`: no exit s, and 1 is not a block).
            if (here.length > 1 && p.name !== 'exits') problems.push(`${what} ${yaml}: reported ${here.length} times at line ${line}: ${here.map(show).join('; ')}`);
            if (elsewhere.length) problems.push(`${what} ${yaml}: a second problem elsewhere: ${elsewhere.map(show).join('; ')}`);
          }
          assert.deepEqual(problems, []);
        });
      }
      // A misspelt optional property is left out as the one it means (CompileContext.omitted): a check joining it with
      // another property (contentType with body) must not take it for absent. A misspelt required one is also reported
      // missing, as it always was: not tested here.
      for (const p of propertiesOf(v.form).filter((q) => !q.required && q.name in v.props)) {
        it(`${p.name} misspelt: one problem, at its line`, () => {
          const typo = p.name.length > 3 ? p.name.slice(0, 1) + p.name.slice(2) : `${p.name}x`;
          const given = Object.fromEntries(Object.entries(v.props).map(([k, val]) => [k === p.name ? typo : k, val]));
          const { issues, problems } = loadChecked(fileOf(v.def.kind, given));
          assert.deepEqual(problems, []);
          const line = FIRST_PROPERTY_LINE + Object.keys(v.props).indexOf(p.name);
          assert.deepEqual(issues.map((i) => [i.code, i.line]), [['E_UNKNOWN_KEY', line]], issues.map(show).join('; '));
        });
      }
      for (const p of propertiesOf(v.form).filter((q) => q.required)) {
        it(`${p.name} left out: one problem, that it is missing, at the block`, () => {
          const { [p.name]: _left, ...rest } = v.props;
          const text = fileOf(v.def.kind, rest);
          const { issues, problems } = loadChecked(text);
          assert.deepEqual(problems, []);
          assert.deepEqual(issues.map((i) => [i.code, i.line]), [['E_MISSING_PROPERTY', 4]], issues.map(show).join('; '));
          assert.match(issues[0]!.message, new RegExp(`"${p.name}"`));
        });
      }
    });
  }
});

describe('a block with two properties of the wrong shape', () => {
  // Checks that join two properties (isKnown with several names) meet both left out at once.
  for (const v of variants) {
    it(`${v.name}: each pair reported at its two lines and nowhere else`, () => {
      const keys = Object.entries(blockKeySchemas(v.def)).map(([name, schema]) => ({ name, schema, required: false }));
      const props = [...propertiesOf(v.form), ...keys].filter((q) => q.name in v.props);
      const problems: string[] = [];
      for (const [x, p] of props.entries()) {
        for (const q of props.slice(x + 1)) {
          for (const yaml of ['[a, b]', 'null', '{ s: 1 }']) {
            if (p.schema.safeParse(parse(yaml)).success || q.schema.safeParse(parse(yaml)).success) continue;
            const { issues, problems: bad } = loadChecked(fileOf(v.def.kind, { ...v.props, [p.name]: yaml, [q.name]: yaml }));
            const lines = [p, q].map((r) => FIRST_PROPERTY_LINE + Object.keys(v.props).indexOf(r.name));
            const elsewhere = issues.filter((i) => !lines.includes(i.line));
            problems.push(...bad.map((b) => `${p.name}+${q.name} ${yaml}: ${b}`));
            if (elsewhere.length) problems.push(`${p.name}+${q.name} ${yaml}: elsewhere: ${elsewhere.map(show).join('; ')}`);
            for (const l of lines) if (!issues.some((i) => i.line === l)) problems.push(`${p.name}+${q.name} ${yaml}: nothing at line ${l}`);
          }
        }
      }
      assert.deepEqual(problems, []);
    });
  }
});

describe('a block of two forms with two of its properties wrong', () => {
  // Both wrong values at their lines, not "Condition needs expression" and left, operator, right as unknown keys:
  // the form whose keys were all written is the one meant, though each form has two issues.
  const operands = { left: `'[s]'`, operator: 'contains', right: `'"x"'` };
  for (const [a, b] of [['left', 'operator'], ['left', 'right'], ['operator', 'right']] as const) {
    it(`Condition: ${a} and ${b}`, () => {
      const given = { ...operands, [a]: '[a, b]', [b]: '{ s: 1 }' };
      const { issues, problems } = loadChecked(fileOf('Condition', given));
      assert.deepEqual(problems, []);
      const lines = [a, b].map((n) => FIRST_PROPERTY_LINE + Object.keys(given).indexOf(n));
      assert.deepEqual(issues.map((i) => [i.code, i.line]), lines.map((l) => ['E_INVALID_PROPERTY', l]), issues.map(show).join('; '));
    });
  }
  it('the well-formed operand of that form is still checked', () => {
    const given = { left: '[a, b]', operator: '=>', right: `'[nosuch]'` };
    const { issues } = loadChecked(fileOf('Condition', given));
    assert.deepEqual(issues.map((i) => [i.code, i.line]), [['E_INVALID_PROPERTY', 5], ['E_INVALID_PROPERTY', 6], ['E_UNKNOWN_VARIABLE', 7]], issues.map(show).join('; '));
  });
  it('WebRequest: auth with user and password both wrong', () => {
    const given = { url: `'"https://example.com"'`, auth: '{ user: [a], password: [b] }' };
    const { issues } = loadChecked(fileOf('WebRequest', given));
    assert.deepEqual(issues.map((i) => [i.code, i.line, i.message.split(':')[0]]), [['E_INVALID_PROPERTY', 6, '"auth.user"'], ['E_INVALID_PROPERTY', 6, '"auth.password"']], issues.map(show).join('; '));
  });
});

describe('oktell-emu validate on malformed blocks', () => {
  it('exits 1 with located problems and no stack trace', () => {
    const tmp = tempDir();
    try {
      const dir = join(tmp.dir, 'scenarios');
      mkdirSync(dir);
      // One file per kind, its first property wrongly a list, and one with a required property left out.
      for (const v of variants) {
        const [first] = Object.keys(v.props);
        if (first === undefined) continue;
        writeFileSync(join(dir, `${v.name.replace(/\W/g, '')}.yaml`), fileOf(v.def.kind, { ...v.props, [first]: '[a, b]' }));
      }
      writeFileSync(join(dir, 'NoUrl.yaml'), fileOf('WebRequest', { method: 'POST', body: `'[s]'`, contentType: 'text/plain' }));
      const r = runCli(['validate', '--scenarios', dir], { cwd: tmp.dir });
      assert.equal(r.code, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /\n\s+at |TypeError|ReferenceError/, r.stderr);
      assert.doesNotMatch(r.stdout, INTERNAL, r.stdout);
      for (const line of r.stdout.split('\n').filter((l) => /E_[A-Z_]+/.test(l) && !l.startsWith('    '))) {
        assert.match(line, /^scenarios\/\w+\.yaml:\d+:\d+ E_[A-Z_]+ /, line);
      }
      assert.match(r.stdout, /NoUrl\.yaml:4:5 E_MISSING_PROPERTY WebRequest needs "url"/);
    } finally {
      tmp.cleanup();
    }
  });
});
