// A create that Bpium answers 200 with no record id (an empty body, or JSON without `id`) took the POST: the record
// was most likely made, under an id the run does not know. It is of unknown outcome, not a refusal: the POST is not
// sent again, the block takes its `timeout` exit when wired, else the run fails R_EFFECT_UNKNOWN (a job then is not
// retried or replayed blindly into a second record). A real Bpium client against a small HTTP peer on a free port.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createBpiumClient } from '../../adapters/bpium/client.js';
import { defaultRegistry } from '../../components/registry.js';
import { EffectError } from '../../engine/errors.js';
import { createInProcessStarter, loadScenarioLibrary, randomIds, runScenario, systemClock, type ScenarioLibrary } from '../../engine/index.js';
import { tempDir } from '../helpers.js';

const CREATE = (exits: string, late = true) => `variables: { id: string, code: string }
start: create
blocks:
  create:
    kind: Bpium
    method: createRecord
    catalog: 11
    values: { "2": '"Задача"' }
    newId: id
    errorCode: code
    exits: { ${exits} }
  done: { kind: ReturnValue, values: { 1: '"created " + [id]' } }
${late ? `  late: { kind: ReturnValue, values: { 1: '"unknown " + [code]' } }\n` : ''}`;

describe('a create Bpium answers without the new record id', () => {
  let tmp: ReturnType<typeof tempDir>;
  let server: Server;
  let url: string;
  let answer = '';
  let answerType = 'application/json; charset=utf-8';
  const posts: string[] = [];
  let lib: ScenarioLibrary;
  before(async () => {
    server = createServer((req, res) => {
      if (req.method === 'POST') posts.push(req.url ?? '');
      res.setHeader('content-type', answerType);
      res.end(answer);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    tmp = tempDir();
    writeFileSync(join(tmp.dir, 'Create.yaml'), CREATE('success: done', false));
    writeFileSync(join(tmp.dir, 'CreateOrLate.yaml'), CREATE('success: done, timeout: late'));
    lib = await loadScenarioLibrary(tmp.dir, { registry: defaultRegistry });
    assert.deepEqual(lib.issues, []);
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    tmp.cleanup();
  });
  const client = () => createBpiumClient({ url, login: 'api@example.com', password: 'secret', timeoutMs: 5000, retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 }, rateLimit: false });
  const run = (name: string) => {
    const bpium = client();
    return runScenario(lib, name, { ports: { bpium, clock: systemClock, ids: randomIds, asyncStarter: createInProcessStarter(randomIds, () => Promise.reject(new Error('none'))) } }).finally(() => bpium.close());
  };

  it('the client: an empty body or JSON without id is an unknown outcome, sent once', async () => {
    for (const [body, what] of [['', 'an empty body'], ['{"ok":true}', 'no record id']] as const) {
      answer = body;
      posts.length = 0;
      const bpium = client();
      await assert.rejects(bpium.createRecord('11', { '2': 'Задача' }), (err: unknown) => {
        assert.ok(err instanceof EffectError);
        assert.equal(err.kind, 'unknown');
        assert.equal(err.details.code, 'BPIUM_NO_RECORD_ID');
        assert.equal(err.message, `Bpium answered the new record in catalog 11 with ${what} (HTTP 200): the record may have been created, but its id is not known; it is not created again: look for it in Bpium before replaying the job`);
        return true;
      });
      assert.deepEqual(posts, ['/api/v1/catalogs/11/records'], 'the POST went once');
      bpium.close();
    }
  });

  it('the block: without a timeout exit the run fails R_EFFECT_UNKNOWN; with one, it takes it', async () => {
    answer = '';
    const failed = await run('Create');
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error!.code, 'R_EFFECT_UNKNOWN');
    assert.equal(failed.error!.retryable, false);
    assert.equal(failed.bpiumCalls[0]!.status, 'unknown');
    const late = await run('CreateOrLate');
    assert.equal(late.status, 'completed', JSON.stringify(late.error));
    assert.equal(late.returnValues['1'], 'unknown BPIUM_NO_RECORD_ID');
  });

  // A 200 web page (a proxy's, which may have passed the POST on before serving it) was a setting error: its dead
  // letter, replayed once the setting was fixed, created the record a second time. It is of unknown outcome too.
  it('a 200 web page or text that is not JSON: unknown outcome, sent once; the run fails R_EFFECT_UNKNOWN, not R_EFFECT_SETTING', async () => {
    try {
      for (const [type, body] of [['text/html; charset=utf-8', '<!DOCTYPE html><html><head><title>Sign in</title></head><body>Sign in</body></html>'], ['text/plain', 'OK']] as const) {
        answerType = type;
        answer = body;
        posts.length = 0;
        const bpium = client();
        await assert.rejects(bpium.createRecord('11', { '2': 'Задача' }), (err: unknown) => {
          assert.ok(err instanceof EffectError);
          assert.equal(err.kind, 'unknown', err.message);
          assert.equal(err.details.setting, undefined);
          assert.match(err.message, /HTTP 200 with an answer that is not JSON.*the POST may have been passed on to Bpium and the record created; it is not sent again/);
          return true;
        });
        assert.deepEqual(posts, ['/api/v1/catalogs/11/records'], 'the POST went once');
        bpium.close();
        const failed = await run('Create');
        assert.equal(failed.status, 'failed');
        assert.equal(failed.error!.code, 'R_EFFECT_UNKNOWN', failed.error!.message);
        const late = await run('CreateOrLate');
        assert.equal(late.returnValues['1'], 'unknown BPIUM_INVALID_RESPONSE');
      }
    } finally {
      answerType = 'application/json; charset=utf-8';
    }
  });
});
