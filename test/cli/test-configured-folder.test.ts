// `oktell-emu test` without --scenarios finds the scenarios folder as `serve` does: -s, else OKTELL_SCENARIOS, else
// `scenarios:` of the configuration file (--config, OKTELL_CONFIG or ./oktell.config.yaml), else ./scenarios. The real
// binary, in a folder whose configuration file names ./flows: the tests of flows/ run, and `--from-run` writes its case
// into flows/tests, not into a ./scenarios folder the server never read.
import assert from 'node:assert/strict';
import { cpSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoPath, tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';
import { recordArticleRun } from './from-run.helper.js';

const UNSET = ['OKTELL_SCENARIOS', 'OKTELL_CONFIG', 'OKTELL_STORE', 'OKTELL_DATA_DIR'];

/** A working folder with copies of the shipped scenarios (their tests included) in each of `folders`. */
function workFolder(config: string | undefined, ...folders: string[]) {
  const tmp = tempDir();
  for (const f of folders) cpSync(repoPath('scenarios'), join(tmp.dir, f), { recursive: true });
  if (config !== undefined) writeFileSync(join(tmp.dir, 'oktell.config.yaml'), config);
  const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { cwd: tmp.dir, env, unset: UNSET.filter((n) => !(n in env)) });
  return { tmp, cli };
}

describe('test reads the scenarios folder of the configuration file when no -s is given', () => {
  it('scenarios: of ./oktell.config.yaml: its tests/ run, with no ./scenarios folder there', () => {
    const { tmp, cli } = workFolder('scenarios: ./flows\n', 'flows');
    try {
      const r = cli(['test', '--filter', 'task-chat']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /^✓ flows\/tests\/task-chat\.test\.yaml › /m);
      assert.match(r.stdout, /^\d+ passed, 0 failed$/m);
    } finally {
      tmp.cleanup();
    }
  });

  it('--config names the file; -s and OKTELL_SCENARIOS still win over it', () => {
    const { tmp, cli } = workFolder(undefined, 'flows', 'other');
    try {
      writeFileSync(join(tmp.dir, 'emu.yaml'), 'scenarios: ./flows\n');
      const viaFlag = cli(['test', '--config', 'emu.yaml', '--filter', 'task-chat']);
      assert.equal(viaFlag.code, 0, viaFlag.stdout + viaFlag.stderr);
      assert.match(viaFlag.stdout, /^✓ flows\/tests\/task-chat\.test\.yaml › /m);
      const viaEnv = cli(['test', '--filter', 'task-chat'], { OKTELL_CONFIG: 'emu.yaml' });
      assert.match(viaEnv.stdout, /^✓ flows\/tests\/task-chat\.test\.yaml › /m, viaEnv.stderr);
      const flag = cli(['test', '--config', 'emu.yaml', '-s', 'other', '--filter', 'task-chat']);
      assert.match(flag.stdout, /^✓ other\/tests\/task-chat\.test\.yaml › /m, flag.stderr);
      const env = cli(['test', '--config', 'emu.yaml', '--filter', 'task-chat'], { OKTELL_SCENARIOS: 'other' });
      assert.match(env.stdout, /^✓ other\/tests\/task-chat\.test\.yaml › /m, env.stderr);
      // A file named and missing is said, as serve says it, even beside -s.
      const missing = cli(['test', '--config', 'emu.yml', '-s', 'other']);
      assert.equal(missing.code, 2, missing.stdout + missing.stderr);
      assert.equal(missing.stderr, 'oktell-emu: config file emu.yml does not exist\n');
    } finally {
      tmp.cleanup();
    }
  });

  it('a configuration file whose form is wrong is refused as serve refuses it (exit 2, at its line)', () => {
    const { tmp, cli } = workFolder('scenario: ./flows\n', 'flows');
    try {
      const r = cli(['test']);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /^oktell-emu: oktell\.config\.yaml:1:1: unknown key "scenario" at the top level \(did you mean "scenarios"\?\)/);
    } finally {
      tmp.cleanup();
    }
  });

  it('--from-run writes its case into the configured folder, not ./scenarios, and says nothing of another folder', async () => {
    // ./scenarios is there too: the case used to land in it, with a warning that the server reads flows.
    const { tmp, cli } = workFolder('scenarios: ./flows\n', 'flows', 'scenarios');
    try {
      const runId = await recordArticleRun(join(tmp.dir, 'var'));
      const r = cli(['test', '--from-run', runId, '--data-dir', 'var']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /^\+ case "[^"]+" written to flows\/tests\/recorded\.test\.yaml$/m);
      assert.match(r.stdout, /^1 passed, 0 failed$/m);
      assert.doesNotMatch(r.stderr, /^!/m, 'no warning about another folder');
      assert.ok(existsSync(join(tmp.dir, 'flows', 'tests', 'recorded.test.yaml')));
      assert.ok(!existsSync(join(tmp.dir, 'scenarios', 'tests', 'recorded.test.yaml')), 'nothing written into ./scenarios');
    } finally {
      tmp.cleanup();
    }
  });

  it('maxEffectsPerRun of the configuration file caps a case\'s run as it caps serve\'s (R_EFFECT_LIMIT); OKTELL_MAX_EFFECTS over it', () => {
    // Two responsible cost four effects (a Bpium read and a letter each): one more than the file's cap of 3.
    const { tmp, cli } = workFolder('maxEffectsPerRun: 3\n', 'scenarios');
    try {
      writeFileSync(
        join(tmp.dir, 'scenarios', 'tests', 'cap.test.yaml'),
        'bpium: bpium-users.yaml\ncases:\n  - name: two responsible are more effects than the configured cap\n    scenario: BpiumNewTask\n    params: { 1: "@webhooks/two-responsible.json" }\n    expect: { status: failed, error: { code: R_EFFECT_LIMIT } }\n',
      );
      const capped = cli(['test', 'scenarios/tests/cap.test.yaml']);
      assert.equal(capped.code, 0, capped.stdout + capped.stderr);
      assert.match(capped.stdout, /^1 passed, 0 failed$/m);
      const env = cli(['test', 'scenarios/tests/cap.test.yaml'], { OKTELL_MAX_EFFECTS: '4' });
      assert.equal(env.code, 1, env.stdout + env.stderr);
      assert.match(env.stdout, /^0 passed, 1 failed$/m);
      // A cap the file's form refuses is said at its line, as serve says it.
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), 'maxEffectsPerRun: 0\n');
      const bad = cli(['test', 'scenarios/tests/cap.test.yaml']);
      assert.equal(bad.code, 2, bad.stdout + bad.stderr);
      assert.match(bad.stderr, /^oktell-emu: oktell\.config\.yaml:1:\d+: /);
    } finally {
      tmp.cleanup();
    }
  });

  it('a test file outside a tests/ folder whose scenario the command\'s folder lacks: the hint says which folder it ran and how to name its own, once', () => {
    const { tmp, cli } = workFolder(undefined, 'scenarios');
    try {
      const file = join(tmp.dir, 'escalate.test.yaml');
      writeFileSync(file, 'cases:\n  - { name: a, scenario: Escalate, expect: {} }\n  - { name: b, scenario: Escalate, expect: {} }\n');
      const r = cli(['test', 'escalate.test.yaml']);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      const hints = r.stderr.split('\n').filter((l) => l.startsWith('    hint: '));
      assert.deepEqual(hints, [
        "    hint: known: BpiumNewTask, BpiumTaskChat, DailyReport, HTTP404, RecordNotification; the file is in no tests/ folder of scenarios, so it runs the command's scenarios folder (--scenarios, OKTELL_SCENARIOS, scenarios: of the configuration file, else ./scenarios): name the folder of its scenarios with --scenarios, or with scenarios: at the top of the file",
        '    hint: known: BpiumNewTask, BpiumTaskChat, DailyReport, HTTP404, RecordNotification',
      ], r.stderr);
    } finally {
      tmp.cleanup();
    }
  });

  it('a test file whose scenarios: key names no folder: located at the key, not a usage error of the command; other files still run', () => {
    const { tmp, cli } = workFolder(undefined, 'scenarios');
    try {
      writeFileSync(join(tmp.dir, 'scenarios', 'tests', 'elsewhere.test.yaml'), 'scenarios: ../flowz\ncases:\n  - { name: a, scenario: HTTP404, expect: {} }\n');
      const r = cli(['test', '--filter', 'task-chat']);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /^scenarios\/tests\/elsewhere\.test\.yaml:1:12 E_INVALID_PROPERTY scenarios: \.\.\/flowz: no folder scenarios\/flowz\n    hint: the path is relative to the test file \(scenarios\/tests\); /m);
      assert.doesNotMatch(r.stderr, /set --scenarios or OKTELL_SCENARIOS/);
      assert.match(r.stdout, /^✓ scenarios\/tests\/task-chat\.test\.yaml › /m);
    } finally {
      tmp.cleanup();
    }
  });
});
