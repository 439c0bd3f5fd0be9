// The oktell-emu command as a user runs it: a real process, real files, exit codes and output checked.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoPath, repoRoot, tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { env });

const body = '@test/fixtures/record-created.json';
const fixtures = ['--bpium-fixtures', 'test/fixtures/bpium-users.yaml'];

describe('oktell-emu validate', () => {
  it('exits 0 and says so when the shipped scenarios are valid', () => {
    const r = cli(['validate']);
    assert.equal(r.code, 0, r.stderr);
    // HTTP404, BpiumNewTask, the WebRequest example BpiumTaskChat, the database examples RecordNotification and DailyReport.
    assert.match(r.stdout, /5 scenario file\(s\) valid/);
  });
  it('exits 1 and prints every problem as file:line:col code message', () => {
    const r = cli(['validate', 'test/scenarios/invalid/three-mistakes.yaml']);
    assert.equal(r.code, 1);
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('test/'));
    assert.deepEqual(
      lines.map((l) => l.split(' ').slice(0, 2).join(' ')),
      ['test/scenarios/invalid/three-mistakes.yaml:9:11 E_UNKNOWN_KIND', 'test/scenarios/invalid/three-mistakes.yaml:13:17 E_UNKNOWN_VARIABLE', 'test/scenarios/invalid/three-mistakes.yaml:14:20 E_UNKNOWN_TARGET'],
    );
  });
  it('exits 2 on a usage error', () => {
    const r = cli(['validate', 'no/such/file.yaml']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no such file/);
  });
  it('finds scenarios through OKTELL_SCENARIOS', () => {
    const r = cli(['validate', '--json'], { OKTELL_SCENARIOS: 'test/cases/call-shares-variables/scenarios' });
    assert.equal(r.code, 0);
    assert.deepEqual(JSON.parse(r.stdout), { valid: true, scenarios: 2, issues: [] });
  });
});

describe('oktell-emu run --dry-run --json', () => {
  it('runs the article chain: 200 in return value 2, BpiumNewTask started, one letter per responsible', () => {
    const r = cli(['run', 'HTTP404', '-p', '1=/Bpium/NewTask', '-p', `4=${body}`, '--dry-run', '--json', ...fixtures]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.scenario, 'HTTP404');
    assert.equal(out.status, 'completed');
    assert.deepEqual(out.returnValues, { '2': 200 });
    assert.equal(out.asyncStarted.length, 1);
    const child = out.asyncStarted[0];
    assert.equal(child.scenario, 'BpiumNewTask');
    assert.equal(typeof child.params['1'], 'string');
    assert.deepEqual(child.result.mails.map((m: { to: string[] }) => m.to), [['ivan.petrov@example.com'], ['maria.smirnova@example.org']]);
    for (const m of child.result.mails) {
      assert.match(m.subject, /Перезвонить клиенту/);
      assert.deepEqual(m.cc, []);
      assert.equal(typeof m.text, 'string');
      assert.equal(typeof m.html, 'string');
    }
    // Answered by --bpium-fixtures: nothing went out, so not performed, and marked as the fixture's.
    assert.deepEqual(child.result.bpiumCalls.map((c: { method: string; catalogId: string; recordId: string; status: string; performed: boolean; fixture?: boolean }) => [c.method, c.catalogId, c.recordId, c.status, c.performed, c.fixture]), [
      ['getRecord', '3', '2', 'ok', false, true],
      ['getRecord', '3', '3', 'ok', false, true],
    ]);
    assert.ok(Array.isArray(out.trace) && out.trace.length === 4);
  });
  it('with another path: no async start and no return value 2', () => {
    const r = cli(['run', 'HTTP404', '-p', '1=/Other/Path', '-p', `4=${body}`, '--dry-run', '--json', ...fixtures]);
    assert.equal(r.code, 0);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out.asyncStarted, []);
    assert.equal(out.returnValues['2'], undefined);
  });
  it('with a malformed body: acknowledged, and the child run takes the parser error exit without crashing', () => {
    const r = cli(['run', 'HTTP404', '-p', '1=/Bpium/NewTask', '-p', '4={"payload": [1, 2', '--dry-run', '--json', ...fixtures]);
    assert.equal(r.code, 0);
    const out = JSON.parse(r.stdout);
    assert.equal(out.returnValues['2'], 200);
    const child = out.asyncStarted[0].result;
    assert.equal(child.trace[1].block, 'parseWebhook');
    assert.equal(child.trace[1].exit, 'error');
    assert.deepEqual(child.mails, []);
  });
  it('a failing scenario exits 1 with the error in the JSON', () => {
    // A live run is recorded in its data folder: a temporary one, never the checkout's var/.
    const tmp = tempDir();
    try {
      const r = cli(['run', 'Spin', '--scenarios', 'test/cases/loop-guard/scenarios', '--json', '--data-dir', tmp.dir]);
      assert.equal(r.code, 1);
      const error = JSON.parse(r.stdout).error as { code: string; message: string; block: string };
      assert.equal(error.code, 'R_STEP_LIMIT');
      // The message names the block the error is placed at (the last that ran), and the one that came next.
      assert.match(error.message, new RegExp(`last block "${error.block}", next "`));
      // The text output says the trace was cut, and where.
      const text = cli(['run', 'Spin', '--scenarios', 'test/cases/loop-guard/scenarios', '--data-dir', tmp.dir]);
      assert.match(text.stdout, /… steps 21–\d+ not shown\. Of \d+ steps the trace keeps the first 5000 and the last 5000, which --json prints\.\n/);
      assert.ok(text.stdout.split('\n').length < 100, 'a runaway loop prints its two ends, not 10,000 lines');
      // --json keeps the first half and the last half: the trace ends where the loop was stopped.
      const steps = (JSON.parse(r.stdout) as { steps: number; trace: Array<{ step: number }> });
      assert.equal(steps.trace.length, 10_000);
      assert.equal(steps.trace[4999]!.step, 5000);
      assert.equal(steps.trace.at(-1)!.step, steps.steps);
    } finally {
      tmp.cleanup();
    }
  });
  it('an unknown scenario exits 2 and still prints one JSON object', () => {
    const r = cli(['run', 'Nope', '--json']);
    assert.equal(r.code, 2);
    const out = JSON.parse(r.stdout);
    assert.equal(out.error.code, 'E_USAGE');
    assert.match(out.error.message, /unknown scenario "Nope"/);
  });
  it('a Bpium block without any Bpium configured names the missing setting', () => {
    const r = cli(['run', 'BpiumNewTask', '-p', `1=${body}`, '--dry-run', '--json']);
    assert.equal(r.code, 1);
    assert.match(JSON.parse(r.stdout).asyncStarted?.[0]?.result?.error?.message ?? JSON.parse(r.stdout).error.message, /BPIUM_URL/);
  });
  it('reads -p N=@file, and -p N=@@text passes a literal leading @', () => {
    const tmp = tempDir();
    try {
      const scen = join(tmp.dir, 'Echo.yaml');
      writeFileSync(scen, "variables: { a: string, b: string }\nstart: s\nblocks:\n  s:\n    kind: InputParameter\n    params: { a: 1, b: 2 }\n    exits: { next: r }\n  r:\n    kind: ReturnValue\n    values: { 1: '[a]', 2: '[b]' }\n");
      writeFileSync(join(tmp.dir, 'in.txt'), 'из файла');
      const r = cli(['run', 'Echo', '--scenarios', tmp.dir, '-p', `1=@${join(tmp.dir, 'in.txt')}`, '-p', '2=@@user', '--json', '--data-dir', join(tmp.dir, 'var')]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout).returnValues, { '1': 'из файла', '2': '@user' });
    } finally {
      tmp.cleanup();
    }
  });
  it('reads -p N=@- from standard input, for one parameter only', () => {
    const tmp = tempDir();
    try {
      writeFileSync(join(tmp.dir, 'Echo.yaml'), "variables: { a: string, b: string }\nstart: s\nblocks:\n  s:\n    kind: InputParameter\n    params: { a: 1, b: 2 }\n    exits: { next: r }\n  r:\n    kind: ReturnValue\n    values: { 1: '[a]', 2: '[b]' }\n");
      const r = runCli(['run', 'Echo', '--scenarios', tmp.dir, '-p', '1=@-', '-p', '2=b', '--json', '--dry-run'], { input: '{"из":"stdin"}\n' });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout).returnValues, { '1': '{"из":"stdin"}\n', '2': 'b' });
      const twice = runCli(['run', 'Echo', '--scenarios', tmp.dir, '-p', '1=@-', '-p', '2=@-', '--dry-run'], { input: 'x' });
      assert.equal(twice.code, 2);
      assert.equal(twice.stderr, 'oktell-emu: -p 2=@-: standard input can be read by one parameter only\n');
    } finally {
      tmp.cleanup();
    }
  });

  it('a bad -p is a usage error', () => {
    const r = cli(['run', 'HTTP404', '-p', 'x=1']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /expected N=value/);
  });
  it('without --json prints a readable trace', () => {
    const r = cli(['run', 'HTTP404', '-p', '1=/Bpium/NewTask', '-p', `4=${body}`, '--dry-run', ...fixtures]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /HTTP404 completed/);
    assert.match(r.stdout, /isNewTask Condition → true/);
    assert.match(r.stdout, /mail dry-run to ivan.petrov@example.com/);
  });
});

describe('oktell-emu graph', () => {
  it('prints a Mermaid flowchart with labelled exits', () => {
    const r = cli(['graph', 'HTTP404']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^flowchart TD/);
    assert.match(r.stdout, /-->\|true\|/);
    assert.match(r.stdout, /Сохранить адрес и содержимое/);
  });
});

describe('oktell-emu run: the cap on effects per run (OKTELL_MAX_EFFECTS)', () => {
  // One employee listed 200 times: each costs a Bpium read and a letter, so the run would make 400 effects.
  const tmp = tempDir('oktell-cap-');
  const file = join(tmp.dir, 'fan-out.json');
  const responsible = Array.from({ length: 200 }, () => ({ id: '2', title: 'Иван' }));
  writeFileSync(file, JSON.stringify({ hook: { id: '1', event: 'record.created', sequenceId: 1 }, payload: { catalogId: '11', recordId: '1', values: { '2': 'много', '4': responsible } } }));
  const run = (env: Record<string, string> = {}) => cli(['run', 'HTTP404', '-p', '1=/Bpium/NewTask', '-p', `4=@${file}`, '--dry-run', '--json', ...fixtures], env);

  it('a dry run stops before the 101st effect by default, with R_EFFECT_LIMIT: 50 letters, 50 Bpium reads', () => {
    const r = run();
    const child = JSON.parse(r.stdout).asyncStarted[0].result;
    assert.equal(child.status, 'failed');
    assert.equal(child.error.code, 'R_EFFECT_LIMIT');
    assert.equal(child.error.retryable, false);
    assert.match(child.error.message, /cap of 100 effects/);
    assert.equal(child.mails.length, 50);
    assert.equal(child.bpiumCalls.length, 50);
  });
  it('maxEffectsPerRun of the configuration file sets the cap, as serve reads it; OKTELL_MAX_EFFECTS over it', () => {
    const config = join(tmp.dir, 'emu.yaml');
    writeFileSync(config, 'maxEffectsPerRun: 6\n');
    const child = JSON.parse(run({ OKTELL_CONFIG: config }).stdout).asyncStarted[0].result;
    assert.equal(child.error.code, 'R_EFFECT_LIMIT');
    assert.equal(child.mails.length, 3);
    const env = JSON.parse(run({ OKTELL_CONFIG: config, OKTELL_MAX_EFFECTS: '10' }).stdout).asyncStarted[0].result;
    assert.equal(env.mails.length, 5);
  });
  it('OKTELL_MAX_EFFECTS sets the cap, and a value that is not a whole number is a usage error', () => {
    const child = JSON.parse(run({ OKTELL_MAX_EFFECTS: '10' }).stdout).asyncStarted[0].result;
    assert.equal(child.error.code, 'R_EFFECT_LIMIT');
    assert.equal(child.mails.length, 5);
    const bad = run({ OKTELL_MAX_EFFECTS: 'many' });
    assert.equal(bad.code, 2);
    assert.match(bad.stdout + bad.stderr, /OKTELL_MAX_EFFECTS=.{0,3}many.{0,3} must be a whole number/);
    tmp.cleanup();
  });
});
