// The fake Bpium of scenario tests and dry runs (adapters/fixtures) against the emulator through the real client: the
// same scenario, with the emulator's seed as the fixture and the same ids, ends the same way on both. The fake used to
// ignore array-form filters (`[{fieldId, value}]`: every record matched), to match the JSON form by a case-sensitive
// substring of the whole value (and to fail with a TypeError on `$or`), to ignore the sort, and to take filter, sort,
// view and field ids the real client refuses before anything is sent (BPIUM_INVALID_ID).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createBpiumClient, type BpiumClient } from '../../adapters/bpium/client.js';
import { createFixtureBpium, type BpiumFixtureFile } from '../../adapters/fixtures/bpium-fixtures.adapter.js';
import { defaultRegistry } from '../../components/registry.js';
import { createInProcessStarter, EffectError, loadScenarioLibrary, randomIds, runScenario, systemClock, type BpiumFindQuery, type BpiumPort, type ScenarioLibrary } from '../../engine/index.js';
import { startBpiumEmulator, type BpiumEmulator } from '../../bpium-emulator/emulator.js';
import { defaultSeedFile, readSeed } from '../../bpium-emulator/seed.js';
import { tempDir } from '../helpers.js';

/** The emulator's seed as a fixture file: the same catalogs, fields and records under the same ids. */
function seedFixture(): BpiumFixtureFile {
  const seed = readSeed(defaultSeedFile());
  const catalogs: BpiumFixtureFile['catalogs'] = {};
  for (const c of seed.catalogs) {
    catalogs[c.id] = {
      name: c.name,
      fields: c.fields.map((f) => ({ id: f.id, name: f.name, type: f.type })),
      records: Object.fromEntries(c.records.map((r, i) => [r.id ?? String(i + 1), r.values as Record<string, never>])),
    };
  }
  return { catalogs };
}

const find = (extra: string) => `variables: { cat: string, f: string, i: number, answer: json, code: string }
start: find
blocks:
  find:
    kind: Bpium
    method: findRecord
    catalog: '[cat]'
    filtersJson: '[f]'
    index: '[i]'
    ${extra}
    answer: answer
    errorCode: code
    exits: { success: found, error: none }
  found: { kind: ReturnValue, values: { 1: '"found " + JsonGet([answer], "id")' } }
  none: { kind: ReturnValue, values: { 1: '"none " + [code]' } }
`;

describe('the fake Bpium selects, orders and refuses as the emulator with the real client', () => {
  let tmp: ReturnType<typeof tempDir>;
  let emu: BpiumEmulator;
  let client: BpiumClient;
  let lib: ScenarioLibrary;
  before(async () => {
    tmp = tempDir();
    emu = await startBpiumEmulator({ port: 0, dataDir: join(tmp.dir, 'bpium') });
    client = createBpiumClient({ url: emu.url, login: emu.login, password: emu.password, rateLimit: false, retry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 50 } });
    writeFileSync(join(tmp.dir, 'Find.yaml'), find(''));
    writeFileSync(join(tmp.dir, 'FindByNameDesc.yaml'), find('sortField: 1\n    sortOrder: desc'));
    writeFileSync(join(tmp.dir, 'FindSortUnknown.yaml'), find('sortField: 9'));
    writeFileSync(join(tmp.dir, 'FindSortBadId.yaml'), find('sortField: "1 2"'));
    lib = await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry });
    assert.deepEqual(lib.issues, []);
  });
  after(async () => {
    client.close();
    await emu.close();
    tmp.cleanup();
  });
  const run = (bpium: BpiumPort, scenario: string, variables: Record<string, string | number>) =>
    runScenario(lib, scenario, { variables, ports: { bpium, clock: systemClock, ids: randomIds, asyncStarter: createInProcessStarter(randomIds, () => Promise.reject(new Error('none'))) } });

  // Catalog 3: 1 Администратор demo@example.com, 2 Иван Петров ivan.petrov@…com, 3 Мария Смирнова maria.smirnova@…org,
  // 4 Олег Кузнецов oleg.kuznetsov@…com. Catalog 11: task 1, responsible (user field 4) employee 3, status (dropdown 5) "2".
  const rows: Array<[scenario: string, cat: string, filters: string, index: number, outcome: string]> = [
    ['Find', '3', '[{"fieldId":"2","value":"maria"}]', 0, 'found 3'],
    ['Find', '3', '[{"fieldId":"2","value":"example.com"},{"fieldId":"1","value":"олег"}]', 0, 'found 4'],
    ['Find', '3', '[{"fieldId":"2","value":"example.com"}]', 1, 'found 2'],
    ['Find', '3', '[{"fieldId":"2","value":"nobody"}]', 0, 'none 404'],
    ['Find', '3', '[]', 0, 'found 1'],
    ['Find', '3', '{"2":"MARIA"}', 0, 'found 3'],
    ['Find', '3', '{"$or":[{"2":"oleg"},{"2":"maria"}]}', 0, 'found 3'],
    ['Find', '3', '{"$or":[{"2":"oleg"},{"2":"maria"}]}', 1, 'found 4'],
    ['Find', '11', '[{"fieldId":"4","value":["3"]}]', 0, 'found 1'],
    ['Find', '11', '[{"fieldId":"5","value":["1","3"]}]', 0, 'none 404'],
    ['Find', '11', '{"5":["2","3"]}', 0, 'found 1'],
    // What Bpium (the emulator) refuses with 400: a field the catalog lacks, an object as a text field's filter.
    ['Find', '3', '[{"fieldId":"9","value":"x"}]', 0, 'none 400'],
    ['Find', '3', '{"9":"x"}', 0, 'none 400'],
    ['Find', '11', '{"2":{"a":"x"}}', 0, 'none 400'],
    // What the real client refuses before anything is sent.
    ['Find', '3', '[{"fieldId":"2 2","value":"x"}]', 0, 'none BPIUM_INVALID_ID'],
    ['Find', '3', '[{"fieldId":"2?x=1","value":"x"}]', 0, 'none BPIUM_INVALID_ID'],
    ['Find', '3', '[{"fieldId":"2"}]', 0, 'none BPIUM_INVALID_QUERY'],
    ['FindByNameDesc', '3', '[]', 0, 'found 4'],
    ['FindByNameDesc', '3', '[{"fieldId":"2","value":"example.com"}]', 1, 'found 2'],
    ['FindSortUnknown', '3', '[]', 0, 'none 400'],
    ['FindSortBadId', '3', '[]', 0, 'none BPIUM_INVALID_ID'],
  ];
  for (const [scenario, cat, f, i, outcome] of rows) {
    it(`${scenario} in catalog ${cat}, filtersJson ${f}, index ${i}: ${outcome} on both`, async () => {
      const live = await run(client, scenario, { cat, f, i });
      const fake = await run(createFixtureBpium(seedFixture()), scenario, { cat, f, i });
      assert.equal(live.status, 'completed', JSON.stringify(live.error));
      assert.equal(fake.status, 'completed', JSON.stringify(fake.error));
      assert.equal(live.returnValues['1'], outcome, 'the emulator');
      assert.equal(fake.returnValues['1'], outcome, 'the fake');
      const [liveError, fakeError] = [live.bpiumCalls[0]?.error, fake.bpiumCalls[0]?.error];
      if (/BPIUM_INVALID_(ID|QUERY)$/.test(outcome)) assert.equal(fakeError, liveError, 'the same error');
      // The fake names what the emulator's answer says.
      if (outcome.endsWith('400')) assert.ok(fakeError?.endsWith(String(liveError).replace(/^.*HTTP 400: /, '')), `${fakeError} / ${liveError}`);
    });
  }

  it('at the port: a query the real client refuses is refused by the fake with the same error; sort and search select the same records', async () => {
    const refused: Array<Partial<BpiumFindQuery>> = [
      { sortField: '1;2' },
      { viewId: 'a b' },
      { fields: ['1', 'x/y'] },
      { sortType: 2 as 1 },
      { limit: 0 },
      { offset: -1 },
      { filters: [{ fieldId: '', value: 'x' }] },
      // An array-form filter without its value went out as the text "undefined", searched for.
      { filters: [{ fieldId: '2' }] as Array<{ fieldId: string; value: never }> },
      { filters: 5 as unknown as Record<string, never> },
    ];
    for (const extra of refused) {
      const q: BpiumFindQuery = { catalogId: '3', ...extra };
      const why = async (port: BpiumPort) => port.findRecords(q).then(() => 'found', (e: unknown) => (e instanceof EffectError ? `${e.details.code} ${e.message}` : String(e)));
      const live = await why(client);
      assert.match(live, /^BPIUM_INVALID_(ID|QUERY) /, JSON.stringify(extra));
      assert.equal(await why(createFixtureBpium(seedFixture())), live, JSON.stringify(extra));
    }
    const fake = createFixtureBpium(seedFixture());
    await assert.rejects(fake.getRecord('3', '2', { fields: ['2', '$x y'] }), (e: EffectError) => e.details.code === 'BPIUM_INVALID_ID');
    await assert.rejects(client.getRecord('3', '2', { fields: ['2', '$x y'] }), (e: EffectError) => e.details.code === 'BPIUM_INVALID_ID');
    const found: Array<Partial<BpiumFindQuery>> = [
      { sortField: '1', sortType: -1 },
      { sortField: '2' },
      { searchText: 'EXAMPLE.COM', sortType: -1 },
      { searchText: 'смирнова' },
      { offset: 1, limit: 2 },
    ];
    for (const extra of found) {
      const q: BpiumFindQuery = { catalogId: '3', ...extra };
      const ids = async (port: BpiumPort) => (await port.findRecords(q)).map((r) => r.id);
      assert.deepEqual(await ids(createFixtureBpium(seedFixture())), await ids(client), JSON.stringify(extra));
    }
  });

  it('a fixture catalog without fields: has its field types guessed from its records; a field no record has matches nothing, not 400', async () => {
    const fixture: BpiumFixtureFile = {
      catalogs: {
        '11': { records: { '1': { '2': 'Отчёт за квартал', '4': [{ id: '3' }], '5': ['2'], '6': 7 }, '2': { '2': 'Звонок клиенту', '4': [{ id: '2' }], '6': 12 } } },
      },
    };
    const rows: Array<[Partial<BpiumFindQuery>, string[]]> = [
      [{ filters: [{ fieldId: '4', value: ['2'] }] }, ['2']],
      [{ filters: { '2': 'ОТЧЁТ' } }, ['1']],
      [{ filters: [{ fieldId: '5', value: ['1', '2'] }] }, ['1']],
      [{ filters: [{ fieldId: '6', value: { at: '10' } }] }, ['2']],
      [{ filters: { $or: [{ '4': ['3'] }, { '6': 12 }] } }, ['1', '2']],
      [{ filters: [{ fieldId: '9', value: 'x' }] }, []],
      [{ sortField: '2' }, ['2', '1']],
      [{ searchText: 'клиент' }, ['2']],
    ];
    for (const [extra, ids] of rows) {
      const found = await createFixtureBpium(structuredClone(fixture)).findRecords({ catalogId: '11', ...extra });
      assert.deepEqual(found.map((r) => r.id), ids, JSON.stringify(extra));
    }
  });
});
