// A DbQuery with `rows:` keeps every column in that variable: its trace note does not call the columns without a
// variable of their name "ignored". Through the real binary (`run --dry-run`) on a real SQLite file.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

const READS = `variables: { all: json, title: string }
start: withRows
blocks:
  withRows:
    kind: DbQuery
    sql: SELECT 1 AS id, 'Перезвонить' AS title, 'ivan' AS assignee
    rows: all
    exits: { success: withoutRows }
  withoutRows:
    kind: DbQuery
    sql: SELECT 2 AS id, 'Написать' AS title
    exits: { success: null }
`;

describe('run: the note of columns without a variable', () => {
  it('with rows: they are in that variable; without, ignored', { timeout: 60_000 }, () => {
    const tmp = tempDir();
    try {
      const scenarios = join(tmp.dir, 'scenarios');
      mkdirSync(scenarios);
      writeFileSync(join(scenarios, 'Reads.yaml'), READS);
      const r = runCli(['run', 'Reads', '--dry-run', '--scenarios', scenarios, '--data-dir', join(tmp.dir, 'var')], { cwd: tmp.dir, timeoutMs: 60_000 });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const notes = r.stdout.split('\n').filter((l) => l.trimStart().startsWith('note columns'));
      assert.deepEqual(notes.map((l) => l.trim()), [
        'note columns without a variable of the same name, kept in "rows: all" only: id, assignee',
        'note columns without a variable of the same name, ignored: id',
      ]);
    } finally {
      tmp.cleanup();
    }
  });
});
