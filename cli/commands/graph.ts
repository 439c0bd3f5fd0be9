// `oktell-emu graph <Scenario>`: draws a scenario as a Mermaid flowchart or as the console's SVG. Unwired exits show
// how the run ends there; an invalid scenario is drawn as far as its YAML can be read, with its problems listed.
import type { GraphFormat } from './graph.command.js';
import { readFile, writeFile } from 'node:fs/promises';
import { relative } from 'node:path';
import pc from 'picocolors';
import { defaultRegistry } from '../../components/registry.js';
import {
  EXIT_END_LABELS,
  closest,
  decodeTextFile,
  outlineOfScenario,
  outlineOfText,
  scenarioFileNamed,
  scenarioNameOf,
  type ExitEnd,
  type ScenarioIssue,
  type ScenarioOutline,
} from '../../engine/index.js';
import { loadLibrary, scenarioTarget, UsageError } from '../config.js';
import { issueText, terminalText } from '../format.js';



export async function graphAction(arg: string, opts: { scenarios?: string; config?: string; format: GraphFormat; output?: string }): Promise<void> {
  const { dir, name, file } = scenarioTarget(arg, opts.scenarios, opts.config);
  const { library } = await loadLibrary(dir, file ? [file] : undefined);
  const problems = library.issues.filter((i) => scenarioNameOf(i.file) === name);
  const loaded = library.scenarios.get(name);
  let outline: ScenarioOutline;
  if (loaded) outline = outlineOfScenario(loaded);
  else {
    const path = file ?? scenarioFileNamed(dir, name);
    if (!path) {
      const guess = closest(name, library.scenarios.keys());
      throw new UsageError(`unknown scenario "${name}"${guess !== undefined ? `; did you mean "${guess}"?` : ''}; known: ${[...library.scenarios.keys()].join(', ')}`);
    }
    // Read as the loader reads it: a file saved in windows-1251 or as UTF-16 is drawn as nothing, not as blocks whose
    // titles are U+FFFD; the loader's problem (its first byte that is not UTF-8, the code page) is listed below.
    const read = decodeTextFile(await readFile(path));
    outline = read.ok ? outlineOfText(relative(process.cwd(), path) || path, read.text, defaultRegistry) : { name, blocks: [] };
  }
  const named = new Set(problems.map((p) => p.block).filter((b): b is string => b !== undefined));
  for (const b of outline.blocks) if (named.has(b.id)) b.problem = true;

  const text = opts.format === 'svg' ? (await import('../../server/console/diagram-svg.js')).diagramSvg(outline) : toMermaid(outline, problems);
  if (opts.output) {
    await writeFile(opts.output, text);
    process.stdout.write(`wrote ${opts.output}\n`);
  } else process.stdout.write(text);
  if (problems.length) {
    for (const p of problems) process.stderr.write(`${issueText(p)}\n`);
    process.stderr.write(`${pc.red('✗')} ${problems.length} problem(s) in ${terminalText(name)}: the diagram shows what could be read\n`);
    process.exitCode = 1;
  }
}


/** Mermaid classes of the terminal nodes and of blocks with problems (colours as in the console). */
const MERMAID_CLASSES: Record<ExitEnd | 'missing' | 'problem', string> = {
  ends: 'fill:#fff,stroke:#9aa6b8,stroke-dasharray:4 3,color:#4b5565',
  retry: 'fill:#fff4e0,stroke:#a05a00,stroke-dasharray:4 3,color:#a05a00',
  fails: 'fill:#fdecec,stroke:#c3292e,stroke-dasharray:4 3,color:#c3292e',
  missing: 'fill:#fdecec,stroke:#c3292e,stroke-dasharray:4 3,color:#c3292e',
  problem: 'stroke:#c3292e,stroke-width:3px,stroke-dasharray:6 3',
};

/**
 * Mermaid flowchart: a node per block (title, kind and id, a Condition's expression or an AsyncScenario's target),
 * an edge per exit, labelled unless it is `next`; an unwired exit leads to a small node saying how the run ends.
 * Problems of an invalid scenario come first, as comments.
 */
export function toMermaid(o: ScenarioOutline, problems: readonly ScenarioIssue[] = []): string {
  const ids = new Map(o.blocks.map((b, i) => [b.id, `b${i}`]));
  const lines = ['flowchart TD'];
  if (problems.length) {
    lines.push(`%% ${problems.length} problem(s); the diagram shows what could be read:`);
    for (const p of problems) lines.push(`%% ${oneLine(`${p.file}:${p.line}:${p.col} ${p.code} ${p.message}`)}`);
  }
  // Links are numbered in the order written, for `linkStyle`: the start arrow first.
  let links = 0;
  const unknownLinks: number[] = [];
  if (o.start !== undefined) {
    lines.push(`  start((("${esc(o.name)}"))) --> ${ids.get(o.start)}`);
    links++;
  }
  const used = new Set<keyof typeof MERMAID_CLASSES>();
  for (const b of o.blocks) {
    const detail = b.detail ? `<br/><code>${esc(b.detail)}</code>` : '';
    const label = `${esc(b.title ?? b.id)}<br/><small>${esc(b.kind)} · ${esc(b.id)}</small>${detail}`;
    const shape = b.kind === 'Condition' ? `{"${label}"}` : b.kind === 'Stop' ? `(["${label}"])` : `["${label}"]`;
    lines.push(`  ${ids.get(b.id)}${shape}${b.problem ? ':::problem' : ''}`);
    if (b.problem) used.add('problem');
  }
  const missing = new Map<string, string>();
  let ends = 0;
  for (const b of o.blocks) {
    for (const x of b.exits) {
      // An exit the block's kind does not have (an invalid file): dotted and red, marked ✗, its problem as a comment.
      if (x.unknown) {
        lines.push(`  %% ${oneLine(x.unknown.message)}`);
        unknownLinks.push(links);
      }
      links++;
      const arrow = x.unknown ? `  ${ids.get(b.id)} -.->|✗ ${esc(x.exit)}| ` : `  ${ids.get(b.id)} -->${x.exit === 'next' ? '' : `|${esc(x.exit)}|`} `;
      if (x.end) {
        const id = `e${ends++}`;
        lines.push(`${arrow}${id}(["${EXIT_END_LABELS[x.end]}"]):::${x.end}`);
        used.add(x.end);
      } else if (x.missing) {
        let id = missing.get(x.target!);
        if (!id) {
          id = `m${missing.size}`;
          missing.set(x.target!, id);
          lines.push(`  ${id}(["no block #quot;${esc(x.target!)}#quot;"]):::missing`);
          used.add('missing');
        }
        lines.push(`${arrow}${id}`);
      } else lines.push(`${arrow}${ids.get(x.target!)}`);
    }
  }
  for (const c of used) lines.push(`  classDef ${c} ${MERMAID_CLASSES[c]}`);
  if (unknownLinks.length) lines.push(`  linkStyle ${unknownLinks.join(',')} stroke:#c3292e,color:#c3292e`);
  return `${lines.join('\n')}\n`;
}

/**
 * Text from the scenario (a name, a title, an expression, a problem quoting them) on one line of Mermaid: line breaks
 * and other white space as one space, and every other control character (ESC, BEL, DEL, C1, the bidirectional
 * controls) as a visible `\uXXXX`, as the terminal shows them: the diagram is often printed to one, and a raw ESC
 * would drive it. `%` is written `\u0025` so that no `%%{…}%%` of the scenario's text is read as a Mermaid directive
 * (its configuration, such as the security level), which Mermaid looks for anywhere, comments included.
 */
function oneLine(s: string): string {
  return terminalText(s.replace(/\s+/g, ' ')).replace(/%/g, '\\u0025');
}

const MERMAID_ENTITIES: Readonly<Record<string, string>> = { '"': '#quot;', '<': '#lt;', '>': '#gt;', '#': '#35;', '&': '#amp;', '`': '#96;', '|': '#124;', '\\': '#92;', '%': '#37;' };

/**
 * Mermaid label text (oneLine): quotes, angle brackets, `#`, `&`, the backtick (which opens a Markdown string) and `|`
 * (which ends an edge's label), and the backslash (so that a `\uXXXX` is only ever an escape) as Mermaid's entity codes;
 * `%` too, as `#37;`: Mermaid looks for its `%%{…}%%` directives before it reads entity codes, so none is found, and the
 * drawn label shows `%` (a `\u0025` would be drawn as those six characters: "50\u0025" for a title "50%").
 */
function esc(s: string): string {
  return oneLine(s.replace(/["<>#&`|\\%]/g, (c) => MERMAID_ENTITIES[c]!));
}
