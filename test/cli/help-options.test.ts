// The help of every command, read as a user reads it: the same option has the same name, short flag and default
// everywhere, so what works after one command works after the next.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCli, type CliResult } from './cli-process.js';
import { startCli } from './cli.helper.js';

const COMMANDS = [
  ['serve'], ['validate'], ['run'], ['test'], ['graph'], ['runs'], ['show'], ['replay'], ['outbox'], ['outbox', 'show'],
  ['bpium-emulator'], ['demo'], ['webhook', 'send'], ['schema'], ['tasks'], ['tasks', 'run'],
];

const helps = new Map<string, CliResult>();

/** `oktell-emu … --help`, run once per command. */
function help(command: string[]): CliResult {
  const key = command.join(' ');
  if (!helps.has(key)) helps.set(key, runCli([...command, '--help']));
  return helps.get(key)!;
}

/** The options of a command's help, each as one line (commander wraps long descriptions). */
function helpOptions(command: string[]): string[] {
  const r = help(command);
  assert.equal(r.code, 0, `${command.join(' ')} --help: ${r.stderr}`);
  const block = r.stdout.split(/\n(?=\S)/).find((b) => b.startsWith('Options:')) ?? '';
  return block.split(/\n(?= {2}-)/).slice(1).map((o) => o.replace(/\s+/g, ' ').trim());
}

/** The command an example calls: its first word, and the second when that is one of the command's subcommands. */
function commandPath(words: string[]): string[] {
  const [first = '', second = ''] = words;
  if (first === 'help') return [];
  const sub = COMMANDS.find((c) => c.length === 2 && c[0] === first && c[1] === second);
  return sub ?? [first];
}

describe('oktell-emu --help: options named alike across commands', () => {
  const options = new Map(COMMANDS.map((c) => [c.join(' '), helpOptions(c)]));

  it('--data-dir is -d wherever it is taken, and --config names $OKTELL_CONFIG', () => {
    for (const [command, list] of options) {
      for (const o of list.filter((o) => o.includes('--data-dir'))) assert.match(o, /^-d, --data-dir <dir> /, command);
      for (const o of list.filter((o) => o.includes('--config'))) assert.match(o, /\$OKTELL_CONFIG/, command);
      for (const o of list.filter((o) => o.includes('--scenarios'))) assert.match(o, /\$OKTELL_SCENARIOS/, command);
    }
    assert.ok([...options.values()].filter((list) => list.some((o) => o.includes('--data-dir'))).length >= 12, 'the commands that take a data folder');
  });

  it('--scenarios gives the default every command reads: $OKTELL_SCENARIOS, scenarios: of the configuration file, ./scenarios', () => {
    // Trial s33-docs1 #5: tasks said "$OKTELL_SCENARIOS or ./scenarios", though it reads scenarios: as serve does.
    const taking = [...options].filter(([, list]) => list.some((o) => o.includes('--scenarios')));
    assert.ok(taking.some(([c]) => c === 'tasks') && taking.some(([c]) => c === 'tasks run'));
    for (const [command, list] of taking) {
      assert.match(list.find((o) => o.includes('--scenarios'))!, /\(default \$OKTELL_SCENARIOS, scenarios: of the configuration file, or \.\/scenarios/, command);
    }
  });

  it('--data-dir gives the default each command really reads: dataDir: of the configuration file wherever --config is taken, and bpium-emulator says it reads no configuration file', () => {
    for (const [command, list] of options) {
      const dataDir = list.find((o) => o.includes('--data-dir'));
      if (!dataDir || !list.some((o) => o.startsWith('--config '))) continue;
      assert.match(dataDir, /\(default \$OKTELL_DATA_DIR, dataDir: of the configuration file, or \.\/var\)/, command);
    }
    for (const command of ['outbox', 'outbox show', 'webhook send', 'demo']) {
      assert.ok(options.get(command)!.some((o) => o.startsWith('--config ')), `${command} takes --config`);
    }
    const emulator = options.get('bpium-emulator')!.find((o) => o.includes('--data-dir'))!;
    assert.match(emulator, /\(default \$OKTELL_DATA_DIR or \.\/var; the configuration file is not read/);
  });

  it('a short flag stands for the same long option in every command (-p is --param, never --port)', () => {
    const longOf = new Map<string, Map<string, string[]>>();
    for (const [command, list] of options) {
      for (const o of list) {
        const m = /^(-[a-zA-Z]), (--[a-z-]+)/.exec(o);
        if (!m) continue;
        const byLong = longOf.get(m[1]!) ?? new Map<string, string[]>();
        byLong.set(m[2]!, [...(byLong.get(m[2]!) ?? []), command]);
        longOf.set(m[1]!, byLong);
      }
    }
    for (const [short, byLong] of longOf) {
      assert.equal(byLong.size, 1, `${short} means ${[...byLong].map(([long, commands]) => `${long} in ${commands.join(', ')}`).join(' but ')}`);
    }
    assert.deepEqual([...longOf.get('-p')!.keys()], ['--param']);
  });

  it('bpium-emulator -p still sets the port for now, with a warning that names --port', { timeout: 30_000 }, async () => {
    const tmp = tempDir();
    const cli = startCli(['bpium-emulator', '-p', '0', '-d', tmp.dir]);
    try {
      await cli.waitFor(/listening on http:\/\/127\.0\.0\.1:\d+/);
      assert.match(cli.stderr(), /^oktell-emu: bpium-emulator -p is deprecated and will be removed: use --port \(-p means --param in run\)\n$/);
    } finally {
      cli.child.kill('SIGTERM');
      await cli.exited;
      tmp.cleanup();
    }
  });

  it('a data folder\'s default says where it comes from, and a number\'s default is not a quoted string', () => {
    for (const [command, list] of options) {
      for (const o of list.filter((o) => o.startsWith('-d, --data-dir'))) assert.match(o, /\(default /, command);
      for (const o of list) assert.doesNotMatch(o, /\(default: "\d+"\)/, `${command}: ${o}`);
    }
  });

  it('-d works as --data-dir on the commands that read what a server recorded', () => {
    const tmp = tempDir();
    try {
      const missing = join(tmp.dir, 'no-such-dir');
      for (const args of [['runs'], ['show', 'x'], ['replay', '--status', 'dead'], ['outbox']]) {
        const r = runCli([...args, '-d', missing]);
        assert.equal(r.code, 2, args.join(' '));
        assert.match(r.stderr, new RegExp(`^oktell-emu: no data folder ${missing}`), args.join(' '));
      }
    } finally {
      tmp.cleanup();
    }
  });

  it('every command\'s help ends with examples, and each option an example uses is one of that command\'s', () => {
    for (const command of [[], ...COMMANDS]) {
      const r = help(command);
      const examples = r.stdout.split('\nExamples:\n')[1];
      assert.ok(examples, `${command.join(' ') || 'oktell-emu'} --help has examples`);
      const lines = examples.replace(/\n+$/, '').split('\n');
      assert.ok(lines.every((l) => /^ {2}\$ (\S+=\S+ |cat \S+ \| )*oktell-emu /.test(l)), lines.join('\n'));
      // The options of an example, before any redirection, are in the help of the command it calls.
      for (const line of lines) {
        const words = line.replace(/^.*?oktell-emu /, '').split(/ [>|] /)[0]!.split(' ');
        const path = commandPath(words);
        const known = helpOptions(path).join(' ');
        for (const flag of words.filter((w) => /^--?[a-z]/.test(w))) assert.ok(new RegExp(`(^|[ ,])${flag}[ ,]`).test(known), `${line}: ${flag} is an option of ${path.join(' ')}`);
      }
    }
  });
});
