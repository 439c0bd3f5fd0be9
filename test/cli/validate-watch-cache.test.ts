// `validate --watch` keeps each file's load between validations, as the server's reload does: a save parses only the
// file saved, not the whole folder again (a full load of a large folder at every save took seconds). Counted with the
// engine's count of scenario texts loaded, the watch run in this process.
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { validate, ValidationCaches } from '../../cli/commands/validate.js';
import { loadLibrary } from '../../cli/config.js';
import { watchValidation } from '../../cli/commands/validate-watch.js';
import { scenarioTextsLoaded } from '../../engine/index.js';
import { repoPath, saveByRename, tempDir } from '../helpers.js';
import { waitFor } from '../server/server-helpers.js';

const ECHOES = 12;

/** The shipped scenarios and ECHOES one-block ones in a folder of their own, and the watch's output as it grows. */
function watchedFolder() {
  const tmp = tempDir('oktell-watch-cache-');
  const dir = join(tmp.dir, 'scenarios');
  cpSync(repoPath('scenarios'), dir, { recursive: true });
  for (let i = 0; i < ECHOES; i++) writeFileSync(join(dir, `Echo${i}.yaml`), `start: done\nblocks:\n  done: { kind: ReturnValue, values: { 1: '"${i}"' } }\n`);
  let written = '';
  const out = new Writable({ write: (chunk, _enc, done) => void ((written += String(chunk)), done()) });
  return { tmp, dir, out, text: () => written };
}

describe('validate --watch', () => {
  it('parses only the file saved, not the whole folder again', { timeout: 60_000 }, async () => {
    const { tmp, dir, out, text } = watchedFolder();
    const groups = new Map([[dir, undefined]]);
    const saves = () => text().split('\n').filter((l) => /changed/.test(l)).length;
    try {
      const first = await validate(groups);
      assert.deepEqual(first.issues, []);
      const watching = watchValidation(groups, first, out);
      const file = join(dir, 'Echo3.yaml');
      const original = readFileSync(file, 'utf8');
      // The first save may load the folder whole (nothing kept yet when the first validation kept nothing); the next do not.
      saveByRename(file, `${original}# saved once\n`);
      await waitFor('the first save validated', () => /no change/.test(text()), 20_000);
      const after = saves();
      const before = scenarioTextsLoaded();
      saveByRename(file, `${original}# saved twice\n`);
      await waitFor('the second save validated', () => text().split('no change').length > 2, 20_000);
      await new Promise((r) => setTimeout(r, 300));
      const parsed = scenarioTextsLoaded() - before;
      const validations = saves() - after;
      assert.ok(validations >= 1, text());
      // One parse of the file saved per validation it caused (none when its text was already kept), of the folder's 17 files.
      assert.ok(parsed >= 1 && parsed <= validations, `${parsed} texts parsed for ${validations} validation(s):\n${text()}`);
      process.emit('SIGINT');
      await watching;
      assert.match(text(), /stopped watching/);
    } finally {
      tmp.cleanup();
    }
  });

  it('a file named alone, its folder read for the rest: the first save after the command\'s own validation parses that file only', { timeout: 60_000 }, async () => {
    const { tmp, dir, out, text } = watchedFolder();
    const file = join(dir, 'Echo5.yaml');
    const groups = new Map([[dir, [file]]]);
    const caches = new ValidationCaches();
    try {
      // As `validate --watch FILE` does: the first validation keeps its loads for the watch.
      const first = await validate(groups, undefined, undefined, loadLibrary, caches);
      assert.deepEqual(first.issues, []);
      const watching = watchValidation(groups, first, out, undefined, undefined, caches);
      const before = scenarioTextsLoaded();
      saveByRename(file, `${readFileSync(file, 'utf8')}# saved\n`);
      await waitFor('the save validated', () => /no change/.test(text()), 20_000);
      await new Promise((r) => setTimeout(r, 300));
      const parsed = scenarioTextsLoaded() - before;
      assert.equal(parsed, 1, text());
      process.emit('SIGINT');
      await watching;
    } finally {
      tmp.cleanup();
    }
  });
});
