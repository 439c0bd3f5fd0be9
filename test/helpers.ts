// Shared test helpers: where the repository is, temporary folders, and subset matching for golden results.
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tests run from dist/test/…, fixtures stay in the source tree). */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export function repoPath(...parts: string[]): string {
  return join(repoRoot, ...parts);
}

/** A fresh temporary folder, removed by the returned cleanup. */
export function tempDir(prefix = 'oktell-test-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Saves `text` as `file` the way `sed -i` and many editors do: a temporary file in the same folder, renamed over it. */
export function saveByRename(file: string, text: string): void {
  const temp = join(dirname(file), `.${basename(file)}.tmp${process.pid}`);
  writeFileSync(temp, text);
  renameSync(temp, file);
}

/**
 * Asserts that `actual` contains `expected`: objects by the keys `expected` names, arrays element by element with
 * the same length, strings exactly unless the expectation is `{ contains: "…" }`.
 */
export function assertSubset(actual: unknown, expected: unknown, path = '$'): void {
  if (expected && typeof expected === 'object' && !Array.isArray(expected) && 'contains' in expected && Object.keys(expected).length === 1) {
    assert.equal(typeof actual, 'string', `${path}: expected text containing ${JSON.stringify((expected as { contains: string }).contains)}`);
    assert.ok((actual as string).includes((expected as { contains: string }).contains), `${path}: ${JSON.stringify(actual)} does not contain ${JSON.stringify((expected as { contains: string }).contains)}`);
    return;
  }
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path}: expected an array, got ${JSON.stringify(actual)}`);
    assert.equal(actual.length, expected.length, `${path}: expected ${expected.length} item(s), got ${actual.length}: ${JSON.stringify(actual).slice(0, 500)}`);
    expected.forEach((e, i) => assertSubset(actual[i], e, `${path}[${i}]`));
    return;
  }
  if (expected && typeof expected === 'object') {
    assert.ok(actual && typeof actual === 'object', `${path}: expected an object, got ${JSON.stringify(actual)}`);
    for (const [k, v] of Object.entries(expected)) {
      if (v === undefined) continue;
      if (v === '<absent>') {
        assert.ok(!(k in (actual as object)), `${path}.${k}: expected to be absent, got ${JSON.stringify((actual as Record<string, unknown>)[k])}`);
        continue;
      }
      assertSubset((actual as Record<string, unknown>)[k], v, `${path}.${k}`);
    }
    return;
  }
  assert.deepEqual(actual, expected, `${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}
