// Administrators' regular expressions matched over request data run on RE2 (the re2js package), not on JavaScript's
// RegExp: RegExp backtracks, and a pattern such as (a+)+$ over a crafted body of a few dozen characters keeps the one
// thread busy for minutes — no deadline can interrupt a synchronous match, so the whole server stalls. RE2 matches in
// time linear in the text, whatever the pattern. Its syntax has no backreferences and no lookaround (they cannot be
// matched in linear time): those are refused when the scenario loads, at the construct.
//
// Patterns are written as before (JavaScript's dialect); the few constructs whose meaning differs are rewritten so a
// pattern keeps matching what it matched: `.` stops at every line break JavaScript knows (\r too, so a header line read
// with (.*) does not end in \r), `$` with the m flag also ends a line before \r (a CRLF line: RE2's `$` knows only \n;
// the \r then belongs to the whole match, not to a group before the `$`), `\s` knows the Unicode spaces (a no-break
// space in "15 000"), `\uXXXX`, `\cX`, `[^]` and `[]` mean what they mean in JavaScript.
import { createRequire } from 'node:module';
import type { RE2JS } from 're2js';

/**
 * re2js, loaded when the first pattern is compiled: most scenario folders have no Parser regex, and the server starts
 * without loading it (its CommonJS build, the same code as the ES module one). Outside compilePattern's try, so a
 * failure to load it is not reported as a mistake in the pattern.
 */
let re2: typeof RE2JS | undefined;
function re2js(): typeof RE2JS {
  return (re2 ??= (createRequire(import.meta.url)('re2js') as { RE2JS: typeof RE2JS }).RE2JS);
}

/** A pattern RE2 cannot run, and where in the pattern (offset in the pattern text, 0-based). */
export interface PatternProblem {
  offset: number;
  message: string;
  hint: string;
}

export type CompiledPattern = { ok: true; re: RE2JS; groups: number } | { ok: false; problem: PatternProblem };

/** JavaScript's \s: ASCII white space, the no-break space and the other Unicode spaces and line separators. */
const JS_SPACE = '\\t\\n\\v\\f\\r \\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}\\x{feff}';
/** JavaScript's `.` without the s flag: anything but a line terminator. */
const JS_DOT = '[^\\n\\r\\x{2028}\\x{2029}]';
const ANY = '[\\x{0}-\\x{10ffff}]';

const NO_LOOKAROUND = 'RE2 syntax: no backreferences or lookaround';
const LOOKAROUND: Record<string, { what: string; hint: string }> = {
  '(?=': { what: 'lookahead', hint: 'match the text that follows too and keep only the group you need: (\\d+) руб instead of \\d+(?= руб)' },
  '(?!': { what: 'negative lookahead', hint: 'match what may follow with a negated class ([^…]), or check the exclusion afterwards in a Condition' },
  '(?<=': { what: 'lookbehind', hint: 'match the text before too and keep only the group you need: №(\\d+) instead of (?<=№)\\d+' },
  '(?<!': { what: 'negative lookbehind', hint: 'match what may precede with a negated class ([^…]), or check the exclusion afterwards in a Condition' },
};

/** Flags as the Parser takes them (i, m, s, u) in RE2's terms; u changes nothing: RE2 always reads code points. */
function re2Flags(RE2: typeof RE2JS, flags: string): number {
  return (flags.includes('i') ? RE2.CASE_INSENSITIVE : 0) | (flags.includes('m') ? RE2.MULTILINE : 0) | (flags.includes('s') ? RE2.DOTALL : 0);
}

/** Compiles a pattern written in JavaScript's dialect for RE2, or says what RE2 cannot run and where. */
export function compilePattern(pattern: string, flags: string): CompiledPattern {
  const translated = toRe2(pattern, flags.includes('s'), flags.includes('m'));
  if ('problem' in translated) return { ok: false, problem: translated.problem };
  const RE2 = re2js();
  try {
    const re = RE2.compile(translated.source, re2Flags(RE2, flags));
    return { ok: true, re, groups: re.groupCount() };
  } catch (e) {
    // re2js names the piece it stopped at (`input`); find it in the pattern as written to point at it.
    const { error, input } = e as { error?: string; input?: string };
    const found = input ? pattern.indexOf(input) : -1;
    const message = error && input !== undefined ? `${error}: \`${input}\`` : (e as Error).message.replace(/^error parsing regexp: /, '');
    return { ok: false, problem: { offset: Math.max(found, 0), message, hint: 'check brackets and escapes (a backslash must be doubled inside double quotes); the syntax is RE2\'s' } };
  }
}

/** What `allMatches` found: the matches asked for, or, when its time budget ran out first, how far it got. */
export type Matches = { done: true; values: string[] } | { done: false; found: number };

/**
 * Group `group` of every match, in order ('' for a group that took no part in a match), up to `limit` matches, within
 * `budgetMs` milliseconds.
 * `test` runs on RE2's DFA, several times faster than the search that reports groups: a text with no match (the
 * common case of most extractions) is turned away by it alone.
 *
 * Why a budget: one search is linear in the text (and the text is bounded by the request body limit), but collecting
 * every match searches once per match, and a pattern whose every match looks ahead to the end of the text —
 * `(\d+)(?:[^;]*;)?` over digits and no `;` — makes the sum quadratic: seconds for 20 KB, while the one thread that
 * answers webhooks waits. A search cannot be interrupted, so the clock is read between searches, and only when
 * another one with text left to read is to come (a search that ends the work never fails it).
 */
export function allMatches(re: RE2JS, text: string, group: number, limit = Infinity, budgetMs = Infinity): Matches {
  const out: string[] = [];
  const cpu0 = processCpuMs();
  // The budget is CPU time, not time on the clock: on a busy machine the thread may wait for a core, or be stopped,
  // for longer than the budget in the middle of a search that costs little, and that must not fail the request. The
  // clock is still what is read between searches (cheap); the CPU time only once it says the budget may be spent
  // (this thread's work can never take less time on the clock than it used of CPU).
  let checkAt = performance.now() + budgetMs;
  if (limit < 1 || !re.test(text)) return { done: true, values: out };
  // A group the pattern lacks (count and exists need none) reads as '' as with RegExp; re2js would throw.
  const has = group <= re.groupCount();
  const m = re.matcher(text);
  while (out.length < limit && m.find()) {
    out.push((has ? m.group(group) : null) ?? '');
    // A match that reaches the end of the text leaves only an empty match there to find: nothing to bound.
    if (out.length < limit && m.end() < text.length && performance.now() > checkAt) {
      const spent = processCpuMs() - cpu0;
      if (spent > budgetMs) return { done: false, found: out.length };
      checkAt = performance.now() + (budgetMs - spent);
    }
  }
  return { done: true, values: out };
}

/**
 * CPU time this process has used, in ms: what a regex budget counts. It counts every thread of the process, so on a
 * server whose other threads are busy a budget can run out a little early, never late.
 */
export function processCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** One pass over the pattern: refuses backreferences and lookaround, rewrites what RE2 reads differently. */
function toRe2(p: string, dotAll: boolean, multiline: boolean): { source: string } | { problem: PatternProblem } {
  let out = '';
  let inClass = false;
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '\\') {
      const e = p[i + 1] ?? '';
      if (/[1-9]/.test(e) && !inClass) return refuse(i, `the backreference \\${e}`, 'capture each part in its own group and compare the two variables in a Condition');
      if (e === 'k' && p[i + 2] === '<') return refuse(i, `the named backreference ${/^\\k<[^>]*>?/.exec(p.slice(i))![0]}`, 'capture each part in its own group and compare the two variables in a Condition');
      const hex = /^u([0-9a-fA-F]{4})|^u\{([0-9a-fA-F]+)\}/.exec(p.slice(i + 1));
      if (hex) {
        out += `\\x{${hex[1] ?? hex[2]}}`;
        i += hex[0].length;
        continue;
      }
      if (e === 'c' && /[A-Za-z]/.test(p[i + 2] ?? '')) {
        out += `\\x{${(p.charCodeAt(i + 2) % 32).toString(16)}}`;
        i += 2;
        continue;
      }
      if (e === 's') out += inClass ? JS_SPACE : `[${JS_SPACE}]`;
      else if (e === 'S' && !inClass) out += `[^${JS_SPACE}]`;
      else if (e === 'b' && inClass) out += '\\x{8}'; // a backspace inside [ ], as in JavaScript
      // Plain letters in JavaScript, but anchors, quoting or a byte class in RE2 (\A start, \z end, \Q…\E, \C).
      else if ('AzZQEC'.includes(e)) out += e;
      else out += c + e;
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      // A [ inside a class is a literal in JavaScript; RE2 would read [: as a POSIX class.
      out += c === '[' ? '\\[' : c;
      continue;
    }
    if (c === '(' && p[i + 1] === '?') {
      const look = LOOKAROUND[p.slice(i, i + 3)] ?? LOOKAROUND[p.slice(i, i + 4)];
      if (look) return refuse(i, `the ${look.what} ${p.startsWith('(?<', i) ? p.slice(i, i + 4) : p.slice(i, i + 3)}`, look.hint);
    }
    if (c === '.') out += dotAll ? '.' : JS_DOT;
    else if (c === '$' && multiline) out += '(?:$|\\r)';
    else if (c === '[') {
      // In JavaScript [] matches nothing and [^] any character; RE2 would read the ] as a member.
      if (p.startsWith('[]', i)) {
        out += `[^${ANY.slice(1)}`;
        i += 1;
      } else if (p.startsWith('[^]', i)) {
        out += ANY;
        i += 2;
      } else {
        inClass = true;
        const negated = p[i + 1] === '^';
        out += negated ? '[^' : '[';
        if (negated) i++;
      }
    } else out += c;
  }
  return { source: out };
}

function refuse(offset: number, construct: string, fix: string): { problem: PatternProblem } {
  return { problem: { offset, message: `${construct} is not supported: ${NO_LOOKAROUND} (patterns match in time linear in the text)`, hint: fix } };
}
