// The shipped WebRequest example end to end: a webhook to /Bpium/TaskChat through the real server, HTTP404's second
// flow, BpiumTaskChat on the delivery thread, and a real chat gateway on loopback that receives the message.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { repoPath } from '../helpers.js';
import { postWebhook, startTestServer, taskWebhook, waitFor } from '../server/server-helpers.js';

const shipped = readFileSync(repoPath('scenarios', 'BpiumTaskChat.yaml'), 'utf8');

/**
 * The shipped scenario with its address set as an operator would, in the initial value of chatUrl; the token is
 * given in the server's environment (OKTELL_CHAT_TOKEN), which the scenario's chatToken is declared to read.
 */
function configured(url: string): string {
  const text = shipped.replace(/chatUrl: \{ type: string, initial: ""/, `chatUrl: { type: string, initial: "${url}"`);
  assert.notEqual(text, shipped, 'the shipped scenario still has the chatUrl setting');
  assert.match(text, /chatToken: \{ type: string, env: OKTELL_CHAT_TOKEN/);
  return text;
}

describe('the shipped task-chat example through the server', () => {
  it('a /Bpium/TaskChat webhook is acknowledged and its message reaches the chat gateway', async () => {
    const got: Array<{ method: string; url: string; headers: IncomingHttpHeaders; body: string }> = [];
    const gateway = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        got.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(201, { 'content-type': 'application/json' }).end('{"id":"msg-1"}');
      });
    });
    await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}/api/messages`;
    // The scenarios read their env: variables from the server's environment: the one startServer is given.
    const t = await startTestServer({
      smtp: false,
      // The operator's allow-list lets the scenario reach the gateway and nothing else.
      config: 'webRequest: { allowHosts: ["127.0.0.1"] }\n',
      extraScenarios: { 'BpiumTaskChat.yaml': configured(url) },
      env: { OKTELL_CHAT_TOKEN: 'chat-t0ken' },
    });
    try {
      const res = await postWebhook(t.server.url, taskWebhook({ name: 'Позвонить поставщику', responsible: ['2'], recordId: '731' }), undefined, '/Bpium/TaskChat');
      assert.equal(res.status, 200, await res.text());
      await waitFor('the gateway to get the message', () => got.length > 0);
      assert.equal(got.length, 1);
      const m = got[0]!;
      assert.equal(`${m.method} ${m.url}`, 'POST /api/messages');
      assert.equal(m.headers.authorization, 'Bearer chat-t0ken');
      assert.match(m.headers['content-type'] ?? '', /^application\/json/);
      assert.match(String(m.headers['idempotency-key']), /^[0-9a-f-]{36}$/);
      assert.deepEqual(JSON.parse(m.body), { chat: 'tasks', text: 'Новая задача №731: Позвонить поставщику' });
      const run = await waitFor('the completed BpiumTaskChat run', async () => (await t.server.store.listRuns({ scenario: 'BpiumTaskChat', status: 'completed' })).items[0]);
      assert.deepEqual((await t.server.store.getRun(run.id))?.returnValues, { 1: 'posted to chat' });
      // The new flow did not disturb the article's: no BpiumNewTask run was started.
      assert.equal((await t.server.store.listRuns({ scenario: 'BpiumNewTask' })).items.length, 0);
    } finally {
      await t.cleanup();
      gateway.closeAllConnections();
      await new Promise((r) => gateway.close(r));
    }
  });

  it('out of the box (no chatUrl) the webhook is acknowledged and the run ends saying so, sending nothing', async () => {
    const t = await startTestServer({ smtp: false });
    try {
      const res = await postWebhook(t.server.url, taskWebhook({ name: 'Проверить счёт', responsible: [] }), undefined, '/Bpium/TaskChat');
      assert.equal(res.status, 200, await res.text());
      const run = await waitFor('the completed BpiumTaskChat run', async () => (await t.server.store.listRuns({ scenario: 'BpiumTaskChat', status: 'completed' })).items[0]);
      const full = await t.server.store.getRun(run.id);
      assert.deepEqual(full?.returnValues, { 1: 'chat not configured' });
      // The WebRequest block is never reached.
      assert.deepEqual((full?.trace as Array<{ block: string }>).map((s) => s.block), ['begin', 'isConfigured', 'notConfigured']);
      // Any other unknown address still gets Oktell's 404.
      assert.equal((await postWebhook(t.server.url, '{}', undefined, '/Bpium/Other')).status, 404);
    } finally {
      await t.cleanup();
    }
  });
});
