// How `oktell-emu test` reports: one line per case for people, one JSON object for tools, JUnit XML for CI servers.
import pc from 'picocolors';
import { formatIssue, formatRunError, type ScenarioIssue } from '../../engine/index.js';
import { formatPlace, type Mismatch, type RunErrorAt } from './expectations.js';
import { terminalText } from '../format.js';
import { xml } from './junit-xml.js';
import type { TestFile } from './test-file.js';

export interface CaseReport {
  file: string;
  name: string;
  scenario: string;
  status: 'passed' | 'failed';
  durationMs: number;
  /** In the order of the test file (line, then column). `detail`: lines showing the difference (see `Mismatch`). */
  failures: Array<{ place: string; file: string; line: number; col: number; expected: string; actual: string; detail?: string[] }>;
  /**
   * Of a failed case: the runs of its tree that failed although the case did not expect it, each with its error as
   * `run --json` has it (code, message, block, scenario, file, line, col) and its place in the expectation (`""`: the
   * case's own run, `asyncStarted[0].result`: the first run it started).
   */
  runErrors?: CaseRunError[];
}

export type CaseRunError = { place: string; code: string; message: string; scenario?: string; file?: string; line?: number; col?: number } & Record<string, unknown>;

/** Each difference located at the line of the test file that asked for it (or its closest parent there). */
export function caseReport(file: TestFile, index: number, mismatches: Mismatch[], durationMs: number, runErrors: RunErrorAt[] = []): CaseReport {
  const c = file.cases[index]!;
  const failures = mismatches.map((m) => ({
    place: formatPlace(m.place),
    ...file.source.locate(['cases', index, 'expect', ...(m.at ?? m.place)]),
    expected: m.expected,
    actual: m.actual,
    ...(m.detail ? { detail: m.detail } : {}),
  }));
  // The match walks the expectation in its keys' order, not the file's: read top to bottom, like the file.
  failures.sort((a, b) => a.line - b.line || a.col - b.col);
  return {
    file: file.file,
    name: c.name,
    scenario: c.scenario,
    status: mismatches.length ? 'failed' : 'passed',
    durationMs,
    failures,
    ...(mismatches.length && runErrors.length ? { runErrors: runErrors.map((r) => ({ place: formatPlace(r.place), ...r.error }) as CaseRunError) } : {}),
  };
}

/**
 * Problems in the order of their files (as first listed; `first`, when given, before all), then by line and column. A
 * test file's problems come before those inside the fixture files it names, whose lines are of another file.
 */
export function inFileOrder(issues: ScenarioIssue[], first?: string): ScenarioIssue[] {
  const files = [...new Set([...(first !== undefined ? [first] : []), ...issues.map((i) => i.file)])];
  return [...issues].sort((a, b) => files.indexOf(a.file) - files.indexOf(b.file) || a.line - b.line || a.col - b.col);
}

/**
 * A run error as `run` prints it (`file:line:col code message`, the message naming the block), preceded for a started
 * run by which one it is.
 */
function runErrorText(e: CaseRunError): string {
  const which = e.place ? `in started run ${String(e.scenario)} (${e.place}): ` : '';
  return `${which}${formatRunError(e)}`;
}

/** A failure's line and the lines of its detail, indented under it; `paint` colours the values for a terminal. */
function failureLines(f: CaseReport['failures'][number], paint = false): string[] {
  const where = `${f.file}:${f.line}:${f.col}`;
  // For a terminal, what the run made (webhook text, often) has its control characters escaped.
  const head = paint
    ? `${pc.dim(where)} ${pc.bold(terminalText(f.place))}: expected ${pc.green(terminalText(f.expected))} got ${pc.red(terminalText(f.actual))}`
    : `${where} ${f.place}: expected ${f.expected} got ${f.actual}`;
  const detail = (f.detail ?? []).map((l) => `    ${paint ? colourDetail(terminalText(l)) : l}`);
  return [head, ...detail];
}

/** `+` lines (what the run did instead) red, `-` lines (what the case expected) green, as the values above them. */
function colourDetail(line: string): string {
  return line.startsWith('+') ? pc.red(line) : line.startsWith('-') ? pc.green(line) : pc.dim(line);
}

export function summaryLine(reports: CaseReport[]): string {
  const failed = reports.filter((r) => r.status === 'failed').length;
  return `${reports.length - failed} passed, ${failed} failed`;
}

export function textReport(r: CaseReport): string {
  // A case's name may be a webhook's text (--from-run --name): its control characters are escaped, as the values are.
  const title = `${terminalText(r.file)} › ${terminalText(r.name)}`;
  if (r.status === 'passed') return `${pc.green('✓')} ${title} ${pc.dim(`(${r.durationMs} ms)`)}\n`;
  const lines = [
    ...r.failures.flatMap((f) => failureLines(f, true)),
    ...(r.runErrors ?? []).map((e) => `${pc.red('error')} ${terminalText(runErrorText(e), true)}`),
  ].map((l) => `    ${l}`);
  return `${pc.red('✗')} ${title} ${pc.dim(`(${r.durationMs} ms)`)}\n${lines.join('\n')}\n`;
}

/**
 * With problems that kept cases from running, also `status: "invalid"` and the `issues`; `warnings`: the problems of
 * files in the scenarios folder that no case ran into (they do not make the pass invalid).
 */
export function jsonReport(reports: CaseReport[], issues: ScenarioIssue[] = [], warnings: ScenarioIssue[] = []): string {
  const failed = reports.filter((r) => r.status === 'failed').length;
  const invalid = issues.length ? { status: 'invalid', issues } : {};
  return `${JSON.stringify({ passed: reports.length - failed, failed, cases: reports, ...invalid, ...(warnings.length ? { warnings: inFileOrder(warnings) } : {}) })}\n`;
}

/** A selected case a problem kept from running, with the problems found in its own lines of the test file. */
export interface NotRun {
  file: string;
  name: string;
  issues: ScenarioIssue[];
}

/**
 * JUnit XML as Jenkins, GitLab and GitHub reporters read it: a suite per test file, a testcase per case. A case a
 * problem kept from running is a testcase too, errored with its problems, so the report lists it by name (a CI
 * server comparing reports does not see it vanish). Problems that are no single case's (a file-wide setting, a fixture
 * file, a scenario, a test file whose form is wrong) are errors of a suite per file they are in, one errored
 * testcase holding them all.
 */
export function junitReport(reports: CaseReport[], issues: ScenarioIssue[] = [], notRun: NotRun[] = [], at = new Date()): string {
  const byFile = new Map<string, { ran: CaseReport[]; notRun: NotRun[] }>();
  const entry = (file: string) => byFile.get(file) ?? byFile.set(file, { ran: [], notRun: [] }).get(file)!;
  for (const r of reports) entry(r.file).ran.push(r);
  for (const n of notRun) entry(n.file).notRun.push(n);
  const secs = (ms: number) => (ms / 1000).toFixed(3);
  const total = (rs: CaseReport[]) => rs.reduce((s, r) => s + r.durationMs, 0);
  const failures = (rs: CaseReport[]) => rs.filter((r) => r.status === 'failed').length;
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const owned = new Set(notRun.flatMap((n) => n.issues));
  const problemsByFile = new Map<string, ScenarioIssue[]>();
  for (const i of issues) if (!owned.has(i)) problemsByFile.set(i.file, [...(problemsByFile.get(i.file) ?? []), i]);
  const tests = reports.length + notRun.length + problemsByFile.size;
  out.push(`<testsuites name="oktell-emu test" tests="${tests}" failures="${failures(reports)}" errors="${problemsByFile.size + notRun.length}" time="${secs(total(reports))}">`);
  const stamp = at.toISOString().slice(0, 19);
  for (const [file, is] of problemsByFile) {
    const first = is[0]!;
    out.push(
      `  <testsuite name="${xml(file)}" tests="1" failures="0" errors="1" skipped="0" time="0.000" timestamp="${stamp}">`,
      `    <testcase classname="${xml(file)}" name="${xml(`${file} is invalid`)}" time="0.000">`,
      `      <error type="${xml(first.code)}" message="${xml(`${first.line}:${first.col} ${first.message}${is.length > 1 ? ` (and ${is.length - 1} more)` : ''}`)}">${xml(is.map(formatIssue).join('\n'))}</error>`,
      '    </testcase>',
      '  </testsuite>',
    );
  }
  for (const [file, { ran: rs, notRun: held }] of byFile) {
    out.push(
      `  <testsuite name="${xml(file)}" tests="${rs.length + held.length}" failures="${failures(rs)}" errors="${held.length}" skipped="0" time="${secs(total(rs))}" timestamp="${stamp}">`,
    );
    for (const r of rs) {
      const open = `    <testcase classname="${xml(file)}" name="${xml(r.name)}" time="${secs(r.durationMs)}"`;
      if (r.status === 'passed') {
        out.push(`${open}/>`);
        continue;
      }
      const body = [...r.failures.flatMap((f) => failureLines(f)), ...(r.runErrors ?? []).map((e) => `error ${runErrorText(e)}`)].join('\n');
      const first = r.failures[0]!;
      out.push(`${open}>`, `      <failure type="mismatch" message="${xml(`${first.place}: expected ${first.expected} got ${first.actual}`)}">${xml(body)}</failure>`, '    </testcase>');
    }
    for (const n of held) {
      const first = n.issues[0];
      const message = first
        ? `not run: ${first.line}:${first.col} ${first.message}${n.issues.length > 1 ? ` (and ${n.issues.length - 1} more)` : ''}`
        : `not run: a problem it depends on (a setting of the file, a fixture file, its scenario) is listed with the errors of this report`;
      const body = first ? n.issues.map(formatIssue).join('\n') : message;
      out.push(
        `    <testcase classname="${xml(file)}" name="${xml(n.name)}" time="0.000">`,
        `      <error type="${xml(first?.code ?? 'not-run')}" message="${xml(message)}">${xml(body)}</error>`,
        '    </testcase>',
      );
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}
