// `validate <file>` checks the file with the scenarios of its folder and reads the `env:` names of the whole folder (so
// a variable another scenario reads is not called unread), loading each scenario file once: the file checked is not
// compiled a second time with the rest of its folder. Its warnings are those of the whole folder's validation.
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { validate, type LibraryLoader } from '../../cli/commands/validate.js';
import { loadLibrary } from '../../cli/config.js';
import { listScenarioFiles } from '../../engine/index.js';
import { repoPath, tempDir } from '../helpers.js';

const FOLDER = repoPath('scenarios');

/** loadLibrary, counting how many times each file is loaded. */
function countingLoader(): { load: LibraryLoader; loads: Map<string, number> } {
  const loads = new Map<string, number>();
  const load: LibraryLoader = async (dir, files, ...rest) => {
    for (const f of files ?? (await listScenarioFiles(dir))) loads.set(f, (loads.get(f) ?? 0) + 1);
    return loadLibrary(dir, files, ...rest);
  };
  return { load, loads };
}

/** Runs `fn` with these variables set in the environment validate reads (process.env), then puts it back. */
async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const before = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

const envWarnings = (warnings: string[]) => warnings.filter((w) => w.startsWith('environment variable '));
// OKTELL_CHAT_TOKEN is read by the shipped BpiumTaskChat only; OKTELL_PROT by nothing.
const ENV = { OKTELL_PROT: '4741', OKTELL_CHAT_TOKEN: 'token-1' };

describe('validate <file> loads each scenario file of its folder once', () => {
  it('every shipped scenario checked alone: each file of the folder loaded once, the env warnings those of the whole folder', async () => {
    await withEnv(ENV, async () => {
      const whole = await validate(new Map([[FOLDER, undefined]]));
      assert.deepEqual(envWarnings(whole.warnings).map((w) => w.split(' ')[2]), ['OKTELL_PROT']);
      const files = await listScenarioFiles(FOLDER);
      for (const file of files) {
        const { load, loads } = countingLoader();
        const one = await validate(new Map([[FOLDER, [file]]]), undefined, undefined, load);
        assert.deepEqual(envWarnings(one.warnings), envWarnings(whole.warnings), file);
        assert.equal(one.count, 1);
        assert.deepEqual([...loads.keys()].sort(), files, `${file}: the whole folder is read for its env: names`);
        assert.deepEqual([...loads].filter(([, n]) => n !== 1), [], `${file}: no file loaded twice`);
      }
    });
  });

  it('a file from outside the folder (--scenarios): it and each file of the folder loaded once; the folder\'s own scenario of that name counts for the env: names', async () => {
    const tmp = tempDir();
    try {
      // An edited copy of BpiumTaskChat that no longer reads OKTELL_CHAT_TOKEN would not change what serve reads
      // until it is saved in the folder: the copy here is unchanged, and the folder's file is what counts.
      const outside = join(tmp.dir, 'BpiumTaskChat.yaml');
      copyFileSync(join(FOLDER, 'BpiumTaskChat.yaml'), outside);
      await withEnv(ENV, async () => {
        const { load, loads } = countingLoader();
        const v = await validate(new Map([[FOLDER, [outside]]]), undefined, undefined, load);
        assert.deepEqual(envWarnings(v.warnings).map((w) => w.split(' ')[2]), ['OKTELL_PROT']);
        assert.deepEqual([...loads.keys()].sort(), [...(await listScenarioFiles(FOLDER)), outside].sort());
        assert.deepEqual([...loads].filter(([, n]) => n !== 1), []);
      });
    } finally {
      tmp.cleanup();
    }
  });
});
