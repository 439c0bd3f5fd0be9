// A block that writes to the outside world from the hook scenario (or from a scenario it runs synchronously) is
// named at load with its place: the hook's run is not a job, so such a write that fails is lost. Reads, and writes
// left to a scenario started asynchronously, are not named.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioLibrary, loadScenarioText, type Scenario, type ScenarioLibrary } from '../../engine/index.js';
import { hookWriteWarnings } from '../../server/startup-warnings.js';
import { repoPath } from '../helpers.js';
import { startWarnings, warningAfterEdit } from './start-warnings.helper.js';

/** A library of the given files (name → text), as the server holds it. */
function library(files: Record<string, string>): ScenarioLibrary {
  const scenarios = new Map<string, Scenario>();
  for (const [file, text] of Object.entries(files)) {
    const loaded = loadScenarioText(file, text, { registry: defaultRegistry });
    assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.issues));
    const scenario = (loaded as { scenario: Scenario }).scenario;
    scenarios.set(scenario.name, scenario);
  }
  return { dir: '.', scenarios, issues: [] };
}

/** A hook scenario whose block w (at line 4, column 3) is the given block, after a first one that leads to it. */
function hook(block: string): string {
  return `start: a\nblocks:\n  a: { kind: Condition, expression: '1 = 1', exits: { true: w } }\n  w:\n${block}`;
}

const FIX = /; do it in a scenario the hook starts with AsyncScenario in async mode, which runs as a job \(as the shipped HTTP404 starts BpiumNewTask\)$/;

const writes: Array<{ name: string; block: string; what: string }> = [
  { name: 'SendMail', block: `    kind: SendMail\n    to: '"ops@example.com"'\n    subject: '"s"'\n    text: '"t"'\n`, what: 'sends a letter' },
  { name: 'Bpium createRecord', block: `    kind: Bpium\n    method: createRecord\n    catalog: '"11"'\n    values: { 2: '"x"' }\n`, what: 'creates a Bpium record' },
  { name: 'Bpium updateRecord', block: `    kind: Bpium\n    method: updateRecord\n    catalog: '"11"'\n    record: '"5"'\n    values: { 2: '"x"' }\n`, what: 'changes a Bpium record' },
  { name: 'Bpium deleteRecord', block: `    kind: Bpium\n    method: deleteRecord\n    catalog: '"11"'\n    record: '"5"'\n`, what: 'deletes a Bpium record' },
  { name: 'WebRequest POST', block: `    kind: WebRequest\n    method: POST\n    url: '"https://example.com/x"'\n    body: '"b"'\n`, what: 'sends a POST request' },
  { name: 'WebRequest DELETE', block: `    kind: WebRequest\n    method: DELETE\n    url: '"https://example.com/x"'\n`, what: 'sends a DELETE request' },
  { name: 'DbQuery INSERT', block: `    kind: DbQuery\n    sql: INSERT INTO seen (id) VALUES (1)\n`, what: 'writes to the database "main"' },
  { name: 'DbProcedure', block: `    kind: DbProcedure\n    connection: crm\n    procedure: register_call\n`, what: 'calls the stored procedure register_call on "crm", which may change the database' },
];

const reads: Array<{ name: string; block: string }> = [
  { name: 'Bpium getRecord', block: `    kind: Bpium\n    method: getRecord\n    catalog: '"11"'\n    record: '"5"'\n` },
  { name: 'Bpium findRecord', block: `    kind: Bpium\n    method: findRecord\n    catalog: '"11"'\n    filters: { 2: '"x"' }\n` },
  { name: 'WebRequest GET', block: `    kind: WebRequest\n    url: '"https://example.com/x"'\n` },
  { name: 'DbQuery SELECT', block: `    kind: DbQuery\n    sql: SELECT 1 AS one\n` },
  { name: 'AsyncScenario in async mode (a job)', block: `    kind: AsyncScenario\n    scenario: Notify\n` },
];

const NOTIFY = `start: n\nblocks:\n  n:\n    kind: SendMail\n    to: '"ops@example.com"'\n    subject: '"s"'\n    text: '"t"'\n`;

describe('hookWriteWarnings', () => {
  for (const c of writes) {
    it(`${c.name}: named with its place, what it does, the consequence and the fix`, () => {
      const warnings = hookWriteWarnings('HTTP404', library({ 'HTTP404.yaml': hook(c.block) }));
      assert.equal(warnings.length, 1, warnings.join('\n'));
      assert.ok(warnings[0]!.startsWith(`HTTP404.yaml:4:3: block w of the hook scenario HTTP404 ${c.what} while the webhook waits: if it fails it is not retried and leaves no dead letter`), warnings[0]);
      assert.match(warnings[0]!, FIX);
    });
  }

  for (const c of reads) {
    it(`${c.name}: nothing said`, () => {
      assert.deepEqual(hookWriteWarnings('HTTP404', library({ 'HTTP404.yaml': hook(c.block), 'Notify.yaml': NOTIFY })), []);
    });
  }

  it('the shipped scenarios: nothing said (HTTP404 starts its work with AsyncScenario)', async () => {
    const shipped = await loadScenarioLibrary(repoPath('scenarios'), { registry: defaultRegistry });
    assert.ok(shipped.scenarios.has('HTTP404'));
    assert.deepEqual(hookWriteWarnings('HTTP404', shipped), []);
  });

  for (const mode of ['call', 'jump']) {
    it(`a write in a scenario the hook runs in ${mode} mode: named in that scenario's file, with the route`, () => {
      const warnings = hookWriteWarnings('HTTP404', library({ 'HTTP404.yaml': hook(`    kind: AsyncScenario\n    scenario: Notify\n    mode: ${mode}\n`), 'Notify.yaml': NOTIFY }));
      assert.equal(warnings.length, 1, warnings.join('\n'));
      assert.ok(warnings[0]!.startsWith(`Notify.yaml:3:3: block n of scenario Notify, which the hook scenario HTTP404 runs through block w (${mode}), sends a letter while the webhook waits:`), warnings[0]);
    });
  }

  it('scenarios that call each other: each block named once, and the walk ends', () => {
    const callBack = (to: string) => `\n  back:\n    kind: AsyncScenario\n    scenario: ${to}\n    mode: call\n`;
    const warnings = hookWriteWarnings(
      'HTTP404',
      library({
        'HTTP404.yaml': hook(`    kind: AsyncScenario\n    scenario: Notify\n    mode: call\n    exits: { next: mail }\n  mail:\n    kind: SendMail\n    to: '"a@example.com"'\n    subject: '"s"'\n    text: '"t"'\n`),
        'Notify.yaml': `${NOTIFY}    exits: { success: back }${callBack('HTTP404')}`,
      }),
    );
    assert.deepEqual(
      warnings.map((w) => w.slice(0, w.indexOf(' of '))),
      ['HTTP404.yaml:9:3: block mail', 'Notify.yaml:3:3: block n'],
    );
  });
});

describe('writes in the hook scenario, told by the running server', () => {
  const WAITS = 'while the webhook waits';

  it('are named at start, in the banner warnings and the log', { timeout: 60_000 }, async () => {
    const mail = `    kind: SendMail\n    to: '"ops@example.com"'\n    subject: '"s"'\n    text: '"t"'\n`;
    const { found, all } = await startWarnings(WAITS, { 'HTTP404.yaml': hook(mail) });
    assert.equal(found.length, 1, all.join('\n'));
    assert.match(found[0]!, /^HTTP404\.yaml:4:3: block w of the hook scenario HTTP404 sends a letter while the webhook waits: if it fails it is not retried and leaves no dead letter;/);
  });

  it('are not named for the shipped HTTP404, and are named when an edit brings one in (hot reload)', { timeout: 60_000 }, async () => {
    const create = `    kind: Bpium\n    method: createRecord\n    catalog: '"11"'\n    values: { 2: '"x"' }\n`;
    const said = await warningAfterEdit(WAITS, 'HTTP404.yaml', hook(create));
    assert.match(said, /^HTTP404\.yaml:4:3: block w of the hook scenario HTTP404 creates a Bpium record while the webhook waits:/);
  });
});
