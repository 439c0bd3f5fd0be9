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
