// Hot reload of a running server when files are saved the way `sed -i` and many editors save them: a new file
// written next to the old one and renamed over it. Every such save is seen, not only the first.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { saveByRename } from '../helpers.js';
import { AUTH, capturingLogger, startTestServer, waitFor } from './server-helpers.js';

const echo = (text: string) => `variables: { a: string }
start: r
blocks:
  r:
    kind: ReturnValue
    values: { 1: '"${text}"', 2: 200 }
`;

describe('hot reload of files replaced by rename', () => {
  it('sees every rename-save of a scenario, a broken one and its fix included', { timeout: 60_000 }, async () => {
    const t = await startTestServer({ smtp: false, watch: true, extraScenarios: { 'Echo.yaml': echo('one') } });
    try {
      const file = join(t.scenariosDir, 'Echo.yaml');
      const call = async () => (await fetch(`${t.server.url}/execsvcscriptplain?name=Echo`, { headers: { authorization: AUTH } })).text();
      const invalid = async () => ((await (await fetch(`${t.server.url}/-/health`)).json()) as { invalid: number }).invalid;
      assert.equal(await call(), 'one');
      saveByRename(file, echo('two'));
      await waitFor('the first rename-save to load', async () => (await call()) === 'two');
      saveByRename(file, echo('three'));
      await waitFor('the second rename-save to load', async () => (await call()) === 'three');
      saveByRename(file, `${echo('four')}  broken: [\n`);
      await waitFor('the broken save to show in /-/health', async () => (await invalid()) === 1);
      saveByRename(file, echo('five'));
      await waitFor('the fix to load', async () => (await call()) === 'five');
      assert.equal(await invalid(), 0);
    } finally {
      await t.cleanup();
    }
  });

  it('says a scenario is valid again when a broken edit is undone back to the text that runs, and when it is fixed', { timeout: 60_000 }, async () => {
    const { lines, logger } = capturingLogger();
    const t = await startTestServer({ smtp: false, watch: true, logger, extraScenarios: { 'Echo.yaml': echo('one') } });
    try {
      const file = join(t.scenariosDir, 'Echo.yaml');
      const running = t.server.host.library().scenarios.get('Echo')!.version;
      const said = (level: string, text: string) => lines.filter((l) => l.level === level && l.msg?.startsWith(text)).map((l) => l.msg);
      saveByRename(file, `${echo('two')}  broken: [\n`);
      await waitFor('the ERROR about the broken edit', () => said('error', 'scenario Echo is invalid after an edit').length > 0);
      // Back to the very text that runs (`git checkout`): nothing is reloaded, and the log says so.
      saveByRename(file, echo('one'));
      const again = await waitFor('the line that Echo is valid again', () => said('info', 'scenario Echo is valid again')[0]);
      assert.equal(again, `scenario Echo is valid again; running version ${running}, the one that was running`);
      assert.equal(t.server.host.library().scenarios.get('Echo')!.version, running);
      assert.deepEqual(said('info', 'scenarios reloaded'), []);

      // Broken again, then fixed with new content: the new version is named.
      saveByRename(file, `${echo('three')}  broken: [\n`);
      await waitFor('the second ERROR', () => said('error', 'scenario Echo is invalid after an edit').length > 1);
      saveByRename(file, echo('four'));
      await waitFor('the second line that Echo is valid again', () => said('info', 'scenario Echo is valid again').length > 1);
      const fixed = t.server.host.library().scenarios.get('Echo')!.version;
      assert.notEqual(fixed, running);
      assert.equal(said('info', 'scenario Echo is valid again')[1], `scenario Echo is valid again; running version ${fixed}`);
      assert.equal(said('info', 'scenario Echo is valid again').length, 2, 'said once per fix');
    } finally {
      await t.cleanup();
    }
  });

  it('sees rename-saves of a mail template, and of a templates subfolder made after the start', { timeout: 60_000 }, async () => {
    const t = await startTestServer({ smtp: false, watch: true });
    try {
      const template = join(t.scenariosDir, 'templates', 'bpium-new-task.text.njk');
      const good = readFileSync(template, 'utf8');
      const invalid = () => t.server.host.issues().length;
      assert.equal(invalid(), 0);
      saveByRename(template, `${good}{% if %}\n`);
      await waitFor('the broken template to be noticed', () => invalid() > 0);
      saveByRename(template, good);
      await waitFor('the fixed template to be noticed', () => invalid() === 0);

      // A partial in a subfolder made after the start: its rename-saves are seen too.
      const partial = join(t.scenariosDir, 'templates', 'parts', 'signature.njk');
      mkdirSync(dirname(partial));
      saveByRename(partial, 'signed v1');
      saveByRename(join(t.scenariosDir, 'templates', 'note.text.njk'), '{% include "parts/signature.njk" %}\n');
      const note = () => t.server.host.templates.render('note', {}).text;
      await waitFor('the partial to load', () => note()?.includes('signed v1'));
      saveByRename(partial, 'signed v2');
      await waitFor('the first rename-save of the partial to load', () => note()?.includes('signed v2'));
      saveByRename(partial, 'signed v3');
      await waitFor('the second rename-save of the partial to load', () => note()?.includes('signed v3'));
    } finally {
      await t.cleanup();
    }
  });
});
