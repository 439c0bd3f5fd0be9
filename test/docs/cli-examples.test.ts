// docs/cli.md's examples match what the command line does: the error output shown for an invalid file is the real
// output, and every `--filter` example selects at least one case.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { runCli } from '../cli/cli-process.js';
import { repoPath } from '../helpers.js';

const doc = readFileSync(repoPath('docs', 'cli.md'), 'utf8');

describe('docs/cli.md: the examples are what the command does', () => {
  it('the standard error shown for graph of an invalid file is the real one, line for line', () => {
    const shown = /and on standard error, with exit code 1:\n\n```\n([\s\S]*?)```/.exec(doc)?.[1];
    assert.ok(shown, 'the page shows the standard error of the invalid example');
    const r = runCli(['graph', 'test/scenarios/invalid/three-mistakes.yaml']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.replace(/\x1b\[[0-9;]*m/g, ''), shown);
  });

  const filters = [...doc.matchAll(/^npx oktell-emu test (\S+\.test\.yaml )?--filter ("[^"]+"|\S+)/gm)].map((m) => ({ file: m[1]?.trim(), filter: m[2]!.replace(/^"|"$/g, '') }));
  it('shows --filter examples', () => assert.ok(filters.length >= 1));
  for (const f of filters.filter((x) => !/--update/.test(x.filter))) {
    it(`--filter "${f.filter}" selects a case`, () => {
      const r = runCli(['test', ...(f.file ? [f.file] : []), '--filter', f.filter, '--json']);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(JSON.parse(r.stdout).cases.length >= 1);
    });
  }
});
