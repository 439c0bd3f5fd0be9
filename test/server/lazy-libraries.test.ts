// Libraries only a run or a rarer scenario needs are loaded when first used, not when the server reads its scenarios:
// re2js (a Parser regex) and jsonpath-plus (a Parser JSONPath query at run time). Checked on the modules a real
// process loads (a loader hook writes down every ES module; the CommonJS cache shows the rest), not on timings; and
// once loaded late, they work as before.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { repoPath, tempDir } from '../helpers.js';

const tmp = tempDir('oktell-lazy-libs-');
after(() => tmp.cleanup());

writeFileSync(join(tmp.dir, 'hooks.mjs'), "import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) {\n  appendFileSync(process.env.LOADED_MODULES, url + '\\n');\n  return next(url, context);\n}\n");
writeFileSync(join(tmp.dir, 'register.mjs'), "import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n");

const LAZY = ['re2js', 'jsonpath-plus'];

// Reads the shipped scenarios as the server does, notes what is loaded, then uses both libraries.
const script = `
import { createRequire } from 'node:module';
const dist = ${JSON.stringify(pathToFileURL(repoPath('dist')).href)};
const { readScenarios } = await import(dist + '/server/scenario-host.js');
const read = readScenarios(${JSON.stringify(repoPath('scenarios'))}, { timeZone: 'UTC' });
const { loaded } = await read.done;
const cached = () => Object.keys(createRequire(import.meta.url).cache).filter((f) => ${JSON.stringify(LAZY)}.some((l) => f.includes('/node_modules/' + l + '/')));
const before = cached();
const { compilePattern, allMatches } = await import(dist + '/components/re2-pattern.js');
const { queryJsonPath } = await import(dist + '/engine/index.js');
const p = compilePattern('(\\\\d+) руб', 'i');
const matches = p.ok ? allMatches(p.re, '15 руб и 20 РУБ', 1) : p.problem;
const found = queryJsonPath('$.a[*].b', { a: [{ b: 1 }, { b: 2 }] });
console.log(JSON.stringify({ scenarios: loaded.scenarios.size, issues: loaded.issues.length, before, after: cached().length, matches, found }));
`;

describe('libraries loaded when first used', () => {
  it('reading the shipped scenarios loads neither re2js nor jsonpath-plus; a regex and a JSONPath query then work', () => {
    const log = join(tmp.dir, 'loaded.txt');
    writeFileSync(log, '');
    const r = spawnSync(process.execPath, ['--import', pathToFileURL(join(tmp.dir, 'register.mjs')).href, '--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, LOADED_MODULES: log },
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { scenarios: number; issues: number; before: string[]; after: number; matches: unknown; found: unknown };
    assert.ok(out.scenarios > 0 && out.issues === 0, r.stdout);
    const loadedBeforeUse = readFileSync(log, 'utf8')
      .split('\n')
      .filter((u) => LAZY.some((l) => u.includes(`/node_modules/${l}/`)));
    assert.deepEqual(loadedBeforeUse, []);
    assert.deepEqual(out.before, []);
    assert.equal(out.after, 2);
    assert.deepEqual(out.matches, { done: true, values: ['15', '20'] });
    assert.deepEqual(out.found, [1, 2]);
  });
});
