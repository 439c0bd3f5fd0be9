// How the oktell-emu binary fails: a mistake of the user is one line and exit 2, never a stack.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoPath, repoRoot, tempDir } from '../helpers.js';
import { runCli } from './cli-process.js';
import { runCli as runCliIn } from './cli.helper.js';

describe('oktell-emu: errors the user can fix', () => {
  it('bpium-emulator with an invalid seed prints what is wrong and exits 2, without a stack', () => {
    const tmp = tempDir();
    try {
      const seed = join(tmp.dir, 'bad-seed.yaml');
      const text = readFileSync(repoPath('bpium-emulator', 'seed.yaml'), 'utf8');
      const broken = text.replace('    events: [record.created]\n', '    events: [record.created]\n    trackFields: ["6"]\n');
      assert.notEqual(broken, text, 'the seed has the webhook the test breaks');
      writeFileSync(seed, broken);
      const r = runCli(['bpium-emulator', '--seed', seed, '--port', '0', '--data-dir', join(tmp.dir, 'var')]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr, 'oktell-emu: invalid Bpium seed: webhooks.0: trackFields: catalog 11 has no field "6"\n');
    } finally {
      tmp.cleanup();
    }
  });

  it('output into a pipe whose reader has gone (`… | head -1`) ends the command quietly, exit 0, not with an EPIPE stack', async () => {
    for (const args of [['schema', '--tests'], ['graph', 'BpiumNewTask']]) {
      const child = spawn(process.execPath, [repoPath('bin', 'oktell-emu.js'), ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
      // The reader closes before the command writes: its first write meets EPIPE, as after `head` has read its lines.
      child.stdout.destroy();
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
      assert.equal(stderr, '', args.join(' '));
      assert.equal(code, 0, args.join(' '));
    }
  });

  it('a missing argument or an unknown option is said once, on one line, exit 2 (with --json: only the JSON object)', () => {
    const cases: Array<[string[], string]> = [
      [['webhook', 'send', '/Bpium/NewTask'], 'missing required argument "body"; see oktell-emu webhook send --help'],
      [['run'], 'missing required argument "scenario"; see oktell-emu run --help'],
      [['graph'], 'missing required argument "scenario"; see oktell-emu graph --help'],
      [['runs', '--bogus'], 'unknown option "--bogus"; see oktell-emu runs --help'],
      [['runs', '--statsu', 'dead'], 'unknown option "--statsu" (did you mean --status?); see oktell-emu runs --help'],
      [['tasks', 'run', 'report', '--bogus'], 'unknown option "--bogus"; see oktell-emu tasks run --help'],
      [['--bogus'], 'unknown option "--bogus"; see oktell-emu --help'],
    ];
    for (const [args, message] of cases) {
      const r = runCli(args);
      assert.equal(r.code, 2, args.join(' '));
      assert.equal(r.stderr, `oktell-emu: ${message}\n`, args.join(' '));
    }
    const json = runCli(['run', '--json']);
    assert.equal(json.stderr, '');
    assert.deepEqual(JSON.parse(json.stdout), { status: 'failed', error: { code: 'E_USAGE', message: 'missing required argument "scenario"; see oktell-emu run --help' } });
  });

  it('an unknown command is one line naming the nearest commands, not the whole help; exit 2', () => {
    const cases: Array<[string[], string]> = [
      [['frobnicate'], 'unknown command "frobnicate"; see oktell-emu --help'],
      [['runz'], 'unknown command "runz" (did you mean run or runs?); see oktell-emu --help'],
      [['valdate'], 'unknown command "valdate" (did you mean validate?); see oktell-emu --help'],
      [['webhook', 'sned'], 'unknown command "sned" (did you mean send?); see oktell-emu webhook --help'],
      [['tasks', 'frob'], 'unknown command "frob" for oktell-emu tasks (its commands: run); see oktell-emu tasks --help'],
    ];
    for (const [args, message] of cases) {
      const r = runCli(args);
      assert.equal(r.code, 2, args.join(' '));
      assert.equal(r.stdout, '', args.join(' '));
      assert.equal(r.stderr, `oktell-emu: ${message}\n`, args.join(' '));
    }
    const json = runCli(['frobnicate', '--json']);
    assert.equal(json.stderr, '');
    assert.deepEqual(JSON.parse(json.stdout), { status: 'failed', error: { code: 'E_USAGE', message: 'unknown command "frobnicate"; see oktell-emu --help' } });
    // Help asked for is still the whole help, on stdout, exit 0.
    const help = runCli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: oktell-emu /);
  });

  it('an output file that cannot be written is one line naming the path and why, exit 2, not a stack', () => {
    const tmp = tempDir();
    try {
      const missing = join(tmp.dir, 'no-such-folder', 'HTTP404.mmd');
      const r = runCli(['graph', 'HTTP404', '-o', missing]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr, `oktell-emu: cannot open ${missing}: the folder ${join(tmp.dir, 'no-such-folder')} does not exist (ENOENT)\n`);
      // A path through a file: the folder part is not a folder.
      const file = join(tmp.dir, 'plain.txt');
      writeFileSync(file, 'x');
      const under = runCli(['graph', 'HTTP404', '--output', join(file, 'HTTP404.mmd')]);
      assert.equal(under.code, 2, under.stderr);
      assert.equal(under.stderr, `oktell-emu: cannot open ${join(file, 'HTTP404.mmd')}: a part of the path is not a folder (ENOTDIR)\n`);
    } finally {
      tmp.cleanup();
    }
  });

  it('a missing command is a usage error: the help on stderr and exit 2; help asked for is on stdout, exit 0', () => {
    for (const args of [[], ['webhook']]) {
      const r = runCli(args);
      assert.equal(r.code, 2, args.join(' '));
      assert.equal(r.stdout, '', args.join(' '));
      assert.match(r.stderr, /^Usage: oktell-emu /, args.join(' '));
    }
    const help = runCli(['help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: oktell-emu \[options\] \[command\]/);
    const run = runCli(['help', 'run']);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /^Usage: oktell-emu run \[options\] <scenario>/);
    const send = runCli(['help', 'webhook', 'send']);
    assert.equal(send.code, 0);
    assert.match(send.stdout, /^Usage: oktell-emu webhook send /);
    // A name that is not a command, after help, as without it.
    const unknown = runCli(['help', 'runz']);
    assert.equal(unknown.code, 2);
    assert.equal(unknown.stdout, '');
    assert.equal(unknown.stderr, 'oktell-emu: unknown command "runz" (did you mean run or runs?); see oktell-emu --help\n');
    // Trial s33-docs1 #11: help after a group works for every group, those with an action of their own (tasks, outbox)
    // as webhook; help alone after one is its help; a name it does not have is the group's one-line error.
    for (const [group, sub] of [['tasks', 'run'], ['outbox', 'show'], ['webhook', 'send']] as const) {
      const r = runCli([group, 'help', sub]);
      assert.equal(r.code, 0, `${group} help ${sub}: ${r.stderr}`);
      assert.equal(r.stdout, runCli([group, sub, '--help']).stdout, `${group} help ${sub}`);
      assert.match(r.stdout, new RegExp(`^Usage: oktell-emu ${group} ${sub} `));
      const alone = runCli([group, 'help']);
      assert.equal(alone.code, 0, `${group} help: ${alone.stderr}`);
      assert.equal(alone.stdout, runCli([group, '--help']).stdout);
      assert.match(alone.stdout, /\n {2}help \[command\] +display help for command\n/, `${group} --help lists its help command`);
      const wrong = runCli([group, 'help', 'frob']);
      assert.equal(wrong.code, 2);
      assert.equal(wrong.stdout, '');
      assert.match(wrong.stderr, new RegExp(`^oktell-emu: unknown command "frob"(.*); see oktell-emu ${group} --help\n$`));
    }
    assert.equal(runCli(['tasks', 'help', 'run', '--json']).code, 0);
  });

  it('colours: FORCE_COLOR=0 turns them off; --no-color and --color are taken by any command', () => {
    const args = ['run', 'HTTP404', '--dry-run', '-p', '1=/x'];
    const ansi = /\x1b\[/;
    const off = runCliIn(args, { env: { FORCE_COLOR: '0' }, unset: ['NO_COLOR'] });
    assert.equal(off.code, 0, off.stderr);
    assert.doesNotMatch(off.stdout, ansi);
    const noColor = runCliIn([...args, '--no-color'], { env: { FORCE_COLOR: '1' }, unset: ['NO_COLOR'] });
    assert.equal(noColor.code, 0, noColor.stderr);
    assert.doesNotMatch(noColor.stdout, ansi);
    const color = runCliIn([...args, '--color'], { unset: ['NO_COLOR', 'FORCE_COLOR'] });
    assert.equal(color.code, 0, color.stderr);
    assert.match(color.stdout, ansi);
    assert.match(color.stdout, /HTTP404\S* \S*completed/);
  });
});
