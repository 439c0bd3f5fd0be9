// Text from the user's own files reaches the terminal escaped as webhook data does (docs/cli.md): a scenario file
// named with a right-to-left override (U+202E), a YAML value holding ESC (`"\e[2J"`), a data folder so named. The
// problems `validate` and `graph` list, `test --watch`'s error lines and `run`'s "the run was not recorded" line,
// through the real binary.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { tempDir } from '../helpers.js';
import { runCli, startCli } from './cli.helper.js';

const ESC = '\u001b';
const RLO = '\u202e';
/** A scenario file name that a terminal drawing bidirectional text would show reordered. */
const FILE = `Bad${RLO}lmay.yaml`;
/** An unknown kind holding ESC [2J (clear the screen) and an override, written with YAML's escapes: the file is plain text. */
const BAD_KIND = 'start: r\nblocks:\n  r:\n    kind: "Ret\\e[2Jurn\\u202e"\n';
const GOOD = 'start: r\nblocks:\n  r:\n    kind: ReturnValue\n    values: { 1: \'"hi"\' }\n';

/** No control character but the line break, and no bidirectional control, reaches the terminal. */
function assertEscaped(out: string, what: string): void {
  assert.doesNotMatch(out, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]/, `${what} prints a control character raw:\n${JSON.stringify(out)}`);
}

describe('text from local files is escaped in the lines the CLI prints', () => {
  const tmp = tempDir();
  const scenarios = join(tmp.dir, 'scenarios');
  before(() => {
    mkdirSync(join(scenarios, 'tests'), { recursive: true });
    writeFileSync(join(scenarios, FILE), BAD_KIND);
    writeFileSync(join(scenarios, 'Hello.yaml'), GOOD);
  });
  after(() => tmp.cleanup());

  it('validate: the problem line, its file name and the kind it quotes', () => {
    const r = runCli(['validate', '--scenarios', scenarios], { cwd: tmp.dir });
    assert.equal(r.code, 1, r.stderr);
    assertEscaped(r.stdout + r.stderr, 'validate');
    assert.match(r.stdout, /^scenarios\/Bad\\u202elmay\.yaml:4:11 E_UNKNOWN_KIND unknown block kind "Ret\\u001b\[2Jurn\\u202e" \[block r\]\n {4}hint: known kinds: /m);
  });

  it('graph: the problem lines on stderr and the count naming the scenario', () => {
    const r = runCli(['graph', join(scenarios, FILE)], { cwd: tmp.dir });
    assert.equal(r.code, 1, r.stderr);
    assertEscaped(r.stderr, 'graph');
    assert.match(r.stderr, /^scenarios\/Bad\\u202elmay\.yaml:4:11 E_UNKNOWN_KIND unknown block kind "Ret\\u001b\[2Jurn\\u202e" \[block r\]$/m);
    assert.match(r.stderr, /^✗ 1 problem\(s\) in Bad\\u202elmay: the diagram shows what could be read$/m);
  });

  it('run: "the run was not recorded" quoting a data folder named with ESC and U+202E', () => {
    // A store a newer build migrated: the run stands, its record is refused naming the file.
    const data = join(tmp.dir, `var${ESC}[31m${RLO}`);
    mkdirSync(data);
    const db = new Database(join(data, 'oktell.sqlite'));
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    db.prepare('INSERT INTO schema_migrations VALUES (999, ?, 0)').run('from a newer build');
    db.close();
    const r = runCli(['run', 'Hello', '--scenarios', scenarios, '--data-dir', data], { cwd: tmp.dir });
    assert.equal(r.code, 0, r.stderr);
    assertEscaped(r.stderr, 'run');
    assert.match(r.stderr, /^oktell-emu: the run was not recorded: cannot open the store .*\/var\\u001b\[31m\\u202e\/oktell\.sqlite: a newer build of oktell-emu has migrated it/m);
  });

  it('test --watch: the error line of a pass, quoting the path it was given', async () => {
    const missing = join('scenarios', 'tests', `gone${ESC}]0;TITLE${RLO}.test.yaml`);
    const cli = startCli(['test', '--watch', missing], { cwd: tmp.dir, env: { OKTELL_SCENARIOS: scenarios } });
    try {
      await cli.waitFor(/watching for changes/);
    } finally {
      cli.child.kill('SIGINT');
      await cli.exited;
    }
    assertEscaped(cli.stderr(), 'test --watch');
    assert.match(cli.stderr(), /^oktell-emu: scenarios\/tests\/gone\\u001b\]0;TITLE\\u202e\.test\.yaml: no such file or folder/m);
  });
});
