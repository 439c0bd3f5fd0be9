// A scenario page of a file saved in windows-1251: the console reads it as the loader does, so its source view is not
// the file with every Cyrillic letter as U+FFFD (nor is a diagram drawn from such text), but says what the file is and
// how to save it as UTF-8. Plain HTTP against a real server that watches its scenarios folder.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { startTestServer, waitFor } from '../server/server-helpers.js';
import { get } from './console-helpers.js';

const cp1251 = (text: string) => Buffer.from([...text].map((c) => (c >= 'А' && c <= 'я' ? c.charCodeAt(0) - 0x410 + 0xc0 : c.charCodeAt(0))));

const SCENARIO = ['description: Отвечает', 'variables:', '  x: string', 'start: a', 'blocks:', '  a: { kind: Stop, title: "Готово" }', ''].join('\r\n');

/** The page's text, tags dropped and entities read. */
const textOf = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&').replace(/\s+/g, ' ');

describe('the scenario page of a file saved in windows-1251', () => {
  it('says the file is not UTF-8 and how to save it, for a file that never loaded and for a good one saved so since', { timeout: 30_000 }, async () => {
    const t = await startTestServer({
      smtp: false,
      watch: true,
      env: { SMTP_URL: '' },
      extraScenarios: { 'Good.yaml': SCENARIO },
      before: async (dataDir) => writeFileSync(join(dirname(dataDir), 'scenarios', 'Ansi.yaml'), cp1251(SCENARIO)),
    });
    const base = `${t.server.url}/-/console`;
    try {
      const never = await get(`${base}/scenarios/Ansi`);
      assert.equal(never.status, 200);
      const page = await never.text();
      assert.doesNotMatch(page, /\uFFFD/);
      assert.match(textOf(page), /cannot show Ansi\.yaml as text: the file is not UTF-8: the byte 0xCE at line 1, column 14 is not UTF-8 text; it looks saved as windows-1251 .*; save it as UTF-8 in your editor/);
      assert.doesNotMatch(page, /The file does not load: the diagram shows what could be read/);

      // A good scenario saved again in windows-1251 while serving: the last good version still runs and is drawn, but
      // the file shown is the one on disk.
      writeFileSync(join(t.scenariosDir, 'Good.yaml'), cp1251(SCENARIO));
      await waitFor('the edit to be noticed', () => t.server.host.issues().some((i) => i.file.endsWith('Good.yaml')));
      const stale = await (await get(`${base}/scenarios/Good`)).text();
      assert.doesNotMatch(stale, /\uFFFD/);
      assert.match(textOf(stale), /cannot show Good\.yaml as text: the file is not UTF-8/);
    } finally {
      await t.cleanup();
    }
  });
});
