// A literal status that no answer may have is named at load wherever the hook scenario sets it: in a ReturnValue
// block, or in a Variable block by the return value's Oktell name («(сл) Возвращаемое значение 2»).
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioText, type Scenario, type ScenarioLibrary } from '../../engine/index.js';
import { hookStatusWarnings } from '../../server/startup-warnings.js';

function library(blocks: string, dir = '.'): ScenarioLibrary {
  const loaded = loadScenarioText(join(dir, 'HTTP404.yaml'), `start: r\nblocks:\n${blocks}`, { registry: defaultRegistry });
  assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.issues));
  const scenario = (loaded as { scenario: Scenario }).scenario;
  return { dir, scenarios: new Map([[scenario.name, scenario]]), issues: [] };
}

const cases: Array<{ name: string; blocks: string; warned: RegExp | undefined }> = [
  { name: 'a ReturnValue block', blocks: `  r:\n    kind: ReturnValue\n    values: { 2: 101 }\n`, warned: /^HTTP404\.yaml:5:\d+: block r .* to 101;/ },
  { name: 'a Variable block by the Russian service name', blocks: `  r:\n    kind: Variable\n    set: { '(сл) Возвращаемое значение 2': 101 }\n    exits: { next: s }\n  s: { kind: Stop }\n`, warned: /^HTTP404\.yaml:5:\d+: block r .* to 101;/ },
  { name: 'a Variable block by the English name, as text', blocks: `  r:\n    kind: Variable\n    set: { Return value 2: '"100"' }\n    exits: { next: s }\n  s: { kind: Stop }\n`, warned: /block r .* to 100;/ },
  { name: 'a Variable block setting a good status', blocks: `  r:\n    kind: Variable\n    set: { '(сл) Возвращаемое значение 2': 200 }\n    exits: { next: s }\n  s: { kind: Stop }\n`, warned: undefined },
  { name: 'a Variable block setting another return value', blocks: `  r:\n    kind: Variable\n    set: { '(сл) Возвращаемое значение 1': 101 }\n    exits: { next: s }\n  s: { kind: Stop }\n`, warned: undefined },
];

describe('hookStatusWarnings', () => {
  for (const c of cases) {
    it(`${c.name}: ${c.warned ? 'named' : 'nothing said'}`, () => {
      const warnings = hookStatusWarnings('HTTP404', library(c.blocks), 2);
      if (c.warned) {
        assert.equal(warnings.length, 1, warnings.join('\n'));
        assert.match(warnings[0]!, c.warned);
      } else assert.deepEqual(warnings, []);
    });
  }

  // The server's log names scenario problems from the scenarios folder (docs/server.md), wherever it was started;
  // validate passes its own namer, which keeps the path as given (from the working folder, as its other problems).
  it('names the file from the scenarios folder, not the working folder; validate keeps the path it was given', () => {
    const dir = relative(process.cwd(), join(tmpdir(), 'elsewhere', 'sc'));
    const lib = library(`  r:\n    kind: ReturnValue\n    values: { 2: 101 }\n`, dir);
    const [warning] = hookStatusWarnings('HTTP404', lib, 2);
    assert.match(warning ?? '', /^HTTP404\.yaml:5:\d+: block r /);
    const [asGiven] = hookStatusWarnings('HTTP404', lib, 2, (file) => file);
    assert.ok(asGiven?.startsWith(`${join(dir, 'HTTP404.yaml')}:5:`), asGiven);
  });
});
