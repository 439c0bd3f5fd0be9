// A secret from the server's environment (review M2): the shipped BpiumTaskChat takes its gateway token from
// OKTELL_CHAT_TOKEN. The request carries the token (a real gateway on loopback receives it: as the bearer token, and,
// in this test's copy of the scenario, in a header and the URL built from it), while nothing a run keeps or shows
// holds it: the SQLite files of the data folder, the console's run and scenario pages for a read-only login, the log,
// and `show --json`.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoPath } from '../helpers.js';
import { runCliAsync } from '../cli/cli.helper.js';
import { capturingLogger, postWebhook, startTestServer, taskWebhook, waitFor } from '../server/server-helpers.js';

/** Distinctive, so that any copy of it, anywhere, is found. */
const TOKEN = 'ZEBRA-SECRET-4f9c1e';
const VIEWER = `Basic ${Buffer.from('viewer:v1ew-only').toString('base64')}`;

/**
 * The shipped scenario with its address set as an operator would, and its request made to quote the token in ways
 * the outgoing-call record does not mask by itself: a header of no credential name, and a query parameter `t`.
 */
function configured(url: string): string {
  const shipped = readFileSync(repoPath('scenarios', 'BpiumTaskChat.yaml'), 'utf8');
  const text = shipped
    .replace(/chatUrl: \{ type: string, initial: ""/, `chatUrl: { type: string, initial: "${url}"`)
    .replace(/    url: '\[chatUrl\]'\n/, `    url: '[chatUrl] + "?t=" + [chatToken]'\n    headers: { X-Gateway: '"key " + [chatToken]' }\n`);
  assert.match(text, /chatToken: \{ type: string, env: OKTELL_CHAT_TOKEN/, 'the shipped scenario takes its token from the environment');
  assert.match(text, /X-Gateway/);
  return text;
}

/** The files under `dir` whose bytes contain `text` (the SQLite files with their journals, the outbox, anything). */
function filesHolding(dir: string, text: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...filesHolding(path, text));
    else if (readFileSync(path).includes(text)) found.push(path);
  }
  return found;
}

describe('a secret variable from the environment through the server', () => {
  it('is sent by the WebRequest and kept nowhere: store files, console pages, log, show --json', { timeout: 60_000 }, async () => {
    const got: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
    const gateway = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        got.push({ url: req.url!, headers: req.headers });
        res.writeHead(201, { 'content-type': 'application/json' }).end('{"id":"msg-1"}');
      });
    });
    await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}/api/messages`;
    // The scenarios read their env: variables from the server's environment: the one startServer is given.
    const log = capturingLogger();
    const t = await startTestServer({
      smtp: false,
      logger: log.logger,
      config: 'webRequest: { allowHosts: ["127.0.0.1"] }\n',
      extraScenarios: { 'BpiumTaskChat.yaml': configured(url) },
      env: { OKTELL_USERS: 'bpium:s3cret:pass,viewer[view]:v1ew-only', OKTELL_CHAT_TOKEN: TOKEN },
    });
    let stopped = false;
    try {
      const res = await postWebhook(t.server.url, taskWebhook({ name: 'Позвонить поставщику', responsible: ['2'], recordId: '731' }), undefined, '/Bpium/TaskChat');
      assert.equal(res.status, 200, await res.text());
      const run = await waitFor('the completed BpiumTaskChat run', async () => (await t.server.store.listRuns({ scenario: 'BpiumTaskChat', status: 'completed' })).items[0]);

      // The value itself went out, where the scenario put it.
      assert.equal(got.length, 1);
      assert.equal(got[0]!.headers.authorization, `Bearer ${TOKEN}`);
      assert.equal(got[0]!.headers['x-gateway'], `key ${TOKEN}`);
      assert.equal(got[0]!.url, `/api/messages?t=${TOKEN}`);

      // The record shows where it was, masked.
      const stored = JSON.stringify(await t.server.store.getRun(run.id));
      assert.ok(!stored.includes(TOKEN), stored);
      assert.match(stored, /key \*\*\*/);

      // A read-only login's pages: the run (its variables table and steps) and the scenario (its YAML).
      const runPage = await (await fetch(`${t.server.url}/-/console/runs/${run.id}`, { headers: { authorization: VIEWER } })).text();
      assert.match(runPage, /chatToken/);
      assert.ok(!runPage.includes(TOKEN), 'the run page shows no token');
      assert.match(runPage, /\*\*\*/);
      const scenarioPage = await (await fetch(`${t.server.url}/-/console/scenarios/BpiumTaskChat`, { headers: { authorization: VIEWER } })).text();
      assert.match(scenarioPage, /OKTELL_CHAT_TOKEN/);
      assert.ok(!scenarioPage.includes(TOKEN), 'the scenario page shows no token');

      await t.server.close(2000);
      stopped = true;
      // Every file the server wrote, once it has closed them (the SQLite write-ahead log folded in).
      assert.deepEqual(filesHolding(t.dataDir, TOKEN), []);
      assert.ok(!JSON.stringify(log.lines).includes(TOKEN), 'the log holds no token');
      const show = await runCliAsync(['show', run.id, '--json', '--data-dir', t.dataDir]);
      assert.equal(show.code, 0, show.stderr);
      assert.match(show.stdout, /key \*\*\*/);
      assert.ok(!show.stdout.includes(TOKEN), show.stdout);
    } finally {
      if (!stopped) await t.server.close(2000);
      await t.cleanup();
      gateway.closeAllConnections();
      await new Promise((r) => gateway.close(r));
    }
  });

  it('not set: the server starts and warns with the place of the declaration, in its log and its start-up warnings', { timeout: 30_000 }, async () => {
    delete process.env.OKTELL_TEST_UNSET_TOKEN;
    const log = capturingLogger();
    const t = await startTestServer({
      smtp: false,
      logger: log.logger,
      extraScenarios: { 'NeedsToken.yaml': `variables:\n  token: { type: string, env: OKTELL_TEST_UNSET_TOKEN }\nstart: r\nblocks:\n  r: { kind: ReturnValue, values: { 1: 'Len([token])' } }\n` },
    });
    try {
      const expected = 'NeedsToken.yaml:2:3: variable token takes its value from environment variable OKTELL_TEST_UNSET_TOKEN, which is not set: it starts empty (set it, or give the declaration an initial: to make that the intended fallback)';
      assert.deepEqual(t.server.warnings.filter((w) => w.includes('OKTELL_')), [expected]);
      assert.ok(log.lines.some((l) => l.level === 'warn' && l.msg === expected), JSON.stringify(log.lines.filter((l) => l.level === 'warn')));
    } finally {
      await t.cleanup();
    }
  });
});
