// A templates folder (with its parts/ subfolder) written from a map of file names to texts, for the template tests.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers.js';

/** Writes `files` into a new `templates` folder (its `parts/` made), and the cleanup that removes it. */
export function templateFolder(files: Record<string, string>): { dir: string; cleanup: () => void } {
  const tmp = tempDir();
  const dir = join(tmp.dir, 'templates');
  mkdirSync(join(dir, 'parts'), { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return { dir, cleanup: tmp.cleanup };
}
