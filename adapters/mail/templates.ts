// TemplatePort over nunjucks: <name>.{subject,text,html}.njk rendered with scenario variables, checked at load time.
import { existsSync, readFileSync, readdirSync, realpathSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import nunjucks from 'nunjucks';
import type { TemplatePort, TemplateReads } from '../../engine/ports.js';
import { closest, decodeTextFile } from '../../engine/index.js';
import type { Value } from '../../engine/values.js';
import { sanitizeSubject } from './message.js';
import {
  collectFilterNames,
  collectVariableUses,
  findForbiddenLookups,
  outputExpressionAt,
  outputPlaces,
  readsOtherTemplates,
  parseTemplate,
  pulledInParts,
  type NjNode,
  type PulledInPart,
  type VariableUse,
} from './template-ast.js';
import {
  TemplateDate,
  addWholeCharacterFilters,
  nl2brFilter,
  safeUrlFilter,
  stripNunjucksPrefix,
  syntaxErrorHint,
  unclosedBlockAt,
  unclosedTagAt,
  withEngineNumbers,
} from './template-support.js';

export interface TemplateRendererOptions {
  /** Folder holding the `.njk` files, usually `<scenarios>/templates`. */
  dir: string;
  /** Files are read once and cached; call `reload()` after editing them. Watching is not supported. */
  watch?: false;
  /** Time zone in which date values print (default UTC), as `dd.MM.yyyy HH:mm:ss` like the engine's text conversion. */
  timeZone?: string;
}

export interface TemplateVariableUse {
  file: string;
  name: string;
  line: number;
  col: number;
}

/** The filters this project adds to nunjucks' built-in ones, or replaces (`nl2br` escapes in HTML parts). */
const OUR_FILTERS = ['nl2br', 'safeUrl'];

export interface TemplateIssue {
  /** Absent for a problem of the template as a whole (a missing part, a bad name): it belongs where it is used. */
  file?: string;
  line: number;
  col: number;
  message: string;
  hint?: string;
}

export type TemplateRenderer = TemplatePort & {
  /** The folder the templates are read from (absolute). */
  readonly dir: string;
  /** True when at least one of `<name>.subject.njk`, `<name>.text.njk`, `<name>.html.njk` exists. */
  has(name: string): boolean;
  /** The names of the templates in the folder (for "did you mean"). */
  names(): string[];
  /** Context variables the template's files read: the first place each name appears in each file. */
  variablesOf(name: string): TemplateVariableUse[];
  /** Syntax errors, unknown filters, unsafe lookups and a missing text/html part, each with its place. */
  check(name: string): TemplateIssue[];
  /**
   * Forgets compiled templates and parsed files when a file in the folder (or a folder under it) changed since the
   * last reload: was added, removed or saved with other text; otherwise keeps them, so a save of a scenario file does
   * not recompile every letter's templates. The last version of each template that passed `check` is kept: while an
   * edit leaves a template broken (or removed), `render` uses that version, as the scenario host keeps running the
   * last good version of a scenario whose edit is invalid.
   */
  reload(): void;
};

/** A template could not be rendered: which file, where, and (for a missing value) which variable. */
export class TemplateRenderError extends Error {
  override name = 'TemplateRenderError';
  readonly template: string;
  readonly file?: string;
  readonly line?: number;
  readonly col?: number;
  readonly variable?: string;
  /** The file could not be read for a reason of the moment (out of open files…): trying again later may work. */
  readonly transient?: boolean;
  constructor(message: string, at: { template: string; file?: string; line?: number; col?: number; variable?: string; transient?: boolean }) {
    const where = at.file ? `${at.file}${at.line ? `:${at.line}${at.col ? `:${at.col}` : ''}` : ''}: ` : '';
    super(`${where}${message}`);
    this.template = at.template;
    if (at.file !== undefined) this.file = at.file;
    if (at.line !== undefined) this.line = at.line;
    if (at.col !== undefined) this.col = at.col;
    if (at.variable !== undefined) this.variable = at.variable;
    if (at.transient) this.transient = true;
  }
}

const PARTS = ['subject', 'text', 'html'] as const;
type Part = (typeof PARTS)[number];
/** Letters of any script (`новая-задача`), digits, `_`, `-` and `.`; not starting with `.`. */
export const TEMPLATE_NAME = /^[\p{L}\p{M}\p{N}_-][\p{L}\p{M}\p{N}_.-]*$/u;
const LEX_OPTIONS = { trimBlocks: true, lstripBlocks: true };

/**
 * The files of `files` (names in a templates folder) that are `part` of template `name`: `note.text.njk`, and also
 * `note.TEXT.NJK` or `note.Text.Njk` as a Windows editor or a copy from a Windows share names them — the template's
 * name as written, the part and the extension in any case, as scenario files' extensions are. Sorted; more than one is
 * a problem of the template (which one is read would depend on the order of the folder).
 */
export function templatePartFiles(files: readonly string[], name: string, part: string): string[] {
  const ending = `${part}.njk`;
  return files.filter((f) => f.length === name.length + 1 + ending.length && f.startsWith(`${name}.`) && f.slice(name.length + 1).toLowerCase() === ending).sort();
}

/** A file as problems name it: from the working folder when it is under it, else whole. */
const shownFile = (file: string): string => {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
};

/** A file name that is a part of a template, and the template's name: `X.TEXT.NJK` is the text part of X. */
const TEMPLATE_FILE = /^(.+)\.(?:subject|text|html)\.njk$/i;

/**
 * A template file's text as it is parsed and rendered: without a byte-order mark, and with its lines ending in LF
 * whether an editor saved them with CR LF (Windows) or CR alone (old Mac). The letter is then the same whatever editor
 * saved the template: not CR LF lines from the template mixed with LF ones from a value, nor lines ending in CR alone,
 * which trimBlocks and lstripBlocks do not see as line ends (a `{% if %}` line left a line break in the letter).
 */
export function templateText(text: string): string {
  const bare = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  return bare.includes('\r') ? bare.replace(/\r\n?/g, '\n') : bare;
}

/**
 * Whether `file` (a whole path) is in the templates folder `dir` (a whole path) or below it. Not a prefix test of the
 * text, as nunjucks' FileSystemLoader makes: /x/templates-old/a.njk is not in /x/templates.
 */
function inFolder(dir: string, file: string): boolean {
  return file.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

function makeEnvironment(dir: string, autoescape: boolean): nunjucks.Environment {
  const loader = new nunjucks.FileSystemLoader(dir, { watch: false, noCache: false });
  // nunjucks reads the file again to render it (once, then cached): it renders the text parseFile checked.
  const read = loader.getSource.bind(loader);
  const base = resolve(dir);
  loader.getSource = (name: string) => {
    // A name leading out of the folder ("../templates-old/x.njk", which nunjucks' own prefix test lets through) is not
    // found, as the check says.
    if (!inFolder(base, resolve(base, name))) return null as unknown as nunjucks.LoaderSource;
    const source = read(name);
    if (!source) return source;
    // An included, imported or extended file (templates/parts/…) is read here only, never by parseFile: saved in
    // windows-1251 or as UTF-16 it is refused at its first such byte, not rendered with its Cyrillic as U+FFFD.
    const bytes = readFileSync(source.path);
    const decoded = decodeTextFile(bytes);
    if (!decoded.ok) throw new Error(`${source.path}:${decoded.line}:${decoded.col}: ${decoded.message}; ${decoded.hint}`);
    return { ...source, src: templateText(decoded.text) };
  };
  const env = new nunjucks.Environment(loader, {
    autoescape,
    throwOnUndefined: true,
    ...LEX_OPTIONS,
    // dev keeps nunjucks' own error object, which carries the line and column.
    dev: true,
  });
  // Only HTML gets the escaping nl2br; in text, nunjucks' own one (plain newline to <br />) stays.
  if (autoescape) env.addFilter('nl2br', nl2brFilter);
  env.addFilter('safeUrl', safeUrlFilter);
  // nunjucks' own truncate can cut an emoji in two, and its reverse split one, which the letter would show as U+FFFD.
  addWholeCharacterFilters(env);
  return env;
}

type Parsed = { ok: true; src: string; ast: NjNode } | { ok: false; issue: TemplateIssue; transient?: true };

/** How many times a template file has been parsed in this process (tests count what a reload parses by it). */
let templateFilesParsed = 0;
export function templateFilesParsedCount(): number {
  return templateFilesParsed;
}

/** How many times `check` has compiled a template file in this process (tests count what a check compiles by it). */
let templateFilesCompiled = 0;
export function templateFilesCompiledCount(): number {
  return templateFilesCompiled;
}

/**
 * The time of the last change and the text of every file in the templates folder and the folders under it (includes
 * may name any of them), by path; undefined when the folder cannot be read whole, which counts as a change. The time
 * tells an edit undone from no edit (a template rendered between the two was compiled from the edited text). Symbolic
 * links are followed, as nunjucks follows them: a link to a shared file, re-pointed or its target saved, is a change.
 */
function folderTexts(dir: string): Map<string, string> | undefined {
  const texts = new Map<string, string>();
  /** Folders walked, by real path: a link to a folder above is not walked around forever. */
  const walked = new Set<string>();
  const walk = (folder: string): void => {
    const real = realpathSync(folder);
    if (walked.has(real)) return;
    walked.add(real);
    for (const name of readdirSync(folder)) {
      const file = join(folder, name);
      let st: Stats;
      try {
        st = statSync(file);
      } catch (e) {
        // A link to nothing (or a file removed since the folder was read): as it is, without text.
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        texts.set(file, 'missing');
        continue;
      }
      if (st.isDirectory()) walk(file);
      else if (st.isFile()) texts.set(file, `${st.mtimeMs}\n${readFileSync(file, 'utf8')}`);
    }
  };
  try {
    if (!existsSync(dir)) return texts; // No templates folder is a folder with no files (a scenario folder without letters).
    walk(dir);
    return texts;
  } catch {
    return undefined;
  }
}

const sameTexts = (a: Map<string, string> | undefined, b: Map<string, string> | undefined) =>
  a !== undefined && b !== undefined && a.size === b.size && [...a].every(([file, text]) => b.get(file) === text);

/**
 * Errors of reading a file that say nothing of the file: the process is out of files or memory, or the disk faltered.
 * A template that cannot be read for one of them is read again next time (not remembered as broken), and a letter that
 * needs it is tried again later: a burst of connections that uses up the open files must not fail letters for good.
 */
const TRANSIENT_READ = /\b(EMFILE|ENFILE|EAGAIN|EBUSY|EINTR|EIO|ENOMEM)\b/;

/**
 * Creates the renderer for a folder of templates. HTML files are autoescaped; subject and text files are not (the
 * subject is then folded into one line). A variable missing from the context is an error, never an empty string.
 *
 * @example
 * const t = createTemplateRenderer({ dir: 'scenarios/templates', timeZone: 'Europe/Moscow' });
 * const { subject, text, html } = t.render('bpium-new-task', { taskName: 'Позвонить', ... });
 */
export function createTemplateRenderer(opts: TemplateRendererOptions): TemplateRenderer {
  const dir = resolve(opts.dir);
  const timeZone = opts.timeZone ?? 'UTC';
  let htmlEnv = makeEnvironment(dir, true);
  let plainEnv = makeEnvironment(dir, false);
  const parsed = new Map<string, Parsed>();
  /**
   * The problems of each file on its own (fileProblems), by environment and file, until `reload`: a part that many
   * templates include, or that one template reaches by many ways, is compiled and checked once, not once per template.
   * Only what the file's own text says is kept here; what depends on the way it is reached (the tag that pulls it in,
   * a circle of parts) is worked out for each template.
   */
  let ownProblems = new WeakMap<nunjucks.Environment, Map<string, TemplateIssue[]>>();
  /** The tags that pull in other parts, by parsed tree (a tree is parsed again after a reload that changed the folder). */
  const pulledIn = new WeakMap<NjNode, PulledInPart[]>();
  const pulledInOf = (ast: NjNode): PulledInPart[] => {
    let uses = pulledIn.get(ast);
    if (!uses) pulledIn.set(ast, (uses = pulledInParts(ast)));
    return uses;
  };
  /** check() results since the last reload, by template name. */
  const checked = new Map<string, TemplateIssue[]>();
  /** The sources of each template's parts when it last passed check(), kept across reloads. */
  const lastGood = new Map<string, Map<Part, { src: string; ast: NjNode }>>();
  /** The folder's files and their text at the last reload (undefined before the first, or when it could not be read). */
  let texts: Map<string, string> | undefined;

  /** The folder's file names (read once until `reload`), to find a part whatever the case of its extension. */
  let listing: string[] | undefined;
  const partFiles = (name: string, part: Part): string[] => {
    // A part not in a listing read earlier is looked for in the folder as it is now: a file saved since and not yet
    // reloaded is found, as it was when each part was looked up by its own name (a render right after a save).
    const fresh = !listing;
    if (!listing) {
      try {
        listing = readdirSync(dir).filter((f) => existsSync(join(dir, f)));
      } catch {
        // Not listed (no folder; out of open files, which a later call may not be): the part by its lower-case name.
        return existsSync(join(dir, `${name}.${part}.njk`)) ? [`${name}.${part}.njk`] : [];
      }
    }
    const found = templatePartFiles(listing, name, part);
    if (found.length > 0 || fresh) return found;
    listing = undefined;
    return partFiles(name, part);
  };
  const fileOf = (name: string, part: Part) => join(dir, partFiles(name, part)[0] ?? `${name}.${part}.njk`);
  const envOf = (part: Part) => (part === 'html' ? htmlEnv : plainEnv);
  const validName = (name: string) => TEMPLATE_NAME.test(name) && !name.includes('..');
  // Which parts a template has and what its AST reads are worked out once per template (until `reload`), not per letter.
  const partsCache = new Map<string, Part[]>();
  const partsOf = (name: string): Part[] => {
    let parts = partsCache.get(name);
    if (!parts) partsCache.set(name, (parts = validName(name) ? PARTS.filter((p) => partFiles(name, p).length > 0) : []));
    return parts;
  };
  // By parsed tree, so the last good version of a broken template keeps its own answers.
  const lookups = new WeakMap<NjNode, { forbidden: ReturnType<typeof findForbiddenLookups>; uses: VariableUse[]; places: ReturnType<typeof outputPlaces>; others: boolean }>();
  const lookupsOf = (ast: NjNode) => {
    let l = lookups.get(ast);
    if (!l) lookups.set(ast, (l = { forbidden: findForbiddenLookups(ast), uses: collectVariableUses(ast), places: outputPlaces(ast), others: readsOtherTemplates(ast) }));
    return l;
  };

  /**
   * The context variables a part read (TemplateReads), for the run to mask a part made from a secret: printed as they
   * are when the text reaches the output unchanged (in HTML, one with nothing to escape; in the subject, one that
   * folding into one line leaves as it is), only tested (`{% if name %}`: left out), or read otherwise.
   */
  function readsOf(ast: NjNode, part: Part, ctx: Record<string, unknown>): TemplateReads {
    const { uses, places, others } = lookupsOf(ast);
    // A part that includes, extends or imports another template may print any variable in any form from there.
    if (others) return { asIs: [], changed: Object.keys(ctx) };
    const asIs = new Set<string>();
    const changed = new Set<string>();
    for (const u of uses) {
      const at = `${u.line}:${u.col}`;
      if (places.tested.has(at)) continue;
      const v = ctx[u.name];
      const unchanged = places.printed.has(at) && typeof v === 'string' && (part === 'html' ? !/[&"'<>]/.test(v) : part === 'subject' ? sanitizeSubject(v.replace(/\s+/g, ' ')) === v : true);
      (unchanged ? asIs : changed).add(u.name);
    }
    return { asIs: [...asIs].filter((n) => !changed.has(n)), changed: [...changed] };
  }

  function parseFile(file: string): Parsed {
    const cached = parsed.get(file);
    if (cached) return cached;
    let result: Parsed;
    try {
      const read = decodeTextFile(readFileSync(file));
      templateFilesParsed++;
      if (!read.ok) {
        // Saved in windows-1251 or as UTF-16, its Cyrillic would reach the letter as U+FFFD: said at its first such byte.
        result = { ok: false, issue: { file, line: read.line, col: read.col, message: read.message, hint: read.hint } };
        parsed.set(file, result);
        return result;
      }
      const src = templateText(read.text);
      try {
        result = { ok: true, src, ast: parseTemplate(src, LEX_OPTIONS) };
      } catch (e) {
        const err = e as { lineno?: number; colno?: number; message?: string };
        const guess = err.lineno ? undefined : (unclosedTagAt(src) ?? unclosedBlockAt(src));
        const message = stripNunjucksPrefix(err.message ?? String(e));
        const at = { line: err.lineno ?? guess?.line ?? 1, col: err.colno ?? guess?.col ?? 1 };
        const hint = syntaxErrorHint(src, message, err.lineno && err.colno ? at : undefined);
        result = { ok: false, issue: { file, ...at, message: `template syntax error: ${message}`, ...(hint ? { hint } : {}) } };
      }
    } catch (e) {
      const issue = { file, line: 1, col: 1, message: `cannot read the template: ${(e as Error).message}` };
      if (TRANSIENT_READ.test(String((e as NodeJS.ErrnoException).code))) return { ok: false, issue, transient: true };
      result = { ok: false, issue };
    }
    parsed.set(file, result);
    return result;
  }

  function variablesOf(name: string): TemplateVariableUse[] {
    const out: TemplateVariableUse[] = [];
    for (const part of partsOf(name)) {
      const file = fileOf(name, part);
      const p = parseFile(file);
      if (!p.ok) continue;
      const seen = new Set<string>();
      for (const use of collectVariableUses(p.ast)) {
        if (seen.has(use.name)) continue;
        seen.add(use.name);
        out.push({ file, ...use });
      }
    }
    return out;
  }

  function check(name: string): TemplateIssue[] {
    const known = checked.get(name);
    if (known) return known;
    const issues = checkFiles(name);
    checked.set(name, issues);
    if (issues.length === 0) {
      const good = new Map<Part, { src: string; ast: NjNode }>();
      for (const part of partsOf(name)) {
        const p = parseFile(fileOf(name, part));
        if (p.ok) good.set(part, { src: p.src, ast: p.ast });
      }
      lastGood.set(name, good);
    }
    return issues;
  }

  function checkFiles(name: string): TemplateIssue[] {
    if (!validName(name)) {
      return [{ line: 1, col: 1, message: `"${name}" is not a valid template name (letters, digits, "_", "-", ".")` }];
    }
    const parts = partsOf(name);
    const issues: TemplateIssue[] = [];
    if (!parts.includes('text') && !parts.includes('html')) {
      issues.push({ line: 1, col: 1, message: `template "${name}" needs ${name}.text.njk or ${name}.html.njk` });
    }
    for (const part of parts) {
      const file = fileOf(name, part);
      const namesakes = partFiles(name, part);
      if (namesakes.length > 1) {
        // `note.text.njk` beside `note.TEXT.NJK`: on Linux both are there, and which one a letter is made of would be
        // a matter of order (on Windows they cannot both be).
        issues.push({ line: 1, col: 1, message: `template "${name}" has ${namesakes.length} ${part} files, which differ only in the case of their extension: ${namesakes.join(', ')}`, hint: `keep one of them (${namesakes[0]} is read now): the letter should not depend on which one is found first` });
      }
      const p = parseFile(file);
      if (!p.ok) {
        issues.push(p.issue);
        continue;
      }
      issues.push(...fileProblems(file, p, envOf(part)));
      issues.push(...pulledInProblems(file, p.ast, envOf(part), new Set([file])));
      issues.push(...cycleProblems(file, p.ast));
    }
    return issues;
  }

  /** Unknown filters, forbidden lookups and what nunjucks refuses to compile, of one parsed file (worked out once). */
  function fileProblems(file: string, p: { src: string; ast: NjNode }, env: nunjucks.Environment): TemplateIssue[] {
    let byFile = ownProblems.get(env);
    if (!byFile) ownProblems.set(env, (byFile = new Map()));
    let issues = byFile.get(file);
    if (!issues) byFile.set(file, (issues = ownFileProblems(file, p, env)));
    // Copies: a caller may keep or change what it is given without changing what the next template is told.
    return issues.map((i) => ({ ...i }));
  }

  function ownFileProblems(file: string, p: { src: string; ast: NjNode }, env: nunjucks.Environment): TemplateIssue[] {
    const issues: TemplateIssue[] = [];
    const filters = (env as unknown as { filters: Record<string, unknown> }).filters;
    for (const f of collectFilterNames(p.ast)) {
      if (f.name in filters) continue;
      const guess = closest(f.name, Object.keys(filters));
      issues.push({ file, line: f.line, col: f.col, message: `unknown filter "${f.name}"${guess ? ` (did you mean "${guess}"?)` : ` (neither a nunjucks built-in filter nor one of ours: ${OUR_FILTERS.join(', ')})`}` });
    }
    for (const f of findForbiddenLookups(p.ast)) {
      issues.push({ file, line: f.line, col: f.col, message: `property "${f.name}" may not be read in a mail template` });
    }
    try {
      templateFilesCompiled++;
      new nunjucks.Template(p.src, env, file, true);
    } catch (e) {
      const err = e as { lineno?: number; colno?: number; message?: string };
      issues.push({ file, line: err.lineno ?? 1, col: err.colno ?? 1, message: `template error: ${stripNunjucksPrefix(err.message ?? String(e))}` });
    }
    return issues;
  }

  /**
   * The parts `file` pulls in by a name written as text (`{% include "parts/sig.njk" %}`, `import`, `from … import`,
   * `extends`), checked as nunjucks will look them up when a letter is made (a name from the templates folder, one
   * starting `./` or `../` from the file's own folder): a part that is not there (unless `ignore missing`), is not
   * UTF-8, does not parse, or has a problem a template file would have, each at the tag that names it, the part's own
   * file:line:col in the message. The parts those pull in are checked in turn, each file once (an include may be
   * recursive, behind an `if`). A name made at render (`{% include kind + ".njk" %}`) cannot be looked up before: such
   * a part is read, and its problems found, when a letter is made.
   */
  function pulledInProblems(file: string, ast: NjNode, env: nunjucks.Environment, seen: Set<string>): TemplateIssue[] {
    const issues: TemplateIssue[] = [];
    for (const use of pulledInOf(ast)) {
      if (use.name === undefined) continue;
      const tag = `{% ${use.tag} "${use.name}" %}`;
      const at = { file, line: use.line, col: use.col };
      const part = partFile(file, use.name);
      // As the loader finds a file: in the templates folder or below it (not in a folder beside it whose name starts
      // the same), and there.
      const inside = inFolder(dir, part);
      if (!inside || !existsSync(part)) {
        if (use.ignoreMissing) continue;
        const folder = dirname(part);
        let guess: string | undefined;
        try {
          guess = inside ? closest(basename(part), readdirSync(folder)) : undefined;
        } catch {
          guess = undefined;
        }
        issues.push({
          ...at,
          message: `${tag}: there is no such file in the templates folder ${shownFile(dir)}${inside ? '' : ' (the name leads out of it)'}`,
          hint: guess !== undefined ? `did you mean "${join(dirname(use.name), guess).split('\\').join('/')}"?` : `create ${shownFile(part)}, or write the name of a part that is there (relative to the templates folder, or to this file's folder when it starts with ./)`,
        });
        continue;
      }
      if (seen.has(part)) continue;
      seen.add(part);
      const p = parseFile(part);
      if (!p.ok) {
        const own = p.issue;
        issues.push({ ...at, message: `${tag}: ${shownFile(part)}:${own.line}:${own.col}: ${own.message}`, ...(own.hint ? { hint: own.hint } : {}) });
        continue;
      }
      for (const own of fileProblems(part, p, env)) {
        issues.push({ ...at, message: `${tag}: ${shownFile(part)}:${own.line}:${own.col}: ${own.message}`, ...(own.hint ? { hint: own.hint } : {}) });
      }
      issues.push(...pulledInProblems(part, p.ast, env, seen));
    }
    return issues;
  }

  /** The file a tag in `file` names: from the templates folder, or from the file's own folder for `./` and `../`. */
  function partFile(file: string, name: string): string {
    return resolve(name.startsWith('./') || name.startsWith('../') ? dirname(file) : dir, name);
  }

  /**
   * Parts that pull each other in whenever they are rendered (`a` includes `b`, `b` includes `a`, no `if` or loop
   * around either tag): every letter would fail, the call stack run out. Said once, at the tag that closes the circle,
   * with the circle from the template's own file. A circle with a condition on the way may end, and is left alone. A
   * tag in a `block` counts where the file is rendered in place and extends nothing (its blocks are rendered where they
   * stand), not where it is extended (the file extending it may replace the block).
   */
  function cycleProblems(file: string, ast: NjNode): TemplateIssue[] {
    const path: Array<{ file: string; line: number; col: number; tag: string; name: string; inBlock: boolean }> = [];
    const extendsNothing = (uses: PulledInPart[]) => !uses.some((u) => u.tag === 'extends');
    /** The files entered, the template's first, and whether each was entered in place (path[i] leaves entered[i]). */
    const entered: Array<{ file: string; inPlace: boolean }> = [{ file, inPlace: extendsNothing(pulledInOf(ast)) }];
    const done = new Set<string>();
    const visit = (from: string, tree: NjNode, inPlace: boolean): TemplateIssue | undefined => {
      for (const use of pulledInOf(tree)) {
        if (use.name === undefined || !(use.unconditional || (inPlace && use.inBlock))) continue;
        const part = partFile(from, use.name);
        if (!inFolder(dir, part) || !existsSync(part)) continue;
        const p = parseFile(part);
        if (!p.ok) continue;
        const partInPlace = use.tag !== 'extends' && extendsNothing(pulledInOf(p.ast));
        if (done.has(`${part}\0true`) || done.has(`${part}\0${partInPlace}`)) continue;
        const step = { file: from, line: use.line, col: use.col, tag: use.tag, name: use.name, inBlock: use.inBlock };
        // Back at a file on the way: without end, unless it was left by a tag in a block and is now extended (then
        // that tag may not be rendered again).
        const start = entered.findIndex((e, i) => e.file === part && (partInPlace || !e.inPlace || !(path[i] ?? step).inBlock));
        if (start >= 0) {
          const circle = [...path.slice(start), step].map((s) => `${shownFile(s.file)}:${s.line}:${s.col} ${s.tag === 'extends' ? 'extends' : `${s.tag}s`} "${s.name}"`);
          return {
            file: from,
            line: use.line,
            col: use.col,
            message: `{% ${use.tag} "${use.name}" %}: the parts pull each other in without end (${circle.join(', then ')}); every letter of this template would fail`,
            hint: `put one of these tags inside an {% if %} that becomes false, or take it out`,
          };
        }
        path.push(step);
        entered.push({ file: part, inPlace: partInPlace });
        const found = visit(part, p.ast, partInPlace);
        if (found) return found;
        path.pop();
        entered.pop();
        done.add(`${part}\0${partInPlace}`);
      }
      return undefined;
    };
    const found = visit(file, ast, entered[0]!.inPlace);
    return found ? [found] : [];
  }

  function prepareContext(context: Record<string, Value>): Record<string, unknown> {
    const ctx: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(context)) {
      // null prints as empty text (as the engine's text conversion does) instead of tripping throwOnUndefined.
      ctx[key] = value instanceof Date ? new TemplateDate(value.getTime(), timeZone) : value === null ? '' : value;
    }
    return ctx;
  }

  /**
   * What a letter's error says when its parts pulled each other in until the call stack ran out (a circle behind a
   * condition that never became false, or one made by a name given at render): the files, each once, in the order
   * they were entered, instead of nunjucks' message, which repeats the whole chain at every level (megabytes).
   */
  function endlessMessage(message: string): string {
    const files: string[] = [];
    for (const m of message.slice(0, 200_000).matchAll(/\(([^()\n]+\.njk)\)/gi)) {
      const shown = relative(dir, m[1]!).split('\\').join('/');
      if (!files.includes(shown)) files.push(shown);
      if (files.length > 8) break;
    }
    return `the parts pull each other in without end, until the call stack ran out${files.length ? ` (${files.join(' → ')} → …)` : ''}: a part that pulls itself in needs an {% if %} that becomes false`;
  }

  /** Renders one part from its file, or from `kept` (the last good source) while the file is broken. */
  function renderPart(name: string, part: Part, ctx: Record<string, unknown>, kept?: { src: string; ast: NjNode }): string {
    const file = fileOf(name, part);
    const p: Parsed = kept ? { ok: true, ...kept } : parseFile(file);
    if (!p.ok) throw new TemplateRenderError(p.issue.message, { template: name, file, line: p.issue.line, col: p.issue.col, ...(p.transient ? { transient: true } : {}) });
    const { forbidden: [forbidden], uses } = lookupsOf(p.ast);
    if (forbidden) {
      throw new TemplateRenderError(`property "${forbidden.name}" may not be read in a mail template`, { template: name, file, line: forbidden.line, col: forbidden.col });
    }
    const missing: VariableUse | undefined = uses.find((u) => !Object.prototype.hasOwnProperty.call(ctx, u.name));
    if (missing) {
      throw new TemplateRenderError(`variable "${missing.name}" is not defined (the scenario has no such variable)`, {
        template: name,
        file,
        line: missing.line,
        col: missing.col,
        variable: missing.name,
      });
    }
    try {
      return withEngineNumbers(() =>
        kept ? new nunjucks.Template(kept.src, envOf(part), file, true).render(ctx) : envOf(part).render(basename(file), ctx),
      );
    } catch (e) {
      const err = e as { lineno?: number; colno?: number; message?: string };
      const at = { template: name, file, ...(err.lineno ? { line: err.lineno } : {}), ...(err.colno ? { col: err.colno } : {}) };
      if (/Maximum call stack size exceeded/.test(err.message ?? '')) throw new TemplateRenderError(endlessMessage(err.message ?? ''), at);
      const message = stripNunjucksPrefix(err.message ?? String(e));
      if (/null or undefined/.test(message) && err.lineno && err.colno) {
        const expression = outputExpressionAt(p.ast, err.lineno, err.colno);
        if (expression) {
          throw new TemplateRenderError(`"${expression}" is undefined or null`, { ...at, variable: expression });
        }
      }
      // nunjucks reads the file again to render it: out of open files there too, the error keeps only the code's text.
      throw new TemplateRenderError(message, { ...at, ...(TRANSIENT_READ.test(message) ? { transient: true } : {}) });
    }
  }

  function renderParts(name: string, parts: Array<[Part, { src: string; ast: NjNode } | undefined]>, context: Record<string, Value>) {
    const ctx = prepareContext(context);
    const out: { subject?: string; text?: string; html?: string; reads?: (part: Part) => TemplateReads | undefined } = {};
    for (const [part, kept] of parts) {
      const rendered = renderPart(name, part, ctx, kept);
      out[part] = part === 'subject' ? sanitizeSubject(rendered.replace(/\s+/g, ' ')) : rendered;
    }
    // Worked out only when asked (a run with a secret), right after this rendering: from the tree the part was rendered
    // from (parsed, or kept from the last good version), so nothing is looked up for a letter of a run without one.
    out.reads = (part) => {
      const entry = parts.find(([p]) => p === part);
      if (!entry) return undefined;
      const p: Parsed = entry[1] ? { ok: true, ...entry[1] } : parseFile(fileOf(name, part));
      return p.ok ? readsOf(p.ast, part, ctx) : undefined;
    };
    return out;
  }

  function names(): string[] {
    let files: string[];
    try {
      files = readdirSync(dir);
    } catch {
      return [];
    }
    return [...new Set(files.flatMap((f) => TEMPLATE_FILE.exec(f)?.[1] ?? []))].filter(validName);
  }

  return {
    dir,
    has: (name) => partsOf(name).length > 0,
    names,
    variablesOf,
    check,
    reload() {
      // The folder as it is now against the folder at the last reload: a scenario saved alone keeps every template
      // parsed, checked and compiled. Any change forgets them all (an include may be any file of the folder).
      const now = folderTexts(dir);
      const same = sameTexts(now, texts);
      texts = now;
      if (same) return;
      parsed.clear();
      ownProblems = new WeakMap();
      partsCache.clear();
      listing = undefined;
      checked.clear();
      htmlEnv = makeEnvironment(dir, true);
      plainEnv = makeEnvironment(dir, false);
    },
    render(name, context) {
      if (!validName(name)) throw new TemplateRenderError(`"${name}" is not a valid template name`, { template: name });
      const good = lastGood.get(name);
      if (good && check(name).length > 0) return renderParts(name, [...good], context);
      const parts = partsOf(name);
      if (parts.length === 0) {
        throw new TemplateRenderError(`template "${name}" not found: no ${name}.{subject,text,html}.njk in ${dir}`, { template: name });
      }
      if (!parts.includes('text') && !parts.includes('html')) {
        throw new TemplateRenderError(`template "${name}" has neither a text nor an html file in ${dir}`, { template: name });
      }
      return renderParts(name, parts.map((p) => [p, undefined]), context);
    },
  };
}
