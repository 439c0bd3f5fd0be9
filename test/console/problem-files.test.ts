// The Runs page (where the console lands) and the Jobs page name the scenario files with problems (operator trial
// 45): a file edited into an invalid state while serving (the last good version still runs) and a file that never
// loaded. Plain HTTP against a real server that watches its scenarios folder.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startTestServer, waitFor } from '../server/server-helpers.js';
import { BROKEN_YAML, get, READ_USER_YAML } from './console-helpers.js';

/** The text of the problem-files notice of a page, tags dropped, or undefined when the page has none. */
async function noticeOf(url: string): Promise<string | undefined> {
  const html = await (await get(url)).text();
  const m = /<div class="notice bad problem-files"[^>]*>([\s\S]*?)<\/div>\s*(?=\S)/.exec(html);
  if (!m) return undefined;
  const start = html.indexOf(m[0]);
  const end = html.indexOf('</ul>', start);
  return html.slice(start, end).replace(/<[^>]+>/g, ' ').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/\s+/g, ' ').replace(/ ([,:])/g, '$1').trim();
}

describe('the Runs and Jobs pages name the scenario files with problems', () => {
  it('none while every file is valid; an invalid edit and a file that never loaded once they are there', { timeout: 30_000 }, async () => {
    const t = await startTestServer({ smtp: false, watch: true, env: { SMTP_URL: '' }, extraScenarios: { 'ReadUser.yaml': READ_USER_YAML } });
    const base = `${t.server.url}/-/console`;
    try {
      assert.equal(await noticeOf(`${base}/runs`), undefined, 'no notice while the folder is valid');
      assert.equal(await noticeOf(`${base}/jobs?status=dead`), undefined);

      // ReadUser edited into an invalid state (a variable misspelt on line 17), and a new file that does not load.
      writeFileSync(join(t.scenariosDir, 'ReadUser.yaml'), READ_USER_YAML.replace("record: '[userId]'", "record: '[usrId]'"));
      writeFileSync(join(t.scenariosDir, 'Broken.yaml'), BROKEN_YAML);
      await waitFor('both files to be noticed', () => new Set(t.server.host.issues().map((i) => i.file.replace(/^.*[\\/]/, ''))).size >= 2);

      for (const page of ['/runs', '/jobs?status=dead']) {
        const notice = await noticeOf(`${base}${page}`);
        assert.ok(notice, `${page} has the notice`);
        assert.match(notice, /^2 files of the scenarios folder have problems: what they say is not what runs:/);
        assert.match(notice, /Broken\.yaml: Broken is not loaded, so it cannot run Broken\.yaml:9:\d+ E_UNKNOWN_TARGET/);
        assert.match(notice, /ReadUser\.yaml: the server still runs the last good version of ReadUser ReadUser\.yaml:17:\d+ E_UNKNOWN_VARIABLE unknown variable \[usrId\]/);
      }
      const html = await (await get(`${base}/runs`)).text();
      assert.match(html, /<a href="\/-\/console\/scenarios\/ReadUser">ReadUser\.yaml<\/a>/, 'the file links to its scenario page');

      // Fixed: the notice goes.
      writeFileSync(join(t.scenariosDir, 'ReadUser.yaml'), READ_USER_YAML);
      await waitFor('the fix to load', () => t.server.host.issues().every((i) => !i.file.endsWith('ReadUser.yaml')));
      const after = await noticeOf(`${base}/runs`);
      assert.match(after ?? '', /^1 file of the scenarios folder has problems: what it says is not what runs: Broken\.yaml/);
      assert.doesNotMatch(after ?? '', /ReadUser/);
    } finally {
      await t.cleanup();
    }
  });
});
