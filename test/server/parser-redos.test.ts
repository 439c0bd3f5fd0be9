// Security finding S5: a Parser in regex mode matches an administrator's pattern over the request body. With
// JavaScript's backtracking engine a pattern with nested quantifiers, (a+)+$, over a crafted body of a few dozen
// characters kept the server's one thread busy for minutes (no deadline interrupts a synchronous match): every
// webhook and the health check stalled. Patterns now run on RE2, linear in the text. The server runs as its own
// process, so the old behaviour makes this test fail (the request is abandoned) instead of freezing the test runner.
// A leftover of RE2: count, all and an index from the end search once per match, so a pattern whose every match reads
// on to the end of the text is quadratic (seconds for 20 KB); each extraction now has a time budget (regexBudgetMs).
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli, startServeProcess } from '../cli/cli-process.js';
import { tempDir } from '../helpers.js';
import { AUTH, runAsyncJob, startTestServer } from './server-helpers.js';

const SNIFF = `variables: { body: string, nested: number, words: number, lead: string }
start: save
blocks:
  save:
    kind: InputParameter
    params: { body: 4 }
    exits: { next: parse }
  parse:
    kind: Parser
    mode: regex
    document: '[body]'
    extract:
      nested: { pattern: '(a+)+$', function: count }
      words: { pattern: '(\\w+\\s?)*$', function: count }
      lead: '^(a{3})'
    exits: { success: answer }
  answer:
    kind: ReturnValue
    values: { 1: '[nested] + "|" + [words] + "|" + [lead]', 2: 200 }
`;

// Every number makes the optional group read on to the end of the text for a ";" that never comes.
const SCAN = `variables: { body: string, numbers: number, err: string }
start: save
blocks:
  save:
    kind: InputParameter
    params: { body: 4 }
    exits: { next: parse }
  parse:
    kind: Parser
    mode: regex
    document: '[body]'
    extract:
      numbers: { pattern: '(\\d+)(?:[^;]*;)?', function: count }
    errorVariable: err
    exits: { success: answer, error: refuse }
  answer:
    kind: ReturnValue
    values: { 1: '[numbers]', 2: 200 }
  refuse:
    kind: ReturnValue
    values: { 1: '[err]', 2: 422 }
`;

// The same count over a text the scenario makes itself (13 doublings of "1 ": 16 KB), so the Web-API can start it.
const SCAN_BUILT = `variables: { text: string, i: number, numbers: number, err: string }
start: seed
blocks:
  seed:
    kind: Variable
    set: { text: '"1 "', i: 0 }
    exits: { next: grow }
  grow:
    kind: Variable
    set: { text: '[text] + [text]', i: '[i] + 1' }
    exits: { next: enough }
  enough:
    kind: Condition
    expression: '[i] < 13'
    exits: { true: grow, false: parse }
  parse:
    kind: Parser
    mode: regex
    document: '[text]'
    extract:
      numbers: { pattern: '(\\d+)(?:[^;]*;)?', function: count }
    errorVariable: err
    exits: { success: answer, error: answer }
  answer:
    kind: ReturnValue
    values: { 1: '[err]' }
`;

describe('a Parser regex with nested quantifiers over a crafted body (S5)', () => {
  it('answers the request with the matches, and the server keeps answering', { timeout: 120_000 }, async () => {
    const tmp = tempDir();
    const scenarios = join(tmp.dir, 'scenarios');
    mkdirSync(scenarios);
    writeFileSync(join(scenarios, 'Sniff.yaml'), SNIFF);
    const serve = await startServeProcess({ dataDir: join(tmp.dir, 'var'), args: ['--scenarios', scenarios], env: { OKTELL_USERS: 'u:p', OKTELL_HOOK_SCENARIO: 'Sniff' } });
    try {
      // 40 KB of "a" that almost match: the "!" at the end makes a backtracking engine try every split of the run.
      const body = `${'a'.repeat(40_000)}!`;
      const authorization = `Basic ${Buffer.from('u:p').toString('base64')}`;
      // Not a speed check: a guard so a stalled server fails this test instead of hanging it.
      const res = await fetch(`${serve.url}/sniff`, { method: 'POST', headers: { authorization, 'content-type': 'text/plain' }, body, signal: AbortSignal.timeout(60_000) });
      assert.equal(res.status, 200);
      // (a+)+$ finds nothing (the text ends in "!"), (\w+\s?)*$ finds the empty match at the end, ^(a{3}) its group.
      assert.equal(await res.text(), '0|1|aaa');
      assert.equal((await fetch(`${serve.url}/-/health`, { signal: AbortSignal.timeout(60_000) })).status, 200);
    } finally {
      await serve.stop();
      tmp.cleanup();
    }
  });

  it('a count whose every match reads to the end of a 20 KB body stops at the regex budget: the webhook gets the error exit\'s answer, the run record says why, the next requests are answered', { timeout: 120_000 }, async () => {
    const tmp = tempDir();
    const scenarios = join(tmp.dir, 'scenarios');
    const dataDir = join(tmp.dir, 'var');
    mkdirSync(scenarios);
    writeFileSync(join(scenarios, 'Scan.yaml'), SCAN);
    // The default budget (no OKTELL_REGEX_BUDGET_MS): the server's settings as shipped.
    const serve = await startServeProcess({ dataDir, args: ['--scenarios', scenarios], env: { OKTELL_USERS: 'u:p', OKTELL_HOOK_SCENARIO: 'Scan' } });
    const authorization = `Basic ${Buffer.from('u:p').toString('base64')}`;
    // Guards so a stalled server fails this test instead of hanging it, not speed checks.
    const post = (body: string) => fetch(`${serve.url}/scan`, { method: 'POST', headers: { authorization, 'content-type': 'text/plain' }, body, signal: AbortSignal.timeout(60_000) });
    try {
      const slow = await post('1 '.repeat(10_000));
      assert.equal(slow.status, 422);
      const reason = await slow.text();
      assert.match(reason, /^block "parse": the regex `\(\\d\+\)\(\?:\[\^;\]\*;\)\?` \(count for numbers\) ran out of the run's 100 ms regex budget over a text of 20000 characters; .* raise regexBudgetMs \(OKTELL_REGEX_BUDGET_MS\)$/);
      // The server keeps answering: the health check, and the same scenario over a body with the ";" it looks for.
      assert.equal((await fetch(`${serve.url}/-/health`, { signal: AbortSignal.timeout(60_000) })).status, 200);
      const quick = await post('1; 2; 3;');
      assert.equal(quick.status, 200);
      assert.equal(await quick.text(), '3');
    } finally {
      await serve.stop();
    }
    // The run completed (the error exit is the scenario's answer), so the server's log says the budget ran out: one
    // warning, for the first webhook only, with the run's id and the block.
    const log = serve.stdout() + serve.stderr();
    const warned = log.split('\n').filter((l) => l.includes("ran out of the run's 100 ms regex budget"));
    assert.equal(warned.length, 1, log);
    assert.match(warned[0]!, /"block":"parse"/);
    assert.match(warned[0]!, /"limitMs":100/);
    try {
      // The stored run of the first webhook (runs are listed newest first): the Parser took its error exit, the reason
      // in its trace.
      const runs = JSON.parse(runCli(['runs', '--scenario', 'Scan', '--json', '--data-dir', dataDir]).stdout) as Array<{ id: string }>;
      assert.equal(runs.length, 2);
      const shown = runCli(['show', runs[1]!.id, '--json', '--data-dir', dataDir]);
      const run = JSON.parse(shown.stdout) as { status: string; trace: Array<{ block: string; exit: string; notes?: string[] }> };
      assert.equal(run.status, 'completed');
      const parse = run.trace.find((t) => t.block === 'parse');
      assert.equal(parse?.exit, 'error');
      assert.match(parse?.notes?.join('\n') ?? '', /ran out of the run's 100 ms regex budget/);
    } finally {
      tmp.cleanup();
    }
  });

  it('the budget of the configuration file (regexBudgetMs) reaches runs on the main thread and on the delivery thread', { timeout: 120_000 }, async () => {
    const t = await startTestServer({ config: 'regexBudgetMs: 30\n', env: { OKTELL_DELIVERY_THREAD: 'on', OKTELL_REGEX_BUDGET_MS: '' }, extraScenarios: { 'ScanBuilt.yaml': SCAN_BUILT } });
    try {
      const expected = /^block "parse": the regex .* ran out of the run's 30 ms regex budget over a text of 16384 characters; /;
      // The Web-API's plain call runs on the main thread.
      const plain = await fetch(`${t.server.url}/execsvcscriptplain?name=ScanBuilt`, { headers: { authorization: AUTH } });
      assert.equal(plain.status, 200);
      assert.match(await plain.text(), expected);
      // async=1 makes it a job, run by the delivery thread with ports of its own.
      const run = await runAsyncJob(t, 'ScanBuilt');
      assert.match(run.workerId ?? '', /\/t\d+:/, 'run by the delivery thread');
      assert.match(String((run.returnValues as Record<string, unknown>)['1']), expected);
    } finally {
      await t.cleanup();
    }
  });
});
