// The documentation stands alone: no page cites a file of a development machine or a path outside the repository.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { repoPath, repoRoot } from '../helpers.js';

/** README and every page under docs/. */
function pages(): string[] {
  return ['README.md', ...readdirSync(repoPath('docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f))];
}

/** Absolute paths of a machine (/work/…, /home/…, /Users/…, C:\…, ~/…) and the shared reference folder. */
const MACHINE_PATH = /(?:^|[\s`(["'])(?:\/work\/|\/home\/|\/Users\/|\/root\/|~\/|[A-Z]:\\)|shared\/reference|shared\/docs/;

describe('docs stand alone', () => {
  for (const page of pages()) {
    it(`${page} names no path of a development machine`, () => {
      const lines = readFileSync(repoPath(page), 'utf8').split('\n');
      const bad = lines.map((l, i) => `${page}:${i + 1}: ${l.trim()}`).filter((_, i) => MACHINE_PATH.test(lines[i]!));
      assert.deepEqual(bad, []);
    });
    it(`${page} links and cites only files inside the repository`, () => {
      const text = readFileSync(repoPath(page), 'utf8');
      const targets = [...text.matchAll(/\]\(([^)\s#]+)[^)]*\)/g), ...text.matchAll(/`((?:\.\.\/)+[^`\s]*)`/g)].map((m) => m[1]!);
      const outside = targets
        .filter((t) => !/^[a-z]+:/i.test(t))
        .filter((t) => {
          const abs = resolve(dirname(repoPath(page)), t);
          return relative(repoRoot, abs).startsWith('..') || !existsSync(abs);
        });
      assert.deepEqual(outside, [], `${page} points outside the repository or at missing files`);
    });
  }
});
