// The folder watcher behind hot reload, on real folders: a templates folder moved in with its files already inside is
// a change, though no event names those files.
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { watchScenarioFolders } from '../../adapters/folder-watch.js';
import { tempDir } from '../helpers.js';
import { waitFor } from './server-helpers.js';

describe('watching a scenario folder', () => {
  it('reports a templates folder moved in whole, and then the saves inside it', { timeout: 20_000 }, async () => {
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
