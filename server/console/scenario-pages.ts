// What the scenario pages show: every scenario file with its validation status, and one file's YAML with its
// problems at their lines beside its diagram.
import { readFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { decodeTextFile, isScenarioFileName, listScenarioFiles, scenarioNameOf, type Scenario, type ScenarioIssue, type ScenarioLibrary } from '../../engine/index.js';

export type ScenarioStatus = 'valid' | 'invalid' | 'stale';

export interface ScenarioEntry {
  name: string;
  file: string;
  status: ScenarioStatus;
  /** The loaded version (the last good one for a stale scenario). */
  scenario?: Scenario;
  issues: ScenarioIssue[];
}

/** Issues that belong to no scenario file (templates, unreadable files). */
export interface ScenarioOverview {
  entries: ScenarioEntry[];
  otherIssues: ScenarioIssue[];
}

const absolute = (file: string) => (isAbsolute(file) ? file : resolve(process.cwd(), file));

/**
 * Lists the scenario files of the library's folder. A file with issues is `invalid`, or `stale` when the server
 * still runs its last good version.
 */
export async function scenarioOverview(library: ScenarioLibrary): Promise<ScenarioOverview> {
  const files = await listScenarioFiles(library.dir).catch(() => [] as string[]);
  const byFile = new Map<string, ScenarioIssue[]>();
  const otherIssues: ScenarioIssue[] = [];
  const fileSet = new Set(files.map((f) => resolve(f)));
  for (const i of library.issues) {
    const abs = absolute(i.file);
    if (fileSet.has(abs)) byFile.set(abs, [...(byFile.get(abs) ?? []), i]);
    else otherIssues.push(i);
  }
  const entries: ScenarioEntry[] = files.map((f) => {
    const name = scenarioNameOf(f);
    const scenario = library.scenarios.get(name);
    const issues = byFile.get(resolve(f)) ?? [];
    const status: ScenarioStatus = issues.length === 0 && scenario ? 'valid' : scenario ? 'stale' : 'invalid';
    return { name, file: basename(f), status, ...(scenario ? { scenario } : {}), issues };
  });
  // A scenario still loaded after its file disappeared (kept as the last good version) is listed too.
  for (const s of library.scenarios.values()) {
    if (!entries.some((e) => e.name === s.name)) entries.push({ name: s.name, file: basename(s.file), status: 'valid', scenario: s, issues: [] });
  }
  entries.sort((a, b) => a.name.localeCompare(b.name));
  return { entries, otherIssues };
}

/** A file of the scenarios folder with problems, as the Runs and Jobs pages name it. */
export interface ProblemFile {
  /** The file inside the scenarios folder (`BpiumNewTask.yaml`, `templates/x.text.njk`). */
  file: string;
  /** The scenario the file defines, when it is a scenario file. */
  scenario?: string;
  /** Whether the server still runs the scenario's last good version (a file edited into an invalid state). */
  running: boolean;
  /** The first problem, from the folder, as `validate` begins it (without its block and hint): `BpiumNewTask.yaml:133:15 E_UNKNOWN_VARIABLE …`. */
  first: string;
  problems: number;
}

/**
 * The files with problems, from the issues the library holds (no disk access, so every page can afford it): an
 * operator landing on the Runs page learns that an edit is not in force, as `oktell_scenario_files_invalid` says.
 */
export function problemFiles(library: ScenarioLibrary): ProblemFile[] {
  const dir = resolve(library.dir);
  const byFile = new Map<string, ProblemFile>();
  for (const i of library.issues) {
    const file = relative(dir, absolute(i.file)) || basename(i.file);
    const known = byFile.get(file);
    if (known) {
      known.problems++;
      continue;
    }
    const isScenario = dirname(file) === '.' && isScenarioFileName(file);
    const scenario = isScenario ? scenarioNameOf(file) : undefined;
    byFile.set(file, {
      file,
      ...(scenario ? { scenario } : {}),
      running: !!scenario && library.scenarios.has(scenario),
      first: `${file}:${i.line}:${i.col} ${i.code} ${i.message}`,
      problems: 1,
    });
  }
  return [...byFile.values()].sort((a, b) => a.file.localeCompare(b.file));
}

export type YamlToken = { c: 'key' | 'str' | 'num' | 'com' | 'punct' | 'plain'; t: string };

export interface YamlLine {
  n: number;
  tokens: YamlToken[];
  issues: ScenarioIssue[];
  /** The block defined on this line, if any. */
  block?: string;
}

/** Splits the value part of a line into a value and a trailing comment, honouring quotes. */
function splitComment(s: string): [string, string] {
  let quote: string | undefined;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '#' && (i === 0 || /\s/.test(s[i - 1]!))) return [s.slice(0, i), s.slice(i)];
  }
  return [s, ''];
}

function valueTokens(v: string): YamlToken[] {
  if (!v) return [];
  const trimmed = v.trim();
  const lead = v.slice(0, v.length - v.trimStart().length);
  const c: YamlToken['c'] = /^["']/.test(trimmed) ? 'str' : /^-?\d+(\.\d+)?\s*$/.test(trimmed) || /^(true|false|null)\s*$/.test(trimmed) ? 'num' : /^[{[|>]/.test(trimmed) ? 'punct' : 'plain';
  return [...(lead ? [{ c: 'plain' as const, t: lead }] : []), { c, t: v.slice(lead.length) }];
}

/** A light YAML colouring, enough to read a scenario: keys, strings, numbers and comments. */
export function yamlTokens(line: string): YamlToken[] {
  if (/^\s*#/.test(line)) return [{ c: 'com', t: line }];
  const m = /^(\s*(?:-\s+)?)("[^"]*"|'[^']*'|[^\s#'"][^:#]*?)(:)(?=\s|$)(.*)$/.exec(line);
  const [body, comment] = m ? splitComment(m[4]!) : splitComment(line);
  const tokens: YamlToken[] = m ? [{ c: 'plain', t: m[1]! }, { c: 'key', t: m[2]! }, { c: 'punct', t: ':' }, ...valueTokens(body)] : valueTokens(body);
  if (comment) tokens.push({ c: 'com', t: comment });
  return tokens.filter((t) => t.t !== '');
}

/** The lines of a scenario file, coloured, with the issues found at each line and the block defined there. */
export async function yamlLines(library: ScenarioLibrary, entry: ScenarioEntry): Promise<{ lines: YamlLine[]; text?: string; error?: string }> {
  let text: string;
  try {
    const read = decodeTextFile(await readFile(join(library.dir, entry.file)));
    // Read as the loader reads it: a file saved in windows-1251 or as UTF-16 is not shown with every Cyrillic letter
    // as U+FFFD (nor drawn from such text), but said to be one, with the way to save it as UTF-8.
    if (!read.ok) return { lines: [], error: `cannot show ${entry.file} as text: ${read.message}; ${read.hint}` };
    text = read.text;
  } catch (e) {
    return { lines: [], error: `cannot read ${entry.file}: ${(e as Error).message}` };
  }
  const blockAt = new Map<number, string>();
  for (const b of entry.scenario?.blocks.values() ?? []) blockAt.set(b.loc.line, b.id);
  const raw = text.replace(/\r\n?/g, '\n').split('\n');
  if (raw.length > 1 && raw[raw.length - 1] === '') raw.pop();
  const lines: YamlLine[] = raw.map((l, i) => {
    const n = i + 1;
    const block = entry.status === 'valid' ? blockAt.get(n) : undefined;
    return { n, tokens: yamlTokens(l), issues: entry.issues.filter((x) => x.line === n), ...(block ? { block } : {}) };
  });
  // Issues past the end of the file (e.g. "unexpected end") go to the last line.
  const last = lines[lines.length - 1];
  if (last) for (const i of entry.issues) if (i.line > lines.length) last.issues.push(i);
  return { lines, text };
}
