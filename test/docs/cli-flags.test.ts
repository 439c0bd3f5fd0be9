// Every command and every option of the command line is documented: docs/cli.md names each command and each long
// flag (the Bpium emulator's and the demo's in docs/bpium.md, which cli.md links), so a flag added to a command
// (replay --include-cancelled was one) cannot be missing from the page users read; and every flag cli.md writes is one
// the CLI takes, apart from the few quoted on purpose (a typo's error, npm's and pg_dump's own).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { Command } from 'commander';
import { buildProgram } from '../../cli/main.js';
import { repoPath } from '../helpers.js';

const cliDoc = readFileSync(repoPath('docs', 'cli.md'), 'utf8');
const bpiumDoc = readFileSync(repoPath('docs', 'bpium.md'), 'utf8');
/** The commands documented in docs/bpium.md rather than in docs/cli.md. */
const IN_BPIUM_DOC = new Set(['bpium-emulator', 'demo']);
/** Flags cli.md writes that are not options of this CLI: a misspelt one in an error example, npm's, pg_dump's, Node's. */
const NOT_OURS = new Set(['--help', '--statsu', '--ignore-scripts', '--schema']);

/** Each command with its path (`webhook send`), the program's own options under ''. */
function commands(c: Command, path: string[] = []): { path: string; command: Command }[] {
  return [{ path: path.join(' '), command: c }, ...c.commands.flatMap((s) => commands(s, [...path, s.name()]))];
}

const flagIn = (doc: string, flag: string) => new RegExp(`(?<![\\w-])${flag}(?![\\w-])`).test(doc);

describe('docs/cli.md: the commands and flags are the ones the CLI takes', () => {
  const all = commands(buildProgram()).filter((c) => c.path !== 'help' && !c.path.endsWith(' help'));
  it('finds the commands', () => assert.ok(all.length >= 15, all.map((c) => c.path).join(', ')));

  it('every command is named in docs/cli.md', () => {
    const missing = all.filter((c) => c.path !== '' && !cliDoc.includes(`\`${c.path}`) && !cliDoc.includes(`oktell-emu ${c.path}`)).map((c) => c.path);
    assert.deepEqual(missing, []);
  });

  it('every long flag of every command is documented', () => {
    const missing: string[] = [];
    for (const { path, command } of all) {
      const doc = IN_BPIUM_DOC.has(path.split(' ')[0]!) ? bpiumDoc : cliDoc;
      for (const o of command.options) if (o.long && o.long !== '--version' && !flagIn(doc, o.long)) missing.push(`${path || 'oktell-emu'} ${o.long}`);
    }
    assert.deepEqual(missing, []);
  });

  it('every flag docs/cli.md writes is an option of some command', () => {
    const known = new Set(all.flatMap((c) => c.command.options.map((o) => o.long).filter((l): l is string => l !== undefined)));
    const written = new Set([...cliDoc.matchAll(/(?<![\w-])--[a-z][a-z0-9-]*/g)].map((m) => m[0]));
    assert.deepEqual([...written].filter((f) => !known.has(f) && !NOT_OURS.has(f)), []);
  });
});
