// `oktell-emu graph <Scenario>`: prints the scenario as a Mermaid flowchart.
import { Command } from 'commander';
import { formatIssue, type Scenario } from '../../engine/index.js';
import { loadLibrary, scenariosDir, UsageError } from '../config.js';

export function graphCommand(): Command {
  return new Command('graph')
    .description('print a scenario as a Mermaid flowchart')
    .argument('<scenario>', 'scenario name (file name without .yaml)')
    .option('-s, --scenarios <dir>', 'scenarios folder')
    .action(async (name: string, opts: { scenarios?: string }) => {
      const { library } = await loadLibrary(scenariosDir(opts.scenarios));
      const s = library.scenarios.get(name);
      if (!s) {
        const own = library.issues.filter((i) => i.file.endsWith(`${name}.yaml`) || i.file.endsWith(`${name}.yml`));
        if (own.length) throw new UsageError(`${name} is invalid:\n${own.map(formatIssue).join('\n')}`);
        throw new UsageError(`unknown scenario "${name}"; known: ${[...library.scenarios.keys()].join(', ')}`);
      }
      process.stdout.write(toMermaid(s));
    });
}

/** Mermaid flowchart: a node per block (title and kind), an edge per wired exit, labelled unless it is `next`. */
export function toMermaid(s: Scenario): string {
  const ids = new Map([...s.blocks.keys()].map((id, i) => [id, `b${i}`]));
  const lines = ['flowchart TD', `  start(((${esc(s.name)}))) --> ${ids.get(s.start)}`];
  for (const b of s.blocks.values()) {
    const label = `${esc(b.title ?? b.id)}<br/><small>${esc(b.kind)} · ${esc(b.id)}</small>`;
    const shape = b.kind === 'Condition' ? `{"${label}"}` : b.kind === 'Stop' ? `(["${label}"])` : `["${label}"]`;
    lines.push(`  ${ids.get(b.id)}${shape}`);
  }
  for (const b of s.blocks.values()) {
    for (const [exit, target] of Object.entries(b.exits)) {
      lines.push(`  ${ids.get(b.id)} -->${exit === 'next' ? '' : `|${esc(exit)}|`} ${ids.get(target)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function esc(s: string): string {
  return s.replace(/["<>]/g, (c) => ({ '"': '#quot;', '<': '#lt;', '>': '#gt;' })[c]!);
}
