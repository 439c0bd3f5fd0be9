// A block property written at the block ids' indent (`  exits:` under `  begin:`) is one indentation mistake, said
// once at its key with the column to indent it to, not a block with no kind that leaves every later block unreachable.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultRegistry } from '../../components/registry.js';
import { formatIssue, loadScenarioText } from '../../engine/index.js';

function problems(text: string): string[] {
  const r = loadScenarioText('Sweep.yaml', text, { registry: defaultRegistry });
  return r.ok ? [] : r.issues.map((i) => formatIssue(i));
}

/** A chain begin → b1 → … → b10 → done, with `exitsLine` written under begin. */
function chain(exitsLine: string): string {
  const middle = Array.from({ length: 10 }, (_, i) => `  b${i + 1}:\n    kind: Variable\n    set: { n: '${i}' }\n    exits: { next: ${i === 9 ? 'done' : `b${i + 2}`} }\n`).join('');
  return `variables:\n  n: number\nstart: begin\nblocks:\n  begin:\n    kind: Start\n${exitsLine}\n${middle}  done: { kind: Stop }\n`;
}

describe('a block property at the block ids’ indent', () => {
  it('an under-indented exits: is one problem at its key, with the column of the block’s other properties', () => {
    assert.deepEqual(problems(chain('    exits: { next: b1 }')), [], 'the well-indented chain is valid');
    assert.deepEqual(problems(chain('  exits: { next: b1 }')), [
      'Sweep.yaml:7:3 E_YAML_SYNTAX "exits" looks like a property of block "begin": indent it to column 5 [block begin]\n' +
        '    hint: a key at the block ids\' indent starts a new block; indent "exits" like "kind" on line 6 (column 5), with spaces',
    ]);
  });

  it('a misplaced kind: and exits: are each said, and a mistake inside them is still found at its own place', () => {
    const text = 'blocks:\n  begin:\n    title: first\n  kind: Start\n  exits: { nxt: done }\n  done: { kind: Stop }\n';
    assert.deepEqual(problems(text), [
      'Sweep.yaml:4:3 E_YAML_SYNTAX "kind" looks like a property of block "begin": indent it to column 5 [block begin]\n' +
        '    hint: a key at the block ids\' indent starts a new block; indent "kind" like "title" on line 3 (column 5), with spaces',
      'Sweep.yaml:5:3 E_YAML_SYNTAX "exits" looks like a property of block "begin": indent it to column 5 [block begin]\n' +
        '    hint: a key at the block ids\' indent starts a new block; indent "exits" like "title" on line 3 (column 5), with spaces',
      'Sweep.yaml:5:12 E_UNKNOWN_EXIT Start has no exit "nxt" [block begin]\n    hint: did you mean "next"? exits of Start: next',
    ]);
  });

  it('a property of the block’s own kind (sql:) counts; after a block written in braces the fix is to move it inside', () => {
    const sql = 'variables: { n: number }\nblocks:\n  q:\n    kind: DbQuery\n    connection: main\n  sql: SELECT 1 AS n\n  exits: { success: s, error: s }\n  s: { kind: Stop }\n';
    assert.deepEqual(
      problems(sql).map((p) => p.split('\n')[0]),
      [
        'Sweep.yaml:6:3 E_YAML_SYNTAX "sql" looks like a property of block "q": indent it to column 5 [block q]',
        'Sweep.yaml:7:3 E_YAML_SYNTAX "exits" looks like a property of block "q": indent it to column 5 [block q]',
      ],
    );
    const flow = 'blocks:\n  begin: { kind: Start }\n  exits: { next: done }\n  done: { kind: Stop }\n';
    assert.deepEqual(problems(flow), [
      'Sweep.yaml:3:3 E_YAML_SYNTAX "exits" looks like a property of block "begin": put it inside that block\'s { … } [block begin]\n' +
        "    hint: a key at the block ids' indent starts a new block; write begin: { …, exits: … }",
    ]);
  });

  it('a real block that happens to be named like a property is a block', () => {
    const text = 'blocks:\n  begin:\n    kind: Start\n    exits: { next: title }\n  title: { kind: Stop }\n';
    assert.deepEqual(problems(text), []);
  });
});

/**
 * A block named like a property of the block above (`timeout`, `rows`, `params`) that lacks its `kind`: its value
 * reads as a block's (a block's own keys, `params`, or a mapping where the property takes none), so the problem says
 * it may be a block without a kind and names both fixes, once, at its key; the block stays a block, so an exit to it
 * is not unknown and its value is not checked as the property.
 */
describe('a block named like a property, without its kind', () => {
  const fetch = (rest: string) =>
    `variables: { note: string, n: number }\nblocks:\n  fetch:\n    kind: WebRequest\n    method: GET\n    url: '"https://crm.example.ru/x"'\n    exits: { success: done, timeout: timeout }\n${rest}  done: { kind: Stop }\n`;
  const query = (rest: string) =>
    `variables: { n: number }\nblocks:\n  q:\n    kind: DbQuery\n    connection: main\n    sql: SELECT 1 AS n\n    exits: { success: rows, error: params }\n${rest}`;
  const rows: Array<{ name: string; text: string; problems: string[]; fixed?: string }> = [
    {
      name: 'timeout: with set: and exits: — a Variable block',
      text: fetch(`  timeout:\n    set: { note: '"slow"' }\n    exits: { next: done }\n`),
      problems: [
        'Sweep.yaml:8:3 E_MISSING_PROPERTY block "timeout" has no "kind" — or "timeout" is a property of block "fetch" written at the block ids\' indent [block timeout]\n' +
          '    hint: its value looks like a block\'s: if "timeout" is a block (a block may be named like a property), add "kind:" to it, e.g. kind: Variable; if it belongs to "fetch", indent it like "kind" on line 4 (column 5), with spaces',
      ],
      fixed: fetch(`  timeout:\n    kind: Variable\n    set: { note: '"slow"' }\n    exits: { next: done }\n`),
    },
    {
      name: 'rows: a mapping where the property takes text, without exits',
      text: query(`  rows:\n    values: { 1: '[n]' }\n  params: { kind: Stop }\n`),
      problems: [
        'Sweep.yaml:8:3 E_MISSING_PROPERTY block "rows" has no "kind" — or "rows" is a property of block "q" written at the block ids\' indent [block rows]\n' +
          '    hint: its value looks like a block\'s: if "rows" is a block (a block may be named like a property), add "kind:" to it, e.g. kind: Bpium or ReturnValue; if it belongs to "q", indent it like "kind" on line 4 (column 5), with spaces',
      ],
      fixed: query(`  rows:\n    kind: ReturnValue\n    values: { 1: '[n]' }\n  params: { kind: Stop }\n`),
    },
    {
      name: 'params: with scenario: and params: of its own, after a block in braces',
      text: `variables: { n: number }\nblocks:\n  q: { kind: DbQuery, connection: main, sql: SELECT 1 AS n, exits: { success: params, error: params } }\n  params:\n    scenario: Notify\n    params: { 1: '[n]' }\n`,
      problems: [
        'Sweep.yaml:4:3 E_MISSING_PROPERTY block "params" has no "kind" — or "params" is a property of block "q" written at the block ids\' indent [block params]\n' +
          '    hint: its value looks like a block\'s: if "params" is a block (a block may be named like a property), add "kind:" to it, e.g. kind: AsyncScenario; if it belongs to "q", write q: { …, params: … }',
      ],
    },
    {
      name: 'a mapping property at the block ids\' indent whose keys are its own is still an indentation mistake',
      text: `variables: { n: number }\nblocks:\n  calc:\n    kind: Variable\n  set: { n: '1' }\n  exits: { next: done }\n  done: { kind: Stop }\n`,
      problems: [
        'Sweep.yaml:5:3 E_YAML_SYNTAX "set" looks like a property of block "calc": indent it to column 5 [block calc]\n' +
          '    hint: a key at the block ids\' indent starts a new block; indent "set" like "kind" on line 4 (column 5), with spaces',
        'Sweep.yaml:6:3 E_YAML_SYNTAX "exits" looks like a property of block "calc": indent it to column 5 [block calc]\n' +
          '    hint: a key at the block ids\' indent starts a new block; indent "exits" like "kind" on line 4 (column 5), with spaces',
      ],
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      assert.deepEqual(problems(row.text), row.problems);
      if (row.fixed !== undefined) assert.deepEqual(problems(row.fixed), [], 'the kind the hint names makes it valid');
    });
  }
});
