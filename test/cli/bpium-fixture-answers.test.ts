// A Bpium call a fixture file answered reached no Bpium: recorded `performed: false` with `fixture: true` and shown
// "(not sent, fixture)" by `run`, `show` and the console's list, as a web request a fixture answered is
// (test/web/fixture-answers.test.ts). A call to a real Bpium (the emulator over HTTP) is recorded as before.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startBpiumEmulator, type BpiumEmulator } from '../../bpium-emulator/emulator.js';
import { bpiumCallNote } from '../../server/console/call-notes.js';
import type { BpiumCallRecord, TraceStep } from '../../engine/index.js';
import { repoPath, tempDir } from '../helpers.js';
import { runCliAsync } from './cli.helper.js';

/** getRecord of the user given as parameter 1: its name and the error code as return values. */
const USER = `variables: { name: string, code: string }
start: get
blocks:
  get:
    kind: Bpium
    method: getRecord
    catalog: '"3"'
    record: InputParameter(1)
    fields: { name: '"1"' }
    errorCode: code
    exits: { success: r, error: r, timeout: r }
  r: { kind: ReturnValue, values: { 1: '[name]', 2: '[code]' } }
`;

/** A dry-run write: the fixture only gives the structure its field ids are checked against. */
const WRITE = `variables: { newId: string }
start: add
blocks:
  add: { kind: Bpium, method: createRecord, catalog: '"3"', values: { "1": '"Новый"' }, newId: newId, exits: { success: r } }
  r: { kind: ReturnValue, values: { 1: '[newId]' } }
`;

const docs = readFileSync(repoPath('docs', 'cli.md'), 'utf8');

/** The fixture example of docs/cli.md's `run` section (catalog 3 with user 2, and a 500 scripted for record 99). */
function docsFixture(): string {
  const block = /a fake Bpium kept in memory[^\n]*\n\n {2}```yaml\n([\s\S]*?) {2}```/.exec(docs)?.[1];
  assert.ok(block, 'docs/cli.md shows a Bpium fixture file');
  return block.replace(/^ {2}/gm, '');
}

type Out = { runId: string; returnValues: Record<string, unknown>; bpiumCalls: BpiumCallRecord[]; trace: TraceStep[] };
const effectOf = (out: Out) => out.trace.find((s) => s.kind === 'Bpium')?.effect as Record<string, unknown> | undefined;

describe('a Bpium call answered by a fixture is not performed', () => {
  const tmp = tempDir();
  const scenarios = join(tmp.dir, 'scenarios');
  let emu: BpiumEmulator;
  before(async () => {
    emu = await startBpiumEmulator({ port: 0, dataDir: join(tmp.dir, 'bpium') });
    mkdirSync(join(scenarios, 'tests'), { recursive: true });
    writeFileSync(join(scenarios, 'User.yaml'), USER);
    writeFileSync(join(scenarios, 'Write.yaml'), WRITE);
    writeFileSync(join(tmp.dir, 'fx.yaml'), docsFixture());
  });
  after(async () => {
    await emu.close();
    tmp.cleanup();
  });
  // No Bpium from the environment unless one is given; `show` takes no scenarios folder.
  const cli = (args: string[], env: Record<string, string> = {}) =>
    runCliAsync([...args, ...(args[0] === 'show' ? [] : ['-s', scenarios]), '--data-dir', join(tmp.dir, 'var')], {
      cwd: tmp.dir,
      env,
      unset: ['OKTELL_SCENARIOS', ...(env.BPIUM_URL ? [] : ['BPIUM_URL', 'BPIUM_LOGIN', 'BPIUM_PASSWORD'])],
      timeoutMs: 60_000,
    });

  it('run --dry-run --bpium-fixtures: the read is performed: false, fixture: true, "(not sent, fixture)", as docs/cli.md shows it', { timeout: 120_000 }, async () => {
    const json = await cli(['run', 'User', '-p', '1=2', '--dry-run', '--bpium-fixtures', 'fx.yaml', '--json']);
    assert.equal(json.code, 0, json.stdout + json.stderr);
    const out = JSON.parse(json.stdout) as Out;
    assert.deepEqual(out.returnValues, { 1: 'Иван Петров', 2: '' });
    assert.deepEqual(out.bpiumCalls.map((c) => [c.method, c.recordId, c.status, c.performed, c.fixture, bpiumCallNote(c)]), [['getRecord', '2', 'ok', false, true, 'not sent, fixture']]);
    assert.equal(effectOf(out)?.fixture, true, 'the trace step says so too');
    const text = await cli(['run', 'User', '-p', '1=2', '--dry-run', '--bpium-fixtures', 'fx.yaml']);
    assert.equal(text.code, 0, text.stdout + text.stderr);
    const line = '  bpium getRecord catalog 3 record 2 → ok (not sent, fixture)';
    assert.ok(text.stdout.split('\n').includes(line), text.stdout);
    assert.ok(docs.includes(`\n  ${line}\n`), 'docs/cli.md shows the same line (indented in its list item)');
  });

  it('a failure the fixture scripts (a 500) came from no Bpium either: performed: false, fixture: true', { timeout: 120_000 }, async () => {
    const r = await cli(['run', 'User', '-p', '1=99', '--dry-run', '--bpium-fixtures', 'fx.yaml', '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout) as Out;
    assert.deepEqual(out.returnValues, { 1: '', 2: '500' });
    assert.deepEqual(out.bpiumCalls.map((c) => [c.status, c.httpStatus, c.performed, c.fixture, bpiumCallNote(c)]), [['transient', 500, false, true, 'not sent, fixture']]);
    assert.equal(effectOf(out)?.fixture, true);
    const text = await cli(['run', 'User', '-p', '1=99', '--dry-run', '--bpium-fixtures', 'fx.yaml']);
    assert.match(text.stdout, /\n {2}bpium getRecord catalog 3 record 99 → transient \(not sent, fixture\) fixture: Bpium answered 500\n/);
  });

  it('a dry-run write stays "(not performed)": the fixture checked its ids but gave no answer', { timeout: 120_000 }, async () => {
    const r = await cli(['run', 'Write', '--dry-run', '--bpium-fixtures', 'fx.yaml', '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout) as Out;
    assert.deepEqual(out.bpiumCalls.map((c) => [c.method, c.status, c.performed, c.fixture, bpiumCallNote(c)]), [['createRecord', 'dry-run', false, undefined, 'not performed']]);
  });

  it('a read a real Bpium (the emulator over HTTP) answered is performed, without the mark', { timeout: 120_000 }, async () => {
    const r = await cli(['run', 'User', '-p', '1=2', '--dry-run', '--json'], { BPIUM_URL: emu.url, BPIUM_LOGIN: emu.login, BPIUM_PASSWORD: emu.password });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout) as Out;
    assert.deepEqual(out.bpiumCalls.map((c) => [c.status, c.performed, c.fixture, bpiumCallNote(c)]), [['ok', true, undefined, '']]);
    assert.equal(effectOf(out)?.fixture, undefined);
  });

  it('a live run with --bpium-fixtures is recorded so: show marks the call, and its --from-run case passes', { timeout: 120_000 }, async () => {
    const live = await cli(['run', 'User', '-p', '1=2', '--bpium-fixtures', 'fx.yaml', '--json']);
    assert.equal(live.code, 0, live.stdout + live.stderr);
    const { runId } = JSON.parse(live.stdout) as Out;
    const stored = await cli(['show', runId, '--json']);
    assert.equal(stored.code, 0, stored.stdout + stored.stderr);
    const record = JSON.parse(stored.stdout) as { bpiumCalls: BpiumCallRecord[] };
    assert.deepEqual(record.bpiumCalls.map((c) => [c.status, c.performed, c.fixture]), [['ok', false, true]]);
    const shown = await cli(['show', runId]);
    assert.match(shown.stdout, /\n {2}bpium getRecord 3\/2 → ok \(not sent, fixture\)\n/);
    const made = await cli(['test', '--from-run', runId, '--name', 'fixture read']);
    assert.equal(made.code, 0, made.stdout + made.stderr);
    assert.match(made.stdout, /1 passed, 0 failed\n$/);
  });

  it('a scenario test: the case expecting performed: false of its bpium: fixture passes', { timeout: 120_000 }, async () => {
    writeFileSync(
      join(scenarios, 'tests', 'user.test.yaml'),
      `cases:
  - name: user 2
    scenario: User
    params: { 1: "2" }
    bpium: { catalogs: { "3": { records: { "2": { "1": Иван Петров } } } } }
    expect:
      returnValues: { 1: Иван Петров }
      bpiumCalls: [ { method: getRecord, recordId: "2", status: ok, performed: false } ]
`,
    );
    const r = await cli(['test', 'scenarios/tests/user.test.yaml']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /1 passed, 0 failed\n$/);
  });
});
