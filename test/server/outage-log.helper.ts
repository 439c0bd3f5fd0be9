// What the folded log of an outage must say (server/log-folding.ts), whichever service was down: the first failed
// attempt in full, naming the service and the kind; each dead letter on a line of its own; summaries whose counts,
// with that first line, add up to every failed attempt; and one line when the service answers again.
import assert from 'node:assert/strict';
import type { CapturedLine } from './server-helpers.js';

export interface FoldedOutage {
  /** The scenario whose jobs failed, the service as the log names it, and the kind of failure. */
  scenario: string;
  target: string;
  kind: string;
  /** How many jobs failed, with how many attempts each, and the ids of the jobs given up. */
  jobs: number;
  attempts: number;
  deadJobIds: readonly string[];
}

const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Checks the log `lines` (debug lines left out) against the outage `o`, the summing-up window being 1 s. */
export function assertFoldedOutage(lines: readonly CapturedLine[], o: FoldedOutage): void {
  const loud = lines.filter((l) => l.level !== 'debug');
  const shown = JSON.stringify(loud.map((l) => `${l.level} ${l.msg}`), null, 1);
  const said = (re: RegExp) => loud.filter((l) => re.test(l.msg ?? ''));

  const retried = said(/failed \(will retry\)/);
  assert.equal(retried.length, 1, shown);
  assert.equal(retried[0]!.obj.outage, o.target, shown);
  assert.equal(retried[0]!.obj.kind, o.kind);
  assert.match(retried[0]!.msg!, new RegExp(`^run ${o.scenario} failed \\(will retry\\); ${escaped(o.target)} is failing \\(${escaped(o.kind)}\\): further failures of this kind are summed up every 1 s until it answers again$`), shown);

  const deadLines = said(/failed \(dead letter\)/);
  assert.deepEqual(deadLines.map((l) => l.obj.jobId).sort(), [...o.deadJobIds].sort(), shown);

  const summaries = said(/still failing/);
  assert.equal(summaries.reduce((n, l) => n + Number(l.obj.attempts), 0) + 1, o.jobs * o.attempts, shown);
  assert.equal(summaries.reduce((n, l) => n + Number(l.obj.givenUp), 0), o.jobs, shown);

  const recovery = said(/reachable again/);
  assert.equal(recovery.length, 1, shown);
  assert.match(recovery[0]!.msg!, new RegExp(`^${escaped(o.target)} reachable again after [\\d.]+ s; ${o.jobs * o.attempts} attempt\\(s\\) failed meanwhile \\(${o.jobs} job\\(s\\) given up as dead letters\\)$`), shown);
  assert.equal(recovery[0]!.obj.outage, o.target);
}
