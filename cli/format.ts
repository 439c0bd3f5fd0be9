// Human-readable, coloured output of a run: the trace, return values, letters, Bpium calls, web requests and database
// statements in the order the run made them, and started children.
import pc from 'picocolors';
import { clipText, formatIssue, formatRunError, toText, type DbCallRecord, type HttpCallRecord, type MailRecord, type RunResult, type ScenarioIssue, type Value } from '../engine/index.js';
import { timeZone as configuredTimeZone } from './config.js';
import { htmlToText } from './html-text.js';
import { terminalText } from './terminal-text.js';
import { isValue } from '../server/stored-values.js';
import { bpiumCallNote, httpCallNote } from '../server/console/call-notes.js';
import { effectsInOrder } from '../server/console/effect-order.js';
import { REFUSED_BEFORE_SENDING, refusedBeforeSending } from '../server/run-outcome.js';

export { terminalText };

/** Steps shown from each end of a trace that was cut (a runaway loop); `--json` has every step kept. */
const CUT_TRACE_EDGE = 20;

/** Lines of a letter's text shown under it; `--json` has the whole letter. */
const SHOWN_TEXT_LINES = 30;

/**
 * Prints a run for a person: values the way the scenario's own text conversion shows them (dates as
 * `dd.MM.yyyy HH:mm:ss` in the run's `timeZone`, numbers without float noise), text in quotes. `--json` keeps the
 * raw values (ISO instants, JSON numbers) for programs.
 */
export function printRun(r: RunResult, out: NodeJS.WritableStream, depth = 0, timeZone = configuredTimeZone()): void {
  const pad = '  '.repeat(depth);
  const show = (v: Value) => shownValue(v, timeZone);
  const w = (s: string) => out.write(`${pad}${s}\n`);
  const status = r.status === 'completed' ? pc.green('completed') : pc.red('failed');
  w(`${pc.bold(terminalText(r.scenario))} ${status} ${pc.dim(`run ${r.runId} · ${r.steps} steps · ${r.durationMs} ms · version ${r.version}`)}`);
  const printStep = (s: RunResult['trace'][number]) => {
    const exit = s.exit === 'failed' ? pc.red('✗ failed') : pc.cyan(`→ ${s.exit}`);
    const changed = s.changed ? ' ' + Object.entries(s.changed).map(([k, v]) => `${pc.yellow(k)}=${show(v)}`).join(' ') : '';
    w(`  ${pc.dim(String(s.step).padStart(3))} ${terminalText(s.block)} ${pc.dim(s.kind)} ${exit}${changed}${s.error ? ' ' + pc.red(terminalText(s.error)) : ''}`);
    for (const n of s.notes ?? []) w(`      ${pc.yellow('note')} ${terminalText(n)}`);
  };
  if (!r.traceTruncated || r.trace.length <= 2 * CUT_TRACE_EDGE) r.trace.forEach(printStep);
  else {
    // A runaway run: its beginning and its end (where the loop was when it stopped) say more than 10,000 lines.
    const head = r.trace.slice(0, CUT_TRACE_EDGE);
    const tail = r.trace.slice(-CUT_TRACE_EDGE);
    head.forEach(printStep);
    const kept = r.trace.length;
    w(`  ${pc.yellow(`… steps ${head[head.length - 1]!.step + 1}–${tail[0]!.step - 1} not shown. Of ${kept + r.traceTruncated} steps the trace keeps the first ${Math.ceil(kept / 2)} and the last ${Math.floor(kept / 2)}, which --json prints.`)}`);
    tail.forEach(printStep);
  }
  const rv = Object.entries(r.returnValues);
  if (rv.length) w(`  ${pc.bold('return values')} ${rv.map(([k, v]) => `${k}=${show(v)}`).join(' ')}`);
  const bodies = sentBodies(r);
  const httpCalls = r.httpCalls ?? [];
  // In the order the run made them, as `show` lists a stored run's (effect-order.ts); a trace cut in its middle (or
  // none, --no-trace) cannot say so, and they are then listed by kind.
  for (const e of effectsInOrder(r, r.traceTruncated ? [] : r.trace)) {
    if (e.kind === 'mail') printMail(e.record, w);
    else if (e.kind === 'bpium') {
      const c = e.record;
      w(`  ${pc.bold('bpium')} ${c.method} catalog ${terminalText(String(c.catalogId))}${c.recordId ? ` record ${terminalText(String(c.recordId))}` : ''} → ${c.status}${bpiumCallNote(c) ? pc.dim(` (${bpiumCallNote(c)})`) : ''}${c.error ? ' ' + pc.red(terminalText(c.error)) : ''}`);
    } else if (e.kind === 'db') w(`  ${dbCallLine(e.record)}`);
    else {
      const c = e.record;
      w(`  ${httpCallLine(c)}`);
      // What a request not sent would have carried: a dry run is where the payload is checked before it goes out.
      const body = httpCallNote(c).startsWith('not sent') ? bodies?.[httpCalls.indexOf(c)] : undefined;
      if (body !== undefined) w(`    ${pc.dim('body')} ${body.length > SHOWN_BODY ? `${clipText(body, SHOWN_BODY)}… ${pc.dim(`(${body.length} characters shown in --json)`)}` : body}`);
      if (c.defaultAnswer === true) w(`    ${pc.yellow('hint:')} ${terminalText(defaultAnswerHint(c))}`);
    }
  }
  // A run from the command line is not a queued job: nothing retries it, and `replay` does not know it.
  if (r.error) w(`  ${pc.red('error')} ${terminalText(formatRunError(r.error), true)}${r.error.retryable ? pc.yellow(' (retryable: the server would try a job again later; here, run the command again)') : ''}`);
  for (const a of r.asyncStarted) {
    w(`  ${pc.bold('started')} ${terminalText(a.scenario)} ${pc.dim(`params ${clipText(terminalText(JSON.stringify(a.params)), 80)}`)}`);
    if (!a.result) continue;
    if (depth / 2 < SHOWN_NESTING) printRun(a.result, out, depth + 2, timeZone);
    else {
      const deeper = nestedRuns(a.result);
      w(`  ${pc.yellow(`… its run and ${deeper - 1} run(s) it started in turn, nested deeper than ${SHOWN_NESTING} starts, are not shown (--json prints them)`)}`);
    }
  }
}

/**
 * Levels of started runs printed inside each other. Scenarios that start each other in a ring nest up to a thousand
 * deep before R_ASYNC_LIMIT stops them: printed whole, with an indentation growing at each level, that was 25 MB.
 */
export const SHOWN_NESTING = 20;

/** A run and every run started under it, at any depth (a loop, not recursion: a ring nests a thousand deep). */
function nestedRuns(root: RunResult): number {
  let n = 0;
  const todo = [root];
  for (let r = todo.pop(); r; r = todo.pop()) {
    n++;
    for (const a of r.asyncStarted) if (a.result) todo.push(a.result);
  }
  return n;
}

/** Characters of a request's body shown under it; `--json` has the trace's (up to 1,000). */
const SHOWN_BODY = 300;

/**
 * The body of each web request of the run, by the index of its record in `httpCalls`, as its trace step keeps it
 * (secrets masked, cut at 1,000 characters); undefined for a request without one. Each WebRequest step records one
 * request, in order; when the trace was cut or they do not pair, none (the bodies would be put under the wrong URLs).
 */
function sentBodies(r: RunResult): Array<string | undefined> | undefined {
  const calls = r.httpCalls ?? [];
  if (!calls.length || r.traceTruncated) return undefined;
  const steps = r.trace.filter((s) => s.kind === 'WebRequest' && s.effect !== undefined);
  if (steps.length !== calls.length || steps.some((s, i) => s.block !== calls[i]!.block)) return undefined;
  return steps.map((s) => {
    const request = (s.effect as { request?: { body?: unknown } } | null)?.request;
    // On one line under the request's: a text body's line breaks written as \n, and the other control characters (an
    // escape sequence from request data would drive the terminal) as \u….
    return typeof request?.body === 'string' && request.body !== '' ? terminalText(request.body) : undefined;
  });
}

/** A letter: status and recipients, then its subject and its text (the HTML part as text when there is no text). */
function printMail(m: MailRecord, w: (s: string) => void): void {
  const status = m.status === 'sent' ? pc.green(m.status) : m.status === 'failed' ? pc.red(m.status) : pc.yellow(m.status);
  // A letter refused before it was composed has neither recipients nor subject: its error says why (and quotes the
  // address text it refused).
  if (refusedBeforeSending(m)) return w(`  ${pc.bold('mail')} ${pc.red(REFUSED_BEFORE_SENDING)}: ${pc.red(terminalText(m.error ?? ''))}`);
  const list = (a: string[]) => terminalText(a.join(', '));
  const who = [`to ${list(m.to) || '(nobody)'}`, ...(m.cc.length ? [`cc ${list(m.cc)}`] : []), ...(m.bcc.length ? [`bcc ${list(m.bcc)}`] : [])];
  w(`  ${pc.bold('mail')} ${status} ${who.join(pc.dim(' · '))}${m.error ? ' ' + pc.red(terminalText(m.error)) : ''}`);
  w(`    ${pc.dim('subject')} ${terminalText(m.subject)}`);
  const body = m.text ?? (m.html !== undefined ? htmlToText(m.html) : undefined);
  if (body === undefined || body.trim() === '') return;
  const lines = terminalText(body.trimEnd(), true).split('\n');
  for (const line of lines.slice(0, SHOWN_TEXT_LINES)) w(`    ${pc.dim('│')}${line ? ` ${line}` : ''}`);
  if (lines.length > SHOWN_TEXT_LINES) w(`    ${pc.dim(`│ … ${lines.length - SHOWN_TEXT_LINES} more lines (--json has the whole letter)`)}`);
}

/**
 * A value as `run` prints it, and `show` for a stored run: text in quotes, numbers and dates as the scenario's text
 * conversion writes them; anything that is no scenario value (JSON in a stored record) as JSON. Cut to 120 characters.
 */
export function shownValue(v: unknown, timeZone: string): string {
  // JSON writes C0 controls as escapes; DEL and C1 (and a value's own text) go through terminalText too.
  const s = terminalText(typeof v === 'string' ? JSON.stringify(v) : v === null ? 'null' : isValue(v) ? toText(v, timeZone) : String(JSON.stringify(v)));
  return s.length > 120 ? `${clipText(s, 117)}…` : s;
}

/** One database statement of a run, as `run` and `show` print it. */
export function dbCallLine(d: DbCallRecord): string {
  const rows = d.rowCount !== undefined ? ` ${d.rowCount} row(s)` : '';
  return `${pc.bold('db')} ${terminalText(d.connection)} ${clipText(terminalText(d.statement.replace(/\s+/g, ' ')), 100)} → ${d.status}${rows}${d.rolledBack ? pc.dim(' (rolled back)') : ''}${d.error ? ' ' + pc.red(terminalText(d.error)) : ''}`;
}

/** One web request of a run, as `run` and `show` print it. */
export function httpCallLine(c: HttpCallRecord): string {
  const how = c.outcome === 'ok' ? pc.green(c.outcome) : c.outcome === 'dry-run' || c.outcome === 'replayed' ? pc.yellow(c.outcome) : pc.red(c.outcome);
  // "not sent" only where that is known (a dry run, a request refused before any attempt); the console says the same.
  const note = httpCallNote(c) ? ` (${httpCallNote(c)})` : '';
  const tries = c.attempts && c.attempts > 1 ? ` ${c.attempts} attempts` : '';
  // A 200 that no service and no fixture gave: said on the line, so it is not read as the service's answer.
  const byDefault = c.defaultAnswer === true ? ` ${pc.yellow('no fixture matched: the dry run\'s default answer')}` : '';
  return `${pc.bold('http')} ${terminalText(c.method)} ${terminalText(c.url)} → ${c.status ?? '—'} ${how}${tries}${pc.dim(note)}${byDefault}${c.error ? ' ' + pc.red(terminalText(c.error)) : ''}`;
}

/**
 * How to answer a request that got the dry run's default 200: a fixture whose `match` is the request's method and URL
 * without its query (a pattern without "?" matches any query), a masked `***` written as the wildcard `*`.
 */
export function defaultAnswerHint(c: Pick<HttpCallRecord, 'method' | 'url'>): string {
  const url = c.url.split(/[?#]/)[0]!.replaceAll('***', '*');
  return `the 200 with an empty body is no service's answer; to give one, pass --http-fixtures FILE with "- match: ${c.method} ${url}" and status:, json: or body:`;
}

/**
 * A problem of a scenario, test or fixture file as the CLI prints it (`file:line:col code message`, its hint on the
 * next line): the file name and the YAML values it quotes are the user's files', and are escaped like any text the
 * CLI did not write (`terminalText`), so that a file named with U+202E or a value holding ESC cannot reorder the line
 * or drive the terminal.
 */
export function issueText(issue: ScenarioIssue): string {
  return terminalText(formatIssue(issue), true);
}

/** A warning on stderr beside a command's answer: something done, or left, that the user should look at. */
export function printWarning(text: string): void {
  process.stderr.write(`${pc.yellow('oktell-emu: warning:')} ${terminalText(text, true)}\n`);
}

/** A note on stderr beside a command's answer: something to know that is not a failure. */
export function printNote(text: string): void {
  process.stderr.write(`${pc.yellow('oktell-emu: note:')} ${terminalText(text, true)}\n`);
}
