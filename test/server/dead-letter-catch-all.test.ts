// The dead-letter catch-all through a real server: a job started over the Web-API whose letter the real SMTP server on
// loopback defers (451) on every attempt dies; the catch-all DeadLetter (found by its file, no setting) is queued in
// the same write and writes to the admin, its letter parsed with mailparser; a replay of the dead job that then
// delivers starts no second one. A catch-all whose own letter is deferred too stays dead and starts no other (no
// loop), with one warning. No setting and no DeadLetter file, or the setting `off`: nothing is started. A setting that
// names no loaded scenario is warned of at the start, at its file:line:col, with the name meant.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { smtpError } from '../mail/smtp-server.helper.js';
import { repoPath } from '../helpers.js';
import { AUTH, capturingLogger, parsedLetters, startTestServer, waitFor, type TestServer } from './server-helpers.js';

const FLAKY = `description: Writes to the shop's desk, whose mail server defers it.
variables: { order: string }
start: begin
blocks:
  begin: { kind: Start, param: order, exits: { next: mail } }
  mail:
    kind: SendMail
    to: '"desk@shop.example"'
    subject: '"Order " + [order]'
    text: '"order " + [order]'
    exits: { success: done, error: done }
  done:
    kind: ReturnValue
    values: { 1: '"sent"' }
`;

const DEAD_LETTER = `description: Tells the admin of every job given up on.
variables: { body: string }
start: begin
blocks:
  begin: { kind: Start, exits: { next: compose } }
  compose:
    kind: Variable
    set:
      body: '"job " + InputParameter(1) + " of " + InputParameter(2) + " is " + InputParameter(7) + " after " + InputParameter(4) + " attempt(s): " + InputParameter(3) + "; params " + InputParameter(5) + "; at " + InputParameter(6) + "; last run " + InputParameter(8)'
    exits: { next: mail }
  mail:
    kind: SendMail
    to: '"admin@example.com"'
    subject: '"Dead letter: " + InputParameter(2)'
    text: '[body]'
    exits: { success: done, error: done }
  done:
    kind: ReturnValue
    values: { 1: '"told"' }
`;

/** A catch-all that hands the telling on to a job of its own (TellOps), as AsyncScenario starts one. */
const HANDING_ON = `description: Hands every job given up on to TellOps.
start: begin
blocks:
  begin: { kind: Start, exits: { next: start } }
  start:
    kind: AsyncScenario
    scenario: TellOps
    params: { 1: InputParameter(1) }
    exits: { next: done }
  done: { kind: Stop }
`;

const RETRIES = 'workers: { baseDelayMs: 20, maxDelayMs: 40, maxAttempts: 2 }\n';

async function startFlaky(t: TestServer, order: string): Promise<string> {
  const res = await fetch(`${t.server.url}/execsvcscriptplain?name=Flaky&startparam1=${encodeURIComponent(order)}&async=1`, { headers: { authorization: AUTH } });
  assert.equal(res.status, 200, await res.text());
  return res.headers.get('x-oktell-run-id')!;
}

const deadLetterJobs = async (t: TestServer) => (await t.server.store.listJobs({ scenario: 'DeadLetter', limit: 100 })).items;

describe('the dead-letter catch-all, through a real server', () => {
  it('a job that dies starts DeadLetter once, which writes to the admin; a replay that delivers starts no second one', { timeout: 60_000 }, async () => {
    let deskDown = true;
    const t = await startTestServer({
      smtp: { rcpt: (address) => (deskDown && address === 'desk@shop.example' ? smtpError(451, 'try again later') : undefined) },
      config: RETRIES,
      extraScenarios: { 'Flaky.yaml': FLAKY, 'DeadLetter.yaml': DEAD_LETTER },
    });
    try {
      assert.equal(t.server.config.deadLetter?.scenario, 'DeadLetter', 'DeadLetter.yaml in the folder turns it on');
      const id = await startFlaky(t, 'A-17');
      const letters = await waitFor('the letter to the admin', async () => {
        const all = await parsedLetters(t.smtp!);
        return all.some((l) => l.subject === 'Dead letter: Flaky') ? all : undefined;
      }, 30_000);
      const dead = (await t.server.store.getJob(id))!;
      assert.equal(dead.status, 'dead');
      const toAdmin = letters.filter((l) => l.subject === 'Dead letter: Flaky');
      assert.equal(toAdmin.length, 1);
      const text = toAdmin[0]!.text!.trim();
      assert.match(text, new RegExp(`^job ${id} of Flaky is dead after 2 attempt\\(s\\): .+; params \\{"1":"A-17"\\}; at \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z; last run ${dead.lastRunId}$`));
      const [catchAll, ...more] = await deadLetterJobs(t);
      assert.deepEqual(more, [], 'one catch-all job');
      assert.deepEqual(catchAll!.trigger, { deadLetterOf: id });
      const done = await waitFor('the catch-all succeeded', async () => ((await t.server.store.getJob(catchAll!.id))?.status === 'succeeded' ? true : undefined));
      assert.ok(done);
      // `runs` lists its run as any other.
      const runs = spawnSync(process.execPath, [repoPath('bin', 'oktell-emu.js'), 'runs', '--scenario', 'DeadLetter', '--data-dir', t.dataDir, '--json'], { encoding: 'utf8', env: { ...process.env, OKTELL_SCENARIOS: t.scenariosDir } });
      assert.equal(runs.status, 0, runs.stderr);
      assert.match(runs.stdout, /"scenario": ?"DeadLetter"/);

      // `show <dead job id>` names the catch-all it started.
      const show = spawnSync(process.execPath, [repoPath('bin', 'oktell-emu.js'), 'show', id, '--data-dir', t.dataDir], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', OKTELL_SCENARIOS: t.scenariosDir } });
      assert.equal(show.status, 0, show.stderr);
      assert.match(show.stdout, new RegExp(`^  the dead-letter catch-all was started for it as job ${catchAll!.id}: npx oktell-emu show ${catchAll!.id}`, 'm'));
      // So does the console's page of its last run, with a link to the catch-all's runs.
      const page = await (await fetch(`${t.server.url}/-/console/runs/${dead.lastRunId}`, { headers: { authorization: AUTH } })).text();
      assert.match(page, new RegExp(`the dead-letter catch-all was started for it as job <a href="[^"]*/runs\\?job=${catchAll!.id}"><code>${catchAll!.id}</code></a>`));

      // The desk's mail server is back: the replay delivers, and nobody is told again.
      deskDown = false;
      const r = spawnSync(process.execPath, [repoPath('bin', 'oktell-emu.js'), 'replay', id, '--data-dir', t.dataDir, '--json'], { encoding: 'utf8', env: { ...process.env, OKTELL_SCENARIOS: t.scenariosDir } });
      assert.equal(r.status, 0, r.stderr);
      await waitFor('the replay delivered', async () => ((await t.server.store.getJob(id))?.status === 'succeeded' ? true : undefined), 20_000);
      assert.equal((await deadLetterJobs(t)).length, 1, 'a replay that succeeds starts no catch-all');
      assert.equal((await parsedLetters(t.smtp!)).filter((l) => l.subject === 'Dead letter: Flaky').length, 1);
    } finally {
      await t.cleanup();
    }
  });

  it('a catch-all that dies too stays dead, starts no other, and is warned of once', { timeout: 60_000 }, async () => {
    const log = capturingLogger();
    const t = await startTestServer({
      smtp: { rcpt: () => smtpError(451, 'everything is down') },
      config: RETRIES,
      logger: log.logger,
      extraScenarios: { 'Flaky.yaml': FLAKY, 'DeadLetter.yaml': DEAD_LETTER },
    });
    try {
      const id = await startFlaky(t, 'B-2');
      const ownLine = () => log.lines.filter((l) => l.level === 'warn' && /dead-letter catch-all's own line/.test(l.msg ?? ''));
      const warned = await waitFor('the warning that the catch-all died', () => (ownLine().length ? ownLine() : undefined), 30_000);
      assert.equal(warned.length, 1);
      const [catchAll, ...more] = await deadLetterJobs(t);
      assert.deepEqual(more, []);
      assert.equal((await t.server.store.getJob(catchAll!.id))?.status, 'dead');
      assert.equal(warned[0]!.obj.jobId, catchAll!.id);
      // The job that died, and its catch-all: no third job. The warning is logged after the write that gave the catch-all up.
      const all = (await t.server.store.listJobs({ limit: 100 })).items.map((j) => j.id).sort();
      assert.deepEqual(all, [id, catchAll!.id].sort());
      const queued = log.lines.filter((l) => l.level === 'info' && /the dead-letter catch-all was queued/.test(l.msg ?? ''));
      assert.equal(queued.length, 1, 'one catch-all queued, for the first death');
      assert.equal(queued[0]!.obj.catchAllJob, catchAll!.id);
    } finally {
      await t.cleanup();
    }
  });

  // The catch-all's line crosses the delivery thread's boundary: the claimed job's trigger reaches the thread's pool,
  // and the child it starts is enqueued through the thread's store proxy still marked as of the line.
  for (const thread of ['off', 'on'] as const) {
    it(`OKTELL_DELIVERY_THREAD=${thread}: a job the catch-all starts with AsyncScenario that dies starts no catch-all either`, { timeout: 60_000 }, async () => {
      const log = capturingLogger();
      const t = await startTestServer({
        smtp: { rcpt: () => smtpError(451, 'everything is down') },
        config: RETRIES,
        logger: log.logger,
        env: { OKTELL_DELIVERY_THREAD: thread },
        extraScenarios: { 'Flaky.yaml': FLAKY, 'DeadLetter.yaml': HANDING_ON, 'TellOps.yaml': FLAKY.replace("desk@shop.example", 'ops@example.com') },
      });
      try {
        const id = await startFlaky(t, 'D-4');
        const ownLine = () => log.lines.filter((l) => l.level === 'warn' && /dead-letter catch-all's own line \(TellOps\)/.test(l.msg ?? ''));
        const [warned] = await waitFor('the warning that the catch-all\'s child died', () => (ownLine().length ? ownLine() : undefined), 40_000);
        const jobs = (await t.server.store.listJobs({ limit: 100 })).items;
        const catchAll = jobs.find((j) => j.scenario === 'DeadLetter');
        const child = jobs.find((j) => j.scenario === 'TellOps');
        assert.deepEqual(catchAll?.trigger, { deadLetterOf: id });
        assert.deepEqual(child?.trigger, { parentJob: catchAll!.id, catchAllLine: true });
        assert.equal(child?.status, 'dead');
        assert.equal(warned!.obj.jobId, child!.id);
        // The job that died, its catch-all and the catch-all's child: no catch-all for the child.
        assert.deepEqual(jobs.map((j) => j.scenario).sort(), ['DeadLetter', 'Flaky', 'TellOps']);
      } finally {
        await t.cleanup();
      }
    });
  }

  for (const how of ['no setting and no DeadLetter file', 'OKTELL_DEAD_LETTER_SCENARIO=off beside a DeadLetter file'] as const) {
    it(`${how}: a job that dies starts nothing`, { timeout: 60_000 }, async () => {
      const off = how.startsWith('OKTELL');
      const t = await startTestServer({
        smtp: { rcpt: () => smtpError(451, 'try again later') },
        config: RETRIES,
        extraScenarios: { 'Flaky.yaml': FLAKY, ...(off ? { 'DeadLetter.yaml': DEAD_LETTER } : {}) },
        ...(off ? { env: { OKTELL_DEAD_LETTER_SCENARIO: 'off' } } : {}),
      });
      try {
        assert.equal(t.server.config.deadLetter, undefined);
        const id = await startFlaky(t, 'C-3');
        await waitFor('the job dead', async () => ((await t.server.store.getJob(id))?.status === 'dead' ? true : undefined), 30_000);
        // The catch-all would have been queued in the write that made it dead.
        assert.deepEqual((await t.server.store.listJobs({ limit: 100 })).items.map((j) => j.id), [id]);
      } finally {
        await t.cleanup();
      }
    });
  }

  it('a setting that names no loaded scenario is warned of at the start, at its place in the file, with the name meant', { timeout: 30_000 }, async () => {
    const log = capturingLogger();
    const t = await startTestServer({
      smtp: false,
      env: { SMTP_URL: '' },
      logger: log.logger,
      config: `retentionDays: 30\ndeadLetterScenario: DeadLeter\n`,
      extraScenarios: { 'DeadLetter.yaml': DEAD_LETTER },
    });
    try {
      const w = t.server.warnings.find((x) => x.includes('dead-letter catch-all'));
      assert.ok(w, t.server.warnings.join('\n'));
      assert.match(w, /oktell\.config\.yaml:2:21: the dead-letter catch-all DeadLeter \(OKTELL_DEAD_LETTER_SCENARIO or deadLetterScenario\) is not among the scenarios loaded from .* — did you mean DeadLetter\?/);
      assert.ok(log.lines.some((l) => l.level === 'warn' && l.msg === w));
    } finally {
      await t.cleanup();
    }
  });
});
