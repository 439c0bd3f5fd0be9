// How `oktell-emu test` reports: one line per case for people, one JSON object for tools, JUnit XML for CI servers.
import pc from 'picocolors';
import { formatIssue, type ScenarioIssue } from '../../engine/index.js';
import { formatPlace, type Mismatch } from './expectations.js';
import type { TestFile } from './test-file.js';

export interface CaseReport {
  file: string;
  name: string;
  scenario: string;
  status: 'passed' | 'failed';
  durationMs: number;
  failures: Array<{ place: string; file: string; line: number; col: number; expected: string; actual: string }>;
}

/** Each difference located at the line of the test file that asked for it (or its closest parent there). */
export function caseReport(file: TestFile, index: number, mismatches: Mismatch[], durationMs: number): CaseReport {
  const c = file.cases[index]!;
  return {
    file: file.file,
    name: c.name,
    scenario: c.scenario,
    status: mismatches.length ? 'failed' : 'passed',
    durationMs,
    failures: mismatches.map((m) => ({
      place: formatPlace(m.place),
      ...file.source.locate(['cases', index, 'expect', ...m.place]),
      expected: m.expected,
      actual: m.actual,
    })),
  };
}

export function summaryLine(reports: CaseReport[]): string {
  const failed = reports.filter((r) => r.status === 'failed').length;
  return `${reports.length - failed} passed, ${failed} failed`;
}

export function textReport(r: CaseReport): string {
  if (r.status === 'passed') return `${pc.green('✓')} ${r.file} › ${r.name} ${pc.dim(`(${r.durationMs} ms)`)}\n`;
  const lines = r.failures.map((f) => `    ${pc.dim(`${f.file}:${f.line}:${f.col}`)} ${pc.bold(f.place)}: expected ${pc.green(f.expected)} got ${pc.red(f.actual)}`);
  return `${pc.red('✗')} ${r.file} › ${r.name} ${pc.dim(`(${r.durationMs} ms)`)}\n${lines.join('\n')}\n`;
}

/** With problems that kept cases from running, also `status: "invalid"` and the `issues`. */
export function jsonReport(reports: CaseReport[], issues: ScenarioIssue[] = []): string {
  const failed = reports.filter((r) => r.status === 'failed').length;
  const invalid = issues.length ? { status: 'invalid', issues } : {};
  return `${JSON.stringify({ passed: reports.length - failed, failed, cases: reports, ...invalid })}\n`;
}

/**
 * JUnit XML as Jenkins, GitLab and GitHub reporters read it: a suite per test file, a testcase per case. Problems that
 * kept cases from running are errors: a suite per file they are in (a test file or a scenario), one errored testcase
 * holding them all.
 */
export function junitReport(reports: CaseReport[], issues: ScenarioIssue[] = [], at = new Date()): string {
  const byFile = new Map<string, CaseReport[]>();
  for (const r of reports) byFile.set(r.file, [...(byFile.get(r.file) ?? []), r]);
  const secs = (ms: number) => (ms / 1000).toFixed(3);
  const total = (rs: CaseReport[]) => rs.reduce((s, r) => s + r.durationMs, 0);
  const failures = (rs: CaseReport[]) => rs.filter((r) => r.status === 'failed').length;
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const problemsByFile = new Map<string, ScenarioIssue[]>();
  for (const i of issues) problemsByFile.set(i.file, [...(problemsByFile.get(i.file) ?? []), i]);
  const tests = reports.length + problemsByFile.size;
  out.push(`<testsuites name="oktell-emu test" tests="${tests}" failures="${failures(reports)}" errors="${problemsByFile.size}" time="${secs(total(reports))}">`);
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
  for (const [file, rs] of byFile) {
    out.push(
      `  <testsuite name="${xml(file)}" tests="${rs.length}" failures="${failures(rs)}" errors="0" skipped="0" time="${secs(total(rs))}" timestamp="${stamp}">`,
    );
    for (const r of rs) {
      const open = `    <testcase classname="${xml(file)}" name="${xml(r.name)}" time="${secs(r.durationMs)}"`;
      if (r.status === 'passed') {
        out.push(`${open}/>`);
        continue;
      }
      const body = r.failures.map((f) => `${f.file}:${f.line}:${f.col} ${f.place}: expected ${f.expected} got ${f.actual}`).join('\n');
      const first = r.failures[0]!;
      out.push(`${open}>`, `      <failure type="mismatch" message="${xml(`${first.place}: expected ${first.expected} got ${first.actual}`)}">${xml(body)}</failure>`, '    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}

/** Escapes text for XML content and attributes, and drops characters XML 1.0 cannot hold. */
function xml(s: string): string {
  return s
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/\n/g, '&#10;');
}
