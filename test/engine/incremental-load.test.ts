// A load of a scenarios folder that keeps what loading each file gave (the server's reload after a save) finds what a
// full load of the same folder finds, edit after edit, and parses again only the files whose text changed or whose
// values read from the environment or a file changed.
import assert from 'node:assert/strict';
import { cpSync, renameSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createTemplateRenderer } from '../../adapters/mail/templates.js';
import { defaultRegistry } from '../../components/registry.js';
import { createScenarioLoadCache, loadScenarioLibrary, scenarioTextsLoaded, type ScenarioLibrary } from '../../engine/index.js';
import { repoPath, saveByRename, tempDir } from '../helpers.js';

/** Everything a load tells: the scenarios with their versions and starting values, the problems, what each file starts. */
function summary(lib: ScenarioLibrary) {
  return {
    scenarios: [...lib.scenarios.values()]
      .map((s) => ({ name: s.name, version: s.version, variables: [...s.variables.values()].map((v) => ({ name: v.name, initial: v.initial, source: v.source })) }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    issues: lib.issues,
    calls: [...(lib.calls ?? new Map()).entries()].sort(),
    compiled: (lib.compiled ?? []).map((c) => `${c.block.loc.file}:${c.block.id}:${[...c.faulty].join(',')}`).sort(),
    deferred: lib.deferred,
  };
}

const withEnv = (n: string) => `variables:
  n: { type: number, env: OKTELL_RELOAD_TEST_N }
  token: { type: string, file: TOKEN_FILE }
start: r
blocks:
  r:
    kind: ReturnValue
    values: { 1: '[n]', 2: '[token]' }
`.replace('TOKEN_FILE', n);

describe('a load that keeps each file’s result', () => {
  it('finds what a full load finds after every edit, and parses only what changed', async () => {
    const tmp = tempDir('oktell-incremental-');
    try {
      const dir = join(tmp.dir, 'scenarios');
      cpSync(repoPath('scenarios'), dir, { recursive: true });
      const tokenFile = join(tmp.dir, 'token');
      writeFileSync(tokenFile, 'first\n');
      writeFileSync(join(dir, 'EnvValued.yaml'), withEnv(tokenFile));
      const env: Record<string, string | undefined> = { OKTELL_RELOAD_TEST_N: '5' };
      const cache = createScenarioLoadCache();
      const templates = createTemplateRenderer({ dir: join(dir, 'templates') });
      const options = { registry: defaultRegistry, env, timeZone: 'Europe/Moscow', databases: { main: 'sqlite' as const }, displayBase: tmp.dir };
      /** Loads with the kept results (as the server's reload does) and afresh; both must tell the same; returns the parses. */
      const compare = async (step: string) => {
        templates.reload();
        const before = scenarioTextsLoaded();
        const kept = await loadScenarioLibrary(dir, { ...options, templates, cache });
        const parsed = scenarioTextsLoaded() - before;
        const full = await loadScenarioLibrary(dir, { ...options, templates: createTemplateRenderer({ dir: join(dir, 'templates') }) });
        assert.deepEqual(summary(kept), summary(full), step);
        return { parsed, lib: kept };
      };
      const file = (name: string) => join(dir, name);
      const http404 = readFileSync(file('HTTP404.yaml'), 'utf8');

      const first = await compare('first load');
      assert.equal(first.parsed, 6, 'every file parsed at the first load');
      assert.equal(first.lib.issues.length, 0);
      assert.equal(first.lib.scenarios.get('EnvValued')!.variables.get('n')!.initial, 5);

      // Nothing changed: nothing parsed.
      assert.equal((await compare('no change')).parsed, 0);

      // Valid → invalid → valid.
      saveByRename(file('HTTP404.yaml'), `${http404}  broken: [\n`);
      const broken = await compare('HTTP404 broken');
      assert.equal(broken.parsed, 1, 'only the file saved is parsed');
      assert.ok(broken.lib.issues.some((i) => i.file.endsWith('HTTP404.yaml') && i.code === 'E_YAML_SYNTAX'));
      saveByRename(file('HTTP404.yaml'), http404.replace('# ', '#  '));
      assert.equal((await compare('HTTP404 fixed')).parsed, 1);

      // A scenario HTTP404 starts is renamed away: HTTP404, not saved, now names an unknown scenario; then back.
      renameSync(file('BpiumNewTask.yaml'), file('BpiumNewTask2.yaml'));
      const renamed = await compare('BpiumNewTask renamed');
      assert.equal(renamed.parsed, 1, 'the renamed file is parsed under its new name');
      assert.ok(renamed.lib.issues.some((i) => i.file.endsWith('HTTP404.yaml') && i.code === 'E_UNKNOWN_SCENARIO'));
      renameSync(file('BpiumNewTask2.yaml'), file('BpiumNewTask.yaml'));
      assert.equal((await compare('BpiumNewTask renamed back')).lib.issues.length, 0);

      // A namesake (.yml beside .yaml) makes both invalid; removing it makes the unchanged .yaml valid again.
      writeFileSync(file('HTTP404.yml'), http404);
      const twins = await compare('namesake added');
      assert.equal(twins.lib.scenarios.has('HTTP404'), false);
      rmSync(file('HTTP404.yml'));
      const single = await compare('namesake removed');
      assert.equal(single.parsed, 0, 'HTTP404.yaml was not changed');
      assert.equal(single.lib.scenarios.has('HTTP404'), true);

      // A file that is not a scenario (an HTTP fixture list) is reported as such, also when kept.
      writeFileSync(file('fixtures.yaml'), '- match: { url: x }\n  status: 200\n');
      await compare('fixture file added');
      assert.equal((await compare('fixture file kept')).parsed, 0);
      rmSync(file('fixtures.yaml'));

      // Deletion.
      rmSync(file('RecordNotification.yaml'));
      const deleted = await compare('RecordNotification deleted');
      assert.equal(deleted.lib.scenarios.has('RecordNotification'), false);

      // A template change makes DailyReport, not saved, invalid: it reads a variable DailyReport does not declare.
      const template = file('templates/daily-report.text.njk');
      const good = readFileSync(template, 'utf8');
      saveByRename(template, `${good}{{ notDeclared }}\n`);
      const badTemplate = await compare('template reads an undeclared variable');
      assert.equal(badTemplate.parsed, 0);
      assert.ok(badTemplate.lib.issues.some((i) => i.code === 'E_UNKNOWN_TEMPLATE_VARIABLE' && i.message.includes('notDeclared')));
      assert.equal(badTemplate.lib.scenarios.has('DailyReport'), false);
      saveByRename(template, good);
      assert.equal((await compare('template fixed')).lib.scenarios.has('DailyReport'), true);

      // The environment variable EnvValued reads changes while its file does not: it is loaded again.
      env.OKTELL_RELOAD_TEST_N = '7';
      const seven = await compare('env changed');
      assert.equal(seven.parsed, 1);
      assert.equal(seven.lib.scenarios.get('EnvValued')!.variables.get('n')!.initial, 7);
      env.OKTELL_RELOAD_TEST_N = 'not a number';
      const wrong = await compare('env no longer a number');
      assert.ok(wrong.lib.issues.some((i) => i.file.endsWith('EnvValued.yaml') && i.code === 'E_INVALID_VARIABLE'));
      delete env.OKTELL_RELOAD_TEST_N;
      const unset = await compare('env unset');
      assert.equal(unset.lib.scenarios.get('EnvValued')!.variables.get('n')!.source?.missing, true);

      // So does the file a variable reads.
      writeFileSync(tokenFile, 'second\n');
      const token = await compare('token file changed');
      assert.equal(token.parsed, 1);
      assert.equal(token.lib.scenarios.get('EnvValued')!.variables.get('token')!.initial, 'second');
      rmSync(tokenFile);
      assert.equal((await compare('token file removed')).lib.scenarios.get('EnvValued')!.variables.get('token')!.source?.missing, true);

      // Another time zone or other databases: everything is loaded again.
      const zone = scenarioTextsLoaded();
      const moved = await loadScenarioLibrary(dir, { ...options, timeZone: 'Asia/Tokyo', templates, cache });
      assert.equal(scenarioTextsLoaded() - zone, 5);
      assert.equal(moved.scenarios.size, 5);
    } finally {
      tmp.cleanup();
    }
  });
});
