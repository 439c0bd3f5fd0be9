// A scenario named by its file (`Order.yaml`, `Order.yml`, `scenarios/Order.yaml`, or `Order.json`, as a scenario
// kept as JSON elsewhere is named) in an AsyncScenario block or a service task's `scenario:` is pointed to the bare
// name when that scenario exists; before, only a task's `.yaml`/`.yml` was, and the block's hint said to create
// `Order.json.yaml`. A file's name of no scenario here is told the name to write and the file to create.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioLibrary } from '../../engine/index.js';
import { ECHO_DUE } from '../tasks/task-scenarios.js';
import { withTasksProject } from '../tasks/tasks-project.helper.js';
import { tempDir } from '../helpers.js';

const starts = (targets: string[]) => `blocks:\n${targets.map((t, i) => `  go${i}:\n    kind: AsyncScenario\n    scenario: ${t}\n    exits: { next: ${i + 1 < targets.length ? `go${i + 1}` : 'done'} }\n`).join('')}  done: { kind: Stop }\n`;

describe('a scenario named by its file', () => {
  it('an AsyncScenario block naming Order.json, Order.yml or scenarios/Order.yaml gets "did you mean Order"', async () => {
    const tmp = tempDir();
    try {
      writeFileSync(join(tmp.dir, 'Order.yaml'), ECHO_DUE);
      writeFileSync(join(tmp.dir, 'Caller.yaml'), starts(['Order.json', 'Order.yml', 'scenarios/Order.yaml', 'Refund.json']));
      const lib = await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry, displayBase: tmp.dir });
      assert.deepEqual(
        lib.issues.filter((i) => i.code === 'E_UNKNOWN_SCENARIO').map((i) => [i.line, i.message, i.hint]),
        [
          [4, 'scenario "Order.json" does not exist in the scenarios folder', 'did you mean "Order"?'],
          [8, 'scenario "Order.yml" does not exist in the scenarios folder', 'did you mean "Order"?'],
          [12, 'scenario "scenarios/Order.yaml" does not exist in the scenarios folder', 'did you mean "Order"?'],
          [16, 'scenario "Refund.json" does not exist in the scenarios folder', 'write "Refund" (a scenario is named without folder or extension) and create Refund.yaml next to Caller.yaml; known: Caller, Order'],
        ],
      );
    } finally {
      tmp.cleanup();
    }
  });

  it('a typo in a file\'s name (Ordr.json, scenarios/ordr.yaml) gets "did you mean Order", not "create Ordr.yaml"', async () => {
    const tmp = tempDir();
    try {
      writeFileSync(join(tmp.dir, 'Order.yaml'), ECHO_DUE);
      writeFileSync(join(tmp.dir, 'Caller.yaml'), starts(['Ordr.json', 'scenarios/ordr.yaml']));
      const lib = await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry, displayBase: tmp.dir });
      assert.deepEqual(
        lib.issues.filter((i) => i.code === 'E_UNKNOWN_SCENARIO').map((i) => [i.line, i.hint]),
        [[4, 'did you mean "Order"?'], [8, 'did you mean "Order"?']],
      );
    } finally {
      tmp.cleanup();
    }
  });

  it('a service task naming Order.json gets "did you mean Order?", and Order is taken', () => {
    withTasksProject('oktell-task-json-', { 'Order.yaml': ECHO_DUE }, (tasks) => {
      const bad = tasks('serviceTasks:\n  - name: a\n    scenario: Order.json\n    every: 5m\n');
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, /oktell\.config\.yaml:3:15: scenario: "Order\.json" is not in the scenarios folder \(did you mean Order\?\)/);
      const good = tasks('serviceTasks:\n  - name: a\n    scenario: Order\n    every: 5m\n');
      assert.equal(good.code, 0, good.stderr);
    });
  });
});
