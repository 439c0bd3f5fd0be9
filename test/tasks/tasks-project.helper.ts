// A temporary project for `oktell-emu tasks`: its scenarios folder, and a function that writes oktell.config.yaml and
// runs the command there, with no setting of the environment the test runs in leaking into it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, type CliResult } from '../cli/cli.helper.js';
import { tempDir } from '../helpers.js';

const UNSET = ['OKTELL_DATA_DIR', 'OKTELL_SCENARIOS', 'OKTELL_CONFIG', 'OKTELL_SUBSTR_BASE', 'OKTELL_TZ'];

/** Runs `body` with `tasks(config)` in a temporary project holding `scenarios` (file name → text); removes it after. */
export function withTasksProject(prefix: string, scenarios: Readonly<Record<string, string>>, body: (tasks: (config: string) => CliResult) => void): void {
  const tmp = tempDir(prefix);
  try {
    mkdirSync(join(tmp.dir, 'scenarios'));
    for (const [file, text] of Object.entries(scenarios)) writeFileSync(join(tmp.dir, 'scenarios', file), text);
    body((config) => {
      writeFileSync(join(tmp.dir, 'oktell.config.yaml'), config);
      return runCli(['tasks'], { cwd: tmp.dir, unset: UNSET });
    });
  } finally {
    tmp.cleanup();
  }
}
