// `oktell-emu validate [paths…]`: checks scenario files and prints every problem as file:line:col code message.
import { Command } from 'commander';
import { stat } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import pc from 'picocolors';
import { formatIssue, listScenarioFiles, SCENARIO_EXTENSIONS } from '../../engine/index.js';
import { loadLibrary, scenariosDir, UsageError } from '../config.js';

export function validateCommand(): Command {
  return new Command('validate')
    .description('check scenario files (default: every scenario in the scenarios folder); exit 0 when all are valid')
    .argument('[paths...]', 'scenario files or folders')
    .option('-s, --scenarios <dir>', 'scenarios folder (default $OKTELL_SCENARIOS or ./scenarios)')
    .option('--json', 'print the problems as one JSON object')
    .action(async (paths: string[], opts: { scenarios?: string; json?: boolean }) => {
      const groups = await groupByFolder(paths.length ? paths : [scenariosDir(opts.scenarios)]);
      const issues = [];
      let count = 0;
      for (const [dir, files] of groups) {
        const { library } = await loadLibrary(dir, files);
        issues.push(...library.issues);
        count += files?.length ?? (await listScenarioFiles(dir)).length;
      }
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ valid: issues.length === 0, scenarios: count, issues }, null, 2)}\n`);
      } else if (issues.length === 0) {
        process.stdout.write(`${pc.green('✓')} ${count} scenario file(s) valid\n`);
      } else {
        for (const i of issues) process.stdout.write(`${formatIssue(i)}\n`);
        process.stdout.write(`${pc.red('✗')} ${issues.length} problem(s) in ${new Set(issues.map((i) => i.file)).size} file(s)\n`);
      }
      process.exitCode = issues.length ? 1 : 0;
    });
}

/** Files are validated together with the other scenarios of their folder, so references between them resolve. */
async function groupByFolder(paths: string[]): Promise<Map<string, string[] | undefined>> {
  const groups = new Map<string, string[] | undefined>();
  for (const p of paths) {
    const abs = resolve(p);
    const st = await stat(abs).catch(() => undefined);
    if (!st) throw new UsageError(`${p}: no such file or folder`);
    if (st.isDirectory()) {
      groups.set(abs, undefined);
    } else {
      if (!SCENARIO_EXTENSIONS.includes(extname(abs))) throw new UsageError(`${p}: not a scenario file (${SCENARIO_EXTENSIONS.join(', ')})`);
      if (/\.test\.ya?ml$/.test(abs)) throw new UsageError(`${p} is a test file, not a scenario: run it with \`oktell-emu test ${p}\``);
      const dir = dirname(abs);
      if (groups.has(dir) && groups.get(dir) === undefined) continue;
      groups.set(dir, [...(groups.get(dir) ?? []), abs]);
    }
  }
  return groups;
}
