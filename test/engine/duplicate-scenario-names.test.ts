// Two files giving one scenario name (`Notify.yaml` and a copy saved as `Notify.yml`) are both reported, and neither
// is loaded: before, the one read last (`.yml`) silently ran instead of the other (trial 48). A hint for an unknown
// AsyncScenario target in a folder of hundreds names ten of them and counts the rest, instead of one line listing all.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioLibrary } from '../../engine/index.js';
import { runCli } from '../cli/cli.helper.js';
import { tempDir } from '../helpers.js';

const answer = (text: string) => `blocks:\n  a:\n    kind: ReturnValue\n    values: { 1: '"${text}"' }\n`;
const starts = (target: string) => `blocks:\n  go:\n    kind: AsyncScenario\n    scenario: ${target}\n    exits: { next: done }\n  done: { kind: Stop }\n`;

describe('two files with one scenario name', () => {
  it('are both reported, neither is loaded, and a scenario starting that name is still valid', async () => {
    const tmp = tempDir();
    try {
      writeFileSync(join(tmp.dir, 'Notify.yaml'), answer('the yaml'));
      writeFileSync(join(tmp.dir, 'Notify.yml'), answer('the yml'));
      writeFileSync(join(tmp.dir, 'Caller.yaml'), starts('Notify'));
      const lib = await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry, displayBase: tmp.dir });
      assert.deepEqual(
        lib.issues.map((i) => [i.file, i.line, i.col, i.code, i.message]),
        [
          ['Notify.yaml', 1, 1, 'E_DUPLICATE_SCENARIO', 'scenario "Notify" is also defined by Notify.yml: neither is loaded, since only one file may give a scenario its name'],
          ['Notify.yml', 1, 1, 'E_DUPLICATE_SCENARIO', 'scenario "Notify" is also defined by Notify.yaml: neither is loaded, since only one file may give a scenario its name'],
        ],
      );
      assert.deepEqual([...lib.scenarios.keys()], ['Caller']);

      const v = runCli(['validate', '--scenarios', tmp.dir]);
      assert.equal(v.code, 1, v.stdout + v.stderr);
      assert.match(v.stdout, /Notify\.yml:1:1 E_DUPLICATE_SCENARIO scenario "Notify" is also defined by Notify\.yaml/);
      assert.match(v.stdout, /hint: keep one of them: remove or rename the other/);
    } finally {
      tmp.cleanup();
    }
  });

  it('a file named on the command line is reported when the folder has its namesake', async () => {
    const tmp = tempDir();
    try {
      writeFileSync(join(tmp.dir, 'Notify.yaml'), answer('the yaml'));
      writeFileSync(join(tmp.dir, 'Notify.yml'), answer('the yml'));
      const lib = await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry, displayBase: tmp.dir }, [join(tmp.dir, 'Notify.yaml')]);
      assert.deepEqual(lib.issues.map((i) => [i.file, i.code]), [['Notify.yaml', 'E_DUPLICATE_SCENARIO']]);
      assert.equal(lib.scenarios.size, 0);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('a copy checked from outside the folder (validate -s DIR /elsewhere/X.yaml)', () => {
  it('stands in for the folder\'s own file of its name, as docs/cli.md says, and is no namesake of it', async () => {
    const tmp = tempDir();
    const away = tempDir();
    try {
      writeFileSync(join(tmp.dir, 'Notify.yaml'), answer('the folder'));
      writeFileSync(join(tmp.dir, 'Caller.yaml'), starts('Notify'));
      writeFileSync(join(away.dir, 'Notify.yaml'), answer('the copy'));
      writeFileSync(join(away.dir, 'Caller.yml'), starts('Notify'));
      const lib = await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry, displayBase: tmp.dir }, [join(away.dir, 'Notify.yaml'), join(away.dir, 'Caller.yml')]);
      assert.deepEqual(lib.issues, []);
      assert.deepEqual([...lib.scenarios.keys()].sort(), ['Caller', 'Notify']);

      const v = runCli(['validate', '--scenarios', tmp.dir, join(away.dir, 'Notify.yaml')]);
      assert.equal(v.code, 0, v.stdout + v.stderr);
      assert.doesNotMatch(v.stdout, /E_DUPLICATE_SCENARIO/);
      // Two copies of one name from outside are still namesakes of each other.
      writeFileSync(join(away.dir, 'Notify.yml'), answer('another copy'));
      const both = runCli(['validate', '--scenarios', tmp.dir, join(away.dir, 'Notify.yaml'), join(away.dir, 'Notify.yml')]);
      assert.equal(both.code, 1, both.stdout + both.stderr);
      assert.match(both.stdout, /Notify\.yml:1:1 E_DUPLICATE_SCENARIO scenario "Notify" is also defined by Notify\.yaml:/);
    } finally {
      tmp.cleanup();
      away.cleanup();
    }
  });
});

describe('an unknown AsyncScenario target in a large folder', () => {
  it('names ten of the known scenarios and counts the others', async () => {
    const tmp = tempDir();
    try {
      for (let i = 1; i <= 30; i++) writeFileSync(join(tmp.dir, `Customer${String(i).padStart(2, '0')}.yaml`), answer(String(i)));
      writeFileSync(join(tmp.dir, 'Router.yaml'), starts('Zzzzzzzzzzzz'));
      const lib = await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry, displayBase: tmp.dir });
      assert.deepEqual(lib.issues.map((i) => [i.file, i.code, i.hint]), [
        ['Router.yaml', 'E_UNKNOWN_SCENARIO', 'create Zzzzzzzzzzzz.yaml next to Router.yaml; known: Customer01, Customer02, Customer03, Customer04, Customer05, Customer06, Customer07, Customer08, Customer09, Customer10 and 21 more'],
      ]);
    } finally {
      tmp.cleanup();
    }
  });
});
