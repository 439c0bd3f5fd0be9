// The folder watcher behind hot reload, on real folders: a templates folder moved in with its files already inside is
// a change though no event names those files, and so is one moved away, whose subfolders are then no longer watched.
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { watchScenarioFolders } from '../../adapters/folder-watch.js';
import { tempDir } from '../helpers.js';
import { waitFor } from './server-helpers.js';

describe('watching a scenario folder', () => {
  it('reports a templates folder moved in whole, the saves inside it, and its moving away', { timeout: 20_000 }, async () => {
    const tmp = tempDir();
    const changes: string[][] = [];
    const root = join(tmp.dir, 'scenarios');
    mkdirSync(root);
    const w = watchScenarioFolders([root], { onChange: (files) => changes.push(files), onError: () => undefined, settleMs: 20 });
    try {
      const prepared = join(tmp.dir, 'prepared');
      mkdirSync(prepared);
      writeFileSync(join(prepared, 'note.text.njk'), 'v1');
      renameSync(prepared, join(root, 'templates'));
      await waitFor('the moved-in folder to be reported', () => changes.length === 1);
      writeFileSync(join(root, 'templates', 'note.text.njk'), 'v2');
      await waitFor('a save inside it to be reported', () => changes.some((c) => c.includes(join(root, 'templates', 'note.text.njk'))));
      // templates/ moved away with a subfolder: nothing under its new place is reported.
      mkdirSync(join(root, 'templates', 'parts'));
      await waitFor('the new subfolder to be reported', () => changes.length >= 3);
      const away = join(tmp.dir, 'away');
      renameSync(join(root, 'templates'), away);
      await waitFor('the move to be reported', () => changes.length >= 4);
      const afterMove = changes.length;
      writeFileSync(join(away, 'parts', 'p.njk'), 'elsewhere');
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(changes.length, afterMove, 'a save in the moved-away folder is not a change here');
      // A folder that is not templates/ (tests, db) is not watched, and a file there is no change.
      const before = changes.length;
      mkdirSync(join(root, 'tests'));
      writeFileSync(join(root, 'tests', 'x.txt'), 'no');
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(changes.length, before);
    } finally {
      w.close();
      tmp.cleanup();
    }
  });
});

describe('watching a scenario folder saved by Windows editors', () => {
  it('reports saves of HTTP404.YAML and X.YML, which the folder lists as scenarios', { timeout: 20_000 }, async () => {
    const tmp = tempDir();
    const changes: string[][] = [];
    const root = join(tmp.dir, 'scenarios');
    mkdirSync(root);
    const w = watchScenarioFolders([root], { onChange: (files) => changes.push(files), onError: () => undefined, settleMs: 20 });
    try {
      for (const file of [join(root, 'HTTP404.YAML'), join(root, 'X.YML')]) {
        writeFileSync(file, 'v1');
        await waitFor(`a save of ${file} to be reported`, () => changes.some((c) => c.includes(file)));
      }
    } finally {
      w.close();
      tmp.cleanup();
    }
  });
});
