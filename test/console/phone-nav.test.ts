// On a phone every item of the console's menu is on the screen (operator trial 45: at 390 px "Dry run" was cut at
// the right edge of a menu that scrolled with its scrollbar hidden), and an in-page jump still lands below the
// header, which is taller when the menu wraps.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chromiumMissing, consoleContext, useConsoleBrowser } from './console-helpers.js';

describe('the menu on a phone', () => {
  const s = useConsoleBrowser();

  for (const width of [390, 360, 320]) {
    it(`at ${width} px every menu item is whole on the screen, and a jump lands below the header`, { timeout: 60_000 }, async (tc) => {
      if (chromiumMissing) return tc.skip(chromiumMissing);
      const ctx = await consoleContext(s.browser, width, 800);
      try {
        const page = await ctx.newPage();
        const line = s.t.server.host.library().scenarios.get('BpiumNewTask')!.blocks.get('getUser')!.loc.line;
        await page.goto(`${s.t.base}/scenarios/BpiumNewTask#L${line}`);
        const items = page.locator('header.top nav a');
        assert.equal(await items.count(), 6);
        for (const item of await items.all()) {
          const box = (await item.boundingBox())!;
          const name = await item.textContent();
          assert.ok(box.x >= 0 && box.x + box.width <= width, `${name} spans x=${box.x}..${box.x + box.width} on a ${width} px screen`);
        }
        const header = (await page.locator('header.top').boundingBox())!;
        const target = (await page.locator(`tr#L${line}`).boundingBox())!;
        assert.ok(target.y >= header.y + header.height, `line ${line} at y=${target.y} is under the header (bottom ${header.y + header.height})`);
      } finally {
        await ctx.close();
      }
    });
  }
});
