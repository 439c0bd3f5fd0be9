// The article's flow announces a *new* task: one Bpium subscription listing created, updated and deleted on
// /Bpium/NewTask gets every webhook acknowledged, and only the creation makes a letter.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, waitFor, type TestServer } from './server-helpers.js';

describe('BpiumNewTask and the events of one subscription', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(async () => t.cleanup());

  it('a task created, reassigned and deleted in the Bpium emulator: three webhooks answered 200, one letter', async () => {
    const emu = t.server.emulator!;
    const headers = { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${emu.login}:${emu.password}`).toString('base64')}` };
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${emu.url}${path}`, { method, headers, ...(body ? { body: JSON.stringify(body) } : {}) });
      assert.equal(res.status, 200, `${method} ${path}: ${await res.clone().text()}`);
      const text = await res.text();
      return text === '' ? undefined : (JSON.parse(text) as { id: string });
    };
    // The seed's subscription 1 posts record.created to /Bpium/NewTask; a Bpium user may tick all three events.
    await call('PATCH', '/-/webhooks/1', { events: ['record.created', 'record.updated', 'record.deleted'] });

    const created = await call('POST', '/catalogs/11/records', { values: { '2': 'Задача на три события', '3': 'Описание', '4': [{ id: '3' }] } });
    await waitFor('the letter of the new task', () => t.smtp!.letters.length === 1);
    await call('PATCH', `/catalogs/11/records/${created!.id}`, { values: { '4': [{ id: '2' }] } });
    await call('DELETE', `/catalogs/11/records/${created!.id}`);
    await emu.settled();

    const deliveries = emu.deliveries({ recordId: created!.id });
    assert.deepEqual(deliveries.map((d) => [d.event, d.status]).sort(), [['record.created', 200], ['record.deleted', 200], ['record.updated', 200]]);
    const runs = await waitFor('three finished BpiumNewTask runs', async () => {
      const items = (await t.server.store.listRuns({ scenario: 'BpiumNewTask', status: 'completed' })).items;
      return items.length === 3 && items;
    });
    const answers = await Promise.all(runs.map(async (r) => ((await t.server.store.getRun(r.id))!.returnValues as Record<string, string>)['1']));
    assert.deepEqual(answers.sort(), [
      'ignored record.deleted: only record.created is a new task',
      'ignored record.updated: only record.created is a new task',
      'notified 1 of 1',
    ]);
    assert.equal(t.smtp!.letters.length, 1, 'no letter for the update or the deletion');
    assert.deepEqual(t.smtp!.letters[0]!.rcptTo, ['maria.smirnova@example.org']);
  });
});
