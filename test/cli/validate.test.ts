// `oktell-emu validate` through the real binary, run inside a temporary scenarios folder as a new user would.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCli, startCli } from './cli.helper.js';

/** A scenario with a mistake of its own, an unknown async target, and a template with two problems. */
const mistakes = `variables: { to: string }
start: begin
blocks:
  begin:
    kind: Variable
    set: { to: '[nosuch]' }
    exits: { next: later }
  later:
    kind: AsyncScenario
    scenario: NoSuchScenario
    exits: { next: send }
  send:
    kind: SendMail
    to: '[to]'
    template: hello
`;

describe('oktell-emu validate reports every problem in one pass', () => {
  it('an unknown variable, an unknown AsyncScenario target and template errors together, every path relative', () => {
    const tmp = tempDir();
    try {
      mkdirSync(join(tmp.dir, 'scenarios', 'templates'), { recursive: true });
      writeFileSync(join(tmp.dir, 'scenarios', 'Notify.yaml'), mistakes);
      writeFileSync(join(tmp.dir, 'scenarios', 'templates', 'hello.subject.njk'), 'Привет, {{ authorName }}');
      writeFileSync(join(tmp.dir, 'scenarios', 'templates', 'hello.text.njk'), 'line one\n{% if to %}unclosed\n');
      const r = runCli(['validate', '--json'], { cwd: tmp.dir });
      assert.equal(r.code, 1, r.stderr);
      const out = JSON.parse(r.stdout) as { issues: Array<{ file: string; line: number; col: number; code: string }> };
      assert.deepEqual(
        out.issues.map((i) => `${i.file}:${i.line} ${i.code}`),
        [
          'scenarios/Notify.yaml:6 E_UNKNOWN_VARIABLE',
          'scenarios/Notify.yaml:10 E_UNKNOWN_SCENARIO',
          'scenarios/templates/hello.subject.njk:1 E_UNKNOWN_TEMPLATE_VARIABLE',
          'scenarios/templates/hello.text.njk:2 E_INVALID_TEMPLATE',
        ],
      );
      const text = runCli(['validate'], { cwd: tmp.dir });
      assert.match(text.stdout, /^scenarios\/templates\/hello\.text\.njk:2:\d+ E_INVALID_TEMPLATE/m);
      assert.doesNotMatch(text.stdout, new RegExp(tmp.dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 'no absolute path in the output');
    } finally {
      tmp.cleanup();
    }
  });
});

describe('oktell-emu validate: a block with a mistyped property', () => {
  it('still has its expressions checked in the same pass', () => {
    const tmp = tempDir();
    try {
      mkdirSync(join(tmp.dir, 'scenarios'));
      writeFileSync(
        join(tmp.dir, 'scenarios', 'Typo.yaml'),
        `variables: { to: string }\nstart: a\nblocks:\n  a:\n    kind: SendMail\n    to: '[too]'\n    subjct: '"x"'\n    subject: '"x"'\n    text: '"y"'\n`,
      );
      const r = runCli(['validate'], { cwd: tmp.dir });
      assert.equal(r.code, 1, r.stderr);
      assert.deepEqual(
        r.stdout.split('\n').filter((l) => l.startsWith('scenarios/')).map((l) => l.split(' ').slice(0, 2).join(' ')),
        ['scenarios/Typo.yaml:6:11 E_UNKNOWN_VARIABLE', 'scenarios/Typo.yaml:7:5 E_UNKNOWN_KEY'],
      );
    } finally {
      tmp.cleanup();
    }
  });
});

describe('oktell-emu validate: a wrongly shaped property', () => {
  /** The new user's letter block: a bare variable name, unquoted text, and a body YAML reads as something else. */
  const letter = (text: string) => `variables:
  authorEmail: string
  body: string
start: send
blocks:
  send:
    kind: SendMail
    to: authorEmail
    subject: Письмо отправлено
    text: ${text}
`;
  const problems = (text: string) => {
    const tmp = tempDir();
    try {
      mkdirSync(join(tmp.dir, 'scenarios'));
      writeFileSync(join(tmp.dir, 'scenarios', 'Notify.yaml'), letter(text));
      const r = runCli(['validate', '-s', 'scenarios'], { cwd: tmp.dir });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout, /3 problem\(s\) in 1 file\(s\)/);
      return r.stdout.split('\n').filter((l) => l.startsWith('scenarios/')).map((l) => l.split(' ').slice(0, 2).join(' '));
    } finally {
      tmp.cleanup();
    }
  };

  it('does not hide the expression errors of the other properties: a list', () => {
    assert.deepEqual(problems('[body]'), [
      'scenarios/Notify.yaml:8:9 E_INVALID_EXPRESSION',
      'scenarios/Notify.yaml:9:14 E_INVALID_EXPRESSION',
      'scenarios/Notify.yaml:10:11 E_INVALID_PROPERTY',
    ]);
  });

  it('does not hide the expression errors of the other properties: a mapping', () => {
    assert.deepEqual(problems('{ template: t.njk }'), [
      'scenarios/Notify.yaml:8:9 E_INVALID_EXPRESSION',
      'scenarios/Notify.yaml:9:14 E_INVALID_EXPRESSION',
      'scenarios/Notify.yaml:10:11 E_INVALID_PROPERTY',
    ]);
  });
});

describe('oktell-emu validate --watch', () => {
  const valid = mistakes.replace("'[nosuch]'", "'\"ivan@example.com\"'").replace('scenario: NoSuchScenario', 'scenario: Notify');
  it('stamps each change with the time in OKTELL_TZ and its offset, as runs, show, the logs and outbox do, not the machine\'s zone', { timeout: 60_000 }, async () => {
    const tmp = tempDir();
    const scenarioFile = join(tmp.dir, 'scenarios', 'Notify.yaml');
    mkdirSync(join(tmp.dir, 'scenarios', 'templates'), { recursive: true });
    writeFileSync(scenarioFile, valid);
    writeFileSync(join(tmp.dir, 'scenarios', 'templates', 'hello.subject.njk'), 'Привет');
    writeFileSync(join(tmp.dir, 'scenarios', 'templates', 'hello.text.njk'), 'Письмо для {{ to }}\n');
    // The machine in UTC, the configured zone 5:30 ahead: the stamp must follow the configured one.
    const cli = startCli(['validate', '--watch'], { cwd: tmp.dir, env: { TZ: 'UTC', OKTELL_TZ: 'Asia/Kolkata' } });
    try {
      await cli.waitFor(/watching scenarios for changes/);
      const from = cli.stdout().length;
      writeFileSync(scenarioFile, `${valid}# saved\n`);
      await cli.waitFor(/no change: /, from);
      const line = /^(\S+) scenarios\/Notify\.yaml changed$/m.exec(cli.stdout().slice(from));
      assert.ok(line, cli.stdout().slice(from));
      assert.match(line[1]!, /^\d\d:\d\d:\d\d\+05:30$/);
      // The hour and minute are the wall time in that zone (UTC + 5:30), whatever the machine's zone.
      const [h, m] = line[1]!.split(':').map(Number) as [number, number];
      const expected = new Date(Date.now() + 5.5 * 3600_000);
      const minutes = (h * 60 + m - (expected.getUTCHours() * 60 + expected.getUTCMinutes()) + 1440) % 1440;
      assert.ok(minutes <= 1 || minutes === 1439, `${line[1]} vs ${expected.toISOString()}`);
    } finally {
      cli.child.kill('SIGINT');
      await cli.exited;
      tmp.cleanup();
    }
  });

  it('a file deleted while watched is "removed", and its problems are gone with it, not "fixed"', { timeout: 60_000 }, async () => {
    const tmp = tempDir();
    mkdirSync(join(tmp.dir, 'scenarios', 'templates'), { recursive: true });
    writeFileSync(join(tmp.dir, 'scenarios', 'Notify.yaml'), valid);
    writeFileSync(join(tmp.dir, 'scenarios', 'templates', 'hello.subject.njk'), 'Привет');
    writeFileSync(join(tmp.dir, 'scenarios', 'templates', 'hello.text.njk'), 'Письмо для {{ to }}\n');
    const broken = join(tmp.dir, 'scenarios', 'Broken.yaml');
    const cli = startCli(['validate', '--watch'], { cwd: tmp.dir });
    try {
      await cli.waitFor(/watching scenarios for changes/);
      let from = cli.stdout().length;
      writeFileSync(broken, valid.replace(`'"ivan@example.com"'`, "'[nosuch]'"));
      await cli.waitFor(/new\s+scenarios\/Broken\.yaml:6:18 E_UNKNOWN_VARIABLE[\s\S]*✗ 1 problem\(s\) in 1 file\(s\)/, from);

      from = cli.stdout().length;
      rmSync(broken);
      await cli.waitFor(/✓ .*valid\n/, from);
      const part = cli.stdout().slice(from).replace(/^\S+ /, '');
      assert.equal(
        part,
        [
          'scenarios/Broken.yaml removed',
          '  gone  scenarios/Broken.yaml:6:18 E_UNKNOWN_VARIABLE unknown variable [nosuch] [block begin] (with its file)',
          '  ✓ 1 scenario file(s) valid',
          '',
        ].join('\n'),
      );
      assert.doesNotMatch(part, /changed|fixed/);
    } finally {
      cli.child.kill('SIGINT');
      await cli.exited;
      tmp.cleanup();
    }
  });

  it('validates again on every save of a scenario or template, prints only what changed, and stops cleanly on Ctrl-C', { timeout: 60_000 }, async () => {
    const tmp = tempDir();
    const scenarioFile = join(tmp.dir, 'scenarios', 'Notify.yaml');
    const templateFile = join(tmp.dir, 'scenarios', 'templates', 'hello.text.njk');
    mkdirSync(join(tmp.dir, 'scenarios', 'templates'), { recursive: true });
    writeFileSync(scenarioFile, valid);
    writeFileSync(join(tmp.dir, 'scenarios', 'templates', 'hello.subject.njk'), 'Привет');
    writeFileSync(templateFile, 'Письмо для {{ to }}\n');
    const cli = startCli(['validate', '--watch'], { cwd: tmp.dir });
    try {
      await cli.waitFor(/1 scenario file\(s\) valid\n.*watching scenarios for changes/);

      // A scenario saved with a mistake: the new problem is printed.
      let from = cli.stdout().length;
      writeFileSync(scenarioFile, valid.replace(`'"ivan@example.com"'`, "'[nosuch]'"));
      await cli.waitFor(/✗ 1 problem\(s\) in 1 file\(s\)/, from);
      let part = cli.stdout().slice(from);
      assert.match(part, /scenarios\/Notify\.yaml changed/);
      assert.match(part, /new\s+scenarios\/Notify\.yaml:6:18 E_UNKNOWN_VARIABLE unknown variable \[nosuch\]/);

      // A template saved with a mistake: only that problem is new; the scenario's is not printed again.
      from = cli.stdout().length;
      writeFileSync(templateFile, 'Письмо для {{ to }}, {{ authorName }}\n');
      await cli.waitFor(/✗ 2 problem\(s\) in 2 file\(s\)/, from);
      part = cli.stdout().slice(from);
      assert.match(part, /scenarios\/templates\/hello\.text\.njk changed/);
      assert.match(part, /new\s+scenarios\/templates\/hello\.text\.njk:1:\d+ E_UNKNOWN_TEMPLATE_VARIABLE/);
      assert.doesNotMatch(part, /E_UNKNOWN_VARIABLE/);

      // The scenario fixed: its problem is reported fixed.
      from = cli.stdout().length;
      writeFileSync(scenarioFile, valid);
      await cli.waitFor(/✗ 1 problem\(s\) in 1 file\(s\)/, from);
      part = cli.stdout().slice(from);
      assert.match(part, /fixed scenarios\/Notify\.yaml:6:18 E_UNKNOWN_VARIABLE/);
      assert.doesNotMatch(part, /E_UNKNOWN_TEMPLATE_VARIABLE/);

      // A save that changes nothing says so in one line.
      from = cli.stdout().length;
      writeFileSync(scenarioFile, `${valid}# a comment\n`);
      await cli.waitFor(/no change: ✗ 1 problem\(s\)/, from);

      cli.child.kill('SIGINT');
      const exit = await cli.exited;
      assert.deepEqual(exit, { code: 0, signal: null });
      assert.match(cli.stdout(), /stopped watching\n$/);
      assert.equal(cli.stderr(), '');
    } finally {
      if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL');
      await cli.exited;
      tmp.cleanup();
    }
  });
});
