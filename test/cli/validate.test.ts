// `oktell-emu validate` through the real binary, run inside a temporary scenarios folder as a new user would.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { runCli } from './cli.helper.js';

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
