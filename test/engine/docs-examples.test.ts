// The complete example in docs/scenario-format.md is extracted and run, and the published JSON Schema is current.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildScenarioJsonSchema } from '../../components/json-schema.js';
import { defaultRegistry } from '../../components/registry.js';
import { createInProcessStarter, loadScenarioLibrary, randomIds, runScenario, systemClock } from '../../engine/index.js';
import { repoPath, tempDir } from '../helpers.js';

describe('docs/scenario-format.md', () => {
  const doc = readFileSync(repoPath('docs', 'scenario-format.md'), 'utf8');
  const files = [...doc.matchAll(/```yaml\n# file: ([\w-]+\.yaml)\n([\s\S]*?)```/g)];
  it('has a complete example scenario', () => assert.ok(files.length >= 1));
  it('its example scenario loads and answers as the page says', async () => {
    const tmp = tempDir();
    try {
      for (const [, name, body] of files) writeFileSync(join(tmp.dir, name!), body!);
      const lib = await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry });
      assert.deepEqual(lib.issues, []);
      const ports = { clock: systemClock, ids: randomIds, asyncStarter: createInProcessStarter(randomIds, () => Promise.reject(new Error('none'))) };
      const named = await runScenario(lib, 'Greeting', { params: { 1: 'Анна' }, ports });
      assert.equal(named.returnValues['1'], 'Здравствуйте, Анна!');
      assert.equal(named.returnValues['2'], 200);
      const anonymous = await runScenario(lib, 'Greeting', { params: { 1: '  ' }, ports });
      assert.equal(anonymous.returnValues['1'], 'Здравствуйте!');
    } finally {
      tmp.cleanup();
    }
  });
  it('the multi-line expression example fails at "Готово", as its note says (trial s33-docs1 #2)', async () => {
    const block = /own line and column:\n\n {2}```yaml\n([\s\S]*?) {2}```/.exec(doc)?.[1];
    assert.ok(block, 'the page shows the multi-line example');
    const lines = block.split('\n').map((l) => l.slice(2));
    const tmp = tempDir();
    try {
      const head = 'variables: { note: string, status: string }\nblocks:\n  v:\n    kind: Variable\n    set:\n';
      writeFileSync(join(tmp.dir, 'M.yaml'), `${head}${lines.map((l) => (l ? `      ${l}` : l)).join('\n')}\n    exits: { next: end }\n  end: { kind: Stop }\n`);
      const lib = await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry });
      const at = lines.findIndex((l) => l.includes('] Готово')) + 6;
      assert.deepEqual(lib.issues.map((i) => [i.code, i.line, i.col]), [['E_INVALID_EXPRESSION', at, 6 + lines[at - 6]!.indexOf('Готово') + 1]]);
    } finally {
      tmp.cleanup();
    }
  });
  it('documents every block kind and every load-time error code', async () => {
    for (const kind of defaultRegistry.keys()) assert.match(doc, new RegExp(`### ${kind} `), kind);
    const { SCENARIO_ERROR_CODES } = await import('../../engine/index.js');
    for (const code of Object.values(SCENARIO_ERROR_CODES)) {
      if (code === 'E_READ_FAILED' || code === 'E_SCENARIO_NAME') continue;
      assert.ok(doc.includes(code), `${code} is not documented`);
    }
  });
});

describe('schema/scenario.schema.json', () => {
  it('is the schema generated from the block registry (regenerate: npx oktell-emu schema > schema/scenario.schema.json)', () => {
    const committed = JSON.parse(readFileSync(repoPath('schema', 'scenario.schema.json'), 'utf8'));
    assert.deepEqual(committed, buildScenarioJsonSchema(defaultRegistry));
  });
  it('lists every block kind', () => {
    const schema = buildScenarioJsonSchema(defaultRegistry) as { properties: { blocks: { additionalProperties: { properties: { kind: { enum: string[] } } } } } };
    assert.deepEqual(schema.properties.blocks.additionalProperties.properties.kind.enum, [...defaultRegistry.keys()]);
  });
});
