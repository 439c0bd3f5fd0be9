// Prometheus metrics in the text exposition format: request counters, run durations, and job counts from the store.
import { readFileSync } from 'node:fs';
import type { Store } from './store/store.port.js';

/** The version in the repository's package.json (this file runs as dist/server/metrics.js or server/metrics.ts). */
function buildVersion(): string {
  try {
    const v = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown }).version;
    if (typeof v === 'string') return v;
  } catch {
    // Not found from here (another layout): said as unknown rather than failing the page.
  }
  return 'unknown';
}

/** A label value as Prometheus text takes it: backslash, quote and newline escaped. */
const labelValue = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/**
 * The scenarios folder's problems, as /-/health's `invalid` (problems) and `invalidFiles` (files) count them: a file
 * made invalid by a hot reload keeps its last good version running and /-/health stays `ok`, so an alert watches these.
 */
export function scenarioMetrics(library: { issues: ReadonlyArray<{ file: string }> }): string[] {
  return [
    "# HELP oktell_scenario_problems Problems found in the scenarios folder (/-/health's invalid): a file with three mistakes counts 3; oktell-emu validate lists them.",
    '# TYPE oktell_scenario_problems gauge',
    `oktell_scenario_problems ${library.issues.length}`,
    "# HELP oktell_scenario_files_invalid Scenario files with at least one problem (/-/health's invalidFiles); a file that became invalid while serving runs its last good version.",
    '# TYPE oktell_scenario_files_invalid gauge',
    `oktell_scenario_files_invalid ${new Set(library.issues.map((i) => i.file)).size}`,
  ];
}

/**
 * Letters of one run by outcome: `sent` went to SMTP or the outbox; `failed` were refused or not delivered; `unknown`
 * were written whole but their end never answered, so they may have been delivered (a person checks them).
 */
export interface LetterTally {
  sent: number;
  failed: number;
  unknown: number;
}

/**
 * Bpium calls of one run that went out to Bpium, by outcome: `ok` answered; `notFound` answered 404 (a record Bpium
 * lacks); `error` answered with another error (a refused login among them); `failed` got no answer after the client's
 * retries (down, a timeout, the network). A dry run's skipped write, a fake Bpium's answer and a retry's answer taken
 * from its job's journal are not counted: nothing went out.
 */
export interface BpiumTally {
  ok: number;
  notFound: number;
  error: number;
  failed: number;
}

/**
 * WebRequest calls by outcome, each call once whatever the block's retries: ok (an answer the block took as success),
 * error (an error answer: 4xx, a redirect not followed), outage (5xx, 408 or 429 still after the retries), timeout
 * (no answer in time), network_error (no connection: refused, reset, unknown host), unknown (sent, its answer lost).
 */
export interface WebTally {
  ok: number;
  error: number;
  outage: number;
  timeout: number;
  networkError: number;
  unknown: number;
}

/** The labels of oktell_web_requests_total, in the order the page lists them. */
const WEB_LABELS: ReadonlyArray<[keyof WebTally, string]> = [['ok', 'ok'], ['error', 'error'], ['outage', 'outage'], ['timeout', 'timeout'], ['networkError', 'network_error'], ['unknown', 'unknown']];

/** What one run adds to the counters: its letters, its Bpium calls and its WebRequest calls. */
export interface RunTally {
  letters: LetterTally;
  bpium: BpiumTally;
  web?: WebTally;
}

/** Counts the letters a run sent and failed to send (dry-run and replayed letters are neither) and its Bpium calls. */
export function runTally(result: {
  mails: ReadonlyArray<{ status: string }>;
  bpiumCalls?: ReadonlyArray<{ status: string; fixture?: true; httpStatus?: number; attempts?: number }>;
  httpCalls?: ReadonlyArray<{ outcome: string; status?: number; fixture?: true }>;
}): RunTally {
  const letters: LetterTally = { sent: 0, failed: 0, unknown: 0 };
  for (const m of result.mails) {
    if (m.status === 'sent') letters.sent++;
    else if (m.status === 'failed') letters.failed++;
    else if (m.status === 'unknown') letters.unknown++;
  }
  const bpium: BpiumTally = { ok: 0, notFound: 0, error: 0, failed: 0 };
  for (const c of result.bpiumCalls ?? []) {
    if (c.fixture) continue;
    if (c.status === 'ok') bpium.ok++;
    else if (c.status === 'not-found') bpium.notFound++;
    // An error the block found before any request (its own JSON, an unknown field, a bad id) is the scenario's, not Bpium's.
    else if (c.status === 'error') {
      if (c.httpStatus !== undefined || (c.attempts ?? 0) > 0) bpium.error++;
    }
    else if (c.status === 'transient' || c.status === 'timeout' || c.status === 'unknown') bpium.failed++;
  }
  const web: WebTally = { ok: 0, error: 0, outage: 0, timeout: 0, networkError: 0, unknown: 0 };
  for (const c of result.httpCalls ?? []) {
    // A fixture's answer, a dry run's skipped write and an answer taken from the journal went nowhere.
    if (c.fixture) continue;
    if (c.outcome === 'ok') web.ok++;
    // A refusal before sending (a bad URL or header, no status) is the scenario's, not the service's.
    else if (c.outcome === 'error') {
      if (c.status !== undefined) web.error++;
    }
    else if (c.outcome === 'timeout') {
      if (c.status !== undefined) web.outage++;
      else web.timeout++;
    }
    else if (c.outcome === 'network error') web.networkError++;
    else if (c.outcome === 'unknown') web.unknown++;
  }
  return { letters, bpium, web };
}

/** Logins refused (401) and requests throttled (429) by the throttle of failed logins; see Metrics.logins. */
export interface LoginTally {
  refused: number;
  throttled: number;
}

/**
 * How long a scrape waits for the store's job counts before it answers without them (`oktell_store_up 0`): a store
 * behind a network partition must not make Prometheus's scrape time out and lose every other series with it.
 */
export const METRICS_STORE_READ_MS = 3000;

type StoreGauges = { counts: Awaited<ReturnType<Store['counts']>>; due: number | undefined; paused: Awaited<ReturnType<Store['pausedScenarios']>> };


/** A store's read of the gauges still under way: a scrape while one hangs waits for it instead of adding another. */
const readsUnderWay = new WeakMap<Store, Promise<StoreGauges>>();

/**
 * The job counts and the oldest due time, or undefined when the store failed or did not answer within `ms`. A read
 * still under way from an earlier scrape (a store that hangs) is waited for rather than joined by another, so scrapes
 * every few seconds do not pile queries up in the pool the webhooks use.
 */
async function readStoreGauges(store: Store, now: number, ms: number): Promise<StoreGauges | undefined> {
  let read = readsUnderWay.get(store);
  if (read === undefined) {
    // One after the other: one connection of the pool at a time.
    read = (async () => {
      const counts = await store.counts();
      return { counts, due: await store.oldestDueAt(now), paused: await store.pausedScenarios() };
    })();
    const started = read;
    const done = () => {
      if (readsUnderWay.get(store) === started) readsUnderWay.delete(store);
    };
    // A read that fails after the time ran out is nobody's to report any more.
    read.then(done, done);
    readsUnderWay.set(store, read);
  }
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)));
  try {
    return await Promise.race([read, late]);
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The pool's outcome of a job's attempt and its label in oktell_job_attempts_total: `retry` (it failed and waits for
 * another attempt), `dead` and `failed` (a dead letter: attempts used up, or not retried), and the rare ends where the
 * attempt was not the one recorded (its lease lost to another worker, given back by a stop, its end not stored).
 */
const JOB_OUTCOMES: ReadonlyArray<readonly [string, string]> = [
  ['succeeded', 'succeeded'],
  ['queued', 'retry'],
  ['dead', 'dead'],
  ['failed', 'failed'],
  ['lease-lost', 'lease_lost'],
  ['given-back', 'given_back'],
  ['store-error', 'store_error'],
];
const JOB_OUTCOME_LABEL = new Map(JOB_OUTCOMES);

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class Metrics {
  received = 0;
  acknowledged = 0;
  rejected = new Map<number, number>();
  duplicates = 0;
  unavailable = 0;
  /**
   * The last write the store refused, until a write that adds records (a webhook, a Web-API start, the end of a job, a
   * service task's due time) is stored again (reported by /-/health), with the requests refused since the refusals
   * began and those not yet said in the log (store-refusal.ts). `endSaid`: refused again soon after the log said the
   * refusals were over; their end is not said again. `said`: the reason the last warning gave, when the latest
   * `reason` came within seconds of it and was folded into its spell; `also`: the reasons of the refusals since that warning.
   */
  storeRefused: { at: number; reason: string; said?: string; also?: string[]; loggedAt: number; refused: number; notLogged: number; endSaid?: true } | undefined;
  /**
   * The refusals a write ended last: when their last warning was logged (a refusal within 30 s of it continues them),
   * and whether that end went unsaid (the next warning then counts them).
   */
  storeRefusalEnded: { reason: string; loggedAt: number; refused: number; notLogged: number; unsaid?: true } | undefined;
  /**
   * Requests being answered right now (any route), in shared memory: the delivery thread reads it to hold back while
   * many are.
   */
  readonly inFlightCell = new Int32Array(new SharedArrayBuffer(4));
  get inFlight(): number {
    return Atomics.load(this.inFlightCell, 0);
  }
  set inFlight(n: number) {
    Atomics.store(this.inFlightCell, 0, n);
  }
  /** More metric lines from other parts (service tasks), appended to the page. */
  readonly sources: Array<() => string[]> = [];
  /** Letters by outcome since this process started, so an alert can watch for failures (a refused SMTP login…). */
  readonly letters: LetterTally = { sent: 0, failed: 0, unknown: 0 };
  /** Bpium calls by outcome since this process started (a refused login shows as errors, an outage as failures). */
  readonly bpium: BpiumTally = { ok: 0, notFound: 0, error: 0, failed: 0 };
  readonly web: WebTally = { ok: 0, error: 0, outage: 0, timeout: 0, networkError: 0, unknown: 0 };
  /**
   * Of the failed letters, those of runs that completed: refused letters a SendMail block took to its `error` exit
   * (a recipient or the message refused), which nothing retries or replays.
   */
  lettersRefused = 0;
  /**
   * Letters given up on: the failed letters of a job's last attempt, the one that made it a dead letter (its attempts
   * used up, or a failure not worth retrying). `letters.failed` counts every failed try, once per attempt of its job;
   * this counts each such letter once, when nothing will try it again until a replay.
   */
  lettersDead = 0;
  /**
   * Effects (letters, Bpium writes, web requests…) made by attempts that followed a cut-off one before their first
   * journal write: each may repeat the cut attempt's last effect, which its journal never recorded. The run record
   * marks them (`mayRepeat`) and the log names each letter's Message-ID.
   */
  effectsMayRepeat = 0;
  /**
   * Logins since this process started: `refused` answered 401 for wrong or unknown credentials (a request with no
   * Authorization at all is not a login), `throttled` answered 429 without a check by the throttle of failed logins
   * (login-throttle.ts counts both). Never by address or login: that would be personal data without bound.
   */
  readonly logins: LoginTally = { refused: 0, throttled: 0 };
  /**
   * Attempts of jobs run by this process, by what became of the job (JOB_OUTCOMES' names): the one figure that sees
   * every failing delivery, whatever failed (a letter, Bpium, a WebRequest, a database, the scenario itself).
   */
  readonly jobAttempts = new Map<string, number>(JOB_OUTCOMES.map(([, name]) => [name, 0]));
  private runs = new Map<string, { count: number; sum: number; buckets: number[] }>();
  /** When this process started (for process_start_time_seconds), and the build (for oktell_build_info). */
  private readonly startedAt = Math.round(Date.now() - performance.now());
  private readonly version = buildVersion();

  response(status: number) {
    if (status >= 200 && status < 300) this.acknowledged++;
    else this.rejected.set(status, (this.rejected.get(status) ?? 0) + 1);
  }

  /**
   * Records a finished run: its duration by outcome, the letters it sent or failed to send, its Bpium calls, and its
   * effects that may repeat those of a cut-off attempt. `jobOutcome` is what became of the job whose attempt it was
   * (the pool's outcome: `dead` or `failed` when nothing retries it); absent for a run that is no job's attempt.
   */
  run(status: string, seconds: number, tally?: RunTally, mayRepeat = 0, jobOutcome?: string) {
    this.effectsMayRepeat += mayRepeat;
    const attempt = jobOutcome === undefined ? undefined : JOB_OUTCOME_LABEL.get(jobOutcome);
    if (attempt !== undefined) this.jobAttempts.set(attempt, (this.jobAttempts.get(attempt) ?? 0) + 1);
    if (tally) {
      const { letters, bpium } = tally;
      this.bpium.ok += bpium.ok;
      this.bpium.notFound += bpium.notFound;
      this.bpium.error += bpium.error;
      this.bpium.failed += bpium.failed;
      for (const [key] of WEB_LABELS) this.web[key] += tally.web?.[key] ?? 0;
      this.letters.sent += letters.sent;
      this.letters.failed += letters.failed;
      this.letters.unknown += letters.unknown;
      // A run that completed with a failed letter went on through the block's error exit (any other failure fails it).
      if (status === 'completed') this.lettersRefused += letters.failed;
      if (jobOutcome === 'dead' || jobOutcome === 'failed') this.lettersDead += letters.failed;
    }
    let h = this.runs.get(status);
    if (!h) this.runs.set(status, (h = { count: 0, sum: 0, buckets: BUCKETS.map(() => 0) }));
    h.count++;
    h.sum += seconds;
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]!) h.buckets[i]!++;
  }

  /**
   * The page. The store is only read for the job gauges: when it fails or does not answer within `storeReadMs`, the
   * page is still whole, with `oktell_store_up 0` and those gauges left out, so that a store outage shows as such
   * instead of failing the scrape (and the process's own counters with it).
   */
  async render(store: Store, now = Date.now(), storeReadMs = METRICS_STORE_READ_MS): Promise<string> {
    const read = await readStoreGauges(store, now, storeReadMs);
    const lines = [
      '# HELP oktell_build_info The build this process runs (its version), always 1.',
      '# TYPE oktell_build_info gauge',
      `oktell_build_info{version="${labelValue(this.version)}",node="${labelValue(process.version)}"} 1`,
      '# HELP process_start_time_seconds When this process started, in seconds since 1970 UTC.',
      '# TYPE process_start_time_seconds gauge',
      `process_start_time_seconds ${Math.floor(this.startedAt / 1000)}`,
      '# HELP oktell_webhooks_received_total Requests that reached the HTTP404 hook.',
      '# TYPE oktell_webhooks_received_total counter',
      `oktell_webhooks_received_total ${this.received}`,
      '# HELP oktell_webhooks_acknowledged_total Hook requests answered with a 2xx status after being stored.',
      '# TYPE oktell_webhooks_acknowledged_total counter',
      `oktell_webhooks_acknowledged_total ${this.acknowledged}`,
      '# HELP oktell_webhooks_answered_total Hook requests answered with a status other than 2xx.',
      '# TYPE oktell_webhooks_answered_total counter',
      ...[...this.rejected].map(([s, n]) => `oktell_webhooks_answered_total{status="${s}"} ${n}`),
      '# HELP oktell_webhooks_duplicates_total Repeated Bpium deliveries recognised and not run again.',
      '# TYPE oktell_webhooks_duplicates_total counter',
      `oktell_webhooks_duplicates_total ${this.duplicates}`,
      '# HELP oktell_store_unavailable_total Requests refused with 503 because the store could not take them.',
      '# TYPE oktell_store_unavailable_total counter',
      `oktell_store_unavailable_total ${this.unavailable}`,
      "# HELP oktell_letters_total Tries to send a letter by runs of this process, by outcome: sent (handed to SMTP or the outbox; a letter sent is not sent again by its job's later attempts), failed (not delivered: counted once per attempt, so a letter its job tries 5 times counts 5; oktell_letters_dead_total counts the letters given up on), unknown (written whole, their end never answered).",
      '# TYPE oktell_letters_total counter',
      `oktell_letters_total{outcome="sent"} ${this.letters.sent}`,
      `oktell_letters_total{outcome="failed"} ${this.letters.failed}`,
      `oktell_letters_total{outcome="unknown"} ${this.letters.unknown}`,
      "# HELP oktell_letters_refused_total Failed letters whose run completed: refused by the SMTP server (a recipient or the message) or invalid, taken to SendMail's error exit, so nothing retries or replays them.",
      '# TYPE oktell_letters_refused_total counter',
      `oktell_letters_refused_total ${this.lettersRefused}`,
      "# HELP oktell_letters_dead_total Letters given up on: failed in the last attempt of a job that became a dead letter (attempts used up, or a failure not retried), once per job that gives it up (a replay that fails again counts it again); they wait for a replay.",
      '# TYPE oktell_letters_dead_total counter',
      `oktell_letters_dead_total ${this.lettersDead}`,
      "# HELP oktell_effects_maybe_repeated_total Effects made by a job's attempt after an attempt of it was cut off (killed, stopped, lease lost) before its first journal write: each may repeat the cut attempt's last, unjournaled effect (a letter sent twice). The runs mark them (mayRepeat).",
      '# TYPE oktell_effects_maybe_repeated_total counter',
      `oktell_effects_maybe_repeated_total ${this.effectsMayRepeat}`,
      "# HELP oktell_bpium_calls_total Bpium API calls made by runs of this process, by outcome: ok; not_found (404, a record Bpium lacks); error (another error answer: a refused login, a licence, a bad request); failed (no answer after the client's retries: Bpium down, a timeout). A dry run's skipped writes, fixtures' answers and answers a retried job took from its journal are not counted.",
      '# TYPE oktell_bpium_calls_total counter',
      `oktell_bpium_calls_total{outcome="ok"} ${this.bpium.ok}`,
      `oktell_bpium_calls_total{outcome="not_found"} ${this.bpium.notFound}`,
      `oktell_bpium_calls_total{outcome="error"} ${this.bpium.error}`,
      `oktell_bpium_calls_total{outcome="failed"} ${this.bpium.failed}`,
      "# HELP oktell_web_requests_total WebRequest calls made by runs of this process, by outcome, each once whatever the block's retries: ok; error (an error answer: 4xx, a redirect not followed); outage (5xx, 408 or 429 still after the retries); timeout (no answer within the block's timeout); network_error (no connection: refused, reset, unknown host); unknown (sent, the answer lost). Fixtures' answers, a dry run's skipped writes, answers a retried job took from its journal and requests refused before sending (a bad URL or header) are not counted.",
      '# TYPE oktell_web_requests_total counter',
      ...WEB_LABELS.map(([key, label]) => `oktell_web_requests_total{outcome="${label}"} ${this.web[key]}`),
      '# HELP oktell_logins_refused_total Requests answered 401 for wrong or unknown credentials (a request with no Authorization is not counted), on every route.',
      '# TYPE oktell_logins_refused_total counter',
      `oktell_logins_refused_total ${this.logins.refused}`,
      '# HELP oktell_logins_throttled_total Requests answered 429 without their credentials being checked: their address (or the login they tried) was past OKTELL_LOGIN_FAILURE_LIMIT failed logins within a minute.',
      '# TYPE oktell_logins_throttled_total counter',
      `oktell_logins_throttled_total ${this.logins.throttled}`,
      "# HELP oktell_job_attempts_total Attempts of jobs run by this process, by what became of the job: succeeded; retry (failed, another attempt follows); dead (failed with its attempts used up, or in a way no retry mends: a refused setting, an effect of unknown outcome; a dead letter); failed (failed for good, not retried: a dead letter too); lease_lost, given_back, store_error (the attempt's end was not the one recorded). Any failure counts, whatever failed: a letter, Bpium, a WebRequest, a database, the scenario.",
      '# TYPE oktell_job_attempts_total counter',
      ...[...this.jobAttempts].filter(([name, n]) => n > 0 || JOB_OUTCOMES.findIndex(([, l]) => l === name) < 4).map(([name, n]) => `oktell_job_attempts_total{outcome="${name}"} ${n}`),
      `# HELP oktell_store_up 1 when this scrape read the job counts from the store; 0 when the store failed or did not answer within ${storeReadMs / 1000} s (oktell_jobs and oktell_queue_oldest_due_seconds are then left out of the page).`,
      '# TYPE oktell_store_up gauge',
      `oktell_store_up ${read ? 1 : 0}`,
      "# HELP oktell_jobs Jobs by status, in the whole store (on PostgreSQL past 10,000 jobs, succeeded is the database's estimate; the others are always exact).",
      '# TYPE oktell_jobs gauge',
      ...(read ? Object.entries(read.counts.jobs).map(([s, n]) => `oktell_jobs{status="${s}"} ${n}`) : []),
      '# HELP oktell_queue_oldest_due_seconds How long the queued job due the longest has waited for a worker since it became due (0 when none is due): jobs waiting for a retry later are not due, so a rise means work that could run does not (a stuck backlog).',
      '# TYPE oktell_queue_oldest_due_seconds gauge',
      ...(read ? [`oktell_queue_oldest_due_seconds ${read.due === undefined ? 0 : Math.max(0, (now - read.due) / 1000)}`] : []),
      '# HELP oktell_scenario_paused_queued_jobs Each paused scenario (oktell-emu pause) with its queued jobs, which no server on the store starts until it is resumed; no sample when none is paused. Its jobs are not in oktell_queue_oldest_due_seconds.',
      '# TYPE oktell_scenario_paused_queued_jobs gauge',
      ...(read ? read.paused.map((p) => `oktell_scenario_paused_queued_jobs{scenario="${labelValue(p.scenario)}"} ${p.queued}`) : []),
      '# HELP oktell_run_duration_seconds Duration of scenario runs by outcome.',
      '# TYPE oktell_run_duration_seconds histogram',
    ];
    for (const [status, h] of this.runs) {
      BUCKETS.forEach((b, i) => lines.push(`oktell_run_duration_seconds_bucket{status="${status}",le="${b}"} ${h.buckets[i]}`));
      lines.push(`oktell_run_duration_seconds_bucket{status="${status}",le="+Inf"} ${h.count}`);
      lines.push(`oktell_run_duration_seconds_sum{status="${status}"} ${h.sum}`);
      lines.push(`oktell_run_duration_seconds_count{status="${status}"} ${h.count}`);
    }
    for (const source of this.sources) lines.push(...source());
    return `${lines.join('\n')}\n`;
  }
}
