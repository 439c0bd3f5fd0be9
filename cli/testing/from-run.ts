// `--from-run`: a recorded run of the server becomes a test case — its input parameters, the answers its Bpium calls
// and web requests got as fixtures, its outcome (and that of every async scenario it started) as the expectation.
//
// Where the answers come from: a run record keeps the Bpium calls (method, catalog, record, status), and the trace
// step of each read keeps what Bpium answered (`effect.answer`, up to 64 KiB). The effect journal does not help: it
// holds only writes, which a test runs dry anyway. Runs recorded before reads kept their answers, and answers over
// the limit, are listed in `unrecorded` and named in a comment above the case. Failed calls need no answer: their
// HTTP status or kind becomes a scripted failure, a 404 an absent record.
import { join } from 'node:path';
import { describeSource, RUN_ERROR_CODES as R, type JsonValue, sqlWrites, type ScenarioLibrary, type Value } from '../../engine/index.js';
import { migrationFiles } from '../../adapters/db/settings.js';
import { cutTextParts } from '../../server/run-record.js';
import { isRecordCutStep, recordCutOf, type RecordCut } from '../../server/run-budget.js';
import { startedJobIdsOf } from '../../server/started-jobs.js';
import { TRACE_SETTING, traceNotKeptOf } from '../../server/trace-setting.js';
import { isoInZone } from '../../server/tasks/schedule.js';
import { isTimeZone } from '../../engine/suggest.js';
import { terminalText } from '../terminal-text.js';
import type { RunRecord, Store } from '../../server/store/store.port.js';
import type { BpiumFixtureFile } from '../../adapters/fixtures/bpium-fixtures.adapter.js';
import type { HttpFixture } from '../../adapters/fixtures/http-fixtures.adapter.js';
import { recipientKey, type MailFixture } from '../../adapters/fixtures/mail-fixtures.adapter.js';
import { expectationOf, withBodies, type Observed } from './expectations.js';
import { dbCallsOf } from '../../server/console/db-calls.js';
import { httpCallsOf } from '../../server/console/http-calls.js';
import { insertedRow, rowsAsData, type InsertedRow, type RecordedRead } from './recorded-rows.js';
import { blockable, RecordedRunError, TraceNotKeptRunError } from './write-case.js';

export { RecordedRunError, TraceNotKeptRunError };
import { isStoredRedactedHeader } from '../../server/hook-request.js';
import { jobSecretCarriers, maskCarriers } from '../../server/starters.js';


export interface RecordedCase {
  case: Record<string, unknown>;
  /** Bpium reads whose answer was not kept (described for a comment in the test file). */
  unrecorded: string[];
  /** Database reads whose rows could not be written as the case's `db:` data (described for the same comment). */
  dbUnrecorded: string[];
  /** Return values and subjects the record kept cut, expected by their beginning only (described for the same comment). */
  cutValues: string[];
  /** Outcomes the case's run cannot bring about again (a database lock, times its async runs read), for the same comment. */
  notReplayed: string[];
  /** The scenarios that ran, the case's own first, each with the version (content hash) it ran at, once each. */
  ran: Array<{ scenario: string; version: string }>;
  /**
   * The case's time zone and where it comes from: the run's record (`run`), or, for a run recorded by a build from
   * before 2026-12-07, which kept none, the command's zone (`command`).
   */
  zone: RecordedZone;
}

/**
 * The zone a case made from a run is in: `run` when the run's record names a zone this runtime knows; `command` (this
 * command's zone) when it names none (a run of an older build) or one it does not know (`unknown`: a store edited by
 * hand, or written where the time zone database knows a zone this one does not), which would otherwise stop the
 * command with Intl's RangeError.
 */
export interface RecordedZone {
  timeZone: string;
  from: 'run' | 'command';
  /** The zone the record names, when this runtime does not know it. */
  unknown?: string;
}

/** The zone of `record`, checked before it goes into Intl; `own` (this command's) when it has none or an unknown one. */
export function recordedZone(record: { timeZone?: string }, own: string): RecordedZone {
  const named = record.timeZone;
  if (!named) return { timeZone: own, from: 'command' };
  if (!isTimeZone(named)) return { timeZone: own, from: 'command', unknown: named };
  // Another name of the command's own zone (`Etc/UTC` for `UTC`, `Asia/Kolkata` for `Asia/Calcutta`, another case):
  // the command's name, so that nothing says the run ran elsewhere.
  return { timeZone: canonicalZone(named) === canonicalZone(own) ? own : named, from: 'run' };
}

/** The runtime's own name of a zone it knows (Intl's resolved one); the name as given when it does not know it. */
function canonicalZone(zone: string): string {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return zone;
  }
}

/** An unknown zone as a message quotes it: made safe for the terminal (it is the store's text) and cut to 80 characters. */
export function quotedUnknownZone(zone: string): string {
  return `"${terminalText(zone.slice(0, 80))}"`;
}

/** Runs scanned at most when looking for the children of a run (runs listed since it started). */
const CHILD_SCAN_LIMIT = 20_000;

const WRITES = new Set(['createRecord', 'updateRecord', 'deleteRecord']);
/** A parameter holding a request's header lines (`name: value`, CRLF between them), as a hook run gets them. */
const HEADER_LINES = /^[\w-]+: .*(\r\n[\w-]+: .*)*$/;
/** Headers the server checks or handles itself, and keeps from every scenario: not the scenario's to test. */
const SERVER_CHECKED_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-hook-signature']);
/**
 * Header lines that never go into a test file, whatever the server already masked: credentials by name or by a
 * Bearer/Basic value, as the server masks them where it keeps a request (an Idempotency-Key is kept: it is no secret).
 */
const isSecretHeaderLine = (line: string): boolean => {
  const colon = line.indexOf(':');
  return colon > 0 && isStoredRedactedHeader(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
};

/** `runsCommand`: the command that lists the store's runs, as the user should type it (`oktell-emu runs --data-dir /srv/var`). */
/**
 * `bodies`: the case also expects each letter's text and HTML and each web request's body as recorded (`test
 * --against-runs`, whose case is never written: a file would get every letter whole).
 */
export async function caseFromRun(store: Store, runId: string, opts: { name?: string; timeZone: string; runsCommand?: string; bodies?: boolean }): Promise<RecordedCase> {
  const root = await store.getRun(runId);
  if (!root) throw new RecordedRunError(`no run ${runId} in the store (see \`${opts.runsCommand ?? 'oktell-emu runs'}\`; runs older than the retention are pruned)`);
  if (root.status === 'running') throw new RecordedRunError(`run ${runId} is still running; make a test of it when it has ended`);
  // The zone the run ran in, from its record, so that a store copied to a machine in another zone replays as it ran;
  // a run of an older build kept none: then the command's, as before (the caller warns when serve.json says otherwise).
  const zone = recordedZone(root, opts.timeZone);
  const children = await childrenOf(store, root);
  const fixture: BpiumFixtureFile = { catalogs: {} };
  const http: HttpFixture[] = [];
  const mailFailures: MailFixture['failures'] = {};
  const unrecorded: string[] = [];
  const db: Record<string, string[]> = {};
  const dbUnrecorded: string[] = [];
  const cutValues: string[] = [];
  const notReplayed: string[] = [];
  const written: WrittenRow[] = [];
  let maxEffects: number | undefined;
  const ran: RecordedCase['ran'] = [];

  const describe = async (run: RunRecord): Promise<Observed> => {
    // Without its steps the case would expect no path and lack the answers its Bpium reads got: a wrong test.
    const notKept = traceNotKeptOf(run.trace);
    if (notKept) {
      const which = run === root ? `run ${run.id}` : `run ${run.id} (${run.scenario}, started by run ${root.id})`;
      throw new TraceNotKeptRunError(
        `${which} was stored without its trace (${notKept.setting}: a completed run keeps no steps), so no test can be made from it: ` +
          `the steps give the case its path and the answers its Bpium reads got. Set ${TRACE_SETTING}=all (the default) on the server, run the scenario again, and make the test from that run.`,
        which,
        notKept.setting,
      );
    }
    if (!ran.some((r) => r.scenario === run.scenario && r.version === run.version)) ran.push({ scenario: run.scenario, version: run.version });
    collectBpium(run, fixture, unrecorded);
    collectHttp(run, http);
    collectMailFailures(run, mailFailures, unrecorded);
    collectDbReads(run, db, dbUnrecorded);
    collectDbOutages(run, notReplayed, written);
    if (run !== root) collectChildClock(run, notReplayed);
    maxEffects ??= effectCapOf(run);
    const cut = recordCutOf(run.trace);
    if (cut) unrecorded.push(recordCutNote(run.scenario, cut));
    const kids = (children.get(run.id) ?? []).filter((k) => k.status !== 'running');
    return {
      scenario: run.scenario,
      status: run.status as Observed['status'],
      returnValues: Object.fromEntries(
        Object.entries((run.returnValues ?? {}) as Record<string, unknown>).map(([n, v]) => [n, expectedOfStored(v, `return value ${n} of ${run.scenario}`, cutValues)]),
      ),
      ...(run.error && typeof run.error === 'object' ? { error: run.error as Record<string, unknown> } : {}),
      mails: asList(run.mails).map((m, i) => ({
        ...m,
        subject: expectedOfStored(m.subject, `the subject of letter ${i + 1} of ${run.scenario}`, cutValues),
        ...(opts.bodies
          ? Object.fromEntries((['text', 'html'] as const).filter((k) => typeof m[k] === 'string').map((k) => [k, expectedOfStored(m[k], `the ${k === 'text' ? 'text' : 'HTML'} of letter ${i + 1} of ${run.scenario}`, cutValues)]))
          : {}),
      })),
      // A test runs dry: a write the server made is recorded there as "dry-run", and a call a retry replayed from its
      // job's journal is made afresh (a read answered by the fixture, "ok").
      bpiumCalls: asList(run.bpiumCalls).map((c) => (c.status === 'ok' || c.status === 'replayed' ? { ...c, status: WRITES.has(String(c.method)) ? 'dry-run' : 'ok' } : c)),
      ...recordedEffects(run, opts.bodies === true),
      asyncStarted: await Promise.all(kids.map(async (k) => ({ scenario: k.scenario, params: await jobParams(store, k), result: await describe(k) }))),
      path: asList(run.trace).filter((s) => !isRecordCutStep(s)).map((s) => String(s.block)),
      variables: {},
      ...(cut ? { kept: { path: cut.steps, bpiumCalls: cut.bpiumCalls, mails: cut.mails } } : {}),
    };
  };
  const observed = await describe(root);
  const failures = fixture.failures && Object.keys(fixture.failures).length ? fixture.failures : undefined;
  return {
    case: {
      // The start time in the run's zone, as its server's console and `runs` showed it (not UTC, hours off in Moscow).
      name: opts.name ?? `run ${root.id} (${root.scenario}, ${isoInZone(root.startedAt, zone.timeZone).slice(0, 16).replace('T', ' ')})`,
      scenario: root.scenario,
      params: await rootParams(store, root, notReplayed),
      bpium: { catalogs: fixture.catalogs, ...(failures ? { failures } : {}) },
      ...(http.length ? { http } : {}),
      ...(Object.keys(mailFailures).length ? { mail: { failures: mailFailures } } : {}),
      ...(Object.keys(db).length ? { db: Object.fromEntries(Object.entries(db).map(([name, sql]) => [name, `${sql.join('\n')}\n`])) } : {}),
      clock: clockOf(root, notReplayed),
      timeZone: zone.timeZone,
      ...(maxEffects !== undefined ? { maxEffects } : {}),
      expect: expectationOf(observed, { bodies: opts.bodies === true }),
    },
    unrecorded,
    dbUnrecorded,
    cutValues,
    notReplayed,
    ran,
    zone,
  };
}

/** Web request methods a dry run sends (through the case's fixtures); the others it records without sending. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The web requests and database statements of a recorded run, as the case's dry run will observe them, so that a
 * changed URL or statement in the scenario fails the case. A write request the server sent is, in a test, answered by
 * its fixture without being sent: outcome "dry-run", as a Bpium write. Only what the case's run gives again is
 * expected: the outcome when it was a success (a failure's wording differs between a live and a fixture answer), and a
 * statement's status and row count when it ran (a timeout or an outage of the server's database is not replayed).
 */
function recordedEffects(run: RunRecord, bodies: boolean): Pick<Observed, 'httpCalls' | 'dbCalls'> {
  const trace = asList(run.trace);
  const calls = httpCallsOf(run, trace);
  // The body each request sent, as its step's trace kept it (a case's run's trace keeps it the same way).
  const sent = bodies ? withBodies(calls as unknown as Array<Record<string, unknown>>, trace as never) : [];
  const http = calls.map((c, i) => ({
    method: c.method,
    ...(typeof sent[i]?.body === 'string' ? { body: sent[i]!.body } : {}),
    url: c.url,
    ...(c.status !== undefined ? { status: c.status } : {}),
    ...(c.outcome === 'ok' || c.outcome === 'dry-run' ? { outcome: SAFE_METHODS.has(c.method) ? c.outcome : 'dry-run' } : {}),
  }));
  const db = dbCallsOf(run, trace).map((c) => ({
    connection: c.connection,
    statement: c.statement,
    ...(c.status === 'ok' ? { status: 'ok', ...(c.rowCount !== undefined ? { rowCount: c.rowCount } : {}) } : {}),
  }));
  return { ...(http.length ? { httpCalls: http } : {}), ...(db.length ? { dbCalls: db } : {}) };
}

/**
 * The case's clock: the run's start, and when its steps read the clock (Now()) the times they got, in order, so the
 * case's run gets them again (a step after a 2 ms database read sees a later time than the start). Runs recorded
 * before steps kept their readings get the start alone. Readings of steps left out of a record cut at its budget are
 * lost: only those before the cut are replayed.
 */
function clockOf(root: RunRecord, notReplayed: string[]): string | { start: string; reads: string[] } {
  const start = new Date(root.startedAt).toISOString();
  const reads: string[] = [];
  for (const step of asList(root.trace)) {
    if (isRecordCutStep(step)) {
      notReplayed.push(`the clock readings of the steps of ${root.scenario} left out of its record: the clock stays at ${reads.at(-1) ?? start} from there`);
      break;
    }
    if (Array.isArray(step.clock)) reads.push(...step.clock.map(String));
  }
  return reads.length ? { start, reads } : start;
}

/**
 * What a case expects of a value as the run record kept it. The record keeps a long return value (over 4096
 * characters) or subject (over 256) cut, with a note of its whole length (run-record.ts); the case's run makes it
 * whole, so the cut text can never match: the kept beginning is expected with `{ contains }`, and the comment above
 * the case says so. A value kept as its length only leaves an empty beginning, which `{ contains }` finds anywhere.
 */
function expectedOfStored(v: unknown, what: string, cutValues: string[]): unknown {
  const cut = typeof v === 'string' ? cutTextParts(v) : undefined;
  if (!cut) return v;
  cutValues.push(cut.start ? `${what}: ${cut.length} characters, only the first ${cut.start.length} are checked` : `${what}: ${cut.length} characters, not checked`);
  return { contains: cut.start };
}

/**
 * What a record cut at its budget means for its case: the answers its left-out steps got are in no fixture, and only
 * the kept ends of its path, Bpium calls and letters are checked (`{ edges }`).
 */
function recordCutNote(scenario: string, cut: RecordCut): string {
  const left = [[cut.steps.omitted, 'steps'], [cut.bpiumCalls.omitted, 'Bpium calls'], [cut.mails.omitted, 'letters']].filter(([n]) => n).map(([n, what]) => `${n} ${what}`);
  return `${left.join(', ') || 'nothing'} of ${scenario} were left out of its record (the record's size budget): what they read is not in the fixtures, and only the kept first and last items of its path, Bpium calls and letters are checked ({ edges })`;
}

/**
 * A job's run's parameters, whole, from its job (the run record keeps them cut); one that carries a secret of the run
 * that started the job is the mask, as in the record.
 */
async function jobParams(store: Store, run: RunRecord): Promise<Record<string, unknown>> {
  const job = run.jobId ? await store.getJob(run.jobId) : undefined;
  if (!job?.params) return (run.params ?? {}) as Record<string, unknown>;
  return maskCarriers(job.params as Record<string, unknown>, jobSecretCarriers(job.variables as Record<string, unknown> | null)?.params);
}

/**
 * The root run's parameters: a job's from the job; a hook run's from its record, with a parameter the record kept
 * cut replaced by the request body from the inbox when that is what was cut; no secret header.
 */
async function rootParams(store: Store, run: RunRecord, notReplayed: string[] = []): Promise<Record<string, Value>> {
  const params = { ...((run.jobId ? await jobParams(store, run) : (run.params ?? {})) as Record<string, Value>) };
  const body = run.inboxId !== null && run.inboxId !== undefined ? await store.getInboxEntry(run.inboxId) : undefined;
  for (const [k, v] of Object.entries(params)) {
    if (typeof v !== 'string') continue;
    const cut = cutTextParts(v);
    const whole = cut && body ? Buffer.from(body.body).toString('utf8') : undefined;
    if (cut && whole !== undefined && whole.length === cut.length && whole.startsWith(cut.start)) {
      params[k] = whole;
    } else if (HEADER_LINES.test(v)) {
      const lines = v.split('\r\n');
      const left = lines.filter((line) => isSecretHeaderLine(line) || line.endsWith(': [redacted]'));
      params[k] = lines.filter((line) => !left.includes(line)).join('\r\n');
      // A sender's own token header (X-Hook-Token, X-Api-Key) is the scenario's to check, unlike those the server checks
      // itself: a hook that compares it takes another path in the case, so the comment says which line to add back.
      const own = left.map((line) => line.slice(0, line.indexOf(':'))).filter((name) => !SERVER_CHECKED_HEADERS.has(name.toLowerCase()));
      if (own.length) {
        notReplayed.push(
          `parameter ${k} (the request's headers) is written without ${own.join(', ')}, a credential the server does not keep: a scenario that checks ${own.length > 1 ? 'them' : 'it'} takes another path here than in the recorded run; add ${own.map((n) => `"${n}: <a test value>"`).join(' and ')} to the headers and give the variable it is compared with that value under variables:`,
        );
      }
    }
  }
  return params;
}

/**
 * The runs each run started, by parent run id: the last attempt of each job (the one started last: a replay counts
 * its attempts from 1 again, so the attempt number cannot tell), in the order of the jobs' ids. Each run's trace names
 * the jobs it started, and a job's runs are found by its id (an index), so the lookup costs the same for a run of last
 * year as for one of a minute ago. A run whose trace may not name every start (cut, or not kept) makes it fall back to
 * reading the runs since the root started (`scannedChildrenOf`).
 */
async function childrenOf(store: Store, root: RunRecord): Promise<Map<string, RunRecord[]>> {
  const out = new Map<string, RunRecord[]>();
  const seen = new Set([root.id]);
  for (let queue = [root]; queue.length; ) {
    const next: RunRecord[] = [];
    for (const run of queue) {
      const jobIds = startedJobIdsOf(run.trace);
      if (!jobIds) return scannedChildrenOf(store, root);
      for (const jobId of [...jobIds].sort((a, b) => a.localeCompare(b))) {
        // Newest first (start time, then id): the first is the job's last attempt.
        const last = (await store.listRuns({ jobId, limit: 1 })).items[0];
        if (!last || last.parentRunId !== run.id || seen.has(last.id)) continue;
        const rec = await store.getRun(last.id);
        if (!rec) continue;
        seen.add(rec.id);
        out.set(run.id, [...(out.get(run.id) ?? []), rec]);
        next.push(rec);
      }
    }
    queue = next;
  }
  return out;
}

/**
 * `childrenOf` read from the runs listed since the root started (at most CHILD_SCAN_LIMIT of them, newest first): for
 * a tree with a run whose trace does not name its starts.
 */
async function scannedChildrenOf(store: Store, root: RunRecord): Promise<Map<string, RunRecord[]>> {
  const byJob = new Map<string, { runId: string; startedAt: number; parent: string; jobId: string }>();
  let cursor: string | null | undefined;
  let scanned = 0;
  do {
    const page = await store.listRuns({ since: root.startedAt, limit: 1000, ...(cursor ? { cursor } : {}) });
    for (const r of page.items) {
      if (!r.parentRunId || !r.jobId) continue;
      const prev = byJob.get(r.jobId);
      // Run ids are sortable by creation too: they break a tie of two attempts started in the same millisecond.
      const later = !prev || r.startedAt > prev.startedAt || (r.startedAt === prev.startedAt && r.id > prev.runId);
      if (later) byJob.set(r.jobId, { runId: r.id, startedAt: r.startedAt, parent: r.parentRunId, jobId: r.jobId });
    }
    scanned += page.items.length;
    cursor = page.nextCursor;
  } while (cursor && scanned < CHILD_SCAN_LIMIT);
  // Keep only the descendants of the root.
  const wanted = new Set([root.id]);
  const out = new Map<string, RunRecord[]>();
  const sorted = [...byJob.values()].sort((a, b) => a.jobId.localeCompare(b.jobId));
  for (let grew = true; grew; ) {
    grew = false;
    for (const c of sorted) {
      if (wanted.has(c.parent) && !wanted.has(c.runId)) {
        wanted.add(c.runId);
        grew = true;
      }
    }
  }
  for (const c of sorted) {
    if (!wanted.has(c.parent) || c.runId === root.id) continue;
    const rec = await store.getRun(c.runId);
    if (rec) out.set(c.parent, [...(out.get(c.parent) ?? []), rec]);
  }
  return out;
}

/** Adds what each Bpium step of `run` got to the fixture: the answer its trace kept, or the failure it met. */
function collectBpium(run: RunRecord, fixture: BpiumFixtureFile, unrecorded: string[]) {
  for (const step of asList(run.trace)) {
    const effect = step.effect as Record<string, unknown> | undefined;
    if (!effect || typeof effect.method !== 'string' || effect.dryRun) continue;
    const catalogId = String(effect.catalogId);
    const catalog = (fixture.catalogs[catalogId] ??= {});
    catalog.records ??= {};
    const recordKey = `${catalogId}/${effect.method === 'findRecord' ? '*' : String(effect.recordId ?? '')}`;
    if (effect.failure !== undefined) {
      // A 404 needs no script: the record is simply not in the fixture.
      if (effect.status === 404) continue;
      if (effect.failure === 'permanent' && typeof effect.status !== 'number') {
        unrecorded.push(`${effect.method} catalog ${catalogId} failed without an HTTP status (${String(effect.error ?? '')}) (block ${String(step.block)} of ${run.scenario})`);
        continue;
      }
      (fixture.failures ??= {})[recordKey] = effect.failure === 'timeout' ? 'timeout' : typeof effect.status === 'number' ? effect.status : 'network';
      continue;
    }
    // A read that got its answer, then failed to read the catalog's structure (to resolve its field names): the
    // case's fixture answers the read and fails the structure read alike.
    const structureRead = effect.structureRead as Record<string, unknown> | undefined;
    if (structureRead && typeof structureRead === 'object' && typeof structureRead.failure === 'string') {
      if (structureRead.failure === 'permanent' && typeof structureRead.status !== 'number') {
        unrecorded.push(`getCatalogStructure catalog ${catalogId} failed without an HTTP status (${String(structureRead.error ?? '')}) (block ${String(step.block)} of ${run.scenario})`);
      } else {
        (fixture.failures ??= {})[`${catalogId}/structure`] = structureRead.failure === 'timeout' ? 'timeout' : typeof structureRead.status === 'number' ? structureRead.status : 'network';
      }
    }
    if (WRITES.has(effect.method)) continue;
    const answer = effect.answer as JsonValue | undefined;
    if (answer === undefined || answer === null || typeof answer !== 'object' || Array.isArray(answer)) {
      unrecorded.push(`${effect.method} catalog ${catalogId}${effect.recordId ? ` record ${String(effect.recordId)}` : ''} (block ${String(step.block)} of ${run.scenario})`);
      continue;
    }
    if (effect.method === 'getCatalogStructure') {
      if (typeof answer.name === 'string') catalog.name = answer.name;
      if (Array.isArray(answer.fields)) catalog.fields = answer.fields as unknown as NonNullable<typeof catalog.fields>;
    } else if (answer.id !== undefined && answer.values && typeof answer.values === 'object') {
      catalog.records[String(answer.id)] = answer.values as Record<string, JsonValue>;
    }
  }
}

/**
 * A letter the SMTP server refused or could not take becomes a mail fixture failure for its first recipient's address:
 * 550 for a permanent refusal, 451 for an outage, no-reply for an unknown outcome (SMTP's own words are in the recorded error). A letter that failed
 * otherwise (the outbox could not be written) has no fixture to stand for it: it is named in `unrecorded`.
 */
function collectMailFailures(run: RunRecord, failures: MailFixture['failures'], unrecorded: string[]) {
  for (const m of asList(run.mails)) {
    const to = Array.isArray(m.to) && m.to[0] !== undefined ? recipientKey(String(m.to[0])) : '';
    if ((m.status !== 'failed' && m.status !== 'unknown') || !to || failures[to] !== undefined) continue;
    const error = String(m.error ?? '');
    if (m.status === 'unknown') failures[to] = 'no-reply';
    else if (/^SMTP permanent/.test(error)) failures[to] = '550';
    else if (/^SMTP transient/.test(error)) failures[to] = '451';
    else unrecorded.push(`the letter to ${to} failed without the SMTP server (${error.slice(0, 200)}) (block ${String(m.block ?? '?')} of ${run.scenario}): no mail fixture stands for it`);
  }
}

/**
 * Adds what each web request of `run` got as an HTTP fixture: the answer its trace kept (status, body, content type),
 * or the failure it met. A secret the trace masked (`***`) becomes a `*` wildcard of the fixture's URL.
 */
function collectHttp(run: RunRecord, http: HttpFixture[]) {
  for (const step of asList(run.trace)) {
    if (step.kind !== 'WebRequest') continue;
    const effect = step.effect as { request?: { method?: unknown; url?: unknown }; status?: unknown; failure?: unknown; tooLarge?: unknown; answer?: { body?: unknown; contentType?: unknown }; dryRun?: unknown } | undefined;
    // An answer over the size cap has a status but no body a fixture could give back: it makes no fixture.
    if (!effect?.request || typeof effect.request.url !== 'string' || effect.dryRun || effect.tooLarge) continue;
    const match = `${String(effect.request.method)} ${effect.request.url.replaceAll('***', '*').replaceAll('%2A%2A%2A', '*')}`;
    if (http.some((f) => f.match === match)) continue;
    if (typeof effect.status !== 'number') {
      if (effect.failure === 'timeout' || effect.failure === 'transient') http.push({ match, fail: effect.failure === 'timeout' ? 'timeout' : 'network' });
      continue;
    }
    const body = typeof effect.answer?.body === 'string' ? effect.answer.body : undefined;
    const type = typeof effect.answer?.contentType === 'string' ? effect.answer.contentType : undefined;
    http.push({ match, status: effect.status, ...(body !== undefined ? { body } : {}), ...(type ? { headers: { 'content-type': type } } : {}) });
  }
}

/** A table of a connection, as `collectDbReads` keeps track of them (the name in lower case). */
const tableKey = (connection: string, table: string) => `${connection}\u0000${table.toLowerCase()}`;

/**
 * Adds the rows each DbQuery read of `run` got to the data set of its connection (writes run in the test itself);
 * a read whose rows cannot be written back is described in `unrecorded`.
 */
function collectDbReads(run: RunRecord, db: Record<string, string[]>, unrecorded: string[]) {
  // Tables whose later reads may return rows the run made or changed, which are not data from before it: those it
  // inserted into (INSERT, REPLACE, a MERGE that inserts: the case makes those rows itself), and those it updated,
  // merged into, truncated or deleted from before it first read them (an UPDATE … SET status = 'processing' then a
  // read of the 'processing' rows). A table read before the run's first UPDATE or DELETE of it is a loop that marks
  // each row it handles and reads the next: the later reads find rows that were there before the run, and a row read
  // again after the run changed it keeps the values of its first read (INSERT OR IGNORE). What a statement writes is
  // `sqlWrites`'s reading, the DbQuery block's too. A procedure (CALL or EXEC in a DbQuery, a DbProcedure block) may
  // write any table of its connection: a table not read before the first one is then not data either.
  const written = new Set<string>();
  const readFirst = new Set<string>();
  const procedures = new Map<string, string>();
  for (const step of asList(run.trace)) {
    if (step.kind !== 'DbQuery' && step.kind !== 'DbProcedure') continue;
    const e = step.effect as { connection?: unknown; statement?: unknown; params?: unknown; outcome?: unknown; rowCount?: unknown; columns?: unknown; rows?: unknown } | undefined;
    if (!e || e.outcome !== 'ok' || typeof e.statement !== 'string' || typeof e.connection !== 'string') continue;
    const writes = step.kind === 'DbProcedure' ? { tables: [], makesRows: false, procedure: true } : sqlWrites(e.statement);
    for (const table of writes.tables) {
      const key = tableKey(e.connection, table);
      if (writes.makesRows || !readFirst.has(key)) written.add(key);
    }
    if (writes.procedure && !procedures.has(e.connection)) procedures.set(e.connection, e.statement.replace(/\s+/g, ' ').trim());
    const kind = /^\s*(?:(?:--[^\n]*\n|\/\*[\s\S]*?\*\/)\s*)*(\w+)/.exec(e.statement)?.[1]?.toLowerCase();
    if ((kind !== 'select' && kind !== 'with') || writes.tables.length || !e.rowCount) continue;
    const read: RecordedRead = {
      scenario: run.scenario,
      block: String(step.block),
      connection: e.connection,
      statement: e.statement,
      params: (e.params ?? {}) as Record<string, JsonValue>,
      columns: Array.isArray(e.columns) ? e.columns.map(String) : [],
      rows: Array.isArray(e.rows) ? (e.rows as Array<Record<string, JsonValue>>) : undefined,
      rowCount: Number(e.rowCount),
    };
    let data = rowsAsData(read);
    const reads = 'sql' in data ? tableKey(read.connection, data.table) : undefined;
    const procedure = procedures.get(read.connection);
    if (reads && !written.has(reads) && (procedure === undefined || readFirst.has(reads))) readFirst.add(reads);
    else if ('sql' in data && reads) {
      data = {
        reason: written.has(reads)
          ? `the run wrote to ${data.table} before this read, so its rows may be the run's own`
          : `the run called a procedure (${procedure}) before this read, which may have written ${data.table}, so its rows may be the run's own`,
      };
    }
    if ('sql' in data) {
      const set = (db[read.connection] ??= []);
      for (const sql of data.sql) if (!set.includes(sql)) set.push(sql);
    } else {
      const rows = read.rows ? `: ${JSON.stringify(read.rows).slice(0, 300)}` : '';
      unrecorded.push(`${read.connection}: ${read.statement.replace(/\s+/g, ' ').trim()} (block ${read.block} of ${read.scenario}): ${data.reason}; it read ${read.rowCount} row(s)${rows}`);
    }
  }
}

/** A write refused because its table already has a row with the same key: SQLite's UNIQUE and PRIMARY KEY, PostgreSQL's unique_violation. */
const KEY_CLASH = new Set(['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY', '23505']);
/** A write refused by a foreign key: SQLite's FOREIGN KEY constraint, PostgreSQL's foreign_key_violation. */
const FOREIGN_KEY = new Set(['SQLITE_CONSTRAINT_FOREIGNKEY', '23503']);

/** A row a DbQuery INSERT of the runs wrote (the case's runs write it too, in the same order), by connection. */
type WrittenRow = InsertedRow & { connection: string; statement: string; params: string };

/**
 * Database statements that timed out or met an outage (SQLITE_BUSY: another program's lock, a connection refused):
 * a case's databases are fresh files of its own, never locked nor away, and no fixture scripts a database's answer,
 * so the case's run takes another way there. So does a write refused for a key a row of the database already had: the
 * record does not keep that row (only the rows reads returned), so the case's database lacks it, unless the runs wrote
 * it themselves earlier (`written`: the rows their successful INSERTs wrote, in order, kept across the runs of the
 * case): then the case writes it too and the clash replays, and nothing is said. An UPDATE or DELETE refused by a
 * foreign key is the same: the rows it changes and those referring to them (or referred to) were in the database,
 * not in the case's. An INSERT refused by a foreign key needs no note: the row it refers to is missing from the case's
 * database as it was from the run's. What to add to the case's `db:` is said instead. Named for the comment above the
 * case and the command's output.
 */
function collectDbOutages(run: RunRecord, notReplayed: string[], written: WrittenRow[]) {
  for (const step of asList(run.trace)) {
    if (step.kind !== 'DbQuery' && step.kind !== 'DbProcedure') continue;
    const e = step.effect as { connection?: unknown; statement?: unknown; params?: unknown; outcome?: unknown; failure?: unknown; code?: unknown; error?: unknown } | undefined;
    if (!e) continue;
    const statement = String(e.statement ?? '').replace(/\s+/g, ' ').trim().slice(0, 200);
    const at = `${String(e.connection)}: ${statement} (block ${String(step.block)} of ${run.scenario})`;
    const row = step.kind === 'DbQuery' && typeof e.statement === 'string' ? insertedRow(e.statement, (e.params ?? {}) as Record<string, JsonValue>) : undefined;
    const params = JSON.stringify(e.params ?? {});
    if (e.outcome === 'ok') {
      if (row) written.push({ ...row, connection: String(e.connection), statement: String(e.statement), params });
      continue;
    }
    const failed = { error: String(e.error ?? '').slice(0, 200), code: String(e.code), exit: String(step.exit) };
    const shownParams = params.slice(0, 300);
    if (e.failure === 'permanent' && KEY_CLASH.has(failed.code)) {
      if (writtenBefore(written, String(e.connection), String(e.statement), params, row, sqliteKeyColumns(failed.error))) continue;
      const table = sqlWrites(String(e.statement ?? '')).tables[0] ?? 'its table';
      notReplayed.push(
        `${at} failed on a row already in ${table} (${failed.error}; ${failed.code}, exit "${failed.exit}"): unless the run wrote that row itself, it was in the database before the run, ` +
          `and the case's database has only the rows of its db:, so there the write goes through and the run takes another way; ` +
          `to replay the clash, add that row under the case's db: ${String(e.connection)} (an INSERT into ${table} with the values it clashed on; the statement's parameters were ${shownParams}), or drop the case`,
      );
      continue;
    }
    if (e.failure === 'permanent' && FOREIGN_KEY.has(failed.code)) {
      const writes = sqlWrites(String(e.statement ?? ''));
      // An INSERT (or a procedure, which may do anything) is left alone: see above.
      if (writes.makesRows || writes.procedure || step.kind !== 'DbQuery') continue;
      const table = writes.tables[0] ?? 'its table';
      notReplayed.push(
        `${at} was refused by a foreign key (${failed.error}; ${failed.code}, exit "${failed.exit}"): the row of ${table} it changes or deletes was in the database, ` +
          `and the case's database has only the rows of its db:, so there the statement changes nothing, goes through and the run takes another way; ` +
          `to replay the refusal, add under the case's db: ${String(e.connection)} the row of ${table} the statement changes or deletes and, when the key is one by which another table refers to ${table}, ` +
          `a row of that table referring to it (the statement's parameters were ${shownParams}), or drop the case`,
      );
      continue;
    }
    if (e.failure !== 'timeout' && e.failure !== 'transient') continue;
    notReplayed.push(`${at} took its ${e.failure === 'timeout' ? 'timeout' : 'outage'} way (${String(e.code ?? e.failure)}, exit "${String(step.exit)}"): the case's own database is never locked or away, so there the statement runs on the case's data and its run takes another way; expect that, or drop the case`);
  }
}

/** The columns of the key SQLite names in `UNIQUE constraint failed: ticks.label, ticks.due` (lower case); undefined for another message. */
function sqliteKeyColumns(error: string): string[] | undefined {
  const listed = /UNIQUE constraint failed: (.+)$/.exec(error)?.[1];
  return listed?.split(',').map((c) => c.trim().split('.').pop()!.toLowerCase());
}

/**
 * Whether an earlier INSERT of the runs, on the same connection, wrote the row the refused one clashed with: the same
 * statement with the same parameters, or a row of the same table with the same values in the key's columns (SQLite
 * names them) or, when the key is not known (PostgreSQL's message names a constraint), in every column the refused
 * INSERT gives (so its key among them). A value the record does not show (masked, cut, an expression) proves nothing.
 */
function writtenBefore(written: WrittenRow[], connection: string, statement: string, params: string, row: InsertedRow | undefined, key: string[] | undefined): boolean {
  return written.some((w) => {
    if (w.connection !== connection) return false;
    if (w.statement === statement && w.params === params && !params.includes('"***"') && !/… \(\d+ chars\)"/.test(params)) return true;
    if (!row || w.table !== row.table) return false;
    const columns = key ?? [...row.values.keys()];
    if (columns.length === 0 || (!key && row.values.size === 0)) return false;
    return columns.every((c) => row.values.has(c) && w.values.has(c) && JSON.stringify(row.values.get(c)) === JSON.stringify(w.values.get(c)));
  });
}

/**
 * An async run that read the clock: in the case it runs right after the case's run and reads the case's start, not
 * the later time its job ran at on the server, so a value made from Now() there may differ from the recorded one.
 */
function collectChildClock(run: RunRecord, notReplayed: string[]) {
  const read = asList(run.trace).find((s) => Array.isArray(s.clock));
  if (read) notReplayed.push(`${run.scenario}, started asynchronously, read the clock (Now()) at ${String((read.clock as unknown[])[0])} (block ${String(read.block)}): in the case it reads the case's start instead, so a value made from it may differ`);
}

/**
 * The effect cap a run stopped at, read from its R_EFFECT_LIMIT message ("…its cap of N effects…"): the case gets the
 * same cap, so it stops where the server's run did whatever the cap of the machine running the test.
 */
function effectCapOf(run: RunRecord): number | undefined {
  const error = run.error as { code?: unknown; message?: unknown } | null | undefined;
  if (!error || error.code !== R.EFFECT_LIMIT || typeof error.message !== 'string') return undefined;
  const n = /cap of (\d+) effects/.exec(error.message)?.[1];
  return n ? Number(n) : undefined;
}

function asList(v: unknown): Array<Record<string, unknown>> {
  return Array.isArray(v) ? (v as Array<Record<string, unknown>>) : [];
}

/**
 * Writes long parameters (webhook bodies) to files next to the test file, and returns the case's `params`. The file
 * holds the text exactly as the run got it: a scenario may measure, compare or forward the body as text, so even its
 * spacing is part of what the case replays. Short text goes there too when a block (`|`) cannot give it back exactly
 * — request headers, whose lines end in CR LF — instead of one quoted line of `\r\n`s. `notes` gets a line for a file
 * of request headers, for the comment above the case.
 */
export function paramsToFiles(params: Record<string, Value>, runId: string, write: (name: string, text: string) => void, notes: string[] = []): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (const [n, v] of Object.entries(params)) {
    if (typeof v === 'string' && (v.length > 200 || (/[\r\n]/.test(v) && !blockable(v)))) {
      const name = `recorded/${runId}-${n}.${isJson(v) ? 'json' : 'txt'}`;
      write(name, v);
      if (HEADER_LINES.test(v)) notes.push(`Parameter ${n} (${name}) is the request's headers, credentials left out.`);
      out[n] = `@${name}`;
    } else out[n] = inlineParam(v);
  }
  return out;
}

/**
 * Parameters written as themselves (the console's download), exactly as the run got them: a leading @ is doubled, so
 * it is not read as a file name.
 */
export function inlineParams(params: Record<string, Value>): Record<string, Value> {
  return Object.fromEntries(Object.entries(params).map(([n, v]) => [n, inlineParam(v)]));
}

function inlineParam(v: Value): Value {
  return typeof v === 'string' && v.startsWith('@') ? `@${v}` : v;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * The comment above a recorded case: where it comes from, the Bpium answers and database rows to add by hand, and the
 * values the server kept cut (expected by their beginning).
 */
export function recordedNote(runId: string, unrecorded: string[], dbUnrecorded: string[] = [], cutValues: string[] = [], notReplayed: string[] = [], sources: string[] = [], setting: string[] = []): string {
  let note = ` Recorded from run ${runId}.`;
  if (unrecorded.length) note += ` Bpium answers the server did not keep (add them under bpium.catalogs):\n${unrecorded.map((u) => `   - ${u}`).join('\n')}`;
  if (dbUnrecorded.length) note += `${unrecorded.length ? '\n' : ''} Database reads whose rows are not in db: (add INSERT statements that give them there):\n${dbUnrecorded.map((u) => `   - ${u}`).join('\n')}`;
  if (cutValues.length) {
    const lead = unrecorded.length || dbUnrecorded.length ? '\n' : '';
    note += `${lead} Values the server kept cut, expected by their kept beginning ({ contains }; the rest is not checked):\n${cutValues.map((u) => `   - ${u}`).join('\n')}`;
  }
  if (notReplayed.length) {
    const lead = unrecorded.length || dbUnrecorded.length || cutValues.length ? '\n' : '';
    note += `${lead} What the case cannot replay (its run may differ from the recorded one there; the expectation is the recorded run's):\n${notReplayed.map((u) => `   - ${u}`).join('\n')}`;
  }
  if (sources.length) note += `\n${sources.map((u) => ` ${u}`).join('\n')}`;
  if (setting.length) note += `\n${setting.map((u) => ` ${u}`).join('\n')}`;
  return note;
}

/** How `ranVersionWarnings` words its warnings for where the case's scenarios are read. */
export interface VersionWording {
  /** The scenarios the case runs, for "which … does not have": "the scenarios folder tests/…". */
  holder: string;
  /** The same, for "the case tests the scenario of …": the folder's path. */
  shown: string;
  /** Added after the scenario's version, e.g. "; the server of data (serve.json) reads other/". */
  also?: string;
  /** What to do about another version, ending the warning's parenthesis. */
  fix: string;
}

/**
 * The scenarios that ran compared with those the case will run (`current` gives the file and version of each, or
 * undefined when absent), as `oktell-emu test --from-run` and the console's download both say it: a warning for each
 * at another version (the recorded expectation is of the version that ran) or missing, and whether the case's own
 * scenario is the one missing (the case could not run at all).
 */
export function ranVersionWarnings(
  runId: string,
  ran: ReadonlyArray<{ scenario: string; version: string }>,
  current: (scenario: string) => { file: string; version: string } | undefined,
  wording: VersionWording,
): { ownMissing: boolean; warnings: string[] } {
  const also = wording.also ?? '';
  const warnings: string[] = [];
  for (const [i, { scenario, version }] of ran.entries()) {
    const now = current(scenario);
    if (now === undefined && i === 0) return { ownMissing: true, warnings };
    if (now === undefined) warnings.push(`run ${runId} started ${scenario}, which ${wording.holder} does not have${also}: the case's run will fail there`);
    else if (version && version !== 'unknown' && now.version !== version) {
      warnings.push(`run ${runId} ran ${scenario} at version ${version}, but ${now.file} is version ${now.version}${also}: the case tests the scenario of ${wording.shown}, not the one that ran (${wording.fix})`);
    }
  }
  return { ownMissing: false, warnings };
}

/** A variable of the case's scenario whose initial value comes from the environment or a file (`env:`, `file:`). */
export interface OutsideVariable {
  name: string;
  /** `environment variable RECEIVER_URL`, `file /run/secrets/key`. */
  from: string;
  secret: boolean;
  /** Read from a file (`file:`): files are where secrets are kept (/run/secrets/…), so its value is never written. */
  fromFile?: boolean;
  /** What it holds where the case is written; undefined when the variable is not set (or the file cannot be read) here. */
  value?: Value;
}

/** Names that say a value is a credential, though its declaration does not say `secret: true`. */
const SECRET_LIKE = /pass(?:word|wd)?|secret|token|api[-_]?key|private[-_]?key|credential|auth|cookie|session/i;

/** Whether a variable not declared secret may still hold one: read from a file, or named (or its source named) like one. */
function maySecret(v: OutsideVariable): boolean {
  return v.fromFile === true || SECRET_LIKE.test(v.name) || SECRET_LIKE.test(v.from);
}

/**
 * What a recorded case needs so that its run does not depend on the environment of whoever runs `test`: the values of
 * its scenario's non-secret variables taken from the environment or a file, pinned under `variables:` as this command
 * (or `readBy`: the server, for the console's download) read them; and, for the comment above the case, the ones not
 * written — secrets (a test file is no place for them), values read from a file or named like a credential (they may
 * be secrets not declared so), and those not set here — with how to give them.
 */
export function pinnedVariables(vars: readonly OutsideVariable[], readBy?: string): { variables: Record<string, Value>; notes: string[] } {
  const variables: Record<string, Value> = {};
  const pinned: string[] = [];
  const unset: string[] = [];
  const secrets: string[] = [];
  const unwritten: string[] = [];
  for (const v of vars) {
    const what = `${v.name} (${v.from})`;
    if (v.secret) secrets.push(what);
    else if (maySecret(v)) unwritten.push(what);
    else if (v.value === undefined) unset.push(what);
    else {
      variables[v.name] = v.value instanceof Date ? v.value.toISOString() : v.value;
      pinned.push(what);
    }
  }
  const notes = [
    ...(pinned.length ? [`Taken from outside the scenario, pinned under variables: as ${readBy ? `${readBy} read them` : "this command read them (the server's may differ)"}: ${pinned.join(', ')}.`] : []),
    ...(unset.length ? [`Not set where this case was written, so not pinned: ${unset.join(', ')}; give the value the server had under variables:, or the case depends on the environment it runs in.`] : []),
    ...(unwritten.length ? [`Not written, as they may hold a secret (read from a file, or named like one), though not declared secret: ${unwritten.join(', ')}; give a test value under variables: to make the case independent of the environment of \`oktell-emu test\`.`] : []),
    ...(secrets.length ? [`Secret, so not written: ${secrets.join(', ')}; the case's run reads them from the environment of \`oktell-emu test\`; give a test value under variables: (e.g. ${secrets[0]!.split(' ')[0]}: test-token) to make the case independent of it.`] : []),
  ];
  return { variables, notes };
}

/** The connections the recorded run's statements used (its own and those of the runs it started), in order. */
export function connectionsOf(expectation: unknown): string[] {
  const out = new Set<string>();
  const walk = (e: unknown) => {
    if (!e || typeof e !== 'object') return;
    const o = e as { dbCalls?: unknown; asyncStarted?: unknown };
    if (Array.isArray(o.dbCalls)) for (const c of o.dbCalls) if (c && typeof (c as { connection?: unknown }).connection === 'string') out.add((c as { connection: string }).connection);
    if (Array.isArray(o.asyncStarted)) for (const a of o.asyncStarted) walk((a as { result?: unknown })?.result);
  };
  walk(expectation);
  return [...out];
}

/**
 * The note for a connection the run used that has no migrations in the case's folder: the case's database for it is a
 * fresh SQLite file with no tables at all, so each statement there fails with "no such table" until one creates them.
 */
export function tablelessNote(connection: string): string {
  return `Connection "${connection}" has no migrations (scenarios/db/${connection}/*.sql): the case's fresh "${connection}" database has no tables at all (a statement on a table fails there with "no such table"): create the tables in a migration there (CREATE TABLE IF NOT EXISTS …, which leaves the real database's as they are), and give the rows under db:.`;
}

/**
 * A recorded run made into the case that is written, as `test --from-run` writes it and the console's "Download as a
 * test" gives it (one code path, so the two are the same case): `library` is the scenarios as the writer loaded them
 * (the folder of the test file for the CLI, the server's for the console), whose variables taken from the environment
 * or a file are pinned under `variables:` as `readBy` read them (secrets and credential-like ones only named); a
 * connection without migrations in `folder` is said to give the case a database with no tables; a run of scenarios
 * without a Bpium block gets no empty fake Bpium. `setting` is for the comment above the case (recordedNote).
 * The parameters stay as the run got them: the CLI moves long ones to files (paramsToFiles), the download keeps them
 * inline (inlineParams).
 */
export function caseToWrite(recorded: RecordedCase, library: ScenarioLibrary | undefined, folder: string, readBy?: string): { testCase: Record<string, unknown>; setting: string[] } {
  const { variables, notes: setting } = pinnedVariables(outsideVariables(library, String(recorded.case.scenario)), readBy);
  for (const connection of connectionsOf(recorded.case.expect)) if (!hasMigrations(folder, connection)) setting.push(tablelessNote(connection));
  const { name, scenario, params, ...rest } = recorded.case;
  const testCase: Record<string, unknown> = { name, scenario, params, ...(Object.keys(variables).length ? { variables } : {}), ...rest };
  if (library && !recorded.ran.some((r) => hasBpiumBlock(library, r.scenario))) withoutBpium(testCase);
  return { testCase, setting };
}

/** The case's scenario's variables taken from the environment or a file, as the library's loader read them. */
function outsideVariables(library: ScenarioLibrary | undefined, scenario: string): OutsideVariable[] {
  const s = library?.scenarios.get(scenario);
  if (!s) return [];
  return [...s.variables.values()]
    .filter((v) => v.source)
    .map((v) => ({ name: v.name, from: describeSource(v.source!), secret: v.secret === true, fromFile: v.source!.file !== undefined, ...(v.source!.missing ? {} : { value: v.initial }) }));
}

function hasBpiumBlock(library: ScenarioLibrary, scenario: string): boolean {
  const s = library.scenarios.get(scenario);
  // Not in the folder (or not loading): not known to have none.
  return !s || [...s.blocks.values()].some((b) => b.kind === 'Bpium');
}

/**
 * A run whose scenarios have no Bpium block: no fake Bpium to give (`bpium: { catalogs: {} }`) and no Bpium call to
 * expect none of (`bpiumCalls: []`), which would only be noise in the case.
 */
function withoutBpium(testCase: Record<string, unknown>): void {
  const bpium = testCase.bpium as { catalogs?: object; failures?: object } | undefined;
  if (bpium && !Object.keys(bpium.catalogs ?? {}).length && !bpium.failures) delete testCase.bpium;
  const strip = (e: unknown) => {
    if (!e || typeof e !== 'object') return;
    const o = e as { bpiumCalls?: unknown; asyncStarted?: unknown };
    if (Array.isArray(o.bpiumCalls) && !o.bpiumCalls.length) delete o.bpiumCalls;
    if (Array.isArray(o.asyncStarted)) for (const a of o.asyncStarted) strip((a as { result?: unknown })?.result);
  };
  strip(testCase.expect);
}

/** Whether `scenarios/db/<connection>/` holds a migration, which every case's fresh database for it gets. */
function hasMigrations(folder: string, connection: string): boolean {
  return migrationFiles(join(folder, 'db', connection)).length > 0;
}
