// What the start-up output warns about: settings that let the server start but make part of it fail on every request.
import { blocksOfScenarios, closest, KESTRA_PLACEHOLDER, kestraSource, connectionsOfBlocks, EXPRESSION_CHARS, parseAddressList, parseExpression, scenarioNameOf, stronglyConnected, textLiteral, textLiteralsOf, toBoolean, toText, variableSourceWarnings, yamlSingleQuoted, type Block, type CompiledExpression, type Scenario, type ScenarioLibrary } from '../engine/index.js';
import type { DatabaseSettings } from '../adapters/db/settings.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { templatePartFiles } from '../adapters/mail/templates.js';
import { constantText, NOTHING } from '../components/common.js';
import { quotedUrlText } from '../adapters/web/redact.js';
import { fileInFolder } from './scenario-host.js';
import { isStandardSecret, STANDARD_TOLERANCE_MS } from './standard-webhooks.js';
import { spanText } from './store/backoff.js';

/**
 * Why the hook scenario cannot run, when it cannot: its file is invalid, or no loaded scenario has its name (with the
 * closest loaded name, when one is close enough to be a typo). Undefined when it is loaded. The server still starts
 * (see docs/server.md, "A missing hook scenario"): the folder is watched, so the file may be added or fixed while it
 * runs, and the other routes and the queue do not need it.
 */
export function hookScenarioWarning(scenario: string, library: ScenarioLibrary): string | undefined {
  if (library.scenarios.has(scenario)) return undefined;
  const consequence = 'every webhook is answered 500 and /-/health fails until it is there (the folder is watched: fixing or adding the file is enough)';
  const invalid = library.issues.find((i) => scenarioNameOf(i.file) === scenario);
  if (invalid) {
    // The file as the log names scenario problems: relative to the scenarios folder, not to the server's working directory.
    return `the hook scenario ${scenario} is invalid (${fileInFolder(invalid.file, library.dir)}:${invalid.line}:${invalid.col} ${invalid.message}; npx oktell-emu validate shows every problem): ${consequence}`;
  }
  const guess = closest(scenario, library.scenarios.keys());
  const loaded = [...library.scenarios.keys()].sort();
  return (
    `the hook scenario ${scenario} (OKTELL_HOOK_SCENARIO or hook.scenario) is not among the scenarios loaded from ${library.dir}` +
    `${guess ? ` — did you mean ${guess}?` : loaded.length ? ` (loaded: ${loaded.join(', ')})` : ' (none loaded)'}: ${consequence}; ` +
    noWebhooksHint(scenario)
  );
}

/**
 * Why the dead-letter catch-all cannot run, when it is configured and cannot: its file is invalid (named at its
 * file:line:col), or no loaded scenario has its name (where the setting is, with the closest loaded name). Undefined
 * when it is off or loaded. Not refused: the folder is watched, and the catch-all's jobs wait in the queue and are
 * retried until it is there (or are given up on, without starting another catch-all). `fileName` names a scenario's
 * file as the caller's output does.
 */
export function deadLetterScenarioWarning(deadLetter: { scenario: string; setAt?: string } | undefined, library: ScenarioLibrary, fileName: (file: string) => string = (f) => fileInFolder(f, library.dir)): string | undefined {
  if (!deadLetter || library.scenarios.has(deadLetter.scenario)) return undefined;
  const scenario = deadLetter.scenario;
  const consequence = 'a job given up on (dead or failed) still queues it, and that run fails, so nobody is told';
  const invalid = library.issues.find((i) => scenarioNameOf(i.file) === scenario);
  if (invalid) {
    return `${fileName(invalid.file)}:${invalid.line}:${invalid.col}: the dead-letter catch-all ${scenario} is invalid (${invalid.message}): ${consequence}; fix the file (npx oktell-emu validate shows every problem)`;
  }
  const guess = closest(scenario, library.scenarios.keys());
  const where = deadLetter.setAt ? `${deadLetter.setAt}: ` : '';
  return (
    `${where}the dead-letter catch-all ${scenario} (OKTELL_DEAD_LETTER_SCENARIO or deadLetterScenario) is not among the scenarios loaded from ${library.dir}` +
    `${guess ? ` — did you mean ${guess}?` : ''}: ${consequence}; add ${scenario}.yaml to the scenarios folder, name a scenario that is there, or set it to off`
  );
}

/**
 * What a server that takes no webhooks (service tasks or the Web-API only) does about the hook scenario it lacks: it
 * still needs one, or its health check fails for good; a scenario of one Stop block answers every request 404.
 */
export function noWebhooksHint(scenario: string): string {
  return `a server that takes no webhooks (service tasks or the Web-API only) needs one too: ${scenario}.yaml holding "blocks: { end: { kind: Stop } }" answers every request 404`;
}

/**
 * Literal statuses the hook scenario's ReturnValue blocks (or Variable blocks, by the return value's Oktell name) give the status return value (2 by default) that no answer
 * may have: outside 200–599 (1xx are interim answers: 101 would tell a proxy the connection was upgraded). Each
 * such answer is replaced by a 500 at run time; this says so at load, with the place in the file. `fileName` names
 * the file as hookWriteWarnings does: by default from the scenarios folder, as the server's log names them.
 */
export function hookStatusWarnings(scenario: string, library: ScenarioLibrary, statusSlot: number, fileName: (file: string) => string = (f) => fileInFolder(f, library.dir)): string[] {
  const s = library.scenarios.get(scenario);
  if (!s) return [];
  const out: string[] = [];
  for (const block of s.blocks.values()) {
    // A ReturnValue block's slots, or a Variable block's assignments to a return value by its Oktell name.
    let slots: ReadonlyArray<number | undefined> | undefined;
    let exprs: readonly CompiledExpression[] | undefined;
    if (block.kind === 'ReturnValue') {
      ({ slots, exprs } = block.config as { slots?: readonly number[]; exprs?: readonly CompiledExpression[] });
    } else if (block.kind === 'Variable') {
      const config = block.config as { targets?: ReadonlyArray<{ returnValue?: number }>; exprs?: readonly CompiledExpression[] };
      slots = config.targets?.map((t) => t.returnValue);
      exprs = config.exprs;
    } else continue;
    slots?.forEach((slot, i) => {
      const e = exprs?.[i];
      const literal = e && /^\s*(?:"\s*(-?\d+)\s*"|(-?\d+))\s*$/.exec(e.source);
      if (slot !== statusSlot || !literal) return;
      const n = Number(literal[1] ?? literal[2]);
      if (n >= 200 && n <= 599) return;
      const at = e.at ? `${fileName(e.at.file)}:${e.at.line}:${e.at.col}` : `${fileName(s.file)}:${block.loc.line}:${block.loc.col}`;
      out.push(`${at}: block ${block.id} of the hook scenario ${scenario} sets return value ${statusSlot} (the answer's status) to ${n}; an answer's status must be 200–599, so every such answer is replaced by 500`);
    });
  }
  return out;
}

/**
 * The blocks that write to the outside world while a webhook waits for its answer: in the hook scenario, and in the
 * scenarios it runs synchronously (AsyncScenario in call or jump mode), each named with its place in the file. The
 * hook's run is not a job, so such a write that fails is not retried and leaves no dead letter; one made by a
 * scenario started asynchronously is (docs/server.md, "Writes in the hook scenario"). `fileName` names a scenario's
 * file in the message: by default from the scenarios folder, as the server's log names them.
 */
export function hookWriteWarnings(scenario: string, library: ScenarioLibrary, fileName: (file: string) => string = (f) => fileInFolder(f, library.dir)): string[] {
  const out: string[] = [];
  for (const { scenario: s, block, via } of blocksRunWhileTheWebhookWaits(scenario, library)) {
    const what = block.def.writes?.(block.config);
    if (what) out.push(hookWriteWarning(scenario, fileName(s.file), s, block, via, what));
  }
  return out;
}

/** How a scenario was reached from the hook scenario: the synchronous starts on the way, hook first. */
type Route = ReadonlyArray<{ block: string; mode: string }>;

/**
 * Every block of the hook scenario and of the scenarios it runs synchronously, each scenario once (a call cycle, or
 * two routes to one scenario, is followed once). A scenario that is not loaded is skipped: that is said elsewhere.
 */
function* blocksRunWhileTheWebhookWaits(hook: string, library: ScenarioLibrary): Generator<{ scenario: Scenario; block: Block; via: Route }> {
  const seen = new Set<string>([hook]);
  const queue: Array<{ name: string; via: Route }> = [{ name: hook, via: [] }];
  for (let next = queue.shift(); next; next = queue.shift()) {
    const s = library.scenarios.get(next.name);
    if (!s) continue;
    for (const block of s.blocks.values()) {
      yield { scenario: s, block, via: next.via };
      const callee = synchronousCallee(block);
      if (!callee || seen.has(callee.scenario)) continue;
      seen.add(callee.scenario);
      queue.push({ name: callee.scenario, via: [...next.via, { block: block.id, mode: callee.mode }] });
    }
  }
}

/** The scenario an AsyncScenario block runs within this run (call or jump); undefined for an async start (a job). */
function synchronousCallee(block: Block): { scenario: string; mode: string } | undefined {
  if (block.kind !== 'AsyncScenario') return undefined;
  const { scenario, mode } = block.config as { scenario: string; mode: string };
  return mode === 'async' ? undefined : { scenario, mode };
}

/** One warning: where the block is, what it writes, what a failure then costs, and the fix. */
function hookWriteWarning(hook: string, file: string, s: Scenario, block: Block, via: Route, what: string): string {
  const at = `${file}:${block.loc.line}:${block.loc.col}`;
  const whose = via.length === 0 ? `the hook scenario ${hook}` : `scenario ${s.name}, which the hook scenario ${hook} runs through ${via.map((v) => `block ${v.block} (${v.mode})`).join(', then ')},`;
  return (
    `${at}: block ${block.id} of ${whose} ${what} while the webhook waits: if it fails it is not retried and leaves no dead letter; ` +
    'do it in a scenario the hook starts with AsyncScenario in async mode, which runs as a job (as the shipped HTTP404 starts BpiumNewTask)'
  );
}

/**
 * With a PostgreSQL store, instances share the queue and the runs, but a database connection is whatever its setting
 * says, and `main` defaults to an SQLite file in each instance's data folder. A scenario using such a connection then
 * works on a database of its own on every instance: what one instance writes (RecordNotification's rows, by which it
 * ignores a repeat) the others do not read (DailyReport, run by whichever instance claims it, counts its own). One
 * warning per SQLite connection a loaded scenario uses, naming the scenarios and the fix; none with a SQLite store.
 */
export function sharedStoreDatabaseWarnings(store: { kind: string }, databases: DatabaseSettings, library: ScenarioLibrary): string[] {
  if (store.kind !== 'postgres') return [];
  const out: string[] = [];
  for (const [connection, scenarios] of connectionsUsed(library)) {
    const setting = databases[connection];
    if (setting?.dialect !== 'sqlite') continue;
    const env = /^[A-Za-z0-9_]+$/.test(connection) ? `OKTELL_DB_${connection.toUpperCase()}=postgres://… or ` : '';
    out.push(
      `database connection "${connection}" (used by ${scenarios.join(', ')}) is the SQLite file ${setting.path} of this instance, while the store is PostgreSQL, shared with other instances: ` +
        'each instance reads and writes its own copy, so what a scenario records on one instance the others do not see (a repeat another instance recorded is not caught; a report counts the rows of whichever instance runs it). ' +
        `Point it at a database every instance shares: ${env}databases: { ${connection}: postgres://… } in oktell.config.yaml (docs/scaling.md, "What is shared, what is not")`,
    );
  }
  return out;
}

/** Each connection the DbQuery and DbProcedure blocks of the loaded scenarios use, with those scenarios' names, sorted. */
function connectionsUsed(library: ScenarioLibrary): Map<string, string[]> {
  const used = connectionsOfBlocks(blocksOfScenarios(library.scenarios.values()));
  return new Map([...used].sort(([a], [b]) => a.localeCompare(b)).map(([c, names]) => [c, [...names].sort()]));
}

/** The loaded scenarios in the order their warnings are listed: by name. */
function byName(library: Pick<ScenarioLibrary, 'scenarios'>): Scenario[] {
  return [...library.scenarios.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Variables of the loaded scenarios that take their value from an environment variable that is not set (or a file
 * that cannot be read) and so start empty, and secrets written in a scenario file, each with its place.
 */
export function variableWarnings(library: ScenarioLibrary, fileName: (file: string) => string = (f) => fileInFolder(f, library.dir)): string[] {
  return byName(library).flatMap((s) => variableSourceWarnings(s, fileName));
}

/**
 * What `validate` and `serve` both say about the loaded scenarios themselves, whatever the hook scenario is: variables
 * that start empty or hold a secret written in the file (variableWarnings), a POST or PATCH a retry may send again
 * (repeatedWriteWarnings, with `webAttempts`, the attempts of one WebRequest in all), and a Bpium entry that is request
 * text (bpiumStructureWarnings). One list, so that the two commands cannot drift apart; `fileName` names each file
 * (validate: from the working folder, as its problems; the server's log: from the scenarios folder).
 */
export function scenarioWarnings(library: ScenarioLibrary, webAttempts: number, fileName: (file: string) => string = (f) => fileInFolder(f, library.dir)): string[] {
  return [...textWarnings(library, fileName), ...variableWarnings(library, fileName), ...refusedInitialAddressWarnings(library, fileName), ...constantConditionWarnings(library, fileName), ...placeholderTextWarnings(library, fileName), ...emptySubjectWarnings(library, fileName), ...repeatedWriteWarnings(library, webAttempts, fileName), ...bpiumStructureWarnings(library, fileName), ...asyncCycleWarnings(library, fileName), ...caseOnlyNameWarnings(library, fileName), ...emptyPortWarnings(library, fileName)];
}

/**
 * WebRequest urls whose text gives a host and a ":" with no port after it (`http://crm.example.ru:/api`): the client
 * reads it as the scheme's default port (80, 443), so it loads and runs, but a port was most likely left out (or
 * lost when a value was pasted in). Read from the url's text when it is the same on every run, or from the text it
 * begins with when that text holds the whole host (`"http://crm:/api/" + [id]`; not `"http://crm:" + [port]`).
 */
export function emptyPortWarnings(library: Pick<ScenarioLibrary, 'scenarios' | 'dir'>, fileName: (file: string) => string = (f) => fileInFolder(f, library.dir)): string[] {
  const out: string[] = [];
  for (const s of byName(library)) {
    for (const block of s.blocks.values()) {
      if (block.kind !== 'WebRequest') continue;
      const e = (block.config as { url?: CompiledExpression }).url;
      if (!e) continue;
      const whole = e.constant ? constantText(e) : undefined;
      const text = (whole ?? e.leadingText?.value)?.trimStart();
      if (text === undefined) continue;
      // The scheme, the user part (refused elsewhere) and the host, then the ":" with nothing after it before the path,
      // the query, the fragment or, for a url that is all there is, its end.
      const m = /^(https?:\/\/(?:[^/?#\\@]*@)?(?:\[[^\]]*\]|[^/?#\\:@\[]+)):(?=[/?#\\]|$)/i.exec(text);
      if (!m || (whole === undefined && m[0].length === text.length)) continue;
      const at = e.at ?? block.loc;
      const port = /^https/i.test(text) ? '443' : '80';
      // The fixes as the url line is written, when its text starts with the literal read (else as the URL's text).
      const lead = e.leadingText;
      const from = lead && lead.value.trimStart().startsWith(m[0]) ? lead.start + 1 + (lead.value.length - lead.value.trimStart().length) : undefined;
      const write = (insert: string) =>
        from !== undefined ? `url: ${yamlSingleQuoted(e.source.slice(0, from + m[1]!.length) + insert + e.source.slice(from + m[0].length))}` : quotedUrlText(`${m[1]}${insert}${text.slice(m[0].length)}`);
      out.push(
        `${fileName(at.file ?? s.file)}:${at.line}:${at.col}: WebRequest block ${block.id} of ${s.name}: the url ${quotedUrlText(text)}${whole === undefined ? ' + …' : ''} has a ":" after its host and no port, ` +
          `so it is sent to the scheme's default port (${port}): a port left out? write it after the ":", ${write(':8080')} (your service's port), or leave the ":" out, ${write('')}`,
      );
    }
  }
  return out;
}

/** Characters no editor shows in files that load all the same (Scenario.textWarnings), each at its place with its fix. */
function textWarnings(library: Pick<ScenarioLibrary, 'scenarios' | 'dir'>, fileName: (file: string) => string): string[] {
  return byName(library).flatMap((s) => (s.textWarnings ?? []).map((w) => `${fileName(w.file)}:${w.line}:${w.col}: ${w.message}; ${w.hint ?? ''}`.replace(/; $/, '')));
}

/**
 * SendMail blocks that give no `subject:` and whose template's subject file is missing or holds nothing but spaces and
 * `{# comments #}`: every letter goes without a subject (the mailer sends it, and many mail readers then show it
 * as "(no subject)" or file it as spam). One warning per template, at its subject file (or at the first block, when the
 * file is missing), naming the blocks. A subject that only renders empty on some runs is not looked at.
 */
export function emptySubjectWarnings(library: Pick<ScenarioLibrary, 'scenarios' | 'dir'>, fileName: (file: string) => string = (f) => fileInFolder(f, library.dir)): string[] {
  const byTemplate = new Map<string, { file: string; blocks: string[]; first: { line: number; col: number; file?: string } }>();
  for (const s of byName(library)) {
    for (const block of s.blocks.values()) {
      if (block.kind !== 'SendMail') continue;
      const c = block.config as { template?: string; subject?: CompiledExpression };
      if (!c.template || c.subject) continue;
      const known = byTemplate.get(c.template);
      const named = `${s.name} (block ${block.id})`;
      if (known) known.blocks.push(named);
      else byTemplate.set(c.template, { file: subjectFile(library.dir, c.template), blocks: [named], first: { ...(s.templates.find((u) => u.block === block.id)?.loc ?? block.loc) } });
    }
  }
  const out: string[] = [];
  for (const [name, t] of [...byTemplate].sort(([a], [b]) => a.localeCompare(b))) {
    let text: string | undefined;
    try {
      text = readFileSync(t.file, 'utf8');
    } catch {
      text = undefined;
    }
    if (text !== undefined && /\S/.test(text.replace(/\{#[\s\S]*?#\}/g, ''))) continue;
    const at = text === undefined ? `${fileName(t.first.file ?? t.file)}:${t.first.line}:${t.first.col}` : `${fileName(t.file)}:1:1`;
    const what = text === undefined ? `template ${name} has no subject file (${name}.subject.njk)` : `the subject file of template ${name} is empty`;
    out.push(`${at}: ${what}, and ${t.blocks.join(', ')} give${t.blocks.length === 1 ? 's' : ''} no subject: every letter goes without one; write the subject in ${name}.subject.njk (e.g. Отчёт за {{ day }}), or give the block a subject: expression`);
  }
  return out;
}

/**
 * The subject file of template `name`, in the templates folder of the scenarios folder `dir` (where the server and
 * validate look for it, wherever a scenario file checked alone is), named from the working folder as the problems
 * name files, or absolutely when it is not under it.
 */
function subjectFile(dir: string, name: string): string {
  const folder = resolve(dir, 'templates');
  let files: string[];
  try {
    files = readdirSync(folder);
  } catch {
    files = [];
  }
  // `NAME.SUBJECT.NJK` is the subject file as the renderer reads it.
  return fileInFolder(join(folder, templatePartFiles(files, name, 'subject')[0] ?? `${name}.subject.njk`), process.cwd());
}

/**
 * Condition blocks whose expression reads no variable, parameter or clock and whose value is no yes/no: a number other
 * than 0 and 1, a text other than "0", "1", "true" and "false", a date (`1 + 2`, `"address"`, `Len("abc")`). It is the
 * same on every run, so one exit is always taken: a variable was left out. A comparison of constants (`1 = 1`,
 * Oktell's way to write "always"), true, false, 0 and 1 are a choice, not named; a variable of any type is not either,
 * since every value has a truth (expressions.md: empty text, "0" and "false" are false).
 */
export function constantConditionWarnings(library: Pick<ScenarioLibrary, 'scenarios' | 'dir'>, fileName: (file: string) => string = (f) => fileInFolder(f, library.dir)): string[] {
  const out: string[] = [];
  for (const s of byName(library)) {
    for (const block of s.blocks.values()) {
      if (block.kind !== 'Condition') continue;
      const c = block.config as { condition?: CompiledExpression; operands?: unknown };
      const e = c.condition;
      if (!e?.constant || c.operands) continue;
      let value;
      try {
        value = e.evaluate(NOTHING);
      } catch {
        continue; // 1 / 0: the run says so
      }
      if (value === null || typeof value === 'boolean' || value === 0 || value === 1) continue;
      if (typeof value === 'string' && /^\s*(?:0|1|true|false)\s*$/i.test(value)) continue;
      const shown = typeof value === 'string' ? JSON.stringify(value) : toText(value, 'UTC');
      const exit = toBoolean(value) ? 'true' : 'false';
      const at = e.at ?? block.loc;
      out.push(
        `${fileName(at.file ?? s.file)}:${at.line}:${at.col}: Condition block ${block.id} of ${s.name}: the expression ${e.source.trim()} is ${shown} on every run (it reads no variable, parameter or clock), not a yes/no, ` +
          `so the block always takes its "${exit}" exit: compare a variable with it, e.g. [count] = ${e.source.trim()}`,
      );
    }
  }
  return out;
}

/**
 * A text written in an expression that holds `{{ name }}` or `${name}` for a variable of the scenario (`subject:
 * '"Order {{orderId}}"'`): the way Node-RED's template node, mustache and shells put a value into text, which nothing
 * does in an expression, so every letter or request would carry the braces as written. `msg.` and `payload.` before
 * the name are Node-RED's too. One warning per expression, at the first such text, with the whole value to write
 * instead (each such text joined to its variables, in quotes it does not contain, pasteable into the YAML), and how to
 * keep braces that are meant: split, they are no longer a placeholder.
 */
export function placeholderTextWarnings(library: Pick<ScenarioLibrary, 'scenarios' | 'dir'>, fileName: (file: string) => string = (f) => fileInFolder(f, library.dir)): string[] {
  const out: string[] = [];
  // `{{ $json.orderId }}` and `{{ $json.body.orderId }}` are n8n's way: the name after them is the variable meant.
  // Kestra's `{{ inputs.orderId }}` and `{{ vars.orderId }}` likewise.
  const PLACEHOLDER = /\{\{\s*((?:\$json\.(?:body\.)?|inputs\.|vars\.)?[A-Za-z_\p{L}][\w\p{L}.]*)\s*\}\}|\$\{\s*([A-Za-z_\p{L}][\w\p{L}.]*)\s*\}/gu;
  const expressions = (value: unknown, seen = new Set<unknown>()): CompiledExpression[] => {
    if (!value || typeof value !== 'object' || seen.has(value)) return [];
    seen.add(value);
    const e = value as Partial<CompiledExpression>;
    if (typeof e.source === 'string' && typeof (e as { evaluate?: unknown }).evaluate === 'function') return [value as CompiledExpression];
    const items = value instanceof Map ? [...value.values()] : Array.isArray(value) ? value : Object.values(value);
    return items.flatMap((v) => expressions(v, seen));
  };
  for (const s of byName(library)) {
    const placeholders = (text: string) =>
      [...text.matchAll(PLACEHOLDER)]
        .map((m) => ({ written: m[0], index: m.index!, name: (m[1] ?? m[2])!.replace(/^msg\./, '').replace(/^payload\./, '').replace(/^\$json\.(?:body\.)?/, '').replace(/^(?:inputs|vars)\./, '') }))
        .filter((m) => s.variables.has(m.name));
    for (const block of s.blocks.values()) {
      for (const e of expressions(block.config)) {
        const n8n = n8nPlaceholderWarning(e, block, s.name, fileName(e.at?.file ?? s.file), (name) => s.variables.has(name));
        if (n8n && !e.literalTexts?.some((t) => placeholders(t).length)) out.push(n8n);
        const kestra = n8n ? undefined : kestraPlaceholderWarning(e, block, s.name, fileName(e.at?.file ?? s.file), (name) => s.variables.has(name));
        if (kestra && !e.literalTexts?.some((t) => placeholders(t).length)) out.push(kestra);
        if (!e.literalTexts?.some((t) => placeholders(t).length)) continue;
        const hits = textLiteralsOf(e.source).map((l) => ({ ...l, found: placeholders(l.value) })).filter((h) => h.found.length);
        if (!hits.length) continue;
        const whole = (h: { start: number; end: number }) => !e.source.slice(0, h.start).trim() && !e.source.slice(h.end).trim();
        // Each text in its place: its parts in quotes they do not contain and its variables in [ ], joined with +.
        const joinedOf = (h: (typeof hits)[number]): string | undefined => {
          const parts: Array<{ text: string } | { variable: string }> = [];
          let from = 0;
          for (const f of h.found) {
            if (f.index > from) parts.push({ text: h.value.slice(from, f.index) });
            parts.push({ variable: f.name });
            from = f.index + f.written.length;
          }
          if (from < h.value.length) parts.push({ text: h.value.slice(from) });
          // A number variable first would add to a number after it: "" before it keeps the value text, as it was.
          const first = parts[0]!;
          if ('variable' in first && s.variables.get(first.variable)?.type !== 'string' && (parts.length === 1 ? !whole(h) : 'variable' in parts[1]!)) parts.unshift({ text: '' });
          const written = parts.map((p) => ('variable' in p ? `[${p.variable}]` : textLiteral(p.text)));
          if (written.some((w) => w === undefined)) return undefined;
          const joined = written.join(' + ');
          return h.tight && written.length > 1 ? `(${joined})` : joined;
        };
        let fixed: string | undefined = e.source;
        for (const h of [...hits].reverse()) {
          const joined = joinedOf(h);
          fixed = joined === undefined || fixed === undefined ? undefined : fixed.slice(0, h.start) + joined + fixed.slice(h.end);
        }
        if (fixed !== undefined && !parseExpression(fixed).ok) fixed = undefined;
        // Pasteable as the property's value: in YAML's '…', or, holding a line break, in YAML's "…" with its \n.
        const write =
          fixed === undefined || fixed.length > EXPRESSION_CHARS
            ? 'join each variable to the text with +, outside the quotes'
            : `write ${/[\u0000-\u001f\u007f]/.test(fixed) ? JSON.stringify(fixed) : yamlSingleQuoted(fixed)}`;
        const found = hits.flatMap((h) => h.found);
        const kept = found[0]!.written;
        const at = e.locate?.(hits[0]!.start) ?? e.at ?? block.loc;
        out.push(
          `${fileName(at.file ?? s.file)}:${at.line}:${at.col}: block ${block.id} of ${s.name}: the text ${hits.map((h) => JSON.stringify(h.value)).join(', ')} is used as written: ` +
            `${found.map((f) => f.written).join(', ')} ${found.length > 1 ? 'are' : 'is'} not replaced in an expression (only in a mail template file); ${write} ` +
            `(braces meant as written give no warning when split: ${textLiteral(kept.slice(0, 1))} + ${textLiteral(kept.slice(1))})`,
        );
      }
    }
  }
  return out;
}

/**
 * n8n's `{{ $json.body.orderId }}` (or `{{ $now }}`, `{{ $('Webhook')… }}`) in a text of an expression, for a value
 * that is no variable of the scenario: nothing replaces it, so the letter or request carries it as written. (One whose
 * name is a variable is told by placeholderTextWarnings, with the value to write.) The warning says where the value
 * comes from here.
 */
function n8nPlaceholderWarning(e: CompiledExpression, block: { id: string; loc: { line: number; col: number } }, scenario: string, file: string, isVariable: (name: string) => boolean): string | undefined {
  // Only n8n's own names: `{{ $labels.instance }}` or `{{ $value }}` is a Prometheus or Go template sent on as text.
  const N8N = /\{\{\s*(\$(?:json|env|now|today|node|input|items?|vars|execution|workflow|prevNode|binary|\()[^{}]*?)\s*\}\}/g;
  for (const l of textLiteralsOf(e.source)) {
    for (const m of l.value.matchAll(N8N)) {
      const path = /^\$json\.(?:body\.)?([A-Za-z_\p{L}][\w\p{L}.]*)$/u.exec(m[1]!)?.[1];
      if (path && isVariable(path)) continue;
      const leaf = path?.split('.').pop();
      const instead = path
        ? `read the value into a variable first (a Parser block with mode: json, extract: { ${leaf}: $.${path} }, or JsonGet([body], "${path}") where body holds the text) and join it to the text: '"…" + [${leaf}]'`
        : `n8n's $ data does not exist here: put the value into a variable (a block's result, Now() for $now, a variable with env: for $env) and join it to the text with +`;
      const at = e.locate?.(l.start) ?? e.at ?? block.loc;
      return `${file}:${at.line}:${at.col}: block ${block.id} of ${scenario}: the text ${JSON.stringify(l.value)} is used as written: ${m[0]} is n8n's and is not replaced in an expression (only {{ name }} in a mail template file); ${instead} (see docs/coming-from-n8n.md; braces meant as written give no warning when split: ${textLiteral(m[0].slice(0, 1))} + ${textLiteral(m[0].slice(1))})`;
    }
  }
  return undefined;
}

/**
 * Kestra's `{{ outputs.fetch.body }}`, `{{ secret('TOKEN') }}`, `{{ inputs.x }}` (x no variable of the scenario) in a
 * text of an expression: nothing replaces it, so the letter or request carries it as written. (`{{ inputs.x }}` for a
 * variable x is told by placeholderTextWarnings, with the value to write.) The warning says where the value comes from.
 */
function kestraPlaceholderWarning(e: CompiledExpression, block: { id: string; loc: { line: number; col: number } }, scenario: string, file: string, isVariable: (name: string) => boolean): string | undefined {
  for (const l of textLiteralsOf(e.source)) {
    for (const m of l.value.matchAll(KESTRA_PLACEHOLDER)) {
      const ref = m[1]!.trim();
      const name = /^(?:inputs|vars)\.([A-Za-z_\p{L}][\w\p{L}.]*)$/u.exec(ref)?.[1];
      if (name && isVariable(name)) continue;
      const at = e.locate?.(l.start) ?? e.at ?? block.loc;
      return `${file}:${at.line}:${at.col}: block ${block.id} of ${scenario}: the text ${JSON.stringify(l.value)} is used as written: ${m[0]} is Kestra's and is not replaced in an expression (only {{ name }} in a mail template file); ${kestraSource(ref, { has: isVariable })}, and join it to the text with + (see docs/coming-from-kestra.md; braces meant as written give no warning when split: ${textLiteral(m[0].slice(0, 1))} + ${textLiteral(m[0].slice(1))})`;
    }
  }
  return undefined;
}

/**
 * Variables whose `initial:` is text the mailer refuses as an address list (`reports-at-example.com`) and that a
 * SendMail block sends to as they are (`to: '[reportTo]'`, or cc, bcc): a run that does not give the variable another
 * value first fails that letter (MAIL_BAD_ADDRESS). A warning, not a problem: a parameter or a block may replace the
 * value on every run. An empty `initial` is not named (it is how a variable filled at run time is written), nor a
 * secret's (its value is not put in a message). One warning per variable, at its `initial`, naming each use.
 */
export function refusedInitialAddressWarnings(library: Pick<ScenarioLibrary, 'scenarios' | 'dir'>, fileName: (file: string) => string = (f) => fileInFolder(f, library.dir)): string[] {
  const out: string[] = [];
  for (const s of byName(library)) {
    const uses = new Map<string, string[]>();
    for (const block of s.blocks.values()) {
      if (block.kind !== 'SendMail') continue;
      const c = block.config as Partial<Record<'to' | 'cc' | 'bcc', CompiledExpression>>;
      for (const field of ['to', 'cc', 'bcc'] as const) {
        const e = c[field];
        if (!e || !PLAIN_VARIABLE.test(e.source) || e.variables.length !== 1) continue;
        const name = e.variables[0]!;
        const at = e.at ?? block.loc;
        uses.set(name, [...(uses.get(name) ?? []), `"${field}" of block ${block.id} (line ${at.line})`]);
      }
    }
    for (const [name, where] of uses) {
      const v = s.variables.get(name);
      if (!v?.initialAt || v.secret || v.initial === null) continue;
      const r = parseAddressList(toText(v.initial, 'UTC'));
      if (r.ok) continue;
      out.push(
        `${fileName(v.initialAt.file ?? s.file)}:${v.initialAt.line}:${v.initialAt.col}: variable ${name} of ${s.name} starts as text the mailer refuses (${r.error}), and it is ${where.join(' and ')}: ` +
          `a run that does not set ${name} first fails that letter (MAIL_BAD_ADDRESS); write the initial as name@domain or Name <name@domain>, several separated by "," or ";"`,
      );
    }
  }
  return out;
}

/**
 * Scenarios whose names differ only in letter case (`Notify` and `notify`). Both load here, where file names are told
 * apart by case, but a copy of the folder on Windows or macOS keeps only one of the two files, and a name typed in the
 * wrong case (in a Web-API call, an AsyncScenario block) starts another of them instead of being refused. One
 * warning per group, at the file of the first name in sort order.
 */
export function caseOnlyNameWarnings(library: Pick<ScenarioLibrary, 'scenarios' | 'dir'>, fileName: (file: string) => string = (f) => fileInFolder(f, library.dir)): string[] {
  const byFolded = new Map<string, string[]>();
  for (const name of [...library.scenarios.keys()].sort()) {
    // Also names written with the same letters composed in two ways (é as one character or e and an accent), which
    // macOS stores as one file name.
    const folded = name.normalize('NFC').toLowerCase();
    byFolded.set(folded, [...(byFolded.get(folded) ?? []), name]);
  }
  return [...byFolded.values()]
    .filter((names) => names.length > 1)
    .map((names) => {
      const files = names.map((n) => fileName(library.scenarios.get(n)!.file));
      const listed = `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
      return `${files[0]}:1:1: scenarios ${listed} differ only in ${names.some((n) => n !== n.normalize('NFC')) ? 'letter case or in how an accented letter is encoded' : 'letter case'} (${files.join(', ')}): a copy of the folder on Windows or macOS keeps one file of them, and a name typed in the wrong case starts another of them rather than being refused; rename ${names.length > 2 ? 'all but one' : 'one'} of them`;
    });
}

/** Exits taken when something fails: a way out through one of them is the run failing, not a way past a start. */
const FAILURE_EXITS = new Set(['error', 'timeout']);

/**
 * Whether a run of `sc` can end, other than by failing, without reaching any of the blocks `avoid`: from the start,
 * along every exit but the failure ones, to a Stop, an exit left unwired, or a jump to another scenario.
 */
function passedBy(sc: Scenario, avoid: ReadonlySet<string>): boolean {
  const seen = new Set<string>();
  const todo = [sc.start];
  while (todo.length) {
    const id = todo.pop()!;
    if (seen.has(id) || avoid.has(id)) continue;
    seen.add(id);
    const b = sc.blocks.get(id);
    if (!b) return true;
    if (b.kind === 'Stop' || (b.kind === 'AsyncScenario' && (b.config as { mode?: string } | undefined)?.mode === 'jump')) return true;
    for (const exit of b.def.exits) {
      if (FAILURE_EXITS.has(exit)) continue;
      const to = b.exits[exit];
      if (to === undefined) return true;
      todo.push(to);
    }
  }
  return false;
}

/**
 * Scenarios that start each other asynchronously in a ring (A starts B, B starts A; or A starts itself) on every way
 * through them but a failure: on the server each start is a job of its own, and nothing bounds a chain of jobs, so the
 * ring turns for ever, making its letters and requests again at each turn (a command-line or test run stops after
 * 1,000 starts, R_ASYNC_LIMIT). A ring that a Condition can leave (a retry counted, a poll until done) is not warned
 * of (`passedBy`). Calls and jumps are not counted: they stay inside one run, which the depth and step limits bound.
 * One warning per ring, at the first of its starts.
 */
export function asyncCycleWarnings(library: Pick<ScenarioLibrary, 'scenarios' | 'dir'>, fileName: (file: string) => string = (f) => fileInFolder(f, library.dir)): string[] {
  type Start = { to: string; block: string; line: number; col: number };
  const starts = new Map<string, Start[]>();
  for (const sc of library.scenarios.values()) {
    const own: Start[] = [];
    for (const c of sc.calls) {
      const mode = (sc.blocks.get(c.block)?.config as { mode?: string } | undefined)?.mode ?? 'async';
      if (mode === 'async' && library.scenarios.has(c.scenario)) own.push({ to: c.scenario, block: c.block, line: c.loc.line, col: c.loc.col });
    }
    // A start that a way through the scenario passes by (a Condition retrying only a few times, or polling only
    // until something is done) may end the ring: only the starts every way makes count.
    starts.set(sc.name, own.filter((x) => !passedBy(sc, new Set(own.filter((o) => o.to === x.to).map((o) => o.block)))));
  }
  // Rings: strongly connected components of more than one scenario, or one that starts itself.
  const rings = stronglyConnected([...starts.keys()].sort(), (v) => starts.get(v)!.map((x) => x.to))
    .filter((c) => c.length > 1 || starts.get(c[0]!)!.some((x) => x.to === c[0]))
    .map((c) => [...c].sort());
  const out: string[] = [];
  for (const ring of rings.sort((a, b) => a[0]!.localeCompare(b[0]!))) {
    const members = new Set(ring);
    const edges = ring.flatMap((from) => starts.get(from)!.filter((x) => members.has(x.to)).map((x) => ({ from, ...x })));
    const first = edges[0]!;
    const sc = library.scenarios.get(first.from)!;
    const how = edges.map((e) => `${e.from} (block ${e.block}) starts ${e.to}`).join(', ');
    out.push(
      `${fileName(sc.file)}:${first.line}:${first.col}: ${ring.length === 1 ? `scenario ${ring[0]} starts itself` : `scenarios ${ring.join(', ')} start each other`} asynchronously (${how}) on every way through them that does not fail: on the server each start is a job of its own and nothing bounds a chain of jobs, so it runs without end, sending its letters and requests again at each turn (a command-line or test run stops after 1000 starts, R_ASYNC_LIMIT); let a Condition end it (a count of retries, a poll until done), or break the ring`,
    );
  }
  return out;
}

/**
 * WebRequest blocks that POST or PATCH without `idempotencyKey: true` while a repeat can happen: an outage (no answer
 * within `timeout`, a 5xx, 408 or 429) is retried inside the block (`attempts` in all, WEB_REQUEST_ATTEMPTS), and with
 * the `timeout` exit unwired the run fails as retryable, so a job (a service task, an asynchronous start) sends it again
 * on every retry of the job (a hook's own run is not retried). A
 * timeout is just when the service most likely did the work, so it may get the same request several times and
 * nothing in the request lets it tell. Each is named with its place, the count, and the two ways out.
 */
export function repeatedWriteWarnings(library: ScenarioLibrary, attempts: number, fileName: (file: string) => string = (f) => fileInFolder(f, library.dir)): string[] {
  const out: string[] = [];
  for (const s of byName(library)) {
    for (const block of s.blocks.values()) {
      if (block.kind !== 'WebRequest') continue;
      const c = block.config as { method?: string; idempotencyKey?: boolean };
      if ((c.method !== 'POST' && c.method !== 'PATCH') || c.idempotencyKey) continue;
      const jobRetries = block.exits.timeout === undefined;
      if (attempts <= 1 && !jobRetries) continue;
      const times = [
        ...(attempts > 1 ? [`up to ${attempts} times in one run (WEB_REQUEST_ATTEMPTS)`] : []),
        ...(jobRetries ? ['again on every retry when it runs as a job (a service task, an asynchronous start), as the "timeout" exit is not wired'] : []),
      ].join(', and ');
      const ways = [
        'add idempotencyKey: true if the service honours an Idempotency-Key header (the same key on every attempt)',
        `else ${[...(jobRetries ? ['wire the "timeout" exit'] : []), ...(attempts > 1 ? ['set WEB_REQUEST_ATTEMPTS=1'] : [])].join(' and ')} to send it once`,
      ].join('; ');
      out.push(`${fileName(s.file)}:${block.loc.line}:${block.loc.col}: block ${block.id} of ${s.name} sends a ${c.method} without idempotencyKey; when the service does not answer in time (or answers 5xx, 408, 429) it is sent ${times}, though the service may have done the work each time: ${ways}`);
    }
  }
  return out;
}

/** An expression that is one variable and nothing else: `[userId]`, `[ userId ]`. */
const PLAIN_VARIABLE = /^\s*\[[^\]]*\]\s*$/;
/**
 * An expression that is one function call with a number or a variable as its argument and nothing around it:
 * `InputParameter(1)`, `ВходнойПараметр( 2 )`, `InputParameter([n])` (which function it is, the compiled expression says).
 */
const PLAIN_CALL = /^\s*[^\s()[\]"«»+\-*/^&|<>=!,]+(?: [^\s()[\]"«»+\-*/^&|<>=!,]+)*\s*\(\s*(?:\d+|\[[^\]]*\])\s*\)\s*$/;

/**
 * Whether `e`, the whole of an entry, is text from a request as it came: a plain `string` variable, or a start
 * parameter read directly (`InputParameter(n)`, any alias); how the warning names it, and the variable, when one.
 */
function requestText(e: CompiledExpression, variables: ReadonlyMap<string, { type: string }>): { expression: string; what: string; variable?: string } | undefined {
  if (PLAIN_VARIABLE.test(e.source) && e.variables.length === 1) {
    const name = e.variables[0]!;
    return variables.get(name)?.type === 'string' ? { expression: `[${name}]`, what: 'a string variable', variable: name } : undefined;
  }
  if (PLAIN_CALL.test(e.source) && e.functions.length === 1 && e.functions[0] === 'InputParameter') {
    return { expression: e.source.trim(), what: 'a start parameter as the run got it (request text)' };
  }
  return undefined;
}

/**
 * Bpium `filters` and `values` entries whose expression is a plain `string` variable. The block sends a value that
 * looks like JSON text of an array or object (`["1","2"]`, `{"$or": …}`) as structure, not as text (a documented
 * feature, so that a linked field can be given as `[{"id":"2"}]`); a string variable is where text from a request
 * lands (a webhook field, a parameter, an answer), so whoever sends that text could widen a filter or point a
 * linked or user field at records of their choice. A `json` variable says the structure is meant, and a `number`
 * cannot become structure. Only plain variables are named: an expression that builds the value around a variable is
 * the scenario's own text, read the same way (scenario-format.md says so). `InputParameter(n)` as the whole entry is
 * named the same way: a start parameter is text from the request (a webhook's body, a Web-API parameter).
 */
export function bpiumStructureWarnings(library: ScenarioLibrary, fileName: (file: string) => string = (f) => fileInFolder(f, library.dir)): string[] {
  const out: string[] = [];
  for (const s of byName(library)) {
    for (const block of s.blocks.values()) {
      if (block.kind !== 'Bpium') continue;
      const c = block.config as { filters?: Array<[string, CompiledExpression]>; values?: Array<[string, CompiledExpression]> };
      for (const property of ['filters', 'values'] as const) {
        for (const [field, e] of c[property] ?? []) {
          const source = requestText(e, s.variables);
          if (!source) continue;
          const at = e.at ?? block.loc;
          const whole = property === 'filters' ? 'filtersJson' : 'valuesJson';
          const effect =
            property === 'filters'
              ? 'sent to Bpium as query structure, not as one value, so whoever supplies that text (a webhook, a parameter) can widen or rewrite the filter'
              : 'sent to Bpium as field structure, not as text, so whoever supplies that text (a webhook, a parameter) can set the field to records or users of their choice';
          // A variable can be declared otherwise; a start parameter is always text: it is set into a variable that is.
          const typed = source.variable
            ? `declare ${source.variable} as json if it is meant to hold structure (several ids, linked records), as number if it holds one numeric id`
            : `set it into a json variable (a Variable block) and give that if it is meant to hold structure (several ids, linked records), into a number variable if it holds one numeric id`;
          out.push(
            `${fileName(at.file ?? s.file)}:${at.line}:${at.col}: block ${block.id} of ${s.name}: ${property} entry ${field} is ${source.expression}, ${source.what}; text in it that looks like a JSON array or object (["1","2"], {"$or": …}) is ${effect}: ` +
              `${typed}; if it is text, give the whole ${property} as ${whole} and the value with JsonString, ` +
              `e.g. ${whole}: '«{"${field}": » + JsonString(${source.expression}) + «}»', which Bpium gets as the text itself`,
          );
        }
      }
    }
  }
  return out;
}

/**
 * A retention too short for the freshness window of signed webhooks: a timestamp is accepted up to the window either
 * way of the server's clock, so a captured request stays accepted for up to twice the window after it first came, and
 * only its delivery key (kept with its inbox entry, pruned after the retention) makes a replay of it a duplicate. On a
 * Standard Webhooks route (a whsec_ secret) the window is always there (5 minutes, or webhookMaxAgeMinutes); on a
 * Bpium-signed route only when webhookMaxAgeMinutes is set (without it nothing bounds a replay's age, and this warning
 * would not close that). Undefined when the retention covers it, or no signed route has a window.
 */
export function replayWindowWarning(retentionMs: number, webhookSecrets: Readonly<Record<string, string>>, webhookMaxAgeMs: number | undefined): string | undefined {
  const routes = Object.entries(webhookSecrets);
  const standard = routes.filter(([, secret]) => isStandardSecret(secret)).map(([path]) => path);
  const bpium = webhookMaxAgeMs === undefined ? [] : routes.filter(([, secret]) => !isStandardSecret(secret)).map(([path]) => path);
  if (!standard.length && !bpium.length) return undefined;
  const windowMs = webhookMaxAgeMs ?? STANDARD_TOLERANCE_MS;
  if (retentionMs >= 2 * windowMs) return undefined;
  const days = (ms: number) => String(Number((ms / 86_400_000).toPrecision(6)));
  const name = (path: string) => (path === '*' ? 'every path (BPIUM_WEBHOOK_SECRET)' : path);
  const where = [
    ...(standard.length ? [`Standard Webhooks on ${standard.map(name).join(', ')}`] : []),
    ...(bpium.length ? [`Bpium's timestamp on ${bpium.map(name).join(', ')}`] : []),
  ].join('; ');
  const atLeast = Math.ceil((2 * windowMs / 86_400_000) * 1000) / 1000;
  return (
    `the retention (OKTELL_RETENTION_DAYS or retentionDays: ${days(retentionMs)} days, about ${spanText(retentionMs)}) is shorter than twice the freshness window of signed webhooks ` +
    `(${webhookMaxAgeMs === undefined ? 'the Standard Webhooks tolerance of 5 minutes' : `BPIUM_WEBHOOK_MAX_AGE_MINUTES or webhookMaxAgeMinutes: ${webhookMaxAgeMs / 60_000} minute(s)`}; ${where}): ` +
    `a timestamp is accepted up to ${spanText(windowMs)} either way, so a captured signed request is still accepted up to ${spanText(2 * windowMs)} after it first came, ` +
    `but its delivery key goes with its inbox entry at the first hourly prune past the retention, and a replay after that runs its scenario again; ` +
    `set OKTELL_RETENTION_DAYS to at least ${atLeast}${webhookMaxAgeMs === undefined ? '' : ', or narrow the window'}`
  );
}
