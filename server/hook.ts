// The HTTP404 hook, apart from any HTTP framework: a request in (method, address, headers, body), an answer out
// (status, headers, body). The fast node:http route (hook-listener.ts) and the express route (app.ts, for requests
// the fast route hands over) both call `answerHook`, so the two can never answer differently.
import { verifyBpiumSignature } from '../adapters/bpium/signature.js';
import { clipText, runScenario, type RunResult, type Value } from '../engine/index.js';
import type { AppDeps } from './app.js';
import { hookSecret } from './config.js';
import { checkStandardWebhook, isStandardSecret, STANDARD_TOLERANCE_MS, standardDeliveryKey } from './standard-webhooks.js';
import { addressRedactor, bpiumDeliveryKey, bpiumTimestamp, credentialRedactor, fromSender, hookAddress, hookHeaders, hookParams, hookResponse, onRoute, unknownCharset, type HookAddress, type HookHeaders } from './hook-request.js';
import { runWrite } from './run-record.js';
import { untraced } from './trace-setting.js';
import { loggedTarget } from './log-target.js';
import { collectingStarter } from './starters.js';
import { StoreUnavailableError } from './store/store.errors.js';
import { noteStoreRefusal, noteStoreTakesWrites } from './store-refusal.js';
import type { DeliveryOriginal, InboxEntryInput, RecordRequestResult } from './store/store.port.js';
import { claimDelivery } from './hook-in-flight.js';
import { runTally } from './metrics.js';

export interface HookInput {
  method: string;
  /** The address as sent: path and query. */
  url: string;
  /** The path without the query. */
  path: string;
  rawHeaders: readonly string[];
  /** A header's value by its lower-case name. */
  header(name: string): string | undefined;
  /** The client's address (after `trust proxy`), or null. */
  ip: string | null;
  /** The login the request authenticated as: on a route without a secret, deliveries are deduplicated per login. */
  login: string;
  body: Buffer;
  /** Whether the client has gone (its connection closed): a copy that waited for another then neither runs nor is stored. */
  clientGone?: () => boolean;
}

export interface HookAnswer {
  status: number;
  /** Its media type; the body is always sent as UTF-8. */
  contentType: string;
  body: string;
  headers: Record<string, string | string[]>;
  /** The hook run, for the request's log line. */
  runId?: string;
  /**
   * The delivery key of a verified request that has one (Bpium's `bpium:<hook id>:<sequenceId>@<route>`, `#<login>` on
   * a route without a secret; a Standard Webhooks sender's `webhook:<id>@<route>`), for the request's log line: whether
   * or not the inbox entry keeps it.
   */
  deliveryKey?: string;
}

/** A plain-text answer of the server's own (a refusal, an error), not the scenario's. */
export const textAnswer = (status: number, body: string, headers: Record<string, string> = {}): HookAnswer => ({ status, contentType: 'text/plain', body, headers });

/**
 * The answer to a hook request whose HTTP404 run had not ended when a stop's grace period did. The run ends with the
 * process, and the request is stored only if it ends before then: a resend is answered from the store then, and runs
 * HTTP404 again otherwise (its effects, a letter say, may repeat, as after a kill).
 */
export const SHUT_DOWN_MID_RUN = '503 Service Unavailable: the server is shutting down and the hook scenario of this request had not ended; retry later\n';

/**
 * The methods the hook takes (its `Allow` on a 405): every one but HEAD, whose answer has no body (the usual ones are
 * listed; any other method, PROPFIND or a sender's own, runs the hook too). Answering a HEAD as
 * a GET would be answered means running the hook scenario with all its effects (a job it starts, a letter, a database
 * write) for an answer nobody reads, which an uptime probe, a link checker or a proxy checking a saved URL must not
 * cause: it is refused before anything runs or is stored, as the Web-API refuses it.
 */
export const HOOK_METHODS = 'GET, POST, PUT, PATCH, DELETE, OPTIONS';

/** Runs the hook for one request and stores it (with its jobs) before the answer is given. */
export async function answerHook(d: AppDeps, req: HookInput): Promise<HookAnswer> {
  if (req.method === 'HEAD' && d.config.hook.head === 'refuse') {
    d.metrics.received++;
    d.metrics.response(405);
    return textAnswer(405, `405 Method Not Allowed: HEAD does not run the hook scenario ${d.config.hook.scenario} (its effects would happen for an answer without a body); send the webhook with POST or GET, and probe the server with GET or HEAD /-/health\n`, { Allow: HOOK_METHODS });
  }
  d.metrics.received++;
  if (!d.accepting()) return textAnswer(503, '503 Service Unavailable: the server is shutting down\n', { 'Retry-After': '5' });
  try {
    const answering = storeAndAnswer(d, req);
    // A stop lets the answer be given (within its grace period): the run may be taking turns with other work. One
    // still not ready when the grace period ends is answered now, so that the port closes without waiting for it.
    const cutShort = d.syncRuns?.hold(answering);
    const outcome = await Promise.race([answering, ...(cutShort ? [cutShort] : [])]);
    if (outcome !== 'cut') return outcome;
    d.metrics.response(503);
    return textAnswer(503, SHUT_DOWN_MID_RUN, { 'Retry-After': '5' });
  } catch (err) {
    if (!(err instanceof StoreUnavailableError)) throw err;
    noteStoreRefusal(d, err, 'webhook');
    return textAnswer(503, '503 Service Unavailable: the store cannot take requests right now; retry later\n', { 'Retry-After': String(err.retryAfterSeconds) });
  }
}

async function storeAndAnswer(d: AppDeps, req: HookInput): Promise<HookAnswer> {
  const body = req.body;
  const receivedAt = Date.now();
  const guard = hookSecret(d.config.webhookSecrets, req.path, req.url);
  const headers = hookHeaders(req.rawHeaders);
  // Kept and shown with credentials in the query masked. Nothing runs HTTP404 again from the inbox (a job's retry or
  // replay has its own parameters), so the stored copy needs no real value.
  const address = hookAddress(req.url);
  const inboxBase = { receivedAt, method: req.method, path: address.stored, headers: headers.stored, body, remoteAddress: req.ip };
  // A secret written whsec_… selects the Standard Webhooks scheme for its route (webhook-id, -timestamp, -signature).
  const standard = guard !== undefined && isStandardSecret(guard.secret);
  const sentSignature = req.header(standard ? 'webhook-signature' : 'x-hook-signature');
  if (guard !== undefined) {
    const refusal = standard ? standardRefusal(d, guard.secret, req, receivedAt) : !verifyBpiumSignature(guard.secret, body, sentSignature)
      ? { signature: 'invalid' as const, why: 'X-Hook-Signature is missing or does not match', stored: 'invalid signature' }
      : staleness(d.config.webhookMaxAgeMs, body, receivedAt);
    if (refusal) {
      await d.store.recordRequest({ inbox: { ...inboxBase, signature: refusal.signature, dedupKey: null, response: { status: 401, body: refusal.stored } } });
      const sent = refusal.signature === 'valid' ? 'valid' : sentSignature ? 'wrong' : 'missing';
      d.logger.warn({ ...loggedTarget(req.url), ip: req.ip, signature: sent }, `webhook refused: ${refusal.why}`);
      d.metrics.response(401);
      return textAnswer(401, `401 Unauthorized: ${refusal.why}\n`);
    }
  }
  const signature = guard !== undefined ? 'valid' : 'absent';
  const inbox: StoredRequest = { ...inboxBase, signature };
  // Only a verified request reaches this line, and its key names its route: a request to another path (signed or
  // not) can neither claim nor be answered from this route's deliveries. Without a secret it names the login too.
  const delivery = standard && guard ? { key: standardDeliveryKey(req.header('webhook-id') ?? '', guard.route) } : await deliveryKey(d, body, guard?.route, req.path, req.login);
  if (delivery.key === null) return runAndStore(d, req, inbox, headers, address, null);
  return { ...(await answerDelivery(d, req, inbox, headers, address, delivery as { key: string; original?: DeliveryOriginal })), deliveryKey: delivery.key };
}

/** Answers a verified request that has a delivery key: from its original, or by running HTTP404 while it holds the key. */
async function answerDelivery(d: AppDeps, req: HookInput, inbox: StoredRequest, headers: HookHeaders, address: HookAddress, delivery: { key: string; original?: DeliveryOriginal }): Promise<HookAnswer> {
  if (answered(delivery.original)) return answerAsBefore(d, inbox, delivery.key, delivery.original);
  // Taken before the look-up and, when HTTP404 is to run, held until this request is stored or refused, so a resend
  // arriving meanwhile waits for it instead of running HTTP404 beside it. A duplicate gives it back at once.
  const claim = await claimDelivery(d.store, delivery.key, req.clientGone ? { clientGone: req.clientGone } : {});
  if (claim === 'busy') {
    d.metrics.response(503);
    d.logger.warn({ dedupKey: delivery.key, ...loggedTarget(req.url) }, 'another copy of this delivery is still being handled; this one is refused with 503 so its sender retries');
    return textAnswer(503, '503 Service Unavailable: another copy of this delivery is still being handled; retry later\n', { 'Retry-After': '5' });
  }
  if (claim === 'gone') return textAnswer(503, '503 Service Unavailable: the client left\n');
  try {
    if (answered(claim.original)) {
      claim.release();
      return await answerAsBefore(d, inbox, delivery.key, claim.original);
    }
    return await runAndStore(d, req, inbox, headers, address, delivery.key);
  } finally {
    claim.release();
  }
}

/** The inbox entry of a request that passed the signature checks, but for its key and answer. */
type StoredRequest = Omit<InboxEntryInput, 'dedupKey' | 'response' | 'signature'> & { signature: 'valid' | 'absent' };

/** An original stored with the answer it got: enough to answer its duplicates without running HTTP404. */
type AnsweredEntry = DeliveryOriginal & { responseStatus: number };

/**
 * Whether a delivery's original can answer for it. One stored without its answer (by a tool, or by a build that did
 * not keep answers) cannot: the request runs HTTP404 as before, and the store records it as a duplicate after.
 */
const answered = (original: DeliveryOriginal | undefined): original is AnsweredEntry => original !== undefined && original.responseStatus !== null;

/**
 * A delivery stored before: answered with its original's status and body without running HTTP404, so none of the
 * scenario's own effects (a letter, a Bpium write, a web request) happen again. It is still stored, as a duplicate
 * entry pointing at the original, with the answer it got; it has no run of its own, so `X-Oktell-Run-Id` names the
 * original's run (the one that made this answer), or is left out when the original has none. Neither the content type
 * nor the scenario's own headers (`hook.returns.headers`) are stored (the inbox has a status and a body column only):
 * the answer is plain text without them, as docs/server.md says.
 */
async function answerAsBefore(d: AppDeps, inbox: StoredRequest, dedupKey: string, original: AnsweredEntry): Promise<HookAnswer> {
  const response = { status: original.responseStatus, body: original.responseBody ?? '' };
  // The original may have been pruned since the look-up; the request is then stored as a new original with this
  // answer, and later resends are answered from it. It is still answered as the duplicate it was when looked up.
  const stored = await d.store.recordRequest({ inbox: { ...inbox, dedupKey, response } });
  noteStoreTakesWrites(d);
  const originalId = stored.duplicate ? stored.inboxId : original.id;
  countDuplicate(d, dedupKey, originalId);
  d.metrics.response(response.status);
  const runId = original.runId ?? undefined;
  const headers: Record<string, string> = { 'X-Oktell-Duplicate-Of': String(originalId) };
  if (runId) headers['X-Oktell-Run-Id'] = runId;
  return { status: response.status, contentType: 'text/plain; charset=utf-8', body: response.body, headers, ...(runId ? { runId } : {}) };
}

function countDuplicate(d: AppDeps, dedupKey: string, original: number): void {
  d.metrics.duplicates++;
  d.logger.info({ dedupKey, original }, 'duplicate delivery: answered as before, nothing started again');
}

/** Runs HTTP404 for the request and stores the request with its run and jobs (or as a duplicate, if the store says so). */
async function runAndStore(d: AppDeps, req: HookInput, inbox: StoredRequest, headers: HookHeaders, address: HookAddress, dedupKey: string | null): Promise<HookAnswer> {
  const params = hookParams(d.config.hook.params, { url: req.url, headers: headers.scenario, method: req.method, body: req.body, contentType: req.header('content-type') }, inbox.signature);
  const starter = collectingStarter(d.ports.ids, { hook: req.path });
  const charset = unknownCharset(req.body, req.header('content-type'));
  const result = await runScenario(d.host.library(), d.config.hook.scenario, { params, timeZone: d.config.timeZone, limits: { maxEffects: d.config.maxEffectsPerRun }, ports: { ...d.ports, asyncStarter: starter } });
  d.metrics.run(result.status, result.durationMs / 1000, runTally(result));
  const response = hookResponse(result, d.config.hook.returns, d.config.timeZone);
  if (response.problem) d.logger.warn({ runId: result.runId, scenario: result.scenario }, `hook answer replaced by 500: ${response.problem}`);
  if (charset !== undefined) warnUnknownCharset(d, charset, result.runId);
  const { problem: _problem, ...answer } = response;
  const key = dedupKey !== null && (claimsKey(response.status, starter.jobs.length) || (await storedMeanwhile(d, dedupKey))) ? dedupKey : null;
  // A worker with room takes the jobs as they are stored, already claimed: no claim, no wait for the next poll.
  const reservation = starter.jobs.length ? d.workers.reserve?.(starter.jobs.length) : undefined;
  let stored: RecordRequestResult | undefined;
  try {
    stored = await d.store.recordRequest({
      inbox: { ...inbox, dedupKey: key, response: { status: response.status, body: clipText(response.body, 4096) } },
      run: runWrite(withCharsetNote(storedResult(untraced(result, d.config.traceKept), headers, address), charset, d.config.hook.params.body), { trigger: 'http', timeZone: d.config.timeZone, params: storedParams(params, d.config.hook.params, headers, address), budgetBytes: d.config.runRecordBytes, traceKept: d.config.traceKept }),
      jobs: starter.jobs,
      ...(reservation ? { lease: reservation.lease } : {}),
    });
  } finally {
    reservation?.take(stored && !stored.duplicate ? (stored.leased ?? []) : []);
  }
  noteStoreTakesWrites(d);
  if (stored.duplicate) {
    // Another server stored the same delivery while this one ran HTTP404 (or the original kept no answer): the run
    // happened, but its jobs are dropped and the answer is the original's.
    countDuplicate(d, dedupKey!, stored.inboxId);
    const status = stored.original.responseStatus ?? response.status;
    return ran(d, result, { status, contentType: response.contentType, body: stored.original.responseBody ?? response.body, headers: { 'X-Oktell-Duplicate-Of': String(stored.inboxId) } });
  }
  if (stored.jobIds.length > (stored.leased?.length ?? 0)) d.workers.wake();
  return ran(d, result, { ...answer, headers: answer.headers ?? {} });
}

/**
 * Whether a delivery, answered so, takes its key: later copies are then its duplicates. One that was acknowledged
 * (2xx) does, and so does one that started jobs whatever its answer (running it again would start them twice). One
 * the scenario refused or failed (a 503 "try later", a 500 from a failed run) and that started nothing does not: the
 * sender was told it did not go through, so a resend runs HTTP404 again and may succeed, instead of getting the same
 * refusal for as long as the key is kept. What that run did itself before it failed happens again.
 */
export function claimsKey(status: number, jobs: number): boolean {
  return (status >= 200 && status < 300) || jobs > 0;
}

/**
 * Whether the delivery's original was stored while this copy ran and failed (by another server on the same
 * PostgreSQL): the copy is then stored with the key, as its duplicate, and answered as the original was rather than
 * with its own refusal. Asked only on that failure path.
 */
async function storedMeanwhile(d: AppDeps, dedupKey: string): Promise<boolean> {
  return answered(await d.store.findByDedupKey(dedupKey));
}

/**
 * The delivery key of a verified request, and its original when the look-up under an old key found one. Under the
 * secret of every path (route `*`) keys used to name the request path (`bpium:1:6@/Bpium/NewTask`); they now name
 * `*`. Without a secret, keys used to name the path alone; they now name the sender's login too
 * (`bpium:1:6@/echo#hooky`). A delivery whose original was stored under the old key, on this same path, keeps that
 * key, so a resend within the dedup window after an upgrade is still a duplicate. An old key without a login does not
 * say who sent its delivery: until retention prunes it, it answers for a resend from any login, as it did before.
 */
async function deliveryKey(d: AppDeps, body: Buffer, route: string | undefined, path: string, login: string): Promise<{ key: string | null; original?: DeliveryOriginal }> {
  const key = bpiumDeliveryKey(body, route ?? path);
  if (key === null) return { key };
  if (route === undefined) {
    const own = fromSender(key, login);
    // A store known to hold no key in an old form (a new one, or one whose old keys have left) needs no second look-up.
    if (d.pathDeliveryKeys === false) return { key: own };
    const original = await d.store.findByDedupKey(key);
    return original !== undefined ? { key, original } : { key: own };
  }
  if (route !== '*' || d.pathDeliveryKeys === false) return { key };
  const legacy = onRoute(key, path);
  const original = await d.store.findByDedupKey(legacy);
  return original !== undefined ? { key: legacy, original } : { key };
}

/**
 * The parameters as the run record keeps them: the headers parameter with credential-named values redacted, and the
 * address with credential-named query values masked, as in the inbox (the scenario got them whole: it may check a
 * sender's token the server does not).
 */
function storedParams(params: Record<string, Value>, slots: { headers: number; address: number }, headers: HookHeaders, address: HookAddress): Record<string, Value> {
  let stored = params;
  if (headers.stored !== headers.scenario) stored = { ...stored, [slots.headers]: headers.stored };
  if (address.stored !== address.scenario) stored = { ...stored, [slots.address]: address.stored };
  return stored;
}

/**
 * The run as recorded: the credential-named headers' values redacted in its trace (variables set from the headers
 * parameter, Condition notes, return values), and the address's query credentials masked, as in the inbox and the
 * stored parameters. The inbox keeps the answer as sent (it answers a re-delivery of the same webhook).
 */
function storedResult(result: RunResult, headers: HookHeaders, address: HookAddress): RunResult {
  if (headers.credentials.length === 0 && address.credentials.length === 0) return result;
  const byHeaders = credentialRedactor(headers);
  const byAddress = addressRedactor(address);
  const redact = (text: string): string => byAddress(byHeaders(text));
  const trace = result.trace.map((s) => {
    let changed: typeof s.changed | undefined;
    for (const [k, v] of Object.entries(s.changed ?? {})) {
      if (typeof v !== 'string') continue;
      const r = redact(v);
      if (r !== v) (changed ??= { ...s.changed })[k] = r;
    }
    const notes = s.notes?.map(redact);
    const notesChanged = notes !== undefined && notes.some((n, i) => n !== s.notes![i]);
    return changed || notesChanged ? { ...s, ...(changed ? { changed } : {}), ...(notesChanged ? { notes } : {}) } : s;
  });
  const returnValues = Object.fromEntries(Object.entries(result.returnValues).map(([k, v]) => [k, typeof v === 'string' ? redact(v) : v]));
  return { ...result, returnValues, trace };
}

/** Charset labels already warned of, per server (its logger): each unknown label is logged once, up to a bound. */
const WARNED_CHARSETS = new WeakMap<object, Set<string>>();
const WARNED_CHARSETS_LIMIT = 100;

/**
 * A hook body declared in a charset the server does not know (`charset=x-unknown-cs`) was decoded as UTF-8, and its
 * bytes outside ASCII are likely U+FFFD in the scenario's parameter: logged as a warning the first time a label is met
 * (a sender sends the same one with every webhook). The answer is still the scenario's, as in Oktell.
 */
function warnUnknownCharset(d: AppDeps, charset: string, runId: string): void {
  let warned = WARNED_CHARSETS.get(d.logger);
  if (!warned) WARNED_CHARSETS.set(d.logger, (warned = new Set()));
  if (warned.has(charset) || warned.size >= WARNED_CHARSETS_LIMIT) return;
  warned.add(charset);
  d.logger.warn({ charset, runId }, `hook body in an unknown charset "${charset}" decoded as UTF-8 (input parameter ${d.config.hook.params.body} may hold U+FFFD; the inbox keeps the bytes as sent); logged once for this label`);
}

/** The run as recorded, with a note on its first step that the body's charset was unknown and UTF-8 was used. */
function withCharsetNote(result: RunResult, charset: string | undefined, param: number): RunResult {
  const first = result.trace[0];
  if (charset === undefined || !first) return result;
  const note = `the request's body declares charset "${charset}", which the server does not know: input parameter ${param} is the body decoded as UTF-8 (the inbox keeps the bytes as sent)`;
  return { ...result, trace: [{ ...first, notes: [note, ...(first.notes ?? [])] }, ...result.trace.slice(1)] };
}

function ran(d: AppDeps, result: RunResult, a: HookAnswer): HookAnswer {
  d.metrics.response(a.status);
  return { ...a, headers: { ...a.headers, 'X-Oktell-Run-Id': result.runId }, runId: result.runId };
}

/**
 * Why a request to a route with a Standard Webhooks secret is refused (headers missing, no matching signature, a
 * timestamp outside the window: the configured freshness window, else the scheme's 5 minutes), or undefined.
 */
function standardRefusal(d: AppDeps, secret: string, req: HookInput, now: number): { signature: 'invalid' | 'valid'; why: string; stored: string } | undefined {
  const refusal = checkStandardWebhook(secret, { id: req.header('webhook-id'), timestamp: req.header('webhook-timestamp'), signature: req.header('webhook-signature'), body: req.body }, now, d.config.webhookMaxAgeMs ?? STANDARD_TOLERANCE_MS);
  if (refusal === undefined) return undefined;
  return { signature: refusal.stored === 'invalid signature' ? 'invalid' : 'valid', ...refusal };
}

/**
 * Why a signed webhook is refused as too old or too new for the freshness window (a replay of a captured delivery),
 * or undefined when the window is off or the timestamp is inside it.
 */
function staleness(maxAgeMs: number | undefined, body: Buffer, now: number): { signature: 'valid'; why: string; stored: string } | undefined {
  if (maxAgeMs === undefined) return undefined;
  const ts = bpiumTimestamp(body);
  const limit = `the limit is ${maxAgeMs / 60_000} minute(s)`;
  if (ts === undefined) return { signature: 'valid', why: `the webhook has no readable "timestamp" and ${limit}`, stored: 'no timestamp' };
  const skewMs = now - ts * 1000;
  if (Math.abs(skewMs) <= maxAgeMs) return undefined;
  const minutes = Math.round(Math.abs(skewMs) / 60_000);
  const when = skewMs > 0 ? `${minutes} minute(s) old` : `${minutes} minute(s) in the future`;
  return { signature: 'valid', why: `the webhook's timestamp is ${when}; ${limit}`, stored: 'stale timestamp' };
}
