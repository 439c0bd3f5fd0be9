// The console's nunjucks environment (autoescaping, compiled once) and the formatting filters its views use.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import nunjucks from 'nunjucks';
import { toText } from '../../engine/index.js';
import { clipWhole } from '../../engine/cut-text.js';
import { addWholeCharacterFilters } from '../../adapters/mail/template-support.js';
import { bpiumCallNote, httpCallNote } from './call-notes.js';
import { refusedBeforeSending } from '../run-outcome.js';

/** Where the console is mounted; links in the views start with it. */
export const CONSOLE_BASE = '/-/console';

/**
 * The console's address as the browser sees it: CONSOLE_BASE, behind the path prefix a trusted reverse proxy named in
 * `X-Forwarded-Prefix` (`/oktell` for `location /oktell/ { proxy_pass http://…/; }`), which the console router keeps
 * in `res.locals.consolePrefix`.
 */
export function consoleBase(res: { locals: Record<string, unknown> }): string {
  const prefix = res.locals.consolePrefix;
  return typeof prefix === 'string' ? prefix + CONSOLE_BASE : CONSOLE_BASE;
}

/**
 * The path prefix of `X-Forwarded-Prefix`, or undefined when there is none or it is not a plain path: one or more
 * `/segment`s of letters, digits and `-._~`, at most 200 characters; a trailing slash is dropped. Anything else (a
 * scheme, `//host`, `..`, quotes, a query) is ignored rather than put into links and redirects.
 */
export function forwardedPrefix(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const v = value.split(',')[0]!.trim().replace(/\/+$/, '');
  if (v === '' || v.length > 200 || !/^(\/[A-Za-z0-9\-_~]+(\.[A-Za-z0-9\-_~]+)*)+$/.test(v)) return undefined;
  return v;
}

/** `server/console` in the source tree (views and assets stay there; the compiled code runs from dist/). */
export function consoleSourceDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'server', 'console');
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the repository root (no package.json above the console)');
    dir = parent;
  }
}

/** Formats epoch milliseconds as `YYYY-MM-DD HH:MM:SS` in the server's time zone. */
export function timeFormatter(timeZone: string): (ms: unknown) => string {
  const fmt = new Intl.DateTimeFormat('sv-SE', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
  return (ms) => {
    const n = typeof ms === 'number' ? ms : typeof ms === 'string' ? Date.parse(ms) : NaN;
    return Number.isFinite(n) ? fmt.format(new Date(n)) : '—';
  };
}

/** `0.4 ms`, `12 ms`, `1.3 s`, `2 min 5 s`. */
export function formatDuration(ms: unknown): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '—';
  if (ms < 10) return `${Math.round(ms * 10) / 10} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${Math.round(ms / 100) / 10} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/**
 * A value as one readable line or block: strings as they are; numbers and dates as the scenario's text conversion
 * writes them, as `run` and `show` print them (no float noise; `dd.MM.yyyy HH:mm:ss` in `timeZone`: the server's, or
 * on a run's page the zone the run ran in); everything else as JSON.
 */
export function showValue(v: unknown, timeZone: string): string {
  if (v === '') return '""';
  if (typeof v === 'string') return v;
  if (v === undefined) return '';
  if (typeof v === 'number' || v instanceof Date) return toText(v, timeZone);
  return JSON.stringify(v, null, typeof v === 'object' && v !== null && JSON.stringify(v).length > 80 ? 2 : undefined) ?? String(v);
}

/**
 * A job id short enough for a list row or a button's name, told apart from the other jobs of the list: its last 6
 * characters, the random end of a sortable id (jobs queued in the same second share its first 8). Ids of 8 or fewer
 * stay whole.
 *
 * @example shortJobId('01kbx3k8qd4x7m2n5p8r1t3v6w') // '…1t3v6w'
 */
export function shortJobId(id: string): string {
  return id.length <= 8 ? id : `…${id.slice(-6)}`;
}

/**
 * The characters of a value (a parameter, a return value) a page shows before it is cut: a 256 KB webhook body was
 * shown whole on a phone, hundreds of screens long. The rest is behind a "Show all" the reader opens.
 */
export const VALUE_SHOWN_CHARS = 5000;

/**
 * A value's text cut for display (never inside an emoji or an accented letter) with how much of it is shown, or
 * undefined when it is shown whole. Characters are counted as the form's limits count them (UTF-16 code units).
 *
 * @example cutForDisplay('x'.repeat(6000)) // { text: 'xxx…' (5000), shown: 5000, total: 6000 }
 */
export function cutForDisplay(text: string, max = VALUE_SHOWN_CHARS): { text: string; shown: number; total: number } | undefined {
  if (text.length <= max) return undefined;
  const cut = clipWhole(text, max);
  return { text: cut, shown: cut.length, total: text.length };
}

/** Like `showValue`, but JSON text (a webhook body) is indented to be read. */
export function prettyValue(v: unknown, timeZone: string): string {
  if (typeof v === 'string' && v.length <= 65_536 && /^\s*[[{]/.test(v)) {
    try {
      return JSON.stringify(JSON.parse(v), null, 2);
    } catch {
      return v;
    }
  }
  return showValue(v, timeZone);
}

/** A word as a POSIX shell reads it: as it is when it holds nothing the shell treats specially, else single-quoted. */
function shellWord(word: string): string {
  return /^[\p{L}\p{N}_./@%+=:,-]+$/u.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * The command that draws scenario `name` in a process of its own, for a page that does not draw it (too large to lay
 * out on the server's thread), with the server's folder `dir` named (absolute), so that it draws the scenario the
 * server runs from wherever it is pasted.
 */
export function graphCommand(name: string, dir: string): string {
  return `npx oktell-emu graph ${shellWord(name)} -s ${shellWord(resolve(dir))} --format svg -o ${shellWord(`${name}.svg`)}`;
}

export function createViews(timeZone: string): nunjucks.Environment {
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(join(consoleSourceDir(), 'views'), { noCache: false }), {
    autoescape: true,
    throwOnUndefined: false,
    trimBlocks: true,
    lstripBlocks: true,
  });
  env.addFilter('time', timeFormatter(timeZone));
  // Named beside the times of a list (OKTELL_TZ): the times carry no offset of their own.
  env.addGlobal('timeZone', timeZone);
  env.addFilter('duration', formatDuration);
  // A run's page passes the zone the run ran in (checked, runZoneOf): its dates read as the run wrote them as text.
  const zoneOr = (zone: unknown) => (typeof zone === 'string' && zone !== '' ? zone : timeZone);
  env.addFilter('value', (v: unknown, zone?: unknown) => showValue(v, zoneOr(zone)));
  env.addFilter('pretty', (v: unknown, zone?: unknown) => prettyValue(v, zoneOr(zone)));
  env.addFilter('cutForDisplay', (v: unknown) => cutForDisplay(String(v ?? '')));
  env.addFilter('count', (n: unknown) => (typeof n === 'number' ? n.toLocaleString('en-US') : String(n)));
  env.addFilter('shortJob', (id: unknown) => shortJobId(String(id ?? '')));
  env.addFilter('httpNote', httpCallNote);
  env.addFilter('bpiumNote', bpiumCallNote);
  // A letter refused before it was written, as `show` and the outcome column tell it (run-outcome.ts).
  env.addFilter('refusedBeforeSending', refusedBeforeSending);
  env.addFilter('json', (v: unknown) => JSON.stringify(v, null, 2) ?? '');
  addWholeCharacterFilters(env);
  return env;
}
