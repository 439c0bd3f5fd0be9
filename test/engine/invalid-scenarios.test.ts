// Each file in test/scenarios/invalid is named after its defect and says which errors it must produce, and where.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioLibrary } from '../../engine/index.js';
import { repoPath } from '../helpers.js';

const dir = repoPath('test', 'scenarios', 'invalid');
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();

describe('an invalid scenario file reports every mistake at its line and column', () => {
  it('has a corpus of at least fifteen defects', () => {
    assert.ok(files.length >= 15, `only ${files.length} files`);
  });
  for (const file of files) {
    const expected = [...readFileSync(join(dir, file), 'utf8').matchAll(/^# expect: (E_[A-Z_]+) (\d+):(\d+)$/gm)].map((m) => `${m[1]} ${m[2]}:${m[3]}`);
    it(`${file.replace(/\.yaml$/, '').replaceAll('-', ' ')} → ${expected.join(', ')}`, async () => {
      assert.ok(expected.length > 0, 'the file must say what it expects');
      const lib = await loadScenarioLibrary(dir, { registry: defaultRegistry, displayBase: dir }, [join(dir, file)]);
      const got = lib.issues.map((i) => `${i.code} ${i.line}:${i.col}`);
      assert.deepEqual(got.sort(), expected.sort(), lib.issues.map((i) => `${i.file}:${i.line}:${i.col} ${i.code} ${i.message}`).join('\n'));
      for (const i of lib.issues) {
        assert.equal(i.file, file, 'the location names the file');
        assert.ok(i.message.length > 10, 'a message says what is wrong');
      }
      assert.equal(lib.scenarios.size, 0, 'an invalid scenario is not loaded');
    });
  }
});

describe('the hints help to fix the mistake', () => {
  const load = async (name: string) => (await loadScenarioLibrary(dir, { registry: defaultRegistry, displayBase: dir }, [join(dir, name)])).issues[0]!;
  it('an unknown kind lists the known kinds and suggests the closest', async () => {
    const i = await load('unknown-kind.yaml');
    assert.match(i.hint!, /did you mean "Variable"/);
    // Every registered kind, in the registry's order (blocks added later need no change here).
    assert.ok(i.hint!.endsWith(`known kinds: ${[...defaultRegistry.keys()].join(', ')}`), i.hint);
  });
  it('unquoted text in an expression says to quote it', async () => {
    const i = await load('invalid-expression.yaml');
    assert.equal(i.hint, `write '"Кусок текста" + [x]' — text in an expression needs its own quotes; the outer '…' keep them for YAML`);
  });
  it('a JSONPath filter is refused with the reason', async () => {
    const i = await load('jsonpath-filter.yaml');
    assert.match(i.message, /not supported/);
  });
  it('an unknown property suggests the right one', async () => {
    const i = await load('unknown-property.yaml');
    assert.match(i.hint!, /did you mean "set"/);
  });
  it('a bad regular expression says "invalid regular expression" once, with the engine\'s reason', async () => {
    const i = await load('invalid-regex.yaml');
    assert.equal(i.message.match(/invalid regular expression/gi)?.length, 1, i.message);
    assert.match(i.message, /^invalid regular expression: missing closing \): `\(unclosed`$/, i.message);
  });
  it('a backreference or a lookaround is refused naming the construct, RE2 and the way to write it', async () => {
    const back = await load('regex-backreference.yaml');
    assert.equal(back.message, 'invalid regular expression: the backreference \\1 is not supported: RE2 syntax: no backreferences or lookaround (patterns match in time linear in the text)');
    assert.match(back.hint!, /compare the two variables in a Condition/);
    const ahead = await load('regex-lookaround.yaml');
    assert.match(ahead.message, /^invalid regular expression: the lookahead \(\?= is not supported: RE2 syntax: no backreferences or lookaround/);
    assert.match(ahead.hint!, /\(\\d\+\) руб instead of \\d\+\(\?= руб\)/);
  });
  it('a missing property shows the kind\'s example', async () => {
    const i = await load('missing-property.yaml');
    assert.match(i.hint!, /kind: Condition/);
  });
});
