// The Bpium block against the real client and the Bpium emulator over HTTP: retries show in the trace, 404 takes
// the error exit, an outage fails the run as retryable, and writes reach the emulator.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createBpiumClient, type BpiumClient } from '../../adapters/bpium/client.js';
import { createFixtureBpium } from '../../adapters/fixtures/bpium-fixtures.adapter.js';
import { defaultRegistry } from '../../components/registry.js';
import { createInProcessStarter, loadScenarioLibrary, randomIds, runScenario, systemClock, type ScenarioLibrary } from '../../engine/index.js';
import { startBpiumEmulator, type BpiumEmulator } from '../../bpium-emulator/emulator.js';
import { tempDir } from '../helpers.js';

const GET_USER = `variables: { email: string, code: string }
start: get
blocks:
  get:
    kind: Bpium
    method: getRecord
    catalog: 3
    record: '"2"'
    fields: { email: 2 }
    errorCode: code
    timeout: 5
    exits: { success: ok, error: notFound }
  ok:
    kind: ReturnValue
    values: { 1: '[email]' }
  notFound:
    kind: ReturnValue
    values: { 1: '"not found: " + [code]' }
`;

const GET_BY_ID = GET_USER.replace('variables: { email: string, code: string }', 'variables: { email: string, code: string, id: string }').replace(`record: '"2"'`, `record: '[id]'`);

const WRITE = `variables: { id: string, name: string, code: string }
start: create
blocks:
  create:
    kind: Bpium
    method: createRecord
    catalog: 11
    values: { "2": '"Создана сценарием"', "4": "'[{\\"id\\":\\"3\\"}]'" }
    newId: id
    exits: { success: update }
  update:
    kind: Bpium
    method: updateRecord
    catalog: 11
    record: '[id]'
    values: { "2": '"Переименована сценарием"' }
    exits: { success: read }
  read:
    kind: Bpium
    method: getRecord
    catalog: 11
    record: '[id]'
    fields: { name: 2 }
    exits: { success: remove }
  remove:
    kind: Bpium
    method: deleteRecord
    catalog: 11
    record: '[id]'
    exits: { success: readAgain }
  readAgain:
    kind: Bpium
    method: getRecord
    catalog: 11
    record: '[id]'
    errorCode: code
    exits: { error: gone }
  gone:
    kind: ReturnValue
    values: { 1: '[name] + " / " + [code]' }
`;

const BY_NAME = `variables: { id: string, email: string, title: string, code: string }
start: user
blocks:
  user:
    kind: Bpium
    method: getRecord
    catalog: '"$users"'
    record: 3
    fields: { email: '"эл. почта"' }
    exits: { success: create }
  create:
    kind: Bpium
    method: createRecord
    catalog: 11
    values: { "Название задачи": '"По имени поля"' }
    newId: id
    exits: { success: read }
  read:
    kind: Bpium
    method: getRecord
    catalog: 11
    record: '[id]'
    fields: { title: '"Название задачи"' }
    exits: { success: bad }
  bad:
    kind: Bpium
    method: getRecord
    catalog: 11
    record: '[id]'
    fields: { title: '"Нет такого поля"' }
    errorCode: code
    exits: { error: done }
  done:
    kind: ReturnValue
    values: { 1: '[email] + " / " + [title] + " / " + [code]' }
`;

/** Dry-run writes with field names: a known name (any case) is recorded, an unknown one is refused as live. */
const DRY_BY_NAME = `variables: { id: string, code: string }
start: known
blocks:
  known:
    kind: Bpium
    method: createRecord
    catalog: 11
    values: { "название задачи": '"Только запись"' }
    newId: id
    exits: { success: unknown }
  unknown:
    kind: Bpium
    method: updateRecord
    catalog: 11
    record: 1
    values: { "Нет такого поля": '"x"' }
    errorCode: code
    exits: { success: done, error: done }
  done:
    kind: ReturnValue
    values: { 1: '[id] + " / " + [code]' }
`;

/** Field ids the record does not have: Bpium 2.0's "$email" on a v1-like tenant, and a number no field has. */
const ABSENT_ID = `variables: { email: string, missing: string, code: string, code2: string }
start: v2
blocks:
  v2:
    kind: Bpium
    method: getRecord
    catalog: '"$users"'
    record: 2
    fields: { email: '"$email"' }
    errorCode: code
    exits: { success: other, error: other }
  other:
    kind: Bpium
    method: getRecord
    catalog: 3
    record: 2
    fields: { email: 2, missing: 9 }
    errorCode: code2
    exits: { success: done, error: done }
  done:
    kind: ReturnValue
    values: { 1: '[code] + " / " + [code2] + " / [" + [email] + "]"' }
`;

/** A catalog given by a Latin name: Bpium's 404 for it must not read as "no such record" (the error exit). */
const NAMED_CATALOG = `variables: { name: string, code: string }
start: get
blocks:
  get:
    kind: Bpium
    method: getRecord
    catalog: '"Tasks"'
    record: 1
    fields: { name: 2 }
    errorCode: code
    exits: { success: done, error: done }
  done:
    kind: ReturnValue
    values: { 1: '[code]' }
`;

/** A task with no responsible, no status and no description: Bpium gives [] for the first two, null for the last. */
const EMPTY_FIELDS = `variables: { id: string, resp: string, status: string, desc: string }
start: create
blocks:
  create:
    kind: Bpium
    method: createRecord
    catalog: 11
    values: { "2": '"Без ответственного"' }
    newId: id
    exits: { success: read }
  read:
    kind: Bpium
    method: getRecord
    catalog: 11
    record: '[id]'
    fields: { resp: 4, status: 5, desc: 3 }
    exits: { success: done }
  done:
    kind: ReturnValue
    values: { 1: '"<" + [resp] + "|" + [status] + "|" + [desc] + ">"' }
`;

/**
 * Finds a user by e-mail from a string variable: `filters` with the plain variable (its text is sent as structure when
 * it looks like JSON), or, as `oktell-emu validate` suggests instead, `filtersJson` with the value in JsonString.
 */
const findByEmail = (filter: string) => `variables: { email: string, name: string, code: string }
start: find
blocks:
  find:
    kind: Bpium
    method: findRecord
    catalog: 3
    ${filter}
    fields: { name: 1 }
    errorCode: code
    exits: { success: found, error: none }
  found: { kind: ReturnValue, values: { 1: '"found " + [name]' } }
  none: { kind: ReturnValue, values: { 1: '"none " + [code]' } }
`;

describe('the Bpium block over HTTP', () => {
  let tmp: ReturnType<typeof tempDir>;
  let emu: BpiumEmulator;
  let client: BpiumClient;
  let lib: ScenarioLibrary;
  before(async () => {
    tmp = tempDir();
    emu = await startBpiumEmulator({ port: 0, dataDir: join(tmp.dir, 'bpium') });
    client = createBpiumClient({ url: emu.url, login: emu.login, password: emu.password, rateLimit: false, retry: { attempts: 5, baseDelayMs: 10, maxDelayMs: 50 } });
    writeFileSync(join(tmp.dir, 'GetUser.yaml'), GET_USER);
    writeFileSync(join(tmp.dir, 'Write.yaml'), WRITE);
    writeFileSync(join(tmp.dir, 'GetById.yaml'), GET_BY_ID);
    writeFileSync(join(tmp.dir, 'ByName.yaml'), BY_NAME);
    writeFileSync(join(tmp.dir, 'DryByName.yaml'), DRY_BY_NAME);
    writeFileSync(join(tmp.dir, 'AbsentId.yaml'), ABSENT_ID);
    writeFileSync(join(tmp.dir, 'EmptyFields.yaml'), EMPTY_FIELDS);
    writeFileSync(join(tmp.dir, 'NamedCatalog.yaml'), NAMED_CATALOG);
    writeFileSync(join(tmp.dir, 'FindPlain.yaml'), findByEmail(`filters: { 2: '[email]' }`));
    writeFileSync(join(tmp.dir, 'FindQuoted.yaml'), findByEmail(`filtersJson: '«{"2": » + JsonString([email]) + «}»'`));
    lib = await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry });
    assert.deepEqual(lib.issues, []);
  });
  after(async () => {
    client.close();
    await emu.close();
    tmp.cleanup();
  });
  const run = (name: string, dryRun = false, variables: Record<string, string> = {}) =>
    runScenario(lib, name, { dryRun, variables, ports: { bpium: client, clock: systemClock, ids: randomIds, asyncStarter: createInProcessStarter(randomIds, () => Promise.reject(new Error('none'))) } });

  it('text from a string variable: filters sends JSON-looking text as structure; filtersJson with JsonString sends the text itself', async () => {
    const cases: Array<[string, string, string]> = [
      ['FindPlain', 'ivan.petrov@example.com', 'found Иван Петров'],
      ['FindQuoted', 'ivan.petrov@example.com', 'found Иван Петров'],
      // The text a sender could put in the variable: an $or that matches the first user with "example" anywhere.
      ['FindPlain', '{"$or":["example"]}', 'found Администратор'],
      ['FindQuoted', '{"$or":["example"]}', 'none 404'],
      ['FindQuoted', 'He said "hi" \\ «ok»', 'none 404'],
    ];
    for (const [name, email, expected] of cases) {
      const r = await run(name, false, { email });
      assert.equal(r.status, 'completed', JSON.stringify(r.error));
      assert.equal(r.returnValues['1'], expected, `${name} ${email}`);
    }
  });

  it('Bpium answering 429 and 500 a few times, then 200: the run succeeds, and the retries are in the trace', async () => {
    emu.injectFaults({ status: 429, times: 1, pathPrefix: '/api/v1/catalogs/3' }, { status: 500, times: 2, pathPrefix: '/api/v1/catalogs/3' });
    const r = await run('GetUser');
    assert.equal(r.status, 'completed', JSON.stringify(r.error));
    assert.equal(r.returnValues['1'], 'ivan.petrov@example.com');
    const step = r.trace.find((s) => s.block === 'get')!;
    const attempts = (step.effect as { attempts: Array<{ status: number }> }).attempts;
    assert.deepEqual(attempts.map((a) => a.status), [429, 500, 500, 200]);
    assert.equal(r.bpiumCalls[0]!.attempts, 4);
  });

  it('Bpium answering 500 for good: the run fails as retryable, naming the block; its failed step lasts its attempts', async () => {
    // Each answer held back 60 ms: the failed step's trace entry spans at least the first (it read about 0 ms before).
    emu.injectFaults({ status: 500, times: 10, pathPrefix: '/api/v1/catalogs/3', delayMs: 60 });
    const r = await run('GetUser');
    emu.clearFaults?.();
    assert.equal(r.status, 'failed');
    assert.equal(r.error!.code, 'R_EFFECT_TRANSIENT');
    assert.equal(r.error!.retryable, true);
    assert.equal(r.error!.block, 'get');
    const failed = r.trace.find((s) => s.exit === 'failed');
    assert.equal(failed?.block, 'get');
    assert.ok(failed!.ms >= 50, `the failed step lasted ${failed!.ms} ms`);
  });

  it('writes go to Bpium for real: create, update (PATCH), read back, delete, then 404 takes the error exit', async () => {
    const r = await run('Write');
    assert.equal(r.status, 'completed', JSON.stringify(r.error));
    assert.equal(r.returnValues['1'], 'Переименована сценарием / 404');
    assert.deepEqual(r.bpiumCalls.map((c) => [c.method, c.status, c.performed]), [
      ['createRecord', 'ok', true],
      ['updateRecord', 'ok', true],
      ['getRecord', 'ok', true],
      ['deleteRecord', 'ok', true],
      ['getRecord', 'not-found', false],
    ]);
    const id = r.variables.id as string;
    const res = await fetch(`${emu.url}/catalogs/11/records/${id}`, { headers: { authorization: `Basic ${Buffer.from(`${emu.login}:${emu.password}`).toString('base64')}` } });
    assert.equal(res.status, 404);
  });

  it('a catalog Bpium does not have fails the run as a setting, not the error exit a missing record takes', async () => {
    const r = await run('NamedCatalog');
    assert.equal(r.status, 'failed');
    assert.equal(r.error!.code, 'R_EFFECT_SETTING');
    assert.match(r.error!.message, /Bpium has no catalog "Tasks" \(a catalog is given by its id/);
  });

  it('an empty user or dropdown field ([] in Bpium\'s answer) fills its variable with empty text, as an empty text field (null) does', async () => {
    const r = await run('EmptyFields');
    assert.equal(r.status, 'completed', JSON.stringify(r.error));
    assert.equal(r.returnValues['1'], '<||>');
  });

  it('fields may be named by their Bpium name, resolved once through the catalog structure; an unknown name takes the error exit', async () => {
    // Only this run's reads: an earlier test's 404 made the client check that catalog 11 exists (GET /catalogs/11).
    emu.clearRequests();
    const r = await run('ByName');
    assert.equal(r.status, 'completed', JSON.stringify(r.error));
    assert.equal(r.returnValues['1'], 'maria.smirnova@example.org / По имени поля / BPIUM_UNKNOWN_FIELD');
    const structureReads = emu.requests().filter((q) => q.method === 'GET' && /\/catalogs\/11$/.test(q.path)).length;
    assert.equal(structureReads, 1, 'the structure of catalog 11 is read once and cached');
  });

  it('a field id the catalog does not have ("$email" on a v1 tenant, "9") takes the error exit with BPIUM_UNKNOWN_FIELD, not an empty value', async () => {
    const r = await run('AbsentId');
    assert.equal(r.status, 'completed', JSON.stringify(r.error));
    assert.equal(r.returnValues['1'], 'BPIUM_UNKNOWN_FIELD / BPIUM_UNKNOWN_FIELD / []');
    assert.match(r.bpiumCalls.find((c) => c.status === 'error')?.error ?? '', /^catalog \$users has no field with id "\$email" \(fields: 1 Имя, 2 Эл\. почта\); text ids such as \$email exist only on Bpium 2\.0/);
    assert.match(r.bpiumCalls.filter((c) => c.status === 'error')[1]?.error ?? '', /^catalog 3 has no field with id "9" \(fields: 1 Имя, 2 Эл\. почта\)$/);
  });

  it('a record id is checked alike by the real client and by a fixture: white space around it dropped, anything else refused before a call', async () => {
    const email = String((await run('GetUser')).returnValues['1']);
    assert.match(email, /@/);
    const fixture = createFixtureBpium({ catalogs: { '3': { records: { '2': { '2': email } } } } });
    for (const [id, want] of [[' 2\n', email], ['2', email], ['../2', 'not found: BPIUM_INVALID_ID'], ['2 2', 'not found: BPIUM_INVALID_ID']] as const) {
      const ports = (bpium: BpiumClient | typeof fixture) => ({ bpium, clock: systemClock, ids: randomIds, asyncStarter: createInProcessStarter(randomIds, () => Promise.reject(new Error('none'))) });
      const live = await runScenario(lib, 'GetById', { variables: { id }, ports: ports(client) });
      const fake = await runScenario(lib, 'GetById', { variables: { id }, ports: ports(fixture) });
      assert.equal(live.returnValues['1'], want, `live, id ${JSON.stringify(id)}`);
      assert.equal(fake.returnValues['1'], want, `fixture, id ${JSON.stringify(id)}`);
    }
    assert.deepEqual(fixture.calls, ['GET 3/2', 'GET 3/2']);
  });

  it('with a fixture catalog that lists no fields, an id the record lacks is left empty with a note in the trace', async () => {
    const bpium = createFixtureBpium({ catalogs: { '3': { records: { '2': { '1': 'Иван Петров' } } } } });
    const r = await runScenario(lib, 'AbsentId', { ports: { bpium, clock: systemClock, ids: randomIds, asyncStarter: createInProcessStarter(randomIds, () => Promise.reject(new Error('none'))) } });
    assert.equal(r.status, 'completed', JSON.stringify(r.error));
    assert.equal(r.returnValues['1'], ' /  / []');
    assert.deepEqual(r.trace.find((s) => s.block === 'v2')?.notes, ['field $email is not in the answer: email left empty']);
    assert.deepEqual(r.trace.find((s) => s.block === 'other')?.notes, ['field 2 is not in the answer: email left empty', 'field 9 is not in the answer: missing left empty']);
  });

  it('a good read whose catalog structure cannot be read to check an absent id keeps the read: the value is left empty with a note, the block does not fail', async () => {
    const fixture = createFixtureBpium({ catalogs: { '3': { records: { '2': { '1': 'Иван Петров' } } } } });
    // A fake Bpium port (named so): the fixture's reads, but its structure read fails as a Bpium that is down would.
    const bpium = Object.create(fixture) as typeof fixture;
    bpium.getCatalog = () => Promise.reject(new Error('Bpium getCatalog: HTTP 503'));
    const r = await runScenario(lib, 'AbsentId', { ports: { bpium, clock: systemClock, ids: randomIds, asyncStarter: createInProcessStarter(randomIds, () => Promise.reject(new Error('none'))) } });
    assert.equal(r.status, 'completed', JSON.stringify(r.error));
    assert.equal(r.returnValues['1'], ' /  / []');
    assert.match(r.trace.find((s) => s.block === 'v2')?.notes?.[0] ?? '', /^field \$email is not in the answer: email left empty \(the catalog structure could not be read to check the id: Bpium getCatalog: HTTP 503\)$/);
  });

  it('in a dry run the writes are not made', async () => {
    const before = emu.requests().filter((q) => q.method !== 'GET').length;
    const r = await run('Write', true);
    assert.equal(r.bpiumCalls[0]!.status, 'dry-run');
    assert.equal(emu.requests().filter((q) => q.method !== 'GET').length, before);
  });

  it('in a dry run a write still resolves its field names: an unknown name takes error with the live run\'s code', async () => {
    const before = emu.requests().filter((q) => q.method !== 'GET').length;
    const r = await run('DryByName', true);
    assert.equal(r.status, 'completed', JSON.stringify(r.error));
    assert.match(String(r.returnValues['1']), /^dry-run-\S+ \/ BPIUM_UNKNOWN_FIELD$/);
    assert.deepEqual(r.bpiumCalls.map((c) => [c.method, c.status, c.performed]), [
      ['createRecord', 'dry-run', false],
      ['updateRecord', 'error', false],
    ]);
    assert.match(r.bpiumCalls[1]!.error ?? '', /^catalog 11 has no field named "Нет такого поля" \(fields: Название задачи, /);
    assert.equal(emu.requests().filter((q) => q.method !== 'GET').length, before, 'nothing was written');
  });
});
