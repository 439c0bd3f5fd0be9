// How `serve` writes its logs: JSON lines for machines (piped, collected), readable lines for a person at a terminal.
// pino always produces the JSON line (redaction included); the readable form is a re-rendering of that line, so
// both forms carry exactly the same fields.
import pc from 'picocolors';
import { ConfigError } from './config.js';
import { envSetting, type Env } from '../engine/env.js';
import { isoInZone } from './tasks/schedule.js';
import { terminalText } from '../cli/terminal-text.js';

export type LogFormat = 'json' | 'pretty';

/** Whether `logger` writes lines of `level` (pino's isLevelEnabled; a logger without it writes all). */
export function levelEnabled(logger: object, level: 'debug' | 'info' | 'warn' | 'error'): boolean {
  const check = (logger as { isLevelEnabled?: (l: string) => boolean }).isLevelEnabled;
  return check ? check.call(logger, level) : true;
}

/** OKTELL_LOG_FORMAT when set (`json` or `pretty`), else readable on a terminal and JSON everywhere else. */
export function logFormat(env: Env, isTTY: boolean): LogFormat {
  const given = envSetting(env, 'OKTELL_LOG_FORMAT');
  if (given === undefined) return isTTY ? 'pretty' : 'json';
  const v = given.trim().toLowerCase();
  if (v === 'json' || v === 'pretty') return v;
  throw new ConfigError(`OKTELL_LOG_FORMAT=${given}: expected json or pretty`);
}

const LEVELS: Record<number, { name: string; colour: (s: string) => string }> = {
  10: { name: 'TRACE', colour: pc.dim },
  20: { name: 'DEBUG', colour: pc.dim },
  30: { name: 'INFO', colour: pc.green },
  40: { name: 'WARN', colour: pc.yellow },
  50: { name: 'ERROR', colour: pc.red },
  60: { name: 'FATAL', colour: pc.red },
};

/**
 * The wall-clock time to the millisecond in `timeZone` with its offset (`09:00:00.008+03:00`, `Z` for UTC): the zone
 * and offset `runs`, `show` and the console print times in (isoInZone), so a log line and a run can be matched. The
 * date is rarely what a person at a terminal needs.
 */
function clock(epochMs: unknown, timeZone: string): string {
  const t = typeof epochMs === 'number' && Number.isFinite(epochMs) ? Math.floor(epochMs) : Date.now();
  const iso = isoInZone(t, timeZone); // 2026-03-08T09:00:00+03:00
  return `${iso.slice(11, 19)}.${String(((t % 1000) + 1000) % 1000).padStart(3, '0')}${iso.slice(19)}`;
}

/**
 * `key=value`: bare when the value is a plain word or number, JSON otherwise (quotes, spaces, objects). Written with
 * the terminal's controls escaped (terminalText): a value may be a client's text (a query's parameter names, decoded),
 * and JSON leaves C1 and the bidirectional controls (U+202E, U+200F) as they are, which would reorder the rest of the
 * line on the operator's terminal.
 */
function field(key: string, value: unknown): string {
  const text = typeof value === 'string' && /^[^\s"=]+$/.test(value) ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);
  return `${pc.dim(`${key}=`)}${terminalText(text)}`;
}

/**
 * Renders one pino JSON line as `HH:MM:SS.mmm±HH:MM LEVEL message key=value …`, the time in `timeZone`; an error's
 * stack follows on indented lines. The message and the values have their control characters and bidirectional
 * controls written as `\u202e` (terminalText). A line that is not a JSON object is passed through unchanged.
 *
 * @example formatLogLine('{"level":30,"time":0,"msg":"request","status":200}', 'Europe/Moscow')  // '03:00:00.000+03:00 INFO  request status=200'
 */
export function formatLogLine(line: string, timeZone: string): string {
  let rec: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return line.endsWith('\n') ? line : `${line}\n`;
    rec = parsed as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const { level, time, msg, err, ...rest } = rec;
  const lv = LEVELS[Number(level)] ?? { name: String(level ?? '?').toUpperCase(), colour: (s: string) => s };
  const parts = [pc.dim(clock(time, timeZone)), lv.colour(lv.name.padEnd(5))];
  // The message and an error's stack may quote a request's text too: escaped as the CLI escapes stored text.
  if (msg !== undefined) parts.push(terminalText(String(msg), true));
  let stack = '';
  if (err && typeof err === 'object') {
    const e = err as { message?: unknown; stack?: unknown; type?: unknown };
    if (e.message !== undefined) parts.push(field('err', String(e.message)));
    if (typeof e.stack === 'string') stack = e.stack.split('\n').slice(1).map((l) => `    ${pc.dim(terminalText(l.trim()))}\n`).join('');
  } else if (err !== undefined) parts.push(field('err', err));
  for (const [k, v] of Object.entries(rest)) parts.push(field(k, v));
  return `${parts.join(' ')}\n${stack}`;
}

/** A pino destination that writes each record as a readable line to `out`, its time in `timeZone`. */
export function prettyDestination(out: NodeJS.WritableStream, timeZone: string): { write(line: string): void } {
  return { write: (chunk: string) => void out.write(chunk.split('\n').filter((l) => l !== '').map((l) => formatLogLine(l, timeZone)).join('')) };
}
