// How the oktell-emu binary fails: a mistake of the user is one line and exit 2, never a stack.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoPath, tempDir } from '../helpers.js';
import { runCli } from './cli-process.js';

describe('oktell-emu: errors the user can fix', () => {
  it('bpium-emulator with an invalid seed prints what is wrong and exits 2, without a stack', () => {
    const tmp = tempDir();
    try {
      const seed = join(tmp.dir, 'bad-seed.yaml');
      const text = readFileSync(repoPath('bpium-emulator', 'seed.yaml'), 'utf8');
      const broken = text.replace('    events: [record.created]\n', '    events: [record.created]\n    trackFields: ["6"]\n');
      assert.notEqual(broken, text, 'the seed has the webhook the test breaks');
      writeFileSync(seed, broken);
      const r = runCli(['bpium-emulator', '--seed', seed, '--port', '0', '--data-dir', join(tmp.dir, 'var')]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr, 'oktell-emu: invalid Bpium seed: webhooks.0: trackFields: catalog 11 has no field "6"\n');
    } finally {
      tmp.cleanup();
    }
  });
});
