// Each command's implementation is loaded when that command runs: `--version`, `--help` and a command's own help
// read only the command-line definitions. Checked on the module graph of a real process (a loader hook writes down
// every module it loads), not on timings.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { repoPath, repoRoot, tempDir } from '../helpers.js';
import { cliEnvironment } from './cli.helper.js';

const tmp = tempDir('oktell-lazy-');
after(() => tmp.cleanup());

// The hook runs in the loader's own thread: it appends each module's URL to the file named in the environment.
writeFileSync(join(tmp.dir, 'hooks.mjs'), "import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) {\n  appendFileSync(process.env.LOADED_MODULES, url + '\\n');\n  return next(url, context);\n}\n");
writeFileSync(join(tmp.dir, 'register.mjs'), "import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n");

let count = 0;

/** Runs `oktell-emu …args` with the hook; returns its output and the compiled modules of the repository it loaded. */
function loadedBy(args: string[]): { code: number | null; stdout: string; modules: string[] } {
  const log = join(tmp.dir, `loaded-${++count}.txt`);
  writeFileSync(log, '');
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(join(tmp.dir, 'register.mjs')).href, repoPath('bin', 'oktell-emu.js'), ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: cliEnvironment({ LOADED_MODULES: log }),
    timeout: 30_000,
  });
  const dist = pathToFileURL(repoPath('dist')).href;
  const modules = readFileSync(log, 'utf8').split('\n').filter((u) => u.startsWith(dist)).map((u) => u.slice(dist.length + 1));
  return { code: r.status, stdout: r.stdout, modules };
}

/** What a command's run needs and its definition does not: the engine, the server, the implementations. */
const HEAVY = ['engine/index.js', 'server/serve.js', 'cli/commands/run.js', 'cli/commands/test.js', 'cli/commands/serve.js', 'cli/commands/validate.js', 'cli/config.js'];

describe('commands are loaded when they run', () => {
  it('--version loads the command-line definitions only', () => {
    const r = loadedBy(['--version']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim(), '0.1.0');
    assert.ok(r.modules.includes('cli/main.js'), r.modules.join(', '));
    assert.ok(r.modules.includes('cli/commands/run.command.js'), r.modules.join(', '));
    assert.deepEqual(HEAVY.filter((m) => r.modules.includes(m)), []);
  });

  it('a command\'s --help does not load what the command does', () => {
    const r = loadedBy(['run', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /--dry-run/);
    assert.deepEqual(HEAVY.filter((m) => r.modules.includes(m)), []);
  });

  it('a command that runs loads its own implementation and not the others\'', () => {
    const r = loadedBy(['schema', '--tests']);
    assert.equal(r.code, 0);
    assert.equal(typeof JSON.parse(r.stdout), 'object');
    assert.ok(r.modules.includes('cli/commands/schema.js'), r.modules.join(', '));
    assert.deepEqual(['server/serve.js', 'cli/commands/run.js', 'cli/commands/serve.js'].filter((m) => r.modules.includes(m)), []);
  });
});
