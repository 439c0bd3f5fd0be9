// `test --against-runs`: webhooks a real server received and recorded in its SQLite store, replayed through the real
// binary against the scenarios as they are and against an edited copy; the runs whose letters would change are
// listed with their first difference, the others counted as the same; the selection options and their mistakes.
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSqliteStore } from '../../server/store/sqlite.store.js';
import { repoPath, tempDir } from '../helpers.js';
import { postWebhook, startTestServer, taskWebhook, waitFor, type TestServer } from '../server/server-helpers.js';
import { runCli } from './cli-process.js';
import { articleBody, recordArticleRun } from './from-run.helper.js';

describe('test --against-runs', { timeout: 120_000 }, () => {
  let t: TestServer;
  const tmp = tempDir();
  /** The hook runs, oldest first: a task for one, a task for two, an address no flow takes (404). */
  let hooks: string[] = [];
  /** A copy of the scenarios with the letter's subject changed. */
  const subject = join(tmp.dir, 'subject');
  /** A copy whose letters all go to one address (the scenario's `to:` changed). */
  const recipient = join(tmp.dir, 'recipient');

  before(async () => {
    t = await startTestServer();
    const post = async (body: string, path?: string) => (await postWebhook(t.server.url, body, t.secret, path)).status;
    assert.equal(await post(taskWebhook({ name: 'Перезвонить', responsible: ['2'] })), 200);
    assert.equal(await post(taskWebhook({ name: 'Созвон', responsible: ['2', '3'] })), 200);
    assert.equal(await post('{}', '/Other/Thing'), 404);
    await waitFor('both started jobs to succeed', async () => ((await t.server.store.listJobs({ status: 'succeeded' })).items.length === 2 ? true : undefined), 20_000);
    hooks = (await t.server.store.listRuns({ scenario: 'HTTP404' })).items.map((r) => r.id).reverse();
    assert.equal(hooks.length, 3);
    cpSync(t.scenariosDir, subject, { recursive: true });
    const tpl = join(subject, 'templates', 'bpium-new-task.subject.njk');
    writeFileSync(tpl, readFileSync(tpl, 'utf8').replace('Новая задача:', 'Задача:'));
    cpSync(t.scenariosDir, recipient, { recursive: true });
    const flow = join(recipient, 'BpiumNewTask.yaml');
    writeFileSync(flow, readFileSync(flow, 'utf8').replace(`to: '[userEmail]'`, `to: '"duty@example.com"'`));
  });
  after(async () => {
    await t.cleanup();
    tmp.cleanup();
  });

  // With the server's SMTP server configured: the replays must still send nothing (checked last).
  const against = (args: string[], scenarios = t.scenariosDir) => runCli(['test', '--against-runs', '--scenarios', scenarios, '--data-dir', t.dataDir, ...args], { SMTP_URL: `smtp://127.0.0.1:${t.smtp!.port}` });

  it('the scenarios that ran: every run the same, exit 0', () => {
    const r = against([]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stdout, `3 recorded run(s) against ${t.scenariosDir}: 3 same, 0 differ, 0 not replayable\n`);
  });

  it('a serve.json naming another zone: no warning, as each run\'s record names the zone it ran in (replayed in it)', () => {
    // The warning of serve.json's zone is for runs of older builds, which kept none (recorded-zone.test.ts).
    const file = join(t.dataDir, 'serve.json');
    const kept = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    writeFileSync(file, JSON.stringify({ pid: process.pid, url: 'http://127.0.0.1:9', signedPaths: [], startedAt: new Date().toISOString(), timeZone: 'Asia/Tokyo' }));
    try {
      for (const zone of ['Europe/Moscow', 'Asia/Tokyo']) {
        const r = runCli(['test', '--against-runs', '--scenarios', t.scenariosDir, '--data-dir', t.dataDir], { OKTELL_TZ: zone });
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.equal(r.stdout, `3 recorded run(s) against ${t.scenariosDir}: 3 same, 0 differ, 0 not replayable\n`);
        assert.doesNotMatch(r.stderr, /will differ/);
      }
    } finally {
      if (kept === undefined) rmSync(file, { force: true });
      else writeFileSync(file, kept);
    }
  });

  it('a changed subject: the two task webhooks differ at their letter\'s subject, the 404 is the same; exit 1', () => {
    const e = against([], subject);
    assert.equal(e.code, 1, e.stdout + e.stderr);
    const lines = e.stdout.trimEnd().split('\n');
    // Newest first; the task for two has a second letter that differs too.
    assert.match(lines[0]!, new RegExp(`^✗ ${hooks[1]} HTTP404 \\(\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d\\): asyncStarted\\[0\\]\\.result\\.mails\\[0\\]\\.subject: expected "Новая задача: Созвон" got "Задача: Созвон" \\(and 1 more difference\\(s\\)\\)$`));
    assert.ok(lines.some((l) => new RegExp(`^✗ ${hooks[0]} HTTP404 \\(.*\\): asyncStarted\\[0\\]\\.result\\.mails\\[0\\]\\.subject: expected "Новая задача: Перезвонить" got "Задача: Перезвонить"$`).test(l)), e.stdout);
    assert.ok(!e.stdout.includes(hooks[2]!), e.stdout);
    assert.equal(lines.at(-1), `3 recorded run(s) against ${subject}: 1 same, 2 differ, 0 not replayable`);
  });

  it('a changed recipient: the letter\'s `to` is the first difference, the scenario named as edited since the run', () => {
    const e = against(['--limit', '3'], recipient);
    assert.equal(e.code, 1, e.stdout + e.stderr);
    assert.match(e.stdout, new RegExp(`✗ ${hooks[0]} HTTP404 \\(.*\\): asyncStarted\\[0\\]\\.result\\.mails\\[0\\]\\.to\\[0\\]: expected "ivan\\.petrov@example\\.com" got "duty@example\\.com"\\n    edited since the run: BpiumNewTask\\n`));
  });

  it('a changed condition: the hooks no longer start their flow and answer nothing', () => {
    const changed = join(tmp.dir, 'condition');
    cpSync(t.scenariosDir, changed, { recursive: true });
    const flow = join(changed, 'HTTP404.yaml');
    writeFileSync(flow, readFileSync(flow, 'utf8').replace('Contains([address], "/Bpium/NewTask")', 'Contains([address], "/Bpium/NewTasks")'));
    const e = against([], changed);
    assert.equal(e.code, 1, e.stdout + e.stderr);
    assert.match(e.stdout, new RegExp(`✗ ${hooks[0]} HTTP404 \\(.*\\): returnValues\\.2: expected 200 got nothing \\(and 2 more difference\\(s\\)\\)\\n    edited since the run: HTTP404\\n`));
    assert.match(e.stdout, /: 1 same, 2 differ, 0 not replayable\n$/);
  });

  it('an edit of a letter\'s text or HTML only (its template): the runs that send it differ there, not "same"', () => {
    const text = join(tmp.dir, 'text');
    cpSync(t.scenariosDir, text, { recursive: true });
    const tpl = join(text, 'templates', 'bpium-new-task.text.njk');
    writeFileSync(tpl, `${readFileSync(tpl, 'utf8')}Новая строка\n`);
    const e = against([], text);
    assert.equal(e.code, 1, e.stdout + e.stderr);
    assert.match(e.stdout, new RegExp(`^✗ ${hooks[0]} HTTP404 \\(.*\\): asyncStarted\\[0\\]\\.result\\.mails\\[0\\]\\.text: expected a text of \\d+ line\\(s\\) got one that differs at line \\d+`, 'm'));
    assert.match(e.stdout, /^ +\+ +\d+ "Новая строка"$/m);
    assert.match(e.stdout, new RegExp(`3 recorded run\\(s\\) against ${text}: 1 same, 2 differ, 0 not replayable\\n$`));

    const html = join(tmp.dir, 'html');
    cpSync(t.scenariosDir, html, { recursive: true });
    const page = join(html, 'templates', 'bpium-new-task.html.njk');
    writeFileSync(page, readFileSync(page, 'utf8').replace('<body', '<body data-edited="1"'));
    const h = against(['--json'], html);
    assert.equal(h.code, 1, h.stdout + h.stderr);
    const report = JSON.parse(h.stdout) as { same: number; differ: number; runs: Array<{ runId: string; mismatches?: Array<{ place: string }> }> };
    assert.deepEqual([report.same, report.differ], [1, 2]);
    assert.equal(report.runs.find((x) => x.runId === hooks[0])!.mismatches![0]!.place, 'asyncStarted[0].result.mails[0].html');
  });

  it('--limit takes the newest runs; --since and --scenario select; --status completed', () => {
    const one = against(['--limit', '1'], subject);
    // The newest: the 404, the same.
    assert.equal(one.code, 0, one.stdout + one.stderr);
    assert.equal(one.stdout, `1 recorded run(s) against ${subject}: 1 same, 0 differ, 0 not replayable\n`);
    const two = against(['-n', '2'], subject);
    assert.equal(two.code, 1);
    assert.match(two.stdout, new RegExp(`✗ ${hooks[1]} `));
    assert.doesNotMatch(two.stdout, new RegExp(hooks[0]!));

    assert.equal(against(['--since', '1h'], subject).stdout.trimEnd().split('\n').at(-1), `3 recorded run(s) against ${subject}: 1 same, 2 differ, 0 not replayable`);
    const future = against(['--since', '2999-01-01T00:00'], subject);
    assert.equal(future.code, 2);
    assert.match(future.stderr, /no recorded run matches --since 2999-01-01T00:00 \(see `oktell-emu runs --data-dir .* --since 2999-01-01T00:00`/);

    // The runs the hooks started, replayed on their own: their own letters differ.
    const started = against(['--scenario', 'BpiumNewTask', '--status', 'completed'], subject);
    assert.equal(started.code, 1, started.stdout + started.stderr);
    assert.match(started.stdout, /✗ \S+ BpiumNewTask \(.*\): mails\[0\]\.subject: expected "Новая задача: Перезвонить" got "Задача: Перезвонить"/);
    assert.equal(started.stdout.trimEnd().split('\n').at(-1), `2 recorded run(s) against ${subject}: 0 same, 2 differ, 0 not replayable`);
    assert.equal(against(['--status', 'failed']).code, 2);
  });

  it('a run whose scenario the folder lacks is not replayable: listed with why; none replayable is exit 2', () => {
    const without = join(tmp.dir, 'without');
    cpSync(t.scenariosDir, without, { recursive: true });
    rmSync(join(without, 'BpiumNewTask.yaml'));
    const r = against(['--scenario', 'BpiumNewTask'], without);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`^- \\S+ BpiumNewTask \\(.*\\): not replayable: the scenarios folder ${without} has no scenario BpiumNewTask$`, 'm'));
    assert.match(r.stdout, /2 recorded run\(s\) against .*: 0 same, 0 differ, 2 not replayable\n$/);
    assert.match(r.stderr, /no run could be replayed/);
  });

  it('--json: the whole report', () => {
    const r = against(['--json'], subject);
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout) as { scenarios: string; same: number; differ: number; notReplayable: number; runs: Array<Record<string, unknown>> };
    assert.deepEqual({ ...report, runs: undefined }, { scenarios: subject, same: 1, differ: 2, notReplayable: 0, runs: undefined });
    assert.deepEqual(report.runs.map((x) => [x.runId, x.scenario, x.recordedStatus, x.result]), [
      [hooks[2], 'HTTP404', 'completed', 'same'],
      [hooks[1], 'HTTP404', 'completed', 'differs'],
      [hooks[0], 'HTTP404', 'completed', 'differs'],
    ]);
    const first = (report.runs[2]!.mismatches as Array<Record<string, unknown>>)[0];
    assert.deepEqual(first, { place: 'asyncStarted[0].result.mails[0].subject', expected: '"Новая задача: Перезвонить"', actual: '"Задача: Перезвонить"' });
    assert.match(String(report.runs[0]!.startedAt), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('a scenario a run reaches does not load: its problems are listed, no run is replayed, exit 2', () => {
    const broken = join(tmp.dir, 'broken');
    cpSync(t.scenariosDir, broken, { recursive: true });
    const flow = join(broken, 'BpiumNewTask.yaml');
    writeFileSync(flow, readFileSync(flow, 'utf8').replace('kind: SendMail', 'kind: SendMale'));
    const r = against([], broken);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /BpiumNewTask\.yaml:\d+:\d+ \S+ .*SendMale/);
    assert.match(r.stderr, /✗ 1 problem\(s\) in the scenarios the runs reach: no run was replayed/);
  });

  it('precise errors for options that do not fit', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--limit', '0'], /--limit 0: takes a number from 1 to 1000/],
      [['--limit', 'many'], /--limit many: takes a number from 1 to 1000/],
      [['--status', 'running'], /--status/],
      [['--since', 'yesterday'], /--since yesterday: expected a time \(2026-11-28T10:00\) or a duration \(30m, 2h, 7d\)/],
      [['--update'], /--against-runs writes nothing and prints its own report: it does not go with --update/],
      [['--reporter', 'junit'], /it does not go with --reporter junit/],
      [['--from-run', 'x'], /--against-runs and --from-run both choose the runs: give one/],
      [['scenarios/tests'], /--against-runs replays recorded runs, not test files: it takes no paths \(scenarios\/tests\)/],
    ];
    for (const [args, message] of cases) {
      const r = against(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
    }
    const alone = runCli(['test', '--scenario', 'HTTP404', '--scenarios', t.scenariosDir]);
    assert.equal(alone.code, 2);
    assert.match(alone.stderr, /--scenario goes with --against-runs \(it selects the recorded runs to replay\)/);
    const noStore = runCli(['test', '--against-runs', '--scenarios', t.scenariosDir, '--data-dir', join(tmp.dir, 'nothing')]);
    assert.equal(noStore.code, 2);
    assert.match(noStore.stderr, /no store at .*oktell\.sqlite/);
  });

  it('sent nothing: the SMTP server has the three letters of the webhooks, no more', () => {
    assert.equal(t.smtp!.letters.length, 3);
    assert.equal(t.smtp!.counts.rcpt, 3);
  });
});

describe('test --against-runs: runs that cannot be replayed', () => {
  it('a Bpium answer not recorded, a started job not run yet: listed with why; the others are still replayed, exit 0', { timeout: 60_000 }, async () => {
    const tmp = tempDir();
    try {
      const data = join(tmp.dir, 'var');
      const replayable = await recordArticleRun(data);
      // As a version that kept no answers recorded it: the read is there, what it got is not.
      const store = await openSqliteStore({ file: join(data, 'oktell.sqlite') });
      const at = Date.UTC(2026, 10, 29, 7, 0);
      try {
        await store.recordRun({
          id: '01old', scenario: 'BpiumNewTask', version: 'unknown', trigger: 'cli', status: 'completed', startedAt: at, finishedAt: at + 5, durationMs: 5,
          params: { 1: articleBody },
          trace: [{ block: 'getUser', effect: { kind: 'bpium', method: 'getRecord', catalogId: '3', recordId: '2' } }],
        });
        // A webhook's hook run, and the job it started, queued for a time that never comes.
        const hookStarting = async (runId: string, at: number, jobId: string) => {
          await store.recordRun({
            id: runId, scenario: 'HTTP404', version: 'unknown', trigger: 'http', status: 'completed', startedAt: at, finishedAt: at + 1, durationMs: 1,
            params: { 1: '/Bpium/NewTask', 4: articleBody },
            returnValues: { 2: 200 },
            trace: [{ block: 'startProcessing', kind: 'AsyncScenario', effect: { started: 'BpiumNewTask', runId: jobId } }],
          });
          await store.enqueueJobs([{ id: jobId, scenario: 'BpiumNewTask', params: { 1: articleBody }, parentRunId: runId, runAt: Date.UTC(2100, 0, 1) }]);
        };
        // A webhook whose started job has not run yet: the record has nothing of what the job will do.
        await hookStarting('01hook', Date.UTC(2026, 10, 28, 7, 0), '01waiting');
        // A webhook whose started job was cancelled before it ran: waiting will not make it replayable.
        await hookStarting('01gone', Date.UTC(2026, 10, 27, 7, 0), '01cancelled');
        assert.deepEqual(await store.cancelJobs({ ids: ['01cancelled'] }, { code: 'R_CANCELLED', message: 'cancelled' }), ['01cancelled']);
      } finally {
        await store.close();
      }
      const scenarios = join(tmp.dir, 'scenarios');
      cpSync(repoPath('scenarios'), scenarios, { recursive: true });
      const r = runCli(['test', '--against-runs', '--scenarios', scenarios, '--data-dir', data]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(r.stdout, [
        '- 01old BpiumNewTask (2026-11-29 10:00): not replayable: not all it read was recorded: getRecord catalog 3 record 2 (block getUser of BpiumNewTask)',
        '- 01hook HTTP404 (2026-11-28 10:00): not replayable: the job it started (BpiumNewTask, job 01waiting) has not run yet (queued): replay it once the job has run',
        '- 01gone HTTP404 (2026-11-27 10:00): not replayable: the job it started (BpiumNewTask, job 01cancelled) never ran: it was taken out of the queue (dead, R_CANCELLED); it becomes replayable only if the job is replayed (`oktell-emu replay 01cancelled`) and has run',
        `4 recorded run(s) against ${scenarios}: 1 same, 0 differ, 3 not replayable`,
        '',
      ].join('\n'));
      const json = JSON.parse(runCli(['test', '--against-runs', '--json', '--scenarios', scenarios, '--data-dir', data]).stdout) as { runs: Array<{ runId: string; result: string; reason?: string }> };
      assert.deepEqual(json.runs.map((x) => [x.runId, x.result]), [[replayable, 'same'], ['01old', 'not-replayable'], ['01hook', 'not-replayable'], ['01gone', 'not-replayable']]);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('test --against-runs: what a web request sends', () => {
  it('an edit of the body a request sends differs at its body; unedited, the same; the gateway gets no request of the replays', { timeout: 60_000 }, async () => {
    let requests = 0;
    const gateway = createServer((req, res) => {
      requests++;
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
    });
    await new Promise<void>((done) => gateway.listen(0, '127.0.0.1', done));
    const url = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}/api/messages`;
    const shipped = readFileSync(repoPath('scenarios', 'BpiumTaskChat.yaml'), 'utf8');
    const configured = shipped.replace(/chatUrl: \{ type: string, initial: ""/, `chatUrl: { type: string, initial: "${url}"`);
    assert.notEqual(configured, shipped);
    const t = await startTestServer({ extraScenarios: { 'BpiumTaskChat.yaml': configured } });
    try {
      assert.equal((await postWebhook(t.server.url, taskWebhook({ name: 'Перезвонить', responsible: ['2'] }), t.secret, '/Bpium/TaskChat')).status, 200);
      await waitFor('the chat job to succeed', async () => ((await t.server.store.listJobs({ status: 'succeeded' })).items.length === 1 ? true : undefined), 20_000);
      assert.equal(requests, 1);
      const same = runCli(['test', '--against-runs', '--scenarios', t.scenariosDir, '--data-dir', t.dataDir]);
      assert.equal(same.code, 0, same.stdout + same.stderr);
      assert.match(same.stdout, /: 1 same, 0 differ, 0 not replayable\n$/);

      const edited = join(t.dataDir, '..', 'edited');
      cpSync(t.scenariosDir, edited, { recursive: true });
      writeFileSync(join(edited, 'BpiumTaskChat.yaml'), configured.replace('"Новая задача №"', '"Задача №"'));
      const r = runCli(['test', '--against-runs', '--scenarios', edited, '--data-dir', t.dataDir]);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /^✗ \S+ HTTP404 \(.*\): asyncStarted\[0\]\.result\.httpCalls\[0\]\.body: expected "\{\\"chat\\":\\"tasks\\",\\"text\\":\\"Новая задача №\d+: Перезвонить\\"\}" got "\{\\"chat\\":\\"tasks\\",\\"text\\":\\"Задача №\d+: Перезвонить\\"\}"$/m);
      assert.equal(requests, 1);
    } finally {
      await t.cleanup();
      await new Promise((done) => gateway.close(done));
    }
  });
});
