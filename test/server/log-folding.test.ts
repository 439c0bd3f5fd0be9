// The outage log (server/log-folding.ts) on its own, with a clock the test moves: the first failure of a kind in full,
// its repeats counted and summed up once per window, a dead letter always on its own line, another kind of failure
// counted apart, the service answering again said once with what failed meanwhile, and a stop that sums up the rest.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createOutageLog } from '../../server/log-folding.js';
import { loadServerConfig } from '../../server/config.js';
import type { LogLine } from '../../engine/index.js';
import { tempDir } from '../helpers.js';
import { capturingLogger } from './server-helpers.js';

const SMTP = 'SMTP smtp://127.0.0.1:2525';
const refused = { target: SMTP, kind: 'ECONNECTION' };
const letter = (n: number): LogLine => ({ level: 'warn', obj: { messageId: `<m${n}@x>`, transport: 'smtp' }, msg: 'letter not sent: cannot connect to the SMTP server 127.0.0.1:2525' });
const run = (job: string, dead = false): LogLine => ({ level: dead ? 'error' : 'warn', obj: { jobId: job, outcome: dead ? 'dead' : 'queued' }, msg: `run BpiumNewTask failed (${dead ? 'dead letter' : 'will retry'})` });

function setup() {
  const log = capturingLogger();
  let t = 1_000_000;
  const outages = createOutageLog(log.logger, { windowMs: 30_000, now: () => t, timer: false });
  const loud = () => log.lines.filter((l) => l.level !== 'debug');
  return { log, outages, loud, advance: (ms: number) => void (t += ms) };
}

/** One failed attempt of `job`: the letter's line, then the job's. */
function attempt(outages: ReturnType<typeof createOutageLog>, job: string, n: number, dead = false) {
  outages.effectFailed(refused, letter(n));
  outages.attemptFailed(refused, run(job, dead), { id: job, givenUp: dead });
}

describe('the outage log', () => {
  it('writes the first failure in full, counts the repeats and sums them up once per window', () => {
    const { log, outages, loud, advance } = setup();
    attempt(outages, 'j1', 1);
    // The first attempt: the letter's line says what is failing and that repeats are summed up; the job's line follows.
    assert.deepEqual(loud().map((l) => l.level), ['warn', 'warn']);
    assert.match(loud()[0]!.msg!, /^letter not sent: .*; SMTP smtp:\/\/127\.0\.0\.1:2525 is failing \(ECONNECTION\): further failures of this kind are summed up every 30 s until it answers again$/);
    assert.equal(loud()[0]!.obj.outage, SMTP);
    assert.equal(loud()[1]!.msg, 'run BpiumNewTask failed (will retry)');
    assert.equal(loud()[1]!.obj.jobId, 'j1');

    for (let n = 2; n <= 5; n++) attempt(outages, n % 2 ? 'j1' : 'j2', n);
    // Repeats within the window: at debug, each still there for OKTELL_LOG_LEVEL=debug.
    assert.equal(loud().length, 2);
    assert.equal(log.lines.filter((l) => l.level === 'debug').length, 8);

    advance(31_000);
    attempt(outages, 'j3', 6);
    const summary = loud()[2]!;
    assert.equal(summary.level, 'warn');
    // The repeat that came after the window brings the summary: its letter is counted in it, its job's line in the next.
    assert.match(summary.msg!, /^SMTP smtp:\/\/127\.0\.0\.1:2525 still failing \(ECONNECTION\): 4 more failed attempt\(s\) of 2 job\(s\), 5 more letter\(s\) not sent in the last 31 s$/);
    assert.equal(loud().length, 3);
  });

  it('keeps each dead letter on its own line and counts it in the summary; another kind starts its own count', () => {
    const { outages, loud, advance } = setup();
    attempt(outages, 'j1', 1);
    attempt(outages, 'j1', 2, true);
    attempt(outages, 'j2', 3, true);
    const dead = loud().filter((l) => /dead letter/.test(l.msg ?? ''));
    assert.deepEqual(dead.map((l) => [l.level, l.obj.jobId]), [['error', 'j1'], ['error', 'j2']]);
    // A 421 is another kind of failure: its first line is in full too.
    const busy = { target: SMTP, kind: '421' };
    outages.effectFailed(busy, { level: 'warn', obj: {}, msg: 'letter not sent: 421 too busy' });
    assert.match(loud().at(-1)!.msg!, /^letter not sent: 421 too busy; .* is failing \(421\)/);
    advance(30_000);
    outages.flush();
    const summaries = loud().filter((l) => /still failing/.test(l.msg ?? ''));
    assert.equal(summaries.length, 1, 'the 421 has no repeat to sum up');
    assert.match(summaries[0]!.msg!, /: 2 more failed attempt\(s\) of 2 job\(s\), 2 more letter\(s\) not sent in the last 30 s; 2 job\(s\) given up \(dead letters, each logged on its own line\); said at the stop, the outage not over$/);
    assert.deepEqual([summaries[0]!.obj.attempts, summaries[0]!.obj.givenUp], [2, 2]);
  });

  it('says the service reachable again once, with what failed meanwhile, after summing up what was not said', () => {
    const { outages, loud, advance } = setup();
    outages.reached(SMTP); // nothing failing: nothing said
    assert.equal(loud().length, 0);
    attempt(outages, 'j1', 1);
    attempt(outages, 'j1', 2);
    advance(202_000);
    attempt(outages, 'j2', 3, true);
    attempt(outages, 'j3', 4);
    advance(1000);
    outages.reached(SMTP);
    outages.reached(SMTP);
    const lines = loud().map((l) => l.msg ?? '');
    const recovery = loud().filter((l) => /reachable again/.test(l.msg ?? ''));
    assert.equal(recovery.length, 1, lines.join('\n'));
    assert.equal(recovery[0]!.level, 'info');
    assert.equal(recovery[0]!.msg, 'SMTP smtp://127.0.0.1:2525 reachable again after 3 min 23 s; 4 attempt(s) failed meanwhile (1 job(s) given up as dead letters), 4 letter(s) not sent');
    assert.deepEqual([recovery[0]!.obj.attempts, recovery[0]!.obj.letters, recovery[0]!.obj.givenUp], [4, 4, 1]);
    // The summaries and the first line add up to the recovery's count.
    const summed = loud().filter((l) => /still failing/.test(l.msg ?? '')).reduce((n, l) => n + Number(l.obj.attempts), 0);
    assert.equal(summed + 1, 4);
    // A failure after it is a new outage: in full again.
    attempt(outages, 'j4', 5);
    assert.match(loud().at(-2)!.msg!, /is failing \(ECONNECTION\)/);
  });
});

describe('OKTELL_LOG_REPEATS_MS', () => {
  const windowOf = (env: Record<string, string>) => {
    const tmp = tempDir();
    try {
      return loadServerConfig({}, env, tmp.dir).logRepeatsMs;
    } finally {
      tmp.cleanup();
    }
  };
  for (const [value, expected] of [[undefined, 30_000], ['', 30_000], ['0', 0], ['1000', 1000], ['3600000', 3_600_000]] as const) {
    it(`${JSON.stringify(value)} → ${expected}`, () => assert.equal(windowOf(value === undefined ? {} : { OKTELL_LOG_REPEATS_MS: value }), expected));
  }
  for (const [value, message] of [
    ['500', /OKTELL_LOG_REPEATS_MS="500" must be 0 \(log every failure of an outage on its own line\) or from 1000 to 3600000 milliseconds/],
    ['3600001', /OKTELL_LOG_REPEATS_MS="3600001" must be a whole number, from 0 to 3600000/],
    ['30s', /OKTELL_LOG_REPEATS_MS="30s" must be a whole number/],
  ] as const) {
    it(`${value} is refused with what it must be`, () => assert.throws(() => windowOf({ OKTELL_LOG_REPEATS_MS: value }), message));
  }
});
